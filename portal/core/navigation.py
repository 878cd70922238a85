"""The main menu, and template globals every page uses."""
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import get_locale, get_timezone, lazy_gettext as _l
from flask_login import current_user

from portal.core.forms import LocaleForm
from portal.core.i18n import LOCALE_LABELS, current_language
from portal.core.permissions import can


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: object
    permission: str | None  # None: every logged-in user


MENU = (
    MenuItem("home.dashboard", _l("Dashboard"), None),
    MenuItem("org.tree", _l("Org tree"), "org.view"),
    MenuItem("accounts.users", _l("Users"), "users.view"),
    MenuItem("accounts.roles", _l("Roles"), "roles.manage"),
    MenuItem("audit.events", _l("Audit trail"), "audit.view"),
)


def navigation():
    """Menu entries the user may use, the current section marked."""
    if not current_user.is_authenticated:
        return []
    current_blueprint = (request.endpoint or "").split(".", 1)[0]
    items = []
    for item in MENU:
        if item.permission is None or can(item.permission):
            active = item.endpoint == request.endpoint or (
                item.endpoint.split(".", 1)[0] == current_blueprint and current_blueprint not in ("home", "accounts"))
            items.append({"url": url_for(item.endpoint), "label": item.label, "active": active})
    return items


def locale_form():
    form = LocaleForm(locale=current_language(), next=request.full_path.rstrip("?"))
    form.locale.choices = [(code, LOCALE_LABELS.get(code, code)) for code in current_app.config["LANGUAGES"]]
    return form


def init_app(app):
    @app.context_processor
    def template_globals():
        return {
            "navigation": navigation,
            "locale_form": locale_form,
            "can": can,
            "current_locale_tag": lambda: str(get_locale()).replace("_", "-"),
            "current_timezone_name": lambda: str(get_timezone()),
        }
