"""Administering user accounts: in scope only, validated, audited."""
import json
import re

import pytest

from factories import make_user, unit_by_code
from pages import form_fields
from portal.accounts.models import User, UserSession
from portal.accounts.services import create_user, list_users, update_user
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Actor, Scope
from portal.org.models import OrgUnit


def user(username):
    return User.get(User.username == username)


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def hr_de(db):
    return Actor.for_user(user("hr.de"))


@pytest.fixture
def hamburg(db):
    return unit_by_code("EXDE-WH-WH1")


def new_user_form(unit, **overrides):
    return {"username": "lea.m", "display_name": "Lea M", "email": "lea@example.de", "unit": unit.id,
            "locale": "", "is_active": "y", "password": "first-pass-123", **overrides}


# --- services --------------------------------------------------------------------------

def test_company_hr_creates_users_in_their_company_only(hr_de, hamburg):
    lea = create_user(hr_de, hamburg, " Lea.M ", " Lea M ", "first-pass-123", email="lea@example.de")
    assert (lea.username, lea.display_name, lea.unit_id) == ("lea.m", "Lea M", hamburg.id)
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.actor_name, event.unit_id) == ("user.created", "hr.de", hamburg.id)
    assert json.loads(event.after) == {"username": "lea.m", "display_name": "Lea M", "email": "lea@example.de",
                                       "unit": hamburg.id}
    with pytest.raises(NotInScope):
        create_user(hr_de, unit_by_code("CN-JD-CS-A"), "wang.x", "王X", "first-pass-123")


@pytest.mark.parametrize("username,password,field", [
    ("hr.cn", "first-pass-123", "username"),  # taken
    ("HR.CN", "first-pass-123", "username"),  # taken, whatever the case
    ("a", "first-pass-123", "username"),
    ("has space", "first-pass-123", "username"),
    ("-dash-first", "first-pass-123", "username"),
    ("lea.m", "short", "new_password"),
    ("lea.m.long", "lea.m.long", "new_password"),  # the username itself
])
def test_create_user_checks_username_and_password(hr_de, hamburg, username, password, field):
    users = User.select().count()
    with pytest.raises(ServiceError) as refused:
        create_user(hr_de, hamburg, username, "Someone", password)
    assert refused.value.field == field
    assert User.select().count() == users


def test_moving_a_user_needs_scope_on_both_units(hr_de, hamburg):
    lea = make_user(hamburg, username="lea.m")
    with pytest.raises(NotInScope):
        update_user(hr_de, lea, unit_by_code("CN-JD-CS-A"), "Lea M", None, True)
    moved = update_user(hr_de, lea, unit_by_code("EXDE-CS-CS1"), "Lea M", None, True)
    assert moved.unit_id == unit_by_code("EXDE-CS-CS1").id


def test_list_users_is_scoped_and_searchable(db):
    scope = Scope.for_user(user("hr.de"))
    rows, has_next = list_users(scope, per_page=1000)
    german = {u.id for u in User.select().join(OrgUnit).where(OrgUnit.path.startswith(unit_by_code("EXDE").path))}
    assert {u.id for u in rows} == german and not has_next
    assert [u.username for u in list_users(scope, "hr.d")[0]] == ["hr.de"]
    assert list_users(scope, "hr.cn")[0] == []
    first, more = list_users(scope, page=1, per_page=5)
    second, _ = list_users(scope, page=2, per_page=5)
    assert more and len(first) == 5 and not {u.id for u in first} & {u.id for u in second}


# --- pages ---------------------------------------------------------------------------------

def test_new_user_form_offers_only_units_in_scope(hr_de_client):
    body = text(hr_de_client.get("/users/new"))
    options = re.search(r'<select[^>]*name="unit"[^>]*>(.*?)</select>', body, re.S).group(1)
    offered = {int(v) for v in re.findall(r'value="(\d+)"', options)}
    german = {u.id for u in OrgUnit.select().where(OrgUnit.path.startswith(unit_by_code("EXDE").path))}
    assert offered == german


def test_create_a_user_through_the_page(hr_de_client, hamburg):
    response = hr_de_client.post("/users/new", new_user_form(hamburg))
    lea = user("lea.m")
    assert response.status_code == 302 and response.headers["Location"] == f"/users/{lea.id}"
    assert (lea.unit_id, lea.email, lea.is_active) == (hamburg.id, "lea@example.de", True)


def test_a_user_in_another_company_cannot_be_created_through_the_page(hr_de_client):
    users = User.select().count()
    response = hr_de_client.post("/users/new", new_user_form(unit_by_code("CN-JD-CS-A")))
    assert response.status_code == 422
    assert User.select().count() == users


@pytest.mark.parametrize("overrides,field_id,message", [
    ({"password": "short"}, "password", "Use at least 8 characters."),
    ({"username": "hr.cn"}, "username", "This username is taken."),
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"display_name": ""}, "display_name", "This field is required."),
])
def test_bad_user_form_shows_the_error_next_to_the_field(hr_de_client, hamburg, overrides, field_id, message):
    users = User.select().count()
    response = hr_de_client.post("/users/new", new_user_form(hamburg, **overrides))
    assert response.status_code == 422
    assert f'id="{field_id}-error">{message}<' in text(response)
    assert User.select().count() == users


def test_the_users_own_edit_form_saves(hr_de_client, hamburg):
    lea = make_user(hamburg, username="lea.m")
    data = form_fields(text(hr_de_client.get(f"/users/{lea.id}")), f"/users/{lea.id}")
    assert data["unit"] == str(hamburg.id)  # the page shows where the user belongs
    data["display_name"] = "Lea Maier"
    response = hr_de_client.post(f"/users/{lea.id}", data)
    assert response.status_code == 302, text(response)
    saved = user("lea.m")
    assert (saved.display_name, saved.unit_id, saved.is_active) == ("Lea Maier", hamburg.id, True)


def test_a_refused_password_reset_still_shows_the_users_unit(hr_de_client, hamburg):
    lea = make_user(hamburg, username="lea.m")
    response = hr_de_client.post(f"/users/{lea.id}/password", {"reset-new_password": "short"})
    assert response.status_code == 422
    assert form_fields(text(response), f"/users/{lea.id}")["unit"] == str(hamburg.id)


def test_a_team_lead_sees_users_but_cannot_change_them(lead_client):
    agent = user("agent.jd1")
    assert lead_client.get(f"/users/{agent.id}").status_code == 200
    response = lead_client.post(f"/users/{agent.id}", {"display_name": "Changed", "unit": agent.unit_id})
    assert response.status_code == 403
    assert user("agent.jd1").display_name == agent.display_name


def test_reset_password_ends_the_users_sessions(hr_de_client, hamburg):
    lea = make_user(hamburg, username="lea.m", password="first-pass-123")
    leas_browser = type(hr_de_client)(hr_de_client.http.application.test_client())
    leas_browser.login("lea.m", "first-pass-123")
    assert leas_browser.get("/").status_code == 200
    response = hr_de_client.post(f"/users/{lea.id}/password", {"reset-new_password": "second-pass-123"})
    assert response.status_code == 302
    assert leas_browser.get("/").status_code == 302
    assert not UserSession.select().where((UserSession.user == lea.id) & UserSession.ended_at.is_null()).exists()
    assert leas_browser.login("lea.m", "second-pass-123")


def test_users_page_lists_only_users_in_scope(hr_de_client):
    body = text(hr_de_client.get("/users?q=hr."))
    assert "hr.de" in body and "hr.cn" not in body


def test_deactivating_a_user_through_the_page_ends_their_sessions(hr_de_client, hamburg):
    lea = make_user(hamburg, username="lea.m", password="first-pass-123")
    leas_browser = type(hr_de_client)(hr_de_client.http.application.test_client()).login("lea.m", "first-pass-123")
    data = form_fields(text(hr_de_client.get(f"/users/{lea.id}")), f"/users/{lea.id}")
    data.pop("is_active")
    assert hr_de_client.post(f"/users/{lea.id}", data).status_code == 302
    assert user("lea.m").is_active is False
    assert leas_browser.get("/").status_code == 302
