"""Forms of the CS pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FileField, IntegerField, SearchField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from portal.core.forms import REQUIRED, PlainForm, SelectField, max_length


class CsUploadForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int)
    connector = SelectField(_l("Format"), validators=[DataRequired()])
    account = SelectField(_l("Account (when the file has no account column)"), coerce=int)
    file = FileField(_l("CSV file or Excel workbook (.xlsx)"))


class ApiTokenForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int)
    name = StringField(_l("Name of the integration"), validators=[DataRequired(), Length(max=80)])


# --- accounts, sub-accounts, bindings, workstations (portal/cs/account_views.py) -------------------

ACCOUNT_KIND_LABELS = {"shared": _l("Shared (staffed by shifts)"), "personal": _l("Personal (one holder)")}
SPLIT_RULE_LABELS = {"equal": _l("Equally"), "presence": _l("By presence time"), "capacity": _l("By post capacity")}
WORKSTATION_KIND_LABELS = {"ip": _l("IP address"), "workstation": _l("Workstation name")}
PERSON_FIELD = {"list": "cs-people", "autocomplete": "off", "inputmode": "text"}


class CsAccountForm(FlaskForm):
    store = SelectField(_l("Store"), coerce=int)
    code = StringField(_l("Code"), validators=[REQUIRED, max_length(64)])
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(120)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in ACCOUNT_KIND_LABELS.items()])
    split_rule = SelectField(_l("Conversations shared among several people"),
                             choices=[SelectChoice(k, v) for k, v in SPLIT_RULE_LABELS.items()])
    service_hours = StringField(_l("Service hours"), default="09:00–24:00", validators=[REQUIRED, max_length(20)],
                                render_kw={"placeholder": "09:00–24:00", "inputmode": "numeric"})
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class CsAccountFilterForm(PlainForm):
    q = SearchField(_l("Search"), validators=[Optional(), max_length(64)])
    company = SelectField(_l("Company"), coerce=int, validators=[Optional()])
    store = SelectField(_l("Store"), coerce=int, validators=[Optional()])
    platform = SelectField(_l("Platform"), validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()],
                       choices=[SelectChoice("", _l("All kinds"))]
                       + [SelectChoice(k, v) for k, v in ACCOUNT_KIND_LABELS.items()])
    archived = BooleanField(_l("Archived accounts"))


class BindingForm(FlaskForm):
    """Someone holds a personal account, or uses a sub-account, over dates."""

    sub_account = SelectField(_l("Sub-account"), coerce=int)
    number = StringField(_l("Employee number"), validators=[REQUIRED, max_length(32)], render_kw=PERSON_FIELD)
    valid_from = DateField(_l("First day"), validators=[REQUIRED])
    valid_to = DateField(_l("Last day (empty: until further notice)"), validators=[Optional()])


class EndBindingForm(FlaskForm):
    valid_to = DateField(_l("Last day"), validators=[REQUIRED])


class SubAccountForm(FlaskForm):
    name = StringField(_l("Name, exactly as the exports show it"), validators=[REQUIRED, max_length(120)],
                       render_kw={"placeholder": "京东旗舰店:小王"})


class WorkstationForm(FlaskForm):
    number = StringField(_l("Employee number"), validators=[REQUIRED, max_length(32)], render_kw=PERSON_FIELD)
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in WORKSTATION_KIND_LABELS.items()])
    value = StringField(_l("IP address or workstation name"), validators=[REQUIRED, max_length(64)],
                        render_kw={"autocomplete": "off", "spellcheck": "false"})
    label = StringField(_l("Note"), validators=[Optional(), max_length(80)])
    valid_from = DateField(_l("From"), validators=[Optional()])
    valid_to = DateField(_l("Until (empty: until further notice)"), validators=[Optional()])


class WorkstationFilterForm(PlainForm):
    q = SearchField(_l("Search"), validators=[Optional(), max_length(64)],
                    render_kw={"placeholder": _l("Name, number, address or workstation")})
    ended = BooleanField(_l("Include ended ones"))
