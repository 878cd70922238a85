"""CSRF protection is on in the tests exactly as in production."""
import pytest

from factories import unit_by_code
from portal.audit.models import AuditEvent
from portal.org.models import OrgUnit

NEW_TEAM = {"new-kind": "team", "new-name": "Retouren", "new-code": "DE-RET", "new-platform": "other",
            "new-country": "DE", "new-currency": "EUR", "new-timezone": "Europe/Berlin", "new-default_locale": "de"}


@pytest.fixture
def department(db):
    return unit_by_code("EXDE-OPS")


@pytest.fixture
def counts(db):
    """Rows that any of these requests would add."""
    return lambda: (OrgUnit.select().count(), AuditEvent.select().count())


def test_csrf_protection_is_not_switched_off_for_tests(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.config["WTF_CSRF_HEADERS"] == ["X-CSRFToken"]


def test_form_post_without_token_is_refused_and_changes_nothing(hr_de_client, department, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", NEW_TEAM, csrf=False)
    assert response.status_code == 400
    assert "The form expired or did not come from this site" in response.get_data(as_text=True)
    assert counts() == before
    assert not OrgUnit.select().where(OrgUnit.code == "DE-RET").exists()


def test_form_post_with_a_forged_token_is_refused(hr_de_client, department, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", {**NEW_TEAM, "csrf_token": "forged"})
    assert response.status_code == 400
    assert counts() == before


def test_a_token_from_another_session_is_refused(hr_de_client, client, department, counts):
    client.get("/login")  # an anonymous visitor's token, valid for their own session only
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", {**NEW_TEAM, "csrf_token": client.token})
    assert response.status_code == 400
    assert counts() == before


def test_form_post_with_token_works(hr_de_client, department, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", NEW_TEAM)
    assert response.status_code == 302
    assert OrgUnit.get(OrgUnit.code == "DE-RET").parent_id == department.id
    assert counts() == (before[0] + 1, before[1] + 1)


def test_htmx_post_sends_the_token_in_the_header(hr_de_client, department, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", NEW_TEAM, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "org-tree-changed"
    assert "Retouren is added." in response.get_data(as_text=True)
    assert counts() == (before[0] + 1, before[1] + 1)


def test_htmx_post_without_the_header_is_refused(hr_de_client, department, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", NEW_TEAM, htmx=True, csrf=False)
    assert response.status_code == 400
    assert counts() == before


def test_pages_carry_the_token_for_htmx(hr_de_client):
    body = hr_de_client.get("/").get_data(as_text=True)
    assert f'"X-CSRFToken": "{hr_de_client.token}"' in body


def test_login_form_needs_the_token_too(client):
    response = client.post("/login", {"username": "admin", "password": "demo1234"}, csrf=False)
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still anonymous


def test_logout_needs_the_token(hr_de_client):
    assert hr_de_client.post("/logout", csrf=False).status_code == 400
    assert hr_de_client.get("/").status_code == 200  # still logged in
