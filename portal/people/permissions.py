import datetime as dt

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
    units = OrgUnit.select(OrgUnit.id).where(scope.unit_condition(permission))
    assigned = Assignment.select(Assignment.employee).where(
        Assignment.unit.in_(units) & (Assignment.end_date.is_null() | (Assignment.end_date >= today)))
    return Employee.company.in_(units) | Employee.id.in_(assigned)


def _through_employee(model):
    def condition(scope, permission):
        return model.employee.in_(Employee.select(Employee.id).where(employee_condition(scope, permission)))

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
    "people.keys_rotated": _l("Field encryption keys rotated"),
    "people.contract_created": _l("Contract added"),
    "people.contract_updated": _l("Contract edited"),
    "people.document_uploaded": _l("Document uploaded"),
    "people.document_archived": _l("Document removed"),
    "people.training_recorded": _l("Training recorded"),
    "people.assignment_created": _l("Post assigned"),
    "people.assignment_ended": _l("Assignment ended"),
    "people.imported": _l("People imported"),
    "people.exported": _l("People exported"),
})
