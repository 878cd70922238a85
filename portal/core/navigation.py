"""The main menu, and template globals every page uses."""
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import get_locale, get_timezone, lazy_gettext as _l
from flask_login import current_user

from portal.core.i18n import current_language, language_choices
from portal.core.permissions import can


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: object
    permission: str | None  # None: every logged-in user
    section: tuple = ()  # the other endpoints that belong to this entry
    count: object = None  # a callable giving the figure shown beside the label (0: none)
    exclude: tuple = ()  # endpoints inside the section that belong to another entry


def _approvals_waiting():
    from portal.approvals.views import current_badges  # a domain's figure, read only when the menu is drawn

    return current_badges().waiting


MENU = (
    MenuItem("home.dashboard", _l("Dashboard"), None),
    MenuItem("approvals.inbox", _l("Approvals"), None, ("approvals.",), count=_approvals_waiting),
    MenuItem("org.tree", _l("Org tree"), "org.view", ("org.",)),
    MenuItem("people.employees", _l("People"), "people.view", ("people.",), exclude=("people.me",)),
    MenuItem("posts.posts", _l("Posts"), "posts.view",
             ("posts.post", "posts.new_post", "posts.edit_post", "posts.archive_post", "posts.restore_post",
              "posts.assign", "posts.end_assignment")),
    MenuItem("posts.talent", _l("Talent pool"), "people.view", ("posts.employee_skills",)),
    MenuItem("time.roster.grid", _l("Rosters"), "time.view", ("time.roster.",), exclude=("time.roster.mine",)),
    MenuItem("time.attendance.sheet", _l("Attendance"), "time.view", ("time.attendance.", "time.clock."),
             exclude=("time.attendance.mine", "time.clock.me", "time.clock.punch")),
    MenuItem("time.leave.calendar", _l("Leave"), "time.view", ("time.leave.",),
             exclude=("time.leave.mine", "time.leave.request_form", "time.leave.quote")),
    MenuItem("cs.dashboards.team", _l("Customer service"), "cs.view", ("cs.",),
             exclude=("cs.dashboards.me", "cs.dashboards.help_page")),
    MenuItem("bonus.pools.pools", _l("Bonus"), "bonus.view", ("bonus.",),
             exclude=("bonus.statements.mine", "bonus.statements.statement")),
    MenuItem("accounts.users", _l("Users"), "users.view",
             ("accounts.user", "accounts.new_user", "accounts.reset_password", "accounts.add_grant")),
    MenuItem("accounts.roles", _l("Roles"), "roles.manage", ("accounts.role", "accounts.new_role")),
    MenuItem("audit.events", _l("Audit trail"), "audit.view", ("audit.",)),
    MenuItem("time.clock.me", _l("My time"), None,
             ("time.clock.me", "time.clock.punch", "time.roster.mine", "time.attendance.mine", "time.leave.mine",
              "time.leave.request_form", "time.leave.quote")),
    MenuItem("cs.dashboards.me", _l("My service"), None, ("cs.dashboards.me", "cs.dashboards.help_page")),
    MenuItem("bonus.statements.mine", _l("My bonus"), None, ("bonus.statements.statement",)),
    MenuItem("people.me", _l("My profile"), None),
)


def _in_section(item, endpoint):
    """The entry's own page, a page named in its section, or (for "org.") any page of a blueprint."""
    return endpoint == item.endpoint or endpoint not in item.exclude and any(
        endpoint.startswith(part) if part.endswith(".") else endpoint == part for part in item.section)


def fixed_url(endpoint, **values):
    """url_for() of a URL that never changes (the menu, static files, the top bar's
    forms), built once per app and mount point: every page shows a dozen of them."""
    cache = current_app.extensions.setdefault("fixed_urls", {})
    key = (request.script_root, endpoint, tuple(sorted(values.items())))
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, **values)
    return url


def navigation():
    """Menu entries the user may use, the current section marked."""
    if not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    return [
        {"url": fixed_url(item.endpoint), "label": item.label, "active": _in_section(item, endpoint),
         "count": item.count() if item.count else 0}
        for item in MENU
        if item.permission is None or can(item.permission)
    ]


def language_options():
    """(code, label) of the languages the language switcher offers."""
    return language_choices(current_app.config["LANGUAGES"])


def init_app(app):
    @app.context_processor
    def template_globals():
        return {
            "navigation": navigation,
            "language_options": language_options,
            "fixed_url": fixed_url,
            "current_language": current_language,
            "can": can,
            "current_locale_tag": lambda: str(get_locale()).replace("_", "-"),
            "current_timezone_name": lambda: str(get_timezone()),
        }
