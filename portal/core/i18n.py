"""Locale and time zone of the request, and the template filters that format
numbers, money and dates through Babel.

Locale: the user's setting → the `locale` cookie → Accept-Language → the
default locale of the user's company. Time zone: the user's → their
company's → UTC. Times are stored in naive UTC; Flask-Babel converts them.
"""
import functools
import zoneinfo

from babel.core import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, request
from flask_babel import format_date, format_datetime, format_decimal, format_timedelta, get_locale
from flask_login import current_user

from portal.core.money import format_money

LOCALE_COOKIE = "locale"
TIMEZONE_CHOICES = [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
    if "/" in name and name.split("/", 1)[0] in {"Africa", "America", "Asia", "Atlantic", "Australia", "Europe",
                                                   "Indian", "Pacific"}
]
# Each language in its own name. The UI speaks config LANGUAGES; a company may
# default to any of these (its staff see the nearest language the UI speaks).
LOCALE_LABELS = {"zh_CN": "简体中文", "zh_Hant": "繁體中文", "en": "English", "de": "Deutsch", "ja": "日本語"}


def language_choices(codes):
    return [(code, LOCALE_LABELS.get(code, code)) for code in codes]


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
    best = _accepted_locale(supported)
    if best:
        return best
    company_default = _home_settings().get("default_locale")
    return company_default if company_default in supported else current_app.config["BABEL_DEFAULT_LOCALE"]


@functools.lru_cache(maxsize=512)
def _parse_tag(tag):
    """A language tag as a Babel Locale with its likely script filled in
    ("zh-CN" → zh_Hans_CN, "zh-TW" → zh_Hant_TW); None for tags Babel does not know."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def _accepted_locale(supported):
    """The first Accept-Language entry, by quality, that a supported locale serves:
    the same locale, else the same language and script (zh, zh-Hans, zh-Hans-CN and
    zh-SG get zh_CN; zh-TW and zh-HK, written in Traditional characters, do not)."""
    offered = [(code, _parse_tag(code)) for code in supported]
    for tag, quality in request.accept_languages:
        wanted = _parse_tag(tag) if quality > 0 else None
        if wanted is None:
            continue
        for code, locale in offered:
            if locale == wanted:
                return code
        for code, locale in offered:
            if locale is not None and locale.language == wanted.language and (
                    None in (locale.script, wanted.script) or locale.script == wanted.script):
                return code
    return None


def current_language():
    """The request's language as its code in LANGUAGES: "zh_CN", where
    str(get_locale()) gives Babel's "zh_Hans_CN"."""
    locale = get_locale()
    for code in current_app.config["LANGUAGES"]:
        if _parse_tag(code) == locale:
            return code
    return str(locale)


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
