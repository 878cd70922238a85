"""Employee records: people, their sensitive fields, contracts, documents and
training; the employee list and its search; self-service.

Who may do what, beyond the view's `@require`:
- see a person: `people.view` through their employing company or any current
  or coming assignment (people.permissions.employee_condition);
- change the record, its contracts, documents and training, reveal a
  sensitive value or see pay: the permission on the units that own the record
  — the employing company or the person's home unit — not merely on a unit
  where they hold a secondary post.
"""
import datetime as dt
import functools
import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import peewee as pw
from babel import Locale
from babel.numbers import list_currencies
from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l

from portal.accounts.models import Grant, RolePermission, User
from portal.approvals.services import declare_notifications, notify
from portal.audit.models import AuditEvent
from portal.core.audit import changes, record_event
from portal.core.crypto import DecryptionError, associated_data, cipher, mask_value, normalise_identifier
from portal.core.db import database, is_sqlite, update_at_version, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.jobs import background_job, daily_job
from portal.core.money import to_decimal, to_minor_units
from portal.core.permissions import Actor
from portal.org.models import OrgUnit
from portal.org.services import effective_settings
from portal.people import documents as storage
from portal.people.models import (
    CONTRACT_TYPES, DOCUMENT_CATEGORIES, EMPLOYEE_STATUSES, TRAINING_RESULTS, Assignment, Contract, Document,
    Employee, EmployeeSkill, TrainingRecord,
)
from portal.people.permissions import (
    PEOPLE_MANAGE, PEOPLE_VIEW, PEOPLE_VIEW_SENSITIVE, employee_condition, held_or_posted_in, one_of,
)
from portal.posts.models import Post, PostSkill, Skill
from portal.posts.permissions import POSTS_VIEW

CONTACT_FIELDS = ("email", "phone", "address", "emergency_contact_name", "emergency_contact_relation",
                  "emergency_contact_phone")
PROFILE_FIELDS = ("number", "legal_name", "preferred_name", "hire_date", "status", "leaving_date", "leaving_reason",
                  "nationality") + CONTACT_FIELDS
SENSITIVE_FIELDS = ("national_id", "bank_account")
CONTRACT_FIELDS = ("contract_type", "start_date", "end_date", "probation_end", "weekly_hours", "currency", "notes")
TRAINING_FIELDS = ("course", "provider", "completed_on", "hours", "result", "score")
REMINDER_DAYS = 30
ISO_CURRENCIES = frozenset(list_currencies())
NUMBER_RE = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,31}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_RE = re.compile(r"[0-9+()./ -]{3,40}")
COUNTRY_CODES = frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())

declare_notifications({
    "people.contract_expiring": _l("The contract of %(name)s ends on %(date)s."),
})


# --- rights on a record --------------------------------------------------------

def holds_on_record(scope, permission, employee):
    """Whether `permission` holds on a unit that owns `employee`'s record."""
    return scope.allows(permission, employee.company) or scope.allows(permission, employee.unit)


def _require_on_record(actor, permission, employee):
    if not holds_on_record(actor.scope, permission, employee):
        raise NotInScope(permission)


def employer_choices(scope):
    """(id, name) of the companies where the user may add people."""
    query = (OrgUnit.select(OrgUnit.id, OrgUnit.name)
             .where(scope.unit_condition(PEOPLE_MANAGE) & (OrgUnit.kind == "company") & OrgUnit.archived_at.is_null())
             .order_by(OrgUnit.path))
    return list(query.tuples())


# --- values shared with the importer ---------------------------------------------

def normalise_number(text):
    """An employee number as stored: trimmed and upper-cased."""
    return (text or "").strip().upper()


def search_text_for(number, legal_name, preferred_name="", email=""):
    """What the active search matches: number, names and email, lower-cased."""
    return " ".join(part for part in (number, legal_name, preferred_name, email) if part).lower()[:400]


def sensitive_columns(company_id, row_id, national_id=None, bank_account=None):
    """The stored form of a person's national ID and bank account: AES-GCM
    ciphertexts bound to the row and company, and the national ID's blind index.
    Empty values are stored as NULL. For bulk writers, which know the row id."""
    field_cipher = cipher()
    national_id = (national_id or "").strip()
    bank_account = (bank_account or "").strip()
    return {
        "national_id": field_cipher.encrypt(national_id, associated_data("employee", "national_id", row_id,
                                                                         company_id)) if national_id else None,
        "national_id_index": field_cipher.blind_index(company_id, national_id) if national_id else None,
        "bank_account": field_cipher.encrypt(bank_account, associated_data("employee", "bank_account", row_id,
                                                                           company_id)) if bank_account else None,
    }


def read_sensitive(employee, field):
    """The plaintext of a sensitive field ('' when empty); DecryptionError when it cannot be read."""
    token = getattr(employee, field)
    if not token:
        return ""
    return cipher().decrypt(token, associated_data("employee", field, employee.id, employee.company_id))


def masked_sensitive(employee):
    """{field: "****1234", "" when empty, None when the value cannot be decrypted}."""
    masked = {}
    for field in SENSITIVE_FIELDS:
        try:
            masked[field] = mask_value(read_sensitive(employee, field))
        except DecryptionError:
            masked[field] = None
    return masked


# --- validation ----------------------------------------------------------------------

def _text(values, name, max_length, required=False, message=None):
    value = (values.get(name) or "").strip()
    if required and not value:
        raise ServiceError(message or _("This field is required."), field=name)
    if len(value) > max_length:
        raise ServiceError(_("Use at most %(max)d characters.", max=max_length), field=name)
    return value


CONTACT_LIMITS = {"email": 254, "phone": 40, "address": 500, "emergency_contact_name": 120,
                  "emergency_contact_relation": 60, "emergency_contact_phone": 40}


def _clean_contact(values, names=CONTACT_FIELDS):
    """The contact fields among `names`, trimmed and checked."""
    cleaned = {name: _text(values, name, CONTACT_LIMITS[name]) for name in names}
    if cleaned.get("email"):
        cleaned["email"] = cleaned["email"].lower()
        if not EMAIL_RE.fullmatch(cleaned["email"]):
            raise ServiceError(_("Enter an email address such as name@example.com."), field="email")
    for name in ("phone", "emergency_contact_phone"):
        if cleaned.get(name) and not PHONE_RE.fullmatch(cleaned[name]):
            raise ServiceError(_("Use digits, spaces and + ( ) - . / only."), field=name)
    return cleaned


def _check_number(number, employee_id=None):
    number = normalise_number(number)
    if not NUMBER_RE.fullmatch(number):
        raise ServiceError(_("Use up to 32 letters, digits, dots, dashes, slashes or underscores."), field="number")
    if Employee.select().where((Employee.number == number) & (Employee.id != (employee_id or 0))).exists():
        raise ServiceError(_("Another person in the group already has this number."), field="number")
    return number


def _clean_profile(values, employee_id=None):
    cleaned = {
        "number": _check_number(values.get("number"), employee_id),
        "legal_name": _text(values, "legal_name", 120, required=True, message=_("Enter the legal name.")),
        "preferred_name": _text(values, "preferred_name", 120),
        "leaving_reason": _text(values, "leaving_reason", 1000),
        "nationality": _text(values, "nationality", 2).upper(),
        **_clean_contact(values),
    }
    if cleaned["nationality"] and cleaned["nationality"] not in COUNTRY_CODES:
        raise ServiceError(_("Choose a country from the list."), field="nationality")
    hire_date, leaving_date = values.get("hire_date"), values.get("leaving_date")
    status = values.get("status") or "active"
    if not isinstance(hire_date, dt.date):
        raise ServiceError(_("Enter the hire date."), field="hire_date")
    if status not in EMPLOYEE_STATUSES:
        raise ServiceError(_("Choose a status from the list."), field="status")
    if status == "left" and not leaving_date:
        raise ServiceError(_("Enter the leaving date of a person who has left."), field="leaving_date")
    if leaving_date and leaving_date < hire_date:
        raise ServiceError(_("The leaving date cannot be before the hire date."), field="leaving_date")
    cleaned.update(hire_date=hire_date, status=status, leaving_date=leaving_date or None)
    return cleaned


def _check_user(actor, username, employee_id=None):
    """The login account to link to a record (for self-service), by username."""
    username = (username or "").strip().lower()
    if not username:
        return None
    user = User.get_or_none(User.username == username)
    if user is None or not actor.scope.allows("users.view", user.unit):
        raise ServiceError(_("No user account with this username in your scope."), field="username")
    if Employee.select().where((Employee.user == user.id) & (Employee.id != (employee_id or 0))).exists():
        raise ServiceError(_("This account already belongs to another person."), field="username")
    return user


def _snapshot(employee):
    snapshot = changes(employee, PROFILE_FIELDS)
    snapshot.update(company=employee.company_id, unit=employee.unit_id, user=employee.user_id)
    # Whether each sensitive value is set, never the value (the trail masks these keys too).
    snapshot.update({field: "set" if getattr(employee, field) else "" for field in SENSITIVE_FIELDS})
    return snapshot


# --- employees -------------------------------------------------------------------------

def create_employee(actor, company, values):
    """Add a person employed by `company`. `values`: the profile fields (see
    PROFILE_FIELDS), optionally national_id, bank_account and username."""
    actor.require(PEOPLE_MANAGE, company)
    if company.kind != "company" or company.is_archived:
        raise ServiceError(_("Choose an active company."), field="company")
    cleaned = _clean_profile(values)
    user = _check_user(actor, values.get("username"))
    now = utcnow()
    try:
        with database.atomic():
            employee = Employee.create(
                company=company, unit=company, user=user, created_at=now, updated_at=now,
                search_text=search_text_for(cleaned["number"], cleaned["legal_name"], cleaned["preferred_name"],
                                            cleaned["email"]),
                **cleaned)
            encrypted = sensitive_columns(company.id, employee.id, values.get("national_id"),
                                          values.get("bank_account"))
            if any(encrypted.values()):
                Employee.update(**encrypted).where(Employee.id == employee.id).execute()
                employee = Employee.get_by_id(employee.id)
            record_event("people.employee_created", employee, label=employee.legal_name, unit=company,
                         actor=actor.user, after=_snapshot(employee))
    except pw.IntegrityError:  # a number taken between the check and the insert
        raise ServiceError(_("Another person in the group already has this number."), field="number") from None
    return employee


def update_employee(actor, employee, version, values, company=None):
    """Edit a person's record (optimistic `version`). A new employing `company`
    re-encrypts the sensitive fields, whose associated data names the company."""
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    company = company or employee.company
    if company.id != employee.company_id:
        actor.require(PEOPLE_MANAGE, company)
        if company.kind != "company" or company.is_archived:
            raise ServiceError(_("Choose an active company."), field="company")
    cleaned = _clean_profile(values, employee.id)
    user = _check_user(actor, values.get("username"), employee.id)
    before = _snapshot(employee)
    updates = dict(cleaned, user=user, updated_at=utcnow(),
                   search_text=search_text_for(cleaned["number"], cleaned["legal_name"], cleaned["preferred_name"],
                                               cleaned["email"]))
    if company.id != employee.company_id:
        try:
            plaintexts = {field: read_sensitive(employee, field) for field in SENSITIVE_FIELDS}
        except DecryptionError:
            raise ServiceError(_("The stored national ID or bank account cannot be read, so it cannot move to "
                                 "another company. Ask an administrator to check the keys."), field="company") from None
        updates.update(company=company, **sensitive_columns(company.id, employee.id, **plaintexts))
        if employee.unit_id == employee.company_id:  # no primary post yet: the company is the home unit
            updates["unit"] = company
    with database.atomic():
        employee = update_at_version(
            Employee, employee.id, version, updates,
            _("Someone else changed this record meanwhile. Reload the page and try again."))
        record_event("people.employee_updated", employee, label=employee.legal_name, unit=employee.company,
                     actor=actor.user, before=before, after=_snapshot(employee))
    return employee


def change_sensitive(actor, employee, field, value):
    """Set (or, with an empty value, clear) the national ID or bank account.
    Audited with the value masked."""
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    if field not in SENSITIVE_FIELDS:
        raise ServiceError(_("Choose a field from the list."), field="field")
    value = (value or "").strip()
    if len(value) > 64:
        raise ServiceError(_("Use at most %(max)d characters.", max=64), field="value")
    if value and len(normalise_identifier(value)) < 4:
        raise ServiceError(_("Enter the whole number."), field="value")
    current = sensitive_columns(employee.company_id, employee.id, **{field: value})
    updates = {field: current[field], "updated_at": utcnow(), "version": Employee.version + 1}
    if field == "national_id":
        updates["national_id_index"] = current["national_id_index"]
    try:
        before = mask_value(read_sensitive(employee, field))
    except DecryptionError:
        before = "?"
    with database.atomic():
        Employee.update(**updates).where(Employee.id == employee.id).execute()
        # The trail masks these keys again; the field's name is what it keeps.
        record_event("people.sensitive_changed", employee, label=employee.legal_name, unit=employee.company,
                     actor=actor.user, before={field: before}, after={field: mask_value(value)})
    return Employee.get_by_id(employee.id)


def reveal_sensitive(actor, employee, field):
    """The plaintext of one sensitive field, for a holder of people.view_sensitive
    on the record. Audited, naming the field and never the value."""
    _require_on_record(actor, PEOPLE_VIEW_SENSITIVE, employee)
    if field not in SENSITIVE_FIELDS:
        raise ServiceError(_("Choose a field from the list."), field="field")
    try:
        value = read_sensitive(employee, field)
    except DecryptionError:
        raise ServiceError(_("The stored value cannot be read. Ask an administrator to check the keys.")) from None
    with database.atomic():
        record_event("people.sensitive_revealed", employee, label=employee.legal_name, unit=employee.company,
                     actor=actor.user, after={"field": field})
    return value


def contact_fields():
    """The fields an employee may ask to change through a contact-change request."""
    return CONTACT_FIELDS


def apply_contact_change(actor, employee, values):
    """Write approved contact details (a subset of contact_fields()) to the record.

    Called by the approval engine on final approval of a "people.contact_change"
    request: the approval is the authority, so no further permission is asked."""
    unknown = set(values) - set(CONTACT_FIELDS)
    if unknown:
        raise ServiceError(_("These details cannot be changed by request: %(fields)s",
                             fields=", ".join(sorted(unknown))))
    cleaned = _clean_contact(values, [name for name in CONTACT_FIELDS if name in values])
    before = {name: getattr(employee, name) for name in cleaned}
    with database.atomic():
        Employee.update(updated_at=utcnow(), version=Employee.version + 1,
                        search_text=search_text_for(employee.number, employee.legal_name, employee.preferred_name,
                                                    cleaned.get("email", employee.email)),
                        **cleaned).where(Employee.id == employee.id).execute()
        record_event("people.contact_changed", employee, label=employee.legal_name, unit=employee.company,
                     actor=actor.user, before=before, after=cleaned)
    return Employee.get_by_id(employee.id)


def employee_of_user(user):
    """The record linked to a login account (self-service), or None."""
    return Employee.get_or_none(Employee.user == user.id)


# --- key rotation --------------------------------------------------------------------------

def _under_old_keys():
    """People with a sensitive value encrypted under a key other than the current one."""
    prefix = cipher().current_key_id + "$"
    # SUBSTR, not LIKE: key ids compare exactly (SQLite's LIKE ignores case).
    return functools.reduce(lambda a, b: a | b, (
        getattr(Employee, field).is_null(False) & (pw.fn.SUBSTR(getattr(Employee, field), 1, len(prefix)) != prefix)
        for field in SENSITIVE_FIELDS))


def people_to_rotate():
    """How many people `rotate_field_keys` has to re-encrypt."""
    return Employee.select().where(_under_old_keys()).count()


def rotate_field_keys(batch_size=500, on_progress=None):
    """Re-encrypt every sensitive value not under FIELD_KEY_CURRENT, one batch per
    transaction: values under the old keys stay readable meanwhile. Returns counts;
    audited once. `on_progress(done, total)` follows each batch."""
    field_cipher = cipher()
    stale = _under_old_keys()
    total = Employee.select().where(stale).count()
    last_id, done, values_rotated, unreadable = 0, 0, 0, 0
    while True:
        batch = list(Employee.select(Employee.id, Employee.company, *(getattr(Employee, f) for f in SENSITIVE_FIELDS))
                     .where(stale & (Employee.id > last_id)).order_by(Employee.id).limit(batch_size))
        if not batch:
            break
        with database.atomic():
            for employee in batch:
                updates = {}
                for field in SENSITIVE_FIELDS:
                    token = getattr(employee, field)
                    if token and not field_cipher.is_current(token):
                        aad = associated_data("employee", field, employee.id, employee.company_id)
                        try:
                            updates[field] = field_cipher.encrypt(field_cipher.decrypt(token, aad), aad)
                        except DecryptionError:  # counted and left as it is: one bad value must not stop the rest
                            unreadable += 1
                if updates:
                    Employee.update(**updates).where(Employee.id == employee.id).execute()
                values_rotated += len(updates)
        last_id, done = batch[-1].id, done + len(batch)
        if on_progress:
            on_progress(done, total)
    counts = {"people": done, "values": values_rotated, "unreadable": unreadable,
              "key_id": field_cipher.current_key_id}
    with database.atomic():
        record_event("people.keys_rotated", object_type="employee", label=_("Field encryption keys"), after=counts)
    return counts


# --- the employee list -------------------------------------------------------------------

# The company before the id in name orders: the rows come in the order of the
# (…, legal_name, company_id …) indexes, which hold what the scope test (and, for
# names, the search) needs: rows that fail are skipped without being read.
SORT_COLUMNS = {
    "name": (Employee.legal_name, Employee.company),
    "number": (Employee.number,),
    "hire_date": (Employee.hire_date,),
    "status": (Employee.status, Employee.legal_name, Employee.company),
}


@dataclass(frozen=True)
class EmployeeFilters:
    """What the employee list shows: the same for the page and its exports."""

    q: str = ""
    unit_id: int | None = None
    status: str = ""
    post_id: int | None = None
    skill_id: int | None = None
    sort: str = "name"
    descending: bool = False

    def query_args(self):
        """The filters as URL query arguments (defaults left out), for links."""
        args = {"q": self.q, "unit": self.unit_id, "status": self.status, "post": self.post_id,
                "skill": self.skill_id, "sort": self.sort if self.sort != "name" else None,
                "dir": "desc" if self.descending else None}
        return {key: value for key, value in args.items() if value not in (None, "")}


def _int_arg(args, name):
    try:
        value = int(args.get(name) or 0)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def parse_employee_filters(args):
    """EmployeeFilters from request arguments (q, unit, status, post, skill, sort, dir); bad values are ignored."""
    status = args.get("status") or ""
    sort = args.get("sort") or "name"
    return EmployeeFilters(
        q=(args.get("q") or "").strip()[:100],
        unit_id=_int_arg(args, "unit"),
        status=status if status in EMPLOYEE_STATUSES else "",
        post_id=_int_arg(args, "post"),
        skill_id=_int_arg(args, "skill"),
        sort=sort if sort in SORT_COLUMNS else "name",
        descending=args.get("dir") == "desc",
    )


def looks_like_identifier(text):
    """A query that may be a national ID: mostly digits, long enough to be one."""
    normalised = normalise_identifier(text)
    return 6 <= len(normalised) <= 32 and sum(ch.isdigit() for ch in normalised) >= 4


def _contains(field, text):
    """`field` contains `text`: a plain substring test (no LIKE wildcards to escape),
    cheaper than LIKE on a full scan."""
    return pw.fn.instr(field, text) > 0 if is_sqlite() else pw.fn.strpos(field, text) > 0


def _holding(today):
    """Assignments current or coming on `today` (as the scope counts them)."""
    return Assignment.end_date.is_null() | (Assignment.end_date >= today)


def _companies_in_scope(scope, permission):
    rows = (OrgUnit.select(OrgUnit.company).distinct()
            .where(scope.unit_condition(permission) & OrgUnit.company.is_null(False)).tuples())
    return [company_id for (company_id,) in rows]


# A search matching at most this many people is run as the list of their ids: the
# query then starts from them instead of reading the whole table in list order.
SEARCH_IDS_LIMIT = 5000


def _ids(query):
    """The ids a query selects, as plain ints from the cursor (peewee's row
    conversion would double the cost of a few thousand rows)."""
    return [pk for (pk,) in database.execute(query).fetchall()]


def _search_condition(scope, text):
    """People whose number, names or email contain `text`, or (when it looks like
    one) whose national ID is `text`, through each company's blind index."""
    condition = _contains(Employee.search_text, text.lower())
    # A rare text is found fastest by one scan of the name index (which holds the
    # search text), a common one by reading the list in order until a page is full.
    ids = _ids(Employee.select(Employee.id).where(condition).limit(SEARCH_IDS_LIMIT + 1))
    if looks_like_identifier(text):
        field_cipher = cipher()
        indexes = [field_cipher.blind_index(company_id, text) for company_id in _companies_in_scope(scope, PEOPLE_VIEW)]
        if indexes:
            by_national_id = Employee.national_id_index.in_(indexes)
            ids += _ids(Employee.select(Employee.id).where(by_national_id))
            condition |= by_national_id
    return one_of(Employee.id, sorted(set(ids))) if len(ids) <= SEARCH_IDS_LIMIT else condition


CompanyUnit = OrgUnit.alias("company_unit")
HomeUnit = OrgUnit.alias("home_unit")
LIST_COLUMNS = (Employee.id, Employee.number, Employee.legal_name, Employee.preferred_name, Employee.status,
                Employee.hire_date, Employee.leaving_date, Employee.email, Employee.phone, Employee.company,
                Employee.unit)


def employee_query(scope, filters, today=None):
    """The people in scope matching `filters`, in the chosen order (unpaginated).
    `row.company` and `row.unit` carry the units' names. The page and the exports both use it."""
    today = today or dt.date.today()
    query = (Employee.select(*LIST_COLUMNS, CompanyUnit.id, CompanyUnit.name, HomeUnit.id, HomeUnit.name)
             .join(CompanyUnit, on=(CompanyUnit.id == Employee.company))
             .switch(Employee).join(HomeUnit, on=(HomeUnit.id == Employee.unit))
             .where(employee_condition(scope, PEOPLE_VIEW, today)))
    if filters.q:
        query = query.where(_search_condition(scope, filters.q))
    if filters.status:
        query = query.where(Employee.status == filters.status)
    if filters.unit_id:  # people of the subtree, and people holding a post there
        unit = OrgUnit.get_or_none(OrgUnit.id == filters.unit_id)
        subtree = [pk for (pk,) in OrgUnit.select(OrgUnit.id).where(
            OrgUnit.path.startswith(unit.path) if unit else pw.SQL("1 = 0")).tuples()]
        query = query.where(held_or_posted_in(Employee.unit, subtree, subtree, today))
    if filters.post_id:
        query = query.where(Employee.id.in_(
            Assignment.select(Assignment.employee).where((Assignment.post == filters.post_id) & _holding(today))))
    if filters.skill_id:
        query = query.where(Employee.id.in_(
            EmployeeSkill.select(EmployeeSkill.employee).where(EmployeeSkill.skill == filters.skill_id)))
    order = SORT_COLUMNS[filters.sort] + (Employee.id,)
    return query.order_by(*(column.desc() if filters.descending else column for column in order))


def list_employees(scope, filters, page=1, per_page=50, today=None):
    """One page of `employee_query`; returns (rows, has_next): no COUNT over the whole list."""
    rows = list(employee_query(scope, filters, today).offset((page - 1) * per_page).limit(per_page + 1))
    return rows[:per_page], len(rows) > per_page


def primary_posts(employee_ids, today=None):
    """{employee id: title of the primary post held on `today`} for a page of people."""
    if not employee_ids:
        return {}
    today = today or dt.date.today()
    rows = (Assignment.select(Assignment.employee, Post.title).join(Post)
            .where(Assignment.employee.in_(employee_ids) & Assignment.is_primary & (Assignment.start_date <= today)
                   & _holding(today)).tuples())
    return dict(rows)


def contracts_ending_soon(employee_ids, today=None):
    """Ids of the people among `employee_ids` whose contract ends within REMINDER_DAYS."""
    if not employee_ids:
        return set()
    today = today or dt.date.today()
    rows = (Contract.select(Contract.employee).distinct()
            .where(Contract.employee.in_(employee_ids)
                   & Contract.end_date.between(today, today + dt.timedelta(days=REMINDER_DAYS))).tuples())
    return {employee_id for (employee_id,) in rows}


def post_choices(scope):
    """(id, label) of the active posts of companies in scope, for the list's filter."""
    rows = (Post.select(Post.id, Post.code, Post.title).join(OrgUnit, on=(OrgUnit.id == Post.company))
            .where(scope.condition(Post.company, POSTS_VIEW) & Post.archived_at.is_null())
            .order_by(OrgUnit.path, Post.title).tuples())
    return [(post_id, f"{title} ({code})") for post_id, code, title in rows]


# --- the profile ------------------------------------------------------------------------

def photo_of(employee):
    """The person's newest photo, or None."""
    return (Document.select()
            .where((Document.employee == employee.id) & (Document.category == "photo") & Document.archived_at.is_null())
            .order_by(Document.uploaded_at.desc(), Document.id.desc()).first())


def assignments_of(employee):
    """The person's assignments, newest first, with post and unit."""
    return list(Assignment.select(Assignment, Post, OrgUnit).join(Post).switch(Assignment).join(OrgUnit)
                .where(Assignment.employee == employee.id)
                .order_by(Assignment.is_primary.desc(), Assignment.start_date.desc()))


def post_skills_of(employee):
    """{post id: [(skill name, level)]} of the skills the person's posts require."""
    rows = (PostSkill.select(PostSkill.post, Skill.name, PostSkill.level).join(Skill)
            .where(PostSkill.post.in_(Assignment.select(Assignment.post).where(Assignment.employee == employee.id)))
            .order_by(Skill.name).tuples())
    skills = {}
    for post_id, name, level in rows:
        skills.setdefault(post_id, []).append((name, level))
    return skills


def contracts_of(employee):
    return list(Contract.select().where(Contract.employee == employee.id).order_by(Contract.start_date.desc()))


def documents_of(employee):
    return list(Document.select().where((Document.employee == employee.id) & Document.archived_at.is_null())
                .order_by(Document.uploaded_at.desc(), Document.id.desc()))


def training_of(employee):
    return list(TrainingRecord.select(TrainingRecord, Document)
                .join(Document, pw.JOIN.LEFT_OUTER, on=(Document.id == TrainingRecord.certificate))
                .where(TrainingRecord.employee == employee.id)
                .order_by(TrainingRecord.completed_on.desc(), TrainingRecord.id.desc()))


def history_of(employee, page=1, per_page=50):
    """Audit events about the person and their contracts, documents, training and
    assignments, newest first; returns (rows, has_next)."""
    related = {"employee": [employee.id]}
    for model, object_type in ((Contract, "contract"), (Document, "document"), (TrainingRecord, "training_record"),
                               (Assignment, "assignment")):
        related[object_type] = [pk for (pk,) in model.select(model.id).where(model.employee == employee.id).tuples()]
    condition = functools.reduce(lambda a, b: a | b, (
        (AuditEvent.object_type == object_type) & AuditEvent.object_id.in_([str(pk) for pk in ids])
        for object_type, ids in related.items() if ids))
    rows = list(AuditEvent.select().where(condition).order_by(AuditEvent.id.desc())
                .offset((page - 1) * per_page).limit(per_page + 1))
    return rows[:per_page], len(rows) > per_page


def ends_soon(contract, today=None):
    today = today or dt.date.today()
    return contract.end_date is not None and today <= contract.end_date <= today + dt.timedelta(days=REMINDER_DAYS)


# --- contracts --------------------------------------------------------------------------

def _clean_contract(values, employee):
    contract_type = values.get("contract_type")
    if contract_type not in CONTRACT_TYPES:
        raise ServiceError(_("Choose a contract type from the list."), field="contract_type")
    start, end, probation_end = values.get("start_date"), values.get("end_date"), values.get("probation_end")
    if not isinstance(start, dt.date):
        raise ServiceError(_("Enter the start date."), field="start_date")
    if end and end <= start:
        raise ServiceError(_("The end date must be after the start date."), field="end_date")
    if probation_end and (probation_end < start or (end and probation_end > end)):
        raise ServiceError(_("The probation must end within the contract."), field="probation_end")
    try:
        hours = Decimal(str(values.get("weekly_hours") if values.get("weekly_hours") is not None else ""))
    except InvalidOperation:
        hours = None
    if hours is None or not 0 < hours <= 80 or hours != hours.quantize(Decimal("0.01")):
        raise ServiceError(_("Enter the weekly hours, more than 0 and at most 80."), field="weekly_hours")
    currency = (values.get("currency") or effective_settings(employee.company)["currency"] or "").strip().upper()
    if currency not in ISO_CURRENCIES:
        raise ServiceError(_("Enter an ISO 4217 currency code, such as CNY or EUR."), field="currency")
    try:
        pay = to_minor_units(values.get("base_pay") or 0, currency)
    except (ValueError, InvalidOperation):
        raise ServiceError(_("Enter an amount with at most the currency's decimals."), field="base_pay") from None
    if pay < 0:
        raise ServiceError(_("The pay cannot be negative."), field="base_pay")
    return {"contract_type": contract_type, "start_date": start, "end_date": end or None,
            "probation_end": probation_end or None, "weekly_hours": hours, "base_pay_minor": pay,
            "currency": currency, "notes": _text(values, "notes", 2000)}


def _contract_snapshot(contract):
    snapshot = changes(contract, CONTRACT_FIELDS)
    snapshot["salary"] = contract.base_pay_minor  # pay stays out of the trail in clear (audit masks "salary")
    return snapshot


def default_currency(employee):
    return effective_settings(employee.company)["currency"]


def create_contract(actor, employee, values):
    """Add a contract. `values`: contract_type, start_date, end_date, probation_end,
    weekly_hours, base_pay (Decimal in the currency's units), currency, notes."""
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    cleaned = _clean_contract(values, employee)
    with database.atomic():
        contract = Contract.create(employee=employee, **cleaned)
        record_event("people.contract_created", contract, label=employee.legal_name, unit=employee.company,
                     actor=actor.user, after=_contract_snapshot(contract))
    return contract


def update_contract(actor, contract, version, values):
    employee = contract.employee
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    cleaned = _clean_contract(values, employee)
    before = _contract_snapshot(contract)
    if cleaned["end_date"] != contract.end_date:
        cleaned["expiry_reminded_at"] = None  # a new end date deserves its own reminder
    with database.atomic():
        contract = update_at_version(
            Contract, contract.id, version, cleaned,
            _("Someone else changed this contract meanwhile. Reload the page and try again."))
        record_event("people.contract_updated", contract, label=employee.legal_name, unit=employee.company,
                     actor=actor.user, before=before, after=_contract_snapshot(contract))
    return contract


def contract_pay(contract):
    """Base pay as a Decimal in the contract's currency (for forms)."""
    return to_decimal(contract.base_pay_minor, contract.currency)


def _people_managers(company):
    """Active users holding people.manage on `company` (on it, or above it with descendants)."""
    ancestors = [int(part) for part in company.path.strip("/").split("/") if part]
    rows = (Grant.select(Grant.user).distinct()
            .join(RolePermission, on=(RolePermission.role == Grant.role))
            .switch(Grant).join(User, on=(User.id == Grant.user))
            .where((RolePermission.permission == PEOPLE_MANAGE) & User.is_active
                   & ((Grant.unit == company.id) | (Grant.unit.in_(ancestors) & Grant.include_descendants)))
            .tuples())
    return [user_id for (user_id,) in rows]


def _path_for(endpoint, **values):
    """A site-relative URL outside a request (jobs, CLI)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def send_contract_reminders(actor, today=None):
    """Notify the people managers of each person's company about contracts
    ending within REMINDER_DAYS, once per contract. Returns how many were reminded."""
    today = today or dt.date.today()
    due = list(Contract.select(Contract, Employee).join(Employee)
               .where(Contract.end_date.between(today, today + dt.timedelta(days=REMINDER_DAYS))
                      & Contract.expiry_reminded_at.is_null() & (Employee.status != "left"))
               .where(actor.scope.condition(Employee.company, PEOPLE_MANAGE))
               .order_by(Contract.end_date))
    managers = {}
    with database.atomic():
        for contract in due:
            employee = contract.employee
            if employee.company_id not in managers:
                managers[employee.company_id] = _people_managers(employee.company)
            notify(managers[employee.company_id], "people.contract_expiring",
                   {"name": employee.display_name, "date": contract.end_date.isoformat()},
                   link=_path_for("people.contracts", employee_id=employee.id))
            Contract.update(expiry_reminded_at=utcnow()).where(Contract.id == contract.id).execute()
        if due:
            record_event("people.contract_reminders_sent", object_type="contract", label=_("Contract reminders"),
                         actor=actor.user, after={"contracts": [c.id for c in due]})
    return len(due)


@background_job("people.contract_reminders", _l("Remind HR of contracts ending soon"))
def contract_reminders_job(progress):
    reminded = send_contract_reminders(Actor.system())
    progress.update(reminded, reminded, force=True)
    return {"reminded": reminded}


# Contracts fall due with the date: the worker reminds every morning (Asia/Shanghai 08:00).
daily_contract_reminders = daily_job("people.contract_reminders", hour=0, minute=0)


# --- documents ----------------------------------------------------------------------------

class DocumentTooLarge(ServiceError):
    """The file is over MAX_DOCUMENT_BYTES (answered 413)."""


def _check_upload(data, filename, category):
    if len(data) > current_app.config["MAX_DOCUMENT_BYTES"]:
        raise DocumentTooLarge(_("The file is larger than %(size)s MB.",
                             size=current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024)), field="file")
    if not data:
        raise ServiceError(_("Choose a file."), field="file")
    content_type = storage.detect_content_type(data)
    if content_type is None:
        raise ServiceError(_("This kind of file is not accepted. Upload a PDF, an image (PNG, JPEG, WEBP, GIF), "
                             "a Word or Excel file (DOCX, XLSX) or plain text."), field="file")
    if not storage.matches_name(filename, content_type):
        raise ServiceError(_("The file's content does not match its name."), field="file")
    if category == "photo" and content_type not in storage.IMAGE_TYPES:
        raise ServiceError(_("A photo must be a PNG, JPEG, WEBP or GIF image."), field="file")
    return content_type


@contextmanager
def _atomic_with_files():
    """A transaction that also owns the files written in it: if it fails, they
    are removed. Yields the list `_store_document` records its files in."""
    written = []
    try:
        with database.atomic():
            yield written
    except BaseException:
        for stored_name in written:
            storage.remove_file(stored_name)
        raise


def _store_document(actor, employee, data, filename, title, category, written):
    """Write the file, then its row and audit event (in the caller's
    `_atomic_with_files` transaction, which removes the file if it fails)."""
    if category not in DOCUMENT_CATEGORIES:
        raise ServiceError(_("Choose a category from the list."), field="category")
    content_type = _check_upload(data, filename, category)
    original_name = storage.sanitise_filename(filename)
    title = (title or "").strip()[:200] or original_name
    stored_name, digest = storage.write_file(data)
    written.append(stored_name)
    document = Document.create(employee=employee, category=category, title=title, original_name=original_name,
                               stored_name=stored_name, content_type=content_type, size=len(data), sha256=digest,
                               uploaded_by=actor.user)
    record_event("people.document_uploaded", document, label=f"{employee.legal_name}: {title}",
                 unit=employee.company, actor=actor.user,
                 after={"category": category, "title": title, "original_name": original_name,
                        "content_type": content_type, "size": len(data), "sha256": digest})
    return document


def add_document(actor, employee, data, filename, title="", category="other"):
    """Keep a file (bytes) for a person: size limit, type detected from the
    bytes, stored under a generated name. Returns the Document."""
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    with _atomic_with_files() as written:
        return _store_document(actor, employee, data, filename, title, category, written)


def archive_document(actor, document):
    """Remove a document from the person's file: the row stays for the history,
    the stored bytes are deleted."""
    employee = document.employee
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    if document.archived_at is not None:
        return document
    with database.atomic():
        Document.update(archived_at=utcnow()).where(Document.id == document.id).execute()
        record_event("people.document_archived", document, label=f"{employee.legal_name}: {document.title}",
                     unit=employee.company, actor=actor.user, before={"title": document.title})
    storage.remove_file(document.stored_name)
    return Document.get_by_id(document.id)


def document_file(document):
    """The path of a document's stored bytes."""
    return storage.stored_path(document.stored_name)


def load_document(actor, document_id):
    """A document the actor may download: in their people.view scope, or their own."""
    own = Employee.select(Employee.id).where(Employee.user == actor.user.id)
    in_scope = Employee.select(Employee.id).where(employee_condition(actor.scope, PEOPLE_VIEW))
    document = (Document.select()
                .where((Document.id == document_id) & Document.archived_at.is_null()
                       & (Document.employee.in_(own) | Document.employee.in_(in_scope)))
                .first())
    if document is None:
        raise NotInScope("document")
    return document


# --- training --------------------------------------------------------------------------

def _clean_training(values):
    if values.get("result") not in TRAINING_RESULTS:
        raise ServiceError(_("Choose a result from the list."), field="result")
    completed_on = values.get("completed_on")
    if not isinstance(completed_on, dt.date):
        raise ServiceError(_("Enter the date of the training."), field="completed_on")
    try:
        hours = Decimal(str(values.get("hours") if values.get("hours") is not None else 0))
    except InvalidOperation:
        hours = None
    if hours is None or not 0 <= hours <= 9999 or hours != hours.quantize(Decimal("0.01")):
        raise ServiceError(_("Enter the hours, from 0 to 9999."), field="hours")
    return {"course": _text(values, "course", 200, required=True, message=_("Enter the course.")),
            "provider": _text(values, "provider", 120), "completed_on": completed_on, "hours": hours,
            "result": values["result"], "score": _text(values, "score", 20)}


def record_training(actor, employee, values, certificate=None):
    """Add a training record; `certificate` is an optional (bytes, filename) kept as a Document."""
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    cleaned = _clean_training(values)
    with _atomic_with_files() as written:
        if certificate is not None:
            cleaned["certificate"] = _store_document(actor, employee, *certificate, cleaned["course"], "certificate",
                                                     written)
        record = TrainingRecord.create(employee=employee, **cleaned)
        record_event("people.training_recorded", record, label=f"{employee.legal_name}: {record.course}",
                     unit=employee.company, actor=actor.user, after=changes(record, TRAINING_FIELDS))
    return record


def update_training(actor, record, values, certificate=None):
    employee = record.employee
    _require_on_record(actor, PEOPLE_MANAGE, employee)
    cleaned = _clean_training(values)
    before = changes(record, TRAINING_FIELDS)
    with _atomic_with_files() as written:
        if certificate is not None:
            cleaned["certificate"] = _store_document(actor, employee, *certificate, cleaned["course"], "certificate",
                                                     written)
        TrainingRecord.update(**cleaned).where(TrainingRecord.id == record.id).execute()
        record = TrainingRecord.get_by_id(record.id)
        record_event("people.training_updated", record, label=f"{employee.legal_name}: {record.course}",
                     unit=employee.company, actor=actor.user, before=before, after=changes(record, TRAINING_FIELDS))
    return record
