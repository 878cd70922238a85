"""Importing clock events from attendance-device exports (CSV or XLSX).

Columns: employee number, timestamp (local time of the company), direction (in/out,
签到/签退, 上班/下班, I/O, Check-in/Check-out…), device. The way through, for the
pages and `flask time import-clock` alike: `upload_clock_import` stores the file and
reads its header; `save_clock_mapping` records which column feeds which field;
`validate_clock_import` checks every row and counts what is new and what is already
there, writing nothing; `start_clock_import` queues the job that runs
`execute_clock_import`: the same check again, then every new event in ONE
transaction. Any bad row: nothing is written. The natural key is (person, instant,
direction), so importing the same file again writes nothing.
"""
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _, lazy_gettext as _l

from portal.core.audit import record_event
from portal.core.db import database, utcnow
from portal.core.errors import ServiceError
from portal.core.import_runs import (
    check_and_write, check_stored, file_headers, mark_imported, outcome_errors, outcome_summary, queue_import,
    recent_imports, require_state, run_import_job, store_upload, upload_dir,
)
from portal.core.jobs import background_job
from portal.core.tabular import (
    CellError, ImportField, RowError, cell_text, declare_row_errors, header_key, mapped_rows,
    read_table,
)
from portal.org.services import unit_choices
from portal.people.models import Employee
from portal.people.permissions import employee_condition
from portal.time.models import ClockEvent, ClockImport
from portal.time.permissions import TIME_IMPORT
from portal.time.services import company_zone

WRITE_CHUNK_ROWS = 500
LOOKUP_CHUNK = 500
PROGRESS_EVERY = 1000

STATE_LABELS = {
    "uploaded": _l("Uploaded"),
    "mapped": _l("Mapped"),
    "validated": _l("Checked"),
    "importing": _l("Importing"),
    "imported": _l("Imported"),
    "failed": _l("Failed"),
}

declare_row_errors({
    "unknown_employee": _l("There is no employee with number “%(value)s” that you may import for."),
    "clock_not_in_company": _l("Employee number %(value)s does not belong to anyone in %(company)s you may import for."),
    "clock_bad_time": _l("“%(value)s” is not a date and time. Write it as YYYY-MM-DD HH:MM, for example "
                         "2025-03-01 08:58."),
    "clock_bad_direction": _l("“%(value)s” is not a direction: use in or out (签到/签退, 上班/下班, I/O, "
                              "Check-in/Check-out)."),
    "clock_duplicate": _l("The same punch is already in row %(row)s of this file."),
})


# --- cells ------------------------------------------------------------------------------------------

DIRECTION_WORDS = {
    "in": ("in", "i", "check-in", "check in", "checkin", "c/in", "clock in", "clock-in", "签到", "上班", "上班签到",
           "进", "入", "kommen", "出勤", "0"),
    "out": ("out", "o", "check-out", "check out", "checkout", "c/out", "clock out", "clock-out", "签退", "下班",
            "下班签退", "出", "离开", "gehen", "退勤", "1"),
}
_DIRECTION_BY_WORD = {word: kind for kind, words in DIRECTION_WORDS.items() for word in words}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
                "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y%m%d %H%M%S", "%Y%m%d%H%M%S")


def parse_direction(value):
    raw = cell_text(value)
    try:
        return _DIRECTION_BY_WORD[raw.lower()]
    except KeyError:
        raise CellError("clock_bad_direction", value=raw) from None


def parse_local_time(value):
    """A naive local date and time: an Excel date-time cell, or text in a common format."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    raw = " ".join(str(value).split())
    for pattern in TIME_FORMATS:
        try:
            return dt.datetime.strptime(raw, pattern)
        except ValueError:
            continue
    raise CellError("clock_bad_time", value=raw)


def parse_employee_number(value):
    raw = cell_text(value)
    if len(raw) > 32:
        raise CellError("too_long", max=32)
    return raw.upper()


def parse_device(value):
    return cell_text(value)[:64]


FIELDS = (
    ImportField("number", _l("Employee number"), parse_employee_number, True,
                ("employee number", "employee no", "emp no", "ac no", "user id", "工号", "员工编号", "员工工号", "考勤号",
                 "考勤号码", "编号", "personalnummer")),
    ImportField("at", _l("Date and time"), parse_local_time, True,
                ("timestamp", "time", "date time", "datetime", "check time", "punch time", "打卡时间", "时间", "日期时间",
                 "签到时间", "考勤时间", "zeit", "zeitpunkt")),
    ImportField("direction", _l("Direction (in/out)"), parse_direction, True,
                ("direction", "in out", "state", "status", "check type", "type", "方向", "状态", "类型", "签到 签退",
                 "打卡类型", "考勤状态", "richtung")),
    ImportField("device", _l("Device"), parse_device,
                aliases=("device", "terminal", "machine", "device id", "设备", "设备号", "设备名称", "机器号", "考勤机",
                         "gerät")),
)


def suggest_clock_mapping(headers):
    """{field: header}: columns whose name says which field they are."""
    by_key = {header_key(h): h for h in headers if h}
    mapping, used = {}, set()
    for import_field in FIELDS:
        keys = (import_field.name, *map(header_key, import_field.aliases))
        header = next((by_key[k] for k in keys if k in by_key and by_key[k] not in used), None)
        if header is not None:
            mapping[import_field.name] = header
            used.add(header)
    return mapping


def check_clock_mapping(headers, mapping):
    known = {f.name for f in FIELDS}
    cleaned = {name: header for name, header in (mapping or {}).items() if name in known and header}
    for name, header in cleaned.items():
        if header not in headers:
            raise ServiceError(_("The file has no column “%(column)s”.", column=header), field=name)
    seen = set()
    for name, header in cleaned.items():
        if header in seen:
            raise ServiceError(_("The column “%(column)s” is chosen for two fields.", column=header), field=name)
        seen.add(header)
    for import_field in FIELDS:
        if import_field.required and import_field.name not in cleaned:
            raise ServiceError(_("Choose the column that holds this field."), field=import_field.name)
    return cleaned


# --- planning: every row checked, nothing written ---------------------------------------------------

@dataclass
class ClockPlan:
    company: object
    columns: dict
    row_count: int = 0
    errors: list = field(default_factory=list)
    creates: list = field(default_factory=list)  # dicts ready to insert
    existing: int = 0

    def refuse(self, at_row, field_name, code, **params):
        column = self.columns.get(field_name) or str(next(f.label for f in FIELDS if f.name == field_name))
        self.errors.append(RowError(at_row, column, code, params))

    def counts(self):
        return {"rows": self.row_count, "create": len(self.creates), "existing": self.existing,
                "errors": len(self.errors)}


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _to_utc(zone, local):
    return local.replace(tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)


def plan_clock_import(actor, company, table, mapping, on_row=None):
    """Check every row of `table` against the data as it is now. Writes nothing."""
    actor.require(TIME_IMPORT, company)
    mapping = check_clock_mapping(table.headers, mapping)
    plan = ClockPlan(company, mapping)
    zone = company_zone(company)
    parsed, first_row = [], {}
    for row, cells in mapped_rows(table, mapping):
        plan.row_count += 1
        if on_row is not None and plan.row_count % PROGRESS_EVERY == 0:
            on_row(plan.row_count)
        values, failed = {}, False
        for import_field in FIELDS:
            if import_field.name not in mapping:
                continue
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
        if failed:
            continue
        values["at"] = _to_utc(zone, values["at"])
        key = (values["number"], values["at"], values["direction"])
        if key in first_row:
            plan.refuse(row, "at", "clock_duplicate", row=first_row[key])
            continue
        first_row[key] = row
        parsed.append((row, values))
    numbers = {values["number"] for _row, values in parsed}
    people, allowed = {}, set()
    for chunk in _chunks(numbers, LOOKUP_CHUNK):
        people.update({e.number.upper(): e for e in Employee.select(Employee.id, Employee.number, Employee.company)
                       .where(Employee.number.in_(chunk))})
        allowed.update(pk for (pk,) in Employee.select(Employee.id).where(
            Employee.number.in_(chunk) & (Employee.company == company.id)
            & employee_condition(actor.scope, TIME_IMPORT)).tuples())
    resolved = []
    for row, values in parsed:
        employee = people.get(values["number"])
        if employee is None:
            plan.refuse(row, "number", "unknown_employee", value=values["number"])
        elif employee.id not in allowed:
            plan.refuse(row, "number", "clock_not_in_company", value=values["number"], company=company.name)
        else:
            resolved.append((row, employee.id, values))
    stored = set()
    if resolved:
        earliest = min(values["at"] for _r, _e, values in resolved)
        latest = max(values["at"] for _r, _e, values in resolved)
        for chunk in _chunks({employee_id for _r, employee_id, _v in resolved}, LOOKUP_CHUNK):
            stored.update(ClockEvent.select(ClockEvent.employee, ClockEvent.at, ClockEvent.kind).where(
                ClockEvent.employee.in_(chunk) & ClockEvent.at.between(earliest, latest)).tuples())
    for row, employee_id, values in resolved:
        if (employee_id, values["at"], values["direction"]) in stored:
            plan.existing += 1
        else:
            plan.creates.append({"employee": employee_id, "at": values["at"], "kind": values["direction"],
                                 "source": "device", "device": values.get("device", "")})
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan


# --- writing -----------------------------------------------------------------------------------------

def _insert_events(rows, on_progress):
    """INSERT the new events in chunks (the one writer: tests make it fail half-way)."""
    for chunk in _chunks(rows, WRITE_CHUNK_ROWS):
        ClockEvent.insert_many(chunk).execute()
        on_progress(len(chunk))


def apply_clock_plan(actor, plan, sha256, source=None, on_progress=None):
    """Write a plan without errors in one transaction. Returns the counts."""
    actor.require(TIME_IMPORT, plan.company)
    if plan.errors:
        raise ServiceError(_("The file has errors; nothing was imported."))
    counts = plan.counts()
    now = utcnow()
    with database.atomic():
        rows = [{**row, "created_at": now, "clock_import": getattr(source, "id", None)} for row in plan.creates]
        _insert_events(rows, on_progress or (lambda n: None))
        if plan.creates:
            record_event("time.clock_imported", object_type="clock_import", object_id=getattr(source, "id", None),
                         label=getattr(source, "original_name", None), unit=plan.company, actor=actor.user,
                         after={"sha256": sha256, "created": counts["create"], "existing": counts["existing"]})
        if source is not None:
            mark_imported(source, counts)
    return counts


# --- the import's journey through the pages --------------------------------------------------------

def importable_companies(scope):
    return [(unit_id, label.strip()) for unit_id, label in unit_choices(scope, TIME_IMPORT, kinds=("company",))]


def stored_path(clock_import):
    return upload_dir("clock-imports") / clock_import.stored_name


def upload_clock_import(actor, company, filename, stream):
    """Store an uploaded device export and check it reads as a table. Returns the ClockImport."""
    actor.require(TIME_IMPORT, company)
    stored = store_upload(upload_dir("clock-imports"), filename, stream)
    with database.atomic():
        return ClockImport.create(company=company, created_by=actor.user, **stored)


def clock_import_headers(clock_import):
    return file_headers(stored_path(clock_import))


def current_mapping(clock_import):
    """The import's mapping, or the one its column names suggest."""
    return json.loads(clock_import.mapping or "{}") or suggest_clock_mapping(clock_import_headers(clock_import))


def save_clock_mapping(actor, clock_import, mapping):
    actor.require(TIME_IMPORT, clock_import.company)
    require_state(clock_import, "uploaded", "mapped", "validated", "failed")
    mapping = check_clock_mapping(clock_import_headers(clock_import), mapping)
    with database.atomic():
        ClockImport.update(mapping=json.dumps(mapping, ensure_ascii=False, sort_keys=True), state="mapped").where(
            ClockImport.id == clock_import.id).execute()
    return ClockImport.get_by_id(clock_import.id)


def _planner(actor, clock_import):
    """plan(table, on_row): the check of a file against this import's company and mapping."""
    return lambda table, on_row: plan_clock_import(actor, clock_import.company, table,
                                                   json.loads(clock_import.mapping), on_row=on_row)


def validate_clock_import(actor, clock_import):
    """Check the file against the data as it is now and keep the outcome for the preview."""
    actor.require(TIME_IMPORT, clock_import.company)
    require_state(clock_import, "mapped", "validated", "failed")
    return check_stored(clock_import, stored_path(clock_import), _planner(actor, clock_import))


clock_import_summary = outcome_summary
clock_import_errors = outcome_errors


def start_clock_import(actor, clock_import):
    """Queue the import of a checked file without errors. Returns the Job."""
    actor.require(TIME_IMPORT, clock_import.company)
    return queue_import(actor, clock_import, "time.clock_import")


def execute_clock_import(actor, clock_import, on_progress=None):
    """Check the file again and write it, whole or not at all. Returns the counts."""
    actor.require(TIME_IMPORT, clock_import.company)
    return check_and_write(clock_import, stored_path(clock_import), _planner(actor, clock_import),
                           lambda plan: apply_clock_plan(actor, plan, clock_import.sha256, source=clock_import),
                           on_progress)


@background_job("time.clock_import", _l("Import clock events"))
def clock_import_job(progress, import_id, user_id):
    return run_import_job(execute_clock_import, ClockImport.get_by_id(import_id), user_id, progress)


def recent_clock_imports(actor, limit=20):
    return recent_imports(ClockImport, actor, TIME_IMPORT, limit)


# --- the command line ------------------------------------------------------------------------------

def check_clock_file(actor, company, path, mapping=None):
    """`flask time import-clock`: read and check the file (columns matched by name unless
    `mapping` is given). Returns (plan, sha256); `apply_clock_plan` writes a plan without errors."""
    actor.require(TIME_IMPORT, company)
    table = read_table(path)
    plan = plan_clock_import(actor, company, table, mapping or suggest_clock_mapping(table.headers))
    return plan, hashlib.sha256(Path(path).read_bytes()).hexdigest()
