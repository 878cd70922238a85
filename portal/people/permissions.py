import datetime as dt

import peewee as pw

from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions
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


def employee_condition(scope, permission, today=None):
    """People in scope: employed by a company in scope, or holding a current or
    coming assignment in a unit in scope (兼岗: scope follows the assignment)."""
    today = today or dt.date.today()
    # The units in scope, read once: as plain ids in the condition, no subquery is
    # evaluated again for every person (PostgreSQL would, inside the EXISTS below).
    units = list(OrgUnit.select(OrgUnit.id, OrgUnit.kind).where(scope.unit_condition(permission)).tuples())
    holding = Assignment.unit.in_([unit_id for unit_id, _kind in units] or [0]) & (
        Assignment.end_date.is_null() | (Assignment.end_date >= today))
    company_ids = [unit_id for unit_id, kind in units if kind == "company"]
    # Same rule, two shapes, for speed on large lists. A scope holding a company sees
    # mostly the people it employs; the others are checked one by one through the
    # assignment index (EXISTS), instead of first gathering every assignment in scope.
    # Below company level nobody is employed by a unit in scope: the few people
    # assigned there are the whole scope, a small set the query can start from.
    if company_ids:
        return Employee.company.in_(company_ids) | pw.fn.EXISTS(
            Assignment.select(pw.SQL("1")).where((Assignment.employee == Employee.id) & holding))
    return Employee.id.in_(Assignment.select(Assignment.employee).where(holding))


def _through_employee(model):
    def condition(scope, permission):
        # Correlated: checking one row's person, not first listing everyone in scope.
        return pw.fn.EXISTS(Employee.select(pw.SQL("1")).where(
            (Employee.id == model.employee) & employee_condition(scope, permission)))

    return condition


register_object_type("employee_id", Employee, Employee.company, PEOPLE_VIEW, employee_condition)
for _arg, _model in (("assignment_id", Assignment), ("contract_id", Contract), ("document_id", Document),
                     ("training_id", TrainingRecord)):
    register_object_type(_arg, _model, None, PEOPLE_VIEW, _through_employee(_model))
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
