"""Attendance days and monthly sheets: load the facts of a set of people and a
period in a few queries, hand them to time.engine as arrays, and return rows for
the pages and exports. Nothing here is stored: attendance is always computed."""
import calendar as calendar_module
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import peewee as pw
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.core.audit import declare_actions, record_event
from portal.core.db import database, is_sqlite, update_at_version, utcnow
from portal.core.errors import ServiceError
from portal.org.models import OrgUnit
from portal.people.models import Assignment, Employee
from portal.people.permissions import employee_condition
from portal.time import engine, services
from portal.time.models import CALENDAR_KINDS, CalendarDay, ClockEvent, LeaveType, RosterEntry, ShiftType, TimePolicy
from portal.time.permissions import TIME_EXPORT, TIME_MANAGE, TIME_VIEW

declare_actions({
    "time.attendance_exported": _l("Attendance sheet exported"),
    "time.calendar_day_added": _l("Calendar day added"),
    "time.calendar_day_removed": _l("Calendar day removed"),
    "time.policy_updated": _l("Time rules changed"),
})

# Compact codes of the sheet, by engine status.
STATUS_CODES = {
    engine.STATUS_OFF: "", engine.STATUS_REST: "·", engine.STATUS_HOLIDAY: "H", engine.STATUS_LEAVE: "V",
    engine.STATUS_PENDING: "○", engine.STATUS_OK: "✓", engine.STATUS_LATE: "L", engine.STATUS_EARLY: "E",
    engine.STATUS_LATE_EARLY: "LE", engine.STATUS_MISSING: "M", engine.STATUS_ABSENT: "A",
    engine.STATUS_EXTRA: "+",
}
STATUS_NAMES = {
    engine.STATUS_OFF: "off", engine.STATUS_REST: "rest", engine.STATUS_HOLIDAY: "holiday",
    engine.STATUS_LEAVE: "leave", engine.STATUS_PENDING: "pending", engine.STATUS_OK: "ok",
    engine.STATUS_LATE: "late", engine.STATUS_EARLY: "early", engine.STATUS_LATE_EARLY: "late-early",
    engine.STATUS_MISSING: "missing", engine.STATUS_ABSENT: "absent", engine.STATUS_EXTRA: "extra",
}
STATUS_LABELS = {
    engine.STATUS_OFF: _l("Not rostered"), engine.STATUS_REST: _l("Rest day"),
    engine.STATUS_HOLIDAY: _l("Public holiday"), engine.STATUS_LEAVE: _l("On leave"),
    engine.STATUS_PENDING: _l("Shift not over yet"), engine.STATUS_OK: _l("Present"),
    engine.STATUS_LATE: _l("Late"), engine.STATUS_EARLY: _l("Left early"),
    engine.STATUS_LATE_EARLY: _l("Late and left early"), engine.STATUS_MISSING: _l("Missing punch"),
    engine.STATUS_ABSENT: _l("Absent"), engine.STATUS_EXTRA: _l("Worked on a day off"),
}
CELL_HTML = {status: f'<td class="st-{STATUS_NAMES[status]}">{code}</td>'
             for status, code in STATUS_CODES.items()}
TOTAL_FIELDS = ("scheduled", "worked", "late", "late_days", "early", "early_days", "absent_days", "missing_days",
                "overtime", "leave_days")


@dataclass
class Attendance:
    """Attendance of `people` (Employee rows) on `days` (dates): `result` holds the
    engine's P × D arrays, `calendars` each company's [CalendarInfo] by company id,
    `totals` per person (dicts of TOTAL_FIELDS) and `unit_totals` their sums."""

    people: list
    days: list
    result: engine.AttendanceDays
    calendars: dict
    totals: list
    unit_totals: dict

    def calendar_of(self, person):
        return self.calendars[person.company_id]

    def person_days(self, index):
        """One dict per day of person `index`, for templates and exports."""
        r = self.result
        calendar = self.calendar_of(self.people[index])
        rows = []
        for d, info in enumerate(calendar):
            status = int(r.status[index, d])
            rows.append(dict(
                day=info.day, info=info, status=status, code=STATUS_CODES[status], name=STATUS_NAMES[status],
                label=STATUS_LABELS[status], scheduled=int(r.scheduled[index, d]), worked=int(r.worked[index, d]),
                late=int(r.late[index, d]), early=int(r.early[index, d]), overtime=int(r.overtime[index, d]),
                absent=bool(r.absent[index, d]), missing=bool(r.missing[index, d]), leave=bool(r.leave[index, d]),
                first_in=_instant(r.first_in[index, d]), last_out=_instant(r.last_out[index, d])))
        return rows


    def cells(self, index):
        """(status name, code) per day of person `index`."""
        return [(STATUS_NAMES[status], STATUS_CODES[status]) for status in self.result.status[index].tolist()]

    def cells_html(self, index):
        """The sheet's grid cells of person `index`: 9,000 cells of a 300-person
        month are joined from ready-made markup instead of rendered one by one."""
        return Markup("".join(CELL_HTML[status] for status in self.result.status[index].tolist()))

    def export_rows(self):
        """One row per person for CSV/XLSX/PDF: number, name, a code per day, then
        the totals (hours as Decimals with two places, counts as ints)."""
        for index, person in enumerate(self.people):
            totals = self.totals[index]
            yield [person.number, person.display_name, *(code for _name, code in self.cells(index)),
                   *total_values(totals)]


def total_values(totals):
    """The totals in the order of TOTAL_COLUMNS."""
    return [decimal_hours(totals["scheduled"]), decimal_hours(totals["worked"]), totals["late_days"],
            totals["late"], totals["early_days"], totals["absent_days"], totals["missing_days"],
            decimal_hours(totals["overtime"]), totals["leave_days"]]


TOTAL_COLUMNS = (_l("Scheduled h"), _l("Worked h"), _l("Late days"), _l("Late min"), _l("Early days"),
                 _l("Absent days"), _l("Days with a missing punch"), _l("Overtime h"), _l("Leave days"))


def decimal_hours(minutes):
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def _instant(seconds):
    return None if seconds < 0 else dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(seconds))


def _seconds(instants):
    return np.array(instants, dtype="datetime64[s]").astype(np.int64) if len(instants) else np.zeros(0, np.int64)


def month_bounds(year, month):
    return dt.date(year, month, 1), dt.date(year, month, calendar_module.monthrange(year, month)[1])


def attendance_for(people, start, end, now):
    """Attendance of `people` (Employee rows) for the local days `start`..`end`,
    as seen at `now` (naive UTC). Four queries whatever the number of people,
    plus the calendar and rules of each company involved."""
    people = list(people)
    index = {person.id: i for i, person in enumerate(people)}
    ids = list(index)
    day_count = (end - start).days + 1
    days = [start + dt.timedelta(days=offset) for offset in range(day_count)]
    companies = {c.id: c for c in OrgUnit.select().where(OrgUnit.id.in_({p.company_id for p in people}))} \
        if people else {}
    calendars, workdays, holidays, bounds, rules = {}, [], [], [], []
    for company_id, company in companies.items():
        zone = services.company_zone(company)
        calendars[company_id] = services.working_calendar(company, start, end)
        workdays.append([info.workday for info in calendars[company_id]])
        holidays.append([bool(info.holiday) for info in calendars[company_id]])
        bounds.append(_seconds([services.local_instant(zone, start + dt.timedelta(days=d), 0)
                                for d in range(day_count + 1)]))
        policy = services.time_policy(company)
        rules.append((policy.rounding_minutes, policy.overtime_after_minutes, policy.clock_window_minutes))
    # Per person: the row of their company in each per-company table.
    position = {company_id: row for row, company_id in enumerate(companies)}
    company_row = np.array([position[p.company_id] for p in people], np.int64).reshape(len(people))
    workday = np.array(workdays, bool).reshape(len(companies), day_count)[company_row]
    holiday = np.array(holidays, bool).reshape(len(companies), day_count)[company_row]
    day_bounds = np.array(bounds, np.int64).reshape(len(companies), day_count + 1)[company_row]
    rules = np.array(rules, np.int64).reshape(len(companies), 3)[company_row]

    id_array = np.array(ids, dtype=np.int64)
    shifts = _shifts(id_array, start, end)
    window = dt.timedelta(minutes=int(rules[:, 2].max(initial=0)))
    punches = _punches(id_array, start - dt.timedelta(days=1) - window, end + dt.timedelta(days=2) + window)
    leave_days, leave_minutes = _leave(ids, index, start, end)
    result = engine.attendance_days(
        len(people), day_bounds, shifts, punches, leave_days, leave_minutes, workday, holiday,
        int(_seconds([now])[0]), rounding=rules[:, 0], overtime_after=rules[:, 1], window=rules[:, 2])
    sums = result.totals()
    totals = [{name: int(sums[name][i]) for name in TOTAL_FIELDS} for i in range(len(people))]
    unit_totals = {name: int(sums[name].sum()) for name in TOTAL_FIELDS}
    return Attendance(people, days, result, calendars, totals, unit_totals)


def epoch_seconds(column):
    """SQL for a naive-UTC datetime (or date) column as integer seconds since 1970:
    the database converts, so rows arrive as plain ints that numpy takes at once
    (turning 100,000 datetime objects into numbers costs more than the query)."""
    if is_sqlite():
        return pw.Cast(pw.fn.strftime("%s", column), "INTEGER")
    return pw.Cast(pw.fn.FLOOR(pw.fn.date_part("epoch", column)), "BIGINT")


def _int_rows(query, columns):
    rows = database.execute(query).fetchall()
    return np.array(rows, dtype=np.int64).reshape(len(rows), columns)


def _person_index(ids, employee_ids):
    order = np.argsort(ids)
    return order[np.searchsorted(ids[order], employee_ids)]


def _shifts(ids, start, end):
    query = (RosterEntry.select(RosterEntry.employee, epoch_seconds(RosterEntry.day), epoch_seconds(RosterEntry.starts_at),
                                epoch_seconds(RosterEntry.ends_at), RosterEntry.break_minutes, ShiftType.grace_minutes)
             .join(ShiftType, on=(ShiftType.id == RosterEntry.shift_type))
             .where(RosterEntry.employee.in_(ids.tolist()) & RosterEntry.day.between(start, end)))
    rows = _int_rows(query, 6)
    first_day = (start - dt.date(1970, 1, 1)).days
    return engine.Shifts(person=_person_index(ids, rows[:, 0]), day=rows[:, 1] // 86400 - first_day, start=rows[:, 2],
                         end=rows[:, 3], break_minutes=rows[:, 4], grace_minutes=rows[:, 5])


def _punches(ids, since, until):
    query = (ClockEvent.select(ClockEvent.employee, epoch_seconds(ClockEvent.at),
                               pw.Case(None, [(ClockEvent.kind == "out", engine.CLOCK_OUT)], engine.CLOCK_IN))
             .where(ClockEvent.employee.in_(ids.tolist()) & ClockEvent.at.between(since, until)
                    & ClockEvent.voided_by.is_null()))
    rows = _int_rows(query, 3)
    return engine.Punches(person=_person_index(ids, rows[:, 0]), at=rows[:, 1], kind=rows[:, 2])


def _leave(ids, index, start, end):
    """Whole-day leave (P × D mask) and hour leave (minutes) of approved requests."""
    shape = (len(ids), (end - start).days + 1)
    days, minutes = np.zeros(shape, bool), np.zeros(shape, np.int64)
    requests = services.leave_overlapping(ids, start, end) if ids else []
    units = dict(LeaveType.select(LeaveType.id, LeaveType.unit)
                 .where(LeaveType.id.in_({r.leave_type_id for r in requests})).tuples()) if requests else {}
    for request in requests:  # a handful per month: the arrays are filled per request, not per day
        person = index[request.employee_id]
        first = max((request.start_date - start).days, 0)
        last = min((request.end_date - start).days, shape[1] - 1)
        if units.get(request.leave_type_id) == "hour" and request.start_minute is not None:
            minutes[person, first] += max((request.end_minute or 0) - request.start_minute, 0)
        else:
            days[person, first:last + 1] = True
    return days, minutes


def person_month(employee, year, month, now):
    """Attendance of one person for one calendar month."""
    start, end = month_bounds(year, month)
    return attendance_for([employee], start, end, now)


def unit_people(actor, unit, start, end):
    """The people holding a post in `unit` or below during `start`..`end` whom the
    actor may see, by name."""
    in_unit = (Assignment.select(Assignment.employee)
               .join(OrgUnit, on=(OrgUnit.id == Assignment.unit))
               .where(OrgUnit.path.startswith(unit.path) & (Assignment.start_date <= end)
                      & (Assignment.end_date.is_null() | (Assignment.end_date >= start))))
    return list(Employee.select(Employee.id, Employee.number, Employee.legal_name, Employee.preferred_name,
                                Employee.company)
                .where(Employee.id.in_(in_unit) & employee_condition(actor.scope, TIME_VIEW))
                .order_by(Employee.legal_name, Employee.id))


def unit_sheet(actor, unit, year, month, now):
    """The monthly attendance sheet of `unit` (and the units below it)."""
    actor.require(TIME_VIEW, unit)
    start, end = month_bounds(year, month)
    return attendance_for(unit_people(actor, unit, start, end), start, end, now)


def record_export(actor, unit, year, month, file_format, people_count):
    """Audit one export of a sheet (its figures leave the portal)."""
    actor.require(TIME_EXPORT, unit)
    with database.atomic():
        record_event("time.attendance_exported", unit, unit=unit, actor=actor.user,
                     after={"period": f"{year:04d}-{month:02d}", "format": file_format, "people": people_count})


# --- the working calendar and time rules of a company -------------------------------------------

def companies_in_scope(scope, permission):
    """The companies of the units where `permission` holds, by name."""
    in_scope = OrgUnit.select(OrgUnit.id, OrgUnit.company).where(scope.unit_condition(permission))
    ids = {company_id or unit_id for unit_id, company_id in in_scope.tuples()}
    return list(OrgUnit.select().where(OrgUnit.id.in_(list(ids)) & (OrgUnit.kind == "company")
                                       & OrgUnit.archived_at.is_null()).order_by(OrgUnit.name))


def year_months(company, year):
    """The company's working calendar of `year`, as 12 lists of weeks (7 slots,
    None outside the month) of CalendarInfo, for the calendar page."""
    days = services.working_calendar(company, dt.date(year, 1, 1), dt.date(year, 12, 31))
    months = []
    for month in range(1, 13):
        in_month = [info for info in days if info.day.month == month]
        slots = [None] * (in_month[0].day.isoweekday() - 1) + in_month
        slots += [None] * (-len(slots) % 7)
        months.append((dt.date(year, month, 1), [slots[i:i + 7] for i in range(0, len(slots), 7)]))
    return months


def own_days(company, year):
    """The company's own calendar days of `year`."""
    return list(CalendarDay.select().where((CalendarDay.company == company.id)
                                           & CalendarDay.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
                .order_by(CalendarDay.day))


def add_calendar_day(actor, company, day, kind, name):
    """Add one of the company's own days: an extra day off or a working day."""
    actor.require(TIME_MANAGE, company)
    if kind not in CALENDAR_KINDS:
        raise ServiceError(_l("Choose a day off or a working day."), "kind")
    with database.atomic():
        if CalendarDay.select().where((CalendarDay.company == company.id) & (CalendarDay.day == day)).exists():
            raise ServiceError(_l("This day is already in the company's calendar."), "day")
        row = CalendarDay.create(company=company.id, day=day, kind=kind, name=name.strip(),
                                 created_by=actor.user.id if actor.user else None)
        record_event("time.calendar_day_added", row, unit=company, actor=actor.user,
                     after={"day": day.isoformat(), "kind": kind, "name": row.name})
    return row


def remove_calendar_day(actor, row):
    company = OrgUnit.get_by_id(row.company_id)
    actor.require(TIME_MANAGE, company)
    with database.atomic():
        CalendarDay.delete().where(CalendarDay.id == row.id).execute()
        record_event("time.calendar_day_removed", row, unit=company, actor=actor.user,
                     before={"day": row.day.isoformat(), "kind": row.kind, "name": row.name})


POLICY_FIELDS = ("min_rest_minutes", "rounding_minutes", "overtime_after_minutes", "clock_window_minutes",
                 "allowed_networks", "weekend_days", "workday_minutes")


def update_time_policy(actor, company, version, values):
    """Save the company's time rules if nobody saved them since `version`
    (a company without rules gets its row on the first save)."""
    actor.require(TIME_MANAGE, company)
    values = {name: values[name] for name in POLICY_FIELDS}
    with database.atomic():
        current = TimePolicy.get_or_none(TimePolicy.company == company.id)
        before = {name: getattr(current, name) for name in POLICY_FIELDS} if current else {}
        if current is None:
            if version not in (None, 1):
                raise ServiceError(_l("Someone else changed these rules meanwhile. Reload to see their version."))
            policy = TimePolicy.create(company=company.id, updated_at=utcnow(), **values)
        else:
            policy = update_at_version(
                TimePolicy, current.id, version, dict(values, updated_at=utcnow()),
                _l("Someone else changed these rules meanwhile. Reload to see their version."))
        record_event("time.policy_updated", policy, object_type="time_policy", label=company.name, unit=company,
                     actor=actor.user, before=before, after=values)
    return policy
