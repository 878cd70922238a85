"""The employee list: active search, filters, sorting, pages, and scope — the
service (shared with the exports) and the page, with and without htmx."""
import datetime as dt
import re

import pytest

from factories import SYSTEM, make_assignment, make_contract, make_employee, make_post, unit_by_code
from portal.people import permissions as people_permissions, services
from portal.people.services import EmployeeFilters, parse_employee_filters
from portal.posts.models import Skill

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def cast(db):
    """A small cast with names nobody in the demo has."""
    return {
        "xuan": make_employee("EXCN", number="QX-001", legal_name="轩辕青", email="xuanyuan@example.cn",
                              hire_date=dt.date(2019, 5, 1), status="active"),
        "ximen": make_employee("EXCN", number="QX-002", legal_name="西门吹", preferred_name="Quinn",
                               hire_date=dt.date(2024, 1, 15), status="probation"),
        "quast": make_employee("EXDE", number="QX-003", legal_name="Quirin Quast", hire_date=dt.date(2021, 7, 1),
                               status="on_leave"),
        "odd": make_employee("EXCN", number="QX_100", legal_name="欧阳奇", email="q%odd@example.cn", status="left",
                             leaving_date=dt.date(2025, 2, 28)),
    }


def ids(actor, **filters):
    rows, _more = services.list_employees(actor.scope, EmployeeFilters(**filters))
    return [row.id for row in rows]


# --- filters from the URL --------------------------------------------------------------

def test_filters_are_parsed_and_bad_values_ignored():
    args = {"q": "  wang  ", "unit": "12", "status": "left", "post": "x", "skill": "-3", "sort": "hire_date",
            "dir": "desc"}
    assert parse_employee_filters(args) == EmployeeFilters(q="wang", unit_id=12, status="left", sort="hire_date",
                                                           descending=True)
    assert parse_employee_filters({"status": "fired", "sort": "salary"}) == EmployeeFilters()
    assert parse_employee_filters(args).query_args() == {"q": "wang", "unit": 12, "status": "left",
                                                         "sort": "hire_date", "dir": "desc"}


# --- search ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("轩辕", ["xuan"]), ("青", ["xuan"]), ("qx-00", ["xuan", "ximen", "quast"]), ("QUINN", ["ximen"]),
    ("xuanyuan@", ["xuan"]), ("x_100", ["odd"]), ("%", ["odd"]), ("qx_", ["odd"]), ("nobody-has-this", []),
])
def test_search_matches_number_names_and_email_as_substrings(cast, text, expected):
    found = ids(SYSTEM, q=text)
    assert sorted(found) == sorted(cast[key].id for key in expected)


def test_a_common_text_is_searched_in_list_order(cast, monkeypatch):
    """More matches than SEARCH_IDS_LIMIT: the condition goes into the list query itself."""
    monkeypatch.setattr(services, "SEARCH_IDS_LIMIT", 1)
    assert ids(SYSTEM, q="qx-00") == sorted([cast["xuan"].id, cast["ximen"].id, cast["quast"].id],
                                            key=lambda pk: next(e.legal_name for e in cast.values() if e.id == pk))


def test_search_stays_inside_the_scope(cast, hr_de, hr_cn):
    assert ids(hr_de, q="qx") == [cast["quast"].id]
    assert set(ids(hr_cn, q="qx")) == {cast["xuan"].id, cast["ximen"].id, cast["odd"].id}
    assert ids(hr_de, q="轩辕") == []


# --- filters and order --------------------------------------------------------------------

def test_status_filter(cast):
    assert ids(SYSTEM, q="qx", status="on_leave") == [cast["quast"].id]


def test_sorting_both_ways(cast):
    by_hire = ids(SYSTEM, q="qx-00", sort="hire_date")
    assert by_hire == [cast["xuan"].id, cast["quast"].id, cast["ximen"].id]
    assert ids(SYSTEM, q="qx-00", sort="hire_date", descending=True) == by_hire[::-1]
    assert ids(SYSTEM, q="qx-00", sort="number") == [cast["xuan"].id, cast["ximen"].id, cast["quast"].id]
    assert ids(SYSTEM, q="qx", sort="status")[0] == cast["xuan"].id  # active < left < on_leave < probation


def test_unit_filter_takes_the_subtree_and_the_people_posted_there(cast):
    jd_team = unit_by_code("CN-JD-CS-A")
    make_assignment(cast["quast"], make_post("EXCN"), jd_team, share=30)
    make_assignment(cast["xuan"], make_post("EXCN"), jd_team, share=100, is_primary=True)
    in_store = ids(SYSTEM, q="qx", unit_id=unit_by_code("CN-JD").id)
    assert set(in_store) == {cast["quast"].id, cast["xuan"].id}
    assert ids(SYSTEM, q="qx", unit_id=unit_by_code("CN-VIP").id) == []


def test_post_and_skill_filters(cast):
    post = make_post("EXCN", skills=[("Quechua", 2)])
    make_assignment(cast["ximen"], post, "CN-TM-CS", share=50)
    assert ids(SYSTEM, post_id=post.id) == [cast["ximen"].id]
    from portal.posts.services import set_employee_skills

    set_employee_skills(SYSTEM, cast["odd"], [("Quechua", 3)])
    assert ids(SYSTEM, skill_id=Skill.get(Skill.name == "Quechua").id) == [cast["odd"].id]


def test_pages_follow_one_another(cast):
    first, more = services.list_employees(SYSTEM.scope, EmployeeFilters(q="qx"), page=1, per_page=3)
    second, more_after = services.list_employees(SYSTEM.scope, EmployeeFilters(q="qx"), page=2, per_page=3)
    assert more and not more_after
    assert len(first) == 3 and len(second) == 1
    assert {e.id for e in first + second} == {e.id for e in cast.values()}


# --- scope follows assignments ---------------------------------------------------------------

def test_a_lead_sees_their_team_including_a_person_employed_elsewhere(cast, lead):
    from_hong_kong = make_employee("EXHK", legal_name="Qiu Kwok-wing", number="QX-HK1")
    make_assignment(from_hong_kong, make_post("EXCN"), "CN-JD-CS-A", share=40)
    make_assignment(cast["ximen"], make_post("EXCN"), "CN-VIP-CS-A", share=100, is_primary=True)
    visible = set(ids(lead, q="qx"))
    assert visible == {from_hong_kong.id}
    rows, _more = services.list_employees(lead.scope, EmployeeFilters(q="qx"))
    assert rows[0].company.name == "Example Trading (Hong Kong) Ltd."


def test_company_hr_sees_a_person_posted_in_from_another_company_while_the_post_lasts(cast, hr_de):
    from portal.people.assignments import end_assignment

    assert cast["xuan"].id not in ids(hr_de, q="qx")
    assignment = make_assignment(cast["xuan"], make_post("EXDE"), "EXDE-CS-CS1", share=20)
    assert set(ids(hr_de, q="qx")) == {cast["quast"].id, cast["xuan"].id}
    end_assignment(SYSTEM, assignment, dt.date.today() - dt.timedelta(days=1))
    assert ids(hr_de, q="qx") == [cast["quast"].id]  # the write is seen at once, whatever was kept


def test_an_assignment_that_has_ended_no_longer_opens_the_person(cast, lead):
    make_assignment(cast["quast"], make_post("EXCN"), "CN-JD-CS-A", share=20,
                    start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31))
    assert ids(lead, q="qx") == []


def test_long_id_lists_go_as_one_parameter(cast, lead, monkeypatch):
    """Lists longer than ONE_OF_INLINE are sent as one JSON (SQLite) or array
    (PostgreSQL) parameter: the same answers as when written out."""
    monkeypatch.setattr(people_permissions, "ONE_OF_INLINE", 0)
    from_hong_kong = make_employee("EXHK", legal_name="Qiu Long-list", number="QX-HK2")
    make_assignment(from_hong_kong, make_post("EXCN"), "CN-JD-CS-A", share=40)
    assert sorted(ids(SYSTEM, q="qx-00")) == sorted([cast["xuan"].id, cast["ximen"].id, cast["quast"].id])
    assert ids(lead, q="qx") == [from_hong_kong.id]
    assert ids(SYSTEM, q="qx", unit_id=unit_by_code("CN-JD").id) == [from_hong_kong.id]
    assert ids(SYSTEM, q="nobody-has-this") == []


# --- the page ---------------------------------------------------------------------------------

def test_the_list_page_and_its_fragment(cast, hr_cn_client):
    page = hr_cn_client.get("/people?q=qx")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<!doctype html>" in body.lower()
    assert 'hx-trigger="input changed delay:250ms, search"' in body
    assert "轩辕青" in body and "Quirin" not in body
    fragment = hr_cn_client.get("/people?q=轩辕", htmx=True)
    text = fragment.get_data(as_text=True)
    assert "<html" not in text.lower() and "<select" not in text
    assert "轩辕青" in text and "西门吹" not in text
    assert "HX-Request" in fragment.headers["Vary"]


def test_hr_de_never_sees_mainland_people_in_the_list(cast, hr_de_client):
    for url in ("/people", "/people?q=qx", "/people?q=轩辕", f"/people?unit={unit_by_code('EXCN').id}",
                "/people?status=left&q=qx"):
        body = hr_de_client.get(url, htmx=True).get_data(as_text=True)
        assert "轩辕青" not in body and "西门吹" not in body and "QX-001" not in body, url
    assert "Quirin Quast" in hr_de_client.get("/people?q=qx").get_data(as_text=True)


def test_the_list_shows_posts_status_and_contracts_ending_soon(cast, hr_cn_client):
    make_assignment(cast["xuan"], make_post("EXCN", title="质检专员"), "CN-JD-CS-A", share=100, is_primary=True)
    make_contract(cast["xuan"], contract_type="fixed_term", end_date=dt.date.today() + dt.timedelta(days=10))
    body = hr_cn_client.get("/people?q=qx-001", htmx=True).get_data(as_text=True)
    assert "质检专员" in body and "Contract ends soon" in body and "status-active" in body


def test_the_pager_keeps_the_filters(cast, hr_cn_client, app):
    app.config["PAGE_SIZE"] = 1
    body = hr_cn_client.get("/people?q=qx&sort=number", htmx=True).get_data(as_text=True)
    next_link = re.search(r'href="([^"]*page=2[^"]*)"', body).group(1).replace("&amp;", "&")
    assert "q=qx" in next_link and "sort=number" in next_link


def test_people_without_the_permission_get_no_list(agent_client):
    assert agent_client.get("/people").status_code == 403
