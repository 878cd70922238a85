"""The profile and its tabs (each its own URL, full page or htmx fragment), the
record's forms, self-service at /people/me, and the menu."""
import datetime as dt
import re

import pytest

from factories import make_assignment, make_contract, make_document, make_employee, make_post, make_training, \
    make_user, unit_by_code
from pages import form_fields
from portal.people.models import Employee
from portal.posts.models import Post

TABS = ("", "/posts", "/contracts", "/documents", "/training", "/history")


@pytest.fixture
def person(db):
    person = make_employee("EXCN", number="PV-001", legal_name="高超", preferred_name="Chao", nationality="CN",
                           email="gao.chao@example.cn", national_id="110101198001011234")
    make_contract(person)
    make_document(person, title="身份证复印件", category="identity")
    make_training(person, course="新员工入职培训")
    make_assignment(person, make_post("EXCN", title="京东客服专员"), "CN-JD-CS-A", share=100, is_primary=True)
    return person


def page_of(response):
    return response.get_data(as_text=True)


def active_menu(body):
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]*)<', body.split("</nav>")[0])


def field_error(body, field_id):
    match = re.search(rf'id="{field_id}-error">([^<]*)<', body)
    return match.group(1) if match else None


# --- tabs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("tab", TABS)
def test_each_tab_is_a_page_and_a_fragment(person, hr_cn_client, tab):
    url = f"/people/{person.id}{tab}"
    full = page_of(hr_cn_client.get(url))
    assert "<!doctype html>" in full.lower() and "高超" in full
    assert active_menu(full) == ["People"]
    fragment = hr_cn_client.get(url, htmx=True)
    text = page_of(fragment)
    assert fragment.status_code == 200 and "<html" not in text.lower()
    assert text.lstrip().startswith('<nav class="tabs"')
    assert re.search(rf'href="{re.escape(url)}" hx-get="{re.escape(url)}" hx-target="#profile-tabs" '
                     r'hx-push-url="true" aria-current="page"', text)


def test_tabs_show_their_records(person, hr_cn_client):
    base = f"/people/{person.id}"
    assert "京东客服专员" in page_of(hr_cn_client.get(base + "/posts", htmx=True))
    assert "Permanent" in page_of(hr_cn_client.get(base + "/contracts", htmx=True))
    assert "身份证复印件" in page_of(hr_cn_client.get(base + "/documents", htmx=True))
    assert "新员工入职培训" in page_of(hr_cn_client.get(base + "/training", htmx=True))
    history = page_of(hr_cn_client.get(base + "/history", htmx=True))
    for label in ("Employee added", "Contract added", "Document uploaded", "Training recorded", "Post assigned"):
        assert label in history  # the trail's labels (core.audit.action_label), not its codes
    assert "people.employee_created" not in history


def test_mainland_profiles_are_not_found_for_german_hr(person, hr_de_client):
    for tab in TABS:
        assert hr_de_client.get(f"/people/{person.id}{tab}").status_code == 404


def test_a_lead_reads_their_team_members_profile_but_cannot_change_it(person, lead_client):
    body = page_of(lead_client.get(f"/people/{person.id}"))
    assert "高超" in body and f"/people/{person.id}/edit" not in body and "Reveal" not in body
    assert lead_client.get(f"/people/{person.id}/edit").status_code == 403


# --- the record's forms -------------------------------------------------------------------------

def test_adding_a_person(db, hr_cn_client):
    page = page_of(hr_cn_client.get("/people/new"))
    assert "示例电商" in page and "Example Commerce GmbH" not in page  # only companies hr.cn manages
    fields = dict(form_fields(page, "/people/new"))
    fields.update(number="PV-NEW", legal_name="林雪", hire_date="2024-09-01", national_id="110101199901011234")
    response = hr_cn_client.post("/people/new", fields)
    assert response.status_code == 302
    person = Employee.get(Employee.number == "PV-NEW")
    assert response.headers["Location"].endswith(f"/people/{person.id}")
    assert person.national_id_index is not None and "1234" not in person.national_id


def test_a_bad_person_form_shows_its_errors_in_place(db, hr_cn_client):
    fields = dict(form_fields(page_of(hr_cn_client.get("/people/new")), "/people/new"))
    fields.update(number="PV-BAD", legal_name="林雪", hire_date="2024-09-01", status="left")
    response = hr_cn_client.post("/people/new", fields)
    assert response.status_code == 422
    assert field_error(page_of(response), "leaving_date") == "Enter the leaving date of a person who has left."
    assert not Employee.select().where(Employee.number == "PV-BAD").exists()


def test_german_hr_cannot_add_to_the_mainland_company(db, hr_de_client):
    response = hr_de_client.post("/people/new", {"company": unit_by_code("EXCN").id, "number": "PV-X",
                                                 "legal_name": "X", "hire_date": "2024-01-01", "status": "active"})
    assert response.status_code == 422  # not a choice on their form
    assert not Employee.select().where(Employee.number == "PV-X").exists()


def test_the_edit_form_shows_the_employing_company(admin_client, db):
    person = make_employee("EXHK", legal_name="Chan Ka Yan")
    url = f"/people/{person.id}/edit"
    assert dict(form_fields(page_of(admin_client.get(url)), url))["company"] == str(unit_by_code("EXHK").id)


def test_editing_keeps_what_the_form_does_not_show(person, hr_cn_client):
    url = f"/people/{person.id}/edit"
    fields = dict(form_fields(page_of(hr_cn_client.get(url)), url))
    assert "national_id" not in fields  # changed on its own, never sent back and forth
    fields["preferred_name"] = "Gao"
    assert hr_cn_client.post(url, fields).status_code == 302
    stored = Employee.get_by_id(person.id)
    assert stored.preferred_name == "Gao" and stored.national_id == person.national_id
    stale = hr_cn_client.post(url, fields)  # the same version again
    assert stale.status_code == 422 and "changed this record meanwhile" in page_of(stale)


# --- self-service ----------------------------------------------------------------------------------

@pytest.fixture
def own_record(db, client):
    make_user(unit_by_code("CN-JD-CS-B"), username="qa.self", password="secret-pass-1", role_key="employee")
    person = make_employee("EXCN", legal_name="徐婷", username="qa.self", phone="+86 139 1234 5678")
    post = make_post("EXCN", title="唯品会客服专员", skills=[("VIS", 3)])
    Post.update(duties="处理唯品会订单咨询").where(Post.id == post.id).execute()
    make_assignment(person, post, "CN-VIP-CS-A", share=60, is_primary=True)
    make_contract(person, end_date=dt.date.today() + dt.timedelta(days=400), contract_type="fixed_term")
    make_document(person, title="劳动合同")
    client.login("qa.self", "secret-pass-1")
    client.http.set_cookie("locale", "en")
    return client, person


def test_an_employee_sees_their_own_profile(own_record):
    client, person = own_record
    body = page_of(client.get("/people/me"))
    assert "徐婷" in body and "唯品会客服专员" in body and "处理唯品会订单咨询" in body and "VIS" in body
    assert "¥10,000.00" in body  # their own pay
    assert "劳动合同" in body and "/people/documents/" in body
    assert "/approvals/new/people.contact_change" in body
    assert active_menu(body) == ["My profile"]
    assert client.get("/people").status_code == 403
    assert client.get(f"/people/{person.id}").status_code == 403


def test_the_self_service_fragment(own_record):
    client, _person = own_record
    text = page_of(client.get("/people/me", htmx=True))
    assert "<html" not in text.lower() and "徐婷" in text


def test_an_account_without_a_record_is_told_so(agent_client, db):
    Employee.update(user=None).where(Employee.user.is_null(False)).execute()
    assert "No employee record is linked to your account" in page_of(agent_client.get("/people/me"))


def test_exactly_one_menu_entry_is_active(person, hr_cn_client):
    for url in ("/people", f"/people/{person.id}/history", "/people/new", "/people/me"):
        assert len(active_menu(page_of(hr_cn_client.get(url)))) == 1, url
