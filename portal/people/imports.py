"""Importing employees, posts and assignments from CSV or XLSX files.

The way through, for the web pages and `flask people import` alike:
`upload_import` stores the file (its type told from its bytes) and reads its header row;
`save_mapping` records which column feeds which field, and remembers it for the company and kind;
`validate_import` reads every row and plans the import — rows to create, to update and to leave
alone, and every bad row with its column and reason — writing nothing; `start_import` queues the
background job that runs `execute_import`: the same plan made again (the data may have moved since
the preview) and written in ONE transaction, so a file imports whole or not at all.

Rows are matched by natural key — employee number; post code within the company; employee number,
post code, unit code and start date — so importing the same file again changes nothing and records
nothing. An empty cell in an optional column leaves the stored value alone. A changed row is audited
once per person (before/after, sensitive values masked); created rows are audited in bulk, by one
"people.imported" event per file with the counts and the file's SHA-256.
"""
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import peewee as pw
from flask_babel import format_date, gettext as _, lazy_gettext as _l

from portal.core.audit import declare_actions, record_event
from portal.core.crypto import DecryptionError, cipher, normalise_identifier
from portal.core.db import database, utcnow
from portal.core.errors import ServiceError
from portal.core.tabular import (  # noqa: F401 (read_table, Table… are this module's API too)
    MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, ImportField, RowError, Table, CellError, cell_text, declare_row_errors,
    decode_text, detect_format, header_key, integer, mapped_rows, parse_date, read_table, text,
)
from portal.core.import_runs import (
    check_and_write, check_stored, file_headers, mark_imported, outcome_errors, outcome_summary, queue_import,
    require_state, run_import_job, store_upload, upload_dir,
)
from portal.core.import_runs import recent_imports as recent_import_rows
from portal.core.jobs import background_job
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.people.assignments import (
    Overload, ProposedAssignment, capacity_message, capacity_violations, primary_message, primary_violations,
    sync_home_units,
)
from portal.people.models import IMPORT_KINDS, Assignment, Employee, ImportMapping, PeopleImport
from portal.people.permissions import PEOPLE_IMPORT, employee_condition
from portal.people.services import (
    CONTACT_LIMITS, COUNTRY_CODES, EMAIL_RE, NUMBER_RE, PHONE_RE, normalise_number, read_sensitive,
    search_text_for, sensitive_columns,
)
from portal.posts.models import Post

WRITE_CHUNK_ROWS = 500  # rows per INSERT / bulk UPDATE: under SQLite's bound-parameter limit
LOOKUP_CHUNK = 900  # values per IN (…) when looking up existing rows

KIND_LABELS = {
    "employees": _l("Employees"),
    "posts": _l("Posts"),
    "assignments": _l("Assignments (posts held)"),
}
STATE_LABELS = {
    "uploaded": _l("Uploaded"),
    "validated": _l("Checked"),
    "importing": _l("Importing"),
    "imported": _l("Imported"),
    "failed": _l("Failed"),
}

declare_actions({
    "people.import_mapping_saved": _l("Import column mapping saved"),
    "people.assignments_imported": _l("Posts held changed by an import"),
    "posts.post_imported": _l("Post changed by an import"),
})


# --- reasons a row is refused -----------------------------------------------------------------------

declare_row_errors({
    "bad_status": _l("Unknown status “%(value)s”: use probation, active, on leave or left."),
    "bad_yes_no": _l("Write yes or no, not “%(value)s”."),
    "bad_code": _l("“%(value)s”: use up to 32 letters, digits, dots, dashes or underscores."),
    "bad_number": _l("“%(value)s”: use up to 32 letters, digits, dots, dashes, slashes or underscores."),
    "bad_email": _l("“%(value)s” is not an e-mail address."),
    "bad_phone": _l("“%(value)s”: use digits, spaces and + ( ) - . / only."),
    "bad_country": _l("Use a two-letter country code such as CN or DE, not “%(value)s”."),
    "bad_identifier": _l("Enter the whole number."),
    "company_mismatch": _l("The file is imported into %(company)s, but this row names the company “%(value)s”."),
    "number_elsewhere": _l("Employee number %(value)s belongs to a person of another company."),
    "leaving_before_hire": _l("The leaving date is before the hire date."),
    "leaving_date_needed": _l("A person who has left needs a leaving date."),
    "unknown_employee": _l("There is no employee with number “%(value)s” that you may import for."),
    "unknown_post": _l("%(company)s has no post with code “%(value)s”."),
    "unknown_unit": _l("%(company)s has no unit with code “%(value)s”."),
    "end_before_start": _l("The end date is before the start date."),
    "starts_after_leaving": lambda params: _("The person leaves on %(date)s, before this starts.",
                                             date=format_date(dt.date.fromisoformat(params["date"]))),
    # The assignment rules' own messages (portal.people.assignments), in the reader's language.
    "capacity": lambda params: capacity_message(_overload(params)),
    "primary": lambda params: primary_message(_overload(params)),
})


def _overload_params(overload):
    return {"day": overload.day.isoformat(), "total": overload.total, "held": [list(h) for h in overload.held]}


def _overload(params):
    return Overload(0, None, dt.date.fromisoformat(params["day"]), params["total"],
                    [tuple(h) for h in params["held"]])


# --- reading cells (the shared parsers are in core.tabular) --------------------------------------------

def parse_share(value):
    """A capacity share in percent: 60, "60%", or Excel's percentage cell 0.6."""
    if isinstance(value, float) and 0 < value < 1:
        value = round(value * 100, 6)
    raw = cell_text(value).rstrip("%").strip()
    return integer(1, 100)(raw)


YES = {"1", "y", "yes", "true", "x", "是", "主", "主岗", "ja", "はい"}
NO = {"0", "n", "no", "false", "否", "兼", "兼岗", "nein", "いいえ"}


def parse_yes_no(value):
    raw = cell_text(value)
    if raw.lower() in YES:
        return True
    if raw.lower() in NO:
        return False
    raise CellError("bad_yes_no", value=raw)


STATUS_WORDS = {
    "probation": ("probation", "试用", "试用期", "試用", "probezeit"),
    "active": ("active", "在职", "在職", "正式", "aktiv"),
    "on_leave": ("on_leave", "on leave", "leave", "休假", "停薪留职", "beurlaubt"),
    "left": ("left", "离职", "離職", "已离职", "ausgeschieden"),
}
_STATUS_BY_WORD = {word: status for status, words in STATUS_WORDS.items() for word in words}


def parse_status(value):
    raw = cell_text(value)
    try:
        return _STATUS_BY_WORD[raw.lower()]
    except KeyError:
        raise CellError("bad_status", value=raw) from None


def parse_code(value):
    """A post or unit code: letters, digits, dots, dashes and underscores, upper-cased."""
    raw = cell_text(value).upper()
    if len(raw) > 32 or not all(c.isalnum() or c in "-_." for c in raw):
        raise CellError("bad_code", value=raw)
    return raw


def parse_number(value):
    """An employee number, as the employee records store it."""
    raw = normalise_number(cell_text(value))
    if not NUMBER_RE.fullmatch(raw):
        raise CellError("bad_number", value=raw)
    return raw


def parse_email(value):
    raw = text(CONTACT_LIMITS["email"])(value).lower()
    if not EMAIL_RE.fullmatch(raw):
        raise CellError("bad_email", value=raw)
    return raw


def phone(max_length):
    def parse(value):
        raw = text(max_length)(value)
        if not PHONE_RE.fullmatch(raw):
            raise CellError("bad_phone", value=raw)
        return raw

    return parse


def parse_country(value):
    raw = cell_text(value).upper()
    if raw not in COUNTRY_CODES:
        raise CellError("bad_country", value=raw)
    return raw


def parse_identifier(value):
    """A national ID or bank account number: the whole of it, not a masked tail."""
    raw = text(64)(value)
    if len(normalise_identifier(raw)) < 4:
        raise CellError("bad_identifier")
    return raw


# --- what each kind of file carries -----------------------------------------------------------------


COMPANY_FIELD = ImportField("company", _l("Company code"), text(32, upper=True),
                            aliases=("company code", "公司", "公司代码", "公司编号", "所属公司", "firma"))
KIND_FIELDS = {
    "employees": (
        ImportField("number", _l("Employee number"), parse_number, True,
                    ("employee number", "employee no", "emp no", "staff number", "工号", "员工编号", "员工工号",
                     "编号", "personalnummer")),
        ImportField("legal_name", _l("Legal name"), text(120), True,
                    ("legal name", "name", "full name", "姓名", "员工姓名", "法定姓名", "name, vorname")),
        ImportField("preferred_name", _l("Preferred name"), text(120),
                    aliases=("preferred name", "nickname", "常用名", "英文名", "昵称", "rufname")),
        COMPANY_FIELD,
        ImportField("hire_date", _l("Hire date"), parse_date, True,
                    ("hire date", "hired on", "start date", "入职日期", "入职时间", "eintrittsdatum")),
        ImportField("status", _l("Status"), parse_status, aliases=("状态", "员工状态", "在职状态")),
        ImportField("leaving_date", _l("Leaving date"), parse_date,
                    aliases=("leaving date", "left on", "离职日期", "离职时间", "austrittsdatum")),
        ImportField("leaving_reason", _l("Leaving reason"), text(1000),
                    aliases=("leaving reason", "离职原因", "austrittsgrund")),
        ImportField("email", _l("E-mail"), parse_email, aliases=("email", "e mail", "邮箱", "电子邮箱", "邮件")),
        ImportField("phone", _l("Phone"), phone(CONTACT_LIMITS["phone"]),
                    aliases=("phone", "mobile", "telephone", "电话", "手机", "手机号", "联系电话", "telefon")),
        ImportField("address", _l("Address"), text(CONTACT_LIMITS["address"]),
                    aliases=("address", "地址", "住址", "家庭住址", "adresse")),
        ImportField("emergency_contact_name", _l("Emergency contact"), text(CONTACT_LIMITS["emergency_contact_name"]),
                    aliases=("emergency contact", "紧急联系人", "notfallkontakt")),
        ImportField("emergency_contact_relation", _l("Emergency contact's relation"),
                    text(CONTACT_LIMITS["emergency_contact_relation"]),
                    aliases=("relation", "紧急联系人关系", "与紧急联系人关系")),
        ImportField("emergency_contact_phone", _l("Emergency contact's phone"),
                    phone(CONTACT_LIMITS["emergency_contact_phone"]),
                    aliases=("emergency phone", "紧急联系人电话", "紧急联系电话")),
        ImportField("nationality", _l("Nationality"), parse_country, aliases=("国籍", "staatsangehörigkeit")),
        ImportField("national_id", _l("National ID"), parse_identifier,
                    aliases=("national id", "id number", "身份证号", "身份证号码", "身份证", "证件号码", "证件号")),
        ImportField("bank_account", _l("Bank account"), parse_identifier,
                    aliases=("bank account", "iban", "银行账号", "银行卡号", "工资卡号", "bankverbindung")),
    ),
    "posts": (
        COMPANY_FIELD,
        ImportField("code", _l("Post code"), parse_code, True,
                    ("post code", "岗位代码", "岗位编码", "岗位编号", "stellencode")),
        ImportField("title", _l("Title"), text(120), True,
                    ("post title", "post", "岗位名称", "岗位", "职位", "stellenbezeichnung")),
        ImportField("duties", _l("Duties"), text(10_000),
                    aliases=("job description", "岗位职责", "职责", "工作职责", "aufgaben")),
        ImportField("growth_path", _l("Growth path"), text(10_000),
                    aliases=("growth path", "career path", "发展路径", "晋升路径", "职业发展")),
        ImportField("headcount_plan", _l("Headcount plan"), integer(0, 100_000),
                    aliases=("headcount", "headcount plan", "编制", "编制人数", "计划人数")),
        ImportField("capacity", _l("Capacity (%)"), parse_share,
                    aliases=("capacity", "默认占比", "产能", "占用比例")),
    ),
    "assignments": (
        ImportField("number", _l("Employee number"), parse_number, True,
                    ("employee number", "employee no", "emp no", "工号", "员工编号", "编号", "personalnummer")),
        COMPANY_FIELD,
        ImportField("post", _l("Post code"), parse_code, True,
                    ("post code", "岗位代码", "岗位编码", "岗位编号", "stellencode")),
        ImportField("unit", _l("Unit code"), parse_code, True,
                    ("unit code", "team code", "单位代码", "部门代码", "组织代码", "团队代码", "班组代码")),
        ImportField("share", _l("Share (%)"), parse_share,
                    aliases=("share", "占比", "工作量占比", "比例", "anteil")),
        ImportField("start_date", _l("Start date"), parse_date, True,
                    ("start date", "from", "开始日期", "生效日期", "起始日期", "beginn")),
        ImportField("end_date", _l("End date"), parse_date,
                    aliases=("end date", "until", "结束日期", "截止日期", "ende")),
        ImportField("is_primary", _l("Primary post"), parse_yes_no,
                    aliases=("primary", "primary post", "主岗", "是否主岗", "hauptstelle")),
    ),
}


def kind_fields(kind):
    return KIND_FIELDS[kind]



def suggest_mapping(company, kind, headers):
    """{field: header}: the company's remembered mapping for this kind where the file
    has those columns, and otherwise columns whose name says which field they are."""
    remembered = ImportMapping.get_or_none((ImportMapping.company == company) & (ImportMapping.kind == kind))
    saved = json.loads(remembered.mapping) if remembered else {}
    by_key = {header_key(h): h for h in headers}
    mapping, used = {}, set()
    for import_field in kind_fields(kind):
        header = saved.get(import_field.name)
        if header not in headers or header in used:
            keys = (import_field.name, header_key(import_field.name), *map(header_key, import_field.aliases))
            header = next((by_key[k] for k in keys if k in by_key and by_key[k] not in used), None)
        if header is not None:
            mapping[import_field.name] = header
            used.add(header)
    return mapping


def check_mapping(kind, headers, mapping):
    """The mapping cleaned ({field: header}, unmapped fields left out); ServiceError
    when a required field has no column or one column feeds two fields."""
    known = {f.name for f in kind_fields(kind)}
    cleaned = {name: header for name, header in mapping.items() if name in known and header}
    for name, header in cleaned.items():
        if header not in headers:
            raise ServiceError(_("The file has no column “%(column)s”.", column=header), field=name)
    seen = {}
    for name, header in cleaned.items():
        if header in seen:
            raise ServiceError(_("The column “%(column)s” is chosen for two fields.", column=header), field=name)
        seen[header] = name
    for import_field in kind_fields(kind):
        if import_field.required and import_field.name not in cleaned:
            raise ServiceError(_("Choose the column that holds this field."), field=import_field.name)
    return cleaned



# --- planning: every row checked, nothing written ---------------------------------------------------

@dataclass
class Change:
    """An existing row a file changes: `before`/`after` hold only the changed fields."""

    row: int
    id: object
    label: str
    before: dict
    after: dict
    person_id: int = None  # for an assignment: whose it is


@dataclass
class ImportPlan:
    kind: str
    company: object
    columns: dict  # field → the file's header, for naming columns in errors
    row_count: int = 0
    errors: list = field(default_factory=list)
    creates: list = field(default_factory=list)  # (row number, values)
    changes: list = field(default_factory=list)  # Change
    unchanged: int = 0
    on_row: object = lambda count: None  # told the number of rows read, every PROGRESS_EVERY rows

    def refuse(self, at_row, field_name, code, **params):
        """Report a bad row, naming the file's column (or, for a field the file lacks, the field)."""
        column = self.columns.get(field_name) or str(next(
            f.label for f in kind_fields(self.kind) if f.name == field_name))
        self.errors.append(RowError(at_row, column, code, params))

    def counts(self):
        return {"rows": self.row_count, "create": len(self.creates), "update": len(self.changes),
                "unchanged": self.unchanged, "errors": len(self.errors)}


PROGRESS_EVERY = 1000


def _parse_rows(plan, rows, key_fields):
    """Parse every mapped cell; returns [(row number, values)] of the rows without errors.
    A row repeating the natural key (`key_fields`) of an earlier row is an error too.
    Empty optional cells are left out of `values` (they leave stored values alone)."""
    fields = [f for f in kind_fields(plan.kind) if f.name in plan.columns]
    parsed, first_row = [], {}
    for row, cells in rows:
        plan.row_count += 1
        if plan.row_count % PROGRESS_EVERY == 0:
            plan.on_row(plan.row_count)
        values, failed = {}, False
        for import_field in fields:
            raw = cells[import_field.name]
            if cell_text(raw) == "":
                if import_field.required:
                    plan.refuse(row, import_field.name, "required")
                    failed = True
                continue
            try:
                values[import_field.name] = import_field.parse(raw)
            except CellError as error:
                plan.refuse(row, import_field.name, error.code, **error.params)
                failed = True
        if "company" in values and values.pop("company") != plan.company.code:
            plan.refuse(row, "company", "company_mismatch", value=cell_text(cells["company"]).upper(),
                        company=plan.company.name)
            failed = True
        key = tuple(values.get(name) for name in key_fields)
        if None not in key:
            if key in first_row:
                plan.refuse(row, key_fields[0], "duplicate_in_file", value=values[key_fields[0]],
                            row=first_row[key])
                failed = True
            else:
                first_row[key] = row
        if not failed:
            parsed.append((row, values))
    return parsed


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _existing(model, key_field, keys, *where):
    """{key: row} of `model` rows whose `key_field` is among `keys`, looked up in chunks."""
    found = {}
    for chunk in _chunks(set(keys), LOOKUP_CHUNK):
        query = model.select().where(key_field.in_(chunk), *where)
        found.update({getattr(row, key_field.name): row for row in query})
    return found


EMPLOYEE_PLAIN_FIELDS = ("legal_name", "preferred_name", "hire_date", "status", "leaving_date", "leaving_reason",
                         "email", "phone", "address", "emergency_contact_name", "emergency_contact_relation",
                         "emergency_contact_phone", "nationality")
# The stored columns behind each sensitive field.
SENSITIVE_COLUMNS = {"national_id": ("national_id", "national_id_index"), "bank_account": ("bank_account",)}


def _holds_sensitive(employee, name, value):
    """Whether `employee` already holds `value` in the sensitive field `name`: the
    national ID through its blind index, the bank account by decrypting it."""
    if name == "national_id":
        return employee.national_id_index == cipher().blind_index(employee.company_id, value)
    try:
        return normalise_identifier(read_sensitive(employee, name)) == normalise_identifier(value)
    except DecryptionError:
        return False


def _plan_employees(actor, plan, rows):
    parsed = _parse_rows(plan, rows, ("number",))
    existing = _existing(Employee, Employee.number, [v["number"] for _n, v in parsed])
    for row, values in parsed:
        employee = existing.get(values["number"])
        if employee is not None and employee.company_id != plan.company.id:
            plan.refuse(row, "number", "number_elsewhere", value=values["number"])
            continue
        merged = {name: values.get(name, getattr(employee, name, None))  # the file's values over the stored ones
                  for name in ("hire_date", "leaving_date", "status")}
        if merged["leaving_date"] and merged["leaving_date"] < merged["hire_date"]:
            plan.refuse(row, "leaving_date" if "leaving_date" in values else "hire_date", "leaving_before_hire")
            continue
        if merged["status"] == "left" and not merged["leaving_date"]:
            plan.refuse(row, "leaving_date", "leaving_date_needed")
            continue
        if employee is None:
            plan.creates.append((row, values))
            continue
        changed = [name for name, value in values.items() if name != "number" and (
            not _holds_sensitive(employee, name, value) if name in SENSITIVE_COLUMNS
            else getattr(employee, name) != value)]
        if changed:
            # Sensitive values enter the trail only as "***" (core.audit masks their keys).
            plan.changes.append(Change(row, employee.id, employee.legal_name,
                                       {name: getattr(employee, name) for name in changed},
                                       {name: values[name] for name in changed}))
        else:
            plan.unchanged += 1


def _plan_posts(actor, plan, rows):
    parsed = _parse_rows(plan, rows, ("code",))
    existing = _existing(Post, Post.code, [v["code"] for _n, v in parsed], Post.company == plan.company.id)
    for row, values in parsed:
        post = existing.get(values["code"])
        if post is None:
            plan.creates.append((row, values))
            continue
        changed = {name: value for name, value in values.items() if name != "code" and getattr(post, name) != value}
        if changed:
            plan.changes.append(Change(row, post.id, post.title, {n: getattr(post, n) for n in changed}, changed))
        else:
            plan.unchanged += 1


def _plan_assignments(actor, plan, rows):
    parsed = _parse_rows(plan, rows, ("number", "post", "unit", "start_date"))
    company = plan.company
    employees = _existing(Employee, Employee.number, [v["number"] for _n, v in parsed],
                          employee_condition(actor.scope, PEOPLE_IMPORT))
    posts = _existing(Post, Post.code, [v["post"] for _n, v in parsed],
                      (Post.company == company.id) & Post.archived_at.is_null())
    units = _existing(OrgUnit, OrgUnit.code, [v["unit"] for _n, v in parsed],
                      (OrgUnit.company == company.id) & OrgUnit.archived_at.is_null())
    resolved = []
    for row, values in parsed:
        employee, post, unit = employees.get(values["number"]), posts.get(values["post"]), units.get(values["unit"])
        if employee is None:
            plan.refuse(row, "number", "unknown_employee", value=values["number"])
        if post is None:
            plan.refuse(row, "post", "unknown_post", value=values["post"], company=company.name)
        if unit is None:
            plan.refuse(row, "unit", "unknown_unit", value=values["unit"], company=company.name)
        if values.get("end_date") and values["end_date"] < values["start_date"]:
            plan.refuse(row, "end_date", "end_before_start")
        elif employee and employee.leaving_date and values["start_date"] > employee.leaving_date:
            plan.refuse(row, "start_date", "starts_after_leaving", date=employee.leaving_date.isoformat())
        elif employee and post and unit:
            resolved.append((row, values, employee, post, unit))
    stored = {}
    for chunk in _chunks({employee.id for _n, _v, employee, _p, _u in resolved}, LOOKUP_CHUNK):
        for assignment in Assignment.select().where(Assignment.employee.in_(chunk)):
            stored[assignment.employee_id, assignment.post_id, assignment.unit_id, assignment.start_date] = assignment
    targets = []  # (row number, person, stored assignment or None, the values the file leaves it with)
    for row, values, employee, post, unit in resolved:
        assignment = stored.get((employee.id, post.id, unit.id, values["start_date"]))
        target = {"employee": employee.id, "post": post.id, "unit": unit.id, "start_date": values["start_date"],
                  "share": values.get("share", assignment.share if assignment else post.capacity),
                  "end_date": values.get("end_date", assignment.end_date if assignment else None),
                  "is_primary": values.get("is_primary", assignment.is_primary if assignment else False)}
        targets.append((row, employee, assignment, target, post.title))
    # The rules of shares and primary posts, checked over everyone in the file at once.
    proposed = [ProposedAssignment(employee.id, target["share"], target["start_date"], target["end_date"],
                                   target["is_primary"], assignment.id if assignment else None, title)
                for _n, employee, assignment, target, title in targets]
    for code, violations in (("capacity", capacity_violations(proposed)), ("primary", primary_violations(proposed))):
        for overload in violations:
            plan.refuse(targets[overload.index][0], "share" if code == "capacity" else "is_primary", code,
                        **_overload_params(overload))
    refused = {error.row for error in plan.errors}
    for row, employee, assignment, target, _title in targets:
        if row in refused:
            continue
        if assignment is None:
            plan.creates.append((row, target))
            continue
        changed = {n: target[n] for n in ("share", "end_date", "is_primary") if getattr(assignment, n) != target[n]}
        if changed:
            plan.changes.append(Change(row, assignment.id, employee.legal_name,
                                       {n: getattr(assignment, n) for n in changed}, changed, employee.id))
        else:
            plan.unchanged += 1


PLANNERS = {"employees": _plan_employees, "posts": _plan_posts, "assignments": _plan_assignments}


def plan_import(actor, company, kind, table, mapping, on_row=None):
    """Check every row of `table` against the data as it is now. Writes nothing."""
    actor.require(PEOPLE_IMPORT, company)
    mapping = check_mapping(kind, table.headers, mapping)
    plan = ImportPlan(kind, company, mapping)
    if on_row is not None:
        plan.on_row = on_row
    PLANNERS[kind](actor, plan, mapped_rows(table, mapping))
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan


# --- writing -----------------------------------------------------------------------------------------

def _compiled(statements, size, build):
    """The SQL text of a bulk statement for `size` rows, written by peewee once per size:
    peewee builds SQL value by value, which costs several times what the database
    takes to write the rows; later chunks of the same size only bring their values."""
    if size not in statements:
        statements[size] = build(size).sql()[0]
    return statements[size]


def _insert_rows(model, rows, on_progress):
    """INSERT the rows (dicts; a field a row lacks takes its default) in chunks.
    (The one writer of new rows: tests make it fail half-way.)"""
    # Every column named, so that peewee adds none of its own and the values line up.
    fields = [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]
    defaults = {f.name: f.default for f in fields}
    statements = {}
    for chunk in _chunks(rows, WRITE_CHUNK_ROWS):
        sql = _compiled(statements, len(chunk),
                        lambda size: model.insert_many([[None] * len(fields)] * size, fields=fields))
        database.execute_sql(sql, [
            f.db_value(row[f.name] if f.name in row else (
                defaults[f.name]() if callable(defaults[f.name]) else defaults[f.name]))
            for row in chunk for f in fields])
        on_progress(len(chunk))


def bulk_update(model, rows, fields):
    """UPDATE many rows of `model`, each with its own values: `rows` are dicts holding
    "id" and `fields`; a few hundred rows per statement (a VALUES list joined by id)."""
    columns = [model._meta.fields[name] for name in ("id", *fields)]

    def build(size):
        values = pw.ValuesList([[None] * len(columns)] * size).cte("new_values", columns=[c.name for c in columns])
        return (model.update({field: getattr(values.c, field.name) for field in columns[1:]})
                .with_cte(values).from_(values).where(model.id == values.c.id))

    statements = {}
    for chunk in _chunks(rows, WRITE_CHUNK_ROWS):
        # The VALUES list is the statement's only parameters, row after row.
        database.execute_sql(_compiled(statements, len(chunk), build),
                             [c.db_value(row[c.name]) for row in chunk for c in columns])


def _encrypted(company_id, row_id, values):
    """The stored columns of the sensitive fields among `values` (and only those)."""
    given = {name: values[name] for name in SENSITIVE_COLUMNS if name in values}
    if not given:
        return {}
    columns = sensitive_columns(company_id, row_id, **given)
    return {column: columns[column] for name in given for column in SENSITIVE_COLUMNS[name]}


def _search_text(values):
    return search_text_for(values["number"], values["legal_name"], values.get("preferred_name", ""),
                           values.get("email", ""))


def _write_employees(actor, plan, on_progress):
    company, now = plan.company, utcnow()
    # As create_employee does: the company is the home unit until the person holds a primary post.
    _insert_rows(Employee, [
        {**{name: values[name] for name in EMPLOYEE_PLAIN_FIELDS if name in values}, "number": values["number"],
         "company": company.id, "unit": company.id, "search_text": _search_text(values), "created_at": now,
         "updated_at": now} for _n, values in plan.creates], on_progress)
    # Ciphertexts are bound to their row's id, known only now: encrypted after the insert, in bulk.
    ids = {}
    for chunk in _chunks([values["number"] for _n, values in plan.creates], LOOKUP_CHUNK):
        ids.update(Employee.select(Employee.number, Employee.id).where(Employee.number.in_(chunk)).tuples())
    by_columns = {}  # one bulk UPDATE per set of columns written
    for _n, values in plan.creates:
        columns = _encrypted(company.id, ids[values["number"]], values)
        if columns:
            by_columns.setdefault(tuple(columns), []).append({"id": ids[values["number"]], **columns})
    for columns, rows in by_columns.items():
        bulk_update(Employee, rows, columns)
    for change in plan.changes:
        employee = Employee.get_by_id(change.id)
        plain = {name: value for name, value in change.after.items() if name not in SENSITIVE_COLUMNS}
        names = {name: plain.get(name, getattr(employee, name))
                 for name in ("number", "legal_name", "preferred_name", "email")}
        Employee.update(**plain, **_encrypted(company.id, employee.id, change.after), search_text=_search_text(names),
                        updated_at=now, version=Employee.version + 1).where(Employee.id == employee.id).execute()
        record_event("people.employee_updated", object_type="employee", object_id=employee.id,
                     label=names["legal_name"], unit=company, actor=actor.user, before=change.before,
                     after=change.after)
        on_progress(1)


def _write_posts(actor, plan, on_progress):
    company, now = plan.company, utcnow()
    _insert_rows(Post, [{**values, "company": company.id, "created_at": now} for _n, values in plan.creates],
                 on_progress)
    for change in plan.changes:
        Post.update(**change.after, version=Post.version + 1).where(Post.id == change.id).execute()
        record_event("posts.post_imported", object_type="post", object_id=change.id, label=change.label,
                     unit=company, actor=actor.user, before=change.before, after=change.after)
        on_progress(1)


def _write_assignments(actor, plan, on_progress):
    now = utcnow()
    _insert_rows(Assignment, [{**values, "created_at": now} for _n, values in plan.creates], on_progress)
    by_person = {}
    for change in plan.changes:
        Assignment.update(**change.after, version=Assignment.version + 1).where(Assignment.id == change.id).execute()
        by_person.setdefault(change.person_id, []).append(change)
        on_progress(1)
    for person_id, changes in by_person.items():
        record_event("people.assignments_imported", object_type="employee", object_id=person_id,
                     label=changes[0].label, unit=plan.company, actor=actor.user,
                     before={str(c.id): c.before for c in changes}, after={str(c.id): c.after for c in changes})
    touched = {values["employee"] for _n, values in plan.creates} | set(by_person)
    if touched:
        sync_home_units(dt.date.today(), touched)


WRITERS = {"employees": _write_employees, "posts": _write_posts, "assignments": _write_assignments}


def apply_plan(actor, plan, sha256, source=None, on_progress=None):
    """Write a plan without errors, all in one transaction (any failure writes nothing).
    `source` is the PeopleImport row, when the file came through the web pages;
    `on_progress(n)` is told of every n rows written."""
    actor.require(PEOPLE_IMPORT, plan.company)
    if plan.errors:
        raise ServiceError(_("The file has errors; nothing was imported."))
    counts = plan.counts()
    with database.atomic():
        WRITERS[plan.kind](actor, plan, on_progress or (lambda n: None))
        if plan.creates or plan.changes:
            record_event("people.imported", object_type="people_import", object_id=getattr(source, "id", None),
                         label=getattr(source, "original_name", None), unit=plan.company, actor=actor.user,
                         after={"kind": plan.kind, "sha256": sha256, "created": counts["create"],
                                "updated": counts["update"], "unchanged": counts["unchanged"]})
        if source is not None:
            mark_imported(source, counts)
    return counts


# --- the import's journey through the pages --------------------------------------------------------

def importable_companies(scope):
    """(id, name) of the companies where the user may import."""
    return [(unit_id, label.strip()) for unit_id, label in unit_choices(scope, PEOPLE_IMPORT, kinds=("company",))]


def stored_path(people_import):
    return upload_dir("imports") / people_import.stored_name


def upload_import(actor, company, kind, filename, stream):
    """Store an uploaded file and check that it reads as a table. Returns the PeopleImport."""
    actor.require(PEOPLE_IMPORT, company)
    if kind not in IMPORT_KINDS:
        raise ServiceError(_("Choose what the file holds."), field="kind")
    stored = store_upload(upload_dir("imports"), filename, stream)
    with database.atomic():
        return PeopleImport.create(company=company, kind=kind, created_by=actor.user, **stored)


def import_headers(people_import):
    return file_headers(stored_path(people_import))


def save_mapping(actor, people_import, mapping):
    """Record the column mapping for this import and remember it for the company and kind."""
    actor.require(PEOPLE_IMPORT, people_import.company)
    require_state(people_import, "uploaded", "validated", "failed")
    mapping = check_mapping(people_import.kind, import_headers(people_import), mapping)
    encoded = json.dumps(mapping, ensure_ascii=False, sort_keys=True)
    with database.atomic():
        PeopleImport.update(mapping=encoded).where(PeopleImport.id == people_import.id).execute()
        remembered = ImportMapping.get_or_none((ImportMapping.company == people_import.company_id)
                                               & (ImportMapping.kind == people_import.kind))
        if remembered is None or remembered.mapping != encoded:
            values = {"mapping": encoded, "updated_by": actor.user, "updated_at": utcnow()}
            if remembered is None:
                ImportMapping.create(company=people_import.company_id, kind=people_import.kind, **values)
            else:
                ImportMapping.update(**values).where(ImportMapping.id == remembered.id).execute()
            record_event("people.import_mapping_saved", object_type="import_mapping",
                         label=str(KIND_LABELS[people_import.kind]), unit=people_import.company_id,
                         actor=actor.user, before=json.loads(remembered.mapping) if remembered else None,
                         after=mapping)
    return PeopleImport.get_by_id(people_import.id)


def _planner(actor, people_import):
    """plan(table, on_row): the check of a file against this import's company, kind and mapping."""
    return lambda table, on_row: plan_import(actor, people_import.company, people_import.kind, table,
                                             json.loads(people_import.mapping), on_row=on_row)


def validate_import(actor, people_import):
    """Plan the import against the data as it is now and keep the outcome for the preview."""
    actor.require(PEOPLE_IMPORT, people_import.company)
    require_state(people_import, "uploaded", "validated", "failed")
    return check_stored(people_import, stored_path(people_import), _planner(actor, people_import))


import_summary = outcome_summary  # rows, create, update, unchanged, errors
import_errors = outcome_errors


def start_import(actor, people_import):
    """Queue the import of a checked file without errors. Returns the Job."""
    actor.require(PEOPLE_IMPORT, people_import.company)
    return queue_import(actor, people_import, "people.import")


def execute_import(actor, people_import, on_progress=None):
    """Check the file again and write it, whole or not at all (see check_and_write). Returns the counts."""
    actor.require(PEOPLE_IMPORT, people_import.company)
    return check_and_write(people_import, stored_path(people_import), _planner(actor, people_import),
                           lambda plan: apply_plan(actor, plan, people_import.sha256, source=people_import),
                           on_progress)


@background_job("people.import", _l("Import people"))
def import_job(progress, import_id, user_id):
    return run_import_job(execute_import, PeopleImport.get_by_id(import_id), user_id, progress)


def recent_imports(actor, limit=20):
    """The latest imports into the companies where the actor may import."""
    return recent_import_rows(PeopleImport, actor, PEOPLE_IMPORT, limit)


# --- the command line ------------------------------------------------------------------------------

def check_file(actor, company, kind, path, mapping=None):
    """`flask people import`: read and check the file at `path` (the company's remembered
    mapping, or columns matched by name, unless `mapping` is given). Returns (plan, sha256);
    `apply_plan` writes a plan without errors."""
    actor.require(PEOPLE_IMPORT, company)
    table = read_table(path)
    plan = plan_import(actor, company, kind, table, mapping or suggest_mapping(company, kind, table.headers))
    return plan, hashlib.sha256(Path(path).read_bytes()).hexdigest()
