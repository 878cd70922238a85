"""The approval engine without HTTP: chains (default and per unit), skipped steps,
no self-approval, decisions, withdrawal and the first request kinds end to end."""
import json

import pytest

from conftest import DAY, TODAY
from factories import make_assignment, make_employee, make_post, make_role, make_unit, make_user, unit_by_code
from portal.accounts.models import Role, User
from portal.approvals.models import ApprovalChain, ApprovalRequest, Notification
from portal.approvals.services import (
    chain_roles, decide_step, inbox, my_requests, notification_text, request_steps, reset_chain, save_chain,
    submit_request, withdraw_request,
)
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.people.models import Assignment, Employee

ALREADY_DECIDED = "This request was already decided by someone else."


def user(username):
    return User.get(User.username == username)


def role(key):
    return Role.get(Role.builtin_key == key)


def fresh(row):
    return type(row).get_by_id(row.id)


def states(request):
    return [(step.role.builtin_key, step.state) for step in request_steps(request)]


def notified(username, message, request=None):
    """`username`'s notifications of `message` (about `request`, when given: the demo has requests of its own)."""
    query = Notification.select().where((Notification.user == user(username).id) & (Notification.message == message))
    if request is not None:
        query = query.where(Notification.link == f"/approvals/requests/{request.id}")
    return list(query)


def waiting_for(actor, request):
    return request.id in [item.step.request_id for item in inbox(actor)[0]]


def events(request, action):
    return AuditEvent.select().where((AuditEvent.object_type == "approval_request")
                                     & (AuditEvent.object_id == str(request.id))
                                     & (AuditEvent.action == action)).count()


def move_to(person, post, unit):
    """`person` leaves their posts and holds `post` in `unit` since nine days ago."""
    Assignment.update(end_date=TODAY - 10 * DAY).where(Assignment.employee == person.id).execute()
    return make_assignment(person, post, unit, 100, start_date=TODAY - 9 * DAY, is_primary=True)


# --- chains --------------------------------------------------------------------------------

def test_a_request_follows_the_kinds_default_chain(transfer, jd_team):
    assert (transfer.state, transfer.unit_id, transfer.step_position) == ("pending", jd_team.id, 1)
    assert states(transfer) == [("team_lead", "pending"), ("company_hr", "waiting")]
    assert events(transfer, "approvals.requested") == 1
    assert json.loads(transfer.payload)["to_post_title"] == "唯品会客服"


def test_the_first_steps_approvers_are_told_and_see_it_in_their_inbox(transfer, actor_of):
    assert len(notified("co.lead", "approvals.step_waiting", transfer)) == 1
    assert notified("lead.jd", "approvals.step_waiting", transfer) == []  # the requester
    assert notified("hr.cn", "approvals.step_waiting", transfer) == []  # not yet their turn
    assert waiting_for(actor_of("co.lead"), transfer)
    assert not waiting_for(actor_of("lead.jd"), transfer) and not waiting_for(actor_of("hr.cn"), transfer)


def test_the_leads_of_the_unit_the_person_joins_are_told(transfer):
    (message,) = notified("vip.lead", "people.transfer.submitted")
    text = notification_text(message)
    assert "刘芳" in text and "唯品会客服A组" in text and "唯品会客服" in text


def test_a_chain_set_on_a_unit_overrides_the_default_below_it(actor_of, agent, transfer_values):
    save_chain(actor_of("hr.cn"), "people.transfer", unit_by_code("CN-JD"), [role("company_hr").id])
    request = submit_request(actor_of("lead.jd"), "people.transfer", agent, transfer_values())
    assert states(request) == [("company_hr", "pending")]


def test_the_nearest_chain_wins(actor_of, jd_team, vip_team):
    hr = actor_of("hr.cn")
    save_chain(hr, "people.transfer", unit_by_code("EXCN"), [role("company_hr").id])
    save_chain(hr, "people.transfer", unit_by_code("CN-JD"), [role("team_lead").id, role("company_hr").id])
    assert [r.builtin_key for r in chain_roles("people.transfer", jd_team)[0]] == ["team_lead", "company_hr"]
    assert [r.builtin_key for r in chain_roles("people.transfer", vip_team)[0]] == ["company_hr"]
    assert chain_roles("people.transfer", unit_by_code("EXDE")) == ([role("team_lead"), role("company_hr")], None)


def test_saving_a_chain_is_audited_and_versioned(actor_of):
    hr, unit = actor_of("hr.cn"), unit_by_code("CN-JD")
    chain = save_chain(hr, "people.transfer", unit, [role("company_hr").id])
    chain = save_chain(hr, "people.transfer", unit, [role("team_lead").id, role("company_hr").id], chain.version)
    assert json.loads(chain.steps) == [role("team_lead").id, role("company_hr").id]
    with pytest.raises(ServiceError, match="Someone else changed this chain"):
        save_chain(hr, "people.transfer", unit, [role("company_hr").id], chain.version - 1)
    assert AuditEvent.select().where(AuditEvent.action == "approvals.chain_saved").count() == 2


@pytest.mark.parametrize("keys,message", [([], "Choose at least one role"),
                                          (["company_hr", "company_hr"], "only once")])
def test_a_chain_needs_distinct_roles(actor_of, keys, message):
    with pytest.raises(ServiceError, match=message):
        save_chain(actor_of("hr.cn"), "people.transfer", unit_by_code("CN-JD"), [role(key).id for key in keys])


def test_a_chain_names_only_roles_defined_at_or_above_its_unit(actor_of):
    german_role = make_role(unit_by_code("EXDE"), ["people.view"], name="DE reviewer")
    with pytest.raises(ServiceError, match="Choose roles defined"):
        save_chain(actor_of("hr.cn"), "people.transfer", unit_by_code("CN-JD"), [german_role.id])


def test_chains_are_set_only_in_scope(actor_of):
    with pytest.raises(NotInScope):
        save_chain(actor_of("hr.de"), "people.transfer", unit_by_code("CN-JD"), [role("company_hr").id])
    with pytest.raises(NotInScope):  # a lead may not configure
        save_chain(actor_of("lead.jd"), "people.transfer", unit_by_code("CN-JD-CS-A"), [role("company_hr").id])
    assert not ApprovalChain.select().exists()


def test_resetting_a_chain_brings_back_the_default(actor_of, jd_team):
    hr = actor_of("hr.cn")
    save_chain(hr, "people.transfer", jd_team, [role("company_hr").id])
    reset_chain(hr, "people.transfer", jd_team)
    assert chain_roles("people.transfer", jd_team) == ([role("team_lead"), role("company_hr")], None)
    assert not ApprovalChain.select().exists()
    assert AuditEvent.select().where(AuditEvent.action == "approvals.chain_reset").count() == 1


# --- skipped steps and no self-approval -------------------------------------------------------------

@pytest.fixture
def leaderless_transfer(agent, transfer_values):
    """The transfer values of 刘芳 once she works in a new team that has no lead."""
    team = make_unit(unit_by_code("CN-JD"), "team", name="京东客服C组")
    moved = move_to(agent, make_post("EXCN", title="京东客服C"), team)
    return transfer_values(assignment=moved.id)


def test_a_step_whose_role_nobody_holds_is_skipped(actor_of, agent, leaderless_transfer):
    request = submit_request(actor_of("admin"), "people.transfer", agent, leaderless_transfer)
    assert states(request) == [("team_lead", "skipped"), ("company_hr", "pending")]
    assert len(notified("hr.cn", "approvals.step_waiting", request)) == 1


def test_a_requester_who_alone_holds_a_step_passes_it_on(actor_of, agent, transfer_values, jd_post):
    team = make_unit(unit_by_code("CN-JD"), "team", name="京东客服D组")
    make_user(team, username="sole.lead", role_key="team_lead")
    moved = move_to(agent, jd_post, team)
    request = submit_request(actor_of("sole.lead"), "people.transfer", agent, transfer_values(assignment=moved.id))
    assert states(request) == [("team_lead", "skipped"), ("company_hr", "pending")]


def test_a_step_that_falls_to_the_requester_alone_is_skipped_at_its_turn(actor_of, agent, transfer_values):
    request = submit_request(actor_of("hr.cn"), "people.transfer", agent, transfer_values())
    assert states(request) == [("team_lead", "pending"), ("company_hr", "waiting")]
    request = decide_step(actor_of("lead.jd"), request.id, request.version, True, "")
    # hr.cn is the company's only HR: their own step is passed over, never decided by them.
    assert states(request) == [("team_lead", "approved"), ("company_hr", "skipped")]
    assert request.state == "approved" and request.applied_at is not None


def test_the_only_possible_approver_cannot_ask_for_their_own_approval(actor_of, agent, leaderless_transfer):
    before = ApprovalRequest.select().count()
    with pytest.raises(ServiceError, match="You are the only one who could approve this request"):
        submit_request(actor_of("hr.cn"), "people.transfer", agent, leaderless_transfer)
    assert ApprovalRequest.select().count() == before


def test_a_chain_nobody_can_decide_refuses_the_request(actor_of, agent, transfer_values):
    nobody_holds = make_role(unit_by_code("EXCN"), ["people.view"], name="Works council")
    save_chain(actor_of("hr.cn"), "people.transfer", unit_by_code("EXCN"), [nobody_holds.id])
    with pytest.raises(ServiceError, match="Nobody can approve this request here yet"):
        submit_request(actor_of("lead.jd"), "people.transfer", agent, transfer_values())


def test_a_requester_among_several_holders_cannot_decide_their_step(actor_of, transfer):
    with pytest.raises(ServiceError, match="Nobody approves their own request"):
        decide_step(actor_of("lead.jd"), transfer.id, transfer.version, True, "")
    assert fresh(transfer).version == transfer.version


# --- deciding --------------------------------------------------------------------------------------------

def test_each_approval_moves_the_request_on_and_the_last_one_applies_it(actor_of, transfer, agent_post, vip_team,
                                                                        vip_post):
    request = decide_step(actor_of("co.lead"), transfer.id, transfer.version, True, "同意")
    assert states(request) == [("team_lead", "approved"), ("company_hr", "pending")]
    assert (request.state, request.version) == ("pending", transfer.version + 1)
    assert len(notified("hr.cn", "approvals.step_waiting", transfer)) == 1
    request = decide_step(actor_of("hr.cn"), request.id, request.version, True, "")
    assert (request.state, request.step_position) == ("approved", 2)
    assert request.decided_at is not None and request.applied_at is not None
    # The transfer is dated: the old post ends the day before it takes effect.
    assert fresh(agent_post).end_date == TODAY + 6 * DAY
    new = Assignment.get((Assignment.employee == agent_post.employee_id) & (Assignment.id != agent_post.id))
    assert (new.unit_id, new.post_id, new.start_date, new.is_primary) == (
        vip_team.id, vip_post.id, TODAY + 7 * DAY, True)
    assert (events(request, "approvals.approved"), events(request, "approvals.applied")) == (2, 1)
    (message,) = notified("lead.jd", "approvals.request_approved", transfer)
    assert notification_text(message).startswith("Your request is approved: Transfer, 刘芳")


def test_the_decider_and_comment_are_recorded(actor_of, transfer):
    decide_step(actor_of("co.lead"), transfer.id, transfer.version, True, "  同意，支援两周  ")
    step = request_steps(transfer)[0]
    assert (step.decider.username, step.stood_in_for, step.comment) == ("co.lead", None, "同意，支援两周")
    assert step.decided_at is not None


def test_a_rejection_needs_a_reason_and_ends_the_request(actor_of, transfer, agent_post):
    with pytest.raises(ServiceError) as refused:
        decide_step(actor_of("co.lead"), transfer.id, transfer.version, False, " ")
    assert refused.value.field == "comment"
    request = decide_step(actor_of("co.lead"), transfer.id, transfer.version, False, "人手不够")
    assert (request.state, request.applied_at) == ("rejected", None)
    assert states(request) == [("team_lead", "rejected"), ("company_hr", "waiting")]
    assert fresh(agent_post).end_date is None  # nothing applied
    (message,) = notified("lead.jd", "approvals.request_rejected", transfer)
    assert notification_text(message).startswith(user("co.lead").display_name)
    assert not waiting_for(actor_of("hr.cn"), request) and events(request, "approvals.rejected") == 1


def test_a_decision_on_an_old_version_is_refused(actor_of, transfer):
    decide_step(actor_of("co.lead"), transfer.id, transfer.version, True, "")
    with pytest.raises(ServiceError, match=ALREADY_DECIDED):
        decide_step(actor_of("hr.cn"), transfer.id, transfer.version, True, "")
    assert fresh(transfer).version == transfer.version + 1


def test_only_the_steps_approvers_decide_it(actor_of, transfer):
    with pytest.raises(ServiceError, match="waits for someone else"):
        decide_step(actor_of("hr.cn"), transfer.id, transfer.version, True, "")  # HR's turn comes second
    with pytest.raises(NotInScope):
        decide_step(actor_of("hr.de"), transfer.id, transfer.version, True, "")
    assert fresh(transfer).version == transfer.version


def test_the_requester_may_withdraw_while_pending(actor_of, transfer):
    with pytest.raises(ServiceError, match="Only the person who made the request"):
        withdraw_request(actor_of("co.lead"), transfer.id, transfer.version)
    request = withdraw_request(actor_of("lead.jd"), transfer.id, transfer.version)
    assert request.state == "withdrawn" and events(request, "approvals.withdrawn") == 1
    assert not waiting_for(actor_of("co.lead"), request)
    with pytest.raises(ServiceError, match=ALREADY_DECIDED):
        decide_step(actor_of("co.lead"), transfer.id, transfer.version, True, "")
    with pytest.raises(ServiceError, match=ALREADY_DECIDED):
        withdraw_request(actor_of("lead.jd"), request.id, request.version)


def test_my_requests_shows_where_each_one_stands(actor_of, transfer):
    rows, _has_next = my_requests(actor_of("lead.jd"))
    assert (rows[0].id, rows[0].state, rows[0].pending_step.role.builtin_key) == (
        transfer.id, "pending", "team_lead")  # the newest first
    assert my_requests(actor_of("co.lead"))[0] == []


# --- the people kinds ------------------------------------------------------------------------------------------

def test_a_transfer_is_asked_only_for_people_in_the_requesters_scope(actor_of, agent, transfer_values, vip_lead):
    with pytest.raises(NotInScope):
        submit_request(actor_of("hr.de"), "people.transfer", agent, transfer_values())
    with pytest.raises(NotInScope):  # a lead of another team
        submit_request(actor_of("vip.lead"), "people.transfer", agent, transfer_values())


@pytest.mark.parametrize("overrides,field", [
    ({"to_post": None}, "to_post"),
    ({"to_unit": None}, "to_unit"),
    ({"share": 0}, "share"),
    ({"share": 101}, "share"),
    ({"effective_date": TODAY - DAY}, "effective_date"),
    ({"effective_date": None}, "effective_date"),
    ({"reason": "  "}, "reason"),
])
def test_a_transfer_with_bad_values_is_refused_on_the_field(actor_of, agent, transfer_values, overrides, field):
    with pytest.raises(ServiceError) as refused:
        submit_request(actor_of("lead.jd"), "people.transfer", agent, transfer_values(**overrides))
    assert refused.value.field == field
    assert not ApprovalRequest.select().where(ApprovalRequest.subject_id == agent.id).exists()


def test_a_transfer_to_a_post_of_another_company_is_refused(actor_of, agent, transfer_values):
    german_post = make_post("EXDE", title="Kundenservice")
    with pytest.raises(ServiceError, match="another company") as refused:
        submit_request(actor_of("lead.jd"), "people.transfer", agent, transfer_values(to_post=german_post.id))
    assert refused.value.field == "to_post"


def test_a_post_is_transferred_only_once_at_a_time(actor_of, agent, transfer, transfer_values):
    with pytest.raises(ServiceError, match="already waiting") as refused:
        submit_request(actor_of("lead.jd"), "people.transfer", agent, transfer_values())
    assert refused.value.field == "assignment"


def test_a_transfer_may_lead_into_another_company(actor_of, co_lead, agent, transfer_values):
    """The chain of the unit the person leaves approves; the change lands in Germany."""
    team = unit_by_code("EXDE-CS-CS1")
    make_user(team, username="de.lead", role_key="team_lead")
    post = make_post("EXDE", title="Kundenservice")
    request = submit_request(actor_of("lead.jd"), "people.transfer", agent,
                             transfer_values(to_unit=team.id, to_post=post.id))
    assert len(notified("de.lead", "people.transfer.submitted")) == 1
    request = decide_step(actor_of("co.lead"), request.id, request.version, True, "")
    request = decide_step(actor_of("hr.cn"), request.id, request.version, True, "")
    assert request.state == "approved"
    assert Assignment.select().where((Assignment.employee == agent.id) & (Assignment.unit == team.id)).exists()


@pytest.fixture
def part_timer(jd_post, jd_team):
    """周晨, on the JD post in team A for 60% of her time."""
    person = make_employee("EXCN", legal_name="周晨")
    make_assignment(person, jd_post, jd_team, 60, is_primary=True)
    return person


@pytest.fixture
def secondary_values(vip_post, vip_team):
    def values(**overrides):
        return {"unit": vip_team.id, "post": vip_post.id, "share": 40, "start_date": TODAY + DAY, "end_date": None,
                "reason": "大促期间支援唯品会", **overrides}

    return values


def test_a_secondary_post_is_added_once_approved(actor_of, co_lead, part_timer, secondary_values, vip_team, vip_post,
                                                jd_team):
    request = submit_request(actor_of("lead.jd"), "people.secondary_post", part_timer, secondary_values())
    assert (request.unit_id, states(request)) == (jd_team.id, [("team_lead", "pending"), ("company_hr", "waiting")])
    request = decide_step(actor_of("co.lead"), request.id, request.version, True, "")
    request = decide_step(actor_of("hr.cn"), request.id, request.version, True, "")
    added = Assignment.get((Assignment.employee == part_timer.id) & (Assignment.unit == vip_team.id))
    assert (added.post_id, added.share, added.start_date, added.end_date, added.is_primary) == (
        vip_post.id, 40, TODAY + DAY, None, False)


def test_a_secondary_post_over_capacity_is_refused_when_asked(actor_of, part_timer, secondary_values):
    with pytest.raises(ServiceError, match="more than 100") as refused:
        submit_request(actor_of("lead.jd"), "people.secondary_post", part_timer, secondary_values(share=50))
    assert refused.value.field == "share"


def test_capacity_is_checked_again_when_approved(actor_of, co_lead, part_timer, secondary_values):
    request = submit_request(actor_of("lead.jd"), "people.secondary_post", part_timer, secondary_values())
    request = decide_step(actor_of("co.lead"), request.id, request.version, True, "")
    # Meanwhile HR gives her another post: the request no longer fits.
    make_assignment(part_timer, make_post("EXCN"), unit_by_code("CN-TM-CS"), 20, start_date=TODAY)
    before = AuditEvent.select().count()
    with pytest.raises(ServiceError, match="more than 100"):
        decide_step(actor_of("hr.cn"), request.id, request.version, True, "")
    assert fresh(request).state == "pending" and fresh(request).version == request.version
    assert states(request) == [("team_lead", "approved"), ("company_hr", "pending")]
    assert AuditEvent.select().count() == before  # the whole decision rolled back
    request = decide_step(actor_of("hr.cn"), request.id, request.version, False, "已另行安排")
    assert request.state == "rejected"


def test_an_employee_asks_hr_to_change_their_contact_details(actor_of, own_record):
    request = submit_request(actor_of("agent.jd1"), "people.contact_change", own_record, {
        "email": "liu.fang@example.cn", "phone": own_record.phone, "emergency_contact_name": "刘强",
        "emergency_contact_relation": "兄弟"})
    assert states(request) == [("company_hr", "pending")]
    changes = json.loads(request.payload)["changes"]
    assert set(changes) == {"email", "emergency_contact_name", "emergency_contact_relation"}  # not the phone
    assert changes["email"] == {"from": own_record.email, "to": "liu.fang@example.cn"}
    decide_step(actor_of("hr.cn"), request.id, request.version, True, "")
    record = fresh(own_record)
    assert (record.email, record.emergency_contact_name, record.phone) == ("liu.fang@example.cn", "刘强",
                                                                           own_record.phone)


def test_a_contact_change_must_change_something_and_is_only_for_ones_own_record(actor_of, own_record):
    with pytest.raises(ServiceError, match="Change at least one"):
        submit_request(actor_of("agent.jd1"), "people.contact_change", own_record, {"phone": own_record.phone})
    with pytest.raises(NotInScope):
        submit_request(actor_of("lead.jd"), "people.contact_change", own_record, {"phone": "110"})
    assert not Employee.select().where(Employee.phone == "110").exists()


def test_one_contact_change_at_a_time(actor_of, own_record):
    submit_request(actor_of("agent.jd1"), "people.contact_change", own_record, {"address": "上海市长宁区"})
    with pytest.raises(ServiceError, match="still waiting"):
        submit_request(actor_of("agent.jd1"), "people.contact_change", own_record, {"address": "上海市徐汇区"})
