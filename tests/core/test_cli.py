"""`flask …` commands: migrations, the first administrator, backup and restore."""
import os
import re
import sqlite3
from pathlib import Path

import pytest

from portal import create_app
from portal.accounts.models import Grant, Role, User
from portal.accounts.permissions import BUILTIN_ROLES
from portal.audit.models import AuditEvent
from portal.cli import MIGRATIONS_DIR, upgrade_database
from portal.core.audit import verify_chain
from portal.core.db import database, is_sqlite
from portal.org.models import OrgUnit
from portal.org.services import effective_settings

MIGRATIONS = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))
ADMIN_ARGS = ["create-admin", "--username", "root", "--name", "Root Admin", "--group-name", "ACME Group",
              "--group-code", "ACME", "--country", "DE", "--currency", "EUR", "--timezone", "Europe/Berlin",
              "--locale", "de"]
ADMIN_ENV = {"FAIRSHARE_ADMIN_PASSWORD": "correct-horse-1"}


@pytest.fixture
def empty_app(app, tmp_path):
    """An app on a new SQLite file with every migration applied and nothing else.
    (It takes over the database from the `app` fixture, whose client class it borrows.)"""
    fresh = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                        "SECRET_KEY": "test-secret", "JOBS_IMMEDIATE": True, "BACKUP_DIR": str(tmp_path / "bk")})
    fresh.test_client_class = app.test_client_class
    with fresh.app_context():
        upgrade_database()
        yield fresh
        database.close()


def run(app, *args, env=None, input=None):
    return app.test_cli_runner().invoke(args=list(args), env=env, input=input)


# --- migrations -----------------------------------------------------------------------

def test_db_status_lists_every_migration_as_applied(app):
    result = run(app, "db", "status")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == MIGRATIONS
    assert all("applied" in line and "pending" not in line for line in lines)


def test_db_upgrade_twice_applies_nothing_the_second_time(app):
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0 and "Applied 0 migration(s)." in result.output


def test_an_empty_database_is_migrated_but_empty(empty_app):
    assert OrgUnit.select().count() == 0 and User.select().count() == 0 and Role.select().count() == 0
    assert AuditEvent.select().count() == 0 and verify_chain()[0]


# --- create-admin ---------------------------------------------------------------------------

def test_create_admin_on_an_empty_database_creates_the_group_and_the_admin(empty_app):
    result = run(empty_app, *ADMIN_ARGS, env=ADMIN_ENV)
    assert result.exit_code == 0, result.output
    assert "Created group administrator root." in result.output
    group = OrgUnit.get(OrgUnit.parent.is_null())
    assert (group.code, group.name, group.kind, group.path, group.depth) == ("ACME", "ACME Group", "group",
                                                                            f"/{group.id}/", 0)
    assert effective_settings(group) == {"country": "DE", "currency": "EUR", "timezone": "Europe/Berlin",
                                         "default_locale": "de"}
    assert sorted(r.builtin_key for r in Role.select()) == sorted(BUILTIN_ROLES)
    root = User.get(User.username == "root")
    assert (root.display_name, root.unit_id, root.is_active) == ("Root Admin", group.id, True)
    grant = Grant.get(Grant.user == root)
    assert (grant.role.builtin_key, grant.unit_id, grant.include_descendants) == ("group_admin", group.id, True)
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id)][:1] == ["org.unit_created"]
    assert {"user.created", "grant.created"} <= {e.action for e in AuditEvent.select()}
    assert verify_chain()[0]
    # and the new administrator can log in and manage the group
    client = empty_app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "root", "password": "correct-horse-1",
                                           "csrf_token": _token(client)})
    assert response.status_code == 302
    assert client.get("/org").status_code == 200


def _token(client):
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_create_admin_again_adds_a_second_admin_to_the_same_group(empty_app):
    assert run(empty_app, *ADMIN_ARGS, env=ADMIN_ENV).exit_code == 0
    result = run(empty_app, "create-admin", "--username", "second", env=ADMIN_ENV)
    assert result.exit_code == 0, result.output
    assert OrgUnit.select().count() == 1
    assert User.get(User.username == "second").unit_id == OrgUnit.get(OrgUnit.parent.is_null()).id


def test_create_admin_refuses_a_taken_username(empty_app):
    run(empty_app, *ADMIN_ARGS, env=ADMIN_ENV)
    result = run(empty_app, *ADMIN_ARGS, env=ADMIN_ENV)
    assert result.exit_code == 1
    assert "This username is taken." in result.output
    assert User.select().count() == 1


def test_create_admin_with_a_weak_password_leaves_the_database_empty(empty_app):
    result = run(empty_app, *ADMIN_ARGS, env={"FAIRSHARE_ADMIN_PASSWORD": "short"})
    assert result.exit_code == 1
    assert "Use at least 8 characters." in result.output
    assert OrgUnit.select().count() == 0 and User.select().count() == 0 and AuditEvent.select().count() == 0
    assert verify_chain()[0]


def test_create_admin_refuses_bad_group_settings(empty_app):
    result = run(empty_app, *ADMIN_ARGS[:-2], "--locale", "not a locale", env=ADMIN_ENV)
    assert result.exit_code == 1
    assert OrgUnit.select().count() == 0


def test_seed_demo_fills_an_empty_database_once(empty_app):
    result = run(empty_app, "seed-demo", "--people", "30")
    assert result.exit_code == 0, result.output
    assert OrgUnit.get(OrgUnit.parent.is_null()).code == "EXG"
    assert User.select().count() == 30
    again = run(empty_app, "seed-demo")
    assert "demo data not added" in again.output and User.select().count() == 30
    logins = run(empty_app, "demo-logins")
    assert "hr.de" in logins.output and "demo1234" in logins.output


# --- backup and restore -------------------------------------------------------------------------

@pytest.fixture
def seeded_empty_app(empty_app):
    assert run(empty_app, *ADMIN_ARGS, env=ADMIN_ENV).exit_code == 0
    return empty_app


def test_backup_writes_a_readable_sqlite_copy(seeded_empty_app, tmp_path):
    result = run(seeded_empty_app, "backup", "--dir", str(tmp_path / "backups"))
    assert result.exit_code == 0, result.output
    [backup] = (tmp_path / "backups").glob("fairshare-*.db")
    assert f"Backed up to {backup}" in result.output
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute('SELECT username FROM "user"').fetchall() == [("root",)]
        assert copy.execute("SELECT code FROM org_unit").fetchall() == [("ACME",)]
        assert copy.execute("SELECT count(*) FROM audit_event").fetchone()[0] == AuditEvent.select().count()
    finally:
        copy.close()


def test_backup_goes_to_the_configured_folder_by_default(seeded_empty_app):
    result = run(seeded_empty_app, "backup")
    assert result.exit_code == 0
    assert len(list(Path(seeded_empty_app.config["BACKUP_DIR"]).glob("fairshare-*.db"))) == 1


def test_restore_brings_back_the_backup(seeded_empty_app, tmp_path):
    run(seeded_empty_app, "backup", "--dir", str(tmp_path / "backups"))
    [backup] = (tmp_path / "backups").glob("fairshare-*.db")
    assert run(seeded_empty_app, "create-admin", "--username", "later", env=ADMIN_ENV).exit_code == 0
    assert User.select().count() == 2
    result = run(seeded_empty_app, "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert [u.username for u in User.select()] == ["root"]
    assert verify_chain()[0]


def test_restore_asks_first(seeded_empty_app, tmp_path):
    run(seeded_empty_app, "backup", "--dir", str(tmp_path / "backups"))
    [backup] = (tmp_path / "backups").glob("fairshare-*.db")
    run(seeded_empty_app, "create-admin", "--username", "later", env=ADMIN_ENV)
    result = run(seeded_empty_app, "restore", str(backup), input="n\n")
    assert result.exit_code == 1
    assert User.select().count() == 2


def test_restore_refuses_a_file_that_is_not_a_database(seeded_empty_app, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    result = run(seeded_empty_app, "restore", str(junk), "--yes")
    assert result.exit_code == 1
    assert "is not an intact SQLite database." in result.output
    assert User.select().count() == 1


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_backup_on_postgresql_points_to_pg_dump(app):
    assert not is_sqlite()
    result = run(app, "backup")
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert "pg_restore" in run(app, "restore", __file__, "--yes").output
