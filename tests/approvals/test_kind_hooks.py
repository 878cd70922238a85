"""The optional hooks of a request kind: `on_submit` runs in the submitting transaction
(and can refuse), `on_close` in the one that rejects or withdraws the request."""
import pytest

from factories import make_employee
from portal.accounts.models import User
from portal.approvals.kinds import KINDS, Draft, RequestKind
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import decide_step, submit_request, withdraw_request
from portal.core.errors import ServiceError
from portal.core.permissions import Actor

CALLS = []


def _draft(actor, subject, values):
    return Draft(unit=subject.company, subject=subject, title="hooked", payload={"n": values["n"]})


def _on_submit(actor, request, payload):
    if payload["n"] < 0:
        raise ServiceError("refused")
    CALLS.append(("submit", request.id, payload["n"]))


def _on_close(actor, request, payload, state):
    CALLS.append(("close", request.id, state))


@pytest.fixture
def hooked_kind(db):
    kind = RequestKind(key="test.hooked", label="Hooked", default_chain=("company_hr",),
                       load_subject=lambda actor, args: None, form=lambda subject, formdata=None: None,
                       draft=_draft, apply=lambda actor, request, payload: CALLS.append(("apply", request.id)),
                       describe=lambda request, payload: [], on_submit=_on_submit, on_close=_on_close)
    KINDS[kind.key] = kind
    CALLS.clear()
    yield kind
    del KINDS[kind.key]


def requester():
    return Actor.for_user(User.get(User.username == "agent.jd1"))


def test_on_submit_runs_with_the_request_and_can_refuse_it(hooked_kind, excn):
    person = make_employee(excn)
    request = submit_request(requester(), "test.hooked", person, {"n": 1})
    assert CALLS == [("submit", request.id, 1)]
    before = ApprovalRequest.select().count()
    with pytest.raises(ServiceError):
        submit_request(requester(), "test.hooked", person, {"n": -1})
    assert ApprovalRequest.select().count() == before  # rolled back with the request


def test_on_close_runs_on_rejection_and_withdrawal_not_on_approval(hooked_kind, excn, hr_cn):
    person = make_employee(excn)
    rejected = submit_request(requester(), "test.hooked", person, {"n": 1})
    decide_step(hr_cn, rejected.id, rejected.version, False, "no")
    withdrawn = submit_request(requester(), "test.hooked", person, {"n": 2})
    withdraw_request(requester(), withdrawn.id, withdrawn.version)
    approved = submit_request(requester(), "test.hooked", person, {"n": 3})
    decide_step(hr_cn, approved.id, approved.version, True, "")
    closes = [call for call in CALLS if call[0] == "close"]
    assert closes == [("close", rejected.id, "rejected"), ("close", withdrawn.id, "withdrawn")]
    assert ("apply", approved.id) in CALLS


def test_kinds_without_hooks_still_work(db):
    kind = KINDS["people.contact_change"]
    assert kind.on_submit is None and kind.on_close is None
