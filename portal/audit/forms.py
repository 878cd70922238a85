from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Optional

from portal.core.forms import max_length


class AuditFilterForm(Form):
    """Filters in the query string: no CSRF token, they change nothing."""

    unit = SelectField(_l("Unit"), coerce=int, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional(), max_length(64)])
