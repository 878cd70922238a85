"""Clock in/out: punches from the portal, the allowed networks, the clock events
HR and leads read, and corrections, which are approval requests ("time.clock_correction"),
never edits. Device exports are imported by time.clock_import.

A punch must stay fast with tens of millions of events on record: it reads the
person's last event (index employee, at, kind, read backwards), their roster
around now (index employee, starts_at) and inserts one row — no scans.
"""
import datetime as dt
import ipaddress
import json
from dataclasses import dataclass

from flask import has_request_context, request
from flask_babel import format_datetime, format_time, gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, TextAreaField, TimeField
from wtforms.validators import Optional

from portal.approvals.kinds import MAX_REASON_LENGTH, Draft, RequestKind, register_kind, request_reason
from portal.approvals.models import ApprovalRequest
from portal.core.audit import declare_actions, record_event
from portal.core.db import PreparedSelect, database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.forms import REQUIRED, SelectField, max_length
from portal.org.models import OrgUnit
from portal.people.models import Employee
from portal.people.permissions import employee_condition
from portal.time.models import ClockEvent, RosterEntry, ShiftType
from portal.time.permissions import TIME_ROSTER, TIME_VIEW
from portal.time.services import company_zone, employee_of, local_instant, time_policy, to_local

DOUBLE_TAP_SECONDS = 60  # the same button again within this: a double submit, not a new punch
OPEN_IN_HOURS = 16  # an "in" older than this (without a shift to tie it to) was never closed
MAX_SHIFT_HOURS = 26  # longest shift looked back for (a 24-hour shift across a DST change)
EVENTS_PER_PAGE = 100
CORRECTION_DAYS_BACK = 62  # how far back a punch may be added or voided

EVENT_LABELS = {"in": _l("In"), "out": _l("Out")}
SOURCE_LABELS = {"portal": _l("Portal"), "device": _l("Device"), "correction": _l("Correction")}

declare_actions({
    "time.clocked_in": _l("Clocked in"),
    "time.clocked_out": _l("Clocked out"),
    "time.clock_event_added": _l("Clock event added by a correction"),
    "time.clock_event_voided": _l("Clock event voided by a correction"),
    "time.clock_imported": _l("Clock events imported"),
})


# --- shifts and state ---------------------------------------------------------------------------

# The queries of every punch, their SQL written once (core.db.PreparedSelect: peewee would take
# longer to write them than the database takes to answer).
_PERSON, _FROM, _UNTIL = -918273001, dt.datetime(1, 2, 3, 4, 5, 6, 7), dt.datetime(1, 2, 3, 4, 5, 6, 8)
_SHIFTS_AROUND = PreparedSelect(
    lambda person, since, until: (RosterEntry.select(RosterEntry, ShiftType).join(ShiftType)
                                  .where((RosterEntry.employee == person) & (RosterEntry.starts_at >= since)
                                         & (RosterEntry.starts_at < until)).order_by(RosterEntry.starts_at)),
    _PERSON, _FROM, _UNTIL)
_LAST_EVENT = PreparedSelect(
    lambda person: (ClockEvent.select().where((ClockEvent.employee == person) & ClockEvent.voided_by.is_null())
                    .order_by(ClockEvent.at.desc()).limit(1)),
    _PERSON)
_EVENTS_BETWEEN = PreparedSelect(
    lambda person, since, until: (ClockEvent.select().where((ClockEvent.employee == person)
                                                            & (ClockEvent.at >= since) & (ClockEvent.at < until))
                                  .order_by(ClockEvent.at)),
    _PERSON, _FROM, _UNTIL)


@dataclass(frozen=True)
class ClockState:
    """Where a person stands: their current or next shift (a RosterEntry with its
    shift type, or None), their last valid event, and the kind the next punch is."""

    employee: object
    shift: object
    last: object
    next_kind: str
    zone: object
    now: dt.datetime


def current_shift(employee, now=None, policy=None):
    """The person's roster entry whose window (start − clock window … end + window)
    holds `now`, else their next one starting later on the same local day; None if neither."""
    now = now or utcnow()
    policy = policy or time_policy(employee.company)
    window = dt.timedelta(minutes=policy.clock_window_minutes)
    zone = company_zone(employee.company)
    local_now = to_local(zone, now)
    end_of_day = local_instant(zone, local_now.date() + dt.timedelta(days=1), 0)
    # One range on the (employee, starts_at) index: shifts that can hold now, and the rest of today.
    entries = list(_SHIFTS_AROUND.rows(employee.id, now - window - dt.timedelta(hours=MAX_SHIFT_HOURS),
                                       max(end_of_day, now + window)))
    holding = [e for e in entries if e.starts_at - window <= now <= e.ends_at + window]
    if holding:
        # Back to back, both windows hold now: the one actually running, else the nearer one.
        return min(holding, key=lambda e: (not e.starts_at <= now <= e.ends_at,
                                           min(abs((e.starts_at - now).total_seconds()),
                                               abs((e.ends_at - now).total_seconds()))))
    return next((e for e in entries if e.starts_at > now and e.starts_at < end_of_day), None)


def last_event(employee_id):
    """The person's latest event not voided: the index read backwards, stopping at the first."""
    return _LAST_EVENT.first(employee_id)


def next_kind(last, shift, now, policy):
    """"out" while an "in" is open, else "in". While a shift's window is open, an "in" is
    open when it was made inside that window; otherwise (no shift, or the next one's window
    not open yet) when it is under OPEN_IN_HOURS old. A clock-out forgotten yesterday must
    not turn today's first tap into a clock-out, and an "in" hours before the next shift
    (unscheduled work) must still be closable."""
    if last is None or last.kind != "in":
        return "in"
    if shift is not None:
        opened = shift.starts_at - dt.timedelta(minutes=policy.clock_window_minutes)
        if now >= opened:
            return "out" if last.at >= opened else "in"
    return "out" if now - last.at < dt.timedelta(hours=OPEN_IN_HOURS) else "in"


def clock_state(employee, now=None, policy=None):
    now = now or utcnow()
    policy = policy or time_policy(employee.company)
    shift = current_shift(employee, now, policy)
    last = last_event(employee.id)
    return ClockState(employee, shift, last, next_kind(last, shift, now, policy), company_zone(employee.company), now)


def todays_events(employee, now=None):
    """The person's events of the local day of `now`, oldest first (voided ones too, marked)."""
    now = now or utcnow()
    zone = company_zone(employee.company)
    day = to_local(zone, now).date()
    return list(_EVENTS_BETWEEN.rows(employee.id, local_instant(zone, day, 0),
                                     local_instant(zone, day + dt.timedelta(days=1), 0)))


# --- allowed networks ---------------------------------------------------------------------------

def parse_networks(text):
    """The CIDR blocks of a policy's `allowed_networks` (one per line, # comments);
    ServiceError naming the first line that is not one."""
    networks = []
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            raise ServiceError(_("“%(value)s” is not a network such as 10.0.0.0/8 or 192.168.1.20.", value=line),
                               field="allowed_networks") from None
    return networks


def address_allowed(policy, address):
    """Whether a punch from `address` is allowed: anywhere when the policy names no networks."""
    networks = parse_networks(policy.allowed_networks)
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


# --- punching -------------------------------------------------------------------------------------

def punch(actor, kind=None, address="", now=None):
    """Clock the actor's own person in or out. `kind` is what the button showed ("in",
    "out"; None: whatever is due); a second tap of the same button within a minute is
    refused as a double submit, a stale button as such. Returns the person's ClockState
    after the punch: its `last` is the event just recorded."""
    employee = employee_of(actor.user)
    if employee is None:
        raise ServiceError(_("Your account has no employee record, so there is nothing to clock."))
    if kind not in (None, "in", "out"):
        raise ServiceError(_("Choose clock in or clock out."))
    policy = time_policy(employee.company)
    if not address_allowed(policy, address):
        raise ServiceError(_("You can clock in and out only from your company's network. This device's address "
                             "(%(address)s) is outside it: connect to the office network and try again.",
                             address=address or "?"))
    zone = company_zone(employee.company)
    with database.atomic():  # SQLite's BEGIN IMMEDIATE: two taps at once are taken one after the other
        now = now or utcnow()
        shift = current_shift(employee, now, policy)
        last = last_event(employee.id)
        due = next_kind(last, shift, now, policy)
        if kind is not None and kind != due:
            if last is not None and last.kind == kind and now - last.at < dt.timedelta(seconds=DOUBLE_TAP_SECONDS):
                at = format_time(to_local(zone, last.at), "short")
                raise ServiceError(_("Already recorded: you clocked in at %(time)s.", time=at) if kind == "in"
                                   else _("Already recorded: you clocked out at %(time)s.", time=at))
            raise ServiceError(_("Your clock changed meanwhile (perhaps on another device). Check the times below "
                                 "and tap again if you still need to."))
        event = ClockEvent.create(employee=employee, at=now, kind=due, source="portal",
                                  address=(address or "")[:45], created_at=now)
        record_event("time.clocked_in" if due == "in" else "time.clocked_out", object_type="clock_event",
                     object_id=event.id, label=employee.display_name, unit=employee.unit_id, actor=actor.user,
                     after={"at": now.isoformat(), "kind": due, "address": event.address,
                            "shift": shift.id if shift else None})
    return ClockState(employee, shift, event, next_kind(event, shift, now, policy), zone, now)


# --- clock events for HR and leads --------------------------------------------------------------

def _units_under(unit):
    return OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))


def clock_events(actor, unit=None, day=None, employee=None, page=1, per_page=EVENTS_PER_PAGE):
    """Events in the actor's scope (time.view) on local `day` (the unit's company's
    zone): of the people whose home unit is `unit` or below it, or of one `employee`.
    Returns (rows, has_next); each row is a ClockEvent with its employee attached."""
    query = (ClockEvent.select(ClockEvent, Employee).join(Employee, on=(ClockEvent.employee == Employee.id))
             .where(employee_condition(actor.scope, TIME_VIEW)))
    if employee is not None:
        query = query.where(ClockEvent.employee == employee.id)
    if unit is not None:
        query = query.where(Employee.unit.in_(_units_under(unit)))
    if day is not None:
        zone = company_zone(unit if unit is not None else employee.company)
        query = query.where((ClockEvent.at >= local_instant(zone, day, 0))
                            & (ClockEvent.at < local_instant(zone, day + dt.timedelta(days=1), 0)))
    rows = list(query.order_by(ClockEvent.at.desc(), ClockEvent.id.desc())
                .offset((page - 1) * per_page).limit(per_page + 1))
    return rows[:per_page], len(rows) > per_page


def employee_in_scope(actor, employee_id, permission=TIME_VIEW):
    """The person, if in the actor's scope for `permission`; NotInScope (404) otherwise."""
    employee = Employee.select().where((Employee.id == employee_id)
                                       & employee_condition(actor.scope, permission)).first()
    if employee is None:
        raise NotInScope(permission)
    return employee


# --- corrections (approval kind "time.clock_correction") -------------------------------------------

CORRECTION_ACTIONS = {"add": _l("Add a missing punch"), "void": _l("Void a wrong punch")}


class CorrectionForm(FlaskForm):
    action = SelectField(_l("What is wrong"), choices=[SelectChoice(k, v) for k, v in CORRECTION_ACTIONS.items()],
                         default="add", validators=[REQUIRED])
    day = DateField(_l("Day of the missing punch"), validators=[Optional()])
    time = TimeField(_l("Time (local)"), validators=[Optional()])
    kind = SelectField(_l("Missing punch"), choices=[SelectChoice(k, v) for k, v in EVENT_LABELS.items()],
                       default="in", validators=[Optional()])
    event = SelectField(_l("Or the wrong punch to void"), coerce=lambda v: int(v) if str(v or "").isdigit() else None,
                        validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[REQUIRED, max_length(MAX_REASON_LENGTH)])


def correction_subject(actor, args):
    """Whose punches: ?employee= names a person the actor keeps the roster of (a lead,
    HR), else the actor's own record; anyone else answers 404."""
    raw = (args or {}).get("employee")
    own = employee_of(actor.user)
    if raw in (None, ""):
        if own is None:
            raise NotInScope("employee")
        return own
    try:
        employee_id = int(raw)
    except (TypeError, ValueError):
        raise NotInScope("employee") from None
    if own is not None and own.id == employee_id:
        return own
    return employee_in_scope(actor, employee_id, TIME_ROSTER)


def _voidable_events(employee):
    since = utcnow() - dt.timedelta(days=CORRECTION_DAYS_BACK)
    return list(ClockEvent.select().where((ClockEvent.employee == employee.id) & (ClockEvent.at >= since)
                                          & ClockEvent.voided_by.is_null())
                .order_by(ClockEvent.at.desc()).limit(200))


def _event_label(event, zone):
    return f"{format_datetime(to_local(zone, event.at), 'short')} · {EVENT_LABELS[event.kind]} · " \
           f"{SOURCE_LABELS.get(event.source, event.source)}"


def correction_form(employee, formdata=None, args=None):
    zone = company_zone(employee.company)
    form = CorrectionForm(formdata=formdata)
    form.event.choices = [SelectChoice("", _("Choose a punch"))] + [
        SelectChoice(e.id, _event_label(e, zone)) for e in _voidable_events(employee)]
    wanted = (args or {}).get("event")
    if formdata is None and wanted and str(wanted).isdigit():
        form.action.data, form.event.data = "void", int(wanted)
    return form


def _pending_corrections(employee):
    rows = (ApprovalRequest.select(ApprovalRequest.payload)
            .where((ApprovalRequest.kind == "time.clock_correction") & (ApprovalRequest.state == "pending")
                   & (ApprovalRequest.subject_type == Employee._meta.table_name)
                   & (ApprovalRequest.subject_id == employee.id)).tuples())
    return [json.loads(payload) for (payload,) in rows]


def draft_correction(actor, employee, values, now=None):
    """A Draft asking to add a missing punch (local day + time, in/out) or to void one."""
    now = now or utcnow()
    employee = correction_subject(actor, {"employee": employee.id})
    zone = company_zone(employee.company)
    action = values.get("action")
    payload = {"employee": employee.id, "name": employee.display_name, "number": employee.number, "action": action}
    if action == "add":
        day, time, kind = values.get("day"), values.get("time"), values.get("kind")
        if day is None:
            raise ServiceError(_("Enter the day of the missing punch."), field="day")
        if time is None:
            raise ServiceError(_("Enter the time of the missing punch."), field="time")
        if kind not in EVENT_LABELS:
            raise ServiceError(_("Choose in or out."), field="kind")
        at = local_instant(zone, day, time.hour * 60 + time.minute)
        if at > now:
            raise ServiceError(_("A punch cannot be added in the future."), field="time")
        if at < now - dt.timedelta(days=CORRECTION_DAYS_BACK):
            raise ServiceError(_("Punches older than %(days)s days cannot be corrected here: ask your HR.",
                                 days=CORRECTION_DAYS_BACK), field="day")
        if ClockEvent.get_or_none((ClockEvent.employee == employee.id) & (ClockEvent.at == at)
                                  & (ClockEvent.kind == kind) & ClockEvent.voided_by.is_null()):
            raise ServiceError(_("This punch is already recorded."), field="time")
        if any(p.get("action") == "add" and p.get("at") == at.isoformat() and p.get("kind") == kind
               for p in _pending_corrections(employee)):
            raise ServiceError(_("The same correction is already waiting for approval."), field="time")
        payload.update(at=at.isoformat(), kind=kind)
    elif action == "void":
        event = ClockEvent.get_or_none((ClockEvent.id == (values.get("event") or 0))
                                       & (ClockEvent.employee == employee.id))
        if event is None or event.voided_by_id is not None:
            raise ServiceError(_("Choose one of the punches in the list."), field="event")
        if any(p.get("action") == "void" and p.get("event") == event.id for p in _pending_corrections(employee)):
            raise ServiceError(_("Voiding this punch is already waiting for approval."), field="event")
        payload.update(event=event.id, at=event.at.isoformat(), kind=event.kind, source=event.source)
    else:
        raise ServiceError(_("Choose what is wrong."), field="action")
    return Draft(unit=employee.unit, subject=employee, title=f"{employee.display_name} ({employee.number})",
                 payload=payload, reason=request_reason(values), effective_date=dt.date.fromisoformat(payload["at"][:10]))


def apply_correction(actor, request, payload):
    """The approved correction: a new event with source "correction", or the wrong one
    marked voided by this request. Checked again: the punches may have changed meanwhile."""
    employee = Employee.get_or_none(Employee.id == payload["employee"])
    if employee is None:
        raise ServiceError(_("The person's record no longer exists. Reject the request."))
    at = dt.datetime.fromisoformat(payload["at"])
    if payload["action"] == "add":
        if ClockEvent.get_or_none((ClockEvent.employee == employee.id) & (ClockEvent.at == at)
                                  & (ClockEvent.kind == payload["kind"])):
            raise ServiceError(_("This punch has been recorded meanwhile. Reject the request."))
        event = ClockEvent.create(employee=employee.id, at=at, kind=payload["kind"], source="correction",
                                  request=request.id)
        record_event("time.clock_event_added", object_type="clock_event", object_id=event.id,
                     label=employee.display_name, unit=employee.unit_id, actor=actor.user,
                     after={"at": payload["at"], "kind": payload["kind"], "request": request.id})
        return event
    voided = (ClockEvent.update(voided_by=request.id)
              .where((ClockEvent.id == payload["event"]) & (ClockEvent.employee == employee.id)
                     & ClockEvent.voided_by.is_null()).execute())
    if not voided:
        raise ServiceError(_("This punch has been removed or voided meanwhile. Reject the request."))
    record_event("time.clock_event_voided", object_type="clock_event", object_id=payload["event"],
                 label=employee.display_name, unit=employee.unit_id, actor=actor.user,
                 before={"voided_by": None}, after={"voided_by": request.id})
    return ClockEvent.get_by_id(payload["event"])


def describe_correction(request, payload):
    employee = Employee.get_or_none(Employee.id == payload["employee"])
    zone = company_zone(employee.company) if employee else dt.timezone.utc
    when = format_datetime(to_local(zone, dt.datetime.fromisoformat(payload["at"])), "medium")
    rows = [(_("Person"), f"{payload['name']} ({payload['number']})"),
            (_("Correction"), str(CORRECTION_ACTIONS.get(payload["action"], payload["action"]))),
            (_("Punch"), f"{EVENT_LABELS[payload['kind']]} · {when}")]
    if payload["action"] == "void":
        rows.append((_("Source"), str(SOURCE_LABELS.get(payload.get("source"), payload.get("source")))))
    return rows


def _request_args():
    """The query of the request form's page: ?event= preselects the punch to void."""
    return request.args if has_request_context() else {}


register_kind(RequestKind(
    key="time.clock_correction",
    label=_l("Clock correction"),
    default_chain=("team_lead",),
    load_subject=correction_subject,
    form=lambda employee, formdata=None: correction_form(employee, formdata, _request_args()),
    draft=draft_correction,
    apply=apply_correction,
    describe=describe_correction,
    intro=_l("A missing clock-in or clock-out is added, or a wrong one voided, once your team lead approves. "
             "Recorded punches are never changed."),
    subject_args=("employee", "event"),
))
