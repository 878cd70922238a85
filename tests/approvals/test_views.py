"""The approval pages: each URL serves the full page, or its fragment for htmx; the
decision form answers 422 with the reason when it lost the race; scope answers 404."""
import json
import re

import pytest

from conftest import DAY, TODAY
from factories import make_post, make_user, unit_by_code
from portal.accounts.models import Role, User
from portal.approvals.models import ApprovalChain, ApprovalRequest, Delegation, Notification
from portal.approvals.services import badge_counts, decide_step, set_delegation
from portal.people.models import Employee


@pytest.fixture
def login(app, client, page_locale):
    """login("co.lead") → a client logged in as a user the tests made (with their password)."""

    def make(username, password="secret-pass-1"):
        logged_in = type(client)(app.test_client()).login(username, password)
        logged_in.http.set_cookie("locale", page_locale)
        return logged_in

    return make


@pytest.fixture
def co_lead_client(login, co_lead):
    return login("co.lead")


def page(response):
    return response.get_data(as_text=True)


def is_full_page(response):
    return page(response).lstrip().lower().startswith("<!doctype html>")


def fresh(row):
    return type(row).get_by_id(row.id)


# --- the inbox, the menu and the top bar ------------------------------------------------------

def test_the_inbox_lists_the_steps_waiting_for_me(co_lead_client, transfer):
    response = co_lead_client.get("/approvals")
    assert response.status_code == 200 and is_full_page(response)
    assert f'href="/approvals/requests/{transfer.id}"' in page(response)
    assert "Transfer" in page(response) and "刘芳" in page(response)
    fragment = co_lead_client.get("/approvals", htmx=True)
    assert fragment.status_code == 200 and "<html" not in page(fragment)
    assert f'href="/approvals/requests/{transfer.id}"' in page(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_menu_counts_the_steps_waiting_and_the_top_bar_the_unread(co_lead_client, transfer):
    counts = badge_counts(User.get(User.username == "co.lead"))
    home = page(co_lead_client.get("/"))
    assert re.search(rf'href="/approvals"[^>]*>Approvals <span class="badge count">{counts.waiting}</span>', home)
    assert re.search(rf'class="notify-link"[^>]*>.*?<span class="badge count">{counts.unread}</span>', home, re.S)


def test_without_anything_waiting_the_menu_shows_no_count(login, db):
    make_user(unit_by_code("EXDE"), username="quiet.user")
    home = page(login("quiet.user").get("/"))
    assert re.search(r'href="/approvals" *>Approvals</a>', home)
    assert 'class="badge count"' not in home


def test_my_requests(lead_client, transfer):
    response = lead_client.get("/approvals/mine")
    assert response.status_code == 200 and is_full_page(response)
    assert f'href="/approvals/requests/{transfer.id}"' in page(response) and "Pending" in page(response)
    assert "<html" not in page(lead_client.get("/approvals/mine", htmx=True))


# --- a request -----------------------------------------------------------------------------------

def test_the_request_page_shows_what_is_asked_the_chain_and_the_history(co_lead_client, transfer):
    response = co_lead_client.get(f"/approvals/requests/{transfer.id}")
    assert response.status_code == 200 and is_full_page(response)
    text = page(response)
    for expected in ("刘芳", "唯品会客服", "唯品会大促需要支援", "Team lead", "Company HR", "Approval requested",
                     "Your decision"):
        assert expected in text, expected
    fragment = co_lead_client.get(f"/approvals/requests/{transfer.id}", htmx=True)
    assert page(fragment).lstrip().startswith('<div id="request"')


def test_the_requester_sees_no_decision_form_but_may_withdraw(lead_client, transfer):
    text = page(lead_client.get(f"/approvals/requests/{transfer.id}"))
    assert "Your decision" not in text and "Withdraw my request" in text
    response = lead_client.post(f"/approvals/requests/{transfer.id}/withdraw", {"version": transfer.version})
    assert response.status_code == 302
    assert fresh(transfer).state == "withdrawn"


def test_deciding_with_htmx_returns_the_updated_request(co_lead_client, transfer):
    response = co_lead_client.post(f"/approvals/requests/{transfer.id}/decide",
                                   {"version": transfer.version, "decision": "approve", "comment": "同意"}, htmx=True)
    assert response.status_code == 200
    text = page(response)
    assert text.lstrip().startswith('<div id="request"') and "You approved the request." in text
    assert "Your decision" not in text  # HR decides next
    assert fresh(transfer).step_position == 2


def test_deciding_without_htmx_redirects_to_the_request(co_lead_client, transfer):
    response = co_lead_client.post(f"/approvals/requests/{transfer.id}/decide",
                                   {"version": transfer.version, "decision": "reject", "comment": "人手不够"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/approvals/requests/{transfer.id}"
    assert "You rejected the request." in page(co_lead_client.get(response.headers["Location"]))
    assert fresh(transfer).state == "rejected"


def test_a_decision_that_lost_the_race_answers_422_with_the_reason(co_lead_client, actor_of, jd_team, transfer):
    make_user(jd_team, username="quick.lead", role_key="team_lead")
    decide_step(actor_of("quick.lead"), transfer.id, transfer.version, True, "")  # while co.lead's page was open
    response = co_lead_client.post(f"/approvals/requests/{transfer.id}/decide",
                                   {"version": transfer.version, "decision": "approve", "comment": ""}, htmx=True)
    assert response.status_code == 422
    assert "This request was already decided by someone else." in page(response)
    assert fresh(transfer).version == transfer.version + 1


def test_a_rejection_without_a_reason_is_refused_next_to_the_comment(co_lead_client, transfer):
    response = co_lead_client.post(f"/approvals/requests/{transfer.id}/decide",
                                   {"version": transfer.version, "decision": "reject", "comment": ""}, htmx=True)
    assert response.status_code == 422
    assert re.search(r'id="comment-error">Say why you reject the request.<', page(response))
    assert fresh(transfer).version == transfer.version


@pytest.mark.parametrize("username", ["hr.de", "agent.jd1"])
def test_others_get_not_found(client_for, transfer, username):
    client = client_for(username)
    assert client.get(f"/approvals/requests/{transfer.id}").status_code == 404
    response = client.post(f"/approvals/requests/{transfer.id}/decide",
                           {"version": transfer.version, "decision": "approve", "comment": ""})
    assert response.status_code == 404
    assert fresh(transfer).version == transfer.version


# --- new requests ----------------------------------------------------------------------------------

def test_the_transfer_form_offers_the_persons_posts(lead_client, agent, agent_post, vip_team, vip_post):
    response = lead_client.get(f"/approvals/new/people.transfer?employee={agent.id}")
    assert response.status_code == 200 and is_full_page(response)
    text = page(response)
    assert f'<option selected value="{agent_post.id}">' in text or f'value="{agent_post.id}"' in text
    assert f'action="/approvals/new/people.transfer?employee={agent.id}"' in text
    assert "<html" not in page(lead_client.get(f"/approvals/new/people.transfer?employee={agent.id}", htmx=True))


def test_sending_a_transfer(lead_client, co_lead, agent, agent_post, vip_team, vip_post):
    form = {"assignment": agent_post.id, "to_unit": vip_team.id, "to_post": vip_post.id, "share": "100",
            "effective_date": (TODAY + 7 * DAY).isoformat(), "reason": "大促支援"}
    response = lead_client.post(f"/approvals/new/people.transfer?employee={agent.id}", form, htmx=True)
    request = ApprovalRequest.select().order_by(ApprovalRequest.id.desc()).first()
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/approvals/requests/{request.id}"
    assert (request.kind, request.subject_id, request.requester.username) == ("people.transfer", agent.id, "lead.jd")


def test_a_bad_transfer_is_refused_next_to_the_field(lead_client, agent, agent_post, vip_team, vip_post):
    before = ApprovalRequest.select().count()
    form = {"assignment": agent_post.id, "to_unit": vip_team.id, "to_post": vip_post.id, "share": "100",
            "effective_date": (TODAY - DAY).isoformat(), "reason": "大促支援"}
    response = lead_client.post(f"/approvals/new/people.transfer?employee={agent.id}", form)
    assert response.status_code == 422
    assert 'id="effective_date-error"' in page(response)
    assert ApprovalRequest.select().count() == before


@pytest.mark.parametrize("url", [
    "/approvals/new/people.transfer?employee={agent}",  # a mainland person
    "/approvals/new/people.secondary_post?employee={agent}",
    "/approvals/new/people.transfer",  # nobody named
    "/approvals/new/people.transfer?employee=nonsense",
    "/approvals/new/no.such.kind?employee={agent}",
])
def test_new_requests_outside_the_scope_are_not_found(hr_de_client, agent, url):
    assert hr_de_client.get(url.format(agent=agent.id)).status_code == 404
    assert hr_de_client.post(url.format(agent=agent.id), {"reason": "x"}).status_code == 404


def test_an_employee_asks_for_new_contact_details_from_their_profile(agent_client, own_record):
    response = agent_client.get("/approvals/new/people.contact_change")
    assert response.status_code == 200
    assert f'value="{own_record.email}"' in page(response)
    response = agent_client.post("/approvals/new/people.contact_change", {
        "email": own_record.email, "phone": own_record.phone, "address": "上海市长宁区延安西路1号",
        "emergency_contact_name": own_record.emergency_contact_name,
        "emergency_contact_relation": own_record.emergency_contact_relation,
        "emergency_contact_phone": own_record.emergency_contact_phone})
    assert response.status_code == 302
    request = ApprovalRequest.get(ApprovalRequest.subject_id == own_record.id)
    assert list(json.loads(request.payload)["changes"]) == ["address"]


def test_someone_without_a_record_cannot_ask_for_contact_changes(admin_client):
    assert not Employee.select().where(Employee.user == User.get(User.username == "admin").id).exists()
    assert admin_client.get("/approvals/new/people.contact_change").status_code == 404


# --- notifications ---------------------------------------------------------------------------------------

def test_notifications_are_listed_and_marked_read(co_lead_client, transfer):
    user = User.get(User.username == "co.lead")
    response = co_lead_client.get("/approvals/notifications")
    assert response.status_code == 200 and "asks for your approval" in page(response)
    assert f'href="/approvals/requests/{transfer.id}"' in page(response)
    note = Notification.get(Notification.user == user.id)
    assert co_lead_client.post(f"/approvals/notifications/{note.id}/read").status_code == 302
    assert fresh(note).read_at is not None
    assert co_lead_client.post("/approvals/notifications/read").status_code == 302
    assert badge_counts(user).unread == 0


def test_someone_elses_notification_is_not_found(hr_de_client, co_lead, transfer):
    note = Notification.get(Notification.user == co_lead.id)
    assert hr_de_client.post(f"/approvals/notifications/{note.id}/read").status_code == 404
    assert fresh(note).read_at is None


# --- delegation --------------------------------------------------------------------------------------------

def test_naming_a_stand_in_and_ending_it(co_lead_client, co_lead):
    assert co_lead_client.get("/approvals/delegations").status_code == 200
    response = co_lead_client.post("/approvals/delegations", {
        "delegate": "lead.jd", "start_date": TODAY.isoformat(), "end_date": (TODAY + 3 * DAY).isoformat()})
    assert response.status_code == 302
    delegation = Delegation.get(Delegation.delegator == co_lead.id)
    assert co_lead_client.post(f"/approvals/delegations/{delegation.id}/revoke").status_code == 302
    assert fresh(delegation).revoked_at is not None


def test_a_bad_stand_in_is_refused_next_to_the_field(co_lead_client, co_lead):
    response = co_lead_client.post("/approvals/delegations", {
        "delegate": "co.lead", "start_date": TODAY.isoformat(), "end_date": TODAY.isoformat()}, htmx=True)
    assert response.status_code == 422 and 'id="delegate-error"' in page(response)
    assert not Delegation.select().exists()


def test_someone_elses_delegation_is_not_found(hr_de_client, actor_of, co_lead):
    delegation = set_delegation(actor_of("co.lead"), "lead.jd", TODAY, TODAY + DAY)
    assert hr_de_client.post(f"/approvals/delegations/{delegation.id}/revoke").status_code == 404
    assert fresh(delegation).revoked_at is None


# --- chains ------------------------------------------------------------------------------------------------

def test_the_chains_page_shows_each_kind_and_where_its_chain_comes_from(hr_cn_client):
    response = hr_cn_client.get(f"/approvals/chains?unit={unit_by_code('CN-JD').id}")
    assert response.status_code == 200 and is_full_page(response)
    text = page(response)
    assert "Transfer" in text and "Secondary post" in text and "Change of contact details" in text
    assert "Team lead → Company HR" in text and "Default" in text
    fragment = hr_cn_client.get(f"/approvals/chains?unit={unit_by_code('CN-JD').id}", htmx=True)
    assert "<html" not in page(fragment) and "Team lead → Company HR" in page(fragment)


def test_setting_and_resetting_a_chain(hr_cn_client):
    store = unit_by_code("CN-JD")
    hr = Role.get(Role.builtin_key == "company_hr")
    assert hr_cn_client.get(f"/approvals/chains/{store.id}/people.transfer").status_code == 200
    response = hr_cn_client.post(f"/approvals/chains/{store.id}/people.transfer", {"steps-0": hr.id, "steps-1": ""})
    assert response.status_code == 302
    assert ApprovalChain.get(ApprovalChain.unit == store.id).steps == f"[{hr.id}]"
    assert "Here" in page(hr_cn_client.get(f"/approvals/chains?unit={store.id}"))
    assert hr_cn_client.post(f"/approvals/chains/{store.id}/people.transfer/reset").status_code == 302
    assert not ApprovalChain.select().exists()


def test_a_chain_needs_a_role(hr_cn_client):
    store = unit_by_code("CN-JD")
    response = hr_cn_client.post(f"/approvals/chains/{store.id}/people.transfer", {"steps-0": ""}, htmx=True)
    assert response.status_code == 422 and "Choose at least one role." in page(response)


def test_chains_are_for_those_who_configure_them(lead_client, hr_de_client):
    assert lead_client.get("/approvals/chains").status_code == 403
    mainland = unit_by_code("CN-JD").id
    assert hr_de_client.get(f"/approvals/chains?unit={mainland}").status_code == 404
    assert hr_de_client.get(f"/approvals/chains/{mainland}/people.transfer").status_code == 404
    assert hr_de_client.get(f"/approvals/chains/{unit_by_code('EXDE').id}/no.such.kind").status_code == 404


def test_choosing_a_unit_reloads_the_form_with_that_companys_posts(lead_client, agent):
    german_post = make_post("EXDE", title="Retourenprüfer")
    url = f"/approvals/new/people.transfer?employee={agent.id}"
    text = page(lead_client.get(url))
    assert 'hx-get="' + url + '"' in text and "Retourenprüfer" not in text  # the person's company's posts first
    german_team = unit_by_code("EXDE-CS-CS1")
    fragment = lead_client.get(f"{url}&to_unit={german_team.id}&reason=Wechsel", htmx=True)
    assert fragment.status_code == 200 and "<html" not in page(fragment)
    assert f'<option value="{german_post.id}">Retourenprüfer' in page(fragment)
    assert f'<option selected value="{german_team.id}">' in page(fragment) and "Wechsel</textarea>" in page(fragment)
    assert "field-error" not in page(fragment)  # nothing is checked until it is sent
