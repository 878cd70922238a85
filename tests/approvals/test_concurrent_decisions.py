"""Two approvers decide the same step at the same moment: exactly one wins, the other
is told it was already decided, and the request moves on exactly once. Each thread
has its own database connection, as two workers would (SQLite and PostgreSQL)."""
import threading

import pytest

from factories import make_user, unit_by_code
from portal.accounts.models import User
from portal.approvals.models import ApprovalRequest, ApprovalStep
from portal.approvals.services import decide_step, submit_request
from portal.audit.models import AuditEvent
from portal.core.db import database
from portal.core.errors import ServiceError
from portal.core.permissions import Actor
from portal.people.models import Employee
from portal.people.services import contact_fields


@pytest.fixture
def second_hr(db):
    """A second HR of the mainland company: with hr.cn, two approvers of the same step."""
    excn = unit_by_code("EXCN")
    return make_user(excn, username="hr.cn2", role_key="company_hr", grant_unit=excn)


@pytest.fixture
def contact_change(actor_of, second_hr, own_record):
    """agent.jd1 asks to change her email: one step, company HR."""
    values = {name: getattr(own_record, name) for name in contact_fields()}
    return submit_request(actor_of("agent.jd1"), "people.contact_change", own_record,
                          {**values, "email": "liu.fang@example.cn"})


def decide_together(app, usernames, request, approve=True):
    """Each user decides `request` (as read before) in a thread of their own, all
    released at once; returns {username: None or the ServiceError message}."""
    actors = {name: Actor.for_user(User.get(User.username == name)) for name in usernames}
    barrier = threading.Barrier(len(usernames))
    outcomes = {}

    def decide(name):
        with app.app_context():
            database.connect(reuse_if_open=True)  # this thread's own connection
            try:
                barrier.wait()
                decide_step(actors[name], request.id, request.version, approve, "" if approve else "不同意")
                outcomes[name] = None
            except ServiceError as error:
                outcomes[name] = str(error.message)
            finally:
                database.close()

    threads = [threading.Thread(target=decide, args=(name,)) for name in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("approve", [True, False], ids=["both approve", "both reject"])
def test_exactly_one_of_two_concurrent_approvers_wins(app, own_record, contact_change, approve):
    events_before = AuditEvent.select().count()
    last_event_before = AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).scalar()
    outcomes = decide_together(app, ["hr.cn", "hr.cn2"], contact_change, approve)

    winners = [name for name, error in outcomes.items() if error is None]
    losers = [error for error in outcomes.values() if error is not None]
    assert len(winners) == 1, outcomes
    assert losers == ["This request was already decided by someone else."]

    request = ApprovalRequest.get_by_id(contact_change.id)
    assert request.version == contact_change.version + 1  # moved on exactly once
    assert request.state == ("approved" if approve else "rejected")
    (step,) = ApprovalStep.select().where(ApprovalStep.request == request.id)
    assert step.decided_by.username == winners[0]
    new_events = AuditEvent.select().where(AuditEvent.id > last_event_before)
    assert new_events.where(AuditEvent.action.in_(["approvals.approved", "approvals.rejected"])).count() == 1
    assert new_events.where(AuditEvent.action == "approvals.applied").count() == (1 if approve else 0)
    assert AuditEvent.select().count() == events_before + (3 if approve else 1)  # approved, contact changed, applied
    assert Employee.get_by_id(own_record.id).email == ("liu.fang@example.cn" if approve else own_record.email)
