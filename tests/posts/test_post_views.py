"""Post pages: full page or fragment, forms through the services with errors next to
the field, assignments, people's skills, the talent pool, and scope (404 outside)."""
import datetime as dt
import re

import pytest

from factories import make_assignment, make_employee, make_post, unit_by_code
from pages import form_fields
from portal.audit.models import AuditEvent
from portal.people.models import Assignment, EmployeeSkill
from portal.posts.models import Post

TODAY = dt.date.today()
YEAR_AGO = TODAY - dt.timedelta(days=365)


@pytest.fixture
def jd_post(db):
    return make_post("EXCN", code="CS-JD", title="京东客服", capacity=60, headcount_plan=3,
                     skills=[("京东后台", 3)])


@pytest.fixture
def german_post(db):
    return make_post("EXDE", code="KS", title="Kundenservice")


@pytest.fixture
def agent(db, jd_post):
    person = make_employee("EXCN", legal_name="吴婷")
    make_assignment(person, jd_post, "CN-JD-CS-A", 60, YEAR_AGO, is_primary=True)
    return person


def text(response):
    return response.get_data(as_text=True)


def is_full_page(response):
    return text(response).lstrip().lower().startswith("<!doctype html>")


def active_menu_entries(body):
    return re.findall(r'<a href="([^"]+)" aria-current="page">', body)


# --- full page or fragment ------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/posts", "/posts?q=jd", "/posts/talent", "/posts/talent?min_spare=10"])
def test_lists_serve_the_page_or_the_rows(hr_cn_client, agent, url):
    full = hr_cn_client.get(url)
    assert full.status_code == 200 and is_full_page(full) and "HX-Request" in full.headers["Vary"]
    fragment = hr_cn_client.get(url, htmx=True)
    assert fragment.status_code == 200 and "<html" not in text(fragment).lower()
    assert "<table" in text(fragment)


def test_post_page_shows_the_job_description_and_holders_against_the_plan(hr_cn_client, jd_post, agent):
    body = text(hr_cn_client.get(f"/posts/{jd_post.id}"))
    assert "京东客服" in body and "京东后台" in body and "吴婷" in body
    assert "1 person" in body and "3 people" in body and "2 places open" in body
    fragment = hr_cn_client.get(f"/posts/{jd_post.id}", htmx=True)
    assert "<html" not in text(fragment).lower() and "吴婷" in text(fragment)


def test_exactly_one_menu_entry_is_active(hr_cn_client, jd_post, agent):
    for url, expected in [("/posts", "/posts"), (f"/posts/{jd_post.id}", "/posts"), ("/posts/new", "/posts"),
                          (f"/posts/assign?post={jd_post.id}", "/posts"), ("/posts/talent", "/posts/talent"),
                          (f"/posts/people/{agent.id}/skills", "/posts/talent")]:
        assert active_menu_entries(text(hr_cn_client.get(url))) == [expected], url


# --- creating and editing -------------------------------------------------------------------

def test_create_a_post_through_the_form(hr_cn_client):
    page = text(hr_cn_client.get("/posts/new"))
    data = form_fields(page, "/posts/new")
    assert "skills-1-name" in data  # blank rows to add skills
    data.update({"code": "CS-DY", "title": "抖音客服", "duties": "直播间咨询", "headcount_plan": "5", "capacity": "100",
                 "skills-0-name": "直播", "skills-0-level": "4"})
    response = hr_cn_client.post("/posts/new", data)
    post = Post.get(Post.code == "CS-DY")
    assert response.status_code == 302 and response.headers["Location"] == f"/posts/{post.id}"
    assert post.company_id == unit_by_code("EXCN").id
    assert "直播" in text(hr_cn_client.get(f"/posts/{post.id}"))


def test_a_bad_post_shows_the_error_next_to_the_field(hr_cn_client, jd_post):
    data = form_fields(text(hr_cn_client.get("/posts/new")), "/posts/new")
    data.update({"code": "cs-jd", "title": "重复"})
    response = hr_cn_client.post("/posts/new", data)
    assert response.status_code == 422
    assert 'id="code-error"' in text(response) and "already uses this code" in text(response)


def test_edit_a_post_and_lose_to_a_newer_version(hr_cn_client, jd_post):
    url = f"/posts/{jd_post.id}/edit"
    data = form_fields(text(hr_cn_client.get(url)), url)
    assert data["skills-0-name"] == "京东后台" and data["version"] == "1"
    response = hr_cn_client.post(url, {**data, "title": "京东客服专员"})
    assert response.status_code == 302 and Post.get_by_id(jd_post.id).title == "京东客服专员"
    stale = hr_cn_client.post(url, {**data, "title": "过时"})
    assert stale.status_code == 422 and "Someone else changed this post" in text(stale)


def test_add_a_skill_row_with_htmx(hr_cn_client):
    body = text(hr_cn_client.get("/posts/skill-row?index=4", htmx=True))
    assert 'name="skills-4-name"' in body and 'hx-swap-oob="true"' in body and "index=5" in body


def test_archive_and_restore(hr_cn_client):
    post = make_post("EXCN")
    response = hr_cn_client.post(f"/posts/{post.id}/archive")
    assert response.status_code == 302 and Post.get_by_id(post.id).archived_at is not None
    response = hr_cn_client.post(f"/posts/{post.id}/restore", htmx=True)
    assert response.headers["HX-Redirect"] == f"/posts/{post.id}"
    assert Post.get_by_id(post.id).archived_at is None


def test_archive_refused_while_held_shows_why(hr_cn_client, jd_post, agent):
    response = hr_cn_client.post(f"/posts/{jd_post.id}/archive", htmx=True)
    assert response.status_code == 422 and "end their assignments first" in text(response)
    assert "<html" not in text(response).lower()


def test_a_team_lead_reads_posts_but_cannot_edit_them(lead_client, jd_post, agent):
    assert lead_client.get(f"/posts/{jd_post.id}").status_code == 200
    assert "Edit" not in text(lead_client.get(f"/posts/{jd_post.id}", htmx=True)).split("Job description")[0]
    assert lead_client.get(f"/posts/{jd_post.id}/edit").status_code == 403


# --- assignments ------------------------------------------------------------------------------

def test_assign_from_a_person(hr_cn_client, jd_post):
    person = make_employee("EXCN", legal_name="孙磊")
    url = f"/posts/assign?employee={person.id}"
    data = form_fields(text(hr_cn_client.get(url)), url)
    assert data["number"] == person.number
    data.update({"post": str(jd_post.id), "unit": str(unit_by_code("CN-JD-CS-B").id), "share": "60",
                 "start_date": TODAY.isoformat(), "is_primary": "y"})
    response = hr_cn_client.post(url, data)
    assert response.status_code == 302, text(response)
    assignment = Assignment.get(Assignment.employee == person.id)
    assert (assignment.share, assignment.is_primary, assignment.unit.code) == (60, True, "CN-JD-CS-B")


def test_choosing_the_post_reloads_the_form_with_its_units_and_share(hr_cn_client, jd_post):
    response = hr_cn_client.get(f"/posts/assign?number=&post={jd_post.id}&share=100", htmx=True)
    body = text(response)
    assert body.lstrip().startswith('<form') and 'value="60"' in body  # the post's capacity
    assert "京东客服A组" in body and "Kundenservice" not in body


def test_assign_over_capacity_shows_the_error(hr_cn_client, jd_post, agent):
    data = form_fields(text(hr_cn_client.get(f"/posts/assign?post={jd_post.id}")), "/posts/assign")
    data.update({"number": agent.number, "unit": str(unit_by_code("CN-JD-CS-A").id), "share": "50"})
    response = hr_cn_client.post("/posts/assign", data)
    assert response.status_code == 422
    assert 'id="share-error"' in text(response) and "110%" in text(response)
    assert Assignment.select().where(Assignment.employee == agent.id).count() == 1


def test_assign_someone_outside_ones_scope_is_a_field_error(hr_de_client, german_post, agent):
    data = form_fields(text(hr_de_client.get(f"/posts/assign?post={german_post.id}")), "/posts/assign")
    data.update({"number": agent.number, "unit": str(unit_by_code("EXDE-CS-CS1").id), "share": "10"})
    response = hr_de_client.post("/posts/assign", data)
    assert response.status_code == 422 and "Nobody with this number is in your scope." in text(response)


def test_end_an_assignment(hr_cn_client, agent):
    assignment = Assignment.get(Assignment.employee == agent.id)
    url = f"/posts/assignments/{assignment.id}/end"
    assert "吴婷" in text(hr_cn_client.get(url)) and "<html" not in text(hr_cn_client.get(url, htmx=True)).lower()
    response = hr_cn_client.post(url, {"end_date": TODAY.isoformat()})
    assert response.status_code == 302 and Assignment.get_by_id(assignment.id).end_date == TODAY
    bad = hr_cn_client.post(url, {"end_date": (YEAR_AGO - dt.timedelta(days=1)).isoformat()})
    assert bad.status_code == 422 and 'id="end_date-error"' in text(bad)


# --- skills and the talent pool -----------------------------------------------------------------

def test_edit_a_persons_skills(hr_cn_client, agent):
    url = f"/posts/people/{agent.id}/skills"
    page = text(hr_cn_client.get(url))
    assert "京东后台" in page and "missing" in page  # what the post requires, and that it is missing
    data = form_fields(page, url)
    data.update({"skills-0-name": "京东后台", "skills-0-level": "4"})
    assert hr_cn_client.post(url, data).status_code == 302
    assert [(s.skill.name, s.level) for s in EmployeeSkill.select().where(EmployeeSkill.employee == agent.id)] == [
        ("京东后台", 4)]
    assert "met" in text(hr_cn_client.get(url, htmx=True))


def test_talent_pool_filters_with_htmx(hr_cn_client, agent):
    body = text(hr_cn_client.get("/posts/talent?q=吴婷", htmx=True))
    assert "吴婷" in body and "京东客服" in body and "40%" in body  # spare capacity
    assert "吴婷" not in text(hr_cn_client.get("/posts/talent?q=吴婷&min_spare=50", htmx=True))


@pytest.mark.parametrize("url", ["/posts/talent?min_spare=500", "/posts/talent?skill=x", "/posts?company=999999"])
def test_a_bad_filter_is_422(hr_cn_client, url):
    assert hr_cn_client.get(url, htmx=True).status_code == 422


# --- scope ----------------------------------------------------------------------------------------

def test_hr_de_gets_404_on_mainland_posts_and_people(hr_de_client, jd_post, agent):
    assignment = Assignment.get(Assignment.employee == agent.id)
    events = AuditEvent.select().count()
    for url in (f"/posts/{jd_post.id}", f"/posts/{jd_post.id}/edit", f"/posts/assign?post={jd_post.id}",
                f"/posts/assign?employee={agent.id}", f"/posts/people/{agent.id}/skills",
                f"/posts/assignments/{assignment.id}/end"):
        assert hr_de_client.get(url).status_code == 404, url
    for url in (f"/posts/{jd_post.id}/edit", f"/posts/{jd_post.id}/archive", f"/posts/people/{agent.id}/skills",
                f"/posts/assignments/{assignment.id}/end"):
        assert hr_de_client.post(url, {"title": "x", "end_date": TODAY.isoformat()}).status_code == 404, url
    assert AuditEvent.select().count() == events


def test_lists_show_only_what_is_in_scope(hr_de_client, jd_post, german_post, agent):
    posts = text(hr_de_client.get("/posts"))
    assert "Kundenservice" in posts and "京东客服" not in posts
    assert "吴婷" not in text(hr_de_client.get("/posts/talent"))
    assert "京东客服" not in text(hr_de_client.get("/posts/talent"))  # not even in the post filter


def test_an_agent_has_no_posts_pages(agent_client, jd_post):
    assert agent_client.get("/posts").status_code == 403
    assert agent_client.get("/posts/talent").status_code == 403
