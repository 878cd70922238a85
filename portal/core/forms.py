"""Form helpers shared by every domain."""
import functools

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from markupsafe import Markup, escape
from wtforms import HiddenField, SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import html_params

REQUIRED = DataRequired(message=_l("This field is required."))


def _plain_choices(field):
    """`field.choices` as (value, label) pairs when they are nothing more: a list
    of pairs or of SelectChoice without attributes or group. Otherwise None."""
    choices = field.choices
    if type(choices) is not list:
        return None
    pairs = []
    for choice in choices:
        if type(choice) is tuple and len(choice) == 2:
            pairs.append(choice)
        elif type(choice) is SelectChoice and not choice.render_kw and choice.optgroup is None:
            pairs.append((choice.value, choice.label))
        else:
            return None
    return pairs


def _option_html(value, label):
    """An <option>, unselected and selected, exactly as WTForms writes it."""
    shown = escape(str(value) if isinstance(value, bool) else value)
    label = escape(label or value)
    return f'<option value="{shown}">{label}</option>', f'<option selected value="{shown}">{label}</option>'


@functools.lru_cache(maxsize=32)
def _cached_options(choices):
    """`_option_html` of every choice of a list that does not depend on the
    locale (time zones, units): such lists are long and shown again and again."""
    return tuple((value, *_option_html(value, label)) for value, label in choices)


class Select(wtforms.widgets.Select):
    """WTForms' select widget, formatting plain (value, label) choices directly:
    the same HTML, several times faster for the long lists some pages carry
    (time zones, every unit in scope). Anything else goes the usual way."""

    def __call__(self, field, **kwargs):
        choices = _plain_choices(field) if not self.multiple else None
        if choices is None:
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        if all(type(label) is str and type(value) in (str, int) for value, label in choices):
            options = _cached_options(tuple(choices))
        else:  # lazy (translated) labels and other values: rendered each time
            options = ((value, *_option_html(value, label)) for value, label in choices)
        coerce, data = field.coerce, field.data
        html.extend(selected if coerce(value) == data else plain for value, plain, selected in options)
        html.append("</select>")
        return Markup("".join(html))


class SelectField(wtforms.SelectField):
    """WTForms' SelectField with the faster widget, and the choice check done
    without building an option object per choice."""

    widget = Select()

    def pre_validate(self, form):
        choices = _plain_choices(self) if self.choices is not None else None
        if choices is None or self.process_errors or not self.validate_choice:
            return super().pre_validate(form)
        if not any(self.coerce(value) == self.data for value, _label in choices):
            raise ValidationError(self.invalid_choice_message or self.gettext("Not a valid choice."))


def max_length(n):
    return Length(max=n, message=_l("Use at most %(max)d characters.", max=n))


def apply_service_error(form, error):
    """Show a ServiceError next to its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def parse_page(args):
    """The `page` query argument as a positive int (bad values mean page 1)."""
    try:
        return max(1, int(args.get("page", 1)))
    except (TypeError, ValueError):
        return 1


class PlainForm(wtforms.Form):
    """A form without a CSRF token (a GET filter, or a part of a bigger form),
    speaking WTForms' own messages in the reader's language like a FlaskForm."""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change something: it carries the CSRF token."""

    confirm = HiddenField(default="1")


class LocaleForm(FlaskForm):
    """The language switcher on every page."""

    locale = SelectField(_l("Language"))
    next = HiddenField()
