"""Assignments through the services, without HTTP: who may assign, the capacity and
primary rules, transfers split at the effective date, ending, home units."""
import datetime as dt

import pytest

from factories import SYSTEM, make_assignment, make_employee, make_post, unit_by_code
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.core.jobs import start_job
from portal.people.assignments import (
    ProposedAssignment, assign_post, capacity_violations, check_capacity, current_assignments, end_assignment,
    primary_violations, sync_home_units, transfer_assignment,
)
from portal.people.models import Assignment, Employee

pytestmark = pytest.mark.usefixtures("db")

TODAY = dt.date.today()
DAY = dt.timedelta(days=1)


@pytest.fixture
def person(db):
    return make_employee("EXCN", legal_name="周晨")


@pytest.fixture
def jd_post(db):
    return make_post("EXCN", code="CS-JD", title="京东客服", capacity=60)


@pytest.fixture
def vip_post(db):
    return make_post("EXCN", code="CS-VIP", title="唯品会客服", capacity=40)


def fresh(row):
    return type(row).get_by_id(row.id)


def last_event():
    return AuditEvent.select().order_by(AuditEvent.id.desc()).first()


# --- assigning ---------------------------------------------------------------------------

def test_assign_a_primary_post_moves_the_home_unit_and_is_audited(hr_cn, person, jd_post, jd_team):
    assignment = assign_post(hr_cn, person, jd_post, jd_team, 60, TODAY - 10 * DAY, is_primary=True)
    assert (assignment.share, assignment.is_primary, assignment.end_date) == (60, True, None)
    assert fresh(person).unit_id == jd_team.id
    event = last_event()
    assert (event.action, event.actor_name, event.unit_id) == ("people.assignment_created", "hr.cn", jd_team.id)
    assert event.object_id == str(assignment.id) and "京东客服" in event.object_label


def test_a_secondary_post_leaves_the_home_unit(hr_cn, person, jd_post, jd_team):
    assign_post(hr_cn, person, jd_post, jd_team, 60, TODAY - 10 * DAY)
    assert fresh(person).unit_id == person.company_id


def test_current_assignments_lists_those_in_force_primary_first(person, jd_post, vip_post, jd_team, vip_team):
    make_assignment(person, vip_post, vip_team, 40, TODAY - 20 * DAY)
    primary = make_assignment(person, jd_post, jd_team, 60, TODAY - 10 * DAY, is_primary=True)
    make_assignment(person, jd_post, jd_team, 100, TODAY - 400 * DAY, TODAY - 30 * DAY)  # over
    held = current_assignments(person)
    assert [a.id for a in held][0] == primary.id and len(held) == 2
    assert held[0].post.title == "京东客服" and held[0].unit.code == "CN-JD-CS-A"
    assert current_assignments(person, on=TODAY - 15 * DAY)[0].post.title == "唯品会客服"


@pytest.mark.parametrize("share", [0, -5, 101, 250])
def test_share_must_be_a_percentage(person, jd_post, jd_team, share):
    with pytest.raises(ServiceError) as error:
        assign_post(SYSTEM, person, jd_post, jd_team, share, TODAY)
    assert error.value.field == "share"


def test_dates_must_be_in_order(person, jd_post, jd_team):
    with pytest.raises(ServiceError) as error:
        assign_post(SYSTEM, person, jd_post, jd_team, 50, TODAY, TODAY - DAY)
    assert error.value.field == "end_date"


def test_the_unit_must_belong_to_the_posts_company(person, jd_post):
    with pytest.raises(ServiceError) as error:
        assign_post(SYSTEM, person, jd_post, unit_by_code("EXDE-CS-CS1"), 50, TODAY)
    assert error.value.field == "unit"


def test_a_person_may_hold_a_post_of_another_company(person):
    german_post = make_post("EXDE", code="KS", title="Kundenservice")
    assignment = assign_post(SYSTEM, person, german_post, unit_by_code("EXDE-CS-CS1"), 30, TODAY)
    assert assignment.unit.company_id != person.company_id


def test_an_archived_post_cannot_be_assigned(person, jd_team):
    from portal.posts.services import archive_post

    post = archive_post(SYSTEM, make_post("EXCN"))
    with pytest.raises(ServiceError) as error:
        assign_post(SYSTEM, person, post, jd_team, 50, TODAY)
    assert error.value.field == "post"


def test_company_hr_cannot_assign_in_another_company(hr_de, person, jd_post, jd_team):
    with pytest.raises(NotInScope):
        assign_post(hr_de, person, jd_post, jd_team, 50, TODAY)
    assert not Assignment.select().where(Assignment.employee == person.id).exists()


def test_hr_cannot_assign_a_person_they_cannot_see_even_in_their_own_units(hr_de, person):
    german_post = make_post("EXDE")
    with pytest.raises(NotInScope):
        assign_post(hr_de, person, german_post, unit_by_code("EXDE-CS-CS1"), 30, TODAY)


def test_a_team_lead_cannot_assign(person, jd_post, jd_team, lead):
    with pytest.raises(NotInScope):
        assign_post(lead, person, jd_post, jd_team, 50, TODAY)


# --- the capacity rule -------------------------------------------------------------------

def test_shares_over_100_are_refused_naming_the_total_and_the_posts(person, jd_post, vip_post, jd_team, vip_team):
    make_assignment(person, jd_post, jd_team, 60, TODAY - 10 * DAY, is_primary=True)
    make_assignment(person, vip_post, vip_team, 30, TODAY - 5 * DAY)
    extra = make_post("EXCN", title="售后专员")
    with pytest.raises(ServiceError) as error:
        assign_post(SYSTEM, person, extra, vip_team, 20, TODAY)
    message = str(error.value.message)
    assert error.value.field == "share"
    assert "110%" in message and "京东客服 (60%)" in message and "唯品会客服 (30%)" in message and "售后专员 (20%)" in message
    assert Assignment.select().where(Assignment.employee == person.id).count() == 2


def test_shares_exactly_100_are_accepted(person, jd_post, vip_post, jd_team, vip_team):
    make_assignment(person, jd_post, jd_team, 60, TODAY, is_primary=True)
    make_assignment(person, vip_post, vip_team, 40, TODAY)
    with pytest.raises(ServiceError):  # full: not even one percent more
        check_capacity(person, 1, TODAY + 100 * DAY, None)


def test_assignments_that_do_not_overlap_in_time_do_not_add_up(person, jd_post, vip_post, jd_team, vip_team):
    make_assignment(person, jd_post, jd_team, 100, TODAY - 30 * DAY, TODAY - DAY)
    make_assignment(person, vip_post, vip_team, 100, TODAY)
    with pytest.raises(ServiceError):
        check_capacity(person, 10, TODAY - 2 * DAY, TODAY - DAY)


def test_the_first_overloaded_day_is_named(person, jd_post, vip_post, jd_team, vip_team):
    make_assignment(person, jd_post, jd_team, 80, TODAY + 10 * DAY)
    violations = capacity_violations([ProposedAssignment(person.id, 30, TODAY, None, label="x")])
    assert [(v.day, v.total) for v in violations] == [(TODAY + 10 * DAY, 110)]


def test_capacity_violations_checks_many_people_and_rows_against_each_other(person, jd_post, jd_team):
    other = make_employee("EXCN")
    make_assignment(person, jd_post, jd_team, 70, TODAY - 10 * DAY)
    proposed = [
        ProposedAssignment(person.id, 30, TODAY, None, label="a"),  # 70 + 30: fits
        ProposedAssignment(other.id, 60, TODAY, None, label="b"),
        ProposedAssignment(other.id, 50, TODAY + 5 * DAY, TODAY + 9 * DAY, label="c"),  # 110 with b
        ProposedAssignment(("new", "CN999"), 100, TODAY, None, label="d"),  # a person not stored yet
        ProposedAssignment(("new", "CN999"), 1, TODAY + 3 * DAY, TODAY + 3 * DAY, label="e"),
    ]
    violations = capacity_violations(proposed)
    # Each offending row is reported; b and c offend each other, d and e too.
    assert [v.index for v in violations] == [1, 2, 3, 4]
    by_index = {v.index: v for v in violations}
    assert by_index[1].day == TODAY + 5 * DAY and by_index[1].total == 110
    assert sorted(label for label, _share, _this in by_index[2].held) == ["b", "c"]


def test_a_replaced_assignment_is_left_out_of_the_sums(person, jd_post, jd_team):
    stored = make_assignment(person, jd_post, jd_team, 80, TODAY)
    assert capacity_violations([ProposedAssignment(person.id, 90, TODAY, None)])
    assert not capacity_violations([ProposedAssignment(person.id, 90, TODAY, None, replaces=stored.id)])


# --- one primary at a time ---------------------------------------------------------------

def test_only_one_primary_post_at_a_time(person, jd_post, vip_post, jd_team, vip_team):
    make_assignment(person, jd_post, jd_team, 50, TODAY - 10 * DAY, TODAY + 10 * DAY, is_primary=True)
    with pytest.raises(ServiceError) as error:
        assign_post(SYSTEM, person, vip_post, vip_team, 40, TODAY + 10 * DAY, is_primary=True)
    assert error.value.field == "is_primary" and "京东客服" in str(error.value.message)
    # the day after the first one ends, a new primary may start
    assign_post(SYSTEM, person, vip_post, vip_team, 40, TODAY + 11 * DAY, is_primary=True)


def test_primary_violations_ignores_secondary_posts(person, jd_post, jd_team):
    make_assignment(person, jd_post, jd_team, 50, TODAY, is_primary=True)
    assert not primary_violations([ProposedAssignment(person.id, 10, TODAY, None, is_primary=False)])
    assert primary_violations([ProposedAssignment(person.id, 10, TODAY, None, is_primary=True)])


# --- transfers ---------------------------------------------------------------------------

def test_a_transfer_splits_at_the_effective_date(hr_cn, person, jd_post, vip_post, jd_team, vip_team):
    old = make_assignment(person, jd_post, jd_team, 60, TODAY - 100 * DAY, is_primary=True)
    effective = TODAY + 7 * DAY
    new = transfer_assignment(hr_cn, old, vip_team, vip_post, 80, effective)
    old = fresh(old)
    assert old.end_date == effective - DAY and old.version == 2
    assert (new.start_date, new.end_date, new.unit_id, new.post_id, new.share, new.is_primary) == (
        effective, None, vip_team.id, vip_post.id, 80, True)
    # in force on each side of the split
    assert [a.id for a in current_assignments(person, on=effective - DAY)] == [old.id]
    assert [a.id for a in current_assignments(person, on=effective)] == [new.id]
    # the home unit moves when the transfer takes effect
    assert fresh(person).unit_id == jd_team.id
    assert sync_home_units(effective, [person.id]) == 1 and fresh(person).unit_id == vip_team.id
    event = last_event()
    assert event.action == "people.home_units_synced"
    transferred = AuditEvent.get(AuditEvent.action == "people.assignment_transferred")
    assert transferred.object_id == str(new.id) and '"end_date": null' in transferred.before


def test_a_transfer_keeps_a_secondary_post_secondary_and_its_planned_end(person, jd_post, vip_post, jd_team, vip_team):
    old = make_assignment(person, jd_post, jd_team, 40, TODAY - 10 * DAY, TODAY + 60 * DAY)
    new = transfer_assignment(SYSTEM, old, vip_team, vip_post, 40, TODAY)
    assert (new.is_primary, new.end_date) == (False, TODAY + 60 * DAY)


def test_a_transfer_today_moves_the_home_unit_at_once(person, jd_post, vip_post, jd_team, vip_team):
    old = make_assignment(person, jd_post, jd_team, 100, TODAY - 10 * DAY, is_primary=True)
    transfer_assignment(SYSTEM, old, vip_team, vip_post, 100, TODAY)
    assert fresh(person).unit_id == vip_team.id


@pytest.mark.parametrize("effective_offset", [-10, -20])
def test_a_transfer_must_take_effect_after_the_post_starts(person, jd_post, vip_post, jd_team, vip_team,
                                                           effective_offset):
    old = make_assignment(person, jd_post, jd_team, 100, TODAY - 10 * DAY)
    with pytest.raises(ServiceError) as error:
        transfer_assignment(SYSTEM, old, vip_team, vip_post, 100, TODAY + effective_offset * DAY)
    assert error.value.field == "effective_date"
    assert fresh(old).end_date is None


def test_a_transfer_after_the_post_ends_is_refused(person, jd_post, vip_post, jd_team, vip_team):
    old = make_assignment(person, jd_post, jd_team, 100, TODAY - 10 * DAY, TODAY)
    with pytest.raises(ServiceError):
        transfer_assignment(SYSTEM, old, vip_team, vip_post, 100, TODAY + DAY)


def test_a_transfer_that_breaks_the_capacity_rule_changes_nothing(person, jd_post, vip_post, jd_team, vip_team):
    old = make_assignment(person, jd_post, jd_team, 50, TODAY - 10 * DAY, is_primary=True)
    make_assignment(person, vip_post, vip_team, 50, TODAY - 10 * DAY)
    with pytest.raises(ServiceError):
        transfer_assignment(SYSTEM, old, vip_team, make_post("EXCN"), 60, TODAY + DAY)
    assert fresh(old).end_date is None
    assert Assignment.select().where(Assignment.employee == person.id).count() == 2


def test_hr_of_another_company_cannot_transfer(hr_de, person, jd_post, jd_team):
    old = make_assignment(person, jd_post, jd_team, 100, TODAY - 10 * DAY)
    with pytest.raises(NotInScope):
        transfer_assignment(hr_de, old, unit_by_code("EXDE-CS-CS1"), make_post("EXDE"), 100, TODAY)


# --- ending ------------------------------------------------------------------------------

def test_end_an_assignment(hr_cn, person, jd_post, jd_team):
    assignment = make_assignment(person, jd_post, jd_team, 100, TODAY - 10 * DAY, is_primary=True)
    ended = end_assignment(hr_cn, assignment, TODAY - DAY)
    assert ended.end_date == TODAY - DAY
    assert fresh(person).unit_id == person.company_id  # no primary post in force: back to the company
    assert last_event().action == "people.assignment_ended"


def test_an_assignment_cannot_end_before_it_starts(person, jd_post, jd_team):
    assignment = make_assignment(person, jd_post, jd_team, 100, TODAY)
    with pytest.raises(ServiceError) as error:
        end_assignment(SYSTEM, assignment, TODAY - DAY)
    assert error.value.field == "end_date"


def test_moving_an_end_later_must_still_fit(person, jd_post, vip_post, jd_team, vip_team):
    first = make_assignment(person, jd_post, jd_team, 60, TODAY - 10 * DAY, TODAY)
    make_assignment(person, vip_post, vip_team, 60, TODAY + DAY)
    with pytest.raises(ServiceError):
        end_assignment(SYSTEM, first, TODAY + 5 * DAY)


def test_a_stale_assignment_cannot_be_ended(person, jd_post, jd_team):
    assignment = make_assignment(person, jd_post, jd_team, 100, TODAY - 10 * DAY)
    end_assignment(SYSTEM, assignment, TODAY + 10 * DAY)
    with pytest.raises(ServiceError):
        end_assignment(SYSTEM, assignment, TODAY + 20 * DAY)  # the row read before the first change


# --- home units ----------------------------------------------------------------------------

def test_sync_home_units_job(person, jd_post, jd_team):
    make_assignment(person, jd_post, jd_team, 100, TODAY + 3 * DAY, is_primary=True)
    assert fresh(person).unit_id == person.company_id
    job = start_job("people.sync_home_units", args=[(TODAY + 3 * DAY).isoformat()])
    assert fresh(job).state == "succeeded"
    assert fresh(person).unit_id == jd_team.id


def test_the_daily_task_starts_the_job(person, jd_post, jd_team):
    from portal.jobs.models import Job
    from portal.people.assignments import daily_sync_home_units

    make_assignment(person, jd_post, jd_team, 100, TODAY - 3 * DAY, is_primary=True)
    Employee.update(unit=person.company_id).where(Employee.id == person.id).execute()  # out of step
    daily_sync_home_units.call_local()
    job = Job.select().where(Job.kind == "people.sync_home_units").get()
    assert job.state == "succeeded" and fresh(person).unit_id == jd_team.id


def test_sync_home_units_changes_nothing_when_all_is_in_step(person):
    events = AuditEvent.select().count()
    assert sync_home_units(TODAY) == 0
    assert AuditEvent.select().count() == events
    assert Employee.get_by_id(person.id).unit_id == person.company_id
