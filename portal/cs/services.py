"""CS set-up: the customer-service accounts of the stores, their sub-accounts (the
marketplaces' "waiter"), who holds a personal account or a sub-account over which
dates, and the IP addresses and workstations people work from.

Every write runs in one transaction with its audit event and checks the actor's
scope: accounts, sub-accounts and bindings need cs.manage on the account's store,
workstations cs.workstations where the person is. A change that alters what the
attribution engine would find (a binding, a workstation, an account's kind, split
rule or service hours) marks the attribution runs it touches stale, so the
recompute job (portal/cs/attribution.py) redoes them.

Dates of bindings and workstations are the company's local dates, inclusive; an
open end (None) means "until further notice".
"""
import datetime as dt
import ipaddress
import json
import re
from dataclasses import dataclass

import peewee as pw
from flask_babel import format_date, gettext as _, lazy_gettext as _l

from portal.core.audit import changes, declare_actions, record_event
from portal.core.db import database, is_sqlite, update_at_version, utcnow
from portal.core.errors import ServiceError
from portal.cs.models import (ACCOUNT_KINDS, SPLIT_RULES, WORKSTATION_KINDS, CsAccount, CsAccountBinding,
                              CsAttributionRun, CsSubAccount, CsSubAccountBinding, CsWorkstation)
from portal.cs.permissions import CS_MANAGE, CS_WORKSTATIONS
from portal.org.models import OrgUnit
from portal.people.assignments import require_person_in_scope
from portal.people.models import Employee
from portal.people.permissions import employee_condition
from portal.time.models import ShiftType
from portal.time.services import company_zone, local_day

ACCOUNT_FIELDS = ("store", "code", "name", "kind", "split_rule", "service_start_minute", "service_end_minute")
# What the attribution engine reads from an account: changing it redoes the company's runs.
ATTRIBUTION_FIELDS = ("kind", "split_rule", "service_start_minute", "service_end_minute")
BINDING_FIELDS = ("employee", "valid_from", "valid_to")
WORKSTATION_FIELDS = ("employee", "kind", "value", "label", "valid_from", "valid_to")
MAX_CODE, MAX_NAME, MAX_SUB_NAME, MAX_WORKSTATION, MAX_LABEL = 64, 120, 120, 64, 80
DAY = dt.timedelta(days=1)
# 09:00–24:00, 9:00-18:00, 20:00~02:00, 09：00 至 22：00
SERVICE_HOURS_RE = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*(?:[-–—~～]|至|到)\s*(\d{1,2})[:：](\d{2})\s*$")

declare_actions({
    "cs.account_created": _l("CS account created"),
    "cs.account_updated": _l("CS account edited"),
    "cs.account_archived": _l("CS account archived"),
    "cs.account_restored": _l("CS account restored"),
    "cs.account_bound": _l("Personal CS account bound to a person"),
    "cs.account_binding_ended": _l("Personal CS account binding ended"),
    "cs.sub_account_created": _l("Sub-account created"),
    "cs.sub_account_bound": _l("Sub-account bound to a person"),
    "cs.sub_account_binding_ended": _l("Sub-account binding ended"),
    "cs.workstation_registered": _l("Workstation or IP address registered"),
    "cs.workstation_ended": _l("Workstation or IP address no longer used"),
    "cs.workstation_removed": _l("Workstation or IP address removed"),
})


# --- service hours ------------------------------------------------------------------------------

def format_minute(minute):
    """Minutes after midnight as HH:MM (1440 is 24:00)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_service_hours(start_minute, end_minute):
    return f"{format_minute(start_minute)}–{format_minute(end_minute)}"


def parse_service_hours(text):
    """"HH:MM–HH:MM" → (start, end) in minutes after local midnight. 24:00 is allowed
    as the end (an end of 00:00 means the same); an end before the start runs past
    midnight (20:00–02:00); 00:00–24:00 is around the clock."""
    match = SERVICE_HOURS_RE.match(text or "")
    if match is None:
        raise ServiceError(_("Enter the service hours as HH:MM–HH:MM, such as 09:00–24:00."), field="service_hours")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ServiceError(_("Use times from 00:00 to 23:59 (24:00 as the end)."), field="service_hours")
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    return start, end or 1440


def _check_service_hours(start, end):
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < 1440 and 0 < end <= 1440):
        raise ServiceError(_("Use times from 00:00 to 23:59 (24:00 as the end)."), field="service_hours")
    if start == end:
        raise ServiceError(_("Service hours cannot end when they start: use 00:00–24:00 for around the clock."),
                           field="service_hours")


# --- helpers ------------------------------------------------------------------------------------

def company_today(company):
    """Today's local date in the company's time zone."""
    return local_day(company_zone(company), utcnow())


def _lock(model, row_id):
    """Serialise writes to one row's children (SQLite's BEGIN IMMEDIATE already does)."""
    if not is_sqlite():
        model.select(model.id).where(model.id == row_id).for_update().execute()


def _mark_stale(company_id, first_day=None, last_day=None):
    """The company's attribution runs over `first_day`…`last_day` (None: unbounded)
    are to be redone by the recompute job."""
    query = CsAttributionRun.update(stale=True).where(CsAttributionRun.company == company_id)
    if first_day is not None:
        query = query.where(CsAttributionRun.period_end >= first_day)
    if last_day is not None:
        query = query.where(CsAttributionRun.period_start <= last_day)
    return query.execute()


def span_text(valid_from, valid_to):
    """"from 1 Mar 2031", or "1 Mar 2031 to 31 Mar 2031" (in the reader's language)."""
    if valid_to is None:
        return _("from %(start)s", start=format_date(valid_from))
    return _("%(start)s to %(end)s", start=format_date(valid_from), end=format_date(valid_to))


def _check_dates(valid_from, valid_to):
    if not isinstance(valid_from, dt.date):
        raise ServiceError(_("Enter the first day."), field="valid_from")
    if valid_to is not None and valid_to < valid_from:
        raise ServiceError(_("The last day cannot come before the first day."), field="valid_to")


def _overlapping(model, owner_field, owner_id, valid_from, valid_to, exclude_id=None):
    """The first binding of the same owner (account or sub-account) whose dates meet
    `valid_from`…`valid_to`, or None."""
    query = (model.select(model, Employee).join(Employee)
             .where((owner_field == owner_id)
                    & (model.valid_to.is_null() | (model.valid_to >= valid_from))))
    if valid_to is not None:
        query = query.where(model.valid_from <= valid_to)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return query.order_by(model.valid_from).first()


def _refuse_overlap(model, owner_field, owner_id, valid_from, valid_to, exclude_id=None, field="valid_from"):
    other = _overlapping(model, owner_field, owner_id, valid_from, valid_to, exclude_id)
    if other is not None:
        raise ServiceError(_("%(name)s holds it %(span)s: one person at a time. End that binding first or choose "
                             "other dates.", name=other.employee.display_name,
                             span=span_text(other.valid_from, other.valid_to)), field=field)


def _binding_snapshot(binding):
    return changes(binding, BINDING_FIELDS)


# --- accounts -----------------------------------------------------------------------------------

def _check_store(actor, store):
    if store is None or store.kind != "store":
        raise ServiceError(_("Choose a store: an account belongs to a store on a marketplace."), field="store")
    if store.archived_at is not None:
        raise ServiceError(_("This store is archived."), field="store")
    actor.require(CS_MANAGE, store)


def _account_values(store, code, name, kind, split_rule, service_start_minute, service_end_minute, account_id=None):
    code = (code or "").strip()
    if not code or len(code) > MAX_CODE or not all(c.isalnum() or c in "-_." for c in code):
        raise ServiceError(_("Use up to %(max)d letters, digits, dots, dashes or underscores.", max=MAX_CODE),
                           field="code")
    taken = CsAccount.select().where((CsAccount.company == store.company_id) & (CsAccount.code == code)
                                     & (CsAccount.id != (account_id or 0)))
    if taken.exists():
        raise ServiceError(_("Another account of this company already uses this code."), field="code")
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise ServiceError(_("Enter a name of at most %(max)d characters.", max=MAX_NAME), field="name")
    if kind not in ACCOUNT_KINDS:
        raise ServiceError(_("Choose shared or personal."), field="kind")
    if split_rule not in SPLIT_RULES:
        raise ServiceError(_("Choose how a conversation is split."), field="split_rule")
    _check_service_hours(service_start_minute, service_end_minute)
    return {"store": store.id, "code": code, "name": name, "kind": kind, "split_rule": split_rule,
            "service_start_minute": service_start_minute, "service_end_minute": service_end_minute}


def create_cs_account(actor, store, code, name, kind="shared", split_rule="equal", service_start_minute=0,
                      service_end_minute=1440):
    """A new account of `store` (an org unit of kind store), in the store's company."""
    _check_store(actor, store)
    values = _account_values(store, code, name, kind, split_rule, service_start_minute, service_end_minute)
    with database.atomic():
        account = CsAccount.create(company=store.company_id, **values)
        record_event("cs.account_created", account, unit=store, actor=actor.user,
                     after=changes(account, ACCOUNT_FIELDS))
    return account


def _rename_in_shift_types(actor, company_id, old_code, new_code):
    """Shift types of the company staffing `old_code` staff `new_code` instead
    (each change audited as a shift type edit). Returns their codes."""
    renamed = []
    for shift_type in ShiftType.select().where(ShiftType.company == company_id):
        codes = json.loads(shift_type.cs_accounts or "[]")
        if old_code not in codes:
            continue
        after = json.dumps(sorted({new_code if code == old_code else code for code in codes}), ensure_ascii=False)
        ShiftType.update(cs_accounts=after, version=ShiftType.version + 1).where(
            ShiftType.id == shift_type.id).execute()
        record_event("time.shift_type_changed", shift_type, unit=company_id, actor=actor.user,
                     before={"cs_accounts": shift_type.cs_accounts}, after={"cs_accounts": after})
        renamed.append(shift_type.code)
    return renamed


def update_cs_account(actor, account, version, store, code, name, kind, split_rule, service_start_minute,
                      service_end_minute):
    """Edit an account; refused when someone saved it since `version`. The store may
    change within the company. A new code follows into the shift types staffing it."""
    actor.require(CS_MANAGE, OrgUnit.get_by_id(account.store_id))
    _check_store(actor, store)
    if store.company_id != account.company_id:
        raise ServiceError(_("An account stays in its company: choose one of its stores."), field="store")
    values = _account_values(store, code, name, kind, split_rule, service_start_minute, service_end_minute,
                             account.id)
    before = changes(account, ACCOUNT_FIELDS)
    with database.atomic():
        saved = update_at_version(CsAccount, account.id, version, values,
                                  _("Someone else changed this account meanwhile. Reload the page and try again."))
        after = changes(saved, ACCOUNT_FIELDS)
        if saved.code != before["code"]:
            after["shift_types"] = _rename_in_shift_types(actor, saved.company_id, before["code"], saved.code)
        if any(before[name] != after[name] for name in ATTRIBUTION_FIELDS):
            _mark_stale(saved.company_id)
        record_event("cs.account_updated", saved, unit=store, actor=actor.user, before=before, after=after)
    return saved


def _set_archived(actor, account, archived_at, action):
    store = OrgUnit.get_by_id(account.store_id)
    actor.require(CS_MANAGE, store)
    with database.atomic():
        CsAccount.update(archived_at=archived_at, version=CsAccount.version + 1).where(
            CsAccount.id == account.id).execute()
        record_event(action, account, unit=store, actor=actor.user)
    return CsAccount.get_by_id(account.id)


def archive_cs_account(actor, account):
    """Retire an account: its history (conversations, credits) stays; it is no
    longer offered to shift types and imports."""
    if account.archived_at is not None:
        raise ServiceError(_("This account is already archived."))
    return _set_archived(actor, account, utcnow(), "cs.account_archived")


def restore_cs_account(actor, account):
    if account.archived_at is None:
        raise ServiceError(_("This account is not archived."))
    return _set_archived(actor, account, None, "cs.account_restored")


# --- bindings: a personal account or a sub-account held by one person at a time ----------------

def _check_person(actor, employee, permission):
    if employee is None:
        raise ServiceError(_("Choose a person."), field="employee")
    require_person_in_scope(actor, employee, permission)


def _bind(actor, account, model, owner_field, owner, employee, valid_from, valid_to, action, label):
    store = OrgUnit.get_by_id(account.store_id)
    actor.require(CS_MANAGE, store)
    if account.archived_at is not None:
        raise ServiceError(_("This account is archived: restore it first."))
    _check_person(actor, employee, CS_MANAGE)
    _check_dates(valid_from, valid_to)
    with database.atomic():
        _lock(type(owner), owner.id)
        _refuse_overlap(model, owner_field, owner.id, valid_from, valid_to)
        binding = model.create(**{owner_field.name: owner.id}, employee=employee.id, valid_from=valid_from,
                               valid_to=valid_to, created_by=actor.user.id if actor.user else None)
        _mark_stale(account.company_id, valid_from, valid_to)
        record_event(action, binding, label=f"{label} · {employee.display_name}", unit=store, actor=actor.user,
                     after=_binding_snapshot(binding))
    return binding


def _end(actor, account, binding, owner_field, valid_to, action, label):
    store = OrgUnit.get_by_id(account.store_id)
    actor.require(CS_MANAGE, store)
    if not isinstance(valid_to, dt.date):
        raise ServiceError(_("Enter the last day."), field="valid_to")
    if valid_to < binding.valid_from:
        raise ServiceError(_("The last day cannot come before the first day (%(day)s).",
                             day=format_date(binding.valid_from)), field="valid_to")
    model = type(binding)
    owner_id = getattr(binding, f"{owner_field.name}_id")
    before = _binding_snapshot(binding)
    with database.atomic():
        _lock(owner_field.rel_model, owner_id)
        _refuse_overlap(model, owner_field, owner_id, binding.valid_from, valid_to, exclude_id=binding.id,
                        field="valid_to")
        model.update(valid_to=valid_to).where(model.id == binding.id).execute()
        saved = model.get_by_id(binding.id)
        old_end = binding.valid_to
        changed_from = min(valid_to, old_end) + DAY if old_end is not None else valid_to + DAY
        _mark_stale(account.company_id, changed_from, None if old_end is None else max(valid_to, old_end))
        record_event(action, saved, label=f"{label} · {saved.employee.display_name}", unit=store, actor=actor.user,
                     before=before, after=_binding_snapshot(saved))
    return saved


def bind_personal_account(actor, account, employee, valid_from, valid_to=None):
    """`employee` holds the personal `account` from `valid_from` to `valid_to`
    (inclusive; None: open-ended). One holder at a time: overlapping dates are refused."""
    if account.kind != "personal":
        raise ServiceError(_("Only a personal account is bound to a person; a shared one is staffed by the shifts "
                             "that list it."), field="employee")
    return _bind(actor, account, CsAccountBinding, CsAccountBinding.account, account, employee, valid_from, valid_to,
                 "cs.account_bound", account.code)


def end_account_binding(actor, binding, valid_to):
    """The holder keeps the personal account until `valid_to` (inclusive)."""
    account = CsAccount.get_by_id(binding.account_id)
    return _end(actor, account, binding, CsAccountBinding.account, valid_to, "cs.account_binding_ended",
                account.code)


def create_sub_account(actor, account, name):
    """A sub-account (waiter) of `account`, named exactly as the marketplace's exports name it."""
    store = OrgUnit.get_by_id(account.store_id)
    actor.require(CS_MANAGE, store)
    if account.archived_at is not None:
        raise ServiceError(_("This account is archived: restore it first."))
    name = (name or "").strip()
    if not name or len(name) > MAX_SUB_NAME:
        raise ServiceError(_("Enter a name of at most %(max)d characters.", max=MAX_SUB_NAME), field="name")
    if CsSubAccount.select().where((CsSubAccount.account == account.id) & (CsSubAccount.name == name)).exists():
        raise ServiceError(_("This account already has a sub-account with this name."), field="name")
    with database.atomic():
        sub_account = CsSubAccount.create(account=account.id, name=name)
        record_event("cs.sub_account_created", sub_account, unit=store, actor=actor.user,
                     after={"account": account.id, "name": name})
    return sub_account


def bind_sub_account(actor, sub_account, employee, valid_from, valid_to=None):
    """`employee` uses `sub_account` from `valid_from` to `valid_to` (inclusive; None:
    open-ended). One person at a time: overlapping dates are refused."""
    account = CsAccount.get_by_id(sub_account.account_id)
    return _bind(actor, account, CsSubAccountBinding, CsSubAccountBinding.sub_account, sub_account, employee,
                 valid_from, valid_to, "cs.sub_account_bound", sub_account.name)


def end_sub_account_binding(actor, binding, valid_to):
    sub_account = CsSubAccount.get_by_id(binding.sub_account_id)
    account = CsAccount.get_by_id(sub_account.account_id)
    return _end(actor, account, binding, CsSubAccountBinding.sub_account, valid_to, "cs.sub_account_binding_ended",
                sub_account.name)


# --- workstations ---------------------------------------------------------------------------------

def normalise_workstation(kind, value):
    """The value as it is stored and matched: an IP address in its canonical form
    (validated with `ipaddress`), or a workstation name without surrounding spaces."""
    value = (value or "").strip()
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ServiceError(_("Enter an IP address such as 10.8.21.20 or 2001:db8::1."), field="value") from None
    if kind != "workstation":
        raise ServiceError(_("Choose an IP address or a workstation name."), field="kind")
    if not value or len(value) > MAX_WORKSTATION or any(not c.isprintable() for c in value):
        raise ServiceError(_("Enter the workstation's name as the platform logs it (at most %(max)d characters).",
                             max=MAX_WORKSTATION), field="value")
    return value


def register_workstation(actor, employee, kind, value, label="", valid_from=None, valid_to=None):
    """`employee` works from an IP address or a named workstation from `valid_from`
    (by default today) to `valid_to` (None: until further notice), so that platform
    logins from it can be matched to them."""
    if employee is None:
        raise ServiceError(_("Choose a person."), field="employee")
    require_person_in_scope(actor, employee, CS_WORKSTATIONS)
    if kind not in WORKSTATION_KINDS:
        raise ServiceError(_("Choose an IP address or a workstation name."), field="kind")
    value = normalise_workstation(kind, value)
    label = " ".join((label or "").split())
    if len(label) > MAX_LABEL:
        raise ServiceError(_("Use at most %(max)d characters.", max=MAX_LABEL), field="label")
    company = OrgUnit.get_by_id(employee.company_id)
    valid_from = valid_from or company_today(company)
    _check_dates(valid_from, valid_to)
    with database.atomic():
        _lock(Employee, employee.id)
        twin = (CsWorkstation.select().where(
            (CsWorkstation.employee == employee.id) & (CsWorkstation.kind == kind) & (CsWorkstation.value == value)
            & (CsWorkstation.valid_to.is_null() | (CsWorkstation.valid_to >= valid_from))))
        if valid_to is not None:
            twin = twin.where(CsWorkstation.valid_from <= valid_to)
        if twin.exists():
            raise ServiceError(_("%(value)s is already registered for %(name)s over these dates.", value=value,
                                 name=employee.display_name), field="value")
        workstation = CsWorkstation.create(company=company.id, employee=employee.id, kind=kind, value=value,
                                           label=label, valid_from=valid_from, valid_to=valid_to,
                                           created_by=actor.user.id if actor.user else None)
        _mark_stale(company.id, valid_from, valid_to)
        record_event("cs.workstation_registered", workstation, label=f"{value} · {employee.display_name}",
                     unit=employee.unit_id, actor=actor.user, after=changes(workstation, WORKSTATION_FIELDS))
    return workstation


def remove_workstation(actor, workstation, today=None):
    """Stop matching logins from a workstation. One in use before today keeps its
    history (it ends yesterday, so past attribution stands); one that was never in
    use is deleted. Returns the row as kept, or None when deleted."""
    employee = Employee.get_by_id(workstation.employee_id)
    require_person_in_scope(actor, employee, CS_WORKSTATIONS)
    today = today or company_today(OrgUnit.get_by_id(workstation.company_id))
    before = changes(workstation, WORKSTATION_FIELDS)
    label = f"{workstation.value} · {employee.display_name}"
    with database.atomic():
        if workstation.valid_from < today:
            if workstation.valid_to is not None and workstation.valid_to < today:
                raise ServiceError(_("This registration has already ended."))
            CsWorkstation.update(valid_to=today - DAY).where(CsWorkstation.id == workstation.id).execute()
            kept = CsWorkstation.get_by_id(workstation.id)
            record_event("cs.workstation_ended", kept, label=label, unit=employee.unit_id, actor=actor.user,
                         before=before, after=changes(kept, WORKSTATION_FIELDS))
        else:
            CsWorkstation.delete().where(CsWorkstation.id == workstation.id).execute()
            kept = None
            record_event("cs.workstation_removed", workstation, label=label, unit=employee.unit_id,
                         actor=actor.user, before=before)
        _mark_stale(workstation.company_id, min(today, workstation.valid_from), workstation.valid_to)
    return kept


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountFilters:
    company_id: int | None = None
    store_id: int | None = None
    platform: str = ""
    kind: str = ""
    q: str = ""
    archived: bool = False


def list_cs_accounts(scope, permission, filters, page=1, per_page=50):
    """Accounts whose store is in scope matching `filters` (archived ones only when
    asked for), by company, store and code; each with `store` and `company` joined and
    `sub_accounts` counted. Returns (rows, has_next)."""
    store, company = OrgUnit.alias("store"), OrgUnit.alias("company")
    subs = (CsSubAccount.select(CsSubAccount.account, pw.fn.COUNT(CsSubAccount.id).alias("n"))
            .group_by(CsSubAccount.account).alias("subs"))
    query = (CsAccount.select(CsAccount, store, company, pw.fn.COALESCE(subs.c.n, 0).alias("sub_accounts"))
             .join(store, on=(CsAccount.store == store.id)).switch(CsAccount)
             .join(company, on=(CsAccount.company == company.id), attr="company_unit").switch(CsAccount)
             .join(subs, pw.JOIN.LEFT_OUTER, on=(subs.c.account_id == CsAccount.id))
             .where(scope.condition(CsAccount.store, permission)))
    query = query.where(CsAccount.archived_at.is_null(False) if filters.archived else CsAccount.archived_at.is_null())
    if filters.company_id:
        query = query.where(CsAccount.company == filters.company_id)
    if filters.store_id:
        query = query.where(CsAccount.store == filters.store_id)
    if filters.platform:
        query = query.where(store.platform == filters.platform)
    if filters.kind:
        query = query.where(CsAccount.kind == filters.kind)
    if filters.q:
        query = query.where(CsAccount.code.contains(filters.q) | CsAccount.name.contains(filters.q))
    rows = list(query.order_by(company.name, store.name, CsAccount.code).paginate(page, per_page + 1))
    rows, has_next = rows[:per_page], len(rows) > per_page
    holders = current_holders([row.id for row in rows if row.kind == "personal"])
    sub_holders = current_sub_account_holders([row.id for row in rows if row.sub_accounts])
    for row in rows:
        row.holder = holders.get(row.id)
        row.sub_holders = sub_holders.get(row.id, [])
    return rows, has_next


def current_holders(account_ids, today=None):
    """{account id: Employee} of the personal accounts' holders today."""
    if not account_ids:
        return {}
    today = today or dt.date.today()
    rows = (CsAccountBinding.select(CsAccountBinding, Employee).join(Employee)
            .where(CsAccountBinding.account.in_(account_ids) & (CsAccountBinding.valid_from <= today)
                   & (CsAccountBinding.valid_to.is_null() | (CsAccountBinding.valid_to >= today))))
    return {row.account_id: row.employee for row in rows}


def current_sub_account_holders(account_ids, today=None):
    """{account id: [Employee]} of the people using the accounts' sub-accounts today, by name."""
    if not account_ids:
        return {}
    today = today or dt.date.today()
    rows = (CsSubAccountBinding.select(CsSubAccountBinding, CsSubAccount, Employee)
            .join(CsSubAccount).switch(CsSubAccountBinding).join(Employee)
            .where(CsSubAccount.account.in_(account_ids) & (CsSubAccountBinding.valid_from <= today)
                   & (CsSubAccountBinding.valid_to.is_null() | (CsSubAccountBinding.valid_to >= today)))
            .order_by(Employee.legal_name, Employee.id))
    found = {}
    for row in rows:
        found.setdefault(row.sub_account.account_id, []).append(row.employee)
    return found


def account_bindings(account):
    """The personal account's bindings, newest first, each with `employee`."""
    return list(CsAccountBinding.select(CsAccountBinding, Employee).join(Employee)
                .where(CsAccountBinding.account == account.id)
                .order_by(CsAccountBinding.valid_from.desc()))


def sub_accounts_of(account):
    """The account's sub-accounts by name, each with `binding_rows` (newest first, with `employee`)."""
    subs = list(CsSubAccount.select().where(CsSubAccount.account == account.id).order_by(CsSubAccount.name))
    found = {}
    for row in (CsSubAccountBinding.select(CsSubAccountBinding, Employee).join(Employee)
                .where(CsSubAccountBinding.sub_account.in_([s.id for s in subs] or [0]))
                .order_by(CsSubAccountBinding.valid_from.desc())):
        found.setdefault(row.sub_account_id, []).append(row)
    for sub in subs:
        sub.binding_rows = found.get(sub.id, [])
    return subs


def shift_types_staffing(account):
    """The company's shift types (archived ones too) whose CS accounts list the account's code."""
    rows = ShiftType.select().where(ShiftType.company == account.company_id).order_by(
        ShiftType.archived_at.is_null(False), ShiftType.start_minute, ShiftType.code)
    return [row for row in rows if account.code in json.loads(row.cs_accounts or "[]")]


def account_code_choices(company_id, keep=()):
    """(code, label) of the company's active accounts, and of the archived or unknown
    codes in `keep` (those a shift type already names), for the shift type form."""
    rows = list(CsAccount.select(CsAccount.code, CsAccount.name, CsAccount.archived_at)
                .where(CsAccount.company == company_id).order_by(CsAccount.code).tuples())
    known = {code: (name, archived_at) for code, name, archived_at in rows}
    choices = [(code, f"{code} · {name}") for code, (name, archived_at) in known.items() if archived_at is None]
    for code in keep:
        if code in known and known[code][1] is not None:
            choices.append((code, _("%(code)s · %(name)s (archived)", code=code, name=known[code][0])))
        elif code not in known:
            choices.append((code, _("%(code)s (no such account)", code=code)))
    return choices


def unknown_account_codes(company_id, codes, allowed=()):
    """The codes in `codes` that name no active account of the company (those in
    `allowed`, archived accounts a shift type already lists, are let through)."""
    active = {code for (code,) in CsAccount.select(CsAccount.code).where(
        (CsAccount.company == company_id) & CsAccount.archived_at.is_null()).tuples()}
    archived = {code for (code,) in CsAccount.select(CsAccount.code).where(
        (CsAccount.company == company_id) & CsAccount.archived_at.is_null(False)).tuples()}
    return [code for code in codes if code not in active and not (code in archived and code in allowed)]


def store_choices(scope, permission, company_id=None):
    """(id, label) of the active stores where `permission` holds (of one company
    when `company_id` is given), with their company."""
    company = OrgUnit.alias("company")
    query = (OrgUnit.select(OrgUnit.id, OrgUnit.name, company.name)
             .join(company, on=(OrgUnit.company == company.id))
             .where((OrgUnit.kind == "store") & OrgUnit.archived_at.is_null() & scope.unit_condition(permission)))
    if company_id is not None:
        query = query.where(OrgUnit.company == company_id)
    rows = query.order_by(company.name, OrgUnit.name).tuples()
    return [(store_id, f"{name} · {company_name}") for store_id, name, company_name in rows]


def filter_company_choices(scope, permission):
    """(id, name) of the companies that have a store where `permission` holds."""
    stores = OrgUnit.select(OrgUnit.company).where((OrgUnit.kind == "store") & scope.unit_condition(permission))
    return list(OrgUnit.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(stores))
                .order_by(OrgUnit.name).tuples())


def find_person(scope, permission, number):
    """The person with employee number `number` in scope, or None."""
    number = (number or "").strip()
    if not number:
        return None
    return Employee.select().where((Employee.number == number) & employee_condition(scope, permission)).first()


def person_suggestions(store, limit=200):
    """(number, name) of the people holding a current post in the store or below, for
    the person fields' suggestion lists."""
    from portal.people.models import Assignment

    today = dt.date.today()
    units = OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(store.path))
    return list(Employee.select(Employee.number, Employee.legal_name).distinct()
                .join(Assignment, on=(Assignment.employee == Employee.id))
                .where(Assignment.unit.in_(units) & (Assignment.start_date <= today)
                       & (Assignment.end_date.is_null() | (Assignment.end_date >= today))
                       & (Employee.status != "left"))
                .order_by(Employee.legal_name).limit(limit).tuples())


def people_in_scope_suggestions(scope, permission, limit=200):
    """(number, name) of people in scope who have not left, for the person field's
    suggestion list where no store narrows it (the workstations page)."""
    return list(Employee.select(Employee.number, Employee.legal_name)
                .where(employee_condition(scope, permission) & (Employee.status != "left"))
                .order_by(Employee.legal_name).limit(limit).tuples())


@dataclass(frozen=True)
class WorkstationFilters:
    q: str = ""
    ended: bool = False


def list_workstations(scope, permission, filters, page=1, per_page=50, today=None):
    """Registered workstations of the people in scope, by person and value (ended
    ones only when asked for), each with `employee` and `local_today`, today in its
    company's time zone (what "ended" is measured against, as remove_workstation
    does). Returns (rows, has_next)."""
    query = (CsWorkstation.select(CsWorkstation, Employee).join(Employee)
             .where(employee_condition(scope, permission)))
    todays = {company_id: today or company_today(OrgUnit.get_by_id(company_id))
              for (company_id,) in query.select(CsWorkstation.company).distinct().tuples()}
    if not filters.ended and todays:
        current = None
        for company_id, local_today in todays.items():
            term = (CsWorkstation.company == company_id) & (CsWorkstation.valid_to >= local_today)
            current = term if current is None else current | term
        query = query.where(CsWorkstation.valid_to.is_null() | current)
    if filters.q:
        query = query.where(Employee.legal_name.contains(filters.q) | (Employee.number == filters.q)
                            | CsWorkstation.value.contains(filters.q) | CsWorkstation.label.contains(filters.q))
    rows = list(query.order_by(Employee.legal_name, Employee.id, CsWorkstation.kind, CsWorkstation.value)
                .paginate(page, per_page + 1))
    for row in rows:
        row.local_today = todays[row.company_id]
    return rows[:per_page], len(rows) > per_page


def workstations_of(employee):
    """A person's registered workstations, current and coming first, then ended ones."""
    return list(CsWorkstation.select().where(CsWorkstation.employee == employee.id)
                .order_by(CsWorkstation.valid_to.is_null(False), CsWorkstation.valid_to.desc(),
                          CsWorkstation.kind, CsWorkstation.value))
