"""Forms of the bonus pages: the rule editor (rows of dimensions), pools, their
filters, adjustments and corrections, and the what-if's values.

The rule editor speaks money in the company's currency (major units, as people
write it) and shares in percent; `definition_from_form` turns it into the
definition services.normalise_definition checks, and `rule_form` the other way.
A ServiceError about a definition names its field the service's way
("dimensions-2-weight", "floor_minor"); `apply_rule_error` puts it next to the
editor's own field.
"""
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (DecimalField, FieldList, FormField, HiddenField, IntegerField, SelectChoice, StringField,
                     TextAreaField)
from wtforms.fields import MonthField
from wtforms.validators import NumberRange, Optional

from portal.bonus import services, sources
from portal.core.errors import ServiceError
from portal.core.forms import REQUIRED, PlainForm, SelectField, apply_service_error, max_length
from portal.core.money import format_money, to_decimal, to_minor_units

DIRECTION_LABELS = {"higher": _l("Higher is better"), "lower": _l("Lower is better")}
NORMALISATION_LABELS = {"minmax": _l("Min–max"), "percentile": _l("Percentile rank"),
                        "ratio_cap": _l("Ratio to the team mean, capped")}
PROBATION_LABELS = {"include": _l("Counted in full"), "scale": _l("Scaled"), "exclude": _l("Excluded")}
NUMBER = _l("Enter a number.")
DECIMAL = {"inputmode": "decimal"}


def number_field(label, **kwargs):
    """A decimal as typed (no fixed places), optional unless told."""
    kwargs.setdefault("validators", [Optional()])
    return DecimalField(label, places=None, render_kw=DECIMAL, **kwargs)


def choices_of(labels):
    return [SelectChoice(value, label) for value, label in labels.items()]


def optional_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the rule editor ---------------------------------------------------------------------------

class DimensionForm(PlainForm):
    """One row of the editor: where a figure comes from and how it counts."""

    source = SelectField(_l("Figure"), choices=[])
    direction = SelectField(_l("Better when"), choices=choices_of(DIRECTION_LABELS))
    normalisation = SelectField(_l("Normalisation"), choices=choices_of(NORMALISATION_LABELS))
    cap = number_field(_l("Cap (× team mean)"), default=Decimal(2))
    weight = number_field(_l("Weight"), default=Decimal(10))
    key = StringField(_l("Key"), validators=[Optional(), max_length(32)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = sources.source_choices()


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[max_length(120)])
    description = TextAreaField(_l("Description"), validators=[max_length(2000)], render_kw={"rows": 2})
    dimensions = FieldList(FormField(DimensionForm), min_entries=1, max_entries=services.MAX_DIMENSIONS)
    min_days_worked = IntegerField(_l("Minimum days worked"), default=0,
                                   validators=[Optional(), NumberRange(0, 31, message=_l("Enter 0 to 31."))])
    probation = SelectField(_l("People on probation"), choices=choices_of(PROBATION_LABELS))
    probation_percent = number_field(_l("Share on probation (%)"), default=Decimal(50))
    floor = number_field(_l("Floor per person"))
    cap = number_field(_l("Cap per person"))
    multiplier_percent = number_field(_l("Team multiplier (%)"), default=Decimal(100))
    target_source = SelectField(_l("Team target"), choices=[])
    target_direction = SelectField(_l("Met when the team's figure is"),
                                   choices=choices_of({"higher": _l("at least the threshold"),
                                                       "lower": _l("at most the threshold")}))
    target_threshold = number_field(_l("Threshold"))
    rounding_unit = SelectField(_l("Rounding unit"), coerce=optional_int, choices=[])
    note = StringField(_l("What changed in this version"), validators=[max_length(500)])
    version = HiddenField()

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.target_source.choices = [("", _("No team target"))] + sources.source_choices()
        self.rounding_unit.choices = rounding_choices(currency, self.rounding_unit.data)


def rounding_choices(currency, current=None):
    """Whole powers of ten from the currency's smallest unit up to a hundred major units."""
    units = [10 ** k for k in range(get_currency_precision(currency) + 3)]
    if current and current not in units:
        units = sorted(units + [current])
    return [(unit, format_money(unit, currency)) for unit in units]


def _major(minor, currency):
    return None if minor is None else to_decimal(minor, currency)


def _plain(number):
    """A float as the Decimal a person would type (40.0 → 40, 0.5 → 0.5)."""
    if number is None:
        return None
    value = Decimal(repr(float(number)))
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def rule_form(definition, currency, formdata=None, **values):
    """The editor filled from `definition` (or from `formdata`, as posted)."""
    if formdata is not None:
        return RuleForm(formdata=formdata, currency=currency)
    eligibility = definition["eligibility"]
    target = definition.get("team_target") or {}
    data = {
        "dimensions": [{"source": d["source"], "direction": d["direction"], "normalisation": d["normalisation"],
                        "cap": _plain(d.get("cap", 2.0)), "weight": _plain(d["weight"]), "key": d.get("key", "")}
                       for d in definition["dimensions"]],
        "min_days_worked": eligibility.get("min_days_worked", 0),
        "probation": eligibility.get("probation", "include"),
        "probation_percent": _plain(eligibility.get("probation_scale", 0.5) * 100),
        "floor": _major(definition.get("floor_minor") or 0, currency),
        "cap": _major(definition.get("cap_minor"), currency),
        "multiplier_percent": _plain(definition.get("team_multiplier_bp", services.NO_MULTIPLIER) / 100),
        "target_source": target.get("source", ""),
        "target_direction": target.get("direction", "higher"),
        "target_threshold": _plain(target["threshold"]) if target else None,
        "rounding_unit": definition.get("rounding_unit_minor", 1),
        **values,
    }
    return RuleForm(formdata=None, data=data, currency=currency)


def _minor(amount, currency, field):
    if amount is None:
        return None
    try:
        return to_minor_units(amount, currency)
    except (ValueError, InvalidOperation):
        raise ServiceError(_("Use at most %(n)d decimals.", n=get_currency_precision(currency)), field=field) \
            from None


def _float(value):
    return None if value is None else float(value)


def definition_from_form(form):
    """The definition the editor holds, for services.normalise_definition."""
    currency = form.currency
    target = None
    if form.target_source.data:
        if form.target_threshold.data is None:
            raise ServiceError(_("Enter the threshold the team must reach."), field="team_target-threshold")
        target = {"source": form.target_source.data, "direction": form.target_direction.data,
                  "threshold": _float(form.target_threshold.data)}
    percent = form.probation_percent.data
    multiplier = form.multiplier_percent.data
    return {
        "dimensions": [{"key": (row.form.key.data or "").strip() or None, "source": row.form.source.data,
                        "direction": row.form.direction.data, "normalisation": row.form.normalisation.data,
                        "cap": _float(row.form.cap.data), "weight": _float(row.form.weight.data)}
                       for row in form.dimensions],
        "eligibility": {"min_days_worked": form.min_days_worked.data or 0, "probation": form.probation.data,
                        "probation_scale": None if percent is None else float(percent) / 100},
        "floor_minor": _minor(form.floor.data, currency, "floor_minor") or 0,
        "cap_minor": _minor(form.cap.data, currency, "cap_minor"),
        "team_multiplier_bp": None if multiplier is None else int(round(multiplier * 100)),
        "team_target": target,
        "rounding_unit_minor": form.rounding_unit.data or 1,
    }


RULE_FIELDS = {"floor_minor": "floor", "cap_minor": "cap", "team_multiplier_bp": "multiplier_percent",
               "probation_scale": "probation_percent", "rounding_unit_minor": "rounding_unit",
               "team_target-source": "target_source", "team_target-direction": "target_direction",
               "team_target-threshold": "target_threshold"}


def apply_rule_error(form, error):
    """A definition's ServiceError next to the editor's field (a row's field by its position)."""
    name = error.field or ""
    if name.startswith("dimensions-"):
        _prefix, index, sub = name.split("-", 2)
        rows = form.dimensions.entries
        if index.isdigit() and int(index) < len(rows) and sub in rows[int(index)].form:
            cell = rows[int(index)].form[sub]
            cell.errors = list(cell.errors) + [str(error.message)]
            return
    if name == "dimensions":
        form.form_errors.append(str(error.message))
        return
    error.field = RULE_FIELDS.get(name, name)
    apply_service_error(form, error)


def edit_rows(form, op):
    """Add a dimension row, or remove row n ("remove-n"), keeping what was typed."""
    if op == "add" and len(form.dimensions.entries) < services.MAX_DIMENSIONS:
        form.dimensions.append_entry({"source": "hr.support_points", "direction": "higher",
                                      "normalisation": "minmax", "cap": Decimal(2), "weight": Decimal(10)})
    elif op.startswith("remove-") and op[7:].isdigit() and len(form.dimensions.entries) > 1:
        index = int(op[7:])
        kept = [row.form.data for i, row in enumerate(form.dimensions.entries) if i != index]
        while form.dimensions.entries:
            form.dimensions.pop_entry()
        for row in kept:
            form.dimensions.append_entry(row)
    return form


# --- pools ---------------------------------------------------------------------------------------

class PoolForm(FlaskForm):
    unit = SelectField(_l("Team"), coerce=optional_int)
    month = MonthField(_l("Month"), validators=[REQUIRED])
    amount = number_field(_l("Amount"), validators=[REQUIRED])
    currency = StringField(_l("Currency"), validators=[REQUIRED, max_length(3)], render_kw={"class": "currency"})
    rule_version = SelectField(_l("Rule"), coerce=optional_int)

    def amount_minor(self):
        return _minor(self.amount.data, (self.currency.data or "").upper() or "CNY", "amount")


STATE_CHOICES = choices_of({"": _l("Any state"), **services.STATE_LABELS})


class PoolFilterForm(PlainForm):
    unit = SelectField(_l("Team"), coerce=optional_int, validate_choice=False)
    month = MonthField(_l("Month"), validators=[Optional()])
    state = SelectField(_l("State"), choices=STATE_CHOICES, validate_choice=False)


class AdjustmentForm(FlaskForm):
    member = SelectField(_l("Person"), coerce=optional_int)
    amount = number_field(_l("Amount (+ or −)"), validators=[REQUIRED])
    reason = TextAreaField(_l("Reason"), validators=[max_length(services.MAX_REASON)], render_kw={"rows": 2})

    def amount_minor(self, currency):
        return _minor(self.amount.data, currency, "amount")


class RemoveAdjustmentForm(FlaskForm):
    adjustment = HiddenField()


class CorrectionForm(FlaskForm):
    reason = TextAreaField(_l("Why the pool is corrected"), validators=[max_length(services.MAX_REASON)],
                           render_kw={"rows": 2})


class SubmitForm(FlaskForm):
    note = TextAreaField(_l("Note for the approvers"), validators=[Optional(), max_length(services.MAX_REASON)],
                         render_kw={"rows": 2})


class PublishForm(FlaskForm):
    number = HiddenField()


# --- the what-if ---------------------------------------------------------------------------------

def _number(value, field):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(NUMBER, field=field) from None
    if not number.is_finite():
        raise ServiceError(NUMBER, field=field)
    return number


def whatif_overrides(formdata, definition, currency):
    """The preview's overrides from the what-if form: a weight per dimension
    ("weight-<key>"), and the floor and cap per person in major units (empty cap: none)."""
    weights = {}
    for dim in definition["dimensions"]:
        value = _number(formdata.get(f"weight-{dim['key']}"), f"weight-{dim['key']}")
        if value is not None:
            weights[dim["key"]] = float(value)
    overrides = {"weights": weights}
    if "floor" in formdata:
        overrides["floor_minor"] = _minor(_number(formdata.get("floor"), "floor"), currency, "floor") or 0
    if "cap" in formdata:
        overrides["cap_minor"] = _minor(_number(formdata.get("cap"), "cap"), currency, "cap")
    return overrides
