"""What every part of the time domain shares: company time zones and the UTC
instants of a shift, a company's time rules, its working calendar (public holidays
from the `holidays` package, China's adjusted working days 调休, the company's own
days), the person behind a user, and approved leave.

The parts themselves: rosters.py (shift types, rosters, rotations, swaps, handover
notes), clock.py (clock in/out, device imports, corrections), attendance.py (the
attendance days and monthly sheets; the numbers in engine.py), leave.py (types,
balances, requests).
"""
import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from flask_babel import get_locale

from portal.people.models import Employee
from portal.time.models import CalendarDay, LeaveRequest, TimePolicy

UTC = dt.timezone.utc
# The languages the `holidays` package names holidays in, by our UI language.
HOLIDAY_LANGUAGES = {"zh": "zh_CN", "en": "en_US", "de": "de", "ja": "ja"}


# --- time zones -------------------------------------------------------------------

def company_of(unit):
    """The company a unit belongs to (a company is its own)."""
    return unit if unit.kind == "company" else unit.company


def company_zone(unit):
    """The time zone of the unit's company (UTC if it has none)."""
    company = company_of(unit)
    return ZoneInfo(company.timezone or "UTC") if company is not None else ZoneInfo("UTC")


def local_instant(zone, day, minute):
    """Naive UTC for `minute` minutes after local midnight of `day` in `zone`.
    A wall time that a DST change skips is read with the offset before the change."""
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def to_local(zone, instant):
    """An aware local datetime for a naive-UTC `instant`."""
    return instant.replace(tzinfo=UTC).astimezone(zone)


def local_day(zone, instant):
    return to_local(zone, instant).date()


def shift_bounds(shift_type, day, zone):
    """(start, end) of `shift_type` worked on local `day`, naive UTC. An overnight
    shift ends on the next day; across a DST change the shift is an hour longer or
    shorter in real time, as it is for the person working it."""
    start = local_instant(zone, day, shift_type.start_minute)
    end_day = day + dt.timedelta(days=1) if shift_type.overnight else day
    return start, local_instant(zone, end_day, shift_type.end_minute)


# --- rules and people ---------------------------------------------------------------

def time_policy(unit):
    """The time rules of the unit's company: its row, or an unsaved row of defaults."""
    company = company_of(unit)
    return TimePolicy.get_or_none(TimePolicy.company == company.id) or TimePolicy(company=company)


def weekend_days(policy):
    """ISO weekday numbers (Mon=1 … Sun=7) of the policy's weekend."""
    return {int(part) for part in policy.weekend_days.split(",") if part.strip()}


def employee_of(user):
    """The employee record of a logged-in user, or None (an account without one)."""
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    return Employee.get_or_none(Employee.user == user.id)


# --- the working calendar -----------------------------------------------------------------

@dataclass(frozen=True)
class CalendarInfo:
    """One local day of a company's calendar. `adjusted`: a weekend day or public
    holiday that is a working day (调休, or a company's own working day)."""

    day: dt.date
    workday: bool
    holiday: str = ""
    weekend: bool = False
    adjusted: bool = False
    company_day: bool = False


def holiday_language():
    locale = get_locale()
    return HOLIDAY_LANGUAGES.get(locale.language if locale else "en", "en_US")


@functools.lru_cache(maxsize=64)
def public_holidays(country, year, language="en_US"):
    """The country's public holidays of `year` ({date: name}) and its weekend
    working days (调休), from the `holidays` package. Unknown countries have none."""
    try:
        table = holidays.country_holidays(country, years=year, language=language)
    except NotImplementedError:
        return {}, frozenset()
    names = dict(sorted(table.items()))
    return names, frozenset(getattr(table, "weekend_workdays", ()) or ())


def working_calendar(unit, start, end, language=None):
    """[CalendarInfo] for each local day from `start` to `end` inclusive, for the
    unit's company: its country's public holidays and 调休 working days, its own
    calendar days (which win), and its weekend."""
    company = company_of(unit)
    language = language or holiday_language()
    weekend = weekend_days(time_policy(company))
    own = {row.day: row for row in CalendarDay.select().where(
        (CalendarDay.company == company.id) & CalendarDay.day.between(start, end))}
    names, adjusted = {}, set()
    if company.country:
        for year in range(start.year, end.year + 1):
            year_names, year_workdays = public_holidays(company.country, year, language)
            names.update(year_names)
            adjusted.update(year_workdays)
    days = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        is_weekend = day.isoweekday() in weekend
        if day in own:
            row = own[day]
            is_work = row.kind == "workday"
            days.append(CalendarInfo(day, is_work, "" if is_work else row.name, is_weekend,
                                     is_work and (is_weekend or day in names), True))
        elif day in names:
            days.append(CalendarInfo(day, False, names[day], is_weekend))
        elif is_weekend and day in adjusted:
            days.append(CalendarInfo(day, True, "", True, True))
        else:
            days.append(CalendarInfo(day, not is_weekend, "", is_weekend))
    return days


def calendar_arrays(unit, start, end):
    """The working calendar as arrays for the engine: (workday, holiday), one
    boolean per day from `start` to `end` inclusive."""
    days = working_calendar(unit, start, end)
    return (np.fromiter((d.workday for d in days), dtype=bool, count=len(days)),
            np.fromiter((bool(d.holiday) for d in days), dtype=bool, count=len(days)))


# --- leave -----------------------------------------------------------------------------------

def leave_overlapping(employee_ids, start, end, states=("approved",)):
    """Leave requests of these people in `states` that touch the local days from
    `start` to `end` inclusive."""
    return list(LeaveRequest.select().where(
        LeaveRequest.employee.in_(list(employee_ids)) & LeaveRequest.state.in_(states)
        & (LeaveRequest.start_date <= end) & (LeaveRequest.end_date >= start)))
