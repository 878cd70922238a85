"""The audit trail itself: what is recorded, what is masked, and the hash chain
that makes tampering visible (to `verify_chain`, and to `flask audit verify`)."""
import json

import pytest

from factories import SYSTEM, make_unit, make_user, unit_by_code
from portal.accounts.models import User
from portal.accounts.services import create_user, reset_password
from portal.audit.models import AuditChainHead, AuditEvent
from portal.core.audit import GENESIS_HASH, MASK, mask, record_event, verify_chain
from portal.core.db import database

pytestmark = pytest.mark.usefixtures("db")


def events_since(event_id):
    return list(AuditEvent.select().where(AuditEvent.id > event_id).order_by(AuditEvent.id))


def last_id():
    return AuditEvent.select().order_by(AuditEvent.id.desc()).first().id


def execute(sql, *params):
    """Raw SQL, as someone with database access would tamper with the trail."""
    database.execute_sql(sql.replace("?", database.param), params)


# --- what is recorded ------------------------------------------------------------------

def test_every_write_through_the_pages_is_audited(admin_client):
    """Log in, change the org tree, manage users, roles and grants, log out:
    each write leaves an event naming the actor, the object and the unit."""
    start = AuditEvent.select().order_by(AuditEvent.id.desc()).first().id - 1  # include the login
    admin = User.get(User.username == "admin")
    department = unit_by_code("EXDE-OPS")
    admin_client.post(f"/org/units/{department.id}/children", {
        "new-kind": "team", "new-name": "Retouren", "new-code": "DE-RET", "new-platform": "other",
        "new-country": "DE", "new-currency": "EUR", "new-timezone": "Europe/Berlin", "new-default_locale": "de"})
    team = unit_by_code("DE-RET")
    admin_client.post(f"/org/units/{team.id}", {"edit-name": "Retouren Nord", "edit-code": "DE-RET",
                                               "edit-version": team.version})
    admin_client.post(f"/org/units/{team.id}/move", {"move-parent": unit_by_code("EXDE-CS").id})
    admin_client.post(f"/org/units/{team.id}/archive")
    admin_client.post(f"/org/units/{team.id}/restore")
    admin_client.post("/users/new", {"username": "jonas.k", "display_name": "Jonas K", "email": "",
                                     "unit": team.id, "locale": "", "is_active": "y",
                                     "password": "first-pass-123"})
    jonas = User.get(User.username == "jonas.k")
    admin_client.post(f"/users/{jonas.id}/password", {"reset-new_password": "second-pass-123"})
    admin_client.post("/roles/new", {"name": "Reader", "description": "", "unit": department.id,
                                     "permissions": ["org.view"]})
    admin_client.post(f"/users/{jonas.id}/grants", {"grant-role": 1, "grant-unit": team.id})
    admin_client.post("/logout")

    recorded = events_since(start)
    actions = [e.action for e in recorded]
    assert actions == ["auth.login", "org.unit_created", "org.unit_updated", "org.unit_moved", "org.unit_archived",
                       "org.unit_restored", "user.created", "user.password_reset", "role.created",
                       "grant.created", "auth.logout"]
    assert {(e.actor_id, e.actor_name) for e in recorded} == {(admin.id, "admin")}
    assert all(e.ip_address == "127.0.0.1" for e in recorded)
    by_action = {e.action: e for e in recorded}
    assert by_action["org.unit_updated"].unit_id == team.id
    assert json.loads(by_action["org.unit_updated"].before)["name"] == "Retouren"
    assert json.loads(by_action["org.unit_updated"].after)["name"] == "Retouren Nord"
    assert json.loads(by_action["org.unit_moved"].before)["parent"] == department.id
    assert json.loads(by_action["org.unit_moved"].after)["parent"] == unit_by_code("EXDE-CS").id
    assert by_action["user.created"].unit_id == team.id
    assert by_action["role.created"].unit_id == department.id
    assert by_action["grant.created"].unit_id == team.id
    assert by_action["auth.login"].unit_id == admin.unit_id
    assert verify_chain()[0]


def test_failed_logins_are_audited_without_the_password(client):
    client.post("/login", {"username": "hr.de", "password": "guess-Number-1"})
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.object_label, event.actor_name) == ("auth.login_failed", "hr.de", "hr.de")
    assert event.unit_id == User.get(User.username == "hr.de").unit_id
    assert "guess-Number-1" not in json.dumps([event.before, event.after, event.object_label])


def test_system_writes_are_recorded_without_an_actor():
    event = record_event("test.system_write", object_type="thing", object_id=7, label="Thing", unit=1,
                         after={"n": 1})
    assert (event.actor_id, event.actor_name, event.ip_address) == (None, None, None)
    assert (event.object_type, event.object_id, event.unit_id, event.after) == ("thing", "7", 1, '{"n": 1}')


# --- masking ---------------------------------------------------------------------------------

def test_mask_hides_sensitive_keys_at_any_depth():
    masked = mask({"password": "pw", "name": "Anna", "nested": {"token": "t", "bank_account": "DE89"},
                   "rows": [{"salary": 5000, "grade": "B"}], "national_id": "", "secret": None})
    assert masked == {"password": MASK, "name": "Anna", "nested": {"token": MASK, "bank_account": MASK},
                      "rows": [{"salary": MASK, "grade": "B"}], "national_id": "", "secret": None}


def test_record_event_masks_before_storing():
    event = record_event("test.masked", object_type="thing", before={"password": "old-pass"},
                         after={"password": "new-pass", "new_password": "x", "display_name": "A"})
    stored = AuditEvent.get_by_id(event.id)
    assert "old-pass" not in stored.before and "new-pass" not in stored.after
    assert json.loads(stored.after) == {"password": MASK, "new_password": MASK, "display_name": "A"}


def test_no_password_ever_reaches_the_trail(client_for):
    """Passwords set at creation, reset, and change: none appears in any event."""
    team = unit_by_code("EXDE-OPS-OPS1")
    jonas = create_user(SYSTEM, team, "jonas.k", "Jonas K", "Created-Pass-1")
    reset_password(SYSTEM, jonas, "Reset-Pass-2")
    hr = client_for("hr.de")
    hr.post("/account/password", {"pw-current_password": "demo1234", "pw-new_password": "Changed-Pass-3"})
    hr.post("/users/new", {"username": "lea.m", "display_name": "Lea M", "email": "", "unit": team.id,
                           "locale": "", "is_active": "y", "password": "Form-Pass-4"})
    assert User.select().where(User.username == "lea.m").exists()
    text = json.dumps([list(row) for row in AuditEvent.select().tuples()], default=str)
    for secret in ("Created-Pass-1", "Reset-Pass-2", "Changed-Pass-3", "Form-Pass-4", "demo1234", "$argon2"):
        assert secret not in text


# --- the chain ------------------------------------------------------------------------------------

def test_the_chain_of_the_demo_data_is_intact():
    ok, checked, bad_id, reason = verify_chain()
    assert (ok, bad_id, reason) == (True, None, None)
    assert checked == AuditEvent.select().count() > 50


def test_events_link_to_their_predecessor():
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    head = AuditChainHead.get_by_id(1)
    assert (head.last_event_id, head.last_hash) == (events[-1].id, events[-1].hash)


def test_progress_is_reported_batch_by_batch():
    total = AuditEvent.select().count()
    seen = []
    assert verify_chain(batch_size=10, on_progress=lambda done, of: seen.append((done, of)))[0]
    assert seen[0] == (10, total) and seen[-1] == (total, total)
    assert len(seen) == -(-total // 10)


@pytest.fixture
def middle_event():
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    return events[len(events) // 2]


def test_altering_one_rows_after_is_reported_at_that_row(middle_event):
    execute('UPDATE audit_event SET "after" = ? WHERE id = ?', '{"name": "forged"}', middle_event.id)
    ok, checked, bad_id, reason = verify_chain()
    assert (ok, bad_id) == (False, middle_event.id)
    assert "altered" in reason
    assert checked == AuditEvent.select().where(AuditEvent.id < middle_event.id).count()


@pytest.mark.parametrize("column,value", [("actor_name", "someone.else"), ("unit_id", 999),
                                          ("occurred_at", "2020-01-01 00:00:00"), ("action", "org.nothing")])
def test_altering_any_recorded_column_is_reported(middle_event, column, value):
    execute(f"UPDATE audit_event SET {column} = ? WHERE id = ?", value, middle_event.id)
    assert verify_chain()[2] == middle_event.id


def test_rewriting_a_row_with_a_fresh_hash_breaks_the_next_link(middle_event):
    from portal.core.audit import event_hash

    forged = AuditEvent.get_by_id(middle_event.id)
    forged.after = '{"name": "forged"}'
    new_hash = event_hash(forged.prev_hash, forged)
    execute('UPDATE audit_event SET "after" = ?, hash = ? WHERE id = ?', forged.after, new_hash, forged.id)
    ok, _checked, bad_id, reason = verify_chain()
    following = AuditEvent.select().where(AuditEvent.id > middle_event.id).order_by(AuditEvent.id).first()
    assert (ok, bad_id) == (False, following.id)
    assert "previous-hash mismatch" in reason


def test_deleting_a_middle_row_is_detected(middle_event):
    following = AuditEvent.select().where(AuditEvent.id > middle_event.id).order_by(AuditEvent.id).first()
    execute("DELETE FROM audit_event WHERE id = ?", middle_event.id)
    ok, _checked, bad_id, reason = verify_chain()
    assert (ok, bad_id) == (False, following.id)
    assert "removed" in reason


def test_deleting_the_newest_rows_is_detected():
    newest = last_id()
    execute("DELETE FROM audit_event WHERE id >= ?", newest - 2)
    ok, _checked, bad_id, reason = verify_chain()
    assert (ok, bad_id) == (False, newest)
    assert "newest events were removed" in reason


def test_new_events_after_verification_keep_the_chain_intact():
    make_unit(unit_by_code("EXDE-OPS"), "team")
    make_user(unit_by_code("EXDE-OPS"))
    assert verify_chain()[0]


# --- flask audit verify -------------------------------------------------------------------------------

def test_cli_verify_exits_0_on_an_intact_chain(app):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"OK: {AuditEvent.select().count()} events, chain intact." in result.output


def test_cli_verify_exits_1_on_a_broken_chain(app, middle_event):
    execute('UPDATE audit_event SET "after" = ? WHERE id = ?', '{"salary": 1}', middle_event.id)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {middle_event.id}" in result.output
