"""Locale and time zone of the request, and the template filters that format
numbers, money and dates through Babel.

Locale: the user's setting → the `locale` cookie → Accept-Language → the
default locale of the user's company. Time zone: the user's → their
company's → UTC. Times are stored in naive UTC; Flask-Babel converts them.
"""
import zoneinfo

from flask import current_app, g, has_request_context, request
from flask_babel import format_date, format_datetime, format_decimal, format_timedelta
from flask_login import current_user

from portal.core.money import format_money

LOCALE_COOKIE = "locale"
TIMEZONE_CHOICES = [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
    if "/" in name and name.split("/", 1)[0] in {"Africa", "America", "Asia", "Atlantic", "Australia", "Europe",
                                                   "Indian", "Pacific"}
]
LOCALE_LABELS = {"zh_CN": "简体中文", "en": "English"}  # each language in its own name


def _home_settings():
    if "home_settings" not in g:
        from portal.org.services import effective_settings

        g.home_settings = effective_settings(current_user.account.unit) if current_user.is_authenticated else {}
    return g.home_settings


def select_locale():
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and jobs: the source language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in supported:
        return cookie
    # Werkzeug matches "zh-CN" to "zh_CN" and falls back from "zh-Hans-CN" to "zh".
    best = request.accept_languages.best_match([tag.replace("_", "-") for tag in supported])
    if best:
        return best.replace("-", "_")
    company_default = _home_settings().get("default_locale")
    return company_default if company_default in supported else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    if not has_request_context():
        return "UTC"
    if current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return _home_settings().get("timezone") or "UTC"


def init_app(app):
    app.jinja_env.filters.update(
        datetime=format_datetime,
        date=format_date,
        number=format_decimal,
        money=format_money,
        timedelta=format_timedelta,
    )
    app.jinja_env.globals["LOCALE_LABELS"] = LOCALE_LABELS
