import peewee as pw

from portal.core.db import BaseModel, utcnow
from portal.org.models import OrgUnit


class User(BaseModel):
    """Someone who can log in. `unit` is where the account belongs (its home
    company or team): it decides who may administer the account."""

    username = pw.CharField(max_length=64, unique=True)
    display_name = pw.CharField(max_length=120)
    email = pw.CharField(max_length=254, null=True)
    password_hash = pw.CharField(max_length=255)
    unit = pw.ForeignKeyField(OrgUnit, backref="users", on_delete="RESTRICT")
    locale = pw.CharField(max_length=16, null=True)
    timezone = pw.CharField(max_length=64, null=True)
    is_active = pw.BooleanField(default=True)
    password_changed_at = pw.DateTimeField(default=utcnow)
    last_login_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        # Counting a scope's active users reads this index alone (migration 0002).
        indexes = ((("unit", "is_active"), False),)


class UserSession(BaseModel):
    """A server-side record of one login, so sessions can be listed and ended.

    The cookie carries the random token; only its SHA-256 is stored here.
    """

    user = pw.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.DateTimeField(default=utcnow)
    last_seen_at = pw.DateTimeField(default=utcnow)
    ip_address = pw.CharField(max_length=64, null=True)
    user_agent = pw.CharField(max_length=255, null=True)
    ended_at = pw.DateTimeField(null=True)


class LoginAttempt(BaseModel):
    """Every login attempt, kept for throttling by account and by address."""

    username = pw.CharField(max_length=64, index=True)
    ip_address = pw.CharField(max_length=64, index=True)
    succeeded = pw.BooleanField()
    attempted_at = pw.DateTimeField(default=utcnow, index=True)


class Role(BaseModel):
    """A named set of permissions. A built-in role has a `builtin_key` and its
    permissions are kept in step with the code by `sync_builtin_roles`."""

    name = pw.CharField(max_length=80)
    description = pw.TextField(default="")
    builtin_key = pw.CharField(max_length=32, unique=True, null=True)
    unit = pw.ForeignKeyField(OrgUnit, backref="roles", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("unit", "name"), True),)


class RolePermission(BaseModel):
    role = pw.ForeignKeyField(Role, backref="permission_rows", on_delete="CASCADE")
    permission = pw.CharField(max_length=64)

    class Meta:
        indexes = ((("role", "permission"), True),)


class Grant(BaseModel):
    """`user` holds `role` on `unit`, and on every unit below it when
    `include_descendants` is set."""

    user = pw.ForeignKeyField(User, backref="grants", on_delete="CASCADE")
    role = pw.ForeignKeyField(Role, backref="grants", on_delete="RESTRICT")
    unit = pw.ForeignKeyField(OrgUnit, backref="grants", on_delete="RESTRICT")
    include_descendants = pw.BooleanField(default=True)
    granted_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "role", "unit"), True),)
