"""Scope follows assignments (兼岗): a team lead sees the people who hold a post in their
team, whatever company employs them, while the assignment lasts."""
import datetime as dt

import pytest

from factories import SYSTEM, make_assignment, make_employee, make_post
from portal.accounts.models import User
from portal.core.permissions import Scope, scoped_select
from portal.people.assignments import end_assignment
from portal.people.models import Employee
from portal.people.permissions import PEOPLE_VIEW

TODAY = dt.date.today()


@pytest.fixture
def lead_scope(db):
    return Scope.for_user(User.get(User.username == "lead.jd"))


@pytest.fixture
def german_helper(db):
    """Employed in Germany, helping the JD team A part-time."""
    person = make_employee("EXDE", legal_name="Lea Becker")
    make_assignment(person, make_post("EXDE", title="Kundenservice"), "EXDE-CS-CS1", 60, TODAY - dt.timedelta(days=30),
                    is_primary=True)
    return person


def visible_ids(scope):
    return {employee_id for (employee_id,) in scoped_select(Employee, PEOPLE_VIEW, Employee.id, scope=scope).tuples()}


def test_a_lead_sees_someone_from_another_company_holding_a_post_in_their_team(lead_scope, german_helper):
    assert german_helper.id not in visible_ids(lead_scope)
    secondary = make_assignment(german_helper, make_post("EXCN", title="京东客服（支援）"), "CN-JD-CS-A", 40,
                                TODAY - dt.timedelta(days=5))
    assert german_helper.id in visible_ids(lead_scope)
    # ... and stops seeing them once the assignment has ended
    end_assignment(SYSTEM, secondary, TODAY - dt.timedelta(days=1))
    assert german_helper.id not in visible_ids(lead_scope)


def test_a_coming_assignment_already_brings_the_person_into_scope(lead_scope, german_helper):
    make_assignment(german_helper, make_post("EXCN"), "CN-JD-CS-A", 40, TODAY + dt.timedelta(days=10))
    assert german_helper.id in visible_ids(lead_scope)


def test_a_post_in_another_team_brings_nobody_into_the_leads_scope(lead_scope, german_helper):
    make_assignment(german_helper, make_post("EXCN"), "CN-JD-CS-B", 40, TODAY)
    assert german_helper.id not in visible_ids(lead_scope)


def test_the_lead_finds_the_helper_in_the_talent_pool_and_reads_the_post(lead_client, german_helper):
    post = make_post("EXCN", title="京东客服（支援）")
    assignment = make_assignment(german_helper, post, "CN-JD-CS-A", 40, TODAY - dt.timedelta(days=5))
    body = lead_client.get("/posts/talent").get_data(as_text=True)
    assert "Lea Becker" in body
    assert lead_client.get(f"/posts/{post.id}").status_code == 200  # a post held in their team
    end_assignment(SYSTEM, assignment, TODAY - dt.timedelta(days=1))
    assert "Lea Becker" not in lead_client.get("/posts/talent").get_data(as_text=True)
    assert lead_client.get(f"/posts/{post.id}").status_code == 404
