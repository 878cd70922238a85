"""Time: shift types, rosters and rotations, clock events, calendars and leave.

Every instant is stored as naive UTC (core.db.utcnow). A roster entry keeps the
local date it belongs to (`day`, in the company's time zone) beside its UTC start
and end, so a shift crossing midnight or a DST change has one day and exact
instants. Attendance days are not stored: they are computed from these facts by
time.engine whenever they are shown, so they can never be stale.

Leave quantities are integers in hundredths of the leave type's unit (150 = 1.5
days, or 1.5 hours): exact, and summable in SQL.
"""
import peewee as pw

from portal.accounts.models import User
from portal.approvals.models import ApprovalRequest
from portal.core.db import BaseModel, utcnow
from portal.org.models import OrgUnit
from portal.people.models import Employee

CLOCK_KINDS = ("in", "out")
CLOCK_SOURCES = ("portal", "device", "correction")
ROSTER_SOURCES = ("manual", "rotation", "swap")
LEAVE_UNITS = ("day", "hour")
ACCRUAL_RULES = ("none", "monthly", "yearly")
LEAVE_STATES = ("pending", "approved", "rejected", "withdrawn", "cancelled")
LEDGER_KINDS = ("accrual", "taken", "returned", "expiry", "adjustment", "opening")
CALENDAR_KINDS = ("holiday", "workday")
IMPORT_STATES = ("uploaded", "mapped", "validated", "importing", "imported", "failed")


class TimePolicy(BaseModel):
    """A company's time rules. A company without a row uses the defaults here.

    - `min_rest_minutes`: least time between the end of one shift and the start of
      the next for one person (11 h is the EU working-time rule).
    - `rounding_minutes`: worked time is rounded down to a multiple of this.
    - `overtime_after_minutes`: time worked past the scheduled end counts as
      overtime only beyond this many minutes.
    - `clock_window_minutes`: how early before a shift a clock-in belongs to it, and
      how late after its end a clock-out does.
    - `allowed_networks`: CIDR blocks, one per line; empty means anywhere.
    - `weekend_days`: ISO weekday numbers (Mon=1 … Sun=7), comma-separated.
    - `workday_minutes`: one leave day in minutes, for hour-based leave.
    """

    company = pw.ForeignKeyField(OrgUnit, unique=True, on_delete="CASCADE")
    min_rest_minutes = pw.IntegerField(default=11 * 60)
    rounding_minutes = pw.IntegerField(default=1)
    overtime_after_minutes = pw.IntegerField(default=30)
    clock_window_minutes = pw.IntegerField(default=120)
    allowed_networks = pw.TextField(default="")
    weekend_days = pw.CharField(max_length=20, default="6,7")
    workday_minutes = pw.IntegerField(default=8 * 60)
    updated_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)


class ShiftType(BaseModel):
    """A kind of shift a company runs: local start and end as minutes after
    midnight (an end at or before the start means the shift ends the next day),
    unpaid break minutes, and the grace allowed before lateness or early leaving
    counts. `cs_accounts` keeps the customer-service accounts the shift staffs
    (a JSON list of account codes until the CS domain gives them rows)."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    code = pw.CharField(max_length=16)
    name = pw.CharField(max_length=80)
    start_minute = pw.SmallIntegerField()
    end_minute = pw.SmallIntegerField()
    break_minutes = pw.SmallIntegerField(default=0)
    grace_minutes = pw.SmallIntegerField(default=5)
    color = pw.CharField(max_length=7, default="#4c7bd9")
    cs_accounts = pw.TextField(default="[]")
    archived_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("company", "code"), True),)

    @property
    def overnight(self):
        return self.end_minute <= self.start_minute

    @property
    def span_minutes(self):
        """Scheduled length on a day without a clock change, breaks included."""
        return (self.end_minute - self.start_minute) % 1440 or 1440


class Rotation(BaseModel):
    """A repeating pattern that generates a unit's roster: `pattern` is a JSON list,
    one item per day of the cycle, each a shift type id or null for a day off.
    Members start the cycle at their own offset, so A/B teams are one pattern with
    team B offset by half a cycle; "N on / M off" and weekly rotating shifts are
    patterns too. Day 0 of the cycle is `anchor_date`.

    `follows_calendar` is for office-hours teams: nobody is rostered on the company's
    public holidays and days off, and on an adjusted working day (调休) members work
    the pattern's first shift even where the pattern has a day off."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    unit = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    name = pw.CharField(max_length=80)
    pattern = pw.TextField(default="[]")
    anchor_date = pw.DateField()
    follows_calendar = pw.BooleanField(default=False)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    archived_at = pw.DateTimeField(null=True)
    version = pw.IntegerField(default=1)


class RotationMember(BaseModel):
    rotation = pw.ForeignKeyField(Rotation, backref="members", on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    offset = pw.SmallIntegerField(default=0)
    label = pw.CharField(max_length=16, default="")  # "A", "B": the member's team in the rotation

    class Meta:
        indexes = ((("rotation", "employee"), True),)


class RosterEntry(BaseModel):
    """One person rostered on one shift. `day` is the local date the shift starts
    on; `starts_at`/`ends_at` are its UTC instants (DST already applied). `unit`
    is the roster (team) it belongs to and decides scope."""

    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    unit = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    day = pw.DateField()
    shift_type = pw.ForeignKeyField(ShiftType, on_delete="RESTRICT")
    starts_at = pw.DateTimeField()
    ends_at = pw.DateTimeField()
    break_minutes = pw.SmallIntegerField(default=0)
    source = pw.CharField(max_length=16, default="manual")
    rotation = pw.ForeignKeyField(Rotation, null=True, on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = (
            (("unit", "day"), False),
            (("employee", "starts_at"), False),
            (("employee", "day", "shift_type"), True),
        )


class HandoverNote(BaseModel):
    """What one shift leaves for the next in a unit: written on `day`'s shift
    `shift_type` (null: for the whole day), read by whoever works next."""

    unit = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    day = pw.DateField()
    shift_type = pw.ForeignKeyField(ShiftType, null=True, on_delete="SET NULL")
    author = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    body = pw.TextField()
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("unit", "created_at"), False),)


class ClockImport(BaseModel):
    """One attendance-device export on its way: uploaded → mapped → validated →
    imported (or failed). `report` holds the row errors (JSON)."""

    id = pw.CharField(max_length=32, primary_key=True)
    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    original_name = pw.CharField(max_length=200)
    stored_name = pw.CharField(max_length=64)
    sha256 = pw.CharField(max_length=64)
    state = pw.CharField(max_length=16, default="uploaded")
    mapping = pw.TextField(default="{}")
    row_count = pw.IntegerField(default=0)
    error_count = pw.IntegerField(default=0)
    summary = pw.TextField(default="{}")
    job_id = pw.CharField(max_length=32, null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)


class ClockEvent(BaseModel):
    """One clock-in or clock-out. Never edited: a wrong or missing punch is put
    right by an approved correction request, which adds an event with
    source "correction" (and may void another through `voided_by`)."""

    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    at = pw.DateTimeField()
    kind = pw.CharField(max_length=3)
    source = pw.CharField(max_length=16, default="portal")
    address = pw.CharField(max_length=45, default="")
    device = pw.CharField(max_length=64, default="")
    clock_import = pw.ForeignKeyField(ClockImport, null=True, on_delete="SET NULL")
    request = pw.ForeignKeyField(ApprovalRequest, null=True, on_delete="SET NULL")
    voided_by = pw.ForeignKeyField(ApprovalRequest, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("employee", "at", "kind"), True),)


class CalendarDay(BaseModel):
    """A company's own calendar day on top of its country's public holidays: an
    extra day off ("holiday") or a working day that would be a weekend or holiday
    ("workday")."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    day = pw.DateField()
    kind = pw.CharField(max_length=8)
    name = pw.CharField(max_length=80)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("company", "day"), True),)


class LeaveType(BaseModel):
    """A kind of leave a company grants. Amounts (`accrual_amount`,
    `carry_over_cap`) are hundredths of `unit`. `needs_balance`: requests must fit
    the balance (annual leave); otherwise they are only recorded (unpaid, sick)."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    code = pw.CharField(max_length=16)
    name = pw.CharField(max_length=80)
    paid = pw.BooleanField(default=True)
    unit = pw.CharField(max_length=4, default="day")
    accrual = pw.CharField(max_length=8, default="none")
    accrual_amount = pw.IntegerField(default=0)
    carry_over_cap = pw.IntegerField(null=True)
    needs_balance = pw.BooleanField(default=True)
    color = pw.CharField(max_length=7, default="#2e9d6a")
    archived_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("company", "code"), True),)


class LeaveRequest(BaseModel):
    """A request for leave from `start_date` to `end_date` (inclusive); for an
    hour-based type, `start_minute`/`end_minute` give the local times on a single
    day. `amount` is what it costs in hundredths of the type's unit (working days
    only). Its approval runs through the approval engine (`approval`)."""

    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    leave_type = pw.ForeignKeyField(LeaveType, on_delete="RESTRICT")
    start_date = pw.DateField()
    end_date = pw.DateField()
    start_minute = pw.SmallIntegerField(null=True)
    end_minute = pw.SmallIntegerField(null=True)
    amount = pw.IntegerField()
    reason = pw.TextField(default="")
    state = pw.CharField(max_length=16, default="pending")
    approval = pw.ForeignKeyField(ApprovalRequest, null=True, on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("employee", "start_date"), False), (("state", "start_date"), False))


class LeaveLedger(BaseModel):
    """Every change to a balance, signed, in hundredths of the type's unit: the
    balance is the sum. Accruals carry their `period` ("2026-11", "2026") so the
    accrual job adds each once."""

    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    leave_type = pw.ForeignKeyField(LeaveType, on_delete="CASCADE")
    day = pw.DateField()
    amount = pw.IntegerField()
    kind = pw.CharField(max_length=12)
    period = pw.CharField(max_length=7, default="")
    request = pw.ForeignKeyField(LeaveRequest, null=True, on_delete="SET NULL")
    note = pw.CharField(max_length=200, default="")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("employee", "leave_type", "kind", "period"), False),)


MODELS = (TimePolicy, ShiftType, Rotation, RotationMember, RosterEntry, HandoverNote, ClockImport, ClockEvent,
          CalendarDay, LeaveType, LeaveRequest, LeaveLedger)
