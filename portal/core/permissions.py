"""Declared permissions, access rules on views, and the org-scope helper.

Every view declares who may reach it with exactly one of `require(perm)`,
`login_only` or `public`; a view that declares nothing is refused (deny by
default, enforced in `enforce_declared_access` and walked by a test).

Scope: a grant gives a user a role's permissions on one org unit, and on its
descendants when `include_descendants` is set. `Scope` holds a user's grants
per permission; `Scope.condition()` turns them into a WHERE clause on org
unit ids, and `load_or_404()` loads one object through that clause, so an
object outside the user's scope answers 404 whatever its type.
"""
import functools
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import peewee as pw
from flask import abort, g, request
from flask_login import current_user

from portal.core.db import PreparedSelect

PERMISSIONS = {}


@dataclass(frozen=True)
class Permission:
    name: str
    label: object  # a lazy string, translated when shown
    domain: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "domain", self.name.split(".", 1)[0])


def declare(*permissions):
    """Register permissions; returns their names, for use as constants."""
    for permission in permissions:
        PERMISSIONS[permission.name] = permission
    return tuple(permission.name for permission in permissions)


def expand_patterns(patterns):
    """Permission names matching any of `patterns` ("org.*", "*", "audit.view")."""
    return sorted(name for name in PERMISSIONS if any(fnmatchcase(name, p) for p in patterns))


# --- access rules on views -------------------------------------------------

def _needs_login():
    from portal.extensions import login_manager

    return login_manager.unauthorized()


def require(permission):
    """The user must be logged in and hold `permission` on at least one unit.
    Which objects they may touch is then decided by `Scope`."""
    if permission not in PERMISSIONS:
        raise LookupError(f"undeclared permission {permission!r}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return _needs_login()
            if not current_scope().has_any(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = ("permission", permission)
        return wrapper

    return decorator


def login_only(view):
    """Any logged-in user: their own account and self-service pages."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _needs_login()
        return view(*args, **kwargs)

    wrapper.access = ("login", None)
    return wrapper


def public(view):
    view.access = ("public", None)
    return view


def enforce_declared_access(app):
    @app.before_request
    def refuse_undeclared():
        view = app.view_functions.get(request.endpoint)
        if view is not None and getattr(view, "access", None) is None:
            abort(403)


# --- scope -----------------------------------------------------------------

@dataclass(frozen=True)
class ScopeGrant:
    unit_id: int
    path: str
    include_descendants: bool

    def covers(self, unit_id, path):
        return unit_id == self.unit_id or (self.include_descendants and path.startswith(self.path))


class Scope:
    """A user's grants, by permission. Built once per request."""

    def __init__(self, grants_by_permission):
        self._grants = grants_by_permission

    @classmethod
    def for_user(cls, user):
        rows = _GRANTS_OF_USER.rows(user.id)
        grants = {}
        for permission, unit_id, path, include_descendants in rows:
            grants.setdefault(permission, set()).add(ScopeGrant(unit_id, path, include_descendants))
        return cls(grants)

    def has_any(self, permission):
        return bool(self._grants.get(permission))

    def signature(self):
        """A digest of every (permission, unit, path, include_descendants) grant:
        two scopes with the same signature see exactly the same (core.cache)."""
        if getattr(self, "_signature", None) is None:
            from portal.core.cache import digest

            self._signature = digest(sorted(
                (permission, grant.unit_id, grant.path, grant.include_descendants)
                for permission, grants in self._grants.items() for grant in grants))
        return self._signature

    def anchor_ids(self, permission):
        """Ids of the units `permission` is granted on and of all their ancestors:
        definitions made there (such as roles) apply inside the scope."""
        return {int(part) for grant in self._grants.get(permission, ()) for part in grant.path.strip("/").split("/")}

    def permissions(self):
        return set(self._grants)

    def allows(self, permission, unit):
        """Whether `permission` holds on `unit` (an OrgUnit)."""
        if unit is None:
            return False
        return any(grant.covers(unit.id, unit.path) for grant in self._grants.get(permission, ()))

    def unit_condition(self, permission):
        """A WHERE clause on OrgUnit selecting the units where `permission` holds."""
        from portal.org.models import OrgUnit

        grants = self._grants.get(permission)
        if not grants:
            return pw.SQL("1 = 0")
        exact = [grant.unit_id for grant in grants if not grant.include_descendants]
        clauses = [OrgUnit.path.startswith(grant.path) for grant in grants if grant.include_descendants]
        if exact:
            clauses.append(OrgUnit.id.in_(exact))
        return functools.reduce(lambda a, b: a | b, clauses)

    def condition(self, unit_field, permission):
        """A WHERE clause keeping rows whose `unit_field` (a unit id column) is in scope."""
        from portal.org.models import OrgUnit

        return unit_field.in_(OrgUnit.select(OrgUnit.id).where(self.unit_condition(permission)))


def _grants_query(user_id):
    from portal.accounts.models import Grant, RolePermission
    from portal.org.models import OrgUnit

    return (
        Grant.select(RolePermission.permission, Grant.unit, OrgUnit.path, Grant.include_descendants)
        .join(RolePermission, on=(RolePermission.role == Grant.role))
        .switch(Grant)
        .join(OrgUnit, on=(OrgUnit.id == Grant.unit))
        .where(Grant.user == user_id)
        .tuples()
    )


# Every logged-in request reads the user's grants: the SQL is written once (core.db).
_GRANTS_OF_USER = PreparedSelect(_grants_query, -918273645)


class WholeGroupScope(Scope):
    """Everything, for the system itself (CLI commands, seeding, migrations)."""

    def __init__(self):
        super().__init__({})

    def has_any(self, permission):
        return True

    def signature(self):
        return "whole-group"

    def permissions(self):
        return set(PERMISSIONS)

    def allows(self, permission, unit):
        return unit is not None

    def unit_condition(self, permission):
        return pw.SQL("1 = 1")

    def anchor_ids(self, permission):
        from portal.org.models import OrgUnit

        return {unit_id for (unit_id,) in OrgUnit.select(OrgUnit.id).tuples()}


@dataclass(frozen=True)
class Actor:
    """Who is acting and where they may act; the first argument of every service
    that writes. `user` is None for the system itself."""

    user: object
    scope: Scope

    @classmethod
    def system(cls):
        return cls(None, WholeGroupScope())

    @classmethod
    def for_user(cls, user):
        return cls(user, Scope.for_user(user))

    def require(self, permission, unit):
        """Raise NotInScope unless `permission` holds on `unit`."""
        from portal.core.errors import NotInScope

        if not self.scope.allows(permission, unit):
            raise NotInScope(permission)


def current_actor():
    return Actor(current_user.account, current_scope())


def current_scope():
    if "scope" not in g:
        g.scope = Scope.for_user(current_user) if current_user.is_authenticated else Scope({})
    return g.scope


def can(permission, unit=None):
    """Template and service helper: the permission on `unit`, or anywhere."""
    scope = current_scope()
    return scope.has_any(permission) if unit is None else scope.allows(permission, unit)


# --- object types: one loader for every org-owned object ------------------

@dataclass(frozen=True)
class ObjectType:
    """How to find the org unit that owns a row of `model`, for scope checks.

    `url_arg` is the name routes use for the object's id (`unit_id`), which
    lets the scope test find every route that loads such an object.
    """

    url_arg: str
    model: type
    unit_field: object  # the column holding the owning unit's id
    view_permission: str
    # For rows reached through more than one unit (a person through their company
    # and every post they hold): (scope, permission) -> WHERE clause on `model`.
    condition: object = None

    def scope_condition(self, scope, permission):
        if self.condition is not None:
            return self.condition(scope, permission)
        return scope.condition(self.unit_field, permission)


OBJECT_TYPES = {}


def register_object_type(url_arg, model, unit_field, view_permission, condition=None):
    OBJECT_TYPES[url_arg] = ObjectType(url_arg, model, unit_field, view_permission, condition)


def object_type_of(model):
    return next(t for t in OBJECT_TYPES.values() if t.model is model)


def scoped_select(model, permission, *fields, scope=None):
    """SELECT from `model` restricted to the rows whose owning unit is in scope."""
    return model.select(*fields).where(object_type_of(model).scope_condition(scope or current_scope(), permission))


def load_or_404(model, object_id, permission=None):
    """Load one row the current user may reach with `permission` (by default
    the type's view permission), or answer 404: a row outside the scope is
    indistinguishable from one that does not exist."""
    object_type = object_type_of(model)
    row = (
        scoped_select(model, permission or object_type.view_permission)
        .where(model._meta.primary_key == object_id)
        .first()
    )
    if row is None:
        abort(404)
    return row
