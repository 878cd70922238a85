"""Shift types, rosters, rotations, shift swaps and handover notes.

A roster is a unit's (team's) list of RosterEntry rows: one person on one shift
on one local day. Every way of writing entries (a cell, a week copy, a rotation,
a swap) goes through `_replace_entries`, which refuses the whole change when a
person would work overlapping shifts, rest less than the company's minimum, or
work on a day of approved leave (time.engine.roster_conflicts).
"""
import datetime as dt
import json
import re
from dataclasses import dataclass, field

import numpy as np
import peewee as pw
from flask_babel import format_date, format_decimal, format_time, gettext as _, lazy_gettext as _l, ngettext

from portal.approvals.kinds import Draft, RequestKind, register_kind
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import declare_notifications, notify, portal_path
from portal.core.audit import declare_actions, record_event
from portal.core.db import chunked_insert, database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.org.models import OrgUnit
from portal.people.models import Assignment, Employee
from portal.time import engine
from portal.time.models import HandoverNote, Rotation, RotationMember, RosterEntry, ShiftType
from portal.time.permissions import TIME_ROSTER, TIME_VIEW
from portal.time.services import (
    company_of, company_zone, employee_of, leave_overlapping, shift_bounds, time_policy, to_local, working_calendar,
)

declare_actions({
    "time.shift_type_created": _l("Shift type created"),
    "time.shift_type_changed": _l("Shift type changed"),
    "time.shift_type_archived": _l("Shift type archived"),
    "time.roster_changed": _l("Roster changed"),
    "time.week_copied": _l("Roster week copied"),
    "time.week_cleared": _l("Roster week cleared"),
    "time.rotation_saved": _l("Rotation saved"),
    "time.rotation_generated": _l("Roster generated from a rotation"),
    "time.swap_applied": _l("Shift swap applied"),
    "time.handover_written": _l("Handover note written"),
})

declare_notifications({
    "time.rotation_generated": _l("Your roster in %(unit)s from %(start_date)s to %(end_date)s was updated "
                                  "(rotation %(rotation)s)."),
    "time.shift_swapped": _l("Your shift on %(date)s in %(unit)s changed after an approved swap: %(summary)s."),
    "time.shift_swap.submitted": _l("%(name)s asks to swap the shift on %(date)s with you."),
})

# The colours a shift type may have. A cell's colour is a class (the CSP allows no
# inline style), so the choice is one of these.
SHIFT_COLOURS = ("#4c7bd9", "#2e9d6a", "#e0a030", "#d9534f", "#8e5bd9", "#17a2b8", "#6c757d", "#c2185b",
                 "#795548", "#1f3a93")
SHIFT_COLOUR_NAMES = (_l("Blue"), _l("Green"), _l("Amber"), _l("Red"), _l("Purple"), _l("Teal"), _l("Grey"),
                      _l("Pink"), _l("Brown"), _l("Navy"))
OFF_TOKENS = ("off", "-", "休", "frei", "休み")
MAX_PATTERN_DAYS = 56
MAX_GENERATION_DAYS = 186
MAX_NOTE_LENGTH = 2000
CONFLICTS_SHOWN = 10
MY_ROSTER_DAYS = 21
WEEK = dt.timedelta(days=7)
DAY = dt.timedelta(days=1)


def colour_class(colour):
    """The CSS class showing a shift type's colour."""
    return f"shift-colour-{SHIFT_COLOURS.index(colour) if colour in SHIFT_COLOURS else 0}"


# --- shift types ----------------------------------------------------------------------------

def shift_types_of(company, archived=False):
    query = ShiftType.select().where(ShiftType.company == company_of(company).id)
    if not archived:
        query = query.where(ShiftType.archived_at.is_null())
    return list(query.order_by(ShiftType.start_minute, ShiftType.code))


def shift_accounts(shift_type):
    return json.loads(shift_type.cs_accounts or "[]")


def _minute(value, field_name):
    if not isinstance(value, dt.time):
        raise ServiceError(_("Enter a time such as 08:30."), field=field_name)
    return value.hour * 60 + value.minute


def _shift_type_values(company, values, shift_type=None):
    code = (values.get("code") or "").strip()
    name = (values.get("name") or "").strip()
    if not code or len(code) > 16:
        raise ServiceError(_("Enter a code of at most 16 characters."), field="code")
    if not name or len(name) > 80:
        raise ServiceError(_("Enter a name of at most 80 characters."), field="name")
    taken = ShiftType.select().where((ShiftType.company == company.id) & (ShiftType.code == code))
    if shift_type is not None:
        taken = taken.where(ShiftType.id != shift_type.id)
    if taken.exists():
        raise ServiceError(_("%(company)s already has a shift type with the code %(code)s.", company=company.name,
                             code=code), field="code")
    start, end = _minute(values.get("start"), "start"), _minute(values.get("end"), "end")
    if start == end:
        raise ServiceError(_("A shift cannot end at the time it starts."), field="end")
    span = (end - start) % 1440
    break_minutes, grace_minutes = values.get("break_minutes") or 0, values.get("grace_minutes") or 0
    if not 0 <= break_minutes < span:
        raise ServiceError(_("The break must be shorter than the shift."), field="break_minutes")
    if not 0 <= grace_minutes <= 240:
        raise ServiceError(_("Enter a grace time from 0 to 240 minutes."), field="grace_minutes")
    colour = values.get("color") or SHIFT_COLOURS[0]
    if colour not in SHIFT_COLOURS:
        raise ServiceError(_("Choose a colour from the list."), field="color")
    accounts = values.get("cs_accounts") or ""
    if isinstance(accounts, str):
        accounts = [part for part in re.split(r"[\s,，、;]+", accounts) if part]
    return {"code": code, "name": name, "start_minute": start, "end_minute": end, "break_minutes": break_minutes,
            "grace_minutes": grace_minutes, "color": colour,
            "cs_accounts": json.dumps(sorted(set(accounts)), ensure_ascii=False)}


def create_shift_type(actor, company, values):
    """A new shift type of `company`: code, name, start and end (dt.time; an end at or
    before the start ends the next day), break and grace minutes, colour, and the
    CS account codes it staffs."""
    company = company_of(company)
    actor.require(TIME_ROSTER, company)
    fields = _shift_type_values(company, values)
    with database.atomic():
        shift_type = ShiftType.create(company=company, **fields)
        record_event("time.shift_type_created", shift_type, unit=company, actor=actor.user, after=fields)
    return shift_type


def update_shift_type(actor, shift_type, values, version):
    """Change a shift type. Entries already rostered keep their instants."""
    company = company_of(shift_type.company)
    actor.require(TIME_ROSTER, company)
    fields = _shift_type_values(company, values, shift_type)
    before = {name: getattr(shift_type, name) for name in fields}
    with database.atomic():
        changed = (ShiftType.update(version=ShiftType.version + 1, **fields)
                   .where((ShiftType.id == shift_type.id) & (ShiftType.version == version)).execute())
        if not changed:
            raise ServiceError(_("Someone else changed this shift type meanwhile. Reload the page and try again."))
        record_event("time.shift_type_changed", shift_type, unit=company, actor=actor.user, before=before,
                     after=fields)
    return ShiftType.get_by_id(shift_type.id)


def archive_shift_type(actor, shift_type):
    """Retire a shift type: it stays on past rosters but can no longer be chosen."""
    company = company_of(shift_type.company)
    actor.require(TIME_ROSTER, company)
    with database.atomic():
        ShiftType.update(archived_at=utcnow(), version=ShiftType.version + 1).where(
            ShiftType.id == shift_type.id).execute()
        record_event("time.shift_type_archived", shift_type, unit=company, actor=actor.user)
    return ShiftType.get_by_id(shift_type.id)


# --- conflicts --------------------------------------------------------------------------------------

class RosterConflict(ServiceError):
    """A roster change refused for conflicts; `conflicts` lists them all."""

    def __init__(self, conflicts):
        shown = conflicts[0] if len(conflicts) == 1 else ngettext(
            "%(first)s (and %(num)s more conflict)", "%(first)s (and %(num)s more conflicts)", len(conflicts) - 1,
            first=conflicts[0])
        super().__init__(shown)
        self.conflicts = conflicts


def _shift_label(shift_type, day):
    return _("%(shift)s on %(day)s", shift=shift_type.name, day=format_date(day))


def _hours(seconds):
    return _("%(hours)s h", hours=format_decimal(round(seconds / 3600, 1)))


def find_conflicts(rows, removed_ids=(), min_rest_minutes=None):
    """Messages for the conflicts that the new entries `rows` (dicts with employee,
    day, starts_at, ends_at, shift_type: the ShiftType row, company) would cause with
    each other and with the people's other entries in every unit (without those of
    `removed_ids`, which the change replaces)."""
    if not rows:
        return []
    employee_ids = sorted({row["employee"] for row in rows})
    low = min(row["starts_at"] for row in rows) - 2 * DAY
    high = max(row["ends_at"] for row in rows) + 2 * DAY
    existing = list(RosterEntry.select(RosterEntry, ShiftType).join(ShiftType)
                    .where(RosterEntry.employee.in_(employee_ids) & (RosterEntry.starts_at < high)
                           & (RosterEntry.ends_at > low) & RosterEntry.id.not_in(list(removed_ids) or [0])))
    shifts = [(row["employee"], row["day"], row["starts_at"], row["ends_at"], row["shift_type"]) for row in rows]
    shifts += [(e.employee_id, e.day, e.starts_at, e.ends_at, e.shift_type) for e in existing]
    if min_rest_minutes is None:
        min_rest_minutes = time_policy(OrgUnit.get_by_id(rows[0]["company"])).min_rest_minutes
    leave_keys = [_day_key(request.employee_id, request.start_date + offset * DAY)
                  for request in leave_overlapping(employee_ids, low.date(), high.date())
                  for offset in range((request.end_date - request.start_date).days + 1)]
    kinds, shift_rows, other_rows = engine.roster_conflicts(
        np.array([s[0] for s in shifts], dtype=np.int64),
        np.array([s[2] for s in shifts], dtype="datetime64[s]"),
        np.array([s[3] for s in shifts], dtype="datetime64[s]"),
        np.arange(len(shifts)) < len(rows), min_rest_minutes * 60,
        np.array([_day_key(s[0], s[1]) for s in shifts], dtype=np.int64), np.array(leave_keys, dtype=np.int64))
    if not kinds.size:
        return []
    names = {person.id: person.display_name for person in Employee.select(
        Employee.id, Employee.preferred_name, Employee.legal_name).where(Employee.id.in_(employee_ids))}
    messages = []
    for kind, index, other in zip(kinds.tolist(), shift_rows.tolist(), other_rows.tolist()):
        person, day, starts_at, _ends, shift_type = shifts[index]
        this = _shift_label(shift_type, day)
        if kind == engine.CONFLICT_LEAVE:
            messages.append(_("%(name)s is on approved leave on %(day)s and cannot work %(shift)s.",
                              name=names[person], day=format_date(day), shift=this))
            continue
        other_shift = shifts[other]
        that = _shift_label(other_shift[4], other_shift[1])
        if kind == engine.CONFLICT_OVERLAP:
            messages.append(_("%(name)s: %(shift)s overlaps %(other)s.", name=names[person], shift=this, other=that))
        else:
            gap = (starts_at - other_shift[3]).total_seconds()
            messages.append(_("%(name)s: %(shift)s starts only %(gap)s after %(other)s ends; at least %(rest)s of "
                              "rest are required.", name=names[person], shift=this, gap=_hours(gap), other=that,
                              rest=_hours(min_rest_minutes * 60)))
    return messages


def _day_key(employee_id, day):
    return employee_id * 1_000_000 + day.toordinal()


def _replace_entries(removed_ids, rows, min_rest_minutes=None):
    """Delete the entries `removed_ids` and insert `rows`, or refuse both for conflicts.
    Runs inside the caller's transaction."""
    conflicts = find_conflicts(rows, removed_ids, min_rest_minutes)
    if conflicts:
        raise RosterConflict(conflicts)
    if removed_ids:
        RosterEntry.delete().where(RosterEntry.id.in_(list(removed_ids))).execute()
    now = utcnow()
    chunked_insert(RosterEntry, [{**{k: v for k, v in row.items() if k != "shift_type"},
                                  "shift_type": row["shift_type"].id, "created_at": now} for row in rows])


def entry_row(unit, employee_id, day, shift_type, zone, source="manual", rotation=None, user=None):
    """The fields of a roster entry of `employee_id` on `shift_type` on local `day`."""
    starts_at, ends_at = shift_bounds(shift_type, day, zone)
    return {"employee": employee_id, "unit": unit.id, "company": company_of(unit).id, "day": day,
            "shift_type": shift_type, "starts_at": starts_at, "ends_at": ends_at,
            "break_minutes": shift_type.break_minutes, "source": source,
            "rotation": rotation.id if rotation is not None else None, "created_by": user.id if user else None}


# --- reading a roster ----------------------------------------------------------------------------------

def week_bounds(year, week):
    monday = dt.date.fromisocalendar(year, week, 1)
    return monday, monday + 6 * DAY


def roster_people(unit, start, end):
    """The people on the unit's roster from `start` to `end`: those with an assignment
    in the unit during the period, and anyone rostered there meanwhile."""
    assigned = (Assignment.select(Assignment.employee).where(
        (Assignment.unit == unit.id) & (Assignment.start_date <= end)
        & (Assignment.end_date.is_null() | (Assignment.end_date >= start))))
    rostered = RosterEntry.select(RosterEntry.employee).where(
        (RosterEntry.unit == unit.id) & RosterEntry.day.between(start, end))
    return list(Employee.select().where(Employee.id.in_(assigned) | Employee.id.in_(rostered))
                .order_by(Employee.legal_name, Employee.id))


@dataclass
class RosterGrid:
    """A unit's roster for the days `start`…`end`: `cells` maps (employee id, day) to
    entries, `leave` (employee id, day) to the approved leave request, `notes` a day
    to its handover notes' count."""

    unit: object
    start: dt.date
    end: dt.date
    days: list
    people: list
    cells: dict = field(default_factory=dict)
    leave: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)


def roster_grid(unit, start, end):
    people = roster_people(unit, start, end)
    grid = RosterGrid(unit, start, end, working_calendar(unit, start, end), people)
    for entry in (RosterEntry.select(RosterEntry, ShiftType).join(ShiftType)
                  .where((RosterEntry.unit == unit.id) & RosterEntry.day.between(start, end))
                  .order_by(RosterEntry.starts_at)):
        grid.cells.setdefault((entry.employee_id, entry.day), []).append(entry)
    for request in leave_overlapping([p.id for p in people], start, end):
        day = max(request.start_date, start)
        while day <= min(request.end_date, end):
            grid.leave[(request.employee_id, day)] = request
            day += DAY
    grid.notes = dict(HandoverNote.select(HandoverNote.day, pw.fn.COUNT(HandoverNote.id)).where(
        (HandoverNote.unit == unit.id) & HandoverNote.day.between(start, end)).group_by(HandoverNote.day).tuples())
    return grid


def cell_entries(unit, employee, day):
    return list(RosterEntry.select(RosterEntry, ShiftType).join(ShiftType)
                .where((RosterEntry.unit == unit.id) & (RosterEntry.employee == employee.id)
                       & (RosterEntry.day == day)).order_by(RosterEntry.starts_at))


def shift_times(entry):
    """(local start, local end) of an entry as times, in its company's zone."""
    zone = company_zone(entry.unit)
    return (format_time(to_local(zone, entry.starts_at).replace(tzinfo=None).time(), "short", rebase=False),
            format_time(to_local(zone, entry.ends_at).replace(tzinfo=None).time(), "short", rebase=False))


@dataclass(frozen=True)
class MyShift:
    entry: object
    unit: object
    starts: str
    ends: str
    future: bool


def my_roster(employee, now=None, days=MY_ROSTER_DAYS):
    """The person's shifts from today (in their company's zone) for `days` days, in
    every unit, with local start and end times."""
    now = now or utcnow()
    if employee is None:
        return []
    today = to_local(company_zone(employee.company), now).date()
    entries = (RosterEntry.select(RosterEntry, ShiftType, OrgUnit).join(ShiftType).switch(RosterEntry)
               .join(OrgUnit, on=(RosterEntry.unit == OrgUnit.id))
               .where((RosterEntry.employee == employee.id) & RosterEntry.day.between(today, today + (days - 1) * DAY))
               .order_by(RosterEntry.starts_at))
    return [MyShift(entry, entry.unit, *shift_times(entry), entry.starts_at > now) for entry in entries]


def handover_for(employee, shifts, now=None, limit=10):
    """The handover notes for the person's next shift: those left in its unit since
    the day before it, up to its start (or, with no shift coming, in their own unit
    over the last day)."""
    now = now or utcnow()
    if employee is None:
        return []
    upcoming = next((shift for shift in shifts if shift.entry.ends_at > now), None)
    if upcoming is not None:
        unit_id, since, until = upcoming.unit.id, upcoming.entry.day - DAY, min(upcoming.entry.starts_at, now)
    else:
        unit_id, since, until = employee.unit_id, (now - DAY).date(), now
    return list(HandoverNote.select(HandoverNote, ShiftType).join(ShiftType, join_type=pw.JOIN.LEFT_OUTER)
                .where((HandoverNote.unit == unit_id) & (HandoverNote.day >= since)
                       & (HandoverNote.created_at <= until))
                .order_by(HandoverNote.created_at.desc()).limit(limit))


# --- writing a roster ---------------------------------------------------------------------------------

def _person_on_roster(unit, employee_id, start, end):
    """The person, if they are on the unit's roster in the period; NotInScope otherwise."""
    if employee_id not in {person.id for person in roster_people(unit, start, end)}:
        raise NotInScope("employee")
    return Employee.get_by_id(employee_id)


def _usable_shift_type(unit, shift_type):
    if shift_type.company_id != company_of(unit).id or shift_type.archived_at is not None:
        raise ServiceError(_("Choose one of the company's current shift types."), field="shift_type")
    return shift_type


def set_roster_cell(actor, unit, employee_id, day, shift_type):
    """Roster the person on `shift_type` on `day` in the unit, replacing what the cell
    held there (None clears it). Returns the cell's entries."""
    actor.require(TIME_ROSTER, unit)
    employee = _person_on_roster(unit, employee_id, day, day)
    with database.atomic():
        old = cell_entries(unit, employee, day)
        rows = [] if shift_type is None else [entry_row(unit, employee.id, day, _usable_shift_type(unit, shift_type),
                                                        company_zone(unit), user=actor.user)]
        _replace_entries([entry.id for entry in old], rows)
        record_event("time.roster_changed", object_type="roster_entry", object_id=f"{employee.id}:{day}",
                     label=f"{employee.display_name} · {day.isoformat()}", unit=unit, actor=actor.user,
                     before={"shifts": [entry.shift_type.code for entry in old]},
                     after={"shifts": [row["shift_type"].code for row in rows]})
    return cell_entries(unit, employee, day)


def copy_previous_week(actor, unit, monday):
    """Copy the unit's roster of the week before into the week starting `monday`,
    replacing that week's entries. Returns how many entries it holds now."""
    actor.require(TIME_ROSTER, unit)
    zone = company_zone(unit)
    source = list(RosterEntry.select(RosterEntry, ShiftType).join(ShiftType).where(
        (RosterEntry.unit == unit.id) & RosterEntry.day.between(monday - WEEK, monday - DAY)))
    with database.atomic():
        removed = [pk for (pk,) in RosterEntry.select(RosterEntry.id).where(
            (RosterEntry.unit == unit.id) & RosterEntry.day.between(monday, monday + 6 * DAY)).tuples()]
        rows = [entry_row(unit, entry.employee_id, entry.day + WEEK, entry.shift_type, zone, user=actor.user)
                for entry in source]
        _replace_entries(removed, rows)
        record_event("time.week_copied", unit, unit=unit, actor=actor.user,
                     after={"week": monday.isoformat(), "removed": len(removed), "copied": len(rows)})
    return len(rows)


def clear_week(actor, unit, monday):
    """Remove every entry of the unit's roster in the week starting `monday`."""
    actor.require(TIME_ROSTER, unit)
    with database.atomic():
        removed = (RosterEntry.delete().where((RosterEntry.unit == unit.id)
                                              & RosterEntry.day.between(monday, monday + 6 * DAY)).execute())
        record_event("time.week_cleared", unit, unit=unit, actor=actor.user,
                     after={"week": monday.isoformat(), "removed": removed})
    return removed


# --- rotations ----------------------------------------------------------------------------------------

def parse_pattern(text, shift_types):
    """Shift type ids (None for a day off) from a pattern written with the shift
    types' codes and "off", "-" or 休 for days off: "早早早早休休", "E E L L - -"."""
    codes = sorted(((st.code, st.id) for st in shift_types), key=lambda pair: -len(pair[0]))
    offs = sorted(OFF_TOKENS, key=len, reverse=True)
    pattern, rest = [], (text or "").strip()
    while rest:
        separator = re.match(r"[\s,，、;/|]+", rest)
        if separator:
            rest = rest[separator.end():]
            continue
        code = next(((c, pk) for c, pk in codes if rest.startswith(c)), None)
        if code is not None:
            pattern.append(code[1])
            rest = rest[len(code[0]):]
            continue
        off = next((token for token in offs if rest.lower().startswith(token)), None)
        if off is None:
            raise ServiceError(_("Unknown shift code at “%(text)s”. Use the codes of the shift types, and “off” or "
                                 "“-” for a day off.", text=rest[:12]), field="pattern")
        pattern.append(None)
        rest = rest[len(off):]
    if not pattern or all(item is None for item in pattern):
        raise ServiceError(_("Enter at least one working day."), field="pattern")
    if len(pattern) > MAX_PATTERN_DAYS:
        raise ServiceError(_("A cycle may last at most %(n)s days.", n=MAX_PATTERN_DAYS), field="pattern")
    return pattern


def pattern_text(rotation):
    """The rotation's pattern written with codes, as the form takes it."""
    codes = dict(ShiftType.select(ShiftType.id, ShiftType.code).where(
        ShiftType.company == rotation.company_id).tuples())
    return " ".join(codes.get(item, "?") if item is not None else "-" for item in json.loads(rotation.pattern))


def save_rotation(actor, unit, values, members, rotation=None):
    """Create or change a rotation of `unit`: name, pattern (text, see parse_pattern),
    anchor date, and `members` as {employee id: (label, offset)}."""
    actor.require(TIME_ROSTER, unit)
    company = company_of(unit)
    name = (values.get("name") or "").strip()
    if not name or len(name) > 80:
        raise ServiceError(_("Enter a name of at most 80 characters."), field="name")
    pattern = parse_pattern(values.get("pattern"), shift_types_of(company))
    anchor = values.get("anchor_date")
    if not isinstance(anchor, dt.date):
        raise ServiceError(_("Enter the first day of the cycle."), field="anchor_date")
    allowed = {person.id for person in roster_people(unit, anchor - 366 * DAY, anchor + 366 * DAY)}
    if set(members) - allowed:
        raise NotInScope("employee")
    fields = {"name": name, "pattern": json.dumps(pattern), "anchor_date": anchor,
              "follows_calendar": bool(values.get("follows_calendar"))}
    with database.atomic():
        if rotation is None:
            rotation = Rotation.create(company=company, unit=unit, created_by=actor.user, **fields)
        else:
            if rotation.unit_id != unit.id:
                raise NotInScope("rotation")
            Rotation.update(version=Rotation.version + 1, **fields).where(Rotation.id == rotation.id).execute()
        RotationMember.delete().where(RotationMember.rotation == rotation.id).execute()
        chunked_insert(RotationMember, [{"rotation": rotation.id, "employee": pk, "label": (label or "")[:16],
                                         "offset": int(offset) % len(pattern)}
                                        for pk, (label, offset) in sorted(members.items())])
        record_event("time.rotation_saved", rotation, unit=unit, actor=actor.user,
                     after={**fields, "members": {str(k): list(v) for k, v in members.items()}})
    return Rotation.get_by_id(rotation.id)


def rotation_members(rotation):
    return list(RotationMember.select(RotationMember, Employee).join(Employee)
                .where(RotationMember.rotation == rotation.id).order_by(RotationMember.label, Employee.legal_name))


def rotation_rows(rotation, members, start, end, user=None, leave_keys=()):
    """The entries the rotation makes from `start` to `end` for `members` ((employee id,
    offset) pairs), leaving out days in `leave_keys` (see _day_key)."""
    pattern = json.loads(rotation.pattern)
    types = {st.id: st for st in ShiftType.select().where(ShiftType.id.in_([p for p in pattern if p] or [0]))}
    cycle = np.array([item or 0 for item in pattern], dtype=np.int64)
    days = np.arange(start.toordinal(), end.toordinal() + 1, dtype=np.int64)
    employee_ids = np.array([pk for pk, _offset in members], dtype=np.int64)
    offsets = np.array([offset for _pk, offset in members], dtype=np.int64)
    position = (days[None, :] - rotation.anchor_date.toordinal() + offsets[:, None]) % cycle.size
    shift_ids = cycle[position]
    if rotation.follows_calendar:
        calendar = working_calendar(rotation.unit, start, end)
        workday = np.array([day.workday for day in calendar], dtype=bool)
        adjusted = np.array([day.adjusted for day in calendar], dtype=bool)
        first_shift = cycle[cycle > 0][0]
        shift_ids = np.where(adjusted[None, :] & (shift_ids == 0), first_shift, shift_ids) * workday[None, :]
    keys = employee_ids[:, None] * 1_000_000 + days[None, :]
    working = (shift_ids > 0) & ~np.isin(keys, np.asarray(list(leave_keys), dtype=np.int64))
    person_index, day_index = np.nonzero(working)
    zone, unit, bounds = company_zone(rotation.unit), rotation.unit, {}
    rows = []
    for pi, di in zip(person_index.tolist(), day_index.tolist()):
        shift_type, day = types[int(shift_ids[pi, di])], dt.date.fromordinal(int(days[di]))
        if (shift_type.id, day) not in bounds:
            bounds[(shift_type.id, day)] = entry_row(unit, 0, day, shift_type, zone, "rotation", rotation, user)
        rows.append({**bounds[(shift_type.id, day)], "employee": int(employee_ids[pi])})
    return rows


def generate_rotation(actor, rotation, start, end):
    """Roster the rotation's members from `start` to `end`: its earlier entries in the
    period go, days of approved leave are skipped, and any conflict with other entries
    refuses the whole generation. Members are notified. Returns the entry count."""
    unit = rotation.unit
    actor.require(TIME_ROSTER, unit)
    if end < start:
        raise ServiceError(_("The last day cannot come before the first."), field="end")
    if (end - start).days >= MAX_GENERATION_DAYS:
        raise ServiceError(_("Generate at most %(n)s days at once.", n=MAX_GENERATION_DAYS), field="end")
    members = [(member.employee_id, member.offset) for member in rotation_members(rotation)]
    if not members:
        raise ServiceError(_("Add members to the rotation first."))
    leave_keys = [_day_key(request.employee_id, request.start_date + offset * DAY)
                  for request in leave_overlapping([pk for pk, _ in members], start, end)
                  for offset in range((request.end_date - request.start_date).days + 1)]
    with database.atomic():
        removed = [pk for (pk,) in RosterEntry.select(RosterEntry.id).where(
            (RosterEntry.rotation == rotation.id) & RosterEntry.day.between(start, end)).tuples()]
        rows = rotation_rows(rotation, members, start, end, actor.user, leave_keys)
        _replace_entries(removed, rows)
        record_event("time.rotation_generated", rotation, unit=unit, actor=actor.user,
                     after={"start": start.isoformat(), "end": end.isoformat(), "removed": len(removed),
                            "created": len(rows)})
        users = [pk for (pk,) in Employee.select(Employee.user).where(
            Employee.id.in_([pk for pk, _ in members]) & Employee.user.is_null(False)).tuples()]
        notify(users, "time.rotation_generated", {"unit": unit.name, "rotation": rotation.name,
                                                  "start_date": start.isoformat(), "end_date": end.isoformat()},
               portal_path("time.roster.mine"))
    return len(rows)


# --- handover notes ------------------------------------------------------------------------------------

def may_read_handover(actor, unit):
    """Those who see the unit's roster, and the people on it."""
    if actor.scope.allows(TIME_VIEW, unit):
        return True
    employee = employee_of(actor.user)
    return employee is not None and employee.id in {p.id for p in roster_people(unit, utcnow().date() - WEEK,
                                                                                 utcnow().date() + WEEK)}


def may_write_handover(actor, unit, day):
    """People rostered in the unit that day, and those who keep its roster."""
    if actor.scope.allows(TIME_ROSTER, unit):
        return True
    employee = employee_of(actor.user)
    return employee is not None and RosterEntry.select().where(
        (RosterEntry.unit == unit.id) & (RosterEntry.employee == employee.id) & (RosterEntry.day == day)).exists()


def write_handover_note(actor, unit, day, shift_type, body):
    """Leave a note from `day`'s shift `shift_type` (None: the whole day) for the next shift."""
    if not may_write_handover(actor, unit, day):
        raise NotInScope("handover")
    body = (body or "").strip()
    if not body:
        raise ServiceError(_("Write the note."), field="body")
    if len(body) > MAX_NOTE_LENGTH:
        raise ServiceError(_("Use at most %(max)d characters.", max=MAX_NOTE_LENGTH), field="body")
    if shift_type is not None:
        _usable_shift_type(unit, shift_type)
    with database.atomic():
        note = HandoverNote.create(unit=unit, day=day, shift_type=shift_type, author=actor.user, body=body)
        record_event("time.handover_written", note, label=f"{unit.name} · {day.isoformat()}", unit=unit,
                     actor=actor.user, after={"day": day.isoformat(), "body": body})
    return note


def handover_notes(unit, start, end):
    """The unit's notes written on the days `start`…`end`, newest first."""
    return list(HandoverNote.select(HandoverNote, ShiftType).join(ShiftType, join_type=pw.JOIN.LEFT_OUTER)
                .where((HandoverNote.unit == unit.id) & HandoverNote.day.between(start, end))
                .order_by(HandoverNote.day.desc(), HandoverNote.created_at.desc()))


# --- shift swaps (approvals kind "time.shift_swap") -----------------------------------------------------

def _own_entry(actor, args):
    """The requester's own future entry named by ?entry=, or NotInScope (404)."""
    employee = employee_of(actor.user)
    try:
        entry_id = int(args.get("entry", ""))
    except (TypeError, ValueError):
        raise NotInScope("roster_entry") from None
    entry = RosterEntry.get_or_none((RosterEntry.id == entry_id) & (RosterEntry.employee == (employee.id if employee
                                                                                               else 0)))
    if entry is None:
        raise NotInScope("roster_entry")
    return entry


def _entry_text(entry):
    start, end = shift_times(entry)
    return f"{format_date(entry.day)} {entry.shift_type.name} {start}–{end}"


def swap_choices(entry, now=None):
    """(colleagues' future shifts in the entry's unit, colleagues to give it to)."""
    now = now or utcnow()
    theirs = list(RosterEntry.select(RosterEntry, ShiftType, Employee).join(ShiftType).switch(RosterEntry)
                  .join(Employee).where((RosterEntry.unit == entry.unit_id)
                                        & (RosterEntry.employee != entry.employee_id) & (RosterEntry.starts_at > now)
                                        & RosterEntry.day.between(entry.day - 14 * DAY, entry.day + 14 * DAY))
                  .order_by(RosterEntry.starts_at, Employee.legal_name))
    people = [person for person in roster_people(entry.unit, entry.day, entry.day) if person.id != entry.employee_id]
    return ([(e.id, f"{e.employee.display_name} · {_entry_text(e)}") for e in theirs],
            [(p.id, f"{p.display_name} ({p.number})") for p in people])


def _swap_form(entry, formdata=None):
    from portal.time.forms import SwapForm

    form = SwapForm(formdata=formdata)
    form.their_entry.label.text = _("Swap your shift (%(shift)s) with this shift of a colleague",
                                    shift=_entry_text(entry))
    shifts, people = swap_choices(entry)
    form.their_entry.choices = [("", _("No shift in return"))] + shifts
    form.give_to.choices = [("", _("Choose a colleague"))] + people
    return form


def _draft_swap(actor, entry, values, now=None):
    now = now or utcnow()
    entry = _own_entry(actor, {"entry": entry.id})
    if entry.starts_at <= now:
        raise ServiceError(_("Only a shift that has not started can be swapped."))
    if ApprovalRequest.select().where((ApprovalRequest.kind == "time.shift_swap") & (ApprovalRequest.state == "pending")
                                      & (ApprovalRequest.subject_type == RosterEntry._meta.table_name)
                                      & (ApprovalRequest.subject_id == entry.id)).exists():
        raise ServiceError(_("A swap of this shift is already waiting for approval."))
    payload = {"entry": entry.id, "entry_version": entry.version, "employee": entry.employee_id,
               "name": entry.employee.display_name, "date": entry.day.isoformat(), "shift": _entry_text(entry)}
    their_id = values.get("their_entry")
    if their_id:
        theirs = RosterEntry.get_or_none((RosterEntry.id == their_id) & (RosterEntry.unit == entry.unit_id)
                                         & (RosterEntry.employee != entry.employee_id))
        if theirs is None or theirs.starts_at <= now:
            raise ServiceError(_("Choose a colleague's shift from the list."), field="their_entry")
        colleague = theirs.employee
        payload.update(their_entry=theirs.id, their_version=theirs.version, their_shift=_entry_text(theirs))
    else:
        colleague = Employee.get_or_none(Employee.id == (values.get("give_to") or 0))
        if colleague is None or colleague.id not in {p.id for p in roster_people(entry.unit, entry.day, entry.day)} \
                or colleague.id == entry.employee_id:
            raise ServiceError(_("Choose a colleague's shift, or a colleague to give the shift to."), field="give_to")
        payload.update(their_entry=None, their_version=None, their_shift="")
    payload.update(colleague=colleague.id, colleague_name=colleague.display_name)
    rows, removed = _swapped_rows(entry, payload)
    conflicts = find_conflicts(rows, removed)
    if conflicts:
        raise RosterConflict(conflicts)
    watchers = (colleague.user_id,) if colleague.user_id else ()
    return Draft(unit=entry.unit, subject=entry, title=f"{entry.employee.display_name} ⇄ {colleague.display_name} · "
                 f"{format_date(entry.day)}", payload=payload, reason=(values.get("reason") or "").strip()[:2000],
                 effective_date=entry.day, watchers=watchers)


def _swapped_rows(entry, payload):
    """The entries after the swap (new rows) and the ids they replace."""
    zone, rows, removed = company_zone(entry.unit), [], [entry.id]
    rows.append(entry_row(entry.unit, payload["colleague"], entry.day, entry.shift_type, zone, "swap"))
    if payload.get("their_entry"):
        theirs = RosterEntry.get_by_id(payload["their_entry"])
        rows.append(entry_row(theirs.unit, entry.employee_id, theirs.day, theirs.shift_type, zone, "swap"))
        removed.append(theirs.id)
    return rows, removed


def _apply_swap(actor, request, payload):
    entry = RosterEntry.get_or_none(RosterEntry.id == payload["entry"])
    theirs = RosterEntry.get_or_none(RosterEntry.id == payload["their_entry"]) if payload.get("their_entry") else None
    if entry is None or entry.version != payload["entry_version"] or entry.employee_id != payload["employee"] or (
            payload.get("their_entry") and (theirs is None or theirs.version != payload["their_version"]
                                            or theirs.employee_id != payload["colleague"])):
        raise ServiceError(_("The roster changed since the swap was asked for. Reject the request."))
    rows, removed = _swapped_rows(entry, payload)
    for row in rows:
        row["created_by"] = actor.user.id if actor.user else None
    _replace_entries(removed, rows)
    record_event("time.swap_applied", request, label=request.title, unit=entry.unit_id, actor=actor.user,
                 after={"removed": removed, "entries": [{"employee": r["employee"], "day": r["day"].isoformat(),
                                                         "shift": r["shift_type"].code} for r in rows]})
    users = [pk for (pk,) in Employee.select(Employee.user).where(
        Employee.id.in_([payload["employee"], payload["colleague"]]) & Employee.user.is_null(False)).tuples()]
    summary = f"{payload['name']} ⇄ {payload['colleague_name']}"
    notify(users, "time.shift_swapped", {"date": payload["date"], "unit": entry.unit.name, "summary": summary},
           portal_path("time.roster.mine"))


def _describe_swap(request, payload):
    rows = [(_("Requested by"), payload["name"]), (_("Shift"), payload["shift"]),
            (_("Colleague"), payload["colleague_name"])]
    rows.append((_("In return"), payload["their_shift"] or _("Nothing: the colleague takes the shift")))
    return rows


register_kind(RequestKind(
    key="time.shift_swap",
    label=_l("Shift swap"),
    default_chain=("team_lead",),
    load_subject=_own_entry,
    form=_swap_form,
    draft=_draft_swap,
    apply=_apply_swap,
    describe=_describe_swap,
    intro=_l("Swap one of your coming shifts with a colleague's shift in the same team, or give it to a colleague "
             "who is free. Your team lead approves it; the roster changes only then."),
    subject_args=("entry",),
))
