"""Shift swaps through the approval engine (kind "time.shift_swap"): asked for by the
person on the shift, approved by the team's lead; applying re-checks the roster; two
leads approving at the same moment swap the roster exactly once."""
import datetime as dt
import threading

import pytest

from factories import make_roster_entry, make_roster_person, make_roster_team, make_shift_type, make_user
from portal.accounts.models import User
from portal.approvals.models import ApprovalRequest, Notification
from portal.approvals.services import decide_step, submit_request
from portal.audit.models import AuditEvent
from portal.core.db import database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Actor
from portal.time.models import RosterEntry

DAY = (utcnow() + dt.timedelta(days=30)).date()  # a future day, beyond the demo's rosters


@pytest.fixture
def team(db):
    return make_roster_team("EXCN-CS")


@pytest.fixture
def shifts(team):
    return (make_shift_type(team.company, "TE", "08:30", "17:30"),
            make_shift_type(team.company, "TL", "14:00", "23:00"))


@pytest.fixture
def pair(team, shifts):
    """Two people of the team, one on the early and one on the late shift of DAY."""
    early, late = shifts
    asker, colleague = make_roster_person(team), make_roster_person(team)
    return (asker, make_roster_entry(team, asker, DAY, early)), (colleague, make_roster_entry(team, colleague, DAY, late))


def actor(person):
    return Actor.for_user(User.get_by_id(person.user_id))


def ask(pair, **values):
    (asker, mine), (colleague, theirs) = pair
    return submit_request(actor(asker), "time.shift_swap", mine,
                          {"their_entry": theirs.id, "give_to": None, "reason": "Doctor's appointment", **values})


def test_a_swap_waits_for_the_lead_then_swaps_the_people(team, pair):
    (asker, mine), (colleague, theirs) = pair
    request = ask(pair)
    assert request.state == "pending" and request.unit_id == team.id
    assert RosterEntry.get_by_id(mine.id).employee_id == asker.id  # nothing changes before approval
    assert Notification.select().where((Notification.user == colleague.user_id)
                                       & (Notification.message == "time.shift_swap.submitted")).exists()
    decide_step(Actor.for_user(team.lead_user), request.id, request.version, True, "")
    assert ApprovalRequest.get_by_id(request.id).state == "approved"
    entries = {e.shift_type.code: e for e in RosterEntry.select().where(RosterEntry.unit == team.id)}
    assert (entries["TE"].employee_id, entries["TL"].employee_id) == (colleague.id, asker.id)
    assert {e.source for e in entries.values()} == {"swap"}
    assert AuditEvent.select().where(AuditEvent.action == "time.swap_applied").count() == 1
    told = Notification.select().where(Notification.message == "time.shift_swapped")
    assert sorted(n.user_id for n in told) == sorted([asker.user_id, colleague.user_id])


def test_one_pending_swap_per_shift(team, pair):
    ask(pair)
    with pytest.raises(ServiceError) as error:
        ask(pair)
    assert "already waiting" in str(error.value.message)


def test_giving_a_shift_to_a_free_colleague(team, pair):
    (asker, mine), _theirs = pair
    free = make_roster_person(team)
    request = ask(pair, their_entry=None, give_to=free.id)
    decide_step(Actor.for_user(team.lead_user), request.id, request.version, True, "")
    assert RosterEntry.select().where(RosterEntry.employee == free.id).count() == 1
    assert not RosterEntry.select().where(RosterEntry.employee == asker.id).exists()


def test_a_swap_that_would_break_the_rest_rule_is_refused(team, shifts, pair):
    (asker, mine), (colleague, theirs) = pair
    night = make_shift_type(team.company, "TN", "22:00", "07:00")
    # ends at 07:00 on DAY: the early shift the colleague would take leaves 1.5 h of rest
    make_roster_entry(team, colleague, DAY - dt.timedelta(days=1), night)
    with pytest.raises(ServiceError) as error:
        ask(pair)
    assert "rest" in str(error.value.message)


def test_only_one_s_own_shift_can_be_offered(team, pair):
    (asker, _mine), (_colleague, theirs) = pair
    with pytest.raises(NotInScope):
        submit_request(actor(asker), "time.shift_swap", theirs, {"their_entry": None, "give_to": asker.id})


def test_the_roster_changed_meanwhile(team, pair, shifts):
    request = ask(pair)
    (_asker, mine), _ = pair
    RosterEntry.update(version=RosterEntry.version + 1).where(RosterEntry.id == mine.id).execute()
    with pytest.raises(ServiceError) as error:
        decide_step(Actor.for_user(team.lead_user), request.id, request.version, True, "")
    assert "roster changed" in str(error.value.message)
    assert ApprovalRequest.get_by_id(request.id).state == "pending"


def test_two_leads_approving_at_once_swap_exactly_once(app, team, pair):
    (asker, mine), (colleague, theirs) = pair
    second = make_user(team, role_key="team_lead")
    request = ask(pair)
    leads = [team.lead_user, second]
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(user):
        with app.app_context():
            database.connect(reuse_if_open=True)  # each thread its own connection, as two workers
            try:
                barrier.wait()
                decide_step(Actor.for_user(user), request.id, request.version, True, "")
                outcomes[user.username] = None
            except ServiceError as error:
                outcomes[user.username] = str(error.message)
            finally:
                database.close()

    threads = [threading.Thread(target=decide, args=(user,)) for user in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values(), key=str) == [None, "This request was already decided by someone else."], outcomes
    assert ApprovalRequest.get_by_id(request.id).state == "approved"
    assert AuditEvent.select().where(AuditEvent.action == "time.swap_applied").count() == 1
    rows = list(RosterEntry.select().where(RosterEntry.unit == team.id))
    assert len(rows) == 2
    assert {(e.employee_id, e.shift_type.code) for e in rows} == {(colleague.id, "TE"), (asker.id, "TL")}


def test_the_swap_form_and_my_roster_link(client, team, pair):
    (asker, mine), (colleague, theirs) = pair
    client.login(User.get_by_id(asker.user_id).username, "secret-pass-1")
    client.http.set_cookie("locale", "en")
    form = client.get(f"/approvals/new/time.shift_swap?entry={mine.id}")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert colleague.display_name in html and "Or give the shift to" in html and "Swap your shift (" in html
    response = client.post(f"/approvals/new/time.shift_swap?entry={mine.id}",
                           {"their_entry": theirs.id, "give_to": "", "reason": ""})
    assert response.status_code == 302
    assert ApprovalRequest.select().where(ApprovalRequest.kind == "time.shift_swap").count() == 1
    assert client.get(f"/approvals/new/time.shift_swap?entry={theirs.id}").status_code == 404
