"""The clock pages: My time (full page and htmx card, with and without JS), the
clock events for HR in scope, and the device-import steps."""
import datetime as dt
import io

import pytest

from portal.people.models import Employee
from portal.time.models import ClockEvent, ClockImport
from factories import make_clock_event, make_clock_person, make_user, unit_by_code

DAY = dt.date(2025, 6, 2)


@pytest.fixture
def own_client(client):
    """A client logged in as a fresh person of the JD team A, with no punches yet."""
    employee, user = make_clock_person("CN-JD-CS-A")
    client.login(user.username, "secret-pass-1")
    client.http.set_cookie("locale", "en")
    return client, employee


def test_my_time_is_a_page_and_a_card(own_client):
    client, _employee = own_client
    page = client.get("/time/clock/me")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert "Clock in" in body and 'hx-trigger="load"' in body
    for endpoint in ("/time/roster/mine", "/time/attendance/mine", "/time/leave/mine"):
        assert f'hx-get="{endpoint}"' in body
    card = client.get("/time/clock/me", htmx=True)
    assert card.status_code == 200 and "<html" not in card.get_data(as_text=True)
    assert "clock-button" in card.get_data(as_text=True)


def test_clocking_in_with_htmx_swaps_the_card_with_a_message(own_client):
    client, employee = own_client
    response = client.post("/time/clock/punch", {"kind": "in"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "Clocked in at" in body and "Clock out" in body
    event = ClockEvent.get(ClockEvent.employee == employee.id)
    assert (event.kind, event.source, event.address) == ("in", "portal", "127.0.0.1")
    again = client.post("/time/clock/punch", {"kind": "in"}, htmx=True)  # the double tap
    assert again.status_code == 422 and "Already recorded" in again.get_data(as_text=True)
    assert ClockEvent.select().where(ClockEvent.employee == employee.id).count() == 1


def test_clocking_in_without_js_redirects_and_shows_the_message(own_client):
    client, employee = own_client
    response = client.post("/time/clock/punch", {"kind": "in"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/time/clock/me")
    page = client.get("/time/clock/me").get_data(as_text=True)
    assert "Clocked in at" in page
    refused = client.post("/time/clock/punch", {"kind": "in"})
    assert refused.status_code == 302
    assert "Already recorded" in client.get("/time/clock/me").get_data(as_text=True)


def test_a_punch_without_the_csrf_token_is_refused(own_client):
    client, employee = own_client
    response = client.post("/time/clock/punch", {"kind": "in"}, csrf=False)
    assert response.status_code in (400, 422)
    assert ClockEvent.select().where(ClockEvent.employee == employee.id).count() == 0


def test_an_account_without_an_employee_record_gets_an_explanation(client):
    user = make_user(unit_by_code("EXCN"), role_key="employee")
    assert Employee.get_or_none(Employee.user == user.id) is None
    client.login(user.username, "secret-pass-1")
    client.http.set_cookie("locale", "en")
    body = client.get("/time/clock/me").get_data(as_text=True)
    assert "no employee record" in body and "clock-button" not in body
    assert client.post("/time/clock/punch", {"kind": "in"}).status_code == 404


# --- clock events --------------------------------------------------------------------------------------

@pytest.fixture
def punched(db):
    employee, _user = make_clock_person("CN-JD-CS-A")
    make_clock_event(employee, dt.datetime(2025, 6, 2, 1, 0), "in", address="10.8.1.7")  # 09:00 in Shanghai
    return employee


def test_hr_reads_a_units_clock_events_in_the_company_zone(hr_cn_client, punched):
    unit = unit_by_code("CN-JD-CS-A")
    page = hr_cn_client.get(f"/time/clock/events?unit={unit.id}&date=2025-06-02")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert punched.display_name in body and "10.8.1.7" in body and "9:00" in body
    fragment = hr_cn_client.get(f"/time/clock/events?unit={unit.id}&date=2025-06-02", htmx=True)
    assert "<html" not in fragment.get_data(as_text=True) and punched.display_name in fragment.get_data(as_text=True)
    person = hr_cn_client.get(f"/time/clock/events?employee={punched.id}&date=2025-06-02")
    assert person.status_code == 200 and "10.8.1.7" in person.get_data(as_text=True)


def test_hr_de_sees_no_mainland_clock_events(hr_de_client, punched):
    unit = unit_by_code("CN-JD-CS-A")
    assert hr_de_client.get(f"/time/clock/events?employee={punched.id}&date=2025-06-02").status_code == 404
    assert hr_de_client.get(f"/time/clock/events?unit={unit.id}&date=2025-06-02").status_code == 404
    own = hr_de_client.get("/time/clock/events?date=2025-06-02")
    assert own.status_code == 200 and punched.display_name not in own.get_data(as_text=True)


def test_agents_cannot_read_clock_events(agent_client):
    assert agent_client.get("/time/clock/events").status_code in (403, 404)


# --- device imports through the pages --------------------------------------------------------------------

def test_the_import_pages_take_a_file_to_the_preview_and_import(hr_cn_client, punched, excn):
    text = f"工号,打卡时间,状态\n{punched.number},2025-06-02 18:03,签退\nNOBODY,2025-06-02 18:04,签退\n"
    upload = hr_cn_client.post("/time/clock/imports", {
        "company": excn.id, "file": (io.BytesIO(text.encode("gbk")), "考勤.csv")}, content_type="multipart/form-data")
    assert upload.status_code == 302, upload.get_data(as_text=True)[:1500]
    page_url = upload.headers["Location"]
    mapping = hr_cn_client.get(page_url)
    assert mapping.status_code == 200 and "Which column holds what?" in mapping.get_data(as_text=True)
    checked = hr_cn_client.post(page_url, {"map-number": "工号", "map-at": "打卡时间", "map-direction": "状态",
                                           "map-device": ""}, htmx=True)
    body = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "Rows with errors" in body and "NOBODY" in body
    clock_imp = ClockImport.get()
    assert hr_cn_client.get(f"/time/clock/imports/{clock_imp.id}/errors.csv").status_code == 200
    refused = hr_cn_client.post(f"/time/clock/imports/{clock_imp.id}/run", htmx=True)
    assert refused.status_code == 422
    assert ClockEvent.select().where(ClockEvent.source == "device", ClockEvent.employee == punched.id).count() == 0


def test_hr_de_gets_404_on_a_mainland_import(hr_cn, hr_de_client, punched, excn):
    from portal.time import clock_import

    clock_imp = clock_import.upload_clock_import(hr_cn, excn, "x.csv", io.BytesIO(b"a,b,c\n1,2,3\n"))
    assert hr_de_client.get(f"/time/clock/imports/{clock_imp.id}").status_code == 404
