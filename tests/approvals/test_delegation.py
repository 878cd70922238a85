"""Delegation: while an approver is away their stand-in sees and decides their steps,
recorded as decided by the stand-in on behalf of the approver."""
import pytest

from conftest import DAY, TODAY
from factories import make_user, unit_by_code
from portal.accounts.models import User
from portal.approvals.models import Delegation, Notification
from portal.approvals.services import (
    badge_counts, decide_step, delegations_of, inbox, request_steps, revoke_delegation, set_delegation,
    visible_request,
)
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError


def user(username):
    return User.get(User.username == username)


@pytest.fixture
def stand_in(db):
    return make_user(unit_by_code("EXCN"), username="stand.in")


@pytest.fixture
def co_lead_away(actor_of, co_lead, stand_in):
    """co.lead, the JD team A's second lead, is away this week: stand.in stands in."""
    return set_delegation(actor_of("co.lead"), "stand.in", TODAY, TODAY + 6 * DAY)


def waiting_for(actor, request, today=None):
    """The steps of `request` in the actor's inbox (the demo has requests of its own), with whom they stand in for."""
    return [(item.step.request_id, item.on_behalf_of.username if item.on_behalf_of else None)
            for item in inbox(actor, today=today)[0] if item.step.request_id == request.id]


def test_a_delegation_is_audited_and_the_stand_in_is_told(co_lead_away):
    assert (co_lead_away.delegator.username, co_lead_away.delegate.username) == ("co.lead", "stand.in")
    assert AuditEvent.select().where(AuditEvent.action == "approvals.delegated").count() == 1
    assert Notification.select().where((Notification.user == user("stand.in").id)
                                       & (Notification.message == "approvals.delegated_to_you")).count() == 1


def test_the_stand_in_sees_the_steps_in_their_inbox(actor_of, co_lead_away, transfer):
    assert waiting_for(actor_of("stand.in"), transfer) == [(transfer.id, "co.lead")]
    assert badge_counts(user("stand.in")).waiting == len(inbox(actor_of("stand.in"))[0]) >= 1
    assert visible_request(actor_of("stand.in"), transfer.id).id == transfer.id


def test_the_stand_in_decides_on_behalf_of_the_approver(actor_of, co_lead_away, transfer):
    decide_step(actor_of("stand.in"), transfer.id, transfer.version, True, "代何磊审批")
    step = request_steps(transfer)[0]
    assert (step.state, step.decider.username, step.stood_in_for.username) == ("approved", "stand.in", "co.lead")


def test_the_approver_may_still_decide_themselves(actor_of, co_lead_away, transfer):
    decide_step(actor_of("co.lead"), transfer.id, transfer.version, True, "")
    step = request_steps(transfer)[0]
    assert (step.decider.username, step.stood_in_for) == ("co.lead", None)


def test_a_stand_in_is_told_when_a_step_waits_for_the_person_they_stand_in_for(co_lead_away, transfer):
    assert Notification.select().where((Notification.user == user("stand.in").id)
                                       & (Notification.message == "approvals.step_waiting")
                                       & (Notification.link == f"/approvals/requests/{transfer.id}")).count() == 1


def test_after_revoking_the_stand_in_no_longer_decides(actor_of, co_lead_away, transfer):
    revoke_delegation(actor_of("co.lead"), co_lead_away.id)
    assert inbox(actor_of("stand.in"))[0] == []
    assert badge_counts(user("stand.in")).waiting == 0
    with pytest.raises(NotInScope):
        decide_step(actor_of("stand.in"), transfer.id, transfer.version, True, "")
    assert AuditEvent.select().where(AuditEvent.action == "approvals.delegation_revoked").count() == 1


def test_a_delegation_counts_only_within_its_dates(actor_of, stand_in, transfer):
    set_delegation(actor_of("co.lead"), "stand.in", TODAY + DAY, TODAY + 3 * DAY)
    assert waiting_for(actor_of("stand.in"), transfer) == []
    assert waiting_for(actor_of("stand.in"), transfer, today=TODAY + DAY) == [(transfer.id, "co.lead")]
    assert waiting_for(actor_of("stand.in"), transfer, today=TODAY + 4 * DAY) == []


def test_a_stand_in_never_decides_their_own_request(actor_of, transfer):
    """lead.jd asked; co.lead, away, names lead.jd as stand-in: still not lead.jd's to decide."""
    set_delegation(actor_of("co.lead"), "lead.jd", TODAY, TODAY + DAY)
    assert waiting_for(actor_of("lead.jd"), transfer) == []
    with pytest.raises(ServiceError, match="Nobody approves their own request"):
        decide_step(actor_of("lead.jd"), transfer.id, transfer.version, True, "")


@pytest.mark.parametrize("username,start,end,field", [
    ("co.lead", TODAY, TODAY, "delegate"),
    ("no.such.user", TODAY, TODAY, "delegate"),
    ("stand.in", TODAY, TODAY - DAY, "end_date"),
    ("stand.in", TODAY - 5 * DAY, TODAY - DAY, "end_date"),
])
def test_a_delegation_needs_another_user_and_dates_in_order(actor_of, co_lead, stand_in, username, start, end, field):
    with pytest.raises(ServiceError) as refused:
        set_delegation(actor_of("co.lead"), username, start, end)
    assert refused.value.field == field
    assert not Delegation.select().exists()


def test_overlapping_delegations_to_the_same_person_are_refused(actor_of, co_lead_away):
    with pytest.raises(ServiceError, match="already delegate"):
        set_delegation(actor_of("co.lead"), "stand.in", TODAY + 2 * DAY, TODAY + 10 * DAY)
    set_delegation(actor_of("co.lead"), "stand.in", TODAY + 7 * DAY, TODAY + 10 * DAY)  # right after: fine


def test_only_the_delegator_revokes(actor_of, co_lead_away):
    with pytest.raises(NotInScope):
        revoke_delegation(actor_of("stand.in"), co_lead_away.id)
    with pytest.raises(NotInScope):
        revoke_delegation(actor_of("hr.cn"), co_lead_away.id)
    assert Delegation.get_by_id(co_lead_away.id).revoked_at is None


def test_delegations_of_lists_given_and_received(actor_of, co_lead_away):
    given, received = delegations_of(user("co.lead"))
    assert [(d.delegate.username, d.start_date) for d in given] == [("stand.in", TODAY)]
    assert received == []
    given, received = delegations_of(user("stand.in"))
    assert given == [] and [d.delegator.username for d in received] == ["co.lead"]
