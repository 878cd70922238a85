"""The dashboard shows each panel only to those who hold its permission, with
numbers from their own scope."""
import re

import pytest

from factories import SYSTEM, unit_by_code
from portal.accounts.models import User
from portal.accounts.services import update_user
from portal.core.jobs import start_job
from portal.core.permissions import Actor
from portal.home.services import dashboard_summary
from portal.org.models import OrgUnit


def summary(username):
    return dashboard_summary(Actor.for_user(User.get(User.username == username)))


def unit_stats(data):
    return {str(label): count for label, count in data["unit_stats"]}


def subtree(code):
    return OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(unit_by_code(code).path))


def test_company_hr_counts_their_company_only(db):
    data = summary("hr.de")
    assert unit_stats(data) == {"Companies": 1, "Departments and teams": 8}
    assert data["user_count"] == User.select().where(User.unit.in_(subtree("EXDE")) & User.is_active).count()
    assert data["events"] and {e.unit_id for e in data["events"]} <= {i for (i,) in subtree("EXDE").tuples()}


def test_inactive_users_are_not_counted(db):
    before = summary("hr.de")["user_count"]
    someone = User.select().where(User.unit.in_(subtree("EXDE"))).order_by(User.id.desc()).first()
    update_user(SYSTEM, someone, someone.unit, someone.display_name, someone.email, False)
    assert summary("hr.de")["user_count"] == before - 1


def test_an_employee_sees_no_numbers_of_others(db):
    data = summary("agent.jd1")
    # No zero figures: an agent is not shown "0 companies".
    assert unit_stats(data) == {"Departments and teams": 1}
    assert data["user_count"] is None and data["events"] is None


def test_the_group_admin_sees_the_whole_group(db):
    data = summary("admin")
    assert unit_stats(data)["Companies"] == 4
    assert unit_stats(data)["Stores"] == 5
    assert data["user_count"] == User.select().where(User.is_active).count()
    assert len(data["events"]) == 8


def test_recent_jobs_are_those_the_user_may_follow(db):
    job = start_job("audit.verify", actor=User.get(User.username == "hr.de"), unit=unit_by_code("EXDE"))
    assert [j.id for j in summary("hr.de")["jobs"]] == [job.id]
    assert summary("hr.cn")["jobs"] == []


def test_the_page_shows_the_panels_of_the_user(client_for):
    hr = client_for("hr.de").get("/").get_data(as_text=True)
    assert 'href="/audit"' in hr and 'href="/users"' in hr and 'href="/org"' in hr
    agent = client_for("agent.jd1").get("/").get_data(as_text=True)
    assert 'href="/audit"' not in agent and 'href="/users"' not in agent
    assert 'href="/account"' in agent


MENU = {"/", "/org", "/users", "/roles", "/audit"}


def test_the_menu_offers_only_what_the_user_may_open(client_for):
    for username, expected in [("agent.jd1", {"/", "/org"}),
                               ("hr.de", {"/", "/org", "/users", "/roles", "/audit"}),
                               ("auditor", {"/", "/org", "/users", "/audit"})]:
        client = client_for(username)
        body = client.get("/").get_data(as_text=True)
        menu = re.search(r'<nav[^>]*aria-label="Main"[^>]*>(.*?)</nav>', body, re.S).group(1)
        links = set(re.findall(r'href="([^"?#]+)"', menu))
        assert links & MENU == expected, username
        assert all(client.get(link).status_code == 200 for link in links)


@pytest.mark.parametrize("username", ["admin", "hr.cn", "hr.de", "lead.jd", "agent.jd1", "auditor"])
def test_every_demo_login_gets_a_dashboard(client_for, username):
    response = client_for(username).get("/")
    assert response.status_code == 200
    assert User.get(User.username == username).display_name in response.get_data(as_text=True)


def test_health_check_needs_no_login(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
