"""Test data through the services, so factories obey the same rules as the app."""
import itertools

from portal.accounts.models import Role
from portal.accounts.services import create_role, create_user, grant_role
from portal.core.permissions import Actor
from portal.org.models import OrgUnit
from portal.org.services import create_unit

_sequence = itertools.count(1)
SYSTEM = Actor.system()


def unit_by_code(code):
    return OrgUnit.get(OrgUnit.code == code)


def make_unit(parent, kind="team", name=None, code=None, **kwargs):
    n = next(_sequence)
    return create_unit(SYSTEM, parent, kind, code or f"T-{kind[:3].upper()}-{n}", name or f"Test {kind} {n}", **kwargs)


def make_user(unit, username=None, password="secret-pass-1", role_key=None, grant_unit=None, descendants=True):
    user = create_user(SYSTEM, unit, username or f"user{next(_sequence)}", "Test User", password)
    if role_key:
        grant_role(SYSTEM, user, Role.get(Role.builtin_key == role_key), grant_unit or unit, descendants)
    return user


def make_role(unit, permissions, name=None):
    return create_role(SYSTEM, unit, name or f"Role {next(_sequence)}", "", permissions)
