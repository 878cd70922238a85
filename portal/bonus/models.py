"""Bonus pools (issue 6): rules and their versions, pools of a team and month, their
members, manual adjustments, the stored result per member, and the support points
leads give.

Money is integer minor units plus an ISO 4217 code (`*_minor` + `currency`); the
exchange rate of a line is kept as a decimal string so no float ever touches it.
JSON columns hold plain data written by portal/bonus/services.py (see there for
their shapes).
"""
import peewee as pw

from portal.accounts.models import User
from portal.approvals.models import ApprovalRequest
from portal.core.db import BaseModel, utcnow
from portal.org.models import OrgUnit
from portal.people.models import Employee

POOL_STATES = ("draft", "submitted", "approved", "locked")


class BonusRule(BaseModel):
    """A company's named allocation rule; what it says lives in its versions."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    name = pw.CharField(max_length=120)
    description = pw.TextField(default="")
    archived_at = pw.DateTimeField(null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("company", "name"), True),)


class BonusRuleVersion(BaseModel):
    """Version `number` of a rule. `definition` is the rule as canonical JSON
    (services.normalise_definition). A version is published once; a published version
    is never edited (a change is a new version) and pools refer to published ones only."""

    rule = pw.ForeignKeyField(BonusRule, backref="versions", on_delete="CASCADE")
    number = pw.IntegerField()
    definition = pw.TextField()
    note = pw.TextField(default="")
    published_at = pw.DateTimeField(null=True)
    published_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("rule", "number"), True),)


class BonusSupportPoint(BaseModel):
    """Support / collaboration points a lead gives a person for a month in a team, with why."""

    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    unit = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    period_start = pw.DateField()
    points = pw.IntegerField()
    reason = pw.TextField()
    entered_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("unit", "period_start"), False), (("employee", "period_start"), False))


class BonusPool(BaseModel):
    """The pool of a team (`unit`) for a period, split by a published rule version.

    `number` is the pool's version: 1, then each correction of a locked pool is a new
    pool with the next number, `corrects` pointing at the one it replaces and
    `correction_reason` saying why. State: draft → submitted → approved → locked; a
    locked pool never changes. `leftover_minor` is what the rounding unit left
    unallocated (lines + leftover = effective pool); `multiplier_bp` the team
    multiplier applied (10,000 = none)."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    unit = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    period_start = pw.DateField()
    period_end = pw.DateField()
    amount_minor = pw.BigIntegerField()
    currency = pw.CharField(max_length=3)
    rule_version = pw.ForeignKeyField(BonusRuleVersion, on_delete="RESTRICT")
    state = pw.CharField(max_length=16, default="draft")
    number = pw.IntegerField(default=1)
    corrects = pw.ForeignKeyField("self", null=True, backref="corrections", on_delete="RESTRICT")
    correction_reason = pw.TextField(default="")
    approval = pw.ForeignKeyField(ApprovalRequest, null=True, on_delete="SET NULL")
    target_met = pw.BooleanField(null=True)
    multiplier_bp = pw.IntegerField(default=10000)
    effective_minor = pw.BigIntegerField(null=True)
    leftover_minor = pw.BigIntegerField(default=0)
    computed_at = pw.DateTimeField(null=True)
    computed_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    submitted_at = pw.DateTimeField(null=True)
    approved_at = pw.DateTimeField(null=True)
    locked_at = pw.DateTimeField(null=True)
    locked_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("unit", "period_start", "number"), True), (("company", "period_start"), False))


class BonusPoolMember(BaseModel):
    """A person taking part in a pool with `participation` (0..1): their capacity share
    in the team over the period, from their assignments there (Σ share% × days in force
    ÷ days of the period). `assignments` (JSON) lists what it was made of:
    [{"assignment": id, "post": title, "share": percent, "days": n}]."""

    pool = pw.ForeignKeyField(BonusPool, backref="members", on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    participation = pw.DoubleField(default=1.0)
    assignments = pw.TextField(default="[]")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("pool", "employee"), True), (("employee",), False))


class BonusAdjustment(BaseModel):
    """A manual change of one member's amount (signed minor units of the pool's
    currency) with its reason; it comes off the top, so the pool's total stays exact."""

    pool = pw.ForeignKeyField(BonusPool, backref="adjustments", on_delete="CASCADE")
    member = pw.ForeignKeyField(BonusPoolMember, backref="adjustments", on_delete="CASCADE")
    amount_minor = pw.BigIntegerField()
    reason = pw.TextField()
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("pool",), False), (("member",), False))


class BonusLine(BaseModel):
    """The stored result for one member of a computed pool.

    JSON columns, keyed by dimension key: `raw` (value or null when missing),
    `normalised`, `contributions` (weight × normalised). `eligibility_scale` (1, the
    probation factor, or 0 when excluded, with `ineligible_reason`) times
    `participation` is the member's eligibility factor. `rule_amount_minor` is what the
    rule gave, `amount_minor` = rule amount + `adjustment_minor` (pool currency), and
    `pay_amount_minor` the amount in `pay_currency` at `rate` (a decimal string, pay
    units per pool unit) of `rate_date` from `rate_source`."""

    pool = pw.ForeignKeyField(BonusPool, backref="lines", on_delete="CASCADE")
    member = pw.ForeignKeyField(BonusPoolMember, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    raw = pw.TextField(default="{}")
    normalised = pw.TextField(default="{}")
    contributions = pw.TextField(default="{}")
    score = pw.DoubleField(default=0)
    weight = pw.DoubleField(default=0)
    eligibility_scale = pw.DoubleField(default=1.0)
    participation = pw.DoubleField(default=1.0)
    ineligible_reason = pw.CharField(max_length=32, default="")
    days_worked = pw.IntegerField(default=0)
    floor_minor = pw.BigIntegerField(default=0)
    cap_minor = pw.BigIntegerField(null=True)
    at_floor = pw.BooleanField(default=False)
    at_cap = pw.BooleanField(default=False)
    rule_amount_minor = pw.BigIntegerField(default=0)
    adjustment_minor = pw.BigIntegerField(default=0)
    amount_minor = pw.BigIntegerField(default=0)
    currency = pw.CharField(max_length=3)
    rank = pw.IntegerField(default=0)
    pay_amount_minor = pw.BigIntegerField(default=0)
    pay_currency = pw.CharField(max_length=3)
    rate = pw.CharField(max_length=40, default="1")
    rate_date = pw.DateField(null=True)
    rate_source = pw.CharField(max_length=120, default="")

    class Meta:
        indexes = ((("pool", "member"), True), (("employee",), False))


MODELS = (BonusRule, BonusRuleVersion, BonusSupportPoint, BonusPool, BonusPoolMember, BonusAdjustment, BonusLine)
