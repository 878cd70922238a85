"""Fairshare: the app factory."""
import importlib

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as config_module
from portal.core import db, i18n, navigation, security
from portal.core.htmx import add_vary_header
from portal.core.permissions import enforce_declared_access
from portal.extensions import babel, csrf, htmx, login_manager

# Every domain, in the order its blueprint and permissions are registered.
DOMAINS = ("home", "accounts", "org", "posts", "people", "approvals", "time", "cs", "bonus", "audit", "jobs")


def create_app(config=None):
    """Build the app. `config` (a dict) overrides settings read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(config_module.ROOT / "templates"),
        static_folder=str(config_module.ROOT / "static"),
        instance_path=str(config_module.INSTANCE),
    )
    app.config.update(config_module.from_env())
    app.config.update(config or {})
    if app.config.get("PROXY_FIX_X_FOR"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))

    db.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    navigation.init_app(app)

    from portal.core.jobs import huey

    huey.immediate = bool(app.config.get("JOBS_IMMEDIATE"))

    for name in DOMAINS:
        importlib.import_module(f"portal.{name}.permissions")
        views = importlib.import_module(f"portal.{name}.views")
        # A domain's pages are one blueprint; one that also answers elsewhere (an API) lists them all.
        for blueprint in getattr(views, "blueprints", (views.blueprint,)):
            app.register_blueprint(blueprint)
    app.view_functions["static"].access = ("public", None)
    enforce_declared_access(app)
    app.after_request(add_vary_header)

    from portal.cli import register_commands

    register_commands(app)
    return app
