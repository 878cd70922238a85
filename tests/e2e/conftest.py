"""Browser fixtures: the `app` fixture served live, and headless Chromium.

The app (on its own copy of the demo database, SQLite or PostgreSQL) runs on
a werkzeug server in a background thread on a free port of 127.0.0.1. The
browser is Debian's Chromium, driven by Playwright; it is launched once per
session and every test gets a fresh context (cookies, storage) and page.

`page_errors` collects what the page reports that should never happen: a
Content-Security-Policy violation, an htmx error event (htmx logs those as
console errors named `htmx:…`) or an uncaught script exception. The
`page` fixture fails the test at teardown if any were seen.
"""
import os
import shutil
import threading
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}


def _chromium_missing():
    return not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM))


@pytest.fixture(scope="session")
def browser():
    if _chromium_missing():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test's app on http://127.0.0.1:<free port>; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _is_bad_console_message(message):
    text = message.text
    if "Content Security Policy" in text or "Content-Security-Policy" in text:
        return True
    return message.type == "error" and text.startswith("htmx:")


@pytest.fixture
def page_errors():
    return []


def _open_page(browser, live_server, page_errors, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server, locale="en-GB")
    context.set_default_timeout(5000)
    page = context.new_page()
    page.on("console", lambda m: _is_bad_console_message(m) and page_errors.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda exc: page_errors.append(f"uncaught: {exc}"))
    return context, page


@pytest.fixture
def page(browser, live_server, page_errors):
    """A desktop-sized page on the live server."""
    context, page = _open_page(browser, live_server, page_errors, DESKTOP)
    yield page
    context.close()
    assert not page_errors, "the browser reported errors:\n" + "\n".join(page_errors)


@pytest.fixture
def phone_page(browser, live_server, page_errors):
    """A page at phone width (375 × 812, touch)."""
    context, page = _open_page(browser, live_server, page_errors, PHONE)
    yield page
    context.close()
    assert not page_errors, "the browser reported errors:\n" + "\n".join(page_errors)


@pytest.fixture
def login():
    """login(page, "admin") → logs in through the form and waits for the dashboard."""

    def do_login(page, username, password="demo1234"):
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("#login-form button[type=submit]")
        assert urlparse(page.url).path == "/", f"login as {username} did not land on the dashboard: {page.url}"

    return do_login
