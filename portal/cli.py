"""`flask …` commands: database, first admin, demo data, audit, backup, jobs."""
import datetime as dt
import getpass
import os
import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.config import ROOT
from portal.core.db import database, is_sqlite

MIGRATIONS_DIR = ROOT / "migrations"

db_cli = AppGroup("db", help="Schema migrations.")
audit_cli = AppGroup("audit", help="The audit trail.")
jobs_cli = AppGroup("jobs", help="Background jobs.")


def migration_runner():
    from playhouse.migrations import Runner

    return Runner(database.obj, directory=str(MIGRATIONS_DIR))


def upgrade_database():
    """Apply pending migrations, then bring built-in roles in step with the code."""
    from portal.accounts.services import sync_builtin_roles
    from portal.org.models import OrgUnit

    applied = migration_runner().up()
    group = OrgUnit.get_or_none(OrgUnit.parent.is_null())
    if group is not None:
        sync_builtin_roles(group)
    return applied


@db_cli.command("upgrade")
def db_upgrade():
    """Apply every pending migration."""
    applied = upgrade_database()
    click.echo(f"Applied {len(applied)} migration(s)." + "".join(f"\n  {name}" for name in applied))


@db_cli.command("status")
def db_status():
    """List migrations and whether each is applied."""
    for migration in migration_runner().status():
        state = f"applied {migration.applied:%Y-%m-%d %H:%M}" if migration.applied else "pending"
        click.echo(f"{migration.name:40} {state}")


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--name", "display_name", default=None, help="Display name (default: the username).")
@click.option("--group-name", default="Group", show_default=True, help="Used when no group exists yet.")
@click.option("--group-code", default="GROUP", show_default=True)
@click.option("--country", default="CN", show_default=True)
@click.option("--currency", default="CNY", show_default=True)
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--locale", default="zh_CN", show_default=True)
def create_admin(username, display_name, group_name, group_code, country, currency, timezone, locale):
    """Create a group administrator (and the group itself on an empty database).

    The password is read from FAIRSHARE_ADMIN_PASSWORD or asked for."""
    from portal.accounts.models import Role
    from portal.accounts.services import create_user, grant_role, sync_builtin_roles
    from portal.core.errors import ServiceError
    from portal.core.permissions import Actor
    from portal.org.models import OrgUnit
    from portal.org.services import create_unit

    password = os.environ.get("FAIRSHARE_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    system = Actor.system()
    try:
        with database.atomic():
            group = OrgUnit.get_or_none(OrgUnit.parent.is_null())
            if group is None:
                group = create_unit(system, None, "group", group_code, group_name, settings={
                    "country": country, "currency": currency, "timezone": timezone, "default_locale": locale})
            sync_builtin_roles(group)
            user = create_user(system, group, username, display_name or username, password)
            grant_role(system, user, Role.get(Role.builtin_key == "group_admin"), group)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Created group administrator {user.username}.")


@click.command("seed-demo")
@click.option("--people", default=300, show_default=True, help="How many people to create.")
def seed_demo(people):
    """Fill an empty database with the Example Group demo."""
    from portal.demo import seed

    seed(people=people, echo=click.echo)


@click.command("demo-logins")
def demo_logins():
    """Print the demo logins (they exist only in a database seeded with seed-demo)."""
    from portal.accounts.models import User
    from portal.demo import DEMO_LOGINS, DEMO_PASSWORD

    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    existing = {u for (u,) in User.select(User.username).tuples()}
    for username, display_name, _home, role_key, grant_unit, _descendants in DEMO_LOGINS:
        mark = "" if username in existing else "  (not in this database)"
        click.echo(f"  {username:10} {role_key:12} on {grant_unit:11} {display_name}{mark}")


@audit_cli.command("verify")
def audit_verify():
    """Check every link of the audit chain; exit 1 at the first broken one."""
    from portal.audit.models import AuditEvent
    from portal.core.audit import verify_chain

    total = AuditEvent.select().count()
    with click.progressbar(length=total, label="Verifying audit chain") as bar:
        state = {"done": 0}

        def advance(done, _total):
            bar.update(done - state["done"])
            state["done"] = done

        ok, checked, bad_id, reason = verify_chain(on_progress=advance)
    if ok:
        click.echo(f"OK: {checked} events, chain intact.")
    else:
        click.echo(f"BROKEN at event {bad_id}: {reason}. {checked} events before it are intact.", err=True)
        raise SystemExit(1)


def _sqlite_path():
    return Path(database.obj.database)


@click.command("backup")
@click.option("--dir", "directory", default=None, help="Where to write (default: instance/backups).")
def backup(directory):
    """Copy the live SQLite database to a timestamped file (online, consistent)."""
    if not is_sqlite():
        raise click.ClickException(
            "This command backs up SQLite. For PostgreSQL use: pg_dump --format=custom --file=fairshare.dump "
            "\"$DATABASE_URL\" (and pg_restore to restore).")
    target_dir = Path(directory or current_app.config["BACKUP_DIR"])
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"fairshare-{dt.datetime.now():%Y%m%d-%H%M%S}.db"
    source = sqlite3.connect(_sqlite_path())
    try:
        with sqlite3.connect(target) as destination:
            source.backup(destination)
    finally:
        source.close()
    click.echo(f"Backed up to {target}")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(backup_file, yes):
    """Replace the live SQLite database with BACKUP_FILE (stop the portal first)."""
    if not is_sqlite():
        raise click.ClickException("For PostgreSQL use pg_restore on a pg_dump file.")
    check = sqlite3.connect(backup_file)
    try:
        intact = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:  # not a database at all ("file is not a database")
        intact = False
    finally:
        check.close()
    if not intact:
        raise click.ClickException(f"{backup_file} is not an intact SQLite database.")
    if not yes:
        click.confirm(f"Replace {_sqlite_path()} with {backup_file}?", abort=True)
    database.close()
    source = sqlite3.connect(backup_file)
    try:
        with sqlite3.connect(_sqlite_path()) as destination:
            source.backup(destination)
    finally:
        source.close()
    click.echo(f"Restored {_sqlite_path()} from {backup_file}")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True)
def jobs_worker(workers):
    """Run the background-job consumer."""
    from huey.consumer import Consumer

    from portal.core.jobs import huey, set_worker_app

    set_worker_app(current_app._get_current_object())
    Consumer(huey, workers=workers, worker_type="thread").run()


def register_commands(app):
    for command in (db_cli, audit_cli, jobs_cli, create_admin, seed_demo, demo_logins, backup, restore):
        app.cli.add_command(command)
