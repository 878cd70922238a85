"""CS set-up pages: the accounts list and its filters, an account with its
sub-accounts, bindings and shift types, the workstations page; full pages and
htmx fragments from one URL, 422 on invalid posts, scope and permissions."""
import datetime as dt

import pytest

from factories import SYSTEM, make_assignment, make_employee, make_post, make_shift_type, unit_by_code
from portal.cs import services
from portal.cs.models import CsAccount, CsAccountBinding, CsSubAccount, CsSubAccountBinding, CsWorkstation

TODAY = dt.date.today()


@pytest.fixture
def jd(db):
    return unit_by_code("CN-JD")


@pytest.fixture
def shared(jd):
    return services.create_cs_account(SYSTEM, jd, "VIEW-SHARED", "页面共享账号", service_start_minute=540)


@pytest.fixture
def personal(jd):
    return services.create_cs_account(SYSTEM, jd, "VIEW-VIP", "页面专席", kind="personal")


@pytest.fixture
def person(jd):
    """Someone holding a post in the JD store (so the suggestions list them)."""
    employee = make_employee("EXCN", legal_name="钱多多")
    make_assignment(employee, make_post("EXCN"), "CN-JD-CS-A")
    return employee


def text(response):
    return response.get_data(as_text=True)


# --- the list ------------------------------------------------------------------------------------

def test_the_list_shows_accounts_in_scope_with_their_holders(hr_cn_client, shared, personal, person):
    services.bind_personal_account(SYSTEM, personal, person, TODAY - dt.timedelta(days=3))
    page = hr_cn_client.get("/cs/accounts")
    body = text(page)
    assert page.status_code == 200 and "<html" in body
    assert "VIEW-SHARED" in body and "VIEW-VIP" in body and "钱多多" in body
    assert "HK-TM-MAIN" not in body  # Hong Kong's accounts are another company's
    assert 'class="subnav cs-subnav"' in body and "/cs/workstations" in body and "New account" in body
    assert page.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_the_sub_account_holders_show_in_the_list(hr_cn_client, shared, person):
    sub = services.create_sub_account(SYSTEM, shared, "页面共享账号:小钱")
    services.bind_sub_account(SYSTEM, sub, person, TODAY)
    assert "钱多多" in text(hr_cn_client.get("/cs/accounts?q=VIEW-SHARED", htmx=True))


@pytest.mark.parametrize("htmx", [False, True])
def test_filters_narrow_the_list(hr_cn_client, shared, personal, htmx):
    response = hr_cn_client.get("/cs/accounts?q=VIEW-&kind=personal", htmx=htmx)
    body = text(response)
    assert response.status_code == 200
    assert "VIEW-VIP" in body and "VIEW-SHARED" not in body
    assert ("<html" in body) is not htmx
    tmall = text(hr_cn_client.get("/cs/accounts?platform=tmall", htmx=htmx))
    assert "TM-MAIN" in tmall and "JD-MAIN" not in tmall
    store = unit_by_code("CN-VIP")
    by_store = text(hr_cn_client.get(f"/cs/accounts?store={store.id}", htmx=htmx))
    assert "VIP-MAIN" in by_store and "JD-MAIN" not in by_store


def test_archived_accounts_show_only_when_asked_for(hr_cn_client, shared):
    services.archive_cs_account(SYSTEM, shared)
    assert "VIEW-SHARED" not in text(hr_cn_client.get("/cs/accounts?q=VIEW", htmx=True))
    assert "VIEW-SHARED" in text(hr_cn_client.get("/cs/accounts?q=VIEW&archived=y", htmx=True))


def test_a_bad_filter_answers_422(hr_cn_client):
    assert hr_cn_client.get("/cs/accounts?kind=nonsense", htmx=True).status_code == 422


def test_the_list_pages(hr_cn_client, app):
    app.config["PAGE_SIZE"] = 2
    first = text(hr_cn_client.get("/cs/accounts", htmx=True))
    assert "page=2" in first
    assert hr_cn_client.get("/cs/accounts?page=2", htmx=True).status_code == 200


# --- creating and editing --------------------------------------------------------------------------

def test_create_an_account(hr_cn_client, jd):
    assert hr_cn_client.get(f"/cs/accounts/new?store={jd.id}").status_code == 200
    response = hr_cn_client.post("/cs/accounts/new", {
        "store": jd.id, "code": "VIEW-NEW", "name": "新账号", "kind": "shared", "split_rule": "presence",
        "service_hours": "20:00–02:00"})
    assert response.status_code == 302
    account = CsAccount.get(CsAccount.code == "VIEW-NEW")
    assert response.headers["Location"].endswith(f"/cs/accounts/{account.id}")
    assert (account.service_start_minute, account.service_end_minute, account.split_rule) == (1200, 120, "presence")


@pytest.mark.parametrize("htmx", [False, True])
def test_an_invalid_account_answers_422_next_to_the_field(hr_cn_client, jd, shared, htmx):
    response = hr_cn_client.post("/cs/accounts/new", {
        "store": jd.id, "code": "VIEW-BAD", "name": "x", "kind": "shared", "split_rule": "equal",
        "service_hours": "9 to 5"}, htmx=htmx)
    assert response.status_code == 422 and "HH:MM" in text(response)
    assert ("<html" in text(response)) is not htmx
    taken = hr_cn_client.post("/cs/accounts/new", {
        "store": jd.id, "code": "VIEW-SHARED", "name": "x", "kind": "shared", "split_rule": "equal",
        "service_hours": "09:00-18:00"}, htmx=htmx)
    assert taken.status_code == 422 and "already uses this code" in text(taken)
    assert not CsAccount.select().where(CsAccount.code == "VIEW-BAD").exists()


def test_edit_an_account_and_a_stale_version(hr_cn_client, shared, jd):
    form = text(hr_cn_client.get(f"/cs/accounts/{shared.id}/edit"))
    assert "09:00–24:00" in form
    values = {"store": jd.id, "code": "VIEW-SHARED", "name": "改过的", "kind": "shared", "split_rule": "capacity",
              "service_hours": "08:00-22:00", "version": shared.version}
    response = hr_cn_client.post(f"/cs/accounts/{shared.id}/edit", values, htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(f"/cs/accounts/{shared.id}")
    assert CsAccount.get_by_id(shared.id).name == "改过的"
    stale = hr_cn_client.post(f"/cs/accounts/{shared.id}/edit", {**values, "name": "又改"}, htmx=True)
    assert stale.status_code == 422 and "changed this account meanwhile" in text(stale)


def test_archive_and_restore_from_the_account_page(hr_cn_client, shared):
    response = hr_cn_client.post(f"/cs/accounts/{shared.id}/archive")
    assert response.status_code == 302 and CsAccount.get_by_id(shared.id).archived_at is not None
    again = hr_cn_client.post(f"/cs/accounts/{shared.id}/archive", htmx=True)
    assert again.status_code == 422 and "already archived" in text(again)
    page = text(hr_cn_client.get(f"/cs/accounts/{shared.id}"))
    assert "Restore" in page and "Add a sub-account" not in page
    assert hr_cn_client.post(f"/cs/accounts/{shared.id}/restore").status_code == 302
    assert CsAccount.get_by_id(shared.id).archived_at is None


# --- one account: sub-accounts, bindings, shift types -----------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_the_account_page(hr_cn_client, shared, person, htmx):
    shift = make_shift_type("EXCN", code="VW早", cs_accounts=["VIEW-SHARED"])
    sub = services.create_sub_account(SYSTEM, shared, "页面共享账号:小钱")
    services.bind_sub_account(SYSTEM, sub, person, TODAY - dt.timedelta(days=1))
    response = hr_cn_client.get(f"/cs/accounts/{shared.id}", htmx=htmx)
    body = text(response)
    assert response.status_code == 200 and ("<html" in body) is not htmx
    assert "页面共享账号:小钱" in body and "钱多多" in body and shift.code in body
    assert f"/time/roster/shift-types/{shift.id}" in body
    assert 'id="cs-people"' in body and person.number in body  # the suggestions


def test_add_a_sub_account_and_bind_it(hr_cn_client, shared, person):
    response = hr_cn_client.post(f"/cs/accounts/{shared.id}/sub-accounts", {"new-name": "页面共享账号:小钱"})
    assert response.status_code == 302
    sub = CsSubAccount.get(CsSubAccount.account == shared.id)
    twin = hr_cn_client.post(f"/cs/accounts/{shared.id}/sub-accounts", {"new-name": "页面共享账号:小钱"}, htmx=True)
    assert twin.status_code == 422 and "already has a sub-account" in text(twin)
    response = hr_cn_client.post(f"/cs/accounts/{shared.id}/sub-bindings", {
        "sub-sub_account": sub.id, "sub-number": person.number, "sub-valid_from": "2031-03-01"}, htmx=True)
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    binding = CsSubAccountBinding.get(CsSubAccountBinding.sub_account == sub.id)
    assert (binding.employee_id, binding.valid_from, binding.valid_to) == (person.id, dt.date(2031, 3, 1), None)
    overlap = hr_cn_client.post(f"/cs/accounts/{shared.id}/sub-bindings", {
        "sub-sub_account": sub.id, "sub-number": make_employee("EXCN").number, "sub-valid_from": "2031-03-05"},
        htmx=True)
    assert overlap.status_code == 422 and "one person at a time" in text(overlap)
    nobody = hr_cn_client.post(f"/cs/accounts/{shared.id}/sub-bindings", {
        "sub-sub_account": sub.id, "sub-number": "NOBODY-1", "sub-valid_from": "2031-04-01"})
    assert nobody.status_code == 422 and "Nobody with this number" in text(nobody)


def test_bind_a_personal_account_and_end_it(hr_cn_client, personal, person):
    page = text(hr_cn_client.get(f"/cs/accounts/{personal.id}"))
    assert "Bind to a person" in page
    response = hr_cn_client.post(f"/cs/accounts/{personal.id}/bindings", {
        "bind-number": person.number, "bind-valid_from": "2031-03-01"})
    assert response.status_code == 302
    binding = CsAccountBinding.get(CsAccountBinding.account == personal.id)
    end_url = f"/cs/accounts/bindings/{binding.id}/end"
    assert end_url in text(hr_cn_client.get(f"/cs/accounts/{personal.id}"))
    assert hr_cn_client.get(end_url).status_code == 200
    early = hr_cn_client.post(end_url, {"valid_to": "2031-02-01"}, htmx=True)
    assert early.status_code == 422 and "cannot come before" in text(early)
    done = hr_cn_client.post(end_url, {"valid_to": "2031-03-31"})
    assert done.status_code == 302 and CsAccountBinding.get_by_id(binding.id).valid_to == dt.date(2031, 3, 31)


def test_a_shared_account_is_not_bound_to_a_person(hr_cn_client, shared, person):
    response = hr_cn_client.post(f"/cs/accounts/{shared.id}/bindings", {
        "bind-number": person.number, "bind-valid_from": "2031-03-01"}, htmx=True)
    assert response.status_code == 422 and "Only a personal account" in text(response)
    assert not CsAccountBinding.select().where(CsAccountBinding.account == shared.id).exists()


def test_end_a_sub_account_binding(hr_cn_client, shared, person):
    sub = services.create_sub_account(SYSTEM, shared, "waiter")
    binding = services.bind_sub_account(SYSTEM, sub, person, dt.date(2031, 3, 1))
    url = f"/cs/accounts/sub-bindings/{binding.id}/end"
    assert "waiter" in text(hr_cn_client.get(url, htmx=True))
    assert hr_cn_client.post(url, {"valid_to": ""}, htmx=True).status_code == 422
    assert hr_cn_client.post(url, {"valid_to": "2031-03-10"}).status_code == 302
    assert CsSubAccountBinding.get_by_id(binding.id).valid_to == dt.date(2031, 3, 10)


# --- permissions and scope -------------------------------------------------------------------------

def test_a_lead_sees_no_set_up_buttons_and_cannot_create(lead_client, shared, jd):
    assert lead_client.get("/cs/accounts").status_code == 200  # cs.view, but no store in scope
    assert "VIEW-SHARED" not in text(lead_client.get("/cs/accounts"))
    assert lead_client.get("/cs/accounts/new").status_code == 403
    assert lead_client.post("/cs/accounts/new", {"store": jd.id, "code": "LEAD", "name": "x", "kind": "shared",
                                                 "split_rule": "equal", "service_hours": "09:00-18:00"}).status_code == 403
    assert lead_client.get(f"/cs/accounts/{shared.id}").status_code == 404


def test_an_agent_is_refused(agent_client, shared):
    assert agent_client.get("/cs/accounts").status_code == 403
    assert agent_client.get("/cs/workstations").status_code == 403
    assert agent_client.post(f"/cs/accounts/{shared.id}/archive").status_code == 403


def test_another_companys_hr_gets_404(hr_de_client, shared, personal, person):
    sub = services.create_sub_account(SYSTEM, shared, "waiter")
    sub_binding = services.bind_sub_account(SYSTEM, sub, person, TODAY)
    binding = services.bind_personal_account(SYSTEM, personal, person, TODAY)
    station = services.register_workstation(SYSTEM, person, "ip", "10.66.1.1")
    for url in (f"/cs/accounts/{shared.id}", f"/cs/accounts/{shared.id}/edit",
                f"/cs/accounts/bindings/{binding.id}/end", f"/cs/accounts/sub-bindings/{sub_binding.id}/end"):
        assert hr_de_client.get(url).status_code == 404, url
    for url, data in ((f"/cs/accounts/{shared.id}/archive", {}),
                      (f"/cs/accounts/{shared.id}/sub-accounts", {"new-name": "intruder"}),
                      (f"/cs/accounts/{personal.id}/bindings", {"bind-number": person.number,
                                                                "bind-valid_from": "2031-01-01"}),
                      (f"/cs/workstations/{station.id}/remove", {})):
        assert hr_de_client.post(url, data).status_code == 404, url
    assert CsAccount.get_by_id(shared.id).archived_at is None
    assert CsWorkstation.get_by_id(station.id).valid_to is None
    assert "10.66.1.1" not in text(hr_de_client.get("/cs/workstations?q=10.66", htmx=True))


# --- workstations ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_the_workstations_page_and_its_filter(lead_client, htmx):
    response = lead_client.get("/cs/workstations", htmx=htmx)
    body = text(response)
    assert response.status_code == 200 and ("<html" in body) is not htmx
    assert "10.8.21." in body  # the demo's JD agents
    assert "10.8.23." not in body  # Tmall's agents are not lead.jd's team
    narrowed = text(lead_client.get("/cs/workstations?q=CN-JD-PC01", htmx=htmx))
    assert "<code>CN-JD-PC01</code>" in narrowed and "<code>10.8.21." not in narrowed


def test_a_lead_registers_and_removes_a_workstation(lead_client, jd_team):
    member = make_employee("EXCN", legal_name="新同事")
    make_assignment(member, make_post("EXCN"), jd_team)
    assert lead_client.get("/cs/workstations/new").status_code == 200
    response = lead_client.post("/cs/workstations/new", {"number": member.number, "kind": "ip",
                                                          "value": " 10.8.21.240 ", "label": "窗边"}, htmx=True)
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    station = CsWorkstation.get(CsWorkstation.employee == member.id)
    assert station.value == "10.8.21.240" and station.valid_to is None
    twin = lead_client.post("/cs/workstations/new", {"number": member.number, "kind": "ip", "value": "10.8.21.240"},
                            htmx=True)
    assert twin.status_code == 422 and "already registered" in text(twin)
    bad = lead_client.post("/cs/workstations/new", {"number": member.number, "kind": "ip", "value": "10.8.21"})
    assert bad.status_code == 422 and "Enter an IP address" in text(bad) and "<html" in text(bad)
    assert lead_client.post(f"/cs/workstations/{station.id}/remove").status_code == 302
    assert not CsWorkstation.select().where(CsWorkstation.id == station.id).exists()  # registered today: deleted


def test_a_lead_cannot_register_someone_outside_the_team(lead_client):
    outsider = make_employee("EXCN")
    response = lead_client.post("/cs/workstations/new", {"number": outsider.number, "kind": "ip",
                                                          "value": "10.8.21.241"}, htmx=True)
    assert response.status_code == 422 and "Nobody with this number" in text(response)
    assert not CsWorkstation.select().where(CsWorkstation.employee == outsider.id).exists()


def test_ending_a_workstation_in_use(hr_cn_client, person):
    station = services.register_workstation(SYSTEM, person, "ip", "10.66.2.2", "", TODAY - dt.timedelta(days=5))
    response = hr_cn_client.post(f"/cs/workstations/{station.id}/remove", htmx=True)
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    assert CsWorkstation.get_by_id(station.id).valid_to == services.company_today(unit_by_code("EXCN")) \
        - dt.timedelta(days=1)
    listed = text(hr_cn_client.get("/cs/workstations?q=10.66.2.2&ended=y", htmx=True))
    assert "10.66.2.2" in listed and "Ended" in listed


def test_the_cs_navigation(hr_cn_client, lead_client, agent_client):
    hr = text(hr_cn_client.get("/cs/dashboards/team"))
    assert "/cs/accounts" in hr and "/cs/workstations" in hr and "/cs/imports" in hr
    lead = text(lead_client.get("/cs/workstations"))
    assert '<a href="/cs/workstations" aria-current="page">Workstations</a>' in lead
    assert "/cs/imports" not in lead  # no cs.import
    assert 'class="subnav cs-subnav"' not in text(agent_client.get("/cs/dashboards/help"))
