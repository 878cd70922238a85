"""Clock corrections are approval requests ("time.clock_correction"), never edits:
an approved one adds an event with source "correction" or voids a wrong one;
recorded events keep their time and kind."""
import datetime as dt

import pytest

from portal.approvals.models import ApprovalRequest
from portal.approvals.services import decide_step, submit_request
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Actor
from portal.time import clock
from portal.time.models import ClockEvent
from portal.time.services import company_zone, local_instant
from factories import make_clock_event, make_clock_person

KIND = "time.clock_correction"


@pytest.fixture
def person(db):
    employee, user = make_clock_person("CN-JD-CS-A")  # lead.jd leads this team
    return employee, Actor.for_user(user)


def recent_day(days_back=3):
    return dt.date.today() - dt.timedelta(days=days_back)


def approve(lead, request):
    return decide_step(lead, request.id, request.version, True, "OK")


def test_an_approved_request_adds_the_missing_punch(person, lead):
    employee, actor = person
    day = recent_day()
    request = submit_request(actor, KIND, employee, {"action": "add", "day": day, "time": dt.time(8, 57),
                                                     "kind": "in", "reason": "忘记打卡"})
    assert ClockEvent.select().where(ClockEvent.employee == employee.id).count() == 0  # nothing until approved
    decided = approve(lead, request)
    assert decided.state == "approved"
    event = ClockEvent.get(ClockEvent.employee == employee.id)
    assert event.source == "correction" and event.request_id == request.id and event.kind == "in"
    assert event.at == local_instant(company_zone(employee.company), day, 8 * 60 + 57)


def test_an_approved_request_voids_a_wrong_punch_without_editing_it(person, lead):
    employee, actor = person
    wrong_at = local_instant(company_zone(employee.company), recent_day(), 12 * 60 + 1)
    wrong = make_clock_event(employee, wrong_at, "out")
    request = submit_request(actor, KIND, employee, {"action": "void", "event": wrong.id, "reason": "Mis-tapped"})
    approve(lead, request)
    voided = ClockEvent.get_by_id(wrong.id)
    assert voided.voided_by_id == request.id
    assert (voided.at, voided.kind, voided.source) == (wrong_at, "out", "portal")
    assert ClockEvent.select().where(ClockEvent.employee == employee.id).count() == 1


def test_a_correction_is_checked_again_when_approved(person, lead):
    employee, actor = person
    day = recent_day()
    request = submit_request(actor, KIND, employee, {"action": "add", "day": day, "time": dt.time(18, 2),
                                                     "kind": "out", "reason": "Forgot"})
    make_clock_event(employee, local_instant(company_zone(employee.company), day, 18 * 60 + 2), "out", "device")
    with pytest.raises(ServiceError):
        approve(lead, request)
    assert ApprovalRequest.get_by_id(request.id).state == "pending"
    assert ClockEvent.select().where(ClockEvent.employee == employee.id).count() == 1


@pytest.mark.parametrize("values, field", [
    ({"action": "add", "day": None, "time": dt.time(9), "kind": "in", "reason": "x"}, "day"),
    ({"action": "add", "day": dt.date.today() + dt.timedelta(days=2), "time": dt.time(9), "kind": "in",
      "reason": "x"}, "time"),
    ({"action": "add", "day": dt.date.today() - dt.timedelta(days=1), "time": dt.time(9), "kind": "in",
      "reason": " "}, "reason"),
    ({"action": "void", "event": 0, "reason": "x"}, "event"),
])
def test_bad_corrections_are_refused_by_field(person, values, field):
    employee, actor = person
    with pytest.raises(ServiceError) as refused:
        submit_request(actor, KIND, employee, values)
    assert refused.value.field == field


def test_a_lead_asks_for_their_team_and_others_get_404(person, lead, hr_de):
    employee, _actor = person
    assert clock.correction_subject(lead, {"employee": str(employee.id)}) == employee
    with pytest.raises(NotInScope):
        clock.correction_subject(hr_de, {"employee": str(employee.id)})


def test_the_request_page_form_files_a_correction(client, person):
    employee, actor = person
    client.login(actor.user.username, "secret-pass-1")
    client.http.set_cookie("locale", "en")
    page = client.get("/approvals/new/time.clock_correction")
    assert page.status_code == 200 and "Add a missing punch" in page.get_data(as_text=True)
    day = recent_day(2)
    response = client.post("/approvals/new/time.clock_correction", {
        "action": "add", "day": day.isoformat(), "time": "09:03", "kind": "in", "reason": "Phone was flat"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    request = ApprovalRequest.get((ApprovalRequest.kind == KIND) & (ApprovalRequest.subject_id == employee.id))
    assert request.state == "pending"
