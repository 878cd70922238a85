"""Accounts: logging in and out, sessions, passwords, users, roles and grants."""
import datetime as dt
import re

from flask_babel import gettext as _

from portal.accounts.models import Grant, LoginAttempt, Role, RolePermission, User, UserSession
from portal.accounts.permissions import BUILTIN_ROLES, ROLES_MANAGE, USERS_MANAGE, USERS_VIEW
from portal.core.audit import record_event
from portal.core.auth import hash_password, needs_rehash, new_session_token, token_digest, verify_password
from portal.core.db import database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import PERMISSIONS, expand_patterns
from portal.org.models import OrgUnit

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 8


class LoginRefused(ServiceError):
    pass


# --- logging in -------------------------------------------------------------

def _recent_failures(condition, window_seconds):
    since = utcnow() - dt.timedelta(seconds=window_seconds)
    return (
        LoginAttempt.select()
        .where(condition & (LoginAttempt.attempted_at > since) & (LoginAttempt.succeeded == False))  # noqa: E712
        .count()
    )


def authenticate(username, password, ip_address, limits):
    """The active user with these credentials, or LoginRefused.

    `limits` = (max failures per account, max failures per address, window in
    seconds). Past either limit every attempt is refused, right or wrong, so
    guessing gains nothing until the window has passed."""
    max_per_account, max_per_address, window = limits
    username = (username or "").strip().lower()
    throttled = (
        _recent_failures(LoginAttempt.username == username, window) >= max_per_account
        or _recent_failures(LoginAttempt.ip_address == ip_address, window) >= max_per_address
    )
    user = User.get_or_none(User.username == username)
    ok = not throttled and verify_password(user.password_hash if user else None, password) and user.is_active
    with database.atomic():
        LoginAttempt.create(username=username[:64], ip_address=ip_address or "", succeeded=ok)
        if ok:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.last_login_at = utcnow()
            user.save(only=[User.password_hash, User.last_login_at])
            record_event("auth.login", user, unit=user.unit_id, actor=user)
        else:
            record_event(
                "auth.login_throttled" if throttled else "auth.login_failed",
                object_type="user", object_id=user.id if user else None, label=username[:64],
                unit=user.unit_id if user else None, actor=user,
            )
    if throttled:
        raise LoginRefused(_("Too many failed attempts. Please wait a few minutes and try again."))
    if not ok:
        raise LoginRefused(_("Wrong username or password."))
    return user


def start_session(user, ip_address, user_agent):
    """Record a new login session and return its token (the cookie's value)."""
    token = new_session_token()
    with database.atomic():
        UserSession.create(
            user=user, token_hash=token_digest(token), ip_address=ip_address, user_agent=(user_agent or "")[:255]
        )
    return token


def end_session(user, session_id, current_session_id=None):
    """End one of `user`'s sessions (logout when it is the current one)."""
    with database.atomic():
        row = UserSession.get_or_none((UserSession.id == session_id) & (UserSession.user == user.id))
        if row is None:
            raise NotInScope("session")
        if row.ended_at is None:
            row.ended_at = utcnow()
            row.save(only=[UserSession.ended_at])
            action = "auth.logout" if session_id == current_session_id else "auth.session_ended"
            record_event(action, object_type="user_session", object_id=row.id, label=user.username,
                         unit=user.unit_id, actor=user)
    return row


def list_sessions(user):
    return list(
        UserSession.select()
        .where((UserSession.user == user.id) & UserSession.ended_at.is_null())
        .order_by(UserSession.last_seen_at.desc())
    )


def _check_new_password(password, username):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ServiceError(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="new_password")
    if password.lower() == username.lower():
        raise ServiceError(_("The password must not be the username."), field="new_password")


def change_password(user, current_password, new_password, keep_session_id):
    """Change the password and end every other session of the user."""
    if not verify_password(user.password_hash, current_password):
        raise ServiceError(_("The current password is wrong."), field="current_password")
    _check_new_password(new_password, user.username)
    with database.atomic():
        User.update(password_hash=hash_password(new_password), password_changed_at=utcnow()).where(
            User.id == user.id).execute()
        ended = (
            UserSession.update(ended_at=utcnow())
            .where((UserSession.user == user.id) & UserSession.ended_at.is_null() & (UserSession.id != keep_session_id))
            .execute()
        )
        record_event("auth.password_changed", user, unit=user.unit_id, actor=user,
                     after={"other_sessions_ended": ended})


def set_preferences(user, locale=None, timezone=None):
    fields = {}
    if locale is not None:
        fields["locale"] = locale
    if timezone is not None:
        fields["timezone"] = timezone
    with database.atomic():
        before = {name: getattr(user, name) for name in fields}
        User.update(**fields).where(User.id == user.id).execute()
        record_event("user.preferences", user, unit=user.unit_id, actor=user, before=before, after=fields)
    for name, value in fields.items():  # keep the caller's row in step (the rest of the request sees it)
        setattr(user, name, value)


# --- users ------------------------------------------------------------------

def list_users(scope, text="", page=1, per_page=50):
    """Users whose home unit is in scope, by name; returns (rows, has_next)."""
    query = (User.select(User, OrgUnit).join(OrgUnit)
             .where(scope.condition(User.unit, USERS_VIEW)))
    if text:
        pattern = text.lower()
        query = query.where(User.username.contains(pattern) | User.display_name.contains(text))
    rows = list(query.order_by(User.username).offset((page - 1) * per_page).limit(per_page + 1))
    return rows[:per_page], len(rows) > per_page


USER_FIELDS = ("username", "display_name", "email", "unit", "locale", "is_active")


def _check_username(username, user_id=None):
    if not USERNAME_RE.match(username):
        raise ServiceError(
            _("Use 2–64 lower-case letters, digits, dots, dashes or underscores."), field="username")
    clash = User.select().where((User.username == username) & (User.id != (user_id or 0))).exists()
    if clash:
        raise ServiceError(_("This username is taken."), field="username")


def create_user(actor, unit, username, display_name, password, email=None, locale=None):
    actor.require(USERS_MANAGE, unit)
    username = username.strip().lower()
    _check_username(username)
    _check_new_password(password, username)
    with database.atomic():
        user = User.create(
            username=username, display_name=display_name.strip(), email=(email or None), unit=unit,
            locale=locale or None, password_hash=hash_password(password),
        )
        record_event("user.created", user, unit=unit, actor=actor.user, after={
            "username": username, "display_name": user.display_name, "email": user.email, "unit": unit.id})
    return user


def update_user(actor, user, unit, display_name, email, is_active, locale=None):
    actor.require(USERS_MANAGE, user.unit)
    actor.require(USERS_MANAGE, unit)
    if actor.user is not None and user.id == actor.user.id and not is_active:
        raise ServiceError(_("You cannot deactivate your own account."), field="is_active")
    with database.atomic():
        before = {"display_name": user.display_name, "email": user.email, "unit": user.unit_id,
                  "is_active": user.is_active, "locale": user.locale}
        user.unit, user.display_name, user.email = unit, display_name.strip(), (email or None)
        user.is_active, user.locale = is_active, (locale or None)
        user.version += 1
        user.save()
        if not is_active:
            UserSession.update(ended_at=utcnow()).where(
                (UserSession.user == user.id) & UserSession.ended_at.is_null()).execute()
        record_event("user.updated", user, unit=unit, actor=actor.user, before=before, after={
            "display_name": user.display_name, "email": user.email, "unit": unit.id,
            "is_active": is_active, "locale": user.locale})
    return user


def reset_password(actor, user, new_password):
    actor.require(USERS_MANAGE, user.unit)
    _check_new_password(new_password, user.username)
    with database.atomic():
        User.update(password_hash=hash_password(new_password), password_changed_at=utcnow()).where(
            User.id == user.id).execute()
        UserSession.update(ended_at=utcnow()).where(
            (UserSession.user == user.id) & UserSession.ended_at.is_null()).execute()
        record_event("user.password_reset", user, unit=user.unit_id, actor=actor.user)


# --- roles and grants ---------------------------------------------------------

def _check_permissions_exist(permissions):
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise ServiceError(_("Unknown permission: %(names)s", names=", ".join(sorted(unknown))), field="permissions")


def create_role(actor, unit, name, description, permissions):
    actor.require(ROLES_MANAGE, unit)
    _check_permissions_exist(permissions)
    _check_no_escalation(actor, unit, permissions)
    name = name.strip()
    if Role.select().where((Role.unit == unit) & (Role.name == name)).exists():
        raise ServiceError(_("A role with this name already exists here."), field="name")
    with database.atomic():
        role = Role.create(name=name, description=description.strip(), unit=unit)
        RolePermission.insert_many([(role.id, p) for p in sorted(set(permissions))],
                                   fields=[RolePermission.role, RolePermission.permission]).execute()
        record_event("role.created", role, unit=unit, actor=actor.user,
                     after={"name": name, "permissions": sorted(set(permissions))})
    return role


def role_label(role):
    """A built-in role's name in the reader's language; a custom role's as typed."""
    return BUILTIN_ROLES[role.builtin_key][0] if role.builtin_key in BUILTIN_ROLES else role.name


def role_description(role):
    return BUILTIN_ROLES[role.builtin_key][1] if role.builtin_key in BUILTIN_ROLES else role.description


def role_permissions(role):
    return sorted(p for (p,) in RolePermission.select(RolePermission.permission)
                  .where(RolePermission.role == role).tuples())


def usable_roles(scope):
    """Roles a user managing roles can see and hand out: those defined on a unit
    in their scope or above it (built-in roles live on the group)."""
    in_scope = scope.condition(Role.unit, ROLES_MANAGE)
    return list(Role.select().where(in_scope | Role.unit.in_(scope.anchor_ids(ROLES_MANAGE) or [0]))
                .order_by(Role.builtin_key.is_null(), Role.name))


def load_usable_role(scope, role_id):
    role = next((r for r in usable_roles(scope) if r.id == role_id), None)
    if role is None:
        raise NotInScope("role")
    return role


def permissions_by_role(roles):
    by_role = {role.id: [] for role in roles}
    rows = (RolePermission.select(RolePermission.role, RolePermission.permission)
            .where(RolePermission.role.in_(list(by_role) or [0])).order_by(RolePermission.permission).tuples())
    for role_id, permission in rows:
        by_role[role_id].append(permission)
    return by_role


def update_role(actor, role, name, description, permissions, version):
    actor.require(ROLES_MANAGE, role.unit)
    if role.builtin_key:
        raise ServiceError(_("Built-in roles follow the code and cannot be edited; create your own role instead."))
    _check_permissions_exist(permissions)
    _check_no_escalation(actor, role.unit, permissions)
    name = name.strip()
    if Role.select().where((Role.unit == role.unit_id) & (Role.name == name) & (Role.id != role.id)).exists():
        raise ServiceError(_("A role with this name already exists here."), field="name")
    before = {"name": role.name, "description": role.description, "permissions": role_permissions(role)}
    with database.atomic():
        changed = (
            Role.update(name=name, description=description.strip(), version=Role.version + 1)
            .where((Role.id == role.id) & (Role.version == version))
            .execute()
        )
        if not changed:
            raise ServiceError(_("Someone else changed this role meanwhile. Reload the page and try again."))
        RolePermission.delete().where(RolePermission.role == role).execute()
        RolePermission.insert_many([(role.id, p) for p in sorted(set(permissions))],
                                   fields=[RolePermission.role, RolePermission.permission]).execute()
        record_event("role.updated", role, unit=role.unit_id, actor=actor.user, before=before,
                     after={"name": name, "description": description.strip(), "permissions": sorted(set(permissions))})


def _check_no_escalation(actor, unit, permissions):
    """Nobody hands out, at a unit, a permission they do not hold there."""
    missing = [p for p in permissions if not actor.scope.allows(p, unit)]
    if missing:
        raise ServiceError(
            _("You cannot hand out permissions you do not hold here: %(names)s", names=", ".join(sorted(missing))),
            field="permissions")


def grant_role(actor, user, role, unit, include_descendants=True):
    actor.require(ROLES_MANAGE, unit)
    if not unit.path.startswith(role.unit.path):
        raise ServiceError(_("This role is defined for another part of the group."), field="role")
    _check_no_escalation(actor, unit, role_permissions(role))
    if Grant.select().where((Grant.user == user) & (Grant.role == role) & (Grant.unit == unit)).exists():
        raise ServiceError(_("The user already holds this role on this unit."), field="role")
    with database.atomic():
        grant = Grant.create(user=user, role=role, unit=unit, include_descendants=include_descendants,
                             granted_by=actor.user.id if actor.user else None)
        record_event("grant.created", grant, label=f"{user.username} · {role.name} · {unit.name}", unit=unit,
                     actor=actor.user, after={"user": user.username, "role": role.name, "unit": unit.code,
                                              "include_descendants": include_descendants})
    return grant


def revoke_grant(actor, grant):
    actor.require(ROLES_MANAGE, grant.unit)
    with database.atomic():
        label = f"{grant.user.username} · {grant.role.name} · {grant.unit.name}"
        before = {"user": grant.user.username, "role": grant.role.name, "unit": grant.unit.code,
                  "include_descendants": grant.include_descendants}
        grant.delete_instance()
        record_event("grant.revoked", object_type="grant", object_id=grant.id, label=label, unit=grant.unit_id,
                     actor=actor.user, before=before)


def sync_builtin_roles(group):
    """Create the built-in roles on the group root and set their permissions
    from the code's patterns. Safe to run any number of times."""
    with database.atomic():
        for key, (name, description, patterns) in BUILTIN_ROLES.items():
            role = Role.get_or_none(Role.builtin_key == key)
            if role is None:
                role = Role.create(builtin_key=key, name=str(name), description=str(description), unit=group)
            wanted = set(expand_patterns(patterns))
            have = set(role_permissions(role))
            if wanted != have:
                RolePermission.delete().where(
                    (RolePermission.role == role) & RolePermission.permission.not_in(wanted or [""])).execute()
                RolePermission.insert_many([(role.id, p) for p in sorted(wanted - have)],
                                           fields=[RolePermission.role, RolePermission.permission]).execute()
                record_event("role.synced", role, unit=group, before={"permissions": sorted(have)},
                             after={"permissions": sorted(wanted)})
