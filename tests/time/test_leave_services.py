"""Leave without HTTP: what a request costs (working days, 调休, hours), the refusals
(balance, overlap, dates), approval → ledger and state, reject/withdraw → state,
cancellation, the accrual job and the carry-over cap, and scope. Factory-made people
and dates in 2025/early 2026, away from the demo's leave around today."""
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from factories import give_leave, make_assignment, make_employee, make_leave_request, make_leave_type, make_post, \
    make_user
from portal.accounts.models import User
from portal.approvals.services import decide_step, withdraw_request
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Actor
from portal.people.models import Employee
from portal.time import leave
from portal.time.models import LeaveLedger, LeaveRequest, RosterEntry, ShiftType
from portal.time.services import company_zone, leave_overlapping, local_instant

D = dt.date


def actor(username):
    return Actor.for_user(User.get(User.username == username))


def fresh(row):
    return type(row).get_by_id(row.id)


def in_team(person, team):
    """The person holds a post in `team`, their home unit (leads see people through their posts)."""
    make_assignment(person, make_post("EXCN"), team, 100, is_primary=True)
    Employee.update(unit=team.id).where(Employee.id == person.id).execute()
    return Employee.get_by_id(person.id)


@pytest.fixture
def annual(db):
    return make_leave_type("EXCN", name="年假", needs_balance=True)


@pytest.fixture
def sick(db):
    return make_leave_type("EXCN", name="病假", needs_balance=False, paid=True)


@pytest.fixture
def comp(db):
    return make_leave_type("EXCN", name="调休假", unit="hour", needs_balance=True)


@pytest.fixture
def person(db):
    return make_employee("EXCN", legal_name="王小明", hire_date=D(2020, 1, 6))


# --- what a request costs ------------------------------------------------------------------------

def test_working_days_skip_weekends_and_holidays_and_count_a_tiaoxiu_saturday(person, sick):
    # 2026-02-09..13 Mon–Fri, 14 Sat is a working day (调休), 15 Sun, 16–20 and 23 Spring Festival.
    assert leave.working_days(person, D(2026, 2, 9), D(2026, 2, 23)) == 6
    assert leave.working_days(person, D(2026, 2, 14), D(2026, 2, 14)) == 1
    assert leave.working_days(person, D(2026, 2, 16), D(2026, 2, 23)) == 0
    quote = leave.quote_leave(person, sick, D(2026, 2, 9), D(2026, 2, 23))
    assert quote.amount == 600


def test_rostered_days_count_instead_of_the_calendar(person, sick):
    company = person.company
    shift = ShiftType.create(company=company, code="LV-E", name="Early", start_minute=9 * 60, end_minute=18 * 60)
    zone = company_zone(company)
    for day in (D(2025, 3, 3), D(2025, 3, 8), D(2025, 3, 9)):  # a Monday and a weekend the person works
        RosterEntry.create(employee=person, unit=company, company=company, day=day, shift_type=shift,
                           starts_at=local_instant(zone, day, 540), ends_at=local_instant(zone, day, 1080))
    assert leave.working_days(person, D(2025, 3, 3), D(2025, 3, 9)) == 3
    assert leave.quote_leave(person, sick, D(2025, 3, 8), D(2025, 3, 9)).amount == 200
    # outside the rostered stretch the calendar counts: Fri 28 Feb and Mon 10, Tue 11 March
    assert leave.working_days(person, D(2025, 2, 28), D(2025, 3, 11)) == 1 + 3 + 2


def test_hour_based_amount(person, comp):
    give_leave(person, comp, 800)
    quote = leave.quote_leave(person, comp, D(2025, 3, 4), None, 9 * 60, 12 * 60 + 30)
    assert quote.amount == 350 and quote.available_after == 450


def test_hour_based_leave_needs_a_sensible_time(person, comp):
    give_leave(person, comp, 800)
    with pytest.raises(ServiceError) as error:
        leave.quote_leave(person, comp, D(2025, 3, 4), None, 12 * 60, 9 * 60)
    assert error.value.field == "end_time"


def test_end_before_start_is_refused(person, sick):
    with pytest.raises(ServiceError) as error:
        leave.quote_leave(person, sick, D(2025, 3, 5), D(2025, 3, 4))
    assert error.value.field == "end_date" and "ends before it starts" in str(error.value.message)


def test_no_working_day_is_refused(person, sick):
    with pytest.raises(ServiceError) as error:
        leave.quote_leave(person, sick, D(2025, 3, 8), D(2025, 3, 9))  # a weekend
    assert "no working days" in str(error.value.message)


# --- refusals ------------------------------------------------------------------------------------

def test_exceeding_the_balance_is_refused_with_the_reason(person, annual):
    give_leave(person, annual, 200)
    with pytest.raises(ServiceError) as error:
        make_leave_request(person, annual, D(2025, 3, 3), D(2025, 3, 5))  # 3 working days
    message = str(error.value.message)
    assert "takes 3 days" in message and "only 2 days" in message
    assert not LeaveRequest.select().where(LeaveRequest.employee == person.id).exists()


def test_pending_requests_count_against_the_balance(person, annual):
    give_leave(person, annual, 300)
    make_leave_request(person, annual, D(2025, 3, 3), D(2025, 3, 4))
    person = fresh(person)
    assert leave.balance_of(person, annual).available == 100
    with pytest.raises(ServiceError) as error:
        make_leave_request(person, annual, D(2025, 3, 10), D(2025, 3, 11))
    assert "only 1 day" in str(error.value.message)


def test_types_without_a_balance_need_none(person, sick):
    request = make_leave_request(person, sick, D(2025, 3, 3), D(2025, 3, 7))
    assert request.amount == 500 and request.state == "pending"


def test_overlap_with_another_request_is_refused(person, annual, sick):
    give_leave(person, annual, 1000)
    make_leave_request(person, annual, D(2025, 3, 3), D(2025, 3, 5))
    with pytest.raises(ServiceError) as error:
        make_leave_request(fresh(person), sick, D(2025, 3, 5), D(2025, 3, 6))
    assert "overlaps" in str(error.value.message)
    make_leave_request(fresh(person), sick, D(2025, 3, 6), D(2025, 3, 6))  # the next day is free


def test_hour_requests_on_one_day_may_sit_side_by_side(person, comp):
    give_leave(person, comp, 800)
    make_leave_request(person, comp, D(2025, 3, 4), start_time=dt.time(9), end_time=dt.time(11))
    person = fresh(person)
    make_leave_request(person, comp, D(2025, 3, 4), start_time=dt.time(14), end_time=dt.time(16))
    with pytest.raises(ServiceError):
        make_leave_request(person, comp, D(2025, 3, 4), start_time=dt.time(10), end_time=dt.time(15))


# --- through the approval engine ---------------------------------------------------------------------

def test_approval_books_the_leave_and_approves_the_request(person, annual, hr_cn):
    give_leave(person, annual, 500)
    request = make_leave_request(person, annual, D(2025, 3, 3), D(2025, 3, 4))
    approval = request.approval
    assert approval.kind == "time.leave" and approval.state == "pending"
    decide_step(hr_cn, approval.id, approval.version, True, "")
    request = fresh(request)
    assert request.state == "approved"
    taken = LeaveLedger.get((LeaveLedger.request == request.id) & (LeaveLedger.kind == "taken"))
    assert taken.amount == -200
    assert leave.balance_of(fresh(person), annual).balance == 300
    assert request in leave_overlapping([person.id], D(2025, 3, 4), D(2025, 3, 4))


def test_rejection_closes_the_leave_request(person, sick, hr_cn):
    request = make_leave_request(person, sick, D(2025, 3, 3))
    decide_step(hr_cn, request.approval_id, request.approval.version, False, "人手不足")
    assert fresh(request).state == "rejected"
    assert not LeaveLedger.select().where(LeaveLedger.request == request.id).exists()


def test_withdrawal_closes_the_leave_request(person, annual):
    give_leave(person, annual, 500)
    request = make_leave_request(person, annual, D(2025, 3, 3))
    requester = Actor.for_user(User.get_by_id(fresh(person).user_id))
    withdraw_request(requester, request.approval_id, request.approval.version)
    assert fresh(request).state == "withdrawn"
    assert leave.balance_of(fresh(person), annual).pending == 0


def test_a_lead_files_leave_for_a_team_member_and_the_team_lead_approves(person, sick, jd_team, lead):
    member = in_team(person, jd_team)
    make_user(jd_team, username="co.lead.leave", role_key="team_lead")
    request = leave.submit_leave(lead, member, {"leave_type": sick.id, "start_date": D(2025, 3, 3),
                                                "end_date": D(2025, 3, 3), "reason": "发烧"})
    assert request.created_by_id == lead.user.id
    co_lead = actor("co.lead.leave")
    decide_step(co_lead, request.approval_id, request.approval.version, True, "")
    assert fresh(request).state == "pending"  # HR next
    decide_step(actor("hr.cn"), request.approval_id, fresh(request.approval).version, True, "")
    assert fresh(request).state == "approved"


def test_cancelling_approved_leave_returns_it(person, annual, hr_cn):
    give_leave(person, annual, 500)
    request = make_leave_request(person, annual, D(2025, 3, 3), D(2025, 3, 4))
    decide_step(hr_cn, request.approval_id, request.approval.version, True, "")
    leave.cancel_leave(hr_cn, fresh(request))
    assert fresh(request).state == "cancelled"
    assert leave.balance_of(fresh(person), annual).balance == 500
    with pytest.raises(ServiceError):
        leave.cancel_leave(hr_cn, fresh(request))


# --- scope ---------------------------------------------------------------------------------------------

def test_hr_de_cannot_act_on_a_cn_persons_leave(person, annual, hr_de, hr_cn):
    give_leave(person, annual, 500)
    request = make_leave_request(person, annual, D(2025, 3, 3))
    with pytest.raises(NotInScope):
        decide_step(hr_de, request.approval_id, request.approval.version, True, "")
    with pytest.raises(NotInScope):
        leave.submit_leave(hr_de, person, {"leave_type": annual.id, "start_date": D(2025, 4, 1)})
    with pytest.raises(NotInScope):
        leave.adjust_balance(hr_de, person, annual, 100, "Korrektur")
    with pytest.raises(NotInScope):
        leave.team_calendar(hr_de, person.company, D(2025, 3, 1), D(2025, 3, 31))
    decide_step(hr_cn, request.approval_id, request.approval.version, True, "")
    with pytest.raises(NotInScope):
        leave.cancel_leave(hr_de, fresh(request))
    assert fresh(request).state == "approved"


def test_an_agent_cannot_file_leave_for_someone_else(person, sick, actor_of):
    with pytest.raises(NotInScope):
        leave.submit_leave(actor_of("agent.jd1"), person, {"leave_type": sick.id, "start_date": D(2025, 4, 1)})


def test_adjustment_needs_a_reason_and_is_audited(person, annual, hr_cn):
    from portal.audit.models import AuditEvent

    with pytest.raises(ServiceError):
        leave.adjust_balance(hr_cn, person, annual, 100, "  ")
    leave.adjust_balance(hr_cn, person, annual, -150, "多记了一天半")
    assert leave.balance_of(person, annual).balance == -150
    assert AuditEvent.select().where(AuditEvent.action == "time.leave_adjusted").exists()


# --- accrual -------------------------------------------------------------------------------------------

def test_accrual_is_idempotent(db):
    monthly = make_leave_type("EXDE", accrual="monthly", accrual_amount=250)
    yearly = make_leave_type("EXDE", accrual="yearly", accrual_amount=3000)
    person = make_employee("EXDE", hire_date=D(2020, 1, 6))
    newcomer = make_employee("EXDE", hire_date=D(2031, 5, 1))
    leave.accrue_leave(D(2030, 11, 1))
    assert leave.accrue_leave(D(2030, 11, 1)) == {"accrued": 0, "expired": 0}
    assert leave.accrue_leave(D(2030, 11, 17)) == {"accrued": 0, "expired": 0}  # a later run that month
    entries = list(LeaveLedger.select().where((LeaveLedger.employee == person.id)
                                              & LeaveLedger.leave_type.in_([monthly.id, yearly.id]))
                   .order_by(LeaveLedger.amount))
    assert [(e.leave_type_id, e.amount, e.period) for e in entries] == [(monthly.id, 250, "2030-11"),
                                                                         (yearly.id, 3000, "2030")]
    assert not LeaveLedger.select().where(LeaveLedger.employee == newcomer.id).exists()
    leave.accrue_leave(D(2030, 12, 1))
    assert leave.balance_of(person, monthly).balance == 500


def test_carry_over_cap_expires_the_excess_at_the_year_change(db):
    capped = make_leave_type("EXDE", accrual="yearly", accrual_amount=3000, carry_over_cap=500)
    person = make_employee("EXDE", hire_date=D(2020, 1, 6))
    below = make_employee("EXDE", hire_date=D(2020, 1, 6))
    give_leave(person, capped, 1200, day=D(2032, 3, 1))
    give_leave(below, capped, 300, day=D(2032, 3, 1))
    give_leave(person, capped, -200, kind="taken", day=D(2032, 8, 1))
    assert leave.accrue_leave(D(2033, 1, 1))["expired"] >= 1
    expiry = LeaveLedger.get((LeaveLedger.employee == person.id) & (LeaveLedger.kind == "expiry"))
    assert (expiry.amount, expiry.period, expiry.day) == (-500, "2033", D(2033, 1, 1))
    assert not LeaveLedger.select().where((LeaveLedger.employee == below.id)
                                          & (LeaveLedger.kind == "expiry")).exists()
    assert leave.balance_of(person, capped).balance == 500 + 3000
    assert leave.accrue_leave(D(2033, 1, 2)) == {"accrued": 0, "expired": 0}


# --- the balance arithmetic ----------------------------------------------------------------------------

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.integers(-2000, 2000), max_size=6), days=st.integers(1, 5))
def test_a_request_fits_exactly_when_the_available_balance_covers_it(db, entries, days):
    annual = make_leave_type("EXCN")
    person = make_employee("EXCN", hire_date=D(2020, 1, 6))
    for amount in entries:
        give_leave(person, annual, amount, kind="adjustment")
    start = D(2025, 3, 3)  # a Monday: `days` working days up to Friday
    try:
        quote = leave.quote_leave(person, annual, start, start + dt.timedelta(days=days - 1))
    except ServiceError:
        assert sum(entries) < days * 100
    else:
        assert quote.amount == days * 100
        assert quote.balance.balance == sum(entries)
        assert quote.available_after == sum(entries) - days * 100 >= 0


def test_accrual_runs_as_a_daily_job_and_from_the_cli(app):
    from portal.core.jobs import JOB_FUNCTIONS

    assert "time.leave_accrual" in JOB_FUNCTIONS
    monthly = make_leave_type("EXHK", accrual="monthly", accrual_amount=100)
    person = make_employee("EXHK", hire_date=D(2020, 1, 6))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["time", "accrue-leave", "--date", "2034-05-01"])
    assert result.exit_code == 0 and "Accrued" in result.output
    assert runner.invoke(args=["time", "accrue-leave", "--date", "2034-05-09"]).output.startswith("Accrued 0 ")
    assert leave.balance_of(person, monthly).balance == 100
    assert runner.invoke(args=["time", "accrue-leave", "--date", "May"]).exit_code != 0


def test_a_type_in_use_keeps_its_unit(person, annual, hr_cn):
    values = {name: getattr(annual, name) for name in leave.TYPE_FIELDS}
    renamed = leave.update_leave_type(hr_cn, annual, {**values, "name": "带薪年假"}, annual.version)
    assert renamed.name == "带薪年假" and renamed.version == annual.version + 1
    give_leave(person, renamed, 100)
    with pytest.raises(ServiceError) as error:
        leave.update_leave_type(hr_cn, renamed, {**values, "unit": "hour"}, renamed.version)
    assert error.value.field == "unit"
    with pytest.raises(ServiceError):  # a stale version
        leave.update_leave_type(hr_cn, renamed, values, annual.version)


def test_hr_de_cannot_edit_cn_types(annual, hr_de):
    with pytest.raises(NotInScope):
        leave.archive_leave_type(hr_de, annual)
    with pytest.raises(NotInScope):
        leave.create_leave_type(hr_de, annual.company, {"code": "X", "name": "X", "unit": "day", "accrual": "none"})
