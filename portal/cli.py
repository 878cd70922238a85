"""`flask …` commands: database, first admin, demo data, audit, backup, jobs."""
import datetime as dt
import getpass
import os
import sqlite3
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.config import ROOT
from portal.core.db import database, is_sqlite
from portal.people.models import IMPORT_KINDS

MIGRATIONS_DIR = ROOT / "migrations"

db_cli = AppGroup("db", help="Schema migrations.")
audit_cli = AppGroup("audit", help="The audit trail.")
jobs_cli = AppGroup("jobs", help="Background jobs.")
people_cli = AppGroup("people", help="Employee records: import, field keys, reminders.")
time_cli = AppGroup("time", help="Time: clock events, rosters, attendance, leave.")
cs_cli = AppGroup("cs", help="Customer service: imports, attribution.")


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


def _import_file(company_code, mapping_json, check, apply, rows_to_write):
    """The import commands: the company by its code, the --mapping option, then
    `check(actor, company, mapping)` → (plan, sha256); every bad row listed (exit 1),
    else `apply(actor, plan, sha256, on_progress=…)` with a progress bar. Returns (company, counts)."""
    import json

    from portal.core.errors import ServiceError
    from portal.core.permissions import Actor
    from portal.org.models import OrgUnit

    company = OrgUnit.get_or_none((OrgUnit.code == company_code.upper()) & (OrgUnit.kind == "company"))
    if company is None:
        raise click.ClickException(f"No company has the code {company_code}.")
    try:
        mapping = json.loads(mapping_json) if mapping_json else None
    except ValueError:
        raise click.ClickException("--mapping is not valid JSON.") from None
    if mapping is not None and not isinstance(mapping, dict):
        raise click.ClickException('--mapping must be a JSON object such as {"number": "工号"}.')
    system = Actor.system()
    try:
        plan, sha256 = check(system, company, mapping)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    if plan.errors:
        for error in plan.errors:
            click.echo(f"row {error.row}, column {error.column}: {error.message}", err=True)
        click.echo(f"{len(plan.errors)} error(s) in {plan.row_count} rows: nothing imported.", err=True)
        raise SystemExit(1)
    with click.progressbar(length=rows_to_write(plan), label="Importing", file=sys.stderr) as bar:
        return company, apply(system, plan, sha256, on_progress=bar.update)


@people_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--company", "company_code", required=True, help="Code of the company to import into, such as EXCN.")
@click.option("--kind", type=click.Choice(IMPORT_KINDS), default="employees",
              show_default=True, help="What the file holds.")
@click.option("--mapping", "mapping_json", default=None,
              help='JSON {"field": "column header"}; by default the company\'s remembered mapping, else the columns '
                   'whose names say which field they are.')
def people_import(path, company_code, kind, mapping_json):
    """Import a CSV or XLSX file: every row or, if any row has an error, none.
    Lists every bad row (row, column, reason) and exits 1 then."""
    from portal.people.imports import apply_plan, check_file

    company, counts = _import_file(
        company_code, mapping_json, lambda actor, company, mapping: check_file(actor, company, kind, path, mapping),
        apply_plan, lambda plan: len(plan.creates) + len(plan.changes))
    click.echo(f"Imported {counts['rows']} rows into {company.code}: {counts['create']} new, "
               f"{counts['update']} changed, {counts['unchanged']} unchanged.")


@people_cli.command("rotate-keys")
@click.option("--batch-size", default=500, show_default=True, help="People re-encrypted per transaction.")
def people_rotate_keys(batch_size):
    """Re-encrypt national IDs and bank accounts under FIELD_KEY_CURRENT.

    Keep the old keys in FIELD_KEYS until this has run: values under them stay
    readable meanwhile, and the command can be stopped and run again."""
    from portal.people.services import people_to_rotate, rotate_field_keys

    with click.progressbar(length=people_to_rotate(), label="Re-encrypting") as bar:
        state = {"done": 0}

        def advance(done, _total):
            bar.update(done - state["done"])
            state["done"] = done

        counts = rotate_field_keys(batch_size=max(1, batch_size), on_progress=advance)
    click.echo(f"Re-encrypted {counts['values']} value(s) of {counts['people']} people under key {counts['key_id']}.")
    if counts["unreadable"]:
        click.echo(f"{counts['unreadable']} value(s) could not be decrypted and were left as they are.", err=True)
        raise SystemExit(1)


@people_cli.command("remind-contracts")
def people_remind_contracts():
    """Notify HR of contracts ending within 30 days (once per contract). Run it daily."""
    from portal.core.permissions import Actor
    from portal.people.services import send_contract_reminders

    click.echo(f"Reminded HR of {send_contract_reminders(Actor.system())} contract(s) ending soon.")


@time_cli.command("import-clock")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--company", "company_code", required=True, help="Code of the company, such as EXCN.")
@click.option("--mapping", "mapping_json", default=None,
              help='JSON {"number"|"at"|"direction"|"device": "column header"}; by default the columns whose names '
                   'say which field they are.')
def time_import_clock(path, company_code, mapping_json):
    """Import an attendance-device export (CSV or XLSX): every new punch or, if any row
    has an error, none. Lists every bad row (row, column, reason) and exits 1 then."""
    from portal.time.clock_import import apply_clock_plan, check_clock_file

    company, counts = _import_file(
        company_code, mapping_json, lambda actor, company, mapping: check_clock_file(actor, company, path, mapping),
        apply_clock_plan, lambda plan: len(plan.creates))
    click.echo(f"Imported {counts['rows']} rows into {company.code}: {counts['create']} new punches, "
               f"{counts['existing']} already recorded.")


@time_cli.command("accrue-leave")
@click.option("--date", "day", default=None, help="Book what falls due by this day (YYYY-MM-DD); default today.")
def time_accrue_leave(day):
    """Book leave accruals (monthly, yearly) and carry-over expiry due by the day. Safe to
    run again: each period is booked once."""
    from portal.time.leave import accrue_leave

    try:
        when = dt.date.fromisoformat(day) if day else None
    except ValueError:
        raise click.ClickException("--date must be YYYY-MM-DD.") from None
    result = accrue_leave(when)
    click.echo(f"Accrued {result['accrued']} balance(s); {result['expired']} carry-over expiry entry(ies).")


@cs_cli.command("recompute")
@click.option("--company", "company_code", required=True, help="Code of the company, such as EXCN.")
@click.option("--month", required=True, help="The month to attribute, YYYY-MM.")
def cs_recompute(company_code, month):
    """Attribute the company's conversations of the month again and store credits and daily figures."""
    from portal.core.permissions import Actor
    from portal.cs.attribution import compute_period, month_bounds
    from portal.org.models import OrgUnit

    company = OrgUnit.get_or_none((OrgUnit.code == company_code) & (OrgUnit.kind == "company"))
    if company is None:
        raise click.ClickException(f"No company with code {company_code}.")
    try:
        first, last = month_bounds(dt.date.fromisoformat(month + "-01"))
    except ValueError:
        raise click.ClickException("--month must be YYYY-MM.") from None
    (run,) = compute_period(Actor.system(), company, first, last)
    click.echo(f"{company.code} {month}: {run.conversations} conversations, {run.attributed} attributed, "
               f"{run.unattributed} unattributed.")


def _cs_mapping(conn, options):
    """`--mapping` options of `flask cs import` as {field: column}: each FIELD=COLUMN
    (COLUMN=FIELD is understood too) or a JSON object {"field": "column"}."""
    import json

    fields = {f.name for f in conn.fields()}
    mapping = {}
    for option in options:
        if option.lstrip().startswith("{"):
            try:
                given = json.loads(option)
            except ValueError:
                raise click.ClickException("--mapping is not valid JSON.") from None
            if not isinstance(given, dict):
                raise click.ClickException('--mapping must be FIELD=COLUMN or a JSON object such as {"session_id": '
                                           '"会话ID"}.')
            mapping.update(given)
            continue
        left, equals, right = (part.strip() for part in option.partition("="))
        if not equals or not left or not right:
            raise click.ClickException(f"--mapping {option!r}: write it as FIELD=COLUMN.")
        if left not in fields and right in fields:
            left, right = right, left
        if left not in fields:
            raise click.ClickException(f"--mapping {option!r}: {conn.code} has no field {left!r}; its fields are "
                                       f"{', '.join(f.name for f in conn.fields())}.")
        mapping[left] = right
    return mapping or None


@cs_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--company", "company_code", required=True, help="Code of the company, such as EXCN.")
@click.option("--connector", "connector_code", required=True,
              help="The export's format: jd_conversations, jd_logins, tmall_conversations, tmall_messages, "
                   "vipshop_conversations, vipshop_messages, generic_conversations, generic_messages, "
                   "generic_logins.")
@click.option("--account", "account_code", default=None,
              help="Code of the CS account the rows belong to, when the file has no account column.")
@click.option("--mapping", "mapping_options", multiple=True,
              help="FIELD=COLUMN, once per field (or a JSON object); by default the columns whose names say "
                   "which field they are.")
@click.option("--locale", default=None, help="Language of the error report, such as zh_CN (default: English).")
def cs_import(path, company_code, connector_code, account_code, mapping_options, locale):
    """Import a marketplace export (CSV or XLSX) of conversations, messages or logins:
    every new record or, if any row has an error, none; the same file again adds
    nothing. Lists every bad row (row, column, reason) and exits 1 then."""
    from flask_babel import force_locale

    from portal.connectors import connector
    from portal.cs.imports import apply_plan, check_cs_file, company_accounts

    try:
        conn = connector(connector_code)
    except KeyError:
        raise click.ClickException(f"No format has the code {connector_code}; see --help.") from None
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        raise click.ClickException(f"--locale must be one of {', '.join(current_app.config['LANGUAGES'])}.")
    mapping = _cs_mapping(conn, mapping_options)

    def check(actor, company, _mapping):
        account = None
        if account_code:
            account = company_accounts(company).get(account_code)
            if account is None:
                raise click.ClickException(f"{company.code} has no CS account with the code {account_code}.")
        return check_cs_file(actor, company, conn, path, mapping, account)

    def apply(actor, plan, sha256, on_progress):
        return apply_plan(actor, plan, sha256, on_progress=on_progress, label=Path(path).name)

    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        company, counts = _import_file(company_code, None, check, apply, lambda plan: len(plan.creates))
    click.echo(f"Imported {counts['rows']} rows of {conn.kind} into {company.code}: {counts['create']} new, "
               f"{counts['existing']} already there, {counts['sub_accounts']} new sub-account(s).")
    if counts.get("stale_runs"):
        click.echo(f"{counts['stale_runs']} attribution run(s) marked for recomputing (flask cs recompute).")


def register_commands(app):
    for command in (db_cli, audit_cli, jobs_cli, people_cli, time_cli, cs_cli, create_admin, seed_demo, demo_logins,
                    backup, restore):
        app.cli.add_command(command)
