"""Employee records through the services, without HTTP: creating, editing,
validation, optimistic locking, company changes and approved contact changes."""
import datetime as dt

import pytest

from factories import SYSTEM, make_employee, make_user, unit_by_code
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.people import services
from portal.people.models import Employee

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def fang(db):
    return make_employee("EXCN", number="tst-0123", legal_name="刘芳", preferred_name="Fang", email="Liu.Fang@Example.cn",
                         national_id="110101199003071234", bank_account="6222 0210 0112 3456")


def values(**overrides):
    return {"number": "TST-0777", "legal_name": "周晨", "hire_date": dt.date(2023, 6, 1), "status": "probation",
            **overrides}


def events(action):
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


# --- creating ----------------------------------------------------------------------

def test_create_fills_home_unit_search_text_and_audits(hr_cn, excn):
    person = services.create_employee(hr_cn, excn, values(preferred_name="Chen", email="Zhou.Chen@Example.CN"))
    assert (person.company_id, person.unit_id, person.number, person.status) == (excn.id, excn.id, "TST-0777",
                                                                                  "probation")
    assert person.email == "zhou.chen@example.cn"
    assert person.search_text == "tst-0777 周晨 chen zhou.chen@example.cn"
    [event] = events("people.employee_created")
    assert (event.object_type, event.object_id, event.unit_id) == ("employee", str(person.id), excn.id)


def test_the_number_is_unique_in_the_whole_group(fang):
    with pytest.raises(ServiceError) as error:
        services.create_employee(SYSTEM, unit_by_code("EXDE"), values(number=" TST-0123 "))
    assert error.value.field == "number"


@pytest.mark.parametrize("overrides,field", [
    ({"legal_name": "  "}, "legal_name"),
    ({"number": "no spaces allowed"}, "number"),
    ({"hire_date": None}, "hire_date"),
    ({"status": "retired"}, "status"),
    ({"status": "left"}, "leaving_date"),
    ({"leaving_date": dt.date(2020, 1, 1)}, "leaving_date"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "call me maybe"}, "phone"),
    ({"nationality": "XX"}, "nationality"),
    ({"username": "nobody.here"}, "username"),
])
def test_bad_values_are_refused_next_to_their_field(hr_cn, excn, overrides, field):
    before = Employee.select().count()
    with pytest.raises(ServiceError) as error:
        services.create_employee(hr_cn, excn, values(**overrides))
    assert error.value.field == field
    assert Employee.select().count() == before


def test_hr_cannot_add_people_to_another_company(hr_de, excn):
    with pytest.raises(NotInScope):
        services.create_employee(hr_de, excn, values())


def test_a_login_account_links_once(hr_cn, excn):
    account = make_user(excn, username="zhou.chen")
    person = services.create_employee(hr_cn, excn, values(username="Zhou.Chen"))
    assert person.user_id == account.id
    assert services.employee_of_user(account).id == person.id
    with pytest.raises(ServiceError) as error:
        services.create_employee(hr_cn, excn, values(number="TST-0778", username="zhou.chen"))
    assert error.value.field == "username"


# --- editing -----------------------------------------------------------------------

def test_edit_keeps_search_text_and_records_before_and_after(hr_cn, fang):
    edited = services.update_employee(hr_cn, fang, fang.version,
                                      values(number=fang.number, legal_name="刘芳芳", status="on_leave"))
    assert edited.version == fang.version + 1
    assert edited.search_text.startswith("tst-0123 刘芳芳")
    [event] = events("people.employee_updated")
    assert "刘芳" in event.before and "刘芳芳" in event.after
    assert "110101199003071234" not in event.before + event.after


def test_an_edit_on_a_stale_version_is_refused(hr_cn, fang):
    services.update_employee(hr_cn, fang, fang.version, values(number=fang.number, legal_name="刘芳"))
    with pytest.raises(ServiceError, match="changed this record meanwhile"):
        services.update_employee(hr_cn, fang, fang.version, values(number=fang.number, legal_name="别人"))
    assert Employee.get_by_id(fang.id).legal_name == "刘芳"


def test_hr_of_another_company_cannot_edit(hr_de, fang):
    with pytest.raises(NotInScope):
        services.update_employee(hr_de, fang, fang.version, values(number=fang.number))


def test_a_new_employing_company_re_encrypts_the_sensitive_fields(fang):
    exhk = unit_by_code("EXHK")
    moved = services.update_employee(SYSTEM, fang, fang.version, values(number=fang.number, legal_name="刘芳"), exhk)
    assert (moved.company_id, moved.unit_id) == (exhk.id, exhk.id)
    assert moved.national_id != fang.national_id and moved.bank_account != fang.bank_account
    assert services.read_sensitive(moved, "national_id") == "110101199003071234"
    assert services.read_sensitive(moved, "bank_account") == "6222 0210 0112 3456"
    assert moved.national_id_index != fang.national_id_index  # the blind index is per company


# --- contact changes (approved requests) ----------------------------------------------

def test_contact_fields_name_only_contact_details():
    assert set(services.contact_fields()) == {"email", "phone", "address", "emergency_contact_name",
                                              "emergency_contact_relation", "emergency_contact_phone"}


def test_an_approved_contact_change_is_written_and_audited(hr_cn, fang):
    changed = services.apply_contact_change(hr_cn, fang, {"phone": "+86 138 0000 0000", "email": "New@Example.cn"})
    assert (changed.phone, changed.email) == ("+86 138 0000 0000", "new@example.cn")
    assert changed.search_text.endswith("new@example.cn")
    [event] = events("people.contact_changed")
    assert "liu.fang@example.cn" in event.before and "new@example.cn" in event.after


@pytest.mark.parametrize("change", [{"legal_name": "Someone else"}, {"email": "broken"}, {"national_id": "1"}])
def test_a_contact_change_touches_nothing_else_and_is_checked(hr_cn, fang, change):
    with pytest.raises(ServiceError):
        services.apply_contact_change(hr_cn, fang, change)
    assert Employee.get_by_id(fang.id).version == fang.version
