import datetime as dt
import json

import peewee as pw
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions
from portal.core.cache import LRU, data_version, digest
from portal.core.db import database, is_sqlite
from portal.core.permissions import Permission, declare, register_object_type
from portal.org.models import OrgUnit
from portal.people.models import Assignment, Contract, Document, Employee, PeopleImport, TrainingRecord

PEOPLE_VIEW, PEOPLE_MANAGE, PEOPLE_VIEW_SENSITIVE, PEOPLE_EXPORT, PEOPLE_IMPORT, PEOPLE_TRANSFER = declare(
    Permission("people.view", _l("See employee records")),
    Permission("people.manage", _l("Create and edit employee records, contracts, documents and training")),
    Permission("people.view_sensitive", _l("Reveal national ID and bank account numbers")),
    Permission("people.export", _l("Export employee lists")),
    Permission("people.import", _l("Import employees, posts and assignments")),
    Permission("people.transfer", _l("Request transfers and secondary posts")),
)


POSTED_IN_CACHE_SIZE = 256  # sets of people posted in from elsewhere kept per app (held_or_posted_in)
ONE_OF_INLINE = 100  # id lists up to this long are written into the SQL (one_of)


def employee_condition(scope, permission, today=None):
    """People in scope: employed by a company in scope, or holding a current or
    coming assignment in a unit in scope (兼岗: scope follows the assignment).

    Written for lists of 100,000 people: both parts are plain lists of ids, so a
    row out of scope costs one look-up in each, never a subquery per row."""
    today = today or dt.date.today()
    units = list(OrgUnit.select(OrgUnit.id, OrgUnit.kind).where(scope.unit_condition(permission)).tuples())
    company_ids = [unit_id for unit_id, kind in units if kind == "company"]
    if len(company_ids) == OrgUnit.select().where(OrgUnit.kind == "company").count():
        return one_of(Employee.company, company_ids)  # every company: nobody is employed outside the scope
    return held_or_posted_in(Employee.company, company_ids, [unit_id for unit_id, _kind in units], today)


def held_or_posted_in(home, home_ids, unit_ids, today):
    """People whose `home` (Employee.company or Employee.unit) is one of `home_ids`,
    or who hold a current or coming assignment in one of `unit_ids`.

    The second group is found as the (usually few) people posted there from
    elsewhere. Finding them means reading every assignment in the units (tens of
    milliseconds for a large company), so the answer is kept per app until the data
    changes: every write records an audit event, whose id is the version in the key,
    read before the data (as core.cache does)."""
    store = current_app.extensions.setdefault("people.posted_in", LRU(POSTED_IN_CACHE_SIZE))
    key = (data_version(), home.name, digest(home_ids), digest(unit_ids), today)
    elsewhere = store.get(key)
    if elsewhere is None:
        query = (Assignment.select(Assignment.employee).distinct()
                 .where(one_of(Assignment.unit, unit_ids)
                        & (Assignment.end_date.is_null() | (Assignment.end_date >= today))))
        if home_ids:
            query = query.join(Employee, on=(Employee.id == Assignment.employee)).where(~one_of(home, home_ids))
        elsewhere = sorted(pk for (pk,) in database.execute(query).fetchall())
        store.put(key, elsewhere)
    if not home_ids:
        return one_of(Employee.id, elsewhere)
    condition = one_of(home, home_ids)
    return condition | one_of(Employee.id, elsewhere) if elsewhere else condition


def one_of(field, ids):
    """`field` is one of `ids`. A long list goes as one parameter (a JSON list on
    SQLite, an array on PostgreSQL): thousands of placeholders cost more to write than
    to run. A short one is written out, so the planner sees how few they are."""
    ids = list(ids)
    if len(ids) <= ONE_OF_INLINE:
        return field.in_(ids)
    if is_sqlite():
        return field.in_(pw.SQL("(SELECT value FROM json_each(?))", [json.dumps(ids)]))
    return pw.Expression(field, pw.OP.EQ, pw.fn.ANY(pw.Value(ids, unpack=False)))


def through_employee(model):
    """A scope condition for rows that belong to a person: in scope when the person is."""
    def condition(scope, permission):
        # Correlated: checking one row's person, not first listing everyone in scope.
        return pw.fn.EXISTS(Employee.select(pw.SQL("1")).where(
            (Employee.id == model.employee) & employee_condition(scope, permission)))

    return condition


register_object_type("employee_id", Employee, Employee.company, PEOPLE_VIEW, employee_condition)
for _arg, _model in (("assignment_id", Assignment), ("contract_id", Contract), ("document_id", Document),
                     ("training_id", TrainingRecord)):
    register_object_type(_arg, _model, None, PEOPLE_VIEW, through_employee(_model))
register_object_type("import_id", PeopleImport, PeopleImport.company, PEOPLE_IMPORT)

declare_actions({
    "people.employee_created": _l("Employee added"),
    "people.employee_updated": _l("Employee edited"),
    "people.sensitive_revealed": _l("Sensitive field revealed"),
    "people.sensitive_changed": _l("Sensitive field changed"),
    "people.contact_changed": _l("Contact details changed"),
    "people.keys_rotated": _l("Field encryption keys rotated"),
    "people.contract_created": _l("Contract added"),
    "people.contract_updated": _l("Contract edited"),
    "people.contract_reminders_sent": _l("Contract end reminders sent"),
    "people.document_uploaded": _l("Document uploaded"),
    "people.document_archived": _l("Document removed"),
    "people.training_recorded": _l("Training recorded"),
    "people.training_updated": _l("Training record edited"),
    "people.assignment_created": _l("Post assigned"),
    "people.assignment_ended": _l("Assignment ended"),
    "people.imported": _l("People imported"),
    "people.exported": _l("People exported"),
})

# The people domain's approval requests (transfers, secondary posts, contact details), registered at start.
import portal.people.requests  # noqa: E402,F401
