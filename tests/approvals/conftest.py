"""The approval tests' people. 刘芳, a new record, holds a JD customer-service post
in the demo's JD team A, led by lead.jd and by co.lead (added here); vip.lead leads
the Vipshop team A she may move to; hr.cn is the mainland company's only HR.
The demo seed has requests of its own pending: tests look at theirs only.
Requests are raised through the services, as the pages do."""
import datetime as dt

import pytest

from factories import make_assignment, make_employee, make_post, make_user
from portal.accounts.models import User
from portal.approvals.services import submit_request
from portal.people.models import Assignment, Employee

TODAY = dt.date.today()
DAY = dt.timedelta(days=1)


@pytest.fixture
def co_lead(jd_team):
    """A second lead of the JD team A, beside lead.jd."""
    return make_user(jd_team, username="co.lead", role_key="team_lead")


@pytest.fixture
def vip_lead(vip_team):
    return make_user(vip_team, username="vip.lead", role_key="team_lead")


@pytest.fixture
def jd_post(db):
    return make_post("EXCN", title="京东客服")


@pytest.fixture
def vip_post(db):
    return make_post("EXCN", title="唯品会客服")


@pytest.fixture
def agent(jd_post, jd_team):
    """刘芳, full time on the JD post in team A."""
    person = make_employee("EXCN", legal_name="刘芳")
    make_assignment(person, jd_post, jd_team, 100, is_primary=True)
    return Employee.get_by_id(person.id)


@pytest.fixture
def agent_post(agent):
    return Assignment.get(Assignment.employee == agent.id)


@pytest.fixture
def transfer_values(agent_post, vip_post, vip_team):
    """The form values of a transfer of 刘芳 to the Vipshop team A next week."""

    def values(**overrides):
        return {"assignment": agent_post.id, "to_unit": vip_team.id, "to_post": vip_post.id, "share": 100,
                "effective_date": TODAY + 7 * DAY, "reason": "唯品会大促需要支援", **overrides}

    return values


@pytest.fixture
def transfer(actor_of, agent, transfer_values, co_lead, vip_lead):
    """A transfer of 刘芳 asked for by lead.jd: co.lead (or the team's other lead)
    decides first, then hr.cn; vip.lead is told."""
    return submit_request(actor_of("lead.jd"), "people.transfer", agent, transfer_values())


@pytest.fixture
def own_record(db):
    """The employee record of agent.jd1 (the demo gives each demo login one)."""
    user = User.get(User.username == "agent.jd1")
    return Employee.get_or_none(Employee.user == user.id) or make_employee("EXCN", legal_name="刘芳",
                                                                            username="agent.jd1")
