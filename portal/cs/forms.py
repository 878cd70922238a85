"""Forms of the CS pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FileField, StringField
from wtforms.validators import DataRequired, Length

from portal.core.forms import SelectField


class CsUploadForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int)
    connector = SelectField(_l("Format"), validators=[DataRequired()])
    account = SelectField(_l("Account (when the file has no account column)"), coerce=int)
    file = FileField(_l("CSV file or Excel workbook (.xlsx)"))


class ApiTokenForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int)
    name = StringField(_l("Name of the integration"), validators=[DataRequired(), Length(max=80)])
