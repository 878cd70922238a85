"""Roles and grants: built-in roles follow the code, custom roles and grants
never hand out more than the actor holds, and every change is audited."""
import json

import pytest

from factories import SYSTEM, make_role, make_user, unit_by_code
from portal.accounts.models import Grant, Role, RolePermission, User
from portal.accounts.permissions import BUILTIN_ROLES
from portal.accounts.services import (create_role, grant_role, revoke_grant, role_permissions, sync_builtin_roles,
                                      update_role, usable_roles)
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import PERMISSIONS, Actor, Scope, expand_patterns

pytestmark = pytest.mark.usefixtures("db")


def actor(username):
    return Actor.for_user(User.get(User.username == username))


def builtin(key):
    return Role.get(Role.builtin_key == key)


def last_event():
    return AuditEvent.select().order_by(AuditEvent.id.desc()).first()


def role_state():
    return sorted(RolePermission.select(RolePermission.role, RolePermission.permission).tuples())


@pytest.fixture
def hr_cn():
    return actor("hr.cn")


@pytest.fixture
def newcomer():
    """An account in the Shanghai JD team without any role yet."""
    return make_user(unit_by_code("CN-JD-CS-A"), username="newcomer")


# --- built-in roles ------------------------------------------------------------------

def test_sync_builtin_roles_is_idempotent():
    group = unit_by_code("EXG")
    before = (Role.select().count(), role_state(), AuditEvent.select().count())
    sync_builtin_roles(group)
    sync_builtin_roles(group)
    assert (Role.select().count(), role_state(), AuditEvent.select().count()) == before


def test_sync_puts_drifted_permissions_back_and_says_so():
    group = unit_by_code("EXG")
    hr = builtin("company_hr")
    RolePermission.delete().where((RolePermission.role == hr) & (RolePermission.permission == "org.manage")).execute()
    RolePermission.create(role=hr, permission="audit.export")
    sync_builtin_roles(group)
    assert role_permissions(hr) == expand_patterns(BUILTIN_ROLES["company_hr"][2])
    event = last_event()
    assert event.action == "role.synced" and event.object_id == str(hr.id)
    assert "org.manage" not in json.loads(event.before)["permissions"]
    assert "org.manage" in json.loads(event.after)["permissions"]


def test_every_builtin_role_exists_once_on_the_group():
    roles = list(Role.select().where(Role.builtin_key.is_null(False)))
    assert sorted(r.builtin_key for r in roles) == sorted(BUILTIN_ROLES)
    assert {r.unit_id for r in roles} == {unit_by_code("EXG").id}


def test_group_admin_holds_every_declared_permission():
    assert set(role_permissions(builtin("group_admin"))) == set(PERMISSIONS)


@pytest.mark.parametrize("key,must_have,must_not_have", [
    ("company_hr", {"org.manage", "users.manage", "roles.manage", "audit.view"}, {"audit.export"}),
    ("team_lead", {"org.view", "users.view"}, {"org.manage", "users.manage", "roles.manage"}),
    ("employee", {"org.view"}, {"users.view", "audit.view"}),
    ("auditor", {"audit.view", "audit.export", "org.view", "users.view"}, {"org.manage", "users.manage"}),
])
def test_builtin_roles_hold_what_they_promise(key, must_have, must_not_have):
    permissions = set(role_permissions(builtin(key)))
    assert must_have <= permissions
    assert not must_not_have & permissions


def test_the_auditor_changes_nothing():
    assert all(p.endswith((".view", ".export")) for p in role_permissions(builtin("auditor")))


def test_builtin_roles_cannot_be_edited():
    hr = builtin("company_hr")
    before = role_state()
    with pytest.raises(ServiceError, match="Built-in roles follow the code"):
        update_role(SYSTEM, hr, "HR+", "", list(PERMISSIONS), hr.version)
    assert role_state() == before
    assert Role.get_by_id(hr.id).name == hr.name


def test_builtin_roles_cannot_be_edited_through_the_page(admin_client):
    hr = builtin("company_hr")
    before = role_state()
    response = admin_client.post(f"/roles/{hr.id}", {"name": "HR+", "description": "", "version": hr.version,
                                                    "permissions": list(PERMISSIONS)})
    assert response.status_code == 422
    assert "Built-in roles follow the code and cannot be edited" in response.get_data(as_text=True)
    assert role_state() == before


# --- custom roles --------------------------------------------------------------------------

def test_company_hr_creates_a_role_within_their_own_permissions(hr_cn):
    role = create_role(hr_cn, unit_by_code("EXCN"), "  Payroll clerk ", "Reads users", ["users.view", "org.view"])
    assert (role.name, role.unit_id, role.builtin_key) == ("Payroll clerk", unit_by_code("EXCN").id, None)
    assert role_permissions(role) == ["org.view", "users.view"]
    event = last_event()
    assert (event.action, event.actor_name, event.unit_id) == ("role.created", "hr.cn", unit_by_code("EXCN").id)
    assert json.loads(event.after) == {"name": "Payroll clerk", "permissions": ["org.view", "users.view"]}


def test_company_hr_cannot_create_a_role_with_a_permission_they_lack(hr_cn):
    roles = Role.select().count()
    with pytest.raises(ServiceError) as refused:
        create_role(hr_cn, unit_by_code("EXCN"), "Exporter", "", ["audit.view", "audit.export"])
    assert refused.value.field == "permissions"
    assert "audit.export" in str(refused.value.message) and "audit.view" not in str(refused.value.message)
    assert Role.select().count() == roles


def test_company_hr_cannot_define_roles_outside_their_company(hr_cn):
    with pytest.raises(NotInScope):
        create_role(hr_cn, unit_by_code("EXDE"), "Spy", "", ["org.view"])
    with pytest.raises(NotInScope):
        create_role(hr_cn, unit_by_code("EXG"), "Group wide", "", ["org.view"])


def test_unknown_permissions_are_refused(hr_cn):
    with pytest.raises(ServiceError, match="Unknown permission: payroll.steal") as refused:
        create_role(hr_cn, unit_by_code("EXCN"), "Odd", "", ["org.view", "payroll.steal"])
    assert refused.value.field == "permissions"


def test_role_names_are_unique_per_unit(hr_cn):
    create_role(hr_cn, unit_by_code("EXCN"), "Clerk", "", ["org.view"])
    with pytest.raises(ServiceError) as refused:
        create_role(hr_cn, unit_by_code("EXCN"), "Clerk", "", ["users.view"])
    assert refused.value.field == "name"
    create_role(SYSTEM, unit_by_code("EXDE"), "Clerk", "", ["org.view"])  # another unit: fine


def test_a_custom_role_update_is_versioned_and_audited(hr_cn):
    role = make_role(unit_by_code("EXCN"), ["org.view"], name="Clerk")
    update_role(hr_cn, role, "Senior clerk", "More", ["org.view", "users.view"], role.version)
    assert role_permissions(role) == ["org.view", "users.view"]
    event = last_event()
    assert event.action == "role.updated"
    assert json.loads(event.before)["permissions"] == ["org.view"]
    assert json.loads(event.after)["permissions"] == ["org.view", "users.view"]
    with pytest.raises(ServiceError, match="Someone else changed this role"):
        update_role(hr_cn, role, "Stale", "", ["org.view"], role.version)
    assert role_permissions(role) == ["org.view", "users.view"]


def test_no_escalation_through_a_role_update(hr_cn):
    role = make_role(unit_by_code("EXCN"), ["org.view"], name="Clerk")
    with pytest.raises(ServiceError) as refused:
        update_role(hr_cn, role, "Clerk", "", ["org.view", "audit.export"], role.version)
    assert refused.value.field == "permissions"
    assert role_permissions(role) == ["org.view"]


def test_role_form_shows_the_escalation_error_next_to_the_permissions(hr_cn_client):
    excn = unit_by_code("EXCN")
    roles = Role.select().count()
    response = hr_cn_client.post("/roles/new", {"name": "Exporter", "description": "", "unit": excn.id,
                                                "permissions": ["audit.view", "audit.export"]})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "You cannot hand out permissions you do not hold here: audit.export" in body
    assert Role.select().count() == roles


def test_role_page_lists_the_roles_usable_in_scope(hr_de_client):
    make_role(unit_by_code("EXCN"), ["org.view"], name="Shanghai only")
    make_role(unit_by_code("EXDE"), ["org.view"], name="Nur Hamburg")
    body = hr_de_client.get("/roles").get_data(as_text=True)
    assert "Nur Hamburg" in body and "Shanghai only" not in body
    assert "Company HR" in body  # built-in roles, defined on the group above, are usable everywhere


def test_usable_roles_are_those_in_scope_or_above_it():
    cn_role = make_role(unit_by_code("EXCN"), ["org.view"], name="CN")
    de_role = make_role(unit_by_code("EXDE"), ["org.view"], name="DE")
    usable = {r.id for r in usable_roles(Scope.for_user(User.get(User.username == "hr.de")))}
    assert de_role.id in usable and cn_role.id not in usable
    assert {r.id for r in Role.select().where(Role.builtin_key.is_null(False))} <= usable


# --- grants ------------------------------------------------------------------------------------

def test_grant_gives_the_roles_permissions_on_that_subtree(hr_cn, newcomer):
    store = unit_by_code("CN-JD")
    grant_role(hr_cn, newcomer, builtin("team_lead"), store, include_descendants=True)
    scope = Scope.for_user(newcomer)
    assert scope.allows("users.view", unit_by_code("CN-JD-CS-B"))
    assert not scope.allows("users.view", unit_by_code("CN-VIP"))
    assert not scope.allows("users.manage", store)


def test_a_grant_without_descendants_covers_only_that_unit(hr_cn, newcomer):
    grant_role(hr_cn, newcomer, builtin("team_lead"), unit_by_code("CN-JD"), include_descendants=False)
    scope = Scope.for_user(newcomer)
    assert scope.allows("users.view", unit_by_code("CN-JD"))
    assert not scope.allows("users.view", unit_by_code("CN-JD-CS-A"))


def test_grant_and_revoke_are_audited(hr_cn, newcomer):
    store = unit_by_code("CN-JD")
    grant = grant_role(hr_cn, newcomer, builtin("team_lead"), store)
    created = last_event()
    assert (created.action, created.actor_name, created.unit_id, created.object_id) == (
        "grant.created", "hr.cn", store.id, str(grant.id))
    assert json.loads(created.after) == {"user": "newcomer", "role": "Team lead", "unit": "CN-JD",
                                         "include_descendants": True}
    assert Grant.get_by_id(grant.id).granted_by_id == hr_cn.user.id
    revoke_grant(hr_cn, grant)
    revoked = last_event()
    assert (revoked.action, revoked.actor_name, revoked.unit_id, revoked.object_id) == (
        "grant.revoked", "hr.cn", store.id, str(grant.id))
    assert json.loads(revoked.before)["user"] == "newcomer" and revoked.after is None
    assert not Grant.select().where(Grant.id == grant.id).exists()
    assert not Scope.for_user(newcomer).has_any("users.view")


def test_company_hr_cannot_grant_outside_their_scope(hr_cn, newcomer):
    grants = Grant.select().count()
    with pytest.raises(NotInScope):
        grant_role(hr_cn, newcomer, builtin("employee"), unit_by_code("EXDE"))
    with pytest.raises(NotInScope):
        grant_role(hr_cn, newcomer, builtin("employee"), unit_by_code("EXG"))
    assert Grant.select().count() == grants


def test_company_hr_cannot_grant_a_role_stronger_than_their_own(hr_cn, newcomer):
    with pytest.raises(ServiceError) as refused:
        grant_role(hr_cn, newcomer, builtin("group_admin"), unit_by_code("EXCN"))
    assert refused.value.field == "permissions"
    with pytest.raises(ServiceError):
        grant_role(hr_cn, newcomer, builtin("auditor"), unit_by_code("EXCN"))  # audit.export
    assert not Grant.select().where(Grant.user == newcomer).exists()


def test_company_hr_cannot_revoke_outside_their_scope(hr_cn):
    german_grant = Grant.get(Grant.user == User.get(User.username == "hr.de").id)
    with pytest.raises(NotInScope):
        revoke_grant(hr_cn, german_grant)
    assert Grant.select().where(Grant.id == german_grant.id).exists()


def test_a_role_is_granted_only_where_it_is_defined(newcomer):
    de_role = make_role(unit_by_code("EXDE"), ["org.view"], name="DE")
    with pytest.raises(ServiceError) as refused:
        grant_role(SYSTEM, newcomer, de_role, unit_by_code("CN-JD"))
    assert refused.value.field == "role"


def test_the_same_grant_twice_is_refused(hr_cn, newcomer):
    grant_role(hr_cn, newcomer, builtin("employee"), unit_by_code("CN-JD-CS-A"))
    with pytest.raises(ServiceError, match="already holds this role"):
        grant_role(hr_cn, newcomer, builtin("employee"), unit_by_code("CN-JD-CS-A"))


def test_grant_and_revoke_through_the_pages(hr_cn_client, newcomer):
    team = unit_by_code("CN-JD-CS-A")
    response = hr_cn_client.post(f"/users/{newcomer.id}/grants", {
        "grant-role": builtin("employee").id, "grant-unit": team.id, "grant-include_descendants": "y"})
    assert response.status_code == 302
    grant = Grant.get(Grant.user == newcomer)
    assert (grant.role_id, grant.unit_id) == (builtin("employee").id, team.id)
    response = hr_cn_client.post(f"/grants/{grant.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == f"/users/{newcomer.id}"
    assert not Grant.select().where(Grant.user == newcomer).exists()
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id.desc()).limit(2)] == [
        "grant.revoked", "grant.created"]


def test_granting_a_role_one_does_not_hold_through_the_page_is_refused(hr_cn_client, newcomer):
    response = hr_cn_client.post(f"/users/{newcomer.id}/grants", {
        "grant-role": builtin("group_admin").id, "grant-unit": unit_by_code("EXCN").id})
    assert response.status_code == 422
    assert "You cannot hand out permissions you do not hold here" in response.get_data(as_text=True)
    assert not Grant.select().where(Grant.user == newcomer).exists()


def test_granting_on_a_unit_out_of_scope_through_the_page_is_refused(hr_cn_client, newcomer):
    response = hr_cn_client.post(f"/users/{newcomer.id}/grants", {
        "grant-role": builtin("employee").id, "grant-unit": unit_by_code("EXDE").id})
    assert response.status_code in (404, 422)
    assert not Grant.select().where(Grant.user == newcomer).exists()
