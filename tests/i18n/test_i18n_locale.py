"""Choosing the language, and what changes with it: the UI text, and dates and
money formatted by Babel.

Order (portal/core/i18n.py select_locale): the user's setting → the `locale`
cookie → Accept-Language → the default locale of the user's company.
"""
import datetime as dt
import os
import re
import tempfile

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale, format_date, format_datetime, get_locale, get_translations, gettext, \
    lazy_gettext as _l, ngettext
from flask_login import login_user

from portal.accounts.models import User
from portal.config import ROOT
from portal.core.auth import LoggedInUser
from portal.core.i18n import LOCALE_COOKIE, select_locale
from portal.core.money import format_money, to_minor_units
from portal.org.models import OrgUnit

ZH = 'lang="zh-Hans-CN"'  # Babel's name for zh_CN, a valid BCP 47 tag
EN = 'lang="en"'


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    """`make translations` builds the .mo files; compile here too when one is missing or
    older than its .po, so these tests always see the catalogs as they are."""
    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with open(po, "rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)


def page(response):
    return response.get_data(as_text=True)


def set_company_locale(username, locale):
    """Set the default locale of the company `username` belongs to."""
    company_id = User.get(User.username == username).unit.company_id
    OrgUnit.update(default_locale=locale).where(OrgUnit.id == company_id).execute()


def test_every_offered_language_loads_its_catalog(app):
    """Flask-Babel finds a compiled catalog for each of LANGUAGES (zh_CN is looked up
    as translations/zh_Hans_CN: a catalog in translations/zh_CN would be silently ignored)."""
    for code in app.config["LANGUAGES"]:
        with app.test_request_context("/"), force_locale(code):
            files = get_translations().files
            assert any(path.endswith("messages.mo") for path in files), f"no catalog loaded for {code}"
    with app.test_request_context("/"), force_locale("zh_CN"):
        assert gettext("Log in") == "登录"
        assert ngettext("%(num)d permission", "%(num)d permissions", 3) == "3 项权限"
        assert str(_l("Audit trail")) == "审计日志"


# --- switching ------------------------------------------------------------------

def test_anonymous_switch_is_kept_in_a_cookie(client):
    assert "Log in to Fairshare" in page(client.get("/login"))
    response = client.post("/locale", {"locale": "zh_CN", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    cookie = client.http.get_cookie(LOCALE_COOKIE)
    assert cookie.value == "zh_CN" and cookie.http_only
    html = page(client.get("/login"))
    assert ZH in html
    assert "登录 Fairshare" in html and "用户名" in html and "Log in to Fairshare" not in html
    # and back
    client.post("/locale", {"locale": "en", "next": "/login"})
    html = page(client.get("/login"))
    assert EN in html and "Log in to Fairshare" in html


def test_logged_in_switch_is_stored_on_the_user(app, client_for):
    set_company_locale("hr.de", "en")
    browser = client_for("hr.de")
    assert EN in page(browser.get("/"))
    response = browser.post("/locale", {"locale": "zh_CN", "next": "/"})
    assert response.status_code == 302
    assert User.get(User.username == "hr.de").locale == "zh_CN"
    html = page(browser.get("/"))
    assert ZH in html and "工作台" in html and "退出登录" in html

    # Another browser, no cookie: the user's setting still gives Chinese after a fresh login.
    other = client_for("hr.de")
    assert other.http.get_cookie(LOCALE_COOKIE) is None
    html = page(other.get("/", headers={"Accept-Language": "en"}))
    assert ZH in html and "工作台" in html


def test_htmx_switch_answers_204_with_refresh(client):
    client.get("/login")
    response = client.post("/locale", {"locale": "zh_CN", "next": "/login"}, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Refresh"] == "true"
    assert response.get_data() == b""
    assert client.http.get_cookie(LOCALE_COOKIE).value == "zh_CN"
    assert ZH in page(client.get("/login"))



@pytest.mark.parametrize("header, selected", [("zh-CN", "zh_CN"), ("en", "en")])
def test_switcher_marks_the_current_language(client, header, selected):
    html = page(client.get("/login", headers={"Accept-Language": header}))
    switcher = html[html.index('id="locale-select"'):]
    switcher = switcher[:switcher.index("</select>")]
    assert re.search(rf'<option[^>]*selected[^>]*value="{selected}"|<option[^>]*value="{selected}"[^>]*selected',
                     switcher), switcher
    assert switcher.count("selected") == 1


def test_switch_refuses_unknown_locales_and_foreign_redirects(client):
    response = client.post("/locale", {"locale": "xx", "next": "/login"})
    assert response.status_code == 400
    assert client.http.get_cookie(LOCALE_COOKIE) is None
    response = client.post("/locale", {"locale": "zh_CN", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_switch_needs_the_csrf_token(client):
    response = client.post("/locale", {"locale": "zh_CN"}, csrf=False)
    assert response.status_code == 400
    assert client.http.get_cookie(LOCALE_COOKIE) is None


def test_preferences_automatic_returns_to_company_default(client_for):
    set_company_locale("hr.de", "en")
    browser = client_for("hr.de")
    browser.post("/locale", {"locale": "zh_CN", "next": "/"})
    browser.http.delete_cookie(LOCALE_COOKIE)
    response = browser.post("/account/preferences", {"pref-locale": "", "pref-timezone": ""})
    assert response.status_code == 302
    assert User.get(User.username == "hr.de").locale in ("", None)
    assert EN in page(browser.get("/"))


# --- Accept-Language and the order of precedence ------------------------------------

@pytest.mark.parametrize("header", [
    "zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", "zh-cn", "zh", "zh-Hans-CN", "zh-Hans", "zh-SG",
    "de-DE,zh-Hans-CN;q=0.7,en;q=0.5",
])
def test_accept_language_picks_simplified_chinese(client, header):
    html = page(client.get("/login", headers={"Accept-Language": header}))
    assert ZH in html and "登录 Fairshare" in html


@pytest.mark.parametrize("header", ["en-US,en;q=0.9", "en-GB", "de-DE", "zh-TW", "zh-Hant-HK", "*", "x-klingon",
                                    "zh-CN;q=0, en;q=0.5"])
def test_accept_language_otherwise_falls_back_to_english(client, header):
    html = page(client.get("/login", headers={"Accept-Language": header}))
    assert EN in html and "Log in to Fairshare" in html


def _locale_for(app, username, user_locale, cookie, accept_language):
    user = User.get(User.username == username)
    user.locale = user_locale
    headers = {}
    if cookie:
        headers["Cookie"] = f"{LOCALE_COOKIE}={cookie}"
    if accept_language:
        headers["Accept-Language"] = accept_language
    with app.test_request_context("/", headers=headers):
        login_user(LoggedInUser(user, None, "token"))
        return select_locale()


@pytest.mark.parametrize("user_locale, cookie, accept_language, company, expected", [
    # the user's setting beats everything
    ("zh_CN", "en", "en", "en", "zh_CN"),
    ("en", "zh_CN", "zh-CN", "zh_CN", "en"),
    # then the cookie
    (None, "zh_CN", "en", "en", "zh_CN"),
    (None, "en", "zh-CN", "zh_CN", "en"),
    # then Accept-Language
    (None, None, "zh-CN", "en", "zh_CN"),
    (None, None, "en-US", "zh_CN", "en"),
    # then the company's default
    (None, None, None, "zh_CN", "zh_CN"),
    (None, None, None, "en", "en"),
    (None, None, "fr-FR", "zh_CN", "zh_CN"),
    # a company default the portal does not offer yet: the app's default
    (None, None, None, "de", "en"),
    # values the portal does not offer are skipped, not used
    ("fr", "xx", "zh-CN", "en", "zh_CN"),
])
def test_locale_precedence(app, user_locale, cookie, accept_language, company, expected):
    set_company_locale("hr.de", company)
    assert _locale_for(app, "hr.de", user_locale, cookie, accept_language) == expected


def test_precedence_over_http(app, client_for):
    set_company_locale("hr.cn", "zh_CN")
    browser = client_for("hr.cn")
    assert ZH in page(browser.get("/"))  # company default
    assert EN in page(browser.get("/", headers={"Accept-Language": "en"}))  # Accept-Language beats it
    browser.http.set_cookie(LOCALE_COOKIE, "zh_CN")
    assert ZH in page(browser.get("/", headers={"Accept-Language": "en"}))  # the cookie beats that
    User.update(locale="en").where(User.username == "hr.cn").execute()
    assert EN in page(browser.get("/", headers={"Accept-Language": "zh-CN"}))  # the user's setting beats all


def test_anonymous_without_any_hint_gets_the_default(app, client):
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"
    assert EN in page(client.get("/login"))
    with app.test_request_context("/"):
        assert str(get_locale()) == "en"


# --- translated pages ----------------------------------------------------------

def test_404_page_is_translated(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    html = page(response)
    assert ZH in html and "页面不存在" in html and "此页面不存在，或您无权查看。" in html
    assert "Not found" not in html
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Not found" in page(response) and EN in page(response)


def test_errors_and_flashes_follow_the_locale(client, client_for):
    client.post("/locale", {"locale": "zh_CN", "next": "/login"})
    response = client.post("/login", {"username": "hr.cn", "password": "wrong-password"})
    assert response.status_code == 422
    assert "用户名或密码错误。" in page(response)


def test_logout_message_is_in_the_users_language(client_for):
    """Translated while the user is still logged in: their company's language, not the anonymous default."""
    set_company_locale("hr.cn", "zh_CN")
    browser = client_for("hr.cn")
    assert browser.post("/logout", {}).status_code == 302
    assert "您已退出登录。" in page(browser.get("/login"))


def test_preferences_confirm_in_the_language_just_chosen(client_for):
    set_company_locale("hr.cn", "zh_CN")
    browser = client_for("hr.cn")
    assert ZH in page(browser.get("/account"))
    response = browser.post("/account/preferences", {"pref-locale": "en", "pref-timezone": ""})
    assert response.status_code == 302
    html = page(browser.get("/account"))
    assert EN in html and "Your preferences are saved." in html
    response = browser.post("/account/preferences", {"pref-locale": "zh_CN", "pref-timezone": ""})
    html = page(browser.get("/account"))
    assert ZH in html and "偏好设置已保存。" in html


def test_form_validation_messages_are_translated(client_for):
    browser = client_for("hr.cn")  # a Chinese company: Chinese by default
    response = browser.post("/account/password", {"pw-current_password": "", "pw-new_password": ""})
    assert response.status_code == 422
    assert "此项为必填项。" in page(response)



def test_wtforms_own_messages_are_translated(client_for):
    """WTForms' built-in messages come from its own catalogs (Flask-WTF's WTF_I18N_ENABLED)."""
    set_company_locale("hr.cn", "zh_CN")
    html = page(client_for("hr.cn").get("/audit?date_from=not-a-date"))
    assert "不是有效的日期值。" in html and "Not a valid date value." not in html


# --- Babel formatting ----------------------------------------------------------

def test_money_follows_the_locale(app):
    with app.test_request_context("/"):
        with force_locale("zh_CN"):
            assert format_money(123456, "CNY") == "¥1,234.56"
            assert format_money(123456, "JPY") == "JP¥123,456"  # no minor unit
            assert format_money(123450, "EUR") == "€1,234.50"
            assert format_money(-5, "CNY") == "-¥0.05"
        with force_locale("en"):
            assert format_money(123456, "CNY") == "CN¥1,234.56"
            assert format_money(123456, "JPY") == "¥123,456"
            assert format_money(123450, "EUR") == "€1,234.50"
    assert to_minor_units("1234", "JPY") == 1234
    with pytest.raises(ValueError):
        to_minor_units("1234.5", "JPY")


def test_dates_follow_the_locale(app):
    day = dt.date(2026, 3, 1)
    with app.test_request_context("/"):
        with force_locale("zh_CN"):
            assert format_date(day, "long") == "2026年3月1日"
            assert format_date(day, "full") == "2026年3月1日星期日"
        with force_locale("en"):
            assert format_date(day, "long") == "March 1, 2026"
            assert format_date(day, "full") == "Sunday, March 1, 2026"


def test_times_are_shown_in_the_users_time_zone(app):
    """Stored in naive UTC, shown in the company's zone, in the user's language."""
    utc = dt.datetime(2026, 1, 1, 16, 30)
    hr_cn = User.get(User.username == "hr.cn")
    with app.test_request_context("/"):
        login_user(LoggedInUser(hr_cn, None, "token"))
        with force_locale("zh_CN"):
            assert format_datetime(utc, "medium") == "2026年1月2日 00:30:00"  # Asia/Shanghai, UTC+8
        with force_locale("en"):
            assert format_datetime(utc, "medium").startswith("Jan 2, 2026, 12:30:00")


def test_template_filters_format_through_babel(app):
    source = "{{ 123456|money('JPY') }} | {{ 1234567|number }} | {{ day|date('long') }}"
    with app.test_request_context("/"):
        with force_locale("zh_CN"):
            assert render_template_string(source, day=dt.date(2026, 3, 1)) == "JP¥123,456 | 1,234,567 | 2026年3月1日"
        with force_locale("en"):
            assert render_template_string(source, day=dt.date(2026, 3, 1)) == "¥123,456 | 1,234,567 | March 1, 2026"
