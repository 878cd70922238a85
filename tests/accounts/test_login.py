"""Logging in and out: sessions, throttling, passwords, where login leads."""
import datetime as dt
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from flask.sessions import SecureCookieSessionInterface

from factories import SYSTEM
from portal.accounts.models import LoginAttempt, User, UserSession
from portal.accounts.services import update_user
from portal.audit.models import AuditEvent
from portal.core import auth
from portal.core.db import utcnow

THROTTLED = "Too many failed attempts. Please wait a few minutes and try again."
WRONG = "Wrong username or password."


def session_contents(app, client):
    cookie = client.http.get_cookie("session")
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie.value) if cookie else {}


def login(client, username, password="demo1234", **kwargs):
    client.get("/login")
    response = client.post("/login", {"username": username, "password": password, **kwargs.pop("data", {})},
                           **kwargs)
    if response.status_code == 302:
        client.get("/", **kwargs)  # the new session's CSRF token
    return response


def is_logged_in(client):
    return client.get("/").status_code == 200


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def hr_de(db):
    return User.get(User.username == "hr.de")


# --- the session at login ----------------------------------------------------------

def test_login_rotates_session_and_lands_on_dashboard(client):
    client.get("/login")
    before = client.http.get_cookie("session")
    response = client.post("/login", {"username": "admin", "password": "demo1234"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.http.get_cookie("session").value != before.value
    page = client.get("/")
    assert page.status_code == 200
    assert "Group Administrator" in page.get_data(as_text=True)
    assert UserSession.select().where(UserSession.ended_at.is_null()).count() == 1


def test_wrong_password_is_refused_and_recorded(client):
    response = client.post("/login", {"username": "admin", "password": "nope-nope"})
    assert response.status_code == 422
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert LoginAttempt.get(LoginAttempt.username == "admin").succeeded is False


def test_nothing_of_the_anonymous_session_survives_login(app, client):
    client.get("/login")
    anonymous = session_contents(app, client)
    old_token = client.token
    login(client, "hr.de")
    logged_in = session_contents(app, client)
    assert "_user_id" in logged_in and "_user_id" not in anonymous
    assert logged_in.get("csrf_token") != anonymous["csrf_token"]
    # the token of the anonymous page is no longer accepted
    assert client.post("/logout", {"csrf_token": old_token}).status_code == 400
    assert is_logged_in(client)


def test_the_cookie_carries_a_random_token_not_the_user_id(app, client, hr_de):
    login(client, "hr.de")
    token = session_contents(app, client)["_user_id"]
    assert token != str(hr_de.id) and len(token) >= 40
    row = UserSession.get(UserSession.user == hr_de.id)
    assert row.token_hash == auth.token_digest(token) != token


def test_session_cookie_is_httponly_and_samesite(client):
    response = login(client, "hr.de")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_is_audited(client, hr_de):
    login(client, "hr.de")
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.actor_id, event.actor_name) == ("auth.login", hr_de.id, "hr.de")
    assert event.unit_id == hr_de.unit_id and event.ip_address == "127.0.0.1"


# --- logout --------------------------------------------------------------------------

def test_logout_ends_the_server_side_session(app, client, hr_de):
    login(client, "hr.de")
    stolen_cookie = client.http.get_cookie("session").value
    row = UserSession.get((UserSession.user == hr_de.id) & UserSession.ended_at.is_null())
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert UserSession.get_by_id(row.id).ended_at is not None
    assert not is_logged_in(client)
    # the cookie as it was before logout no longer works, in any browser
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie)
    response = replay.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert AuditEvent.select().where(AuditEvent.action == "auth.logout").count() == 1


def test_logout_by_htmx_redirects_the_browser(client):
    login(client, "hr.de")
    response = client.post("/logout", htmx=True)
    assert response.headers["HX-Redirect"] == "/login"
    assert not is_logged_in(client)


def test_sessions_expire_after_their_lifetime(app, client, hr_de):
    login(client, "hr.de")
    assert is_logged_in(client)
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    UserSession.update(created_at=utcnow() - dt.timedelta(seconds=lifetime + 60)).where(
        UserSession.user == hr_de.id).execute()
    assert not is_logged_in(client)


# --- throttling ------------------------------------------------------------------------

def test_too_many_failures_lock_the_account_even_for_the_right_password(app, client, client_for):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert WRONG in text(login(client, "hr.de", "wrong-password"))
    response = login(client, "hr.de")
    assert response.status_code == 422
    assert THROTTLED in text(response)
    assert not is_logged_in(client)
    # from another address too: the limit is per account
    other = type(client)(app.test_client())
    response = login(other, "hr.de", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert THROTTLED in text(response)
    assert AuditEvent.select().where(AuditEvent.action == "auth.login_throttled").count() == 2
    # other accounts are not affected
    assert is_logged_in(client_for("hr.cn"))


def test_the_account_lock_ends_with_the_window(app, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        login(client, "hr.de", "wrong-password")
    window = app.config["LOGIN_THROTTLE_WINDOW_SECONDS"]
    LoginAttempt.update(attempted_at=utcnow() - dt.timedelta(seconds=window + 1)).execute()
    assert login(client, "hr.de").status_code == 302


def test_too_many_failures_from_one_address_lock_that_address(app, client):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    attacker = {"REMOTE_ADDR": "203.0.113.5"}
    for username in ("admin", "hr.cn", "nobody-at-all"):  # one failure per account: under the account limit
        login(client, username, "wrong-password", environ_base=attacker)
    response = login(client, "hr.de", environ_base=attacker)
    assert THROTTLED in text(response)
    assert not is_logged_in(client)
    # the same account from another address still gets in
    other = type(client)(app.test_client())
    assert login(other, "hr.de", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    unknown = login(client, "no.such.user", "whatever-1")
    wrong = login(client, "hr.de", "whatever-1")
    assert unknown.status_code == wrong.status_code == 422
    assert WRONG in text(unknown) and WRONG in text(wrong)


# --- passwords and other sessions -------------------------------------------------------

def test_password_change_ends_the_other_sessions(app, client_for, hr_de):
    here, elsewhere = client_for("hr.de"), client_for("hr.de")
    assert is_logged_in(elsewhere)
    response = here.post("/account/password", {"pw-current_password": "demo1234",
                                               "pw-new_password": "a-new-passphrase"})
    assert response.status_code == 302
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    assert UserSession.select().where((UserSession.user == hr_de.id) & UserSession.ended_at.is_null()).count() == 1
    fresh = type(here)(app.test_client())
    assert login(fresh, "hr.de").status_code == 422
    assert login(fresh, "hr.de", "a-new-passphrase").status_code == 302


@pytest.mark.parametrize("current,new,field_id,message", [
    ("not-my-password", "a-new-passphrase", "pw-current_password", "The current password is wrong."),
    ("demo1234", "short", "pw-new_password", "Use at least 8 characters."),
    ("demo1234", "HR.DE", "pw-new_password", "Use at least 8 characters."),
    ("demo1234", "", "pw-new_password", "This field is required."),
])
def test_a_refused_password_change_says_why_and_changes_nothing(client_for, hr_de, current, new, field_id, message):
    client = client_for("hr.de")
    response = client.post("/account/password", {"pw-current_password": current, "pw-new_password": new})
    assert response.status_code == 422
    assert f'id="{field_id}-error">{message}<' in text(response)
    assert User.get_by_id(hr_de.id).password_hash == hr_de.password_hash


def test_ending_another_session_logs_that_browser_out(client_for, hr_de):
    here = client_for("hr.de")
    elsewhere = client_for("hr.de")
    mine, other = UserSession.select().where(UserSession.user == hr_de.id).order_by(UserSession.id)
    page = text(here.get("/account"))
    assert f'action="/account/sessions/{other.id}/end"' in page
    response = here.post(f"/account/sessions/{other.id}/end")
    assert response.status_code == 302
    assert not is_logged_in(elsewhere)
    assert is_logged_in(here)
    assert f'action="/account/sessions/{other.id}/end"' not in text(here.get("/account"))
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.object_id, event.actor_name) == ("auth.session_ended", str(other.id), "hr.de")


def test_ending_ones_own_current_session_logs_out(client_for, hr_de):
    here = client_for("hr.de")
    mine = UserSession.get(UserSession.user == hr_de.id)
    here.post(f"/account/sessions/{mine.id}/end")
    assert not is_logged_in(here)
    assert UserSession.get_by_id(mine.id).ended_at is not None


def test_nobody_ends_someone_elses_session(client_for):
    victim = client_for("hr.cn")
    victims_session = UserSession.get(UserSession.user == User.get(User.username == "hr.cn").id)
    attacker = client_for("hr.de")
    assert attacker.post(f"/account/sessions/{victims_session.id}/end").status_code == 404
    assert UserSession.get_by_id(victims_session.id).ended_at is None
    assert is_logged_in(victim)


# --- deactivated accounts -----------------------------------------------------------------

def test_a_deactivated_user_is_logged_out_and_cannot_log_in(app, client_for, hr_de):
    logged_in = client_for("hr.de")
    update_user(SYSTEM, hr_de, hr_de.unit, hr_de.display_name, hr_de.email, False)
    assert not is_logged_in(logged_in)
    response = login(type(logged_in)(app.test_client()), "hr.de")
    assert response.status_code == 422
    assert WRONG in text(response)  # no hint that the account exists


def test_an_inactive_account_is_refused_even_with_a_live_session(client_for, hr_de):
    logged_in = client_for("hr.de")
    User.update(is_active=False).where(User.id == hr_de.id).execute()  # sessions left open on purpose
    assert not is_logged_in(logged_in)


def test_nobody_deactivates_their_own_account(admin_client):
    admin = User.get(User.username == "admin")
    response = admin_client.post(f"/users/{admin.id}", {
        "username": "admin", "display_name": admin.display_name, "email": "", "unit": admin.unit_id, "locale": ""})
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in text(response)
    assert User.get_by_id(admin.id).is_active


# --- where login sends you ---------------------------------------------------------------

@pytest.mark.parametrize("target", ["/org", "/users?q=li", "/org/units/3#top"])
def test_next_leads_back_to_the_page_asked_for(client, target):
    response = login(client, "hr.de", data={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/path", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "http:evil.example", "org", "",
])
def test_next_never_leads_off_the_site(client, target):
    response = login(client, "hr.de", data={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert location.startswith("/") and not location.startswith("//")
    assert not parts.scheme and not parts.netloc
    assert "\\" not in location and "\t" not in location  # browsers read "/\\host" and "/\t/host" as "//host"


def test_a_logged_in_user_opening_login_goes_to_the_dashboard(hr_de_client):
    response = hr_de_client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- passwords are stored as Argon2id --------------------------------------------------------

def test_passwords_are_stored_as_argon2id(hr_de):
    assert hr_de.password_hash.startswith("$argon2id$")
    assert auth.verify_password(hr_de.password_hash, "demo1234")
    assert not auth.verify_password(hr_de.password_hash, "demo12345")
    assert not auth.verify_password(None, "demo1234")
    assert not auth.verify_password("not-a-hash", "demo1234")


def test_the_production_hasher_is_argon2id_at_the_recommended_cost():
    from argon2 import Type
    from argon2.profiles import RFC_9106_LOW_MEMORY

    production = PasswordHasher()
    assert production.type is Type.ID
    assert production.time_cost >= RFC_9106_LOW_MEMORY.time_cost
    assert production.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost


def test_a_hash_made_with_other_settings_is_upgraded_at_login(client, hr_de):
    old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash("demo1234")
    User.update(password_hash=old).where(User.id == hr_de.id).execute()
    assert login(client, "hr.de").status_code == 302
    upgraded = User.get_by_id(hr_de.id).password_hash
    assert upgraded != old and not auth.needs_rehash(upgraded)
    assert auth.verify_password(upgraded, "demo1234")
