"""The form of the bonus exports page: whose statements, of which month, as one PDF."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields import MonthField

from portal.core.forms import REQUIRED, SelectField


class CompanyStatementsForm(FlaskForm):
    """Every statement of a company's pools of a month, made by a background job."""

    company = SelectField(_l("Company"), coerce=int, validators=[REQUIRED])
    month = MonthField(_l("Month"), validators=[REQUIRED])
