"""Importing marketplace logs (conversations, messages, logins) from files and from
the JSON API, on the shared import pipeline (portal.core.import_runs).

A connector (portal.connectors) names the format and reads the cells. The way
through, for the pages and `flask cs import` alike: `upload_cs_import` stores the
file (with the connector and, when the file has no account column, the account
chosen on the form); `save_cs_mapping` records which column feeds which field;
`validate_cs_import` checks every row and counts what is new and what is already
there, writing nothing; `start_cs_import` queues the job running
`execute_cs_import`: the same check again, then everything in ONE transaction.
Any bad row: nothing is written. Conversations and logins are unique by
(account, session id) — the platform is the account's store's — messages by
(conversation, instant, sender): importing the same file again writes nothing.
Local times are read in the company's time zone and stored naive UTC. A
successful import marks the company's attribution runs over the imported dates
stale (same transaction), so the recompute redoes them.

The JSON API (`push_records`) goes through the same planning and writing with
the generic field names.
"""
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _, lazy_gettext as _l

from portal.connectors import connector as connector_by_code
from portal.connectors.base import REGISTRY
from portal.core.audit import declare_actions, record_event
from portal.core.db import database, utcnow
from portal.core.errors import ServiceError
from portal.core.import_runs import (
    check_and_write, check_stored, file_headers, mark_imported, outcome_errors, outcome_summary, queue_import,
    recent_imports, require_state, run_import_job, store_upload, upload_dir,
)
from portal.core.jobs import background_job
from portal.core.tabular import RowError, declare_row_errors, header_key, mapped_rows, read_table
from portal.cs.bulk import insert_rows
from portal.cs.models import (
    CsAccount, CsAttributionRun, CsConversation, CsImport, CsLoginSession, CsMessage, CsSubAccount,
)
from portal.cs.permissions import CS_IMPORT
from portal.org.services import unit_choices
from portal.time.services import company_zone

WRITE_CHUNK_ROWS = 20_000  # rows handed to the driver at a time, between progress calls
LOOKUP_CHUNK = 900  # values per IN (…)
PROGRESS_EVERY = 1000
MAX_API_RECORDS = 5000
ACCOUNT_KEY = "@account"  # the account chosen on the upload form, kept beside the column mapping

STATE_LABELS = {
    "uploaded": _l("Uploaded"),
    "mapped": _l("Mapped"),
    "validated": _l("Checked"),
    "importing": _l("Importing"),
    "imported": _l("Imported"),
    "failed": _l("Failed"),
}
KIND_LABELS = {
    "conversations": _l("Conversations"),
    "messages": _l("Messages"),
    "logins": _l("Logins"),
}

declare_actions({
    "cs.logs_imported": _l("Marketplace logs imported"),
})

declare_row_errors({
    "cs_no_account": _l("The row names no account: add an account column or choose the account on the upload form."),
    "cs_unknown_account": _l("There is no customer-service account “%(value)s” in %(company)s."),
    "cs_archived_account": _l("The account “%(value)s” is archived."),
    "cs_end_before_start": _l("The conversation ends before it starts."),
    "cs_reply_before_start": _l("The first reply comes before the first customer message."),
    "cs_logout_before_login": _l("The logout comes before the login."),
    "cs_unknown_session": _l("There is no conversation “%(value)s” on this account: import the conversations "
                             "first."),
})


# --- planning: every row checked, nothing written ---------------------------------------------------

@dataclass
class CsPlan:
    company: object
    connector: object
    columns: dict  # field → the file's column (for the error report)
    row_count: int = 0
    errors: list = field(default_factory=list)
    creates: list = field(default_factory=list)  # dicts of the new rows (sub-accounts by name)
    existing: int = 0
    new_sub_accounts: set = field(default_factory=set)  # (account id, name)
    first_day: object = None  # local dates the new rows cover
    last_day: object = None

    def refuse(self, at_row, field_name, code, **params):
        column = self.columns.get(field_name) or field_name
        self.errors.append(RowError(at_row, column, code, params))

    def counts(self):
        return {"rows": self.row_count, "create": len(self.creates), "existing": self.existing,
                "errors": len(self.errors), "sub_accounts": len(self.new_sub_accounts)}

    def cover(self, local):
        day = local.date()
        if self.first_day is None or day < self.first_day:
            self.first_day = day
        if self.last_day is None or day > self.last_day:
            self.last_day = day


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _utc(zone):
    """local naive → naive UTC, the offset cached by local hour (offsets change on the hour)."""
    cache = {}

    def convert(local):
        if local is None:
            return None
        hour = local.replace(minute=0, second=0, microsecond=0)
        offset = cache.get(hour)
        if offset is None:
            offset = cache[hour] = hour.replace(tzinfo=zone).utcoffset()
        return local - offset

    return convert


def get_connector(code):
    try:
        return connector_by_code(code)
    except KeyError:
        raise ServiceError(_("Choose a format."), field="connector") from None


def suggest_mapping(conn, headers):
    """{field: header}: columns whose name says which field they are."""
    by_key = {header_key(h): h for h in headers if h}
    mapping, used = {}, set()
    for import_field in conn.fields():
        keys = (import_field.name, *map(header_key, import_field.aliases))
        header = next((by_key[k] for k in keys if k in by_key and by_key[k] not in used), None)
        if header is not None:
            mapping[import_field.name] = header
            used.add(header)
    return mapping


def check_mapping(conn, headers, mapping):
    known = {f.name for f in conn.fields()}
    cleaned = {name: header for name, header in (mapping or {}).items() if name in known and header}
    for name, header in cleaned.items():
        if header not in headers:
            raise ServiceError(_("The file has no column “%(column)s”.", column=header), field=name)
    seen = set()
    for name, header in cleaned.items():
        if header in seen:
            raise ServiceError(_("The column “%(column)s” is chosen for two fields.", column=header), field=name)
        seen.add(header)
    for import_field in conn.fields():
        if import_field.required and import_field.name not in cleaned:
            raise ServiceError(_("Choose the column that holds this field."), field=import_field.name)
    return cleaned


def company_accounts(company):
    """{code: CsAccount} of the company."""
    return {a.code: a for a in CsAccount.select().where(CsAccount.company == company.id)}


def _existing_keys(model, account_id, keys):
    found = set()
    for chunk in _chunks(keys, LOOKUP_CHUNK):
        found.update(s for (s,) in model.select(model.session_id).where(
            (model.account == account_id) & model.session_id.in_(chunk)).tuples())
    return found


def plan_records(actor, company, conn, rows, columns=None, default_account=None, on_row=None):
    """Check records `rows` ((row number, {field: raw value})) of the connector's kind
    against the data as it is now. Writes nothing. `columns` names each field's column."""
    actor.require(CS_IMPORT, company)
    plan = CsPlan(company, conn, dict(columns or {}))
    accounts = company_accounts(company)
    if default_account is not None and default_account.company_id != company.id:
        raise ServiceError(_("Choose an account of this company."), field="account")
    to_utc = _utc(company_zone(company))
    fields = conn.fields()
    time_fields = [f.name for f in fields if f.name.endswith("_at") or f.name == "at"]
    parsed = []
    for row, cells in rows:
        plan.row_count += 1
        if on_row is not None and plan.row_count % PROGRESS_EVERY == 0:
            on_row(plan.row_count)
        values, problems = conn.parse_record(cells, fields)
        for name, code, params in problems:
            plan.refuse(row, name, code, **params)
        if problems:
            continue
        code = values.get("account")
        if code:
            account = accounts.get(code)
            if account is None:
                plan.refuse(row, "account", "cs_unknown_account", value=code, company=company.name)
                continue
        elif default_account is not None:
            account = default_account
        else:
            plan.refuse(row, "account", "cs_no_account")
            continue
        if account.archived_at is not None:
            plan.refuse(row, "account", "cs_archived_account", value=account.code)
            continue
        values["account"] = account.id
        local_start = values.get("started_at") or values.get("at") or values.get("login_at")
        for name in time_fields:
            if name in values:
                values[name] = to_utc(values[name])
        if conn.kind == "conversations":
            if values["ended_at"] < values["started_at"]:
                plan.refuse(row, "ended_at", "cs_end_before_start")
                continue
            if values.get("first_reply_at") is not None and values["first_reply_at"] < values["started_at"]:
                plan.refuse(row, "first_reply_at", "cs_reply_before_start")
                continue
        elif conn.kind == "logins":
            if values.get("logout_at") is not None and values["logout_at"] < values["login_at"]:
                plan.refuse(row, "logout_at", "cs_logout_before_login")
                continue
        parsed.append((row, values, local_start))
    if conn.kind == "messages":
        _plan_messages(plan, parsed)
    else:
        _plan_sessions(plan, parsed)
    if plan.errors:
        plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan


def _sub_accounts(account_ids):
    """{(account id, name): sub-account id} of the accounts."""
    known = {}
    for chunk in _chunks(account_ids, LOOKUP_CHUNK):
        known.update({(a, n): pk for pk, a, n in CsSubAccount.select(
            CsSubAccount.id, CsSubAccount.account, CsSubAccount.name).where(CsSubAccount.account.in_(chunk)).tuples()})
    return known


def _plan_sessions(plan, parsed):
    """Conversations and logins: unique by (account, session id)."""
    model = CsConversation if plan.connector.kind == "conversations" else CsLoginSession
    first_row, by_account = {}, {}
    kept = []
    for row, values, local in parsed:
        key = (values["account"], values["session_id"])
        if key in first_row:
            plan.refuse(row, "session_id", "duplicate_in_file", value=values["session_id"], row=first_row[key])
            continue
        first_row[key] = row
        by_account.setdefault(values["account"], []).append(values["session_id"])
        kept.append((values, local))
    stored = {account_id: _existing_keys(model, account_id, ids) for account_id, ids in by_account.items()}
    known = _sub_accounts(list(by_account))
    for values, local in kept:
        if values["session_id"] in stored[values["account"]]:
            plan.existing += 1
            continue
        name = values.get("sub_account")
        if name and (values["account"], name) not in known:
            plan.new_sub_accounts.add((values["account"], name))
        plan.creates.append(values)
        plan.cover(local)


def _plan_messages(plan, parsed):
    """Messages: of a stored conversation, unique by (conversation, instant, sender)."""
    by_account = {}
    for _row, values, _local in parsed:
        by_account.setdefault(values["account"], set()).add(values["session_id"])
    conversations = {}
    for account_id, ids in by_account.items():
        for chunk in _chunks(ids, LOOKUP_CHUNK):
            conversations.update({(account_id, s): pk for pk, s in CsConversation.select(
                CsConversation.id, CsConversation.session_id).where(
                (CsConversation.account == account_id) & CsConversation.session_id.in_(chunk)).tuples()})
    resolved, first_row = [], {}
    for row, values, local in parsed:
        conversation_id = conversations.get((values["account"], values["session_id"]))
        if conversation_id is None:
            plan.refuse(row, "session_id", "cs_unknown_session", value=values["session_id"])
            continue
        key = (conversation_id, values["at"], values["sender"])
        if key in first_row:
            plan.refuse(row, "at", "duplicate_in_file", value=values["session_id"], row=first_row[key])
            continue
        first_row[key] = row
        values["conversation"] = conversation_id
        resolved.append((values, local))
    stored = set()
    for chunk in _chunks({v["conversation"] for v, _l in resolved}, LOOKUP_CHUNK):
        stored.update(CsMessage.select(CsMessage.conversation, CsMessage.at, CsMessage.sender).where(
            CsMessage.conversation.in_(chunk)).tuples())
    known = _sub_accounts(list(by_account))
    for values, local in resolved:
        if (values["conversation"], values["at"], values["sender"]) in stored:
            plan.existing += 1
            continue
        name = values.get("sub_account")
        if name and (values["account"], name) not in known:
            plan.new_sub_accounts.add((values["account"], name))
        plan.creates.append(values)
        plan.cover(local)


# --- writing -----------------------------------------------------------------------------------------

def _columns(model):
    return {
        CsConversation: ("company", "account", "sub_account", "session_id", "customer_ref", "started_at",
                         "first_reply_at", "ended_at", "customer_messages", "agent_messages", "resolved",
                         "reopened", "rating", "cs_import", "created_at"),
        CsLoginSession: ("company", "account", "sub_account", "session_id", "login_at", "logout_at", "address",
                         "workstation", "cs_import", "created_at"),
        CsMessage: ("conversation", "at", "sender", "sub_account", "cs_import"),
    }[model]


DEFAULTS = {"customer_ref": "", "customer_messages": 0, "agent_messages": 0, "resolved": None, "reopened": False,
            "rating": None, "first_reply_at": None, "logout_at": None, "address": "", "workstation": ""}


def _insert_rows(model, rows, on_progress):
    """INSERT row tuples (in `_columns(model)` order) straight through the driver
    (portal/cs/bulk.py), WRITE_CHUNK_ROWS at a time. (The one writer of new rows:
    tests make it fail half-way.)"""
    insert_rows(model, _columns(model), rows, chunk=WRITE_CHUNK_ROWS, on_progress=on_progress)


def _mark_stale(company, first_day, last_day):
    """Attribution runs of the company over the imported dates are to be redone."""
    if first_day is None:
        return 0
    return CsAttributionRun.update(stale=True).where(
        (CsAttributionRun.company == company.id) & (CsAttributionRun.period_start <= last_day)
        & (CsAttributionRun.period_end >= first_day)).execute()


def apply_plan(actor, plan, sha256, source=None, on_progress=None, label=None):
    """Write a plan without errors in one transaction (sub-accounts named for the first
    time created under their account). Returns the counts."""
    actor.require(CS_IMPORT, plan.company)
    if plan.errors:
        raise ServiceError(_("The file has errors; nothing was imported."))
    counts = plan.counts()
    progress = on_progress or (lambda n: None)
    now = utcnow()
    import_id = getattr(source, "id", None)
    kind = plan.connector.kind
    with database.atomic():
        if plan.new_sub_accounts:
            CsSubAccount.insert_many([{"account": a, "name": n, "created_at": now}
                                      for a, n in sorted(plan.new_sub_accounts)]).execute()
        subs = _sub_accounts({v["account"] for v in plan.creates}) if plan.creates else {}
        company_id = plan.company.id
        if kind == "conversations":
            model = CsConversation
            rows = [(company_id, v["account"], subs.get((v["account"], v.get("sub_account"))), v["session_id"],
                     v.get("customer_ref", ""), v["started_at"], v.get("first_reply_at"), v["ended_at"],
                     v.get("customer_messages", 0), v.get("agent_messages", 0), v.get("resolved"),
                     v.get("reopened", False), v.get("rating"), import_id, now) for v in plan.creates]
        elif kind == "logins":
            model = CsLoginSession
            rows = [(company_id, v["account"], subs.get((v["account"], v.get("sub_account"))), v["session_id"],
                     v["login_at"], v.get("logout_at"), v.get("address", ""), v.get("workstation", ""), import_id,
                     now) for v in plan.creates]
        else:
            model = CsMessage
            rows = [(v["conversation"], v["at"], v["sender"], subs.get((v["account"], v.get("sub_account"))),
                     import_id) for v in plan.creates]
        _insert_rows(model, rows, progress)
        counts["stale_runs"] = _mark_stale(plan.company, plan.first_day, plan.last_day)
        if plan.creates or plan.new_sub_accounts:
            record_event("cs.logs_imported", object_type="cs_import", object_id=import_id,
                         label=label or getattr(source, "original_name", None), unit=plan.company,
                         actor=actor.user, after={"sha256": sha256, "connector": plan.connector.code,
                                                  "kind": kind, "created": counts["create"],
                                                  "existing": counts["existing"],
                                                  "sub_accounts": counts["sub_accounts"]})
        if source is not None:
            mark_imported(source, counts)
    return counts


# --- the import's journey through the pages --------------------------------------------------------

def importable_companies(scope):
    return [(unit_id, label.strip()) for unit_id, label in unit_choices(scope, CS_IMPORT, kinds=("company",))]


def importable_accounts(actor, company=None):
    """Accounts of the companies where the actor may import (of `company` when given)."""
    query = CsAccount.select().where(actor.scope.condition(CsAccount.company, CS_IMPORT)
                                     & CsAccount.archived_at.is_null())
    if company is not None:
        query = query.where(CsAccount.company == company.id)
    return list(query.order_by(CsAccount.code))


def connector_choices():
    return [(c.code, str(c.label)) for c in sorted(REGISTRY.values(), key=lambda c: (c.platform == "*", c.code))]


def stored_path(cs_import):
    return upload_dir("cs-imports") / cs_import.stored_name


def upload_cs_import(actor, company, connector_code, filename, stream, account=None):
    """Store an uploaded export and check it reads as a table. Returns the CsImport."""
    actor.require(CS_IMPORT, company)
    conn = get_connector(connector_code)
    if account is not None and account.company_id != company.id:
        raise ServiceError(_("Choose an account of this company."), field="account")
    stored = store_upload(upload_dir("cs-imports"), filename, stream)
    mapping = {ACCOUNT_KEY: account.id} if account is not None else {}
    with database.atomic():
        return CsImport.create(company=company, connector=conn.code, kind=conn.kind, created_by=actor.user,
                               mapping=json.dumps(mapping), **stored)


def import_connector(cs_import):
    return get_connector(cs_import.connector)


def import_account(cs_import):
    """The account chosen on the upload form, if any."""
    account_id = json.loads(cs_import.mapping or "{}").get(ACCOUNT_KEY)
    return CsAccount.get_or_none(CsAccount.id == account_id) if account_id else None


def cs_import_headers(cs_import):
    return file_headers(stored_path(cs_import))


def current_mapping(cs_import):
    """The import's column mapping, or the one its column names suggest."""
    mapping = {k: v for k, v in json.loads(cs_import.mapping or "{}").items() if k != ACCOUNT_KEY}
    return mapping or suggest_mapping(import_connector(cs_import), cs_import_headers(cs_import))


def save_cs_mapping(actor, cs_import, mapping):
    actor.require(CS_IMPORT, cs_import.company)
    require_state(cs_import, "uploaded", "mapped", "validated", "failed")
    cleaned = check_mapping(import_connector(cs_import), cs_import_headers(cs_import), mapping)
    account_id = json.loads(cs_import.mapping or "{}").get(ACCOUNT_KEY)
    if account_id:
        cleaned[ACCOUNT_KEY] = account_id
    with database.atomic():
        CsImport.update(mapping=json.dumps(cleaned, ensure_ascii=False, sort_keys=True), state="mapped").where(
            CsImport.id == cs_import.id).execute()
    return CsImport.get_by_id(cs_import.id)


def plan_table(actor, company, conn, table, mapping, account=None, on_row=None):
    """Check the rows of a file (through `mapping` {field: header})."""
    mapping = check_mapping(conn, table.headers, mapping)
    return plan_records(actor, company, conn, mapped_rows(table, mapping), mapping, account, on_row)


def _planner(actor, cs_import):
    """plan(table, on_row): the check of a file against this import's company, format and mapping."""
    conn, account = import_connector(cs_import), import_account(cs_import)
    mapping = {k: v for k, v in json.loads(cs_import.mapping).items() if k != ACCOUNT_KEY}
    return lambda table, on_row: plan_table(actor, cs_import.company, conn, table, mapping, account, on_row)


def validate_cs_import(actor, cs_import):
    """Check the file against the data as it is now and keep the outcome for the preview."""
    actor.require(CS_IMPORT, cs_import.company)
    require_state(cs_import, "mapped", "validated", "failed")
    return check_stored(cs_import, stored_path(cs_import), _planner(actor, cs_import))


cs_import_summary = outcome_summary
cs_import_errors = outcome_errors


def start_cs_import(actor, cs_import):
    """Queue the import of a checked file without errors. Returns the Job."""
    actor.require(CS_IMPORT, cs_import.company)
    return queue_import(actor, cs_import, "cs.import")


def execute_cs_import(actor, cs_import, on_progress=None):
    """Check the file again and write it, whole or not at all. Returns the counts."""
    actor.require(CS_IMPORT, cs_import.company)
    return check_and_write(cs_import, stored_path(cs_import), _planner(actor, cs_import),
                           lambda plan: apply_plan(actor, plan, cs_import.sha256, source=cs_import),
                           on_progress)


@background_job("cs.import", _l("Import marketplace logs"))
def cs_import_job(progress, import_id, user_id):
    return run_import_job(execute_cs_import, CsImport.get_by_id(import_id), user_id, progress)


def recent_cs_imports(actor, limit=20):
    return recent_imports(CsImport, actor, CS_IMPORT, limit)


# --- the command line ------------------------------------------------------------------------------

def check_cs_file(actor, company, conn, path, mapping=None, account=None):
    """`flask cs import`: read and check the file (columns matched by name unless
    `mapping` is given). Returns (plan, sha256); `apply_plan` writes a plan without errors."""
    actor.require(CS_IMPORT, company)
    table = read_table(path)
    plan = plan_table(actor, company, conn, table, mapping or suggest_mapping(conn, table.headers), account)
    return plan, hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- the JSON API ----------------------------------------------------------------------------------

GENERIC = {"conversations": "generic_conversations", "messages": "generic_messages", "logins": "generic_logins"}


def push_records(actor, company, kind, records, label=None):
    """A pushed batch of records (dicts with the generic field names) of `kind`:
    checked like file rows, written whole or not at all. Returns (counts, errors)."""
    if not isinstance(records, list) or not records:
        raise ServiceError(_("Send a non-empty list of records."), field="records")
    if len(records) > MAX_API_RECORDS:
        raise ServiceError(_("Send at most %(n)s records per batch.", n=MAX_API_RECORDS), field="records")
    conn = connector_by_code(GENERIC[kind])
    rows = []
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise ServiceError(_("Record %(n)s is not an object.", n=number), field="records")
        rows.append((number, record))
    plan = plan_records(actor, company, conn, rows)
    if plan.errors:
        return plan.counts(), plan.errors
    body = json.dumps(records, sort_keys=True, ensure_ascii=False, default=str).encode()
    return apply_plan(actor, plan, hashlib.sha256(body).hexdigest(), label=label), []
