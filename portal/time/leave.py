"""Leave: leave types per company, balances from the ledger, requests through the
approval engine (kind "time.leave"), the accrual job, and the team leave calendar.

Amounts are integers in hundredths of the leave type's unit (150 = 1.5 days): a
balance is the sum of the person's ledger entries for the type; "pending" is what
their pending requests would take; "available" is the balance less pending.

A LeaveRequest row follows its approval request through every state: it is made in
the submitting transaction (the kind's `on_submit`), approved in the final approval's
(`apply`, which books the "taken" entry), and rejected or withdrawn in the closing
one (`on_close`). Rosters and attendance read `state == "approved"` from it.
"""
import datetime as dt
from dataclasses import dataclass

import peewee as pw
from flask_babel import format_date, format_decimal, gettext as _, lazy_gettext as _l, ngettext

from portal.approvals.kinds import Draft, RequestKind, register_kind, request_reason
from portal.approvals.services import declare_notifications, notify, portal_path
from portal.core.audit import changes, declare_actions, record_event
from portal.core.db import database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.jobs import background_job, daily_job
from portal.org.models import OrgUnit
from portal.people.models import Employee
from portal.people.permissions import employee_condition
from portal.time.forms import LEAVE_REASON_LENGTH, LeaveRequestForm
from portal.time.models import ACCRUAL_RULES, LEAVE_UNITS, LeaveLedger, LeaveRequest, LeaveType, RosterEntry
from portal.time.permissions import TIME_MANAGE, TIME_ROSTER, TIME_VIEW
from portal.time.services import employee_of, working_calendar

KIND = "time.leave"
MAX_REASON_LENGTH = LEAVE_REASON_LENGTH
MAX_REQUEST_DAYS = 366
# The colours a leave type may take: each has a class in app.css (no inline styles under the CSP).
LEAVE_COLORS = ("#2e9d6a", "#4c7bd9", "#d9534f", "#e0a526", "#8e5cc7", "#16a2b8", "#e06fa0", "#6b7280")
TYPE_FIELDS = ("code", "name", "paid", "unit", "accrual", "accrual_amount", "carry_over_cap", "needs_balance",
               "color")

declare_actions({
    "time.leave_type_created": _l("Created a leave type"),
    "time.leave_type_updated": _l("Changed a leave type"),
    "time.leave_type_archived": _l("Archived a leave type"),
    "time.leave_type_restored": _l("Restored a leave type"),
    "time.leave_adjusted": _l("Adjusted a leave balance"),
    "time.leave_accrued": _l("Accrued leave"),
    "time.leave_cancelled": _l("Cancelled approved leave"),
})
declare_notifications({
    "time.leave.approved": _l("Your leave is approved: %(leave_type)s, %(dates)s."),
    "time.leave.cancelled": _l("Your approved leave was cancelled: %(leave_type)s, %(dates)s."),
})


# --- leave types ---------------------------------------------------------------------------

def types_of(company, include_archived=False):
    """The company's leave types by code (archived ones last, when asked for)."""
    query = LeaveType.select().where(LeaveType.company == getattr(company, "id", company))
    if not include_archived:
        query = query.where(LeaveType.archived_at.is_null())
    return list(query.order_by(LeaveType.archived_at.is_null(False), LeaveType.code))


def _check_type_values(company, values, type_id=None):
    code = (values.get("code") or "").strip().upper()
    name = (values.get("name") or "").strip()
    if not code:
        raise ServiceError(_("Enter a code."), field="code")
    if not name:
        raise ServiceError(_("Enter a name."), field="name")
    taken = LeaveType.select().where((LeaveType.company == company.id) & (LeaveType.code == code))
    if type_id is not None:
        taken = taken.where(LeaveType.id != type_id)
    if taken.exists():
        raise ServiceError(_("This company already has a leave type with this code."), field="code")
    if values.get("unit") not in LEAVE_UNITS:
        raise ServiceError(_("Choose days or hours."), field="unit")
    if values.get("accrual") not in ACCRUAL_RULES:
        raise ServiceError(_("Choose an accrual rule."), field="accrual")
    amount = values.get("accrual_amount") or 0
    if amount < 0:
        raise ServiceError(_("Enter an amount of zero or more."), field="accrual_amount")
    if values["accrual"] != "none" and amount == 0:
        raise ServiceError(_("Enter how much accrues."), field="accrual_amount")
    cap = values.get("carry_over_cap")
    if cap is not None and cap < 0:
        raise ServiceError(_("Enter a cap of zero or more, or leave it empty for no cap."), field="carry_over_cap")
    color = values.get("color") or LEAVE_COLORS[0]
    if color not in LEAVE_COLORS:
        raise ServiceError(_("Choose a colour from the list."), field="color")
    return {"code": code[:16], "name": name[:80], "paid": bool(values.get("paid")), "unit": values["unit"],
            "accrual": values["accrual"], "accrual_amount": amount if values["accrual"] != "none" else 0,
            "carry_over_cap": cap, "needs_balance": bool(values.get("needs_balance")), "color": color}


def create_leave_type(actor, company, values):
    actor.require(TIME_MANAGE, company)
    clean = _check_type_values(company, values)
    with database.atomic():
        leave_type = LeaveType.create(company=company, **clean)
        record_event("time.leave_type_created", leave_type, unit=company, actor=actor.user, after=clean)
    return leave_type


def update_leave_type(actor, leave_type, values, version):
    company = leave_type.company
    actor.require(TIME_MANAGE, company)
    clean = _check_type_values(company, values, leave_type.id)
    in_use = (LeaveLedger.select().where(LeaveLedger.leave_type == leave_type.id).exists()
              or LeaveRequest.select().where(LeaveRequest.leave_type == leave_type.id).exists())
    if clean["unit"] != leave_type.unit and in_use:  # balances and requests are counted in the old unit
        raise ServiceError(_("Balances and requests already count this type in its unit. Make a new type "
                             "instead."), field="unit")
    with database.atomic():
        before = changes(leave_type, TYPE_FIELDS)
        updated = (LeaveType.update(version=LeaveType.version + 1, **clean)
                   .where((LeaveType.id == leave_type.id) & (LeaveType.version == version)).execute())
        if not updated:
            raise ServiceError(_("Someone else changed this leave type meanwhile. Reload the page and try again."))
        record_event("time.leave_type_updated", leave_type, unit=company, actor=actor.user, before=before,
                     after=clean)
    return LeaveType.get_by_id(leave_type.id)


def archive_leave_type(actor, leave_type, archived=True):
    """Archive (no new requests or accruals) or restore a leave type; its history stays."""
    actor.require(TIME_MANAGE, leave_type.company)
    with database.atomic():
        LeaveType.update(archived_at=utcnow() if archived else None, version=LeaveType.version + 1).where(
            LeaveType.id == leave_type.id).execute()
        record_event("time.leave_type_archived" if archived else "time.leave_type_restored", leave_type,
                     unit=leave_type.company_id, actor=actor.user)
    return LeaveType.get_by_id(leave_type.id)


# --- balances ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    """One person's standing in one leave type, in hundredths of its unit."""

    leave_type: LeaveType
    balance: int
    pending: int

    @property
    def available(self):
        return self.balance - self.pending


def ledger_sums(employee_id, type_ids=None, before=None):
    """{leave_type_id: ledger sum} for one person (entries dated before `before`, if given)."""
    query = (LeaveLedger.select(LeaveLedger.leave_type, pw.fn.SUM(LeaveLedger.amount).alias("total"))
             .where(LeaveLedger.employee == employee_id).group_by(LeaveLedger.leave_type))
    if type_ids is not None:
        query = query.where(LeaveLedger.leave_type.in_(list(type_ids)))
    if before is not None:
        query = query.where(LeaveLedger.day < before)
    return {row.leave_type_id: int(row.total or 0) for row in query}


def pending_sums(employee_id, exclude_request_id=None):
    """{leave_type_id: amount of the person's pending requests}."""
    query = (LeaveRequest.select(LeaveRequest.leave_type, pw.fn.SUM(LeaveRequest.amount).alias("total"))
             .where((LeaveRequest.employee == employee_id) & (LeaveRequest.state == "pending"))
             .group_by(LeaveRequest.leave_type))
    if exclude_request_id is not None:
        query = query.where(LeaveRequest.id != exclude_request_id)
    return {row.leave_type_id: int(row.total or 0) for row in query}


def balances_of(employee):
    """[Balance] of the person in each active leave type of their company."""
    types = types_of(employee.company_id)
    sums, pending = ledger_sums(employee.id), pending_sums(employee.id)
    return [Balance(t, sums.get(t.id, 0), pending.get(t.id, 0)) for t in types]


def balance_of(employee, leave_type, exclude_request_id=None):
    """The person's Balance in one type."""
    return Balance(leave_type, ledger_sums(employee.id, [leave_type.id]).get(leave_type.id, 0),
                   pending_sums(employee.id, exclude_request_id).get(leave_type.id, 0))


def ledger_of(employee, limit=200):
    """The person's ledger entries, latest first."""
    return list(LeaveLedger.select(LeaveLedger, LeaveType).join(LeaveType)
                .where(LeaveLedger.employee == employee.id)
                .order_by(LeaveLedger.day.desc(), LeaveLedger.id.desc()).limit(limit))


def requests_of(employee, limit=50):
    """The person's leave requests, latest first."""
    return list(LeaveRequest.select(LeaveRequest, LeaveType).join(LeaveType)
                .where(LeaveRequest.employee == employee.id)
                .order_by(LeaveRequest.start_date.desc(), LeaveRequest.id.desc()).limit(limit))


def person_in_scope(actor, employee_id, permission):
    """The person if `permission` reaches them in the actor's scope, else NotInScope."""
    employee = Employee.select().where(
        (Employee.id == employee_id) & employee_condition(actor.scope, permission)).first()
    if employee is None:
        raise NotInScope(permission)
    return employee


def person_in_scope_or_none(actor, employee_id, permission):
    try:
        return person_in_scope(actor, employee_id, permission)
    except NotInScope:
        return None


def adjust_balance(actor, employee, leave_type, amount, reason, day=None):
    """HR corrects a balance by `amount` hundredths (signed), saying why."""
    employee = person_in_scope(actor, employee.id, TIME_MANAGE)
    if leave_type.company_id != employee.company_id:
        raise ServiceError(_("Choose a leave type of the person's company."), field="leave_type")
    if not amount:
        raise ServiceError(_("Enter an amount other than zero."), field="amount")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why."), field="reason")
    with database.atomic():
        entry = LeaveLedger.create(employee=employee, leave_type=leave_type, day=day or dt.date.today(),
                                   amount=amount, kind="adjustment", note=reason[:200], created_by=actor.user)
        record_event("time.leave_adjusted", employee, object_type="employee", label=employee.display_name,
                     unit=employee.company_id, actor=actor.user,
                     after={"leave_type": leave_type.code, "amount": amount, "reason": reason})
    return entry


# --- what a request costs ----------------------------------------------------------------------

@dataclass(frozen=True)
class Quote:
    """What a request would cost (`amount`) and the balance it is measured against."""

    amount: int
    balance: Balance
    workdays: int

    @property
    def available_after(self):
        return self.balance.available - self.amount


def _as_date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite's MIN()/MAX() give text


def working_days(employee, start, end):
    """The person's working days from `start` to `end`. Within the stretch their roster
    covers (first to last rostered day) these are their rostered days; outside it, and
    for people never rostered, their company's working days (public holidays and
    weekends out, 调休 working days in)."""
    first, last = (RosterEntry.select(pw.fn.MIN(RosterEntry.day), pw.fn.MAX(RosterEntry.day))
                   .where(RosterEntry.employee == employee.id).tuples().get())
    first, last = _as_date(first), _as_date(last)
    count, calendar_days = 0, [(start, end)]
    if first is not None and first <= end and last >= start:
        covered = (max(start, first), min(end, last))
        count = (RosterEntry.select(pw.fn.COUNT(RosterEntry.day.distinct()))
                 .where((RosterEntry.employee == employee.id) & RosterEntry.day.between(*covered)).scalar() or 0)
        calendar_days = [(start, covered[0] - dt.timedelta(days=1)), (covered[1] + dt.timedelta(days=1), end)]
    company = None
    for stretch_start, stretch_end in calendar_days:
        if stretch_start <= stretch_end:
            company = company or OrgUnit.get_by_id(employee.company_id)
            count += sum(1 for day in working_calendar(company, stretch_start, stretch_end, language="en_US")
                         if day.workday)
    return int(count)


def minute_of(value):
    """Minutes after midnight of a time (None stays None)."""
    return None if value is None else value.hour * 60 + value.minute


def quote_leave(employee, leave_type, start, end, start_minute=None, end_minute=None, exclude_request_id=None):
    """The Quote of a request, or a ServiceError naming the field that makes it impossible:
    dates the wrong way round, no working day, an overlap with the person's pending or
    approved leave, or more than the available balance of a type that needs one."""
    if start is None:
        raise ServiceError(_("Enter the first day."), field="start_date")
    if leave_type.unit == "hour":
        end = start
    if end is None:
        raise ServiceError(_("Enter the last day."), field="end_date")
    if end < start:
        raise ServiceError(_("The leave ends before it starts."), field="end_date")
    if (end - start).days >= MAX_REQUEST_DAYS:
        raise ServiceError(_("Ask for at most %(n)d days at once.", n=MAX_REQUEST_DAYS), field="end_date")
    workdays = working_days(employee, start, end)
    if workdays == 0:
        raise ServiceError(_("There are no working days in this period."), field="start_date")
    if leave_type.unit == "hour":
        if start_minute is None or end_minute is None:
            raise ServiceError(_("Enter the start and end time."), field="start_time")
        if end_minute <= start_minute:
            raise ServiceError(_("The leave ends before it starts."), field="end_time")
        amount = round((end_minute - start_minute) * 100 / 60)
    else:
        amount = workdays * 100
    clash = LeaveRequest.select(LeaveRequest, LeaveType).join(LeaveType).where(
        (LeaveRequest.employee == employee.id) & LeaveRequest.state.in_(("pending", "approved"))
        & (LeaveRequest.start_date <= end) & (LeaveRequest.end_date >= start))
    if exclude_request_id is not None:
        clash = clash.where(LeaveRequest.id != exclude_request_id)
    for other in clash:
        both_timed = other.start_minute is not None and start_minute is not None and leave_type.unit == "hour"
        if both_timed and (other.end_minute <= start_minute or other.start_minute >= end_minute):
            continue  # two hour-based requests on one day that do not touch
        raise ServiceError(_("This overlaps the leave from %(start)s to %(end)s (%(type)s), which is already "
                             "requested.", start=format_date(other.start_date), end=format_date(other.end_date),
                             type=other.leave_type.name), field="start_date")
    balance = balance_of(employee, leave_type, exclude_request_id)
    quote = Quote(amount, balance, workdays)
    if leave_type.needs_balance and quote.available_after < 0:
        raise ServiceError(_("This leave takes %(amount)s, but only %(available)s of %(type)s are available "
                             "(balance %(balance)s, waiting for approval %(pending)s).",
                             amount=format_amount(amount, leave_type.unit),
                             available=format_amount(balance.available, leave_type.unit),
                             type=leave_type.name, balance=format_amount(balance.balance, leave_type.unit),
                             pending=format_amount(balance.pending, leave_type.unit)), field="leave_type")
    return quote


def format_amount(amount, unit):
    """Hundredths of a leave unit for people: "1.5 days", "3 hours"."""
    value = format_decimal(amount / 100, format="#,##0.##")
    plural_of = abs(amount) // 100 if amount % 100 == 0 else 2
    if unit == "hour":
        return ngettext("%(amount)s hour", "%(amount)s hours", plural_of, amount=value)
    return ngettext("%(amount)s day", "%(amount)s days", plural_of, amount=value)


# --- requests (the approval kind "time.leave") --------------------------------------------------

def company_type(employee, type_id):
    """The active leave type `type_id` of the person's company, or None."""
    return LeaveType.get_or_none((LeaveType.id == (type_id or 0)) & (LeaveType.company == employee.company_id)
                                 & LeaveType.archived_at.is_null())


def _type_for(employee, type_id):
    leave_type = company_type(employee, type_id)
    if leave_type is None:
        raise ServiceError(_("Choose a leave type from the list."), field="leave_type")
    return leave_type


def person_for_leave(actor, employee_id=None):
    """Whose leave the actor may request: their own, or (leads and HR, who keep rosters)
    anyone in their roster scope. NotInScope otherwise."""
    own = employee_of(actor.user)
    if employee_id is None or (own is not None and own.id == employee_id):
        if own is None:
            raise NotInScope(KIND)
        return own
    return person_in_scope(actor, employee_id, TIME_ROSTER)


def _load_subject(actor, args):
    try:
        employee_id = int(args["employee"]) if args.get("employee") else None
    except (TypeError, ValueError):
        raise NotInScope(KIND) from None
    return person_for_leave(actor, employee_id)


def leave_form(employee, formdata=None):
    form = LeaveRequestForm(formdata=formdata)
    form.leave_type.choices = [("", _("Choose a leave type"))] + [(t.id, t.name) for t in types_of(employee.company_id)]
    return form


def _dates_text(payload):
    start, end = dt.date.fromisoformat(payload["start_date"]), dt.date.fromisoformat(payload["end_date"])
    text = format_date(start) if start == end else f"{format_date(start)} – {format_date(end)}"
    if payload.get("start_minute") is not None:
        text += " {:02d}:{:02d}–{:02d}:{:02d}".format(*divmod(payload["start_minute"], 60),
                                                      *divmod(payload["end_minute"], 60))
    return text


def _draft(actor, employee, values):
    employee = person_for_leave(actor, employee.id)
    if employee.status == "left":
        raise ServiceError(_("This person has left the company."))
    leave_type = _type_for(employee, values.get("leave_type"))
    start, end = values.get("start_date"), values.get("end_date") or values.get("start_date")
    start_minute, end_minute = minute_of(values.get("start_time")), minute_of(values.get("end_time"))
    if leave_type.unit == "day":
        start_minute = end_minute = None
    quote = quote_leave(employee, leave_type, start, end, start_minute, end_minute)
    reason = request_reason(values, required=False, max_length=MAX_REASON_LENGTH)
    end = start if leave_type.unit == "hour" else end
    payload = {"employee": employee.id, "name": employee.display_name, "number": employee.number,
               "leave_type": leave_type.id, "leave_type_name": leave_type.name, "unit": leave_type.unit,
               "start_date": start.isoformat(), "end_date": end.isoformat(), "start_minute": start_minute,
               "end_minute": end_minute, "amount": quote.amount}
    # The title is stored once, so its dates are ISO rather than in the requester's language.
    title = f"{leave_type.name}: {employee.display_name} · {start.isoformat()}" + (
        f" – {end.isoformat()}" if end != start else "")
    return Draft(unit=OrgUnit.get_by_id(employee.unit_id), subject=employee, title=title, payload=payload,
                 reason=reason, effective_date=start)


def _on_submit(actor, request, payload):
    """Record the LeaveRequest in the submitting transaction, checking again (another
    request of the person may have been made since the draft)."""
    employee = Employee.get_by_id(payload["employee"])
    leave_type = LeaveType.get_by_id(payload["leave_type"])
    start, end = dt.date.fromisoformat(payload["start_date"]), dt.date.fromisoformat(payload["end_date"])
    quote_leave(employee, leave_type, start, end, payload["start_minute"], payload["end_minute"])
    LeaveRequest.create(employee=employee, leave_type=leave_type, start_date=start, end_date=end,
                        start_minute=payload["start_minute"], end_minute=payload["end_minute"],
                        amount=payload["amount"], reason=request.reason, state="pending", approval=request,
                        created_by=actor.user)


def _pending_leave(request):
    leave = (LeaveRequest.select(LeaveRequest, LeaveType).join(LeaveType)
             .where(LeaveRequest.approval == request.id).first())
    if leave is None or leave.state != "pending":
        raise ServiceError(_("This leave request is no longer pending. Reject the request."))
    return leave


def _set_state(leave, state):
    LeaveRequest.update(state=state, version=LeaveRequest.version + 1).where(LeaveRequest.id == leave.id).execute()


def _apply(actor, request, payload):
    """The final approval: the leave is approved and, for a type with a balance, taken
    from it (it must still fit: the balance may have changed since the request)."""
    leave = _pending_leave(request)
    leave_type = leave.leave_type
    if leave_type.needs_balance:
        balance = ledger_sums(leave.employee_id, [leave_type.id]).get(leave_type.id, 0)
        if balance < leave.amount:
            raise ServiceError(_("The balance (%(balance)s) no longer covers this leave (%(amount)s).",
                                 balance=format_amount(balance, leave_type.unit),
                                 amount=format_amount(leave.amount, leave_type.unit)))
        LeaveLedger.create(employee=leave.employee_id, leave_type=leave_type, day=leave.start_date,
                           amount=-leave.amount, kind="taken", request=leave, created_by=actor.user)
    _set_state(leave, "approved")
    person = Employee.get_by_id(leave.employee_id)
    if person.user_id and person.user_id != request.requester_id:  # the requester hears from the engine
        notify([person.user_id], "time.leave.approved",
               {"leave_type": leave_type.name, "dates": _dates_text(payload)}, portal_path("time.leave.mine"))


def _on_close(actor, request, payload, state):
    """A rejected or withdrawn approval request closes its leave request the same way."""
    LeaveRequest.update(state=state, version=LeaveRequest.version + 1).where(
        (LeaveRequest.approval == request.id) & (LeaveRequest.state == "pending")).execute()


def _describe(request, payload):
    return [
        (_("Person"), f"{payload['name']} ({payload['number']})"),
        (_("Leave type"), payload["leave_type_name"]),
        (_("When"), _dates_text(payload)),
        (_("Takes"), format_amount(payload["amount"], payload["unit"])),
    ]


register_kind(RequestKind(
    key=KIND,
    label=_l("Leave"),
    default_chain=("team_lead", "company_hr"),
    load_subject=_load_subject,
    form=leave_form,
    draft=_draft,
    apply=_apply,
    describe=_describe,
    on_submit=_on_submit,
    on_close=_on_close,
    intro=_l("The team's lead and the company's HR approve leave. Leave that needs a balance must fit what is "
             "available."),
    subject_args=("employee",),
))


def submit_leave(actor, employee, values):
    """Request leave for `employee` (the actor's own, or a person in their roster scope):
    the approval request goes to the chain; returns the LeaveRequest."""
    from portal.approvals.services import submit_request

    approval = submit_request(actor, KIND, employee, values)
    return LeaveRequest.get(LeaveRequest.approval == approval.id)


def cancel_leave(actor, leave):
    """HR cancels approved leave: the state becomes "cancelled" and what it took from
    the balance returns to it."""
    person_in_scope(actor, leave.employee_id, TIME_MANAGE)
    with database.atomic():
        changed = (LeaveRequest.update(state="cancelled", version=LeaveRequest.version + 1)
                   .where((LeaveRequest.id == leave.id) & (LeaveRequest.state == "approved")).execute())
        if not changed:
            raise ServiceError(_("Only approved leave can be cancelled."))
        taken = (LeaveLedger.select(pw.fn.SUM(LeaveLedger.amount))
                 .where((LeaveLedger.request == leave.id) & LeaveLedger.kind.in_(("taken", "returned"))).scalar())
        if taken:
            LeaveLedger.create(employee=leave.employee_id, leave_type=leave.leave_type_id, day=leave.start_date,
                               amount=-int(taken), kind="returned", request=leave, created_by=actor.user)
        record_event("time.leave_cancelled", leave, object_type="leave_request", label=leave.leave_type.name,
                     unit=leave.employee.company_id, actor=actor.user,
                     after={"employee": leave.employee_id, "returned": -int(taken or 0)})
        person = leave.employee
        if person.user_id:
            payload = {"start_date": leave.start_date.isoformat(), "end_date": leave.end_date.isoformat(),
                       "start_minute": leave.start_minute, "end_minute": leave.end_minute}
            notify([person.user_id], "time.leave.cancelled",
                   {"leave_type": leave.leave_type.name, "dates": _dates_text(payload)}, portal_path("time.leave.mine"))
    return LeaveRequest.get_by_id(leave.id)


# --- accrual ------------------------------------------------------------------------------------

def _accruing_people(leave_type, day, period, kind="accrual"):
    """Ids of the type's company's people who are employed on `day` and have no `kind`
    entry of `period` for the type yet."""
    done = LeaveLedger.select(LeaveLedger.employee).where(
        (LeaveLedger.leave_type == leave_type.id) & (LeaveLedger.kind == kind) & (LeaveLedger.period == period))
    return [row[0] for row in Employee.select(Employee.id).where(
        (Employee.company == leave_type.company_id) & (Employee.status != "left") & (Employee.hire_date <= day)
        & Employee.id.not_in(done)).tuples()]


def _expire_over_cap(leave_type, year):
    """Entries that cut each balance at the start of `year` down to the type's cap."""
    start = dt.date(year, 1, 1)
    period = str(year)
    people = _accruing_people(leave_type, start, period, kind="expiry")
    if not people:
        return []
    sums = (LeaveLedger.select(LeaveLedger.employee, pw.fn.SUM(LeaveLedger.amount))
            .where((LeaveLedger.leave_type == leave_type.id) & (LeaveLedger.day < start)
                   & LeaveLedger.employee.in_(people))
            .group_by(LeaveLedger.employee).tuples())
    cap = leave_type.carry_over_cap
    return [{"employee": employee_id, "leave_type": leave_type.id, "day": start, "amount": cap - int(total),
             "kind": "expiry", "period": period, "note": "carry-over cap"}
            for employee_id, total in sums if int(total) > cap]


def accrue_leave(day=None):
    """Book what falls due on or before `day` (by default today) and is not booked yet:
    the month's accrual of monthly types, the year's of yearly types, and at the
    year's change the part of each balance above a type's carry-over cap expires.
    Safe to run again: every entry carries its period and is made once."""
    day = day or dt.date.today()
    month, year = f"{day:%Y-%m}", str(day.year)
    rows = []
    for leave_type in LeaveType.select().where(LeaveType.archived_at.is_null()):
        if leave_type.carry_over_cap is not None:
            rows += _expire_over_cap(leave_type, day.year)
        if leave_type.accrual == "none" or not leave_type.accrual_amount:
            continue
        period = month if leave_type.accrual == "monthly" else year
        first = day.replace(day=1) if leave_type.accrual == "monthly" else dt.date(day.year, 1, 1)
        rows += [{"employee": employee_id, "leave_type": leave_type.id, "day": first,
                  "amount": leave_type.accrual_amount, "kind": "accrual", "period": period, "note": ""}
                 for employee_id in _accruing_people(leave_type, day, period)]
    if rows:
        with database.atomic():
            for start in range(0, len(rows), 500):
                LeaveLedger.insert_many(rows[start:start + 500]).execute()
            record_event("time.leave_accrued", object_type="leave_ledger", label=day.isoformat(),
                         after={"day": day.isoformat(), "accrued": sum(r["kind"] == "accrual" for r in rows),
                                "expired": sum(r["kind"] == "expiry" for r in rows)})
    return {"accrued": sum(r["kind"] == "accrual" for r in rows), "expired": sum(r["kind"] == "expiry" for r in rows)}


@background_job("time.leave_accrual", _l("Accrue leave"))
def run_leave_accrual(progress, day=None):
    result = accrue_leave(dt.date.fromisoformat(day) if day else None)
    progress.update(1, 1, force=True)
    return result


# Accruals fall due with the date: the worker books them every morning (a missed day is caught up).
daily_leave_accrual = daily_job("time.leave_accrual", hour=0, minute=10)


# --- the team leave calendar ------------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarRow:
    employee: Employee
    cells: list  # one LeaveRequest or None per day


def team_calendar(actor, unit, first, last):
    """(days, rows) of the unit's leave from `first` to `last`: the working calendar
    (CalendarInfo per day) and, for each person in the unit and below who is in the
    actor's scope, the pending or approved leave on each day."""
    actor.require(TIME_VIEW, unit)
    days = working_calendar(unit, first, last)
    people = list(Employee.select().where(
        Employee.unit.in_(OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path)))
        & (Employee.status != "left") & employee_condition(actor.scope, TIME_VIEW))
        .order_by(Employee.legal_name))
    leave = list(LeaveRequest.select(LeaveRequest, LeaveType).join(LeaveType).where(
        LeaveRequest.employee.in_([p.id for p in people] or [0]) & LeaveRequest.state.in_(("pending", "approved"))
        & (LeaveRequest.start_date <= last) & (LeaveRequest.end_date >= first)))
    by_person = {}
    for request in leave:
        by_person.setdefault(request.employee_id, []).append(request)
    rows = []
    for person in people:
        cells = [None] * len(days)
        for request in by_person.get(person.id, ()):
            for index in range(max(0, (request.start_date - first).days),
                               min(len(days), (request.end_date - first).days + 1)):
                if cells[index] is None or request.state == "approved":
                    cells[index] = request
        rows.append(CalendarRow(person, cells))
    return days, rows
