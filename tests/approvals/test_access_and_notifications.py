"""Who may see a request, and the notifications and counts in the top bar."""
import pytest
from flask_babel import format_date

from conftest import DAY, TODAY
from factories import make_user, unit_by_code
from portal.accounts.models import Grant, User
from portal.approvals.models import Notification
from portal.approvals.services import (
    Badges, badge_counts, decide_step, inbox, list_notifications, mark_notifications_read, notification_text, notify,
    submit_request, visible_request,
)
from portal.core.errors import NotInScope


def user(username):
    return User.get(User.username == username)


@pytest.mark.parametrize("username", [
    "lead.jd",  # the requester
    "co.lead",  # an approver of the pending step
    "hr.cn",  # an approver of a later step
    "admin",  # approvals.view over the whole group
    "auditor",  # approvals.view (read-only) over the whole group
])
def test_those_involved_and_those_overseeing_see_a_request(actor_of, transfer, username):
    assert visible_request(actor_of(username), transfer.id).id == transfer.id


@pytest.mark.parametrize("username", [
    "hr.de",  # HR of another company
    "agent.jd1",  # the person moved does not see the request about her
    "vip.lead",  # the lead of the team she is to join: told, but not an approver
])
def test_everyone_else_gets_not_found(actor_of, transfer, username):
    with pytest.raises(NotInScope):
        visible_request(actor_of(username), transfer.id)


def test_a_past_decider_still_sees_the_request(actor_of, transfer):
    decide_step(actor_of("co.lead"), transfer.id, transfer.version, True, "")
    Grant.delete().where(Grant.user == user("co.lead").id).execute()  # co.lead leads the team no more
    assert visible_request(actor_of("co.lead"), transfer.id).id == transfer.id


def test_badges_count_waiting_steps_and_unread_notifications(actor_of, co_lead, vip_lead, agent, transfer_values):
    before = {name: badge_counts(user(name)) for name in ("co.lead", "hr.cn", "lead.jd")}
    transfer = submit_request(actor_of("lead.jd"), "people.transfer", agent, transfer_values())
    assert badge_counts(user("co.lead")) == Badges(before["co.lead"].waiting + 1, before["co.lead"].unread + 1)
    assert badge_counts(user("hr.cn")) == before["hr.cn"]
    assert badge_counts(user("lead.jd")) == before["lead.jd"]  # nobody decides their own request
    decide_step(actor_of("co.lead"), transfer.id, transfer.version, True, "")
    assert badge_counts(user("co.lead")).waiting == before["co.lead"].waiting
    assert badge_counts(user("hr.cn")) == Badges(before["hr.cn"].waiting + 1, before["hr.cn"].unread + 1)


def test_a_grant_on_a_unit_above_counts_only_with_descendants(actor_of, transfer):
    """Someone holding team_lead on the JD store but not below it decides nothing in team A."""
    store = unit_by_code("CN-JD")
    above = make_user(store, username="store.only", role_key="team_lead", grant_unit=store, descendants=False)
    below = make_user(store, username="store.all", role_key="team_lead", grant_unit=store)
    assert badge_counts(above).waiting == 0 and inbox(actor_of("store.only"))[0] == []
    assert transfer.id in [item.step.request_id for item in inbox(actor_of("store.all"))[0]]
    assert badge_counts(below).waiting == len(inbox(actor_of("store.all"))[0])


def test_marking_read(transfer):
    reader = user("co.lead")
    notify([reader], "approvals.request_approved", {"kind": "people.transfer", "title": "x"})
    rows, _ = list_notifications(reader)
    assert len(rows) == 2 and badge_counts(reader).unread == 2
    assert mark_notifications_read(reader, rows[0].id) == 1
    assert badge_counts(reader).unread == 1
    with pytest.raises(NotInScope):  # someone else's notification
        mark_notifications_read(user("hr.cn"), rows[1].id)
    assert mark_notifications_read(reader) == 1
    assert badge_counts(reader).unread == 0


def test_notification_parameters_are_shown_in_the_readers_language(app, transfer):
    """A request kind by its label, a date formatted: the text is made when it is read."""
    told = Notification.get((Notification.message == "people.transfer.submitted")
                            & (Notification.user == user("vip.lead").id))
    effective = TODAY + 7 * DAY
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        text = notification_text(told)
        assert format_date(effective) in text and effective.isoformat() not in text
    waiting = Notification.get((Notification.user == user("co.lead").id)
                               & (Notification.message == "approvals.step_waiting"))
    assert "Transfer, 刘芳" in notification_text(waiting)


def test_an_undeclared_notification_is_refused(db):
    with pytest.raises(LookupError):
        notify([user("hr.cn")], "approvals.no_such_message")
