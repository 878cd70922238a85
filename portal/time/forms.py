"""Forms of the time domain, by part."""
import ipaddress
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateField, DecimalField, HiddenField, IntegerField, SelectChoice, SelectMultipleField, StringField,
    TextAreaField, TimeField, widgets,
)
from wtforms.validators import NumberRange, Optional, ValidationError

from portal.core.forms import REQUIRED, SelectField, max_length

# --- shift types, rosters, rotations, handover notes -------------------------------------

def optional_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ShiftTypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[REQUIRED, max_length(16)])
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(80)])
    start = TimeField(_l("Starts at"), validators=[REQUIRED])
    end = TimeField(_l("Ends at"), validators=[REQUIRED])
    break_minutes = IntegerField(_l("Break (minutes)"), default=0, validators=[Optional(), NumberRange(0, 720)])
    grace_minutes = IntegerField(_l("Grace (minutes)"), default=5, validators=[Optional(), NumberRange(0, 240)])
    color = SelectField(_l("Colour"))
    # The company's account codes (portal.cs.services.account_code_choices); the view
    # refuses codes that name no active account, so no choice check here.
    cs_accounts = SelectMultipleField(_l("CS accounts staffed"), validate_choice=False,
                                      widget=widgets.ListWidget(prefix_label=False),
                                      option_widget=widgets.CheckboxInput())
    version = HiddenField()


class RosterCellForm(FlaskForm):
    shift_type = SelectField(_l("Shift"), coerce=optional_int, validate_choice=False)


class RotationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(80)])
    pattern = StringField(_l("Pattern"), validators=[REQUIRED, max_length(400)])
    anchor_date = DateField(_l("First day of the cycle"), validators=[REQUIRED])
    follows_calendar = BooleanField(_l("Follow the working calendar: no shifts on public holidays, and the first "
                                       "shift on adjusted working days (调休)"))


class GenerateForm(FlaskForm):
    start = DateField(_l("From"), validators=[REQUIRED])
    end = DateField(_l("Until"), validators=[REQUIRED])


class HandoverForm(FlaskForm):
    day = DateField(_l("Day"), validators=[REQUIRED])
    shift_type = SelectField(_l("Shift"), coerce=optional_int, validate_choice=False)
    body = TextAreaField(_l("Note"), validators=[REQUIRED, max_length(2000)])


class SwapForm(FlaskForm):
    their_entry = SelectField(_l("Swap with this shift of a colleague"), coerce=optional_int)
    give_to = SelectField(_l("Or give the shift to"), coerce=optional_int)
    reason = TextAreaField(_l("Reason"), validators=[max_length(2000)])



# --- clock in/out, device imports, corrections ---------------------------------------------



class PunchForm(FlaskForm):
    """The big button: `kind` is what it showed, so a double tap is recognised."""

    kind = HiddenField()


class ClockUploadForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int)
    file = FileField(_l("CSV file or Excel workbook (.xlsx)"))


# --- attendance sheets, calendars, time rules --------------------------------------------------

WEEKDAY_CHOICES = [SelectChoice(number, label) for number, label in enumerate(
    (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday")), 1)]
CALENDAR_KIND_LABELS = {"holiday": _l("Day off"), "workday": _l("Working day")}


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[REQUIRED])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in CALENDAR_KIND_LABELS.items()],
                       validators=[REQUIRED])
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(80)])


def cidr_lines(form, field):
    """Allowed networks: one CIDR block (or address) per line."""
    for number, line in enumerate(field.data.splitlines(), 1):
        if line.strip():
            try:
                ipaddress.ip_network(line.strip(), strict=False)
            except ValueError:
                raise ValidationError(_l("Line %(n)s is not a network such as 10.0.0.0/8: %(value)s",
                                         n=number, value=line.strip()[:60]))


class TimePolicyForm(FlaskForm):
    min_rest_minutes = IntegerField(_l("Minimum rest between shifts (minutes)"),
                                    validators=[REQUIRED, NumberRange(0, 24 * 60)])
    rounding_minutes = IntegerField(_l("Round worked time down to (minutes)"), validators=[REQUIRED, NumberRange(1, 60)])
    overtime_after_minutes = IntegerField(_l("Overtime counts after (minutes past the shift end)"),
                                          validators=[Optional(), NumberRange(0, 12 * 60)], default=0)
    clock_window_minutes = IntegerField(_l("Clock window around a shift (minutes)"),
                                        validators=[REQUIRED, NumberRange(0, 12 * 60)])
    allowed_networks = TextAreaField(_l("Allowed networks (one CIDR block per line; empty: anywhere)"),
                                     validators=[max_length(2000), cidr_lines])
    weekend = SelectMultipleField(_l("Weekend days"), coerce=int, choices=WEEKDAY_CHOICES,
                                  widget=widgets.ListWidget(prefix_label=False),
                                  option_widget=widgets.CheckboxInput())
    workday_minutes = IntegerField(_l("Length of a leave day (minutes)"), validators=[REQUIRED, NumberRange(60, 24 * 60)])
    version = IntegerField(widget=widgets.HiddenInput(), validators=[Optional()])

    def values(self):
        networks = "\n".join(line.strip() for line in self.allowed_networks.data.splitlines() if line.strip())
        return dict(min_rest_minutes=self.min_rest_minutes.data, rounding_minutes=self.rounding_minutes.data,
                    overtime_after_minutes=self.overtime_after_minutes.data or 0,
                    clock_window_minutes=self.clock_window_minutes.data, allowed_networks=networks,
                    weekend_days=",".join(str(day) for day in sorted(self.weekend.data or [])),
                    workday_minutes=self.workday_minutes.data)



# --- leave --------------------------------------------------------------------------------------
# Amounts are entered as decimals of the type's unit (1.5 days) and kept in hundredths.


LEAVE_REASON_LENGTH = 2000


def hundredths(value):
    """A decimal amount (1.5) in hundredths (150); None stays None."""
    return None if value is None else int((Decimal(value) * 100).quantize(Decimal(1)))


class LeaveRequestForm(FlaskForm):
    leave_type = SelectField(_l("Leave type"), coerce=optional_int, validators=[REQUIRED])
    start_date = DateField(_l("First day"), validators=[REQUIRED])
    end_date = DateField(_l("Last day"), validators=[Optional()])
    start_time = TimeField(_l("Start time"), validators=[Optional()])
    end_time = TimeField(_l("End time"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), max_length(LEAVE_REASON_LENGTH)])


class LeaveTypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[REQUIRED, max_length(16)])
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(80)])
    paid = BooleanField(_l("Paid"), default=True)
    unit = SelectField(_l("Counted in"), choices=[SelectChoice("day", _l("Days")), SelectChoice("hour", _l("Hours"))])
    accrual = SelectField(_l("Accrual"), choices=[
        SelectChoice("none", _l("None")), SelectChoice("monthly", _l("Monthly, on the 1st")),
        SelectChoice("yearly", _l("Yearly, on 1 January"))])
    accrual_amount = DecimalField(_l("Amount accrued each time"), places=2, validators=[Optional(), NumberRange(
        0, 1000, message=_l("Enter an amount from 0 to 1,000."))])
    carry_over_cap = DecimalField(_l("Carry-over cap"), places=2, validators=[Optional(), NumberRange(
        0, 1000, message=_l("Enter an amount from 0 to 1,000."))])
    needs_balance = BooleanField(_l("Requests must fit the balance"), default=True)
    color = SelectField(_l("Colour"))

    def values(self):
        return {"code": self.code.data, "name": self.name.data, "paid": self.paid.data, "unit": self.unit.data,
                "accrual": self.accrual.data, "accrual_amount": hundredths(self.accrual_amount.data) or 0,
                "carry_over_cap": hundredths(self.carry_over_cap.data), "needs_balance": self.needs_balance.data,
                "color": self.color.data}


class LeaveAdjustmentForm(FlaskForm):
    leave_type = SelectField(_l("Leave type"), coerce=optional_int, validators=[REQUIRED])
    amount = DecimalField(_l("Change (negative to deduct)"), places=2, validators=[REQUIRED, NumberRange(
        -1000, 1000, message=_l("Enter an amount from -1,000 to 1,000."))])
    reason = StringField(_l("Reason"), validators=[REQUIRED, max_length(200)])
