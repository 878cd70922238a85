"""Clocking in and out (time.clock): the state machine, double taps, allowed
networks, the current shift (overnight, across Germany's DST change), and the
clock events HR reads in scope. Dates far from today, so the demo's punches
stay out of the way."""
import datetime as dt

import pytest

from portal.core.errors import ServiceError
from portal.core.permissions import Actor
from portal.time import clock
from portal.time.models import ClockEvent, TimePolicy
from portal.time.services import company_zone, local_instant
from factories import make_clock_event, make_clock_person, make_rostered_shift

DAY = dt.date(2025, 6, 2)  # a Monday


def at(employee, day, hour, minute=0, second=0):
    """Naive UTC of a local wall time in the person's company."""
    return local_instant(company_zone(employee.company), day, hour * 60 + minute) + dt.timedelta(seconds=second)


@pytest.fixture
def person(db):
    employee, user = make_clock_person()
    return employee, Actor.for_user(user)


def test_a_punch_is_in_then_out_and_records_an_audit_event(person):
    employee, actor = person
    make_rostered_shift(employee, DAY, 9 * 60, 18 * 60)
    first = clock.punch(actor, None, "10.8.1.20", now=at(employee, DAY, 8, 55)).last
    second = clock.punch(actor, "out", "10.8.1.20", now=at(employee, DAY, 18, 3)).last
    assert (first.kind, second.kind) == ("in", "out")
    assert first.source == "portal" and first.address == "10.8.1.20"
    assert clock.clock_state(employee, at(employee, DAY, 18, 5)).next_kind == "in"
    from portal.audit.models import AuditEvent
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.object_type == "clock_event")
               .order_by(AuditEvent.id)]
    assert actions[-2:] == ["time.clocked_in", "time.clocked_out"]


def test_a_second_tap_of_the_same_button_within_a_minute_is_refused(person):
    employee, actor = person
    clock.punch(actor, "in", now=at(employee, DAY, 9))
    with pytest.raises(ServiceError) as refused:
        clock.punch(actor, "in", now=at(employee, DAY, 9, 0, 20))
    assert "Already recorded" in str(refused.value.message)
    with pytest.raises(ServiceError) as stale:  # a page left open, tapped much later
        clock.punch(actor, "in", now=at(employee, DAY, 11))
    assert "changed meanwhile" in str(stale.value.message)
    assert ClockEvent.select().where(ClockEvent.employee == employee.id).count() == 1
    assert clock.punch(actor, "out", now=at(employee, DAY, 11)).last.kind == "out"


def test_a_clock_out_forgotten_yesterday_does_not_turn_todays_tap_into_a_clock_out(person):
    employee, actor = person
    make_rostered_shift(employee, DAY, 9 * 60, 18 * 60)
    make_rostered_shift(employee, DAY + dt.timedelta(days=1), 9 * 60, 18 * 60)
    clock.punch(actor, None, now=at(employee, DAY, 8, 58))
    assert clock.punch(actor, None, now=at(employee, DAY + dt.timedelta(days=1), 8, 57)).last.kind == "in"


def test_a_clock_in_hours_before_the_next_shift_can_be_closed(person):
    """At 01:10 with the day's shift at 14:00 (its window not open yet) an "in" is
    unscheduled work: the next tap closes it."""
    employee, actor = person
    make_rostered_shift(employee, DAY, 14 * 60, 23 * 60)
    assert clock.punch(actor, None, now=at(employee, DAY, 1, 10)).next_kind == "out"
    assert clock.punch(actor, None, now=at(employee, DAY, 3)).last.kind == "out"


def test_voided_events_do_not_count_for_the_state(person, db):
    employee, actor = person
    wrong = make_clock_event(employee, at(employee, DAY, 9), "in")
    from factories import make_contact_change  # any approval request will do as the voiding one
    request = make_contact_change("agent.jd1")
    ClockEvent.update(voided_by=request.id).where(ClockEvent.id == wrong.id).execute()
    assert clock.punch(actor, None, now=at(employee, DAY, 9, 30)).last.kind == "in"


def test_allowed_networks_refuse_punches_from_elsewhere(person):
    employee, actor = person
    policy, _created = TimePolicy.get_or_create(company=employee.company_id)
    TimePolicy.update(allowed_networks="# office\n10.8.0.0/16\n192.168.1.20\n2001:db8::/32").where(
        TimePolicy.id == policy.id).execute()
    with pytest.raises(ServiceError) as refused:
        clock.punch(actor, None, "203.0.113.9", now=at(employee, DAY, 9))
    assert "203.0.113.9" in str(refused.value.message)
    assert clock.punch(actor, None, "10.8.3.4", now=at(employee, DAY, 9)).last.kind == "in"
    assert clock.punch(actor, None, "2001:db8::7", now=at(employee, DAY, 18)).last.kind == "out"
    assert clock.punch(actor, None, "192.168.1.20", now=at(employee, DAY + dt.timedelta(days=1), 9)).last.kind == "in"
    with pytest.raises(ServiceError):
        clock.punch(actor, None, "", now=at(employee, DAY + dt.timedelta(days=1), 18))


def test_a_network_list_with_a_bad_line_is_refused():
    with pytest.raises(ServiceError) as refused:
        clock.parse_networks("10.0.0.0/8\nthe office")
    assert "the office" in str(refused.value.message)
    assert clock.parse_networks("") == []


def test_a_user_without_an_employee_record_cannot_punch(actor_of):
    with pytest.raises(ServiceError):
        clock.punch(actor_of("admin"), None, now=dt.datetime(2025, 6, 2, 1))


# --- the current shift ------------------------------------------------------------------------------

def test_the_current_shift_is_the_one_whose_window_holds_now_else_the_next_one_today(person):
    employee, _actor = person
    early = make_rostered_shift(employee, DAY, 6 * 60, 10 * 60)
    late = make_rostered_shift(employee, DAY + dt.timedelta(days=1), 14 * 60, 22 * 60)
    assert clock.current_shift(employee, at(employee, DAY, 5)) == early  # in the window before it
    assert clock.current_shift(employee, at(employee, DAY, 11, 30)) == early  # in the window after it
    assert clock.current_shift(employee, at(employee, DAY, 13)) is None  # nothing later that day
    assert clock.current_shift(employee, at(employee, DAY + dt.timedelta(days=1), 7)) == late  # later today


def test_an_overnight_shift_is_current_after_midnight(person):
    employee, actor = person
    night = make_rostered_shift(employee, DAY, 22 * 60, 6 * 60)
    after_midnight = at(employee, DAY + dt.timedelta(days=1), 3)
    assert night.ends_at - night.starts_at == dt.timedelta(hours=8)
    assert clock.current_shift(employee, after_midnight) == night
    clock.punch(actor, None, now=at(employee, DAY, 21, 50))
    assert clock.punch(actor, None, now=at(employee, DAY + dt.timedelta(days=1), 6, 5)).last.kind == "out"


def test_a_night_shift_across_germanys_clock_change_is_current_and_an_hour_shorter(db):
    employee, user = make_clock_person("EXDE")
    night = make_rostered_shift(employee, dt.date(2026, 3, 28), 22 * 60, 6 * 60)  # clocks go forward on the 29th
    assert night.ends_at - night.starts_at == dt.timedelta(hours=7)
    assert clock.current_shift(employee, at(employee, dt.date(2026, 3, 29), 4)) == night
    actor = Actor.for_user(user)
    clock.punch(actor, None, now=at(employee, dt.date(2026, 3, 28), 21, 55))
    assert clock.punch(actor, None, now=at(employee, dt.date(2026, 3, 29), 6, 2)).last.kind == "out"


# --- the events HR and leads read -------------------------------------------------------------------

def test_clock_events_stay_in_scope(person, hr_cn, hr_de, excn):
    employee, actor = person
    clock.punch(actor, None, "10.8.1.1", now=at(employee, DAY, 9))
    rows, _more = clock.clock_events(hr_cn, unit=employee.unit, day=DAY)
    assert [r.employee_id for r in rows] == [employee.id]
    assert clock.clock_events(hr_de, unit=excn, day=DAY)[0] == []
    assert clock.clock_events(hr_de, employee=employee, day=DAY)[0] == []
    from portal.core.errors import NotInScope
    with pytest.raises(NotInScope):
        clock.employee_in_scope(hr_de, employee.id)
