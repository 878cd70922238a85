"""Test data through the services, so factories obey the same rules as the app."""
import itertools

from portal.accounts.models import Role
from portal.accounts.services import create_role, create_user, grant_role
from portal.core.permissions import Actor
from portal.org.models import OrgUnit
from portal.org.services import create_unit

_sequence = itertools.count(1)
SYSTEM = Actor.system()


def unit_by_code(code):
    return OrgUnit.get(OrgUnit.code == code)


def make_unit(parent, kind="team", name=None, code=None, **kwargs):
    n = next(_sequence)
    return create_unit(SYSTEM, parent, kind, code or f"T-{kind[:3].upper()}-{n}", name or f"Test {kind} {n}", **kwargs)


def make_user(unit, username=None, password="secret-pass-1", role_key=None, grant_unit=None, descendants=True):
    user = create_user(SYSTEM, unit, username or f"user{next(_sequence)}", "Test User", password)
    if role_key:
        grant_role(SYSTEM, user, Role.get(Role.builtin_key == role_key), grant_unit or unit, descendants)
    return user


def make_role(unit, permissions, name=None):
    return create_role(SYSTEM, unit, name or f"Role {next(_sequence)}", "", permissions)


# --- posts and assignments (helper D) ----------------------------------------------------

def make_post(company, code=None, title=None, capacity=100, headcount_plan=1, skills=()):
    """A post of `company` (a unit or its code); `skills` is [(skill name, level)]."""
    from portal.posts.services import create_post

    company = unit_by_code(company) if isinstance(company, str) else company
    n = next(_sequence)
    return create_post(SYSTEM, company, code or f"POST-{n}", title or f"Test post {n}", headcount_plan=headcount_plan,
                       capacity=capacity, skills=skills)


def make_assignment(employee, post, unit, share=100, start_date=None, end_date=None, is_primary=False):
    """`employee` holds `post` in `unit` (a unit or its code) from `start_date` (by default a year ago)."""
    import datetime as dt

    from portal.people.assignments import assign_post

    unit = unit_by_code(unit) if isinstance(unit, str) else unit
    start_date = start_date or dt.date.today() - dt.timedelta(days=365)
    return assign_post(SYSTEM, employee, post, unit, share, start_date, end_date, is_primary)


# --- employee records (helper A) --------------------------------------------------------

def make_employee(company, **values):
    """A person employed by `company` (a unit or its code). `values` are create_employee's:
    number, legal_name, hire_date, status, national_id, bank_account, username, email, …"""
    import datetime as dt

    from portal.people.services import create_employee

    company = unit_by_code(company) if isinstance(company, str) else company
    n = next(_sequence)
    values = {"number": f"T{n:06d}", "legal_name": f"Test Person {n}", "hire_date": dt.date(2022, 3, 1),
              "status": "active", **values}
    return create_employee(SYSTEM, company, values)


def make_contract(employee, **values):
    """A contract of `employee`: permanent from the hire date, 40 hours, 10,000 in the company's currency."""
    from decimal import Decimal

    from portal.people.services import create_contract

    values = {"contract_type": "permanent", "start_date": employee.hire_date, "weekly_hours": Decimal("40"),
              "base_pay": Decimal("10000"), **values}
    return create_contract(SYSTEM, employee, values)


def make_document(employee, data=b"%PDF-1.4\n%test document\n", filename="document.pdf", title="", category="other"):
    """A document of `employee`, stored like an upload (the app's UPLOAD_DIR)."""
    from portal.people.services import add_document

    return add_document(SYSTEM, employee, data, filename, title=title, category=category)


# --- import files (helper C) ------------------------------------------------------------------------

SMALL_IMPORT = "number,legal_name,hire_date\nIMP-1,Import Test,2024-01-01\n"


def make_people_import(company, username, content=SMALL_IMPORT, kind="employees", checked=False):
    """A file uploaded by `username` for import into `company` (a unit or its code); with
    `checked`, mapped by its column names and checked, ready to import."""
    import io

    from portal.accounts.models import User
    from portal.people import imports

    company = unit_by_code(company) if isinstance(company, str) else company
    actor = Actor.for_user(User.get(User.username == username))
    people_import = imports.upload_import(actor, company, kind, "import.csv", io.BytesIO(content.encode("utf-8")))
    if checked:
        headers = imports.import_headers(people_import)
        people_import = imports.save_mapping(actor, people_import, imports.suggest_mapping(company, kind, headers))
        imports.validate_import(actor, people_import)
    return people_import


def make_training(employee, **values):
    """A passed training record of `employee`."""
    import datetime as dt

    from portal.people.services import record_training

    values = {"course": "Service basics", "completed_on": dt.date(2023, 4, 3), "hours": 8, "result": "passed",
              **values}
    return record_training(SYSTEM, employee, values)


# --- approval requests (helper B) -------------------------------------------------------------------

def make_contact_change(user, **changes):
    """A request by `user` (a User or username) to change contact details of their own
    record (e.g. address="…"), waiting for their company's HR. The demo gives most
    accounts a record; one is made for those without."""
    from portal.accounts.models import User
    from portal.approvals.services import submit_request
    from portal.people.models import Employee

    user = User.get(User.username == user) if isinstance(user, str) else user
    record = Employee.get_or_none(Employee.user == user.id) or make_employee(
        user.unit.company_id or user.unit_id, username=user.username)
    return submit_request(Actor.for_user(user), "people.contact_change", record,
                          changes or {"address": f"Changed address {next(_sequence)}"})
