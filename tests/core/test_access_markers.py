"""Deny by default: every view declares who may reach it, and the URL map is
walked so a new route cannot slip through without a declaration."""
import pytest
from werkzeug.routing import IntegerConverter

from portal import create_app
from portal.core.permissions import PERMISSIONS, require

# The only pages an anonymous visitor may reach. Adding one is a security decision.
# cs_api.push takes no session login: it checks an API token itself (tests/cs/test_api.py).
PUBLIC_ENDPOINTS = {"static", "home.healthz", "accounts.login", "accounts.switch_locale", "cs_api.push"}


def fill_arguments(rule):
    """Values for a rule's arguments: 1 for ints, 'x' for strings."""
    return {name: 1 if isinstance(rule._converters[name], IntegerConverter) else "x" for name in rule.arguments}


def protected_requests(app):
    """(method, url, endpoint) for every method of every non-public rule."""
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if app.view_functions[rule.endpoint].access[0] == "public":
                continue
            url = app.url_map.bind("localhost").build(rule.endpoint, fill_arguments(rule))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url, rule.endpoint


def test_every_endpoint_declares_its_access(app):
    undeclared = [name for name, view in app.view_functions.items() if getattr(view, "access", None) is None]
    assert undeclared == []
    for name, view in app.view_functions.items():
        kind, permission = view.access
        assert kind in {"public", "login", "permission"}, name
        if kind == "permission":
            assert permission in PERMISSIONS, name


def test_only_the_known_pages_are_public(app):
    public = {name for name, view in app.view_functions.items() if view.access[0] == "public"}
    assert public == PUBLIC_ENDPOINTS


def test_anonymous_requests_to_protected_pages_go_to_login(app, client):
    requests = list(protected_requests(app))
    assert len(requests) > 20  # the walk really covers the map
    for method, url, endpoint in requests:
        if method == "GET":
            response = client.get(url)
        else:  # a valid CSRF token, so it is the login check that answers
            response = client.post(url, {})
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith("/login"), (method, url)
        assert "Example" not in response.get_data(as_text=True), endpoint  # no demo data leaks


def test_anonymous_get_never_returns_a_protected_page(app, client):
    """A plain GET of every protected URL, whatever methods it takes: a GET
    route sends to login, a POST-only one refuses the method; never a 200."""
    urls = {url for _method, url, _endpoint in protected_requests(app)}
    for url in sorted(urls):
        response = client.get(url)
        assert response.status_code in (302, 405), (url, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login"), url


def test_anonymous_get_comes_back_after_login(client):
    response = client.get("/org/units/1")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url == "/login?next=/org/units/1"
    client.get(login_url)
    response = client.post(login_url, {"username": "admin", "password": "demo1234", "next": "/org/units/1"})
    assert response.headers["Location"] == "/org/units/1"


def test_anonymous_htmx_request_is_sent_to_login_by_htmx(client):
    response = client.get("/org", htmx=True)
    assert response.headers["HX-Redirect"].startswith("/login")
    assert "Example Group" not in response.get_data(as_text=True)


def test_anonymous_may_reach_the_public_pages(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/static/favicon.svg").status_code == 200


@pytest.fixture
def app_with_bare_route(app, database_url, tmp_path):
    """A second app on the test's database, with one route that declares
    nothing about who may reach it (added before its first request)."""
    bare_app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                           "JOBS_IMMEDIATE": True, "BACKUP_DIR": str(tmp_path)})
    bare_app.test_client_class = app.test_client_class

    @bare_app.route("/bare")
    def bare():
        return "the bare view ran"

    with bare_app.app_context():
        yield bare_app


@pytest.fixture
def bare_client(app_with_bare_route, client):
    """A browser-like client (the suite's `Client`) on the app with the bare route."""
    return type(client)(app_with_bare_route.test_client())


def test_a_route_without_declaration_is_refused(app_with_bare_route, bare_client):
    assert getattr(app_with_bare_route.view_functions["bare"], "access", None) is None
    anonymous = bare_client.get("/bare")
    assert anonymous.status_code == 403
    assert "the bare view ran" not in anonymous.get_data(as_text=True)
    bare_client.login("admin")  # not even the group administrator gets through
    response = bare_client.get("/bare")
    assert response.status_code == 403
    assert "the bare view ran" not in response.get_data(as_text=True)


def test_require_refuses_an_undeclared_permission():
    with pytest.raises(LookupError):
        require("nothing.declared")
