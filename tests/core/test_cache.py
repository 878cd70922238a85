"""The fragment cache (core/cache.py): its key must hold everything a cached
fragment depends on — the data version, the user's scope, locale and time zone."""
from flask_babel import force_locale, gettext

from factories import SYSTEM, make_unit, unit_by_code
from portal.core.cache import data_version
from portal.core.permissions import Scope, ScopeGrant
from portal.org.services import update_unit

EXDE_NAME = "Example Commerce GmbH"
EXCN_NAME = "示例电商（上海）有限公司"


def entries(app):
    store = app.extensions.get("fragment_cache")
    return dict(store._entries) if store is not None else {}


def test_a_write_changes_the_data_version_and_what_pages_show(admin_client, db):
    unit = unit_by_code("EXDE")
    assert "Example Commerce GmbH" in admin_client.get(f"/org/units/{unit.id}").get_data(as_text=True)
    before = data_version()
    update_unit(SYSTEM, unit, unit.version, "Example Commerce AG", unit.code,
                settings={"country": "DE", "currency": "EUR", "timezone": "Europe/Berlin", "default_locale": "de"})
    assert data_version() != before
    tree = admin_client.get("/org").get_data(as_text=True)
    panel = admin_client.get(f"/org/units/{unit.id}").get_data(as_text=True)
    audit = admin_client.get("/audit").get_data(as_text=True)
    for body in (tree, panel):
        assert "Example Commerce AG" in body and "Example Commerce GmbH" not in body
    assert "org.unit_updated" in audit


def test_a_new_unit_shows_at_once_in_the_tree_and_the_panel(admin_client, db):
    store = unit_by_code("CN-JD")
    admin_client.get(f"/org/units/{store.id}")
    admin_client.get(f"/org/units/{store.id}/children", htmx=True)
    make_unit(store, "team", name="Cache Test Team", code="CACHE-T1")  # through the service: audited
    assert "Cache Test Team" in admin_client.get(f"/org/units/{store.id}").get_data(as_text=True)
    assert "Cache Test Team" in admin_client.get(f"/org/units/{store.id}/children", htmx=True).get_data(as_text=True)


def test_users_with_different_scopes_never_share_an_entry(app, client_for):
    hr_de, hr_cn = client_for("hr.de"), client_for("hr.cn")
    for path in ("/org", "/audit", "/"):
        de = hr_de.get(path).get_data(as_text=True)
        cn = hr_cn.get(path).get_data(as_text=True)
        if path == "/org":
            assert EXDE_NAME in de and EXDE_NAME not in cn
            assert EXCN_NAME in cn and EXCN_NAME not in de
    signatures = {key[2] for key in entries(app)}
    assert len(signatures) == 2


def test_scope_signatures_follow_the_grants():
    a = Scope({"org.view": {ScopeGrant(1, "/1/", True)}})
    assert a.signature() == Scope({"org.view": {ScopeGrant(1, "/1/", True)}}).signature()
    for other in (
        Scope({"org.view": {ScopeGrant(1, "/1/", False)}}),  # not the units below
        Scope({"org.view": {ScopeGrant(2, "/1/2/", True)}}),  # another unit
        Scope({"org.manage": {ScopeGrant(1, "/1/", True)}}),  # another permission
        Scope({"org.view": {ScopeGrant(1, "/1/", True), ScopeGrant(3, "/3/", True)}}),  # one more grant
    ):
        assert other.signature() != a.signature()


def test_a_locale_change_does_not_reuse_the_other_languages_html(app, client_for):
    client = client_for("admin")
    client.http.set_cookie("locale", "en")
    english = client.get("/org").get_data(as_text=True)
    client.http.set_cookie("locale", "zh_CN")
    chinese = client.get("/org").get_data(as_text=True)
    with app.test_request_context(), force_locale("zh_CN"):
        units_below = gettext("Units below")
    assert units_below != "Units below"
    assert "Units below" in english and "Units below" not in chinese
    assert units_below in chinese
    assert {key[3] for key in entries(app)} >= {"en", "zh_Hans_CN"}


def test_fragments_are_html_not_escaped_text(admin_client):
    body = admin_client.get("/").get_data(as_text=True)
    assert '<a class="stat"' in body and "&lt;" not in body
    assert '<ul class="tree">' in admin_client.get("/org").get_data(as_text=True)
    assert '<table class="striped audit">' in admin_client.get("/audit").get_data(as_text=True)


def test_the_cache_can_be_turned_off(app, admin_client):
    app.extensions.pop("fragment_cache", None)
    app.config["FRAGMENT_CACHE_SIZE"] = 0
    assert "Example Commerce GmbH" in admin_client.get("/org").get_data(as_text=True)
    assert not entries(app)
