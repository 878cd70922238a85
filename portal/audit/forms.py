from flask_babel import lazy_gettext as _l
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import DateField, Form, StringField
from wtforms.validators import Optional

from portal.core.forms import SelectField, max_length


class AuditFilterForm(Form):
    """Filters in the query string: no CSRF token, they change nothing."""

    class Meta:
        def get_translations(self, form):  # WTForms' own messages in the reader's language, as in a FlaskForm
            return wtforms_translations

    unit = SelectField(_l("Unit"), coerce=int, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional(), max_length(64)])
