"""Bonus pages (portal/bonus/*_views.py) through HTTP, with and without HX-Request:
the rule list, editor (rows added and removed without saving) and publishing; pools
created, computed, submitted, locked and corrected; adjustments that need a reason;
the what-if preview, which writes nothing; and who may read which statement."""
import datetime as dt
import re

import pytest

from bonus_data import give_points, make_pool, make_rule, members, points_definition, points_for_everyone, this_month, \
    two_dimension_definition
from factories import SYSTEM, make_contract, make_team_member, unit_by_code
from pages import form_fields
from portal.accounts.models import User
from portal.approvals.services import decide_step
from portal.audit.models import AuditEvent
from portal.bonus import services
from portal.bonus.models import MODELS, BonusAdjustment, BonusLine, BonusPool, BonusRule, BonusRuleVersion
from portal.core.permissions import Actor
from portal.people.models import Employee


def bonus_rows():
    """Every row of every bonus table, and the audit trail's length: proof nothing changed."""
    rows = {model.__name__: list(model.select().order_by(model.id).tuples()) for model in MODELS}
    return rows, AuditEvent.select().count()


def fresh(pool):
    return BonusPool.get_by_id(pool.id)


def computed_pool(unit, definition=None, **kwargs):
    """A computed draft pool of `unit` where everyone has different support points."""
    pool = make_pool(unit, definition=definition, **kwargs)
    points_for_everyone(pool)
    services.compute_pool(SYSTEM, pool)
    return fresh(pool)


def approved_pool(unit, submitter, **kwargs):
    pool = computed_pool(unit, **kwargs)
    request = services.submit_pool(submitter, pool)
    decide_step(Actor.for_user(User.get(User.username == "admin")), request.id, request.version, True, "")
    return fresh(pool)


def body(response):
    return response.get_data(as_text=True)


def agent_employee():
    return Employee.get(Employee.user == User.get(User.username == "agent.jd1").id)


def statement_url(pool, employee_id):
    return f"/bonus/pools/{pool.id}/statements/{employee_id}"


# --- rules ---------------------------------------------------------------------------------------

def test_the_rule_list_shows_the_companys_rules_to_who_manages_them(hr_cn_client, lead_client, agent_client, excn):
    rule = make_rule(excn, name="Service rule").rule
    page = hr_cn_client.get("/bonus/rules")
    assert page.status_code == 200 and "Service rule" in body(page) and "<html" in body(page)
    assert f"/bonus/rules/{rule.id}" in body(page)
    fragment = hr_cn_client.get(f"/bonus/rules?company={excn.id}", htmx=True)
    assert "Service rule" in body(fragment) and "<html" not in body(fragment)
    other = hr_cn_client.get(f"/bonus/rules?company={unit_by_code('EXDE').id}")
    assert other.status_code == 404
    assert lead_client.get("/bonus/rules").status_code == 403
    assert agent_client.get("/bonus/rules").status_code == 403


def test_a_new_rule_is_made_in_the_editor_as_a_draft(hr_cn_client, excn):
    action = f"/bonus/rules/new?company={excn.id}"
    page = hr_cn_client.get(action)
    assert page.status_code == 200
    data = form_fields(body(page), action)
    assert data["dimensions-0-source"] == "cs.workload" and data["dimensions-3-source"] == "cs.satisfaction_shrunk"
    data.update({"name": "Editor rule", "floor": "100", "rounding_unit": "100", "note": "First try"})
    response = hr_cn_client.post(action, data)
    assert response.status_code == 302
    rule = BonusRule.get(BonusRule.name == "Editor rule")
    version = services.rule_versions(rule)[0]
    assert response.headers["Location"].endswith(f"/bonus/rules/{rule.id}")
    assert version.published_at is None and version.note == "First try"
    definition = services.definition_of(version)
    assert definition["floor_minor"] == 10_000 and definition["rounding_unit_minor"] == 100
    assert [d["weight"] for d in definition["dimensions"]] == [40, 20, 20, 20]
    assert definition["team_target"] is None and definition["eligibility"]["probation"] == "scale"


def test_dimension_rows_are_added_and_removed_without_saving(hr_cn_client, excn):
    draft = make_rule(excn, two_dimension_definition(), publish=False)
    action = f"/bonus/rules/{draft.rule_id}/edit"
    data = form_fields(body(hr_cn_client.get(action)), action)
    assert data["dimensions-1-source"] == "hr.tenure" and "dimensions-2-source" not in data
    before = bonus_rows()
    added = hr_cn_client.post(action, {**data, "op": "add"}, htmx=True)
    assert added.status_code == 200 and "<html" not in body(added)
    assert 'name="dimensions-2-source"' in body(added)
    removed = hr_cn_client.post(action, {**form_fields(body(added), action), "op": "remove-0"}, htmx=True)
    fields = form_fields(body(removed), action)
    assert fields["dimensions-0-source"] == "hr.tenure" and "dimensions-2-source" not in fields
    plain = hr_cn_client.post(action, {**data, "op": "add"})  # the same without htmx: the whole page
    assert plain.status_code == 200 and "<html" in body(plain) and 'name="dimensions-2-source"' in body(plain)
    assert bonus_rows() == before


def test_a_refused_definition_answers_422_next_to_its_field(hr_cn_client, excn):
    draft = make_rule(excn, two_dimension_definition(), publish=False)
    action = f"/bonus/rules/{draft.rule_id}/edit"
    data = form_fields(body(hr_cn_client.get(action)), action)
    before = bonus_rows()
    response = hr_cn_client.post(action, {**data, "dimensions-1-weight": "-5"}, htmx=True)
    assert response.status_code == 422
    assert 'id="dimensions-1-weight-error"' in body(response) and 'aria-invalid="true"' in body(response)
    response = hr_cn_client.post(action, {**data, "floor": "900", "cap": "100"})
    assert response.status_code == 422 and 'id="cap-error"' in body(response)
    assert bonus_rows() == before


def test_publishing_freezes_the_version_and_editing_starts_the_next(hr_cn_client, excn):
    draft = make_rule(excn, points_definition(floor_minor=500), publish=False)
    rule_url = f"/bonus/rules/{draft.rule_id}"
    page = hr_cn_client.get(rule_url)
    assert "Publish version 1" in body(page)
    stale = hr_cn_client.post(f"{rule_url}/publish", {"number": "2"}, htmx=True)
    assert stale.status_code == 422 and BonusRuleVersion.get_by_id(draft.id).published_at is None
    response = hr_cn_client.post(f"{rule_url}/publish", form_fields(body(page), f"{rule_url}/publish"))
    assert response.status_code == 302 and BonusRuleVersion.get_by_id(draft.id).published_at is not None
    page = hr_cn_client.get(rule_url)
    assert "Publish version" not in body(page) and "Start the next version" in body(page)
    editor = hr_cn_client.get(f"{rule_url}/edit")
    assert "saving starts version 2" in body(editor)
    data = form_fields(body(editor), f"{rule_url}/edit")
    assert hr_cn_client.post(f"{rule_url}/edit", {**data, "floor": "9"}).status_code == 302
    first, second = sorted(services.rule_versions(BonusRule.get_by_id(draft.rule_id)), key=lambda v: v.number)
    assert services.definition_of(first)["floor_minor"] == 500 and first.published_at is not None
    assert services.definition_of(second)["floor_minor"] == 900 and second.published_at is None


# --- pools ---------------------------------------------------------------------------------------

def test_the_pool_list_filters_by_team_month_and_state(hr_cn_client, lead_client, agent_client, jd_team, vip_team):
    draft = make_pool(jd_team)
    locked_month = (this_month() - dt.timedelta(days=1)).replace(day=1)
    other = make_pool(vip_team, period=locked_month)
    page = hr_cn_client.get("/bonus/pools")
    assert f"/bonus/pools/{draft.id}" in body(page) and f"/bonus/pools/{other.id}" in body(page)
    fragment = hr_cn_client.get(f"/bonus/pools?unit={jd_team.id}", htmx=True)
    assert "<html" not in body(fragment)
    assert f"/bonus/pools/{draft.id}" in body(fragment) and f"/bonus/pools/{other.id}" not in body(fragment)
    by_month = body(hr_cn_client.get(f"/bonus/pools?month={locked_month:%Y-%m}", htmx=True))
    assert f"/bonus/pools/{other.id}" in by_month and f"/bonus/pools/{draft.id}" not in by_month
    assert "No pools match." in body(hr_cn_client.get("/bonus/pools?state=locked", htmx=True))
    assert f"/bonus/pools/{other.id}" not in body(lead_client.get("/bonus/pools"))
    assert agent_client.get("/bonus/pools").status_code == 403


def test_a_pool_is_created_from_the_form(hr_cn_client, jd_team, excn):
    version = make_rule(excn, name="Form rule")
    page = hr_cn_client.get(f"/bonus/pools/new?unit={jd_team.id}")
    data = form_fields(body(page), "/bonus/pools/new")
    assert data["unit"] == str(jd_team.id) and data["currency"] == "CNY"
    data.update({"month": f"{this_month():%Y-%m}", "amount": "12345.67", "rule_version": str(version.id)})
    response = hr_cn_client.post("/bonus/pools/new", data)
    assert response.status_code == 302
    pool = BonusPool.get(BonusPool.unit == jd_team.id)
    assert (pool.amount_minor, pool.currency, pool.rule_version_id, pool.period_start) == (
        1_234_567, "CNY", version.id, this_month())
    assert members(pool)
    again = hr_cn_client.post("/bonus/pools/new", data, htmx=True)
    assert again.status_code == 422 and 'id="month-error"' in body(again)
    too_fine = hr_cn_client.post("/bonus/pools/new", {**data, "amount": "1.234"}, htmx=True)
    assert too_fine.status_code == 422 and 'id="amount-error"' in body(too_fine)
    assert BonusPool.select().count() == 1


def test_compute_submit_lock_and_correct_from_the_pool_page(hr_cn_client, lead_client, jd_team):
    pool = make_pool(jd_team)
    points_for_everyone(pool)
    url = f"/bonus/pools/{pool.id}"
    page = body(hr_cn_client.get(url))
    assert "Not computed yet" in page and "Submit for approval" not in page
    assert lead_client.post(f"{url}/compute").status_code == 403  # leads see pools, they do not prepare them
    response = hr_cn_client.post(f"{url}/compute", htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(url)
    pool = fresh(pool)
    page = body(hr_cn_client.get(url))
    assert pool.computed_at is not None and services.snapshot_hash(pool) in page
    for line in BonusLine.select().where(BonusLine.pool == pool.id):
        assert statement_url(pool, line.employee_id) in page
    assert hr_cn_client.post(f"{url}/submit", {"note": "June"}).status_code == 302
    pool = fresh(pool)
    page = body(hr_cn_client.get(url))
    assert pool.state == "submitted" and f"/approvals/requests/{pool.approval_id}" in page
    assert "Approval trail" in page and "Withdraw" in page
    locked_too_early = hr_cn_client.post(f"{url}/lock", htmx=True)
    assert locked_too_early.status_code == 422 and "Only an approved pool can be locked." in body(locked_too_early)
    request = pool.approval
    decide_step(Actor.for_user(User.get(User.username == "admin")), request.id, request.version, True, "Fine")
    assert hr_cn_client.post(f"{url}/lock").status_code == 302
    page = body(hr_cn_client.get(url))
    assert fresh(pool).state == "locked" and "Correct the pool" in page and "Fine" in page
    no_reason = hr_cn_client.post(f"{url}/correct", {"reason": ""}, htmx=True)
    assert no_reason.status_code == 422 and 'id="reason-error"' in body(no_reason)
    assert BonusPool.select().count() == 1
    response = hr_cn_client.post(f"{url}/correct", {"reason": "Two people were missing"})
    correction = BonusPool.get(BonusPool.corrects == pool.id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/bonus/pools/{correction.id}")
    page = body(hr_cn_client.get(f"/bonus/pools/{correction.id}"))
    assert correction.number == 2 and "Two people were missing" in page and "version 2" in page
    assert "Correct the pool" not in body(hr_cn_client.get(url))  # corrected once: the new version is the one


def test_a_submitted_pool_is_withdrawn_by_its_submitter(hr_cn_client, hr_cn, jd_team):
    pool = computed_pool(jd_team)
    services.submit_pool(hr_cn, pool)
    assert hr_cn_client.post(f"/bonus/pools/{pool.id}/withdraw").status_code == 302
    assert fresh(pool).state == "draft"
    refused = hr_cn_client.post(f"/bonus/pools/{pool.id}/withdraw", htmx=True)
    assert refused.status_code == 422 and "not waiting for approval" in body(refused)


def test_an_adjustment_needs_a_reason_and_keeps_the_total_exact(hr_cn_client, jd_team):
    pool = computed_pool(jd_team)
    top = BonusLine.select().where(BonusLine.pool == pool.id).order_by(BonusLine.amount_minor.desc()).first()
    member = top.member
    url = f"/bonus/pools/{pool.id}/adjustments"
    before = bonus_rows()
    no_reason = hr_cn_client.post(url, {"member": member.id, "amount": "-10", "reason": ""}, htmx=True)
    assert no_reason.status_code == 422 and 'id="reason-error"' in body(no_reason)
    assert no_reason.headers.get("HX-Redirect") is None and bonus_rows() == before
    assert hr_cn_client.post(url, {"member": member.id, "amount": "-10", "reason": ""}).status_code == 422
    response = hr_cn_client.post(url, {"member": member.id, "amount": "-10.50", "reason": "Late reports"})
    assert response.status_code == 302, body(response)
    adjustment = BonusAdjustment.get(BonusAdjustment.pool == pool.id)
    assert adjustment.amount_minor == -1050
    lines = list(BonusLine.select().where(BonusLine.pool == pool.id))
    assert sum(line.amount_minor for line in lines) == pool.amount_minor
    assert next(x for x in lines if x.member_id == member.id).adjustment_minor == -1050
    assert "Late reports" in body(hr_cn_client.get(f"/bonus/pools/{pool.id}"))
    gone = hr_cn_client.post(f"{url}/remove", {"adjustment": "0"}, htmx=True)
    assert gone.status_code == 422 and BonusAdjustment.select().count() == 1
    assert hr_cn_client.post(f"{url}/remove", {"adjustment": adjustment.id}).status_code == 302
    assert BonusAdjustment.select().count() == 0


# --- the what-if ---------------------------------------------------------------------------------

def test_the_pool_page_carries_the_what_if_sliders_without_inline_script(lead_client, jd_team):
    pool = computed_pool(jd_team, definition=two_dimension_definition())
    page = body(lead_client.get(f"/bonus/pools/{pool.id}"))
    assert 'type="range"' in page and 'name="weight-support"' in page and 'name="weight-tenure"' in page
    assert 'hx-trigger="input changed delay:150ms"' in page and f'hx-post="/bonus/pools/{pool.id}/preview"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page


@pytest.mark.parametrize("htmx", [True, False])
def test_the_preview_shows_gains_and_losses_and_writes_nothing(lead_client, jd_team, htmx):
    pool = computed_pool(jd_team, definition=two_dimension_definition())
    before = bonus_rows()
    response = lead_client.post(f"/bonus/pools/{pool.id}/preview",
                                {"weight-support": "0", "weight-tenure": "100", "floor": "0", "cap": ""}, htmx=htmx)
    page = body(response)
    assert response.status_code == 200 and bonus_rows() == before
    assert ("<html" in page) is not htmx
    preview = services.preview_pool(SYSTEM, pool, {"weights": {"support": 0, "tenure": 100}})
    assert preview.gainers and preview.losers
    assert f"{preview.gainers} people gain" in page or f"{preview.gainers} person gains" in page
    assert page.count('class="delta gain"') >= preview.gainers and page.count('class="delta loss"') >= preview.losers
    assert "more</span>" in page and "less</span>" in page  # words, not the colour alone
    if htmx:  # the weights' shares beside the sliders, updated out of band
        assert 'id="whatif-out-tenure"' in page and 'hx-swap-oob="true"' in page and "100%" in page
    else:  # the whole page, the sliders where they were moved
        assert re.search(r'name="weight-tenure"[^>]*value="100', page)


def test_an_impossible_what_if_says_why_and_writes_nothing(lead_client, jd_team):
    pool = computed_pool(jd_team, definition=two_dimension_definition())
    before = bonus_rows()
    zero = lead_client.post(f"/bonus/pools/{pool.id}/preview", {"weight-support": "0", "weight-tenure": "0"},
                            htmx=True)
    assert zero.status_code == 422 and "weight above zero" in body(zero)
    floors = lead_client.post(f"/bonus/pools/{pool.id}/preview",
                              {"weight-support": "60", "weight-tenure": "40", "floor": "1000000"}, htmx=True)
    assert floors.status_code == 200 and "The floors add up to more than the pool" in body(floors)
    garbled = lead_client.post(f"/bonus/pools/{pool.id}/preview", {"floor": "lots"}, htmx=True)
    assert garbled.status_code == 422
    assert bonus_rows() == before


def test_hr_of_another_company_gets_404_for_the_pool_and_its_preview(hr_de_client, jd_team):
    pool = computed_pool(jd_team)
    before = bonus_rows()
    assert hr_de_client.get(f"/bonus/pools/{pool.id}").status_code == 404
    assert hr_de_client.post(f"/bonus/pools/{pool.id}/preview", {"weight-support": "5"}, htmx=True).status_code == 404
    assert hr_de_client.post(f"/bonus/pools/{pool.id}/compute").status_code == 404
    assert bonus_rows() == before


# --- statements ----------------------------------------------------------------------------------

def test_an_agent_reads_only_their_own_statement_once_approved(agent_client, hr_cn, jd_team):
    me = agent_employee()
    pool = computed_pool(jd_team)
    assert agent_client.get(statement_url(pool, me.id)).status_code == 404  # a draft is not theirs yet
    assert "No statements yet" in body(agent_client.get("/bonus/me"))
    pool = approved_pool(jd_team, hr_cn, period=(this_month() - dt.timedelta(days=1)).replace(day=1))
    mine = agent_client.get("/bonus/me")
    assert mine.status_code == 200 and statement_url(pool, me.id) in body(mine)
    assert "<html" not in body(agent_client.get("/bonus/me", htmx=True))
    page = agent_client.get(statement_url(pool, me.id))
    assert page.status_code == 200 and me.display_name in body(page) and "Support points" in body(page)
    other = next(m.employee_id for m in members(pool) if m.employee_id != me.id)
    assert agent_client.get(statement_url(pool, other)).status_code == 404
    assert agent_client.get(f"/bonus/pools/{pool.id}").status_code == 403
    assert agent_client.get(f"/bonus/pools/{pool.id}/team").status_code == 403
    assert agent_client.get(statement_url(BonusPool(id=10 ** 9), me.id)).status_code == 404


def test_a_lead_reads_their_teams_statements_and_table_only(lead_client, jd_team, vip_team):
    mine, theirs = computed_pool(jd_team), computed_pool(vip_team)
    someone = members(mine)[0].employee_id
    assert lead_client.get(statement_url(mine, someone)).status_code == 200
    table = lead_client.get(f"/bonus/pools/{mine.id}/team")
    assert table.status_code == 200 and statement_url(mine, someone) in body(table) and "Team range" in body(table)
    assert "<html" not in body(lead_client.get(f"/bonus/pools/{mine.id}/team", htmx=True))
    assert lead_client.get(statement_url(theirs, members(theirs)[0].employee_id)).status_code == 404
    assert lead_client.get(f"/bonus/pools/{theirs.id}/team").status_code == 404
    stranger = next(m.employee_id for m in members(theirs) if m.employee_id not in {x.employee_id for x in members(mine)})
    assert lead_client.get(statement_url(mine, stranger)).status_code == 404


def test_hr_reads_anyones_statement_in_scope_with_the_rate_of_their_pay_currency(hr_cn_client, hr_de_client,
                                                                                 jd_team):
    expat = make_team_member(jd_team)
    make_contract(expat, currency="HKD", start_date=dt.date(2024, 1, 1))
    pool = make_pool(jd_team, definition=two_dimension_definition())
    give_points(pool, {expat: 5})
    services.compute_pool(SYSTEM, pool)
    line = BonusLine.get(pool=pool.id, employee=expat.id)
    services.add_adjustment(SYSTEM, pool, line.member_id, 500, "Covered the night shift")
    line = BonusLine.get(pool=pool.id, employee=expat.id)
    page = hr_cn_client.get(statement_url(pool, expat.id))
    text = body(page)
    assert page.status_code == 200 and "<html" in text
    assert "HKD" in text and line.rate_source in text and "Covered the night shift" in text
    assert "Tenure" in text and "Support points" in text and "Team range" in text
    fragment = hr_cn_client.get(statement_url(pool, expat.id), htmx=True)
    assert "<html" not in body(fragment) and 'id="statement"' in body(fragment)
    assert hr_de_client.get(statement_url(pool, expat.id)).status_code == 404


def test_the_menu_has_bonus_for_who_sees_pools_and_my_bonus_for_everyone(hr_cn_client, agent_client):
    hr_page, agent_page = body(hr_cn_client.get("/bonus/me")), body(agent_client.get("/bonus/me"))
    assert 'href="/bonus/pools"' in hr_page and 'href="/bonus/me" aria-current="page"' in hr_page
    assert 'href="/bonus/pools"' not in agent_page and 'href="/bonus/me"' in agent_page
