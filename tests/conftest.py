"""Fixtures: an app per test on its own database, logged-in clients per demo role.

Each test gets a fresh copy of a template database that was migrated and
seeded with the demo group once per session: a file copy on SQLite, a
`CREATE DATABASE … TEMPLATE` on PostgreSQL (when TEST_DATABASE_URL is set).
CSRF protection stays on, as in production: `Client` fills in the token.
"""
import os
import queue
import re
import shutil
import threading
import uuid
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from flask.testing import FlaskClient
from jinja2 import BytecodeCache

import tempfile  # noqa: E402

os.environ.setdefault("JOBS_IMMEDIATE", "1")
# The queue is chosen at import time; keep the tests' queue out of the instance folder.
os.environ.setdefault("JOBS_SQLITE_PATH", os.path.join(tempfile.mkdtemp(prefix="fairshare-jobs-"), "jobs.db"))

from argon2 import PasswordHasher  # noqa: E402

from factories import unit_by_code  # noqa: E402
from portal import create_app  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.cli import upgrade_database  # noqa: E402
from portal.core import auth  # noqa: E402
from portal.core.db import database  # noqa: E402
from portal.core.permissions import Actor  # noqa: E402

# Argon2id at the production cost takes about a quarter of a second per hash or
# check, and the tests log in hundreds of times: the same algorithm at its lowest
# cost keeps them fast (tests/accounts checks the production settings).
auth.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
auth._DUMMY_HASH = auth.password_hasher.hash("not-a-password")

PG_URL = os.environ.get("TEST_DATABASE_URL")
# One template per test run, so that runs sharing a PostgreSQL server (several
# developers, CI) do not drop each other's template.
TEMPLATE_DB = f"fairshare_test_template_{uuid.uuid4().hex[:8]}"
TOKEN_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def _pg_admin(url):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def _with_db(url, name):
    return urlunparse(urlparse(url)._replace(path="/" + name))


def _migrate_and_seed(url):
    from portal.demo import seed

    # The demo's documents go to a folder of the run's own, not the instance folder.
    app = create_app({"DATABASE_URL": url, "TESTING": True,
                      "UPLOAD_DIR": tempfile.mkdtemp(prefix="fairshare-seed-uploads-")})
    with app.app_context():
        upgrade_database()
        # The demo's rosters and punches from this month only: every test copies this
        # database, and three months of them would double its size and the copy's time.
        # A week of CS conversations, ~300 a day (~2,300): enough for every evidence level.
        seed(echo=lambda *_: None, time_history_months=0, cs_history_days=7, cs_daily_conversations=300)
    database.close()
    if hasattr(database.obj, "close_all"):
        database.obj.close_all()


class DatabasePool:
    """Fresh PostgreSQL copies of the template, made ahead of time.

    A `CREATE DATABASE … TEMPLATE` of the demo takes about 0.4 s and a drop a tenth:
    done in the test's path, that is many minutes over the suite. Background threads,
    each on a connection of its own (two copies at once overlap their disk syncs: about
    0.27 s a copy), keep a few copies ready and drop used ones meanwhile."""

    READY = 3
    WORKERS = 2

    def __init__(self, admin):
        self.admin = admin
        self.ready = queue.Queue(maxsize=self.READY)
        self.used = queue.Queue()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._work, name=f"test-database-pool-{n}", daemon=True)
                        for n in range(self.WORKERS)]
        for thread in self.threads:
            thread.start()

    def _execute(self, sql, connection=None):
        with (connection or self.admin).cursor() as cur:
            cur.execute(sql)

    def _work(self):
        connection, name = _pg_admin(PG_URL), None
        while not self.stopping.is_set():
            try:
                self._execute(f'DROP DATABASE IF EXISTS "{self.used.get_nowait()}" WITH (FORCE)', connection)
                continue
            except queue.Empty:
                pass
            if name is None:
                name = f"fairshare_test_{uuid.uuid4().hex[:12]}"
                self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"', connection)
            try:
                self.ready.put(name, timeout=0.05)
                name = None
            except queue.Full:
                pass
        if name is not None:
            self.used.put(name)
        connection.close()

    def take(self):
        return self.ready.get(timeout=60)

    def give_back(self, name):
        self.used.put(name)

    def close(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        while not self.ready.empty():
            self.used.put(self.ready.get_nowait())
        while not self.used.empty():
            self._execute(f'DROP DATABASE IF EXISTS "{self.used.get_nowait()}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """Migrate and seed once; return how to make a fresh copy."""
    if PG_URL:
        admin = _pg_admin(PG_URL)
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        _migrate_and_seed(_with_db(PG_URL, TEMPLATE_DB))
        pool = DatabasePool(admin)
        yield ("postgres", pool)
        pool.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        admin.close()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate_and_seed(f"sqlite:///{path}")
    yield ("sqlite", path)


@pytest.fixture
def database_url(template_database, tmp_path):
    kind, source = template_database
    if kind == "sqlite":
        target = tmp_path / "fairshare.db"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
        return
    name = source.take()
    yield _with_db(PG_URL, name)
    database.close()
    if hasattr(database.obj, "close_all"):
        database.obj.close_all()
    source.give_back(name)


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates kept for the whole run. Every test builds its own app, and
    with it a Jinja environment that would otherwise compile each template it renders
    again (a quarter of a test's time). Keyed by name and source checksum, as Jinja does."""

    def __init__(self):
        self.store = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = SharedBytecodeCache()


class IsolatedFlaskClient(FlaskClient):
    """Each request in an app context of its own, as in production.

    A request reuses an app context already pushed for the same app, and the
    `app` fixture keeps one pushed for the whole test: without this, every
    request of a test would share `g`, and with it the user Flask-Login caches
    there, the request's scope and the CSRF token."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "JOBS_IMMEDIATE": True,
        "BACKUP_DIR": str(tmp_path / "backups"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    })
    app.test_client_class = IsolatedFlaskClient
    app.jinja_env.bytecode_cache = TEMPLATE_BYTECODE
    with app.app_context():
        yield app
    database.close()


@pytest.fixture
def db(app):
    """The app's database, for tests of services and engines (no HTTP)."""
    return database


class Client:
    """A test client that logs in through the form and sends CSRF tokens like a browser."""

    def __init__(self, flask_client):
        self.http = flask_client
        self.token = None

    def _remember_token(self, response):
        if not response.mimetype.startswith("text/"):  # a PDF or a workbook holds no token (and is no UTF-8)
            return response
        match = TOKEN_RE.search(response.get_data(as_text=True))
        if match:
            self.token = match.group(1) or match.group(2)
        return response

    def get(self, url, htmx=False, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self._remember_token(self.http.get(url, headers=headers, **kwargs))

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        if self.token is None and csrf:
            self.get("/login")
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["X-CSRFToken"] = self.token
        data = dict(data or {})
        if csrf and not htmx:
            data.setdefault("csrf_token", self.token)
        return self._remember_token(self.http.post(url, data=data, headers=headers, **kwargs))

    def login(self, username, password="demo1234"):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
        self.get("/")  # the session was rotated: pick up the new CSRF token
        return self


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def client_for(app, page_locale):
    """client_for("hr.de") → a client logged in as that demo user, reading
    pages in `page_locale` (when set) through the locale cookie."""

    def make(username):
        client = Client(app.test_client()).login(username)
        if page_locale:
            client.http.set_cookie("locale", page_locale)
        return client

    return make


@pytest.fixture
def page_locale():
    """Tests read pages in English: the demo group's own default language is
    Chinese, which logged-in clients would otherwise get. tests/i18n overrides
    this to see the locale chosen as in production."""
    return "en"


@pytest.fixture
def admin_client(client_for):
    return client_for("admin")


@pytest.fixture
def hr_cn_client(client_for):
    return client_for("hr.cn")


@pytest.fixture
def hr_de_client(client_for):
    return client_for("hr.de")


@pytest.fixture
def lead_client(client_for):
    return client_for("lead.jd")


@pytest.fixture
def agent_client(client_for):
    return client_for("agent.jd1")


@pytest.fixture
def auditor_client(client_for):
    return client_for("auditor")


# --- the demo group's actors and units, for tests of services (no HTTP) ------------------

@pytest.fixture
def actor_of(db):
    """actor_of("hr.cn") → that demo user's Actor, with their scope."""
    return lambda username: Actor.for_user(User.get(User.username == username))


@pytest.fixture
def hr_cn(actor_of):
    return actor_of("hr.cn")


@pytest.fixture
def hr_de(actor_of):
    return actor_of("hr.de")


@pytest.fixture
def lead(actor_of):
    """lead.jd, the lead of the JD team A."""
    return actor_of("lead.jd")


@pytest.fixture
def excn(db):
    return unit_by_code("EXCN")


@pytest.fixture
def jd_team(db):
    """The JD customer-service team A, led by lead.jd."""
    return unit_by_code("CN-JD-CS-A")


@pytest.fixture
def vip_team(db):
    """The Vipshop customer-service team A."""
    return unit_by_code("CN-VIP-CS-A")
