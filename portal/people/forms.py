from flask_babel import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, IntegerField, SelectChoice, StringField, TextAreaField
from wtforms.validators import Optional

from portal.core.forms import REQUIRED, SelectField, max_length

STATUS_LABELS = {
    "probation": _l("Probation"),
    # "Active" alone is an account's state (启用); a person at work is 在职.
    "active": lazy_pgettext("employee status", "Active"),
    "on_leave": _l("On leave"),
    "left": _l("Left"),
}
CONTRACT_TYPE_LABELS = {
    "permanent": _l("Permanent"),
    "fixed_term": _l("Fixed term"),
    "part_time": _l("Part time"),
    "internship": _l("Internship"),
    "service": _l("Service agreement"),
}
DOCUMENT_CATEGORY_LABELS = {
    "contract": _l("Contract"),
    "identity": _l("Identity document"),
    "certificate": _l("Certificate"),
    "photo": _l("Photo"),
    "other": _l("Other"),
}
TRAINING_RESULT_LABELS = {
    "passed": _l("Passed"),
    "failed": _l("Failed"),
    "attended": _l("Attended"),
    "in_progress": _l("In progress"),
}
SENSITIVE_LABELS = {"national_id": _l("National ID"), "bank_account": _l("Bank account")}
SORT_LABELS = {"name": lazy_pgettext("person", "Name"), "number": _l("Number"), "hire_date": _l("Hire date"), "status": _l("Status")}


def _choices(labels, leave_out=()):
    return [SelectChoice(value, label) for value, label in labels.items() if value not in leave_out]


# Optional() lets an empty date through as None instead of "Not a valid date value".
OPTIONAL_DATE = [Optional()]


class EmployeeForm(FlaskForm):
    """A person's record. The sensitive fields are only on the form that creates
    one; afterwards each is changed on its own (SensitiveForm)."""

    company = SelectField(_l("Employing company"), coerce=int)
    number = StringField(_l("Employee number"), validators=[REQUIRED, max_length(32)])
    legal_name = StringField(_l("Legal name"), validators=[REQUIRED, max_length(120)])
    preferred_name = StringField(_l("Preferred name"), validators=[max_length(120)])
    hire_date = DateField(_l("Hire date"), validators=[REQUIRED])
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS))
    leaving_date = DateField(_l("Leaving date"), validators=OPTIONAL_DATE)
    leaving_reason = TextAreaField(_l("Reason for leaving"), validators=[max_length(1000)])
    nationality = SelectField(_l("Nationality"))
    email = StringField(_l("Email"), validators=[max_length(254)])
    phone = StringField(_l("Phone"), validators=[max_length(40)])
    address = TextAreaField(_l("Address"), validators=[max_length(500)])
    emergency_contact_name = StringField(_l("Emergency contact"), validators=[max_length(120)])
    emergency_contact_relation = StringField(_l("Relation"), validators=[max_length(60)])
    emergency_contact_phone = StringField(_l("Emergency phone"), validators=[max_length(40)])
    username = StringField(_l("Login account (username)"), validators=[max_length(64)])
    national_id = StringField(_l("National ID"), validators=[max_length(64)])
    bank_account = StringField(_l("Bank account"), validators=[max_length(64)])
    version = IntegerField(validators=[Optional()])


class SensitiveForm(FlaskForm):
    """A new national ID or bank account (empty clears it)."""

    field = SelectField(choices=_choices(SENSITIVE_LABELS))
    value = StringField(_l("New value"), validators=[max_length(64)])


class RevealForm(FlaskForm):
    field = SelectField(choices=_choices(SENSITIVE_LABELS))


class ContractForm(FlaskForm):
    contract_type = SelectField(_l("Contract type"), choices=_choices(CONTRACT_TYPE_LABELS))
    start_date = DateField(_l("Start"), validators=[REQUIRED])
    end_date = DateField(_l("End"), validators=OPTIONAL_DATE)
    probation_end = DateField(_l("Probation ends"), validators=OPTIONAL_DATE)
    weekly_hours = DecimalField(_l("Weekly hours"), places=2, validators=[REQUIRED])
    base_pay = DecimalField(_l("Base pay per month"), validators=[Optional()])
    currency = StringField(_l("Currency (ISO 4217)"), validators=[REQUIRED, max_length(3)])
    notes = TextAreaField(_l("Notes"), validators=[max_length(2000)])
    version = IntegerField(validators=[Optional()])


class DocumentForm(FlaskForm):
    file = FileField(_l("File"))
    title = StringField(_l("Title"), validators=[max_length(200)])
    category = SelectField(_l("Category"), choices=_choices(DOCUMENT_CATEGORY_LABELS, leave_out=("photo",)))


class PhotoForm(FlaskForm):
    file = FileField(_l("Photo"))


class TrainingForm(FlaskForm):
    course = StringField(_l("Course"), validators=[REQUIRED, max_length(200)])
    provider = StringField(_l("Provider"), validators=[max_length(120)])
    completed_on = DateField(_l("Date"), validators=[REQUIRED])
    hours = DecimalField(_l("Hours"), places=2, validators=[Optional()])
    result = SelectField(_l("Result"), choices=_choices(TRAINING_RESULT_LABELS))
    score = StringField(_l("Score"), validators=[max_length(20)])
    certificate = FileField(_l("Certificate (optional)"))
