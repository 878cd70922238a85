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


# --- clock (time, helper B) -------------------------------------------------------------------------

def make_clock_person(unit="CN-JD-CS-A", password="secret-pass-1"):
    """A person of `unit`'s company (a unit or its code) holding a primary post in `unit`
    (so its leads see them), with a login account of their own. Returns (employee, user)."""
    from portal.people.models import Employee

    unit = unit_by_code(unit) if isinstance(unit, str) else unit
    company = unit.company if unit.company_id else unit
    user = make_user(unit, password=password, role_key="employee")
    employee = make_employee(company, username=user.username)
    make_assignment(employee, make_post(company), unit, is_primary=True)
    return Employee.get_by_id(employee.id), user


def make_rostered_shift(employee, day, start_minute=9 * 60, end_minute=18 * 60, unit=None):
    """`employee` rostered on local `day` from start to end (minutes after midnight;
    an end at or before the start ends the next day), on a shift type made for those times."""
    from portal.time.models import RosterEntry, ShiftType
    from portal.time.services import company_zone, shift_bounds

    unit = unit or employee.unit
    company_id = employee.company_id
    shift_type, _created = ShiftType.get_or_create(
        company=company_id, code=f"T{start_minute}-{end_minute}",
        defaults={"name": f"Test shift {start_minute // 60:02d}–{end_minute // 60:02d}", "start_minute": start_minute,
                  "end_minute": end_minute})
    starts_at, ends_at = shift_bounds(shift_type, day, company_zone(employee.company))
    return RosterEntry.create(employee=employee.id, unit=unit, company=company_id, day=day, shift_type=shift_type,
                              starts_at=starts_at, ends_at=ends_at)


def make_clock_event(employee, at, kind="in", source="portal", **values):
    from portal.time.models import ClockEvent

    return ClockEvent.create(employee=employee.id, at=at, kind=kind, source=source, **values)


# --- attendance (time, helper C) ----------------------------------------------------------------------

def make_team_member(unit, legal_name=None, start_date=None):
    """A person of `unit`'s company holding a post in `unit` (a unit or its code) since `start_date`."""
    import datetime as dt

    unit = unit_by_code(unit) if isinstance(unit, str) else unit
    company = unit if unit.kind == "company" else unit.company
    employee = make_employee(company, **({"legal_name": legal_name} if legal_name else {}))
    make_assignment(employee, make_post(company), unit, start_date=start_date or dt.date(2024, 1, 1),
                    is_primary=True)
    return employee


def make_attendance_shift(employee, day, start_minute=9 * 60, end_minute=18 * 60, break_minutes=0, grace_minutes=5,
                          unit=None):
    """`employee` rostered on local `day` on a shift type with these times, break and grace."""
    from portal.time.models import RosterEntry, ShiftType
    from portal.time.services import company_zone, shift_bounds

    shift_type, _created = ShiftType.get_or_create(
        company=employee.company_id, code=f"A{start_minute}-{end_minute}-{break_minutes}-{grace_minutes}"[:16],
        defaults={"name": "Attendance test shift", "start_minute": start_minute, "end_minute": end_minute,
                  "break_minutes": break_minutes, "grace_minutes": grace_minutes})
    starts_at, ends_at = shift_bounds(shift_type, day, company_zone(employee.company))
    return RosterEntry.create(employee=employee.id, unit=unit or employee.unit_id, company=employee.company_id, day=day,
                              shift_type=shift_type, starts_at=starts_at, ends_at=ends_at,
                              break_minutes=break_minutes)


def make_approved_leave(employee, start_date, end_date=None, start_minute=None, end_minute=None):
    """Approved leave of `employee`: whole days, or hours on one day when minutes are given."""
    from portal.time.models import LeaveRequest, LeaveType

    unit = "hour" if start_minute is not None else "day"
    leave_type, _created = LeaveType.get_or_create(company=employee.company_id, code=f"ATT-{unit}",
                                                   defaults={"name": f"Test leave ({unit})", "unit": unit})
    return LeaveRequest.create(employee=employee.id, leave_type=leave_type, start_date=start_date,
                               end_date=end_date or start_date, start_minute=start_minute, end_minute=end_minute,
                               amount=100, state="approved")


# --- leave (helper D, time) ---------------------------------------------------------------------

def make_leave_type(company, **values):
    """A leave type of `company` (a unit or its code): by default annual leave in days,
    needing a balance, no accrual."""
    from portal.time.leave import create_leave_type

    company = unit_by_code(company) if isinstance(company, str) else company
    n = next(_sequence)
    values = {"code": f"LT{n}", "name": f"Test leave {n}", "paid": True, "unit": "day", "accrual": "none",
              "accrual_amount": 0, "carry_over_cap": None, "needs_balance": True, "color": "#2e9d6a", **values}
    return create_leave_type(SYSTEM, company, values)


def give_leave(employee, leave_type, amount, kind="opening", day=None, period=""):
    """A ledger entry of `amount` hundredths for `employee` in `leave_type` (an opening balance by default)."""
    import datetime as dt

    from portal.time.models import LeaveLedger

    return LeaveLedger.create(employee=employee, leave_type=leave_type, day=day or dt.date(2025, 1, 1),
                              amount=amount, kind=kind, period=period)


def make_leave_request(employee, leave_type, start, end=None, user=None, **values):
    """A pending leave request of `employee` (through the approval engine), asked for by
    `user` (by default the person's own account, made if they have none)."""
    from portal.accounts.models import User
    from portal.time.leave import submit_leave

    if user is None:
        if employee.user_id is None:
            from portal.people.models import Employee

            account = make_user(employee.unit)
            Employee.update(user=account.id).where(Employee.id == employee.id).execute()
            employee = Employee.get_by_id(employee.id)
        user = User.get_by_id(employee.user_id)
    user = User.get(User.username == user) if isinstance(user, str) else user
    return submit_leave(Actor.for_user(user), employee, {
        "leave_type": leave_type.id, "start_date": start, "end_date": end or start, "start_time": None,
        "end_time": None, "reason": "", **values})


# --- rosters (time, helper A) -------------------------------------------------------------------------

def make_shift_type(company, code=None, start="08:00", end="17:00", break_minutes=60, name=None, **values):
    """A shift type of `company` (a unit or its code) from `start` to `end` (local "HH:MM")."""
    import datetime as dt

    from portal.time.rosters import create_shift_type

    company = unit_by_code(company) if isinstance(company, str) else company
    n = next(_sequence)
    return create_shift_type(SYSTEM, company, {
        "code": code or f"S{n}", "name": name or f"Shift {n}", "start": dt.time.fromisoformat(start),
        "end": dt.time.fromisoformat(end), "break_minutes": break_minutes, "grace_minutes": 5, **values})


def make_roster_team(parent, code=None):
    """A team under `parent` (a unit or its code) for roster tests, with a lead (`team.lead_user`)."""
    parent = unit_by_code(parent) if isinstance(parent, str) else parent
    team = make_unit(parent, "team", code=code)
    team.lead_user = make_user(team, role_key="team_lead")
    return team


def make_roster_person(team, since=None, with_account=True, share=100):
    """A person of the team's company holding a post in `team` (a unit) since `since`, with a login."""
    import datetime as dt

    user = make_user(team) if with_account else None
    person = make_employee(team.company, **({"username": user.username} if user else {}))
    make_assignment(person, make_post(team.company), team, share=share, start_date=since or dt.date(2024, 1, 1))
    return person


def make_roster_entry(team, person, day, shift_type, source="manual"):
    """`person` rostered on `shift_type` on `day` in `team`, written straight (no conflict check)."""
    from portal.time.models import RosterEntry
    from portal.time.rosters import entry_row
    from portal.time.services import company_zone

    row = entry_row(team, person.id, day, shift_type, company_zone(team), source)
    return RosterEntry.create(**{**row, "shift_type": shift_type.id})


def make_approved_leave(person, start, end=None):
    """Approved leave of `person` from `start` to `end`, written straight."""
    from portal.time.models import LeaveRequest, LeaveType

    leave_type = LeaveType.get_or_none((LeaveType.company == person.company_id) & (LeaveType.code == "T-ANNUAL")) \
        or LeaveType.create(company=person.company_id, code="T-ANNUAL", name="Test annual leave")
    return LeaveRequest.create(employee=person, leave_type=leave_type, start_date=start, end_date=end or start,
                               amount=100, state="approved")


def make_clock_import(company, username, content="工号,打卡时间,状态\nNOBODY,2025-05-12 08:56,签到\n"):
    """A device export uploaded by `username` into `company` (a unit or its code)."""
    import io

    from portal.accounts.models import User
    from portal.time.clock_import import upload_clock_import

    company = unit_by_code(company) if isinstance(company, str) else company
    actor = Actor.for_user(User.get(User.username == username))
    return upload_clock_import(actor, company, "export.csv", io.BytesIO(content.encode("utf-8")))
