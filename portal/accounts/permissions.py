from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions
from portal.core.permissions import Permission, declare, register_object_type
from portal.accounts.models import Grant, Role, User

USERS_VIEW, USERS_MANAGE, ROLES_MANAGE = declare(
    Permission("users.view", _l("See user accounts")),
    Permission("users.manage", _l("Create, edit and deactivate user accounts")),
    Permission("roles.manage", _l("Define roles and grant them to users")),
)

# Built-in roles: kept in step with these patterns by `sync_builtin_roles`, so a
# permission a new domain declares reaches the right roles on the next upgrade.
BUILTIN_ROLES = {
    "group_admin": (_l("Group administrator"), _l("Everything, everywhere in the group."), ("*",)),
    "company_hr": (
        _l("Company HR"),
        _l("Runs HR for a company: org tree, users, roles, people, posts, approvals, time and leave, customer "
           "service, audit trail."),
        ("org.*", "users.*", "roles.manage", "audit.view", "jobs.*", "people.*", "posts.*", "approvals.*", "time.*",
         "cs.*", "bonus.*"),
    ),
    "team_lead": (_l("Team lead"), _l("Leads a team: sees its unit and people, keeps its roster, requests transfers."),
                  ("org.view", "users.view", "people.view", "posts.view", "people.transfer", "time.view",
                   "time.roster", "time.export", "cs.view", "cs.override", "cs.export", "cs.workstations",
                   "bonus.view", "bonus.export", "bonus.points")),
    "employee": (_l("Employee"), _l("Self-service: one's own records and requests."), ("org.view",)),
    "auditor": (
        _l("Auditor"),
        _l("Reads everything in scope and exports it; changes nothing."),
        ("*.view", "*.export"),
    ),
}

register_object_type("user_id", User, User.unit, USERS_VIEW)
register_object_type("role_id", Role, Role.unit, ROLES_MANAGE)
register_object_type("grant_id", Grant, Grant.unit, ROLES_MANAGE)

declare_actions({
    "auth.login": _l("Logged in"),
    "auth.login_failed": _l("Failed login"),
    "auth.login_throttled": _l("Login refused (too many failures)"),
    "auth.logout": _l("Logged out"),
    "auth.session_ended": _l("Session ended"),
    "auth.password_changed": _l("Password changed"),
    "user.created": _l("User created"),
    "user.updated": _l("User edited"),
    "user.password_reset": _l("Password reset"),
    "user.preferences": _l("Preferences changed"),
    "role.created": _l("Role created"),
    "role.updated": _l("Role edited"),
    "role.synced": _l("Built-in role updated"),
    "grant.created": _l("Role granted"),
    "grant.revoked": _l("Grant revoked"),
    "demo.staff_seeded": _l("Demo accounts added"),
    "demo.people_seeded": _l("Demo people added"),
})
