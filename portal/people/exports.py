"""Exporting the employee list, exactly as filtered on screen, to CSV or XLSX.

The rows come from the list's own query (`employee_query` with the list's
filters), narrowed to the people the user may export. National ID and bank
account never leave this way. Rows are read lazily and their posts fetched a
batch at a time, so an export of 100,000 people streams in constant memory.
"""
import datetime as dt

from flask_babel import lazy_gettext as _l

from portal.core.audit import record_event
from portal.core.db import database
from portal.org.models import OrgUnit
from portal.people.assignments import assignments_in_force
from portal.people.forms import STATUS_LABELS
from portal.people.permissions import PEOPLE_EXPORT, employee_condition
from portal.people.services import employee_query

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_HEADER = (_l("Employee number"), _l("Legal name"), _l("Preferred name"), _l("Company"), _l("Unit"),
                 _l("Posts"), _l("Status"), _l("Hire date"), _l("E-mail"), _l("Phone"))
POSTS_BATCH = 1000


def _exportable(actor, filters, today):
    return (employee_query(actor.scope, filters, today)
            .where(employee_condition(actor.scope, PEOPLE_EXPORT, today)))


def _posts_text(assignments):
    """"Title (60%); Title (40%)", primary post first."""
    return "; ".join(f"{a.post.title} ({a.share}%)" for a in assignments)


def _rows(query, today):
    """The export's rows, the people read lazily and their posts one batch at a time."""
    batch = []

    def flush():
        posts = assignments_in_force([row.id for row in batch], today)
        for row in batch:
            yield (row.number, row.legal_name, row.preferred_name, row.company.name, row.unit.name,
                   _posts_text(posts.get(row.id, ())), str(STATUS_LABELS.get(row.status, row.status)),
                   row.hire_date, row.email, row.phone)

    for row in query.iterator():
        batch.append(row)
        if len(batch) == POSTS_BATCH:
            yield from flush()
            batch = []
    yield from flush()


def export_employees(actor, filters, file_format, today=None):
    """Audit an export of the filtered list and return (filename, header, rows):
    `rows` is a lazy iterator for core.exports to stream."""
    if file_format not in EXPORT_FORMATS:
        raise ValueError(file_format)
    today = today or dt.date.today()
    query = _exportable(actor, filters, today)
    # Filed under the unit filtered on, else the top of the export scope: where auditors of the data look.
    units = OrgUnit.select().where(actor.scope.unit_condition(PEOPLE_EXPORT))
    unit = ((units.where(OrgUnit.id == filters.unit_id).first() if filters.unit_id else None)
            or units.order_by(OrgUnit.depth).first())
    with database.atomic():
        record_event("people.exported", object_type="employee", label=file_format.upper(), unit=unit,
                     actor=actor.user,
                     after={"filters": filters.query_args(), "rows": query.count(), "format": file_format})
    return f"people-{today.isoformat()}.{file_format}", [str(h) for h in EXPORT_HEADER], _rows(query, today)
