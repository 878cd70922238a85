"""The journey of an uploaded import file, shared by every import that goes through
the pages (people, clock events): the stored upload, the state the import has reached,
the outcome of the last check kept for the preview, and the background job that checks
the file again and writes it whole or not at all. `record` is the import's row (a model
with id, company, stored_name, state, row_count, error_count, summary and job_id);
each import brings its own planning and writing.
"""
import hashlib
import json
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal.core.db import database
from portal.core.errors import ServiceError
from portal.core.jobs import start_job
from portal.core.tabular import MAX_IMPORT_BYTES, RowError, read_table


def upload_dir(name):
    """The folder under UPLOAD_DIR where one import keeps its files."""
    directory = Path(current_app.config["UPLOAD_DIR"]) / name
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def clean_filename(name):
    """The uploaded file's name, for showing only (files are stored under generated names)."""
    name = "".join(c for c in str(name or "") if c >= " " and c != "\x7f").replace("\\", "/").rsplit("/", 1)[-1]
    return name.strip()[:200] or "upload"


def store_upload(directory, filename, stream):
    """Store an uploaded file under a generated name and check that it reads as a table.
    Returns the fields of the import row to create."""
    data = stream.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ServiceError(_("The file is larger than %(mb)s MB.", mb=MAX_IMPORT_BYTES // (1024 * 1024)),
                           field="file")
    stored_name = uuid.uuid4().hex
    path = directory / stored_name
    path.write_bytes(data)
    try:
        table = read_table(path)
    except ServiceError:
        path.unlink()
        raise
    return {"id": uuid.uuid4().hex, "original_name": clean_filename(filename), "stored_name": stored_name,
            "sha256": hashlib.sha256(data).hexdigest(), "row_count": len(table.rows)}


def require_state(record, *states):
    if record.state not in states:
        raise ServiceError(_("This import has moved on meanwhile. Reload the page."))


def file_headers(path):
    """The named columns of the stored file."""
    return [h for h in read_table(path, header_only=True).headers if h]


def _update(record, **values):
    model = type(record)
    return model.update(**values).where(model.id == record.id)


def record_outcome(record, plan, state):
    """Keep a check's counts and bad rows on the import row, for the preview."""
    with database.atomic():
        _update(record, state=state, row_count=plan.row_count, error_count=len(plan.errors),
                summary=json.dumps({**plan.counts(), "problems": [e.as_json() for e in plan.errors]},
                                   ensure_ascii=False, default=str)).execute()


def mark_imported(record, counts):
    """The import row once written (inside the writing transaction)."""
    _update(record, state="imported", row_count=counts["rows"], error_count=0, summary=json.dumps(counts)).execute()


def outcome_summary(record):
    """The counts kept from the last check or import."""
    summary = json.loads(record.summary or "{}")
    summary.pop("problems", None)
    return summary


def outcome_errors(record):
    """The bad rows found by the last check, as RowErrors."""
    return [RowError(row, column, code, params)
            for row, column, code, params in json.loads(record.summary or "{}").get("problems", [])]


def queue_import(actor, record, job_name):
    """Claim a checked file without errors for importing and queue its job. Returns the Job."""
    model = type(record)
    if record.state != "validated" or record.error_count:
        raise ServiceError(_("Only a checked file without errors can be imported."))
    with database.atomic():
        claimed = _update(record, state="importing").where(model.state == "validated").execute()
    if not claimed:  # someone pressed the button a moment earlier
        raise ServiceError(_("This import has moved on meanwhile. Reload the page."))
    job = start_job(job_name, [record.id, actor.user.id], actor=actor.user, unit=record.company_id,
                    total=record.row_count)
    with database.atomic():
        _update(record, job_id=job.id).execute()
    return job


def check_and_write(record, path, plan, write, on_progress=None):
    """Check the file again and write it, whole or not at all. Returns the counts.

    `plan(table, on_row)` checks the rows, `write(plan)` writes a plan without errors;
    `on_progress(done, total, message)` follows the check row by row; the writing
    happens in one transaction, whose progress no other connection could see."""
    report = on_progress or (lambda done, total, message: None)
    try:
        table = read_table(path)
        total = len(table.rows)
        checking = _("Checking the rows")
        report(0, total, checking)
        checked = plan(table, lambda done: report(done, total, checking))
        if checked.errors:
            record_outcome(record, checked, "validated")
            raise ServiceError(_("The data changed since the check: %(n)s rows have errors now. Nothing was "
                                 "imported.", n=len(checked.errors)))
        report(total, total, _("Writing everything in one go"))
        counts = write(checked)
        report(total, total, _("Imported"))
        return counts
    except Exception:
        model = type(record)
        with database.atomic():
            _update(record, state="failed").where(model.state == "importing").execute()
        raise


def check_stored(record, path, plan):
    """Check the stored file against the data as it is now (`plan(table, on_row)`, writing
    nothing) and keep the outcome for the preview. Returns the plan."""
    checked = plan(read_table(path), None)
    record_outcome(record, checked, "validated")
    return checked


def run_import_job(execute, record, user_id, progress):
    """A background job's run of `execute(actor, record, on_progress)` as the user who
    started it: a new phase is always shown; rows within a phase as often as JobProgress allows."""
    from portal.accounts.models import User
    from portal.core.permissions import Actor

    shown = set()

    def report(done, total, message):
        progress.update(done, total, message, force=message not in shown)
        shown.add(message)

    counts = execute(Actor.for_user(User.get_by_id(user_id)), record, report)
    return {"import_id": record.id, **counts}


def recent_imports(model, actor, permission, limit=20):
    """The latest imports into the companies where the actor may import."""
    return list(model.select().where(actor.scope.condition(model.company, permission))
                .order_by(model.created_at.desc()).limit(limit))
