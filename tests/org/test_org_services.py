"""The org tree's services, without HTTP: rules of the tree, settings, moves, archiving."""
import pytest

from factories import SYSTEM, make_unit, unit_by_code
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Actor
from portal.org.models import OrgUnit
from portal.org.services import archive_unit, create_unit, effective_settings, move_unit, restore_unit, update_unit

pytestmark = pytest.mark.usefixtures("db")

DE_SETTINGS = {"country": "DE", "currency": "EUR", "timezone": "Europe/Berlin", "default_locale": "de"}


@pytest.fixture
def hr_de(db):
    return Actor.for_user(User.get(User.username == "hr.de"))


@pytest.fixture
def group(db):
    return unit_by_code("EXG")


@pytest.fixture
def exde(db):
    return unit_by_code("EXDE")


@pytest.fixture
def jd_store(db):
    return unit_by_code("CN-JD")


def fresh(unit):
    return OrgUnit.get_by_id(unit.id)


def events(action):
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


# --- creating -------------------------------------------------------------------

@pytest.mark.parametrize("parent_code,kind", [
    ("EXG", "company"), ("EXDE", "store"), ("EXDE", "department"), ("CN-JD", "team"), ("EXDE-OPS", "team"),
    ("CN-JD-CS-A", "team"),
])
def test_create_under_an_allowed_parent(parent_code, kind):
    parent = unit_by_code(parent_code)
    settings = DE_SETTINGS if kind == "company" else None
    unit = create_unit(SYSTEM, parent, kind, "new-unit", "New unit", settings=settings)
    assert (unit.parent_id, unit.kind, unit.code) == (parent.id, kind, "NEW-UNIT")
    assert unit.path == f"{parent.path}{unit.id}/"
    assert unit.depth == parent.depth + 1
    assert unit.company_id == (unit.id if kind == "company" else parent.company_id)
    if kind == "store":
        assert unit.platform == "other"


@pytest.mark.parametrize("parent_code,kind", [
    ("EXG", "team"), ("EXG", "store"), ("EXG", "group"), ("EXDE", "company"), ("EXDE", "team"),
    ("CN-JD", "department"), ("CN-JD-CS-A", "store"), ("CN-JD", "nonsense"),
])
def test_create_under_a_wrong_parent_is_refused_on_the_kind_field(parent_code, kind):
    units, audit = OrgUnit.select().count(), AuditEvent.select().count()
    with pytest.raises(ServiceError) as refused:
        create_unit(SYSTEM, unit_by_code(parent_code), kind, "new-unit", "New unit", settings=DE_SETTINGS)
    assert refused.value.field == "kind"
    assert (OrgUnit.select().count(), AuditEvent.select().count()) == (units, audit)


def test_there_is_only_one_group(hr_de):
    with pytest.raises(ServiceError):
        create_unit(SYSTEM, unit_by_code("EXG"), "group", "G2", "Second group")
    with pytest.raises(ServiceError) as refused:
        create_unit(hr_de, None, "group", "G2", "Second group", settings=DE_SETTINGS)
    assert refused.value.field == "parent"


def test_no_new_units_under_an_archived_one(exde):
    department = make_unit(exde, "department")
    archive_unit(SYSTEM, department)
    with pytest.raises(ServiceError) as refused:
        make_unit(fresh(department), "team")
    assert refused.value.field == "parent"


@pytest.mark.parametrize("code", ["EXCN", "excn", " ExCn "])
def test_codes_are_unique_whatever_their_case(exde, code):
    with pytest.raises(ServiceError) as refused:
        create_unit(SYSTEM, exde, "department", code, "Clash")
    assert refused.value.field == "code"
    assert "Another unit already uses this code." in str(refused.value.message)


@pytest.mark.parametrize("code", ["", "has space", "x" * 33, "semi;colon", "a/b"])
def test_codes_are_checked(exde, code):
    with pytest.raises(ServiceError) as refused:
        create_unit(SYSTEM, exde, "department", code, "Odd code")
    assert refused.value.field == "code"


def test_a_unit_keeps_its_own_code_on_update(exde):
    updated = update_unit(SYSTEM, exde, exde.version, "Example Commerce GmbH", "exde", settings=DE_SETTINGS)
    assert updated.code == "EXDE"


def test_name_is_required(exde):
    with pytest.raises(ServiceError) as refused:
        create_unit(SYSTEM, exde, "department", "D-1", "   ")
    assert refused.value.field == "name"


# --- company settings -----------------------------------------------------------

@pytest.mark.parametrize("bad,field", [
    ({"country": "DEU"}, "country"),
    ({"country": "D1"}, "country"),
    ({"country": ""}, "country"),
    ({"currency": "EURO"}, "currency"),
    ({"currency": "ABC"}, "currency"),
    ({"currency": ""}, "currency"),
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"default_locale": "xx_YY"}, "default_locale"),
    ({"default_locale": "not a locale"}, "default_locale"),
])
def test_company_settings_are_validated_on_the_right_field(group, bad, field):
    with pytest.raises(ServiceError) as refused:
        create_unit(SYSTEM, group, "company", "EXFR", "Example France", settings={**DE_SETTINGS, **bad})
    assert refused.value.field == field
    assert not OrgUnit.select().where(OrgUnit.code == "EXFR").exists()


def test_company_settings_are_normalised(group):
    company = create_unit(SYSTEM, group, "company", "EXFR", "Example France", settings={
        "country": "fr", "currency": "eur", "timezone": "Europe/Paris", "default_locale": "fr_FR"})
    assert effective_settings(company) == {
        "country": "FR", "currency": "EUR", "timezone": "Europe/Paris", "default_locale": "fr_FR"}


def test_a_new_company_without_settings_takes_the_groups(group):
    company = create_unit(SYSTEM, group, "company", "EXCN2", "Example Shenzhen")
    assert effective_settings(company) == effective_settings(group)


def test_units_below_a_company_inherit_its_settings(exde):
    team = make_unit(unit_by_code("EXDE-OPS"), "team")
    subteam = make_unit(team, "team")
    for unit in (team, subteam, unit_by_code("EXDE-OPS")):
        assert effective_settings(unit) == effective_settings(exde) == DE_SETTINGS
        assert unit.currency is None  # inherited, not copied


def test_changing_company_settings_reaches_every_unit_below(exde):
    team = unit_by_code("EXDE-OPS-OPS1")
    update_unit(SYSTEM, exde, exde.version, exde.name, exde.code, settings={**DE_SETTINGS, "currency": "CHF"})
    assert effective_settings(fresh(team))["currency"] == "CHF"


def test_settings_given_for_a_team_are_ignored():
    team = unit_by_code("EXDE-OPS-OPS1")
    update_unit(SYSTEM, team, team.version, "Marktplatz", team.code, settings={"currency": "USD"})
    assert fresh(team).currency is None
    assert effective_settings(fresh(team))["currency"] == "EUR"


# --- updating -------------------------------------------------------------------

def test_update_checks_the_version():
    team = unit_by_code("EXDE-OPS-OPS1")
    first = update_unit(SYSTEM, team, team.version, "First edit", team.code)
    assert first.version == team.version + 1
    audit = AuditEvent.select().count()
    with pytest.raises(ServiceError, match="Someone else changed this unit"):
        update_unit(SYSTEM, team, team.version, "Second edit from a stale page", team.code)
    assert fresh(team).name == "First edit"
    assert AuditEvent.select().count() == audit


def test_update_is_audited_with_before_and_after(hr_de):
    team = unit_by_code("EXDE-OPS-OPS1")
    update_unit(hr_de, team, team.version, "Marktplatz-Team Nord", team.code)
    event = events("org.unit_updated")[-1]
    assert (event.actor_name, event.unit_id, event.object_id) == ("hr.de", team.id, str(team.id))
    assert '"name": "Marktplatz-Team"' in event.before
    assert '"name": "Marktplatz-Team Nord"' in event.after


# --- scope ----------------------------------------------------------------------

def test_company_hr_acts_only_inside_their_company(hr_de, exde, jd_store):
    team = create_unit(hr_de, unit_by_code("EXDE-OPS"), "team", "DE-NEW", "Neues Team")
    assert events("org.unit_created")[-1].actor_name == "hr.de"
    with pytest.raises(NotInScope):
        create_unit(hr_de, jd_store, "team", "CN-NEW", "新团队")
    with pytest.raises(NotInScope):
        update_unit(hr_de, jd_store, jd_store.version, "Renamed", jd_store.code)
    with pytest.raises(NotInScope):
        move_unit(hr_de, team, unit_by_code("EXCN-OPS"))  # into China
    with pytest.raises(NotInScope):
        move_unit(hr_de, unit_by_code("CN-JD-CS-A"), unit_by_code("EXDE-OPS"))  # out of China
    with pytest.raises(NotInScope):
        archive_unit(hr_de, jd_store)
    with pytest.raises(NotInScope):
        create_unit(hr_de, unit_by_code("EXG"), "company", "EXFR", "Example France", settings=DE_SETTINGS)


# --- moving ---------------------------------------------------------------------

def test_move_rewrites_the_whole_subtree(exde):
    department = unit_by_code("EXCN-OPS")
    subtree_before = list(OrgUnit.select().where(OrgUnit.path.startswith(department.path)))
    nested = make_unit(unit_by_code("EXCN-OPS-ADS"), "team")  # one level deeper
    subtree_before.append(nested)
    assert len(subtree_before) == 4
    moved = move_unit(SYSTEM, department, exde)
    assert moved.parent_id == exde.id
    assert moved.path == f"{exde.path}{department.id}/"
    for old in subtree_before:
        new = fresh(old)
        assert new.path == old.path.replace(department.path, moved.path, 1)
        assert new.depth == old.depth  # company → department: same level in both companies
        assert new.company_id == exde.id
        assert effective_settings(new) == DE_SETTINGS
        assert new.ancestor_ids[:2] == [unit_by_code("EXG").id, exde.id]
    # and nothing else moved
    assert OrgUnit.select().where(OrgUnit.path.startswith(unit_by_code("EXCN").path)).count() == 22 - 3


def test_move_changes_depth_by_the_level_difference():
    team = unit_by_code("CN-JD-CS-B")
    child = make_unit(team, "team")
    grandchild = make_unit(child, "team")
    moved = move_unit(SYSTEM, team, unit_by_code("CN-JD-CS-A"))  # team under team: one level down
    assert moved.depth == 4
    assert fresh(child).depth == 5 and fresh(grandchild).depth == 6
    assert fresh(grandchild).path == f"{unit_by_code('CN-JD-CS-A').path}{team.id}/{child.id}/{grandchild.id}/"
    assert fresh(child).parent_id == team.id  # only the moved unit gets a new parent


def test_move_is_audited():
    team = unit_by_code("CN-JD-CS-B")
    move_unit(SYSTEM, team, unit_by_code("CN-VIP"))
    event = events("org.unit_moved")[-1]
    assert f'"parent": {unit_by_code("CN-JD").id}' in event.before
    assert f'"parent": {unit_by_code("CN-VIP").id}' in event.after


def test_a_unit_cannot_move_under_itself_or_its_descendants():
    team = unit_by_code("CN-JD-CS-A")
    child = make_unit(team, "team")
    grandchild = make_unit(child, "team")
    paths = {u.id: u.path for u in OrgUnit.select()}
    audit = AuditEvent.select().count()
    for target in (team, child, grandchild):
        with pytest.raises(ServiceError) as refused:
            move_unit(SYSTEM, team, fresh(target))
        assert refused.value.field == "parent"
    assert {u.id: u.path for u in OrgUnit.select()} == paths
    assert AuditEvent.select().count() == audit


def test_a_move_must_respect_the_kinds(exde):
    with pytest.raises(ServiceError) as refused:
        move_unit(SYSTEM, unit_by_code("CN-JD"), unit_by_code("EXDE-OPS"))  # a store under a department
    assert refused.value.field == "kind"


def test_a_move_to_the_current_parent_changes_nothing():
    team = unit_by_code("CN-JD-CS-A")
    audit = AuditEvent.select().count()
    assert move_unit(SYSTEM, team, unit_by_code("CN-JD")).version == team.version
    assert AuditEvent.select().count() == audit


# --- archiving ------------------------------------------------------------------

def test_archive_refuses_while_active_units_are_below(jd_store):
    with pytest.raises(ServiceError, match="below it first"):
        archive_unit(SYSTEM, jd_store)
    assert fresh(jd_store).archived_at is None


def test_archive_bottom_up_then_restore_top_down(jd_store):
    teams = [unit_by_code("CN-JD-CS-A"), unit_by_code("CN-JD-CS-B")]
    for team in teams:
        assert archive_unit(SYSTEM, team).is_archived
    archived_store = archive_unit(SYSTEM, jd_store)
    assert archived_store.is_archived and archived_store.version == jd_store.version + 1
    with pytest.raises(ServiceError, match="Restore the unit above it first"):
        restore_unit(SYSTEM, fresh(teams[0]))
    restored = restore_unit(SYSTEM, fresh(jd_store))
    assert not restored.is_archived
    assert not restore_unit(SYSTEM, fresh(teams[0])).is_archived
    assert [e.object_id for e in events("org.unit_archived")][-3:] == [str(teams[0].id), str(teams[1].id),
                                                                       str(jd_store.id)]
    assert [e.object_id for e in events("org.unit_restored")][-2:] == [str(jd_store.id), str(teams[0].id)]


def test_the_group_cannot_be_archived(group):
    with pytest.raises(ServiceError):
        archive_unit(SYSTEM, group)
