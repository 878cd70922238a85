"""Form helpers shared by every domain."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired, Length

REQUIRED = DataRequired(message=_l("This field is required."))


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


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change something: it carries the CSRF token."""

    confirm = HiddenField(default="1")


class LocaleForm(FlaskForm):
    """The language switcher on every page."""

    locale = SelectField(_l("Language"))
    next = HiddenField()
