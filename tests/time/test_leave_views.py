"""Leave pages: full page and htmx fragment, the live balance on the request form,
leave types, a person's page, the team calendar, and scope (hr.de and China)."""
import datetime as dt

import pytest

from factories import give_leave, make_employee, make_leave_request, make_leave_type, unit_by_code
from portal.accounts.models import User
from portal.people.models import Employee
from portal.time.models import LeaveLedger, LeaveRequest, LeaveType

D = dt.date


def own_record(username):
    return Employee.get(Employee.user == User.get(User.username == username).id)


def test_my_leave_page_and_fragment(agent_client):
    page = agent_client.get("/time/leave/mine")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "Request leave" in html and "年假" in html
    fragment = agent_client.get("/time/leave/mine", htmx=True)
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "Request leave" in body and "年假" in body


def test_my_leave_without_a_record(client_for):
    page = client_for("admin").get("/time/leave/mine")
    assert page.status_code == 200 and "No employee record" in page.get_data(as_text=True)


def test_request_form_shows_the_balance_before_submitting(agent_client):
    annual = LeaveType.get(LeaveType.code == "AL", LeaveType.company == unit_by_code("EXCN").id)
    page = agent_client.get("/time/leave/request")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    quote = agent_client.get(f"/time/leave/request/quote?leave_type={annual.id}&start_date=2025-03-03"
                             "&end_date=2025-03-04", htmx=True)
    body = quote.get_data(as_text=True)
    assert quote.status_code == 200 and "<html" not in body
    assert "Available" in body and "This request" in body and "2 days" in body
    # a change of type reloads the whole form (fields depend on the type)
    form = agent_client.get(f"/time/leave/request?leave_type={annual.id}&start_date=2025-03-03", htmx=True)
    assert 'id="leave-request"' in form.get_data(as_text=True) and "<html" not in form.get_data(as_text=True)


def test_the_quote_says_why_a_request_would_be_refused(agent_client):
    annual = LeaveType.get(LeaveType.code == "AL", LeaveType.company == unit_by_code("EXCN").id)
    body = agent_client.get(f"/time/leave/request/quote?leave_type={annual.id}&start_date=2025-03-01"
                            "&end_date=2025-06-30", htmx=True).get_data(as_text=True)
    assert "only" in body and "available" in body


def test_submitting_a_request_sends_it_for_approval(agent_client):
    person = own_record("agent.jd1")
    sick = LeaveType.get(LeaveType.code == "SICK", LeaveType.company == person.company_id)
    response = agent_client.post("/time/leave/request", {"leave_type": sick.id, "start_date": "2025-03-03",
                                                         "end_date": "2025-03-04", "reason": "发烧"})
    assert response.status_code == 302
    request = LeaveRequest.get((LeaveRequest.employee == person.id) & (LeaveRequest.start_date == D(2025, 3, 3)))
    assert request.state == "pending" and request.approval.kind == "time.leave"


def test_a_refused_request_answers_422_with_the_reason(agent_client):
    person = own_record("agent.jd1")
    annual = LeaveType.get(LeaveType.code == "AL", LeaveType.company == person.company_id)
    response = agent_client.post("/time/leave/request", {"leave_type": annual.id, "start_date": "2025-03-03",
                                                         "end_date": "2025-06-30"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "only" in body and "<html" not in body


def test_leave_types_page_and_editing(hr_cn_client, excn):
    page = hr_cn_client.get(f"/time/leave/types?company={excn.id}")
    assert page.status_code == 200 and "年假" in page.get_data(as_text=True)
    fragment = hr_cn_client.get(f"/time/leave/types?company={excn.id}", htmx=True)
    assert "<html" not in fragment.get_data(as_text=True)
    response = hr_cn_client.post(f"/time/leave/types/new?company={excn.id}", {
        "code": "MAR", "name": "婚假", "paid": "y", "unit": "day", "accrual": "none", "accrual_amount": "",
        "carry_over_cap": "", "color": "#e06fa0"})
    assert response.status_code == 302
    created = LeaveType.get((LeaveType.company == excn.id) & (LeaveType.code == "MAR"))
    assert created.needs_balance is False and created.carry_over_cap is None
    response = hr_cn_client.post(f"/time/leave/types/{created.id}", {
        "code": "MAR", "name": "婚假", "paid": "y", "unit": "day", "accrual": "yearly", "accrual_amount": "1.5",
        "carry_over_cap": "0.5", "needs_balance": "y", "color": "#e06fa0", "version": created.version})
    assert response.status_code == 302
    created = LeaveType.get_by_id(created.id)
    assert (created.accrual_amount, created.carry_over_cap, created.needs_balance) == (150, 50, True)


def test_a_lead_sees_their_companys_types_but_cannot_edit_them(lead_client, excn):
    page = lead_client.get(f"/time/leave/types?company={excn.id}")
    assert page.status_code == 200 and "年假" in page.get_data(as_text=True)
    assert "New leave type" not in page.get_data(as_text=True)
    assert lead_client.get(f"/time/leave/types?company={unit_by_code('EXDE').id}").status_code == 404
    assert lead_client.get(f"/time/leave/types/new?company={excn.id}").status_code == 403


def test_the_generic_request_page_makes_leave_requests_too(agent_client):
    person = own_record("agent.jd1")
    sick = LeaveType.get(LeaveType.code == "SICK", LeaveType.company == person.company_id)
    assert agent_client.get("/approvals/new/time.leave").status_code == 200
    response = agent_client.post("/approvals/new/time.leave", {"leave_type": sick.id, "start_date": "2025-04-01"})
    assert response.status_code == 302
    request = LeaveRequest.get((LeaveRequest.employee == person.id) & (LeaveRequest.start_date == D(2025, 4, 1)))
    page = agent_client.get(f"/approvals/requests/{request.approval_id}").get_data(as_text=True)
    assert "病假" in page and "1 day" in page


def test_person_page_and_adjustment(hr_cn_client, hr_cn):
    person = make_employee("EXCN")
    annual = make_leave_type("EXCN")
    give_leave(person, annual, 300)
    page = hr_cn_client.get(f"/time/leave/people/{person.id}")
    assert page.status_code == 200 and "3 days" in page.get_data(as_text=True)
    assert "<html" not in hr_cn_client.get(f"/time/leave/people/{person.id}", htmx=True).get_data(as_text=True)
    response = hr_cn_client.post(f"/time/leave/people/{person.id}/adjust", {
        "adjust-leave_type": annual.id, "adjust-amount": "-0.5", "adjust-reason": "更正"})
    assert response.status_code == 302
    entry = LeaveLedger.get((LeaveLedger.employee == person.id) & (LeaveLedger.kind == "adjustment"))
    assert (entry.amount, entry.note) == (-50, "更正")


def test_team_calendar_full_and_fragment(lead_client, jd_team):
    page = lead_client.get(f"/time/leave/calendar?unit={jd_team.id}&month=2026-02")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "February 2026" in html
    assert 'class="leave-cal-day off holiday"' in html  # Spring Festival shaded
    fragment = lead_client.get(f"/time/leave/calendar?unit={jd_team.id}&month=2026-03", htmx=True)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)


def test_calendar_shows_approved_and_pending_leave(hr_cn_client, hr_cn, jd_team):
    from portal.approvals.services import decide_step

    person = make_employee("EXCN")
    sick = make_leave_type("EXCN", needs_balance=False, color="#8e5cc7")
    approved = make_leave_request(person, sick, D(2025, 3, 3))
    decide_step(hr_cn, approved.approval_id, approved.approval.version, True, "")
    make_leave_request(Employee.get_by_id(person.id), sick, D(2025, 3, 5))
    Employee.update(unit=jd_team.id).where(Employee.id == person.id).execute()  # now one of the team
    html = hr_cn_client.get(f"/time/leave/calendar?unit={jd_team.id}&month=2025-03").get_data(as_text=True)
    assert "leave-color-8e5cc7 leave-approved" in html and "leave-color-8e5cc7 leave-pending" in html


# --- scope ----------------------------------------------------------------------------------------

@pytest.fixture
def cn_leave(hr_cn):
    from portal.approvals.services import decide_step

    person = make_employee("EXCN")
    annual = make_leave_type("EXCN")
    give_leave(person, annual, 500)
    request = make_leave_request(person, annual, D(2025, 3, 3))
    decide_step(hr_cn, request.approval_id, request.approval.version, True, "")
    return person, annual, LeaveRequest.get_by_id(request.id)


def test_hr_de_cannot_see_or_act_on_cn_leave(hr_de_client, cn_leave, excn, jd_team):
    person, annual, request = cn_leave
    assert hr_de_client.get(f"/time/leave/people/{person.id}").status_code == 404
    assert hr_de_client.get(f"/time/leave/calendar?unit={excn.id}").status_code == 404
    assert hr_de_client.get(f"/time/leave/calendar?unit={jd_team.id}").status_code == 404
    assert hr_de_client.get(f"/time/leave/types?company={excn.id}").status_code == 404
    assert hr_de_client.get(f"/time/leave/request?employee={person.id}").status_code == 404
    assert hr_de_client.post(f"/time/leave/requests/{request.id}/cancel").status_code == 404
    assert hr_de_client.post(f"/time/leave/types/{annual.id}/archive").status_code == 404
    assert hr_de_client.post(f"/time/leave/people/{person.id}/adjust", {
        "adjust-leave_type": annual.id, "adjust-amount": "5", "adjust-reason": "x"}).status_code == 404
    assert LeaveRequest.get_by_id(request.id).state == "approved"
    assert not LeaveLedger.select().where((LeaveLedger.employee == person.id)
                                          & (LeaveLedger.kind == "adjustment")).exists()
    html = hr_de_client.get("/time/leave/calendar").get_data(as_text=True)
    assert "京东" not in html


def test_hr_cn_cancels_approved_leave(hr_cn_client, cn_leave):
    person, annual, request = cn_leave
    assert hr_cn_client.post(f"/time/leave/requests/{request.id}/cancel").status_code == 302
    assert LeaveRequest.get_by_id(request.id).state == "cancelled"


def test_an_agent_cannot_reach_hr_pages(agent_client, cn_leave):
    person, annual, request = cn_leave
    assert agent_client.get(f"/time/leave/people/{person.id}").status_code == 403
    assert agent_client.get("/time/leave/calendar").status_code == 403
    assert agent_client.get(f"/time/leave/request?employee={person.id}").status_code == 404
