"""Org pages: the same URL serves the full page or, for htmx, the fragment;
forms change the tree through the services and report errors next to the field."""
import re

import pytest

from factories import SYSTEM, make_unit, unit_by_code
from pages import form_fields
from portal.audit.models import AuditEvent
from portal.org.models import OrgUnit
from portal.org.services import archive_unit


@pytest.fixture
def department(db):
    return unit_by_code("EXDE-OPS")


@pytest.fixture
def team(db):
    return unit_by_code("EXDE-OPS-OPS1")


@pytest.fixture
def counts(db):
    return lambda: (OrgUnit.select().count(), AuditEvent.select().count())


def page_of(response):
    return response.get_data(as_text=True)


def field_error(body, field_id):
    """The error shown next to the field `field_id`, or None: the input points
    at its error with aria-describedby."""
    if not re.search(rf'id="{field_id}"[^>]*aria-describedby="{field_id}-error"'
                     rf'|aria-describedby="{field_id}-error"[^>]*id="{field_id}"', body):
        return None
    match = re.search(rf'id="{field_id}-error">([^<]*)<', body)
    return match.group(1) if match else None


def new_team(**overrides):
    data = {"new-kind": "team", "new-name": "Retouren", "new-code": "DE-RET", "new-platform": "other",
            "new-country": "DE", "new-currency": "EUR", "new-timezone": "Europe/Berlin", "new-default_locale": "de"}
    data.update(overrides)
    return data


# --- full page or fragment ---------------------------------------------------------

def test_unit_page_without_htmx_is_the_whole_page(hr_de_client, department):
    response = hr_de_client.get(f"/org/units/{department.id}")
    body = page_of(response)
    assert response.status_code == 200
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert f'id="unit-{department.id}"' in body  # the panel, inside the tree page
    assert "Example Commerce GmbH" in body  # the tree
    assert "HX-Request" in response.headers["Vary"]


def test_unit_page_for_htmx_is_only_the_panel(hr_de_client, department):
    response = hr_de_client.get(f"/org/units/{department.id}", htmx=True)
    body = page_of(response)
    assert response.status_code == 200
    assert "<html" not in body.lower() and "<body" not in body.lower()
    assert body.lstrip().startswith(f'<article class="unit-card" id="unit-{department.id}"')
    assert "Operations" in body and "Marktplatz-Team" in body  # the unit and its children
    assert "HX-Request" in response.headers["Vary"]


def test_panel_shows_settings_inherited_from_the_company(hr_de_client, team):
    body = page_of(hr_de_client.get(f"/org/units/{team.id}", htmx=True))
    assert "EUR" in body and "Europe/Berlin" in body
    assert "Inherited from the company." in body


def test_children_fragment_lists_the_units_below(hr_de_client, department):
    response = hr_de_client.get(f"/org/units/{department.id}/children", htmx=True)
    body = page_of(response)
    assert "<html" not in body.lower()
    assert "Marktplatz-Team" in body
    full = hr_de_client.get(f"/org/units/{department.id}/children")
    assert "<html" in page_of(full).lower()


def test_tree_shows_only_the_units_in_scope(hr_de_client, admin_client):
    mine = page_of(hr_de_client.get("/org"))
    assert "Example Commerce GmbH" in mine
    assert "示例电商（上海）有限公司" not in mine and "Example Group" not in mine
    everything = page_of(admin_client.get("/org"))
    assert "Example Group" in everything and "示例电商（上海）有限公司" in everything


def test_archived_units_leave_the_panel(hr_de_client, department):
    extra = make_unit(department, "team", name="Ehemaliges Team")
    archive_unit(SYSTEM, extra)
    assert "Ehemaliges Team" not in page_of(hr_de_client.get(f"/org/units/{department.id}", htmx=True))


# --- creating a child ----------------------------------------------------------------

def test_htmx_create_child_returns_the_panel_and_tells_the_tree(hr_de_client, department, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", new_team(), htmx=True)
    body = page_of(response)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "org-tree-changed"
    assert "<html" not in body.lower()
    assert f'id="unit-{department.id}"' in body  # the parent's panel, refreshed
    assert "Retouren is added." in body and "Retouren" in body
    created = OrgUnit.get(OrgUnit.code == "DE-RET")
    assert (created.parent_id, created.kind, created.company_id) == (department.id, "team", department.company_id)
    assert counts() == (before[0] + 1, before[1] + 1)
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.actor_name, event.unit_id) == ("org.unit_created", "hr.de", created.id)


def test_create_child_without_htmx_redirects_to_the_parent(hr_de_client, department):
    response = hr_de_client.post(f"/org/units/{department.id}/children", new_team())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/org/units/{department.id}"
    assert "Retouren is added." in page_of(hr_de_client.get(response.headers["Location"]))


def test_the_panels_own_create_form_works(hr_de_client, department):
    body = page_of(hr_de_client.get(f"/org/units/{department.id}/forms/create", htmx=True))
    data = form_fields(body, f"/org/units/{department.id}/children")
    data.update({"new-name": "Retouren", "new-code": "DE-RET"})
    response = hr_de_client.post(f"/org/units/{department.id}/children", data, htmx=True)
    assert response.status_code == 200
    assert OrgUnit.get(OrgUnit.code == "DE-RET").kind == "team"


@pytest.mark.parametrize("overrides,field_id,message", [
    ({"new-code": "EXCN"}, "new-code", "Another unit already uses this code."),
    ({"new-name": ""}, "new-name", "This field is required."),
    ({"new-kind": "store"}, "new-kind", "Not a valid choice."),
    ({"new-code": "x" * 40}, "new-code", "Use at most 32 characters."),
])
def test_bad_create_form_answers_422_with_the_error_next_to_the_field(
        hr_de_client, department, counts, overrides, field_id, message):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/children", new_team(**overrides), htmx=True)
    assert response.status_code == 422
    assert "HX-Trigger" not in response.headers
    body = page_of(response)
    assert field_error(body, field_id) == message
    assert counts() == before


def test_company_settings_errors_show_next_to_their_field(admin_client, counts):
    group = unit_by_code("EXG")
    before = counts()
    response = admin_client.post(f"/org/units/{group.id}/children", {
        "new-kind": "company", "new-name": "Example France", "new-code": "EXFR", "new-platform": "other",
        "new-country": "FR", "new-currency": "ABC", "new-timezone": "Europe/Paris", "new-default_locale": "en"},
        htmx=True)
    assert response.status_code == 422
    assert field_error(page_of(response), "new-currency") == "Enter an ISO 4217 currency code, such as CNY or EUR."
    assert field_error(page_of(response), "new-country") is None
    assert counts() == before


# --- editing -------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["EXDE-OPS-OPS1", "EXDE-OPS", "DE-SHOP", "EXDE"])
def test_the_panels_own_edit_form_saves_every_kind_of_unit(hr_de_client, code, db):
    if code == "DE-SHOP":
        make_unit(unit_by_code("EXDE"), "store", code="DE-SHOP", name="Amazon.de Shop", platform="other")
    unit = unit_by_code(code)
    body = page_of(hr_de_client.get(f"/org/units/{unit.id}/forms/edit", htmx=True))
    data = form_fields(body, f"/org/units/{unit.id}")
    data["edit-name"] = "Neuer Name"
    response = hr_de_client.post(f"/org/units/{unit.id}", data, htmx=True)
    assert response.status_code == 200, page_of(response)
    assert "Saved." in page_of(response)
    saved = OrgUnit.get_by_id(unit.id)
    assert (saved.name, saved.version) == ("Neuer Name", unit.version + 1)


def test_edit_with_a_stale_version_is_refused(hr_de_client, team, counts):
    body = page_of(hr_de_client.get(f"/org/units/{team.id}/forms/edit", htmx=True))
    stale = form_fields(body, f"/org/units/{team.id}")
    hr_de_client.post(f"/org/units/{team.id}", {**stale, "edit-name": "First"}, htmx=True)
    before = counts()
    response = hr_de_client.post(f"/org/units/{team.id}", {**stale, "edit-name": "Second"}, htmx=True)
    assert response.status_code == 422
    assert "Someone else changed this unit meanwhile." in page_of(response)
    assert OrgUnit.get_by_id(team.id).name == "First"
    assert counts() == before


# --- moving, archiving ----------------------------------------------------------------

def test_move_through_htmx(hr_de_client, team):
    target = unit_by_code("EXDE-CS")
    response = hr_de_client.post(f"/org/units/{team.id}/move", {"move-parent": target.id}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "org-tree-changed"
    assert OrgUnit.get_by_id(team.id).path == f"{target.path}{team.id}/"


def test_move_offers_only_parents_in_scope_of_the_right_kind(hr_de_client, team):
    body = page_of(hr_de_client.get(f"/org/units/{team.id}/forms/move", htmx=True))
    options = re.search(r'<select[^>]*name="move-parent"[^>]*>(.*?)</select>', body, re.S).group(1)
    offered = {int(v) for v in re.findall(r'value="(\d+)"', options)}
    kinds = {u.kind for u in OrgUnit.select().where(OrgUnit.id.in_(offered))}
    assert kinds <= {"store", "department", "team"}
    assert all(OrgUnit.get_by_id(i).company_id == team.company_id for i in offered)
    assert unit_by_code("EXDE-CS").id in offered


def test_move_to_a_unit_out_of_scope_is_refused(hr_de_client, team, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{team.id}/move", {"move-parent": unit_by_code("EXCN-OPS").id},
                                 htmx=True)
    assert response.status_code == 422  # not among the choices
    assert OrgUnit.get_by_id(team.id).parent_id == team.parent_id
    assert counts() == before


def test_archive_with_children_shows_why_and_changes_nothing(hr_de_client, department, counts):
    before = counts()
    response = hr_de_client.post(f"/org/units/{department.id}/archive", htmx=True)
    assert response.status_code == 422
    assert "Archive or move the units below it first." in page_of(response)
    assert OrgUnit.get_by_id(department.id).archived_at is None
    assert counts() == before


def test_archive_and_restore_a_leaf(hr_de_client, team):
    response = hr_de_client.post(f"/org/units/{team.id}/archive", htmx=True)
    assert response.status_code == 200 and "is archived" in page_of(response)
    assert OrgUnit.get_by_id(team.id).is_archived
    response = hr_de_client.post(f"/org/units/{team.id}/restore", htmx=True)
    assert response.status_code == 200 and "is restored" in page_of(response)
    assert not OrgUnit.get_by_id(team.id).is_archived


# --- who may do what -----------------------------------------------------------------

def test_viewers_do_not_get_the_forms_and_cannot_post(agent_client, counts):
    team = unit_by_code("CN-JD-CS-A")
    body = page_of(agent_client.get(f"/org/units/{team.id}", htmx=True))
    assert f'action="/org/units/{team.id}/children"' not in body
    before = counts()
    assert agent_client.post(f"/org/units/{team.id}/children", new_team(), htmx=True).status_code == 403
    assert agent_client.post(f"/org/units/{team.id}/archive").status_code == 403
    assert counts() == before


def test_an_employee_sees_only_their_own_team(agent_client):
    assert agent_client.get(f"/org/units/{unit_by_code('CN-JD-CS-A').id}").status_code == 200
    assert agent_client.get(f"/org/units/{unit_by_code('CN-JD-CS-B').id}").status_code == 404
    assert agent_client.get(f"/org/units/{unit_by_code('CN-JD').id}").status_code == 404


def test_a_missing_unit_is_404(hr_de_client):
    assert hr_de_client.get("/org/units/999999").status_code == 404


def test_the_path_above_links_only_to_units_in_scope(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    body = page_of(lead_client.get(f"/org/units/{team.id}", htmx=True))
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', body, re.S).group(0)
    for outside in ("EXG", "EXCN", "CN-JD"):
        assert f'href="/org/units/{unit_by_code(outside).id}"' not in crumbs
        assert lead_client.get(f"/org/units/{unit_by_code(outside).id}").status_code == 404


# --- the panel's forms, loaded when opened ---------------------------------------------

def test_the_panel_loads_each_form_when_its_details_open(hr_de_client, team):
    body = page_of(hr_de_client.get(f"/org/units/{team.id}", htmx=True))
    assert "<select" not in body  # no time zones, no list of every unit
    for name in ("create", "edit", "move"):
        assert f'hx-get="/org/units/{team.id}/forms/{name}" hx-trigger="toggle once"' in body


@pytest.mark.parametrize("name, action", [("create", "/children"), ("edit", ""), ("move", "/move")])
def test_each_form_url_answers_the_form_or_the_page_with_it_open(hr_de_client, team, name, action):
    fragment = page_of(hr_de_client.get(f"/org/units/{team.id}/forms/{name}", htmx=True))
    assert "<html" not in fragment
    assert any(k.endswith("csrf_token") and v for k, v in form_fields(fragment, f"/org/units/{team.id}{action}").items())
    full = page_of(hr_de_client.get(f"/org/units/{team.id}/forms/{name}"))
    assert "<html" in full and form_fields(full, f"/org/units/{team.id}{action}")
    assert re.search(rf'<details class="action" data-form="{name}" open', full)


def test_a_failed_post_shows_its_form_open_with_the_errors(hr_de_client, team):
    response = hr_de_client.post(f"/org/units/{team.id}/children", new_team(**{"new-name": ""}), htmx=True)
    assert response.status_code == 422
    body = page_of(response)
    assert re.search(r'<details class="action" data-form="create" open', body)
    assert field_error(body, "new-name") == "This field is required."


def test_form_urls_need_the_manage_permission_on_the_unit(client_for, team, db):
    agent = client_for("agent.jd1")
    assert agent.get(f"/org/units/{team.id}/forms/edit").status_code == 403
    hr_de = client_for("hr.de")
    outside = unit_by_code("CN-JD")
    for name in ("create", "edit", "move"):
        assert hr_de.get(f"/org/units/{outside.id}/forms/{name}", htmx=True).status_code == 404
    admin = client_for("admin")
    assert admin.get(f"/org/units/{unit_by_code('EXG').id}/forms/move").status_code == 404  # the group stays on top
    assert admin.get(f"/org/units/{team.id}/forms/delete", htmx=True).status_code == 404  # no such form
