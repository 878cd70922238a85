"""Contracts (validation, pay in minor units, optimistic edits, expiry reminders)
and training records."""
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from factories import SYSTEM, make_contract, make_employee, make_training
from portal.approvals.models import Notification
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.core.jobs import start_job
from portal.people import services
from portal.people.models import Contract

TODAY = dt.date.today()


@pytest.fixture
def person(db):
    return make_employee("EXCN", legal_name="孙丽", hire_date=dt.date(2022, 3, 1))


def contract_values(**overrides):
    return {"contract_type": "fixed_term", "start_date": dt.date(2024, 1, 1), "end_date": dt.date(2026, 12, 31),
            "probation_end": dt.date(2024, 3, 31), "weekly_hours": Decimal("40"), "base_pay": Decimal("8500.50"),
            "currency": "", "notes": "", **overrides}


# --- contracts ----------------------------------------------------------------------------

def test_a_contract_takes_the_companys_currency_and_pay_in_minor_units(hr_cn, person):
    contract = services.create_contract(hr_cn, person, contract_values())
    assert (contract.currency, contract.base_pay_minor) == ("CNY", 850050)
    event = AuditEvent.select().where((AuditEvent.action == "people.contract_created")
                                      & (AuditEvent.object_id == str(contract.id))).get()
    assert "850050" not in event.after  # pay is masked in the trail


@pytest.mark.parametrize("overrides,field", [
    ({"contract_type": "zero_hours"}, "contract_type"),
    ({"start_date": None}, "start_date"),
    ({"end_date": dt.date(2023, 12, 31)}, "end_date"),
    ({"end_date": dt.date(2024, 1, 1)}, "end_date"),
    ({"probation_end": dt.date(2023, 12, 1)}, "probation_end"),
    ({"probation_end": dt.date(2027, 1, 31)}, "probation_end"),
    ({"weekly_hours": Decimal("0")}, "weekly_hours"),
    ({"weekly_hours": Decimal("90")}, "weekly_hours"),
    ({"currency": "XYZ"}, "currency"),
    ({"base_pay": Decimal("100.123")}, "base_pay"),
    ({"base_pay": Decimal("-1")}, "base_pay"),
    ({"currency": "JPY", "base_pay": Decimal("1000.5")}, "base_pay"),
])
def test_contract_rules(hr_cn, person, overrides, field):
    with pytest.raises(ServiceError) as error:
        services.create_contract(hr_cn, person, contract_values(**overrides))
    assert error.value.field == field
    assert not Contract.select().where(Contract.employee == person.id).exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
       currency=st.sampled_from(["CNY", "EUR", "HKD", "USD"]))
def test_pay_survives_the_round_trip_exactly(person, amount, currency):
    contract = services.create_contract(SYSTEM, person, contract_values(base_pay=amount, currency=currency))
    assert services.contract_pay(contract) == amount
    assert isinstance(contract.base_pay_minor, int)


def test_editing_a_contract_is_optimistic_and_a_new_end_asks_for_a_new_reminder(hr_cn, person):
    contract = make_contract(person, contract_type="fixed_term", end_date=TODAY + dt.timedelta(days=5))
    Contract.update(expiry_reminded_at=dt.datetime(2025, 1, 1)).where(Contract.id == contract.id).execute()
    contract = Contract.get_by_id(contract.id)
    longer = contract_values(start_date=person.hire_date, end_date=TODAY + dt.timedelta(days=400), probation_end=None)
    edited = services.update_contract(hr_cn, contract, contract.version, longer)
    assert edited.version == contract.version + 1 and edited.expiry_reminded_at is None
    with pytest.raises(ServiceError, match="changed this contract meanwhile"):
        services.update_contract(hr_cn, contract, contract.version, contract_values())


def test_hr_of_another_company_cannot_add_a_contract(person, hr_de):
    with pytest.raises(NotInScope):
        services.create_contract(hr_de, person, contract_values())


# --- reminders ------------------------------------------------------------------------------

@pytest.fixture
def ending(person):
    return make_contract(person, contract_type="fixed_term", start_date=dt.date(2024, 1, 1),
                         end_date=TODAY + dt.timedelta(days=12))


def notified_users(contract_message="people.contract_expiring"):
    return {n.user.username for n in Notification.select().where(Notification.message == contract_message)}


def test_reminders_reach_the_people_managers_of_the_company_once(ending, person):
    later = make_contract(make_employee("EXCN"), contract_type="fixed_term", start_date=dt.date(2024, 1, 1),
                          end_date=TODAY + dt.timedelta(days=90))
    before = Notification.select().count()
    reminded = services.send_contract_reminders(SYSTEM)
    assert reminded >= 1
    assert {"hr.cn", "admin"} <= notified_users() and "hr.de" not in notified_users()
    mine = Notification.select().where(Notification.link == f"/people/{person.id}/contracts").get()
    assert "孙丽" in mine.params
    assert Contract.get_by_id(ending.id).expiry_reminded_at is not None
    assert Contract.get_by_id(later.id).expiry_reminded_at is None
    sent = Notification.select().count() - before
    assert services.send_contract_reminders(SYSTEM) == 0
    assert Notification.select().count() - before == sent


def test_reminders_run_as_a_background_job_and_a_command(app, ending):
    job = start_job("people.contract_reminders")
    assert job.state == "succeeded" and Contract.get_by_id(ending.id).expiry_reminded_at is not None
    Contract.update(expiry_reminded_at=None).where(Contract.id == ending.id).execute()
    result = app.test_cli_runner().invoke(args=["people", "remind-contracts"])
    assert result.exit_code == 0 and "Reminded HR of" in result.output
    assert Contract.get_by_id(ending.id).expiry_reminded_at is not None


def test_the_profile_marks_a_contract_ending_soon(ending, person, hr_cn_client):
    body = hr_cn_client.get(f"/people/{person.id}/contracts").get_data(as_text=True)
    assert "Ends soon" in body and "Contract ends soon" in body
    assert "¥10,000.00" in body  # HR sees pay


def test_a_lead_sees_the_contracts_of_their_team_but_not_the_pay(ending, person, lead_client):
    from factories import make_assignment, make_post

    make_assignment(person, make_post("EXCN"), "CN-JD-CS-A", share=100, is_primary=True)
    body = lead_client.get(f"/people/{person.id}/contracts", htmx=True).get_data(as_text=True)
    assert "Fixed term" in body and "10,000" not in body


# --- contract and training forms ----------------------------------------------------------------

def test_the_contract_form_shows_errors_next_to_fields(person, hr_cn_client):
    url = f"/people/{person.id}/contracts/new"
    page = hr_cn_client.get(url).get_data(as_text=True)
    assert 'value="CNY"' in page
    response = hr_cn_client.post(url, {"contract_type": "fixed_term", "start_date": "2024-05-01",
                                       "end_date": "2024-04-01", "weekly_hours": "40", "base_pay": "9000",
                                       "currency": "CNY"})
    assert response.status_code == 422
    assert 'id="end_date-error">The end date must be after the start date.' in response.get_data(as_text=True)
    ok = hr_cn_client.post(url, {"contract_type": "permanent", "start_date": "2024-05-01", "weekly_hours": "37.5",
                                 "base_pay": "9000", "currency": "CNY"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/people/{person.id}/contracts")


def test_a_stale_contract_form_is_refused(person, hr_cn_client):
    contract = make_contract(person)
    data = {"contract_type": "permanent", "start_date": "2022-03-01", "weekly_hours": "40", "base_pay": "1",
            "currency": "CNY", "version": str(contract.version)}
    assert hr_cn_client.post(f"/people/contracts/{contract.id}", data).status_code == 302
    stale = hr_cn_client.post(f"/people/contracts/{contract.id}", data)
    assert stale.status_code == 422 and "changed this contract meanwhile" in stale.get_data(as_text=True)


def test_a_training_record_is_edited(person, hr_cn):
    record = make_training(person, course="Excel 进阶")
    edited = services.update_training(hr_cn, record, {"course": "Excel 高级", "completed_on": dt.date(2024, 1, 2),
                                                      "hours": Decimal("12.5"), "result": "passed", "score": "95"})
    assert (edited.course, edited.hours, edited.score) == ("Excel 高级", Decimal("12.5"), "95")
    assert AuditEvent.select().where((AuditEvent.action == "people.training_updated")
                                     & (AuditEvent.object_id == str(record.id))).exists()


@pytest.mark.parametrize("overrides,field", [({"course": ""}, "course"), ({"result": "great"}, "result"),
                                             ({"hours": Decimal("-1")}, "hours"), ({"completed_on": None},
                                                                                   "completed_on")])
def test_training_rules(person, hr_cn, overrides, field):
    values = {"course": "C", "completed_on": dt.date(2024, 1, 2), "hours": 1, "result": "passed", **overrides}
    with pytest.raises(ServiceError) as error:
        services.record_training(hr_cn, person, values)
    assert error.value.field == field
