import pytest

from attribution_world import build_world, world_run
from factories import SYSTEM
from portal.accounts.models import User
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import decide_step, withdraw_request
from portal.core.errors import ServiceError
from portal.core.permissions import Actor
from portal.cs import appeals, attribution
from portal.cs.models import CsAppeal, CsAttribution, CsAttributionRun, CsOverride
from portal.people.models import Employee


def actor(username):
    return Actor.for_user(User.get(User.username == username))


def agent_employee():
    return Employee.get(Employee.user == User.get(User.username == "agent.jd1").id)


def credits(conversation):
    return sorted((c.employee_id, c.share, c.level) for c in
                  CsAttribution.select().where(CsAttribution.conversation == conversation.id))


@pytest.fixture
def world(db):
    w = build_world(bound=agent_employee())
    attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    return w


def approve_all(request_id):
    for username in ("lead.jd", "hr.cn"):
        request = ApprovalRequest.get_by_id(request_id)
        if request.state == "pending":
            decide_step(actor(username), request.id, request.version, True, "")


def test_not_mine_accepted_leaves_it_unattributed_and_recompute_keeps_it(world):
    appeal = appeals.submit_appeal(actor("agent.jd1"), world.convs.bound, "not_mine", "我那天休息")
    assert appeal.state == "pending" and ApprovalRequest.get_by_id(appeal.approval_id).kind == appeals.KIND
    approve_all(appeal.approval_id)
    assert CsAppeal.get_by_id(appeal.id).state == "accepted"
    assert credits(world.convs.bound) == []
    override = CsOverride.get(CsOverride.conversation == world.convs.bound.id)
    assert override.employee_id is None and override.appeal_id == appeal.approval_id
    run = world_run(world)
    assert run.stale
    attribution.recompute_stale()
    assert credits(world.convs.bound) == []


def test_mine_accepted_credits_the_appellant_wholly(world, client_for):
    agent = agent_employee()
    # the agent cannot see the login conversation; make it visible by a shared credit first
    CsAttribution.create(run=world_run(world).id, conversation=world.convs.login.id, employee=agent.id,
                         share=0.0, level=4, confidence=0.1)
    appeal = appeals.submit_appeal(actor("agent.jd1"), world.convs.login, "mine", "是我接待的")
    approve_all(appeal.approval_id)
    assert credits(world.convs.login) == [(agent.id, 1.0, 0)]
    attribution.recompute_stale()
    assert credits(world.convs.login) == [(agent.id, 1.0, 0)]
    page = client_for("agent.jd1").get(f"/cs/conversations/{world.convs.login.id}").get_data(as_text=True)
    assert "lead&#39;s override" in page or "lead's override" in page


def test_rejected_and_withdrawn_appeals_change_nothing(world):
    before = credits(world.convs.bound)
    appeal = appeals.submit_appeal(actor("agent.jd1"), world.convs.bound, "not_mine", "不是我")
    request = ApprovalRequest.get_by_id(appeal.approval_id)
    decide_step(actor("lead.jd"), request.id, request.version, False, "日志显示是你")
    assert CsAppeal.get_by_id(appeal.id).state == "rejected" and credits(world.convs.bound) == before
    second = appeals.submit_appeal(actor("agent.jd1"), world.convs.bound, "not_mine", "再申诉")
    request = ApprovalRequest.get_by_id(second.approval_id)
    withdraw_request(actor("agent.jd1"), request.id, request.version)
    assert CsAppeal.get_by_id(second.id).state == "withdrawn" and credits(world.convs.bound) == before


def test_appeal_rules(world):
    with pytest.raises(ServiceError):  # already wholly theirs
        appeals.submit_appeal(actor("agent.jd1"), world.convs.bound, "mine", "x")
    with pytest.raises(ServiceError):  # a reason is needed
        appeals.submit_appeal(actor("agent.jd1"), world.convs.bound, "not_mine", "")
    appeals.submit_appeal(actor("agent.jd1"), world.convs.bound, "not_mine", "第一次")
    with pytest.raises(ServiceError):  # one pending appeal at a time
        appeals.submit_appeal(actor("agent.jd1"), world.convs.bound, "not_mine", "第二次")


def test_appeal_from_the_page(world, agent_client):
    url = f"/cs/conversations/{world.convs.bound.id}"
    assert "Send the appeal" in agent_client.get(url).get_data(as_text=True)
    response = agent_client.post(url + "/appeal", {"claim": "not_mine", "reason": "我那天休息"}, htmx=True)
    assert response.status_code == 200 and response.headers.get("HX-Redirect")
    assert CsAppeal.get(CsAppeal.conversation == world.convs.bound.id).state == "pending"
    assert "我那天休息" in agent_client.get(url).get_data(as_text=True)


def test_lead_override_outside_scope_is_refused(world):
    from portal.core.errors import NotInScope

    with pytest.raises(NotInScope):  # the login conversation is credited outside the lead's team
        appeals.override_credit(actor("lead.jd"), world.convs.login, None, "no")
    with pytest.raises(ServiceError):  # the person must be in the lead's scope
        appeals.override_credit(actor("lead.jd"), world.convs.bound, world.ip_person.id, "moved")


def test_not_mine_with_others_credited_leaves_it_to_them(world):
    agent = agent_employee()
    CsAttribution.update(share=0.5).where(CsAttribution.conversation == world.convs.login.id).execute()
    CsAttribution.create(run=world_run(world).id, conversation=world.convs.login.id, employee=agent.id,
                         share=0.5, level=2, confidence=0.7)
    appeal = appeals.submit_appeal(actor("agent.jd1"), world.convs.login, "not_mine", "我没登录")
    approve_all(appeal.approval_id)
    assert credits(world.convs.login) == [(world.ip_person.id, 1.0, 0)]
    attribution.recompute_stale()
    assert credits(world.convs.login) == [(world.ip_person.id, 1.0, 0)]
