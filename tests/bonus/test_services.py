"""Bonus services (portal/bonus/services.py) on the demo group, without HTTP: rules and
versions, pools from assignments (capacity across two teams), the exact total, the
what-if preview, adjustments, approval, the locked-pool guarantee, corrections,
scope of statements and team tables, and conversion to the pay currency."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from bonus_data import (give_points, make_pool, make_rule, members, points_definition, points_for_everyone,
                        this_month, two_dimension_definition)
from factories import SYSTEM, make_assignment, make_contract, make_post, make_team_member, unit_by_code
from portal.accounts.models import User
from portal.approvals.services import decide_step
from portal.audit.models import AuditEvent
from portal.bonus import engine, services
from portal.bonus.models import MODELS, BonusAdjustment, BonusLine, BonusPool, BonusPoolMember
from portal.core import fx
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Actor
from portal.people.models import Assignment, Employee


def lines(pool):
    return list(BonusLine.select().where(BonusLine.pool == pool.id).order_by(BonusLine.employee))


def bonus_rows():
    """Every row of every bonus table, to prove nothing changed."""
    return {model.__name__: list(model.select().order_by(model.id).tuples()) for model in MODELS}


def fresh(pool):
    return BonusPool.get_by_id(pool.id)


def computed(unit, amount_minor=1_000_000, definition=None, step=1, **kwargs):
    pool = make_pool(unit, amount_minor, definition=definition, **kwargs)
    points_for_everyone(pool, step)
    services.compute_pool(SYSTEM, pool)
    return fresh(pool)


def approve(pool, submitter, approver="admin"):
    request = services.submit_pool(submitter, pool)
    decide_step(Actor.for_user(User.get(User.username == approver)), request.id, request.version, True, "")
    return fresh(pool)


# --- rules ---------------------------------------------------------------------------------------

def test_a_published_version_never_changes_and_editing_starts_the_next(hr_cn, excn):
    draft = services.create_rule(hr_cn, excn, "CS rule", points_definition())
    edited = services.save_rule_draft(hr_cn, draft.rule, points_definition(floor_minor=500))
    assert edited.id == draft.id and services.definition_of(edited)["floor_minor"] == 500
    published = services.publish_rule_version(hr_cn, edited)
    with pytest.raises(ServiceError):
        services.publish_rule_version(hr_cn, published)
    second = services.save_rule_draft(hr_cn, published.rule, points_definition(floor_minor=900))
    assert second.number == 2 and second.published_at is None
    assert services.definition_of(services.BonusRuleVersion.get_by_id(published.id))["floor_minor"] == 500


def test_definitions_are_checked_field_by_field(hr_cn, excn):
    with pytest.raises(ServiceError) as error:
        services.create_rule(hr_cn, excn, "Bad", points_definition(dimensions=[
            {"source": "hr.support_points", "weight": -1}]))
    assert error.value.field == "dimensions-0-weight"
    with pytest.raises(ServiceError) as error:
        services.create_rule(hr_cn, excn, "Bad", points_definition(dimensions=[{"source": "nowhere", "weight": 1}]))
    assert error.value.field == "dimensions-0-source"
    with pytest.raises(ServiceError) as error:
        services.create_rule(hr_cn, excn, "Bad", points_definition(floor_minor=900, cap_minor=100))
    assert error.value.field == "cap_minor"


def test_a_pool_takes_published_versions_of_its_company_only(hr_cn, excn, jd_team):
    draft = make_rule(excn, publish=False)
    with pytest.raises(ServiceError) as error:
        services.create_pool(hr_cn, jd_team, this_month(), 100_000, "CNY", draft)
    assert error.value.field == "rule_version"
    german = make_rule(unit_by_code("EXDE"))
    with pytest.raises(ServiceError):
        services.create_pool(hr_cn, jd_team, this_month(), 100_000, "CNY", german)


# --- members ---------------------------------------------------------------------------------------

def test_members_come_from_the_teams_assignments_and_a_person_in_two_teams_takes_part_in_both_by_capacity(
        jd_team, vip_team):
    company = jd_team.company
    person = make_team_member(jd_team)  # 100 % in JD team A since 2024 …
    # … and holds 60 % there, 40 % in Vipshop team A since before this month
    Assignment.update(share=60).where(Assignment.employee == person.id).execute()
    make_assignment(person, make_post(company), vip_team, share=40, start_date=this_month() - dt.timedelta(days=40))
    jd_pool, vip_pool = make_pool(jd_team), make_pool(vip_team)
    jd = BonusPoolMember.get(pool=jd_pool.id, employee=person.id)
    vip = BonusPoolMember.get(pool=vip_pool.id, employee=person.id)
    assert (jd.participation, vip.participation) == (pytest.approx(0.6), pytest.approx(0.4))
    assert json.loads(vip.assignments)[0]["share"] == 40

    # the same data in both pools: the amounts follow the capacity share
    give_points(jd_pool, {m.employee_id: 5 for m in members(jd_pool)})
    give_points(vip_pool, {m.employee_id: 5 for m in members(vip_pool)})
    services.compute_pool(SYSTEM, jd_pool)
    services.compute_pool(SYSTEM, vip_pool)
    full_time = next(line for line in lines(jd_pool) if line.participation == 1.0)
    mine = BonusLine.get(pool=jd_pool.id, employee=person.id)
    assert abs(mine.amount_minor - round(full_time.amount_minor * 0.6)) <= 1


def test_someone_joining_mid_month_takes_part_for_the_days_held(jd_team):
    start = this_month()
    days = services.month_period(start)[1].day
    newcomer = make_team_member(jd_team, start_date=start + dt.timedelta(days=10))
    pool = make_pool(jd_team)
    member = BonusPoolMember.get(pool=pool.id, employee=newcomer.id)
    assert member.participation == pytest.approx((days - 10) / days)


def test_refreshing_members_adds_newcomers_and_clears_the_lines(jd_team):
    pool = computed(jd_team)
    newcomer = make_team_member(jd_team)
    assert services.refresh_members(SYSTEM, pool) == (1, 0)
    assert BonusPoolMember.select().where((BonusPoolMember.pool == pool.id)
                                          & (BonusPoolMember.employee == newcomer.id)).exists()
    assert not lines(pool) and fresh(pool).computed_at is None


# --- computing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount,unit", [(1_000_003, 1), (777_777, 100), (12_345_678_9, 1000)])
def test_lines_sum_exactly_to_the_pool_and_rounding_leaves_a_recorded_leftover(jd_team, amount, unit):
    pool = computed(jd_team, amount, definition=points_definition(rounding_unit_minor=unit))
    total = sum(line.amount_minor for line in lines(pool))
    assert total + fresh(pool).leftover_minor == amount
    assert fresh(pool).leftover_minor < unit
    assert all(line.rule_amount_minor % unit == 0 for line in lines(pool))


def test_the_team_multiplier_applies_when_the_target_is_met(jd_team):
    definition = points_definition(team_multiplier_bp=11_000, team_target={
        "source": "hr.support_points", "direction": "higher", "threshold": 1})
    pool = computed(jd_team, 1_000_000, definition=definition)
    assert fresh(pool).target_met is True and fresh(pool).effective_minor == 1_100_000
    assert sum(line.amount_minor for line in lines(pool)) == 1_100_000
    missed = points_definition(team_multiplier_bp=11_000, team_target={
        "source": "hr.support_points", "direction": "higher", "threshold": 10_000})
    other = computed(unit_by_code("CN-JD-CS-B"), 1_000_000, definition=missed)
    assert fresh(other).target_met is False and sum(line.amount_minor for line in lines(other)) == 1_000_000


def test_probation_is_excluded_or_scaled_and_floors_hold(jd_team):
    rookie = make_team_member(jd_team)
    Employee.update(status="probation").where(Employee.id == rookie.id).execute()
    excluded = computed(jd_team, definition=points_definition(eligibility={"probation": "exclude"}))
    line = BonusLine.get(pool=excluded.id, employee=rookie.id)
    assert (line.amount_minor, line.ineligible_reason) == (0, "probation")
    floors = computed(unit_by_code("CN-JD-CS-B"), definition=points_definition(floor_minor=20_000))
    assert all(line.amount_minor >= 20_000 for line in lines(floors))
    assert sum(line.amount_minor for line in lines(floors)) == 1_000_000


def test_infeasible_floors_are_refused_with_a_message_and_nothing_is_stored(jd_team):
    pool = make_pool(jd_team, 10_000, definition=points_definition(floor_minor=5_000))
    with pytest.raises(ServiceError, match="floors"):
        services.compute_pool(SYSTEM, pool)
    assert not lines(pool) and fresh(pool).computed_at is None


def test_cs_dimensions_come_from_the_cs_daily_metrics(hr_cn, jd_team):
    from portal.cs.metrics import read_daily
    from portal.cs.models import CsDailyMetric

    version = make_rule(jd_team.company, services.DEFAULT_DEFINITION, name="CS default")
    pool = make_pool(jd_team, version=version, period=dt.date.today())
    result = services.compute_pool(hr_cn, pool)
    assert sum(p.amount_minor for p in result.people) == pool.amount_minor
    person = max(result.people, key=lambda p: p.raw["cs.workload"] or 0)
    data = read_daily(CsDailyMetric.employee == person.employee_id, pool.period_start, pool.period_end)
    assert person.raw["cs.workload"] == pytest.approx(float(data.columns["workload"].sum()))
    assert person.raw["cs.workload"] > 0


# --- the what-if -----------------------------------------------------------------------------------

def test_the_preview_saves_nothing_and_reports_who_gains_and_loses(jd_team):
    pool = computed(jd_team, definition=two_dimension_definition())
    before, events = bonus_rows(), AuditEvent.select().count()
    preview = services.preview_pool(SYSTEM, pool, {"weights": {"support": 5, "tenure": 95}})
    assert bonus_rows() == before and AuditEvent.select().count() == events
    assert preview.error is None and preview.baseline == "own"
    assert preview.total_minor == pool.amount_minor
    assert preview.gainers and preview.losers and preview.gained_minor == preview.lost_minor
    saved = {line.employee_id: line.amount_minor for line in lines(pool)}
    assert all(p.saved_amount_minor == saved[p.employee_id] for p in preview.people)
    assert sum(p.delta_minor for p in preview.people) == 0


def test_the_preview_with_the_saved_rule_changes_nothing(jd_team):
    pool = computed(jd_team, definition=two_dimension_definition())
    preview = services.preview_pool(SYSTEM, pool)
    assert all(p.delta_minor == 0 for p in preview.people)
    assert (preview.gainers, preview.losers) == (0, 0)


def test_an_infeasible_preview_says_why_instead_of_failing(jd_team):
    pool = computed(jd_team, 100_000)
    preview = services.preview_pool(SYSTEM, pool, {"floor_minor": 90_000})
    assert "floors" in preview.error
    assert all(p.saved_amount_minor is not None for p in preview.people)


def test_a_preview_with_a_new_dimension_gathers_its_values(jd_team):
    pool = computed(jd_team)
    definition = two_dimension_definition()
    preview = services.preview_pool(SYSTEM, pool, {"dimensions": definition["dimensions"]})
    assert preview.error is None and any(p.delta_minor for p in preview.people)


# --- adjustments -------------------------------------------------------------------------------------

def test_an_adjustment_needs_a_reason_and_keeps_the_total_exact(jd_team):
    pool = computed(jd_team, 1_000_001)
    member = members(pool)[0]
    with pytest.raises(ServiceError) as error:
        services.add_adjustment(SYSTEM, pool, member, 5_000, "  ")
    assert error.value.field == "reason"
    before = BonusLine.get(pool=pool.id, member=member.id).amount_minor
    services.add_adjustment(SYSTEM, pool, member, 30_000, "Covered the night shift for a week")
    line = BonusLine.get(pool=pool.id, member=member.id)
    assert line.adjustment_minor == 30_000 and line.amount_minor == line.rule_amount_minor + 30_000
    assert line.amount_minor > before
    assert sum(x.amount_minor for x in lines(pool)) == 1_000_001
    adjustment = BonusAdjustment.get(member=member.id)
    services.remove_adjustment(SYSTEM, adjustment)
    assert BonusLine.get(pool=pool.id, member=member.id).amount_minor == before


def test_adjustments_above_the_pool_are_refused_and_change_nothing(jd_team):
    pool = computed(jd_team, 10_000)
    before = bonus_rows()
    with pytest.raises(ServiceError, match="adjustments"):
        services.add_adjustment(SYSTEM, pool, members(pool)[0], 20_000, "Too generous")
    assert bonus_rows() == before


# --- workflow ----------------------------------------------------------------------------------------

def test_approval_flow_submitted_then_approved_by_the_chain(hr_cn, jd_team):
    pool = computed(jd_team)
    request = services.submit_pool(hr_cn, pool)
    assert fresh(pool).state == "submitted" and fresh(pool).approval_id == request.id
    with pytest.raises(ServiceError):  # waiting for approval: no change
        services.compute_pool(hr_cn, pool)
    with pytest.raises(ServiceError):  # nobody approves their own request
        decide_step(hr_cn, request.id, request.version, True, "")
    approved = approve_request(request)
    assert approved.state == "approved" and approved.approved_at is not None
    assert services.lock_pool(hr_cn, approved).state == "locked"


def approve_request(request):
    decide_step(Actor.for_user(User.get(User.username == "admin")), request.id, request.version, True, "")
    return BonusPool.get(BonusPool.approval == request.id)


def test_a_rejected_or_withdrawn_pool_is_a_draft_again(hr_cn, jd_team):
    pool = computed(jd_team)
    request = services.submit_pool(hr_cn, pool)
    admin = Actor.for_user(User.get(User.username == "admin"))
    decide_step(admin, request.id, request.version, False, "Workload figures look off")
    assert fresh(pool).state == "draft" and fresh(pool).approval_id is None
    services.submit_pool(hr_cn, pool)
    assert services.withdraw_pool(hr_cn, pool).state == "draft"


def test_an_uncomputed_pool_cannot_be_submitted(hr_cn, jd_team):
    with pytest.raises(ServiceError, match="Compute"):
        services.submit_pool(hr_cn, make_pool(jd_team))


def test_a_locked_pool_never_changes(hr_cn, jd_team):
    pool = computed(jd_team)
    services.add_adjustment(hr_cn, pool, members(pool)[0], 1_000, "Mentoring")
    pool = services.lock_pool(hr_cn, approve(pool, hr_cn))
    adjustment = BonusAdjustment.get(pool=pool.id)
    member = members(pool)[1]
    before, version = bonus_rows(), services.definition_of(services.BonusRuleVersion.get_by_id(pool.rule_version_id))
    writes = [
        lambda: services.compute_pool(hr_cn, pool),
        lambda: services.refresh_members(hr_cn, pool),
        lambda: services.update_pool(hr_cn, pool, pool.version, amount_minor=5),
        lambda: services.add_adjustment(hr_cn, pool, member, 500, "After the fact"),
        lambda: services.remove_adjustment(hr_cn, adjustment),
        lambda: services.submit_pool(hr_cn, pool),
        lambda: services.lock_pool(hr_cn, pool),
        lambda: services.withdraw_pool(hr_cn, pool),
    ]
    for write in writes:
        with pytest.raises(ServiceError):
            write()
    assert bonus_rows() == before
    assert services.definition_of(services.BonusRuleVersion.get_by_id(pool.rule_version_id)) == version


def test_a_correction_is_a_new_version_with_its_reason(hr_cn, jd_team):
    pool = computed(jd_team)
    services.add_adjustment(hr_cn, pool, members(pool)[0], 2_000, "Weekend cover")
    locked = services.lock_pool(hr_cn, approve(pool, hr_cn))
    with pytest.raises(ServiceError) as error:
        services.correct_pool(hr_cn, locked, "")
    assert error.value.field == "reason"
    correction = services.correct_pool(hr_cn, locked, "Appeal accepted: two conversations were credited wrongly")
    assert (correction.number, correction.corrects_id, correction.state) == (2, locked.id, "draft")
    assert [m.employee_id for m in members(correction)] == [m.employee_id for m in members(locked)]
    assert BonusAdjustment.get(pool=correction.id).reason == "Weekend cover"
    assert fresh(locked).state == "locked" and lines(locked)
    assert services.preview_pool(hr_cn, correction).baseline == "corrected"
    with pytest.raises(ServiceError):  # one correction at a time, from the latest version
        services.correct_pool(hr_cn, locked, "Again")
    services.compute_pool(hr_cn, correction)
    assert sum(line.amount_minor for line in lines(correction)) == correction.amount_minor
    assert services.latest_pool(jd_team, correction.period_start).id == correction.id


def test_a_second_pool_for_the_same_team_and_month_is_refused(jd_team):
    make_pool(jd_team)
    with pytest.raises(ServiceError) as error:
        make_pool(jd_team)
    assert error.value.field == "period"


def test_every_write_is_audited(hr_cn, jd_team):
    first = AuditEvent.select().count()
    pool = computed(jd_team)
    services.add_adjustment(hr_cn, pool, members(pool)[0], 1_000, "Mentoring")
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.id > first).order_by(AuditEvent.id)]
    assert {"bonus.rule_created", "bonus.rule_published", "bonus.pool_created", "bonus.support_points_added",
            "bonus.pool_computed", "bonus.adjustment_added"} <= set(actions)


# --- scope -------------------------------------------------------------------------------------------

def test_an_agent_sees_only_their_own_statement_once_approved(actor_of, hr_cn, jd_team):
    agent = actor_of("agent.jd1")
    me = Employee.get(Employee.user == agent.user.id)
    pool = computed(jd_team)
    with pytest.raises(NotInScope):  # a draft is not theirs to read yet
        services.statement_for(agent, pool, me)
    pool = approve(pool, hr_cn)
    statement = services.statement_for(agent, pool, me)
    assert statement.employee.id == me.id and statement.line.employee_id == me.id
    other = next(m.employee_id for m in members(pool) if m.employee_id != me.id)
    with pytest.raises(NotInScope):
        services.statement_for(agent, pool, other)
    with pytest.raises(NotInScope):
        services.team_table(agent, pool)
    assert [p.id for p, _line in services.my_statements(agent)] == [pool.id]
    assert services.pools_for(agent) == []


def test_a_lead_sees_their_teams_table_and_statements_only(lead, jd_team, vip_team):
    mine, theirs = computed(jd_team), computed(vip_team)
    table = services.team_table(lead, mine)
    assert len(table.rows) == len(members(mine)) and table.total_minor == mine.amount_minor
    assert [row.line.rank for row in table.rows] == sorted(row.line.rank for row in table.rows)
    services.statement_for(lead, mine, members(mine)[0].employee_id)
    with pytest.raises(NotInScope):
        services.team_table(lead, theirs)
    with pytest.raises(NotInScope):
        services.statement_for(lead, theirs, members(theirs)[0].employee_id)
    with pytest.raises(NotInScope):
        services.preview_pool(lead, theirs)
    assert {p.id for p in services.pools_for(lead)} == {mine.id}
    with pytest.raises(NotInScope):  # leads see and give points, but do not prepare pools
        services.compute_pool(lead, mine)


def test_hr_of_another_company_reaches_nothing(hr_de, jd_team):
    pool = computed(jd_team)
    assert services.pools_for(hr_de) == []
    for call in (lambda: services.team_table(hr_de, pool), lambda: services.compute_pool(hr_de, pool),
                 lambda: services.preview_pool(hr_de, pool),
                 lambda: services.statement_for(hr_de, pool, members(pool)[0].employee_id)):
        with pytest.raises(NotInScope):
            call()


def test_support_points_need_a_reason_and_a_person_of_the_team(lead, jd_team, vip_team):
    person = make_team_member(jd_team)
    stranger = make_team_member(vip_team)
    with pytest.raises(ServiceError) as error:
        services.add_support_points(lead, person, jd_team, this_month(), 3, "")
    assert error.value.field == "reason"
    with pytest.raises(ServiceError) as error:
        services.add_support_points(lead, stranger, jd_team, this_month(), 3, "Helped")
    assert error.value.field == "employee"
    with pytest.raises(NotInScope):
        services.add_support_points(lead, stranger, vip_team, this_month(), 3, "Helped")
    services.add_support_points(lead, person, jd_team, this_month(), 3, "Trained two newcomers")
    assert [p.points for p in services.support_points_for(lead, jd_team, this_month())] == [3]


# --- statements and currencies -----------------------------------------------------------------------

def test_the_statement_explains_every_dimension_and_the_adjustments(hr_cn, jd_team):
    pool = computed(jd_team, definition=two_dimension_definition())
    member = members(pool)[0]
    services.add_adjustment(hr_cn, pool, member, -1_000, "Late reports")
    statement = services.statement_for(hr_cn, fresh(pool), member.employee_id)
    assert [d.info.key for d in statement.dimensions] == ["support", "tenure"]
    for dim in statement.dimensions:
        assert dim.team_min <= dim.raw <= dim.team_max
        assert dim.contribution == pytest.approx(dim.info.weight * dim.normalised)
    assert statement.line.score == pytest.approx(sum(d.contribution for d in statement.dimensions))
    assert [a.reason for a in statement.adjustments] == ["Late reports"]
    assert statement.line.amount_minor == statement.line.rule_amount_minor - 1_000
    assert statement.eligibility["participation"] == 1.0


def test_amounts_are_converted_to_the_pay_currency_with_the_rate_recorded(jd_team):
    expat = make_team_member(jd_team)
    make_contract(expat, currency="HKD", start_date=dt.date(2024, 1, 1))
    pool = computed(jd_team, 1_000_000)
    line = BonusLine.get(pool=pool.id, employee=expat.id)
    rate = fx.rate_for("CNY", "HKD", min(pool.period_end, dt.date.today()))
    assert (line.pay_currency, Decimal(line.rate), line.rate_date, line.rate_source) == (
        "HKD", rate.rate, rate.rate_date, rate.source)
    assert "ECB" in line.rate_source and line.rate_date <= pool.period_end
    assert line.pay_amount_minor == engine.convert_minor_units(line.amount_minor, 2, 2, rate.rate)
    local = next(x for x in lines(pool) if x.employee_id != expat.id)
    assert (local.pay_currency, local.rate, local.pay_amount_minor) == ("CNY", "1", local.amount_minor)


def test_a_yen_pool_converts_with_half_even_rounding_into_yuan(jd_team):
    pool = computed(jd_team, 1_234_567, currency="JPY")
    line = next(x for x in lines(pool) if x.amount_minor)
    assert line.currency == "JPY" and line.pay_currency == "CNY"
    assert line.pay_amount_minor == engine.convert_minor_units(line.amount_minor, 0, 2, Decimal(line.rate))


def test_rates_come_from_the_last_business_day_and_name_their_source():
    saturday = dt.date(2025, 3, 1)
    rate = fx.rate_for("CNY", "EUR", saturday)
    assert rate.rate_date == dt.date(2025, 2, 28) and rate.rate > 0 and "ECB" in rate.source
    assert fx.rate_for("CNY", "CNY", saturday) == fx.Rate(Decimal(1), saturday, "")
    with pytest.raises(fx.RateUnavailable):
        fx.rate_for("CNY", "XXX", saturday)


def test_the_snapshot_hash_is_stable_and_recorded_on_submission(hr_cn, jd_team):
    pool = computed(jd_team)
    digest = services.snapshot_hash(pool)
    assert digest == services.snapshot_hash(fresh(pool)) and len(digest) == 64
    services.submit_pool(hr_cn, pool)
    event = AuditEvent.select().where(AuditEvent.action == "bonus.pool_submitted").order_by(AuditEvent.id.desc()).get()
    assert json.loads(event.after)["snapshot_sha256"] == digest
