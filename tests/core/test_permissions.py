"""Scope: which units a user's grants reach, as a check and as a WHERE clause."""
import pytest

from factories import SYSTEM, make_unit, make_user, unit_by_code
from portal.accounts.models import Role, User
from portal.accounts.services import grant_role
from portal.core.errors import NotInScope
from portal.core.permissions import PERMISSIONS, Actor, Scope, WholeGroupScope, expand_patterns
from portal.org.models import OrgUnit

pytestmark = pytest.mark.usefixtures("db")


def scope_of(username):
    return Scope.for_user(User.get(User.username == username))


def units_where(scope, permission):
    return {u.code for u in OrgUnit.select().where(scope.unit_condition(permission))}


def subtree_codes(code):
    return {u.code for u in OrgUnit.select().where(OrgUnit.path.startswith(unit_by_code(code).path))}


def test_a_subtree_prefix_never_reaches_a_sibling_with_a_longer_id():
    """EXCN's path is /1/2/; a sibling such as /1/24/ shares the characters but not the subtree."""
    excn, exhk = unit_by_code("EXCN"), unit_by_code("EXHK")
    assert exhk.path.startswith(excn.path.rstrip("/"))  # the trap exists in the demo data
    scope = scope_of("hr.cn")
    assert not scope.allows("org.view", exhk)
    assert units_where(scope, "org.view") == subtree_codes("EXCN")


@pytest.mark.parametrize("username,permission,root", [
    ("hr.de", "org.manage", "EXDE"), ("hr.cn", "users.manage", "EXCN"), ("lead.jd", "users.view", "CN-JD-CS-A"),
    ("admin", "audit.export", "EXG"), ("auditor", "audit.view", "EXG"),
])
def test_the_condition_and_the_check_agree(username, permission, root):
    scope = scope_of(username)
    assert units_where(scope, permission) == subtree_codes(root)
    for unit in OrgUnit.select():
        assert scope.allows(permission, unit) == (unit.code in subtree_codes(root)), unit.code


def test_a_permission_not_held_selects_nothing():
    scope = scope_of("agent.jd1")
    assert not scope.has_any("users.view")
    assert units_where(scope, "users.view") == set()
    assert not scope.allows("users.view", unit_by_code("CN-JD-CS-A"))
    assert not scope.allows("org.view", None)


def test_an_employee_grant_covers_only_the_team_itself():
    team = unit_by_code("CN-JD-CS-A")
    child = make_unit(team, "team", code="SUB")
    scope = scope_of("agent.jd1")
    assert scope.allows("org.view", team) and not scope.allows("org.view", child)
    assert units_where(scope, "org.view") == {"CN-JD-CS-A"}


def test_grants_in_several_companies_add_up():
    """兼岗: a person holding posts in two companies is in scope in both."""
    person = make_user(unit_by_code("CN-JD-CS-A"), username="two.posts")
    lead = Role.get(Role.builtin_key == "team_lead")
    grant_role(SYSTEM, person, lead, unit_by_code("CN-JD-CS-A"))
    grant_role(SYSTEM, person, lead, unit_by_code("EXDE-CS-CS1"))
    assert units_where(Scope.for_user(person), "users.view") == {"CN-JD-CS-A", "EXDE-CS-CS1"}


def test_anchor_ids_are_the_granted_units_and_their_ancestors():
    anchors = scope_of("hr.de").anchor_ids("roles.manage")
    assert anchors == {unit_by_code("EXG").id, unit_by_code("EXDE").id}


def test_the_system_scope_reaches_everything():
    scope = WholeGroupScope()
    assert scope.permissions() == set(PERMISSIONS)
    assert units_where(scope, "org.manage") == {u.code for u in OrgUnit.select()}
    assert scope.has_any("anything.at.all")


def test_actor_require_raises_not_in_scope():
    hr_de = Actor.for_user(User.get(User.username == "hr.de"))
    hr_de.require("org.manage", unit_by_code("EXDE-OPS"))
    with pytest.raises(NotInScope):
        hr_de.require("org.manage", unit_by_code("EXCN"))
    Actor.system().require("org.manage", unit_by_code("EXCN"))


def test_expand_patterns():
    assert expand_patterns(["org.*"]) == ["org.manage", "org.view"]
    assert expand_patterns(["*.export"]) == sorted(p for p in PERMISSIONS if p.endswith(".export"))
    assert expand_patterns(["*"]) == sorted(PERMISSIONS)
    assert expand_patterns(["nothing.*"]) == []
