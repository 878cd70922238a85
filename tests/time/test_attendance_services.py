"""Attendance from the database: China's adjusted working days (调休), public
holidays, overnight shifts, DST in Germany, leave, future shifts and scope."""
import datetime as dt

import pytest

from portal.core.errors import NotInScope
from portal.time import attendance, engine, services
from factories import (
    make_approved_leave, make_attendance_shift, make_clock_event, make_team_member, make_unit, unit_by_code,
)

NOW = dt.datetime(2026, 11, 23, 12, 0)
CHINA_2026_WORKING_WEEKENDS = [dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 5, 9),
                               dt.date(2026, 9, 20)]


def utc(zone, day, minute):
    return services.local_instant(services.company_zone(zone), day, minute)


@pytest.mark.parametrize("day", CHINA_2026_WORKING_WEEKENDS)
def test_china_adjusted_working_days_are_workdays(excn, day):
    (info,) = services.working_calendar(excn, day, day, language="en_US")
    assert day.isoweekday() in (6, 7)
    assert info.workday and info.adjusted and not info.holiday


def test_china_national_day_is_a_holiday(excn):
    days = services.working_calendar(excn, dt.date(2026, 10, 1), dt.date(2026, 10, 3), language="zh_CN")
    assert all(not d.workday and d.holiday for d in days)
    assert "国庆" in days[0].holiday
    workday, holiday = services.calendar_arrays(excn, dt.date(2026, 2, 13), dt.date(2026, 2, 15))
    assert workday.tolist() == [True, True, False]  # Friday, 调休 Saturday, Sunday


def test_company_days_win_over_the_package(excn):
    from portal.core.permissions import Actor

    attendance.add_calendar_day(Actor.system(), excn, dt.date(2026, 2, 28), "holiday", "Company outing")
    (info,) = services.working_calendar(excn, dt.date(2026, 2, 28), dt.date(2026, 2, 28))
    assert not info.workday and info.holiday == "Company outing" and info.company_day


@pytest.fixture
def cn_person(db):
    team = make_unit(unit_by_code("CN-JD"), name="考勤测试组")
    return make_team_member(team, legal_name="王小明")


def month_of(person, year, month, now=NOW):
    sheet = attendance.person_month(person, year, month, now)
    return {row["day"]: row for row in sheet.person_days(0)}, sheet.totals[0]


def test_shift_on_adjusted_saturday_is_a_normal_workday(cn_person):
    saturday = dt.date(2026, 2, 14)
    make_attendance_shift(cn_person, saturday)
    days, totals = month_of(cn_person, 2026, 2)
    assert days[saturday]["status"] == engine.STATUS_ABSENT  # missed: absence, like any workday
    assert days[saturday]["info"].adjusted
    assert totals["absent_days"] == 1
    make_clock_event(cn_person, utc(cn_person.company, saturday, 9 * 60), "in")
    make_clock_event(cn_person, utc(cn_person.company, saturday, 18 * 60 + 40), "out")
    days, totals = month_of(cn_person, 2026, 2)
    assert days[saturday]["status"] == engine.STATUS_OK
    assert days[saturday]["overtime"] == 10  # only past the end (30 min threshold), not the whole day
    assert totals["absent_days"] == 0


def test_work_on_a_public_holiday_is_overtime(cn_person):
    holiday = dt.date(2026, 10, 1)
    make_attendance_shift(cn_person, holiday, break_minutes=60)
    make_clock_event(cn_person, utc(cn_person.company, holiday, 9 * 60), "in")
    make_clock_event(cn_person, utc(cn_person.company, holiday, 18 * 60), "out")
    days, totals = month_of(cn_person, 2026, 10)
    assert days[holiday]["worked"] == 8 * 60 and days[holiday]["overtime"] == 8 * 60
    assert days[holiday]["info"].holiday


def test_overnight_shift_across_midnight(cn_person):
    day = dt.date(2025, 6, 10)
    make_attendance_shift(cn_person, day, 22 * 60, 6 * 60, break_minutes=30)
    make_clock_event(cn_person, utc(cn_person.company, day, 21 * 60 + 58), "in")
    make_clock_event(cn_person, utc(cn_person.company, day + dt.timedelta(days=1), 6 * 60 + 1), "out")
    days, _totals = month_of(cn_person, 2025, 6)
    assert days[day]["scheduled"] == 7 * 60 + 30
    assert days[day]["worked"] == 7 * 60 + 31
    assert days[day]["status"] == engine.STATUS_OK
    assert days[day + dt.timedelta(days=1)]["scheduled"] == 0


@pytest.fixture
def de_person(db):
    team = make_unit(unit_by_code("EXDE"), kind="department", name="Nachtschicht")
    return make_team_member(team, legal_name="Jürgen Groß")


@pytest.mark.parametrize("day, hours", [(dt.date(2026, 3, 28), 7), (dt.date(2026, 10, 24), 9),
                                        (dt.date(2026, 10, 25), 8), (dt.date(2026, 3, 29), 8)])
def test_dst_nights_in_germany(de_person, day, hours):
    """22:00–06:00: the night into the last Sunday of March is an hour shorter, the
    night into the last Sunday of October an hour longer (the clock goes back at 03:00)."""
    make_attendance_shift(de_person, day, 22 * 60, 6 * 60)
    days, _totals = month_of(de_person, day.year, day.month)
    assert days[day]["scheduled"] == hours * 60


def test_dst_night_on_2026_10_25_in_berlin(de_person):
    """Starting on the 25th itself (after the change): a normal 8 h night; on the
    24th the shift spans the change: 9 h. Both are computed from exact instants."""
    make_attendance_shift(de_person, dt.date(2026, 10, 24), 22 * 60, 6 * 60, break_minutes=30)
    make_attendance_shift(de_person, dt.date(2026, 10, 25), 22 * 60, 6 * 60, break_minutes=30)
    days, _totals = month_of(de_person, 2026, 10)
    assert days[dt.date(2026, 10, 24)]["scheduled"] == 9 * 60 - 30
    assert days[dt.date(2026, 10, 25)]["scheduled"] == 8 * 60 - 30


def test_leave_day_is_not_absence(cn_person):
    day = dt.date(2025, 6, 11)
    make_attendance_shift(cn_person, day)
    make_approved_leave(cn_person, day)
    days, totals = month_of(cn_person, 2025, 6)
    assert days[day]["status"] == engine.STATUS_LEAVE and not days[day]["absent"]
    assert totals["leave_days"] == 1 and totals["absent_days"] == 0


def test_future_and_running_shifts_are_not_absent(cn_person):
    day = dt.date(2026, 11, 23)
    make_attendance_shift(cn_person, day)
    make_attendance_shift(cn_person, day + dt.timedelta(days=2))
    days, totals = month_of(cn_person, 2026, 11, now=utc(cn_person.company, day, 12 * 60))
    assert days[day]["status"] == engine.STATUS_PENDING
    assert days[day + dt.timedelta(days=2)]["status"] == engine.STATUS_PENDING
    assert totals["absent_days"] == 0 and totals["missing_days"] == 0


def test_missing_punch(cn_person):
    day = dt.date(2025, 6, 12)
    make_attendance_shift(cn_person, day)
    make_clock_event(cn_person, utc(cn_person.company, day, 9 * 60 + 30), "in")
    days, totals = month_of(cn_person, 2025, 6)
    assert days[day]["status"] == engine.STATUS_MISSING and days[day]["late"] == 30
    assert totals["missing_days"] == 1


def test_voided_punch_is_ignored(cn_person):
    from portal.approvals.models import ApprovalRequest

    day = dt.date(2025, 6, 13)
    make_attendance_shift(cn_person, day)
    request = ApprovalRequest.select().first()
    make_clock_event(cn_person, utc(cn_person.company, day, 9 * 60), "in", voided_by=request.id if request else None)
    if request is None:
        pytest.skip("no approval request in the demo data to void with")
    days, _totals = month_of(cn_person, 2025, 6)
    assert days[day]["status"] == engine.STATUS_ABSENT


def test_unit_sheet_people_and_scope(db, actor_of, hr_cn, hr_de):
    team = make_unit(unit_by_code("CN-JD"), name="考勤范围组")
    member = make_team_member(team, legal_name="李雷")
    sheet = attendance.unit_sheet(hr_cn, team, 2025, 6, NOW)
    assert [p.id for p in sheet.people] == [member.id]
    assert len(sheet.days) == 30
    with pytest.raises(NotInScope):
        attendance.unit_sheet(hr_de, team, 2025, 6, NOW)


def test_people_who_left_the_unit_before_the_month_are_not_on_it(db, hr_cn):
    from portal.people.models import Assignment

    team = make_unit(unit_by_code("CN-JD"), name="离开组")
    member = make_team_member(team)
    Assignment.update(end_date=dt.date(2025, 5, 31)).where(Assignment.employee == member.id).execute()
    assert attendance.unit_sheet(hr_cn, team, 2025, 6, NOW).people == []
    assert len(attendance.unit_sheet(hr_cn, team, 2025, 5, NOW).people) == 1
