"""CS set-up services (portal/cs/services.py): accounts, sub-accounts, bindings over
dates, workstations, and what they mean for scope and for stale attribution runs."""
import datetime as dt
import json

import pytest

from factories import SYSTEM, make_assignment, make_employee, make_post, make_shift_type, make_unit, unit_by_code
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.cs import services
from portal.cs.models import CsAccount, CsAccountBinding, CsAttributionRun, CsSubAccountBinding, CsWorkstation
from portal.time.models import ShiftType

D = dt.date(2031, 3, 1)  # far from the demo's own attribution runs
DAY = dt.timedelta(days=1)


@pytest.fixture
def jd(db):
    return unit_by_code("CN-JD")


@pytest.fixture
def account(hr_cn, jd):
    return services.create_cs_account(hr_cn, jd, "SET-UP", "设置测试", kind="shared", split_rule="equal",
                                      service_start_minute=9 * 60, service_end_minute=1440)


@pytest.fixture
def personal(hr_cn, jd):
    return services.create_cs_account(hr_cn, jd, "SET-VIP", "VIP 专席", kind="personal")


@pytest.fixture
def person(db):
    return make_employee("EXCN", legal_name="孙丽")


@pytest.fixture
def other_person(db):
    return make_employee("EXCN", legal_name="周强")


@pytest.fixture
def march_run(db):
    """An attribution run of EXCN over March 2031, not stale."""
    return CsAttributionRun.create(company=unit_by_code("EXCN").id, period_start=D, period_end=dt.date(2031, 3, 31))


def stale(run):
    return CsAttributionRun.get_by_id(run.id).stale


def events(action):
    return AuditEvent.select().where(AuditEvent.action == action).count()


# --- service hours ----------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("09:00–24:00", (540, 1440)),
    ("9:00-18:00", (540, 1080)),
    ("20:00–02:00", (1200, 120)),  # past midnight
    ("00:00–24:00", (0, 1440)),  # around the clock
    ("08:30 ~ 00:00", (510, 1440)),  # an end of 00:00 is midnight
    ("09：00 至 22：00", (540, 1320)),
])
def test_service_hours_are_parsed(text, expected):
    assert services.parse_service_hours(text) == expected


@pytest.mark.parametrize("text", ["", "9-18", "24:00–02:00", "09:00–24:30", "09:60–18:00", "09:00–25:00", "abc"])
def test_bad_service_hours_are_refused_on_their_field(text):
    with pytest.raises(ServiceError) as error:
        services.parse_service_hours(text)
    assert error.value.field == "service_hours"


def test_service_hours_round_trip():
    assert services.format_service_hours(*services.parse_service_hours("20:00-02:00")) == "20:00–02:00"
    assert services.format_service_hours(0, 1440) == "00:00–24:00"


def test_service_hours_ending_when_they_start_are_refused(hr_cn, jd):
    with pytest.raises(ServiceError) as error:
        services.create_cs_account(hr_cn, jd, "SAME", "Same", service_start_minute=540, service_end_minute=540)
    assert error.value.field == "service_hours"


# --- accounts ----------------------------------------------------------------------------------

def test_create_account_is_audited_in_the_stores_company(account, jd):
    assert account.company_id == jd.company_id and account.store_id == jd.id
    assert (account.service_start_minute, account.service_end_minute) == (540, 1440)
    assert AuditEvent.select().where((AuditEvent.action == "cs.account_created")
                                     & (AuditEvent.object_id == str(account.id))).exists()


@pytest.mark.parametrize("code,name,field", [("", "x", "code"), ("JD MAIN", "x", "code"), ("A/B", "x", "code"),
                                             ("OK", "  ", "name"), ("OK", "x" * 121, "name")])
def test_create_account_checks_code_and_name(hr_cn, jd, code, name, field):
    with pytest.raises(ServiceError) as error:
        services.create_cs_account(hr_cn, jd, code, name)
    assert error.value.field == field


def test_codes_are_unique_in_the_company_only(hr_cn, account, jd, db):
    with pytest.raises(ServiceError) as error:
        services.create_cs_account(hr_cn, unit_by_code("CN-TM"), "SET-UP", "Twin")
    assert error.value.field == "code"
    # Hong Kong is another company: the same code is free there.
    assert services.create_cs_account(SYSTEM, unit_by_code("HK-TM"), "SET-UP", "HK twin").company_id != jd.company_id


def test_an_account_belongs_to_a_store(hr_cn):
    with pytest.raises(ServiceError) as error:
        services.create_cs_account(hr_cn, unit_by_code("EXCN-CS"), "DEPT", "Department")
    assert error.value.field == "store"


def test_update_account_and_version_conflict(hr_cn, account, jd):
    saved = services.update_cs_account(hr_cn, account, account.version, jd, "SET-UP", "改名", "shared", "presence",
                                       480, 1320)
    assert (saved.name, saved.split_rule, saved.version) == ("改名", "presence", account.version + 1)
    with pytest.raises(ServiceError, match="changed this account meanwhile"):
        services.update_cs_account(hr_cn, account, account.version, jd, "SET-UP", "Stale", "shared", "equal", 0,
                                   1440)
    assert CsAccount.get_by_id(account.id).name == "改名"


def test_update_keeps_the_account_in_its_company(hr_cn, account):
    with pytest.raises((ServiceError, NotInScope)):
        services.update_cs_account(hr_cn, account, account.version, unit_by_code("HK-TM"), "SET-UP", "x", "shared",
                                   "equal", 0, 1440)
    with pytest.raises(ServiceError) as error:
        services.update_cs_account(SYSTEM, account, account.version, unit_by_code("HK-TM"), "SET-UP", "x", "shared",
                                   "equal", 0, 1440)
    assert error.value.field == "store"


def test_a_new_code_follows_into_the_shift_types(hr_cn, account, jd):
    shift = make_shift_type("EXCN", cs_accounts=["SET-UP", "OTHER"])
    services.update_cs_account(hr_cn, account, account.version, jd, "SET-NEW", account.name, "shared", "equal",
                               540, 1440)
    assert json.loads(ShiftType.get_by_id(shift.id).cs_accounts) == ["OTHER", "SET-NEW"]
    assert [s.id for s in services.shift_types_staffing(CsAccount.get_by_id(account.id))] == [shift.id]


def test_archive_and_restore(hr_cn, account, person):
    archived = services.archive_cs_account(hr_cn, account)
    assert archived.archived_at is not None and archived.version == account.version + 1
    with pytest.raises(ServiceError):
        services.archive_cs_account(hr_cn, archived)
    with pytest.raises(ServiceError, match="restore it first"):
        services.create_sub_account(hr_cn, archived, "waiter")
    restored = services.restore_cs_account(hr_cn, archived)
    assert restored.archived_at is None
    with pytest.raises(ServiceError):
        services.restore_cs_account(hr_cn, restored)
    assert events("cs.account_archived") == 1 and events("cs.account_restored") == 1


def test_archived_accounts_are_listed_only_when_asked_for(hr_cn, account, jd):
    services.archive_cs_account(hr_cn, account)
    rows, _next = services.list_cs_accounts(hr_cn.scope, "cs.view", services.AccountFilters(store_id=jd.id))
    assert account.id not in [r.id for r in rows]
    rows, _next = services.list_cs_accounts(hr_cn.scope, "cs.view", services.AccountFilters(archived=True))
    assert [r.id for r in rows] == [account.id]
    assert services.account_code_choices(jd.company_id) == [
        (code, label) for code, label in services.account_code_choices(jd.company_id) if code != "SET-UP"]
    assert ("SET-UP", "SET-UP · 设置测试 (archived)") in services.account_code_choices(jd.company_id, keep=["SET-UP"])
    assert services.unknown_account_codes(jd.company_id, ["SET-UP", "NOPE"]) == ["SET-UP", "NOPE"]
    assert services.unknown_account_codes(jd.company_id, ["SET-UP", "NOPE"], allowed=["SET-UP"]) == ["NOPE"]


def test_list_filters_and_holders(hr_cn, account, personal, person, jd):
    services.bind_personal_account(hr_cn, personal, person, dt.date.today() - DAY)
    rows, has_next = services.list_cs_accounts(hr_cn.scope, "cs.view", services.AccountFilters(q="SET-"))
    assert [r.code for r in rows] == ["SET-UP", "SET-VIP"] and not has_next
    assert rows[1].holder.id == person.id and rows[0].holder is None
    rows, _next = services.list_cs_accounts(hr_cn.scope, "cs.view",
                                            services.AccountFilters(kind="personal", q="SET-"))
    assert [r.code for r in rows] == ["SET-VIP"]
    rows, _next = services.list_cs_accounts(hr_cn.scope, "cs.view", services.AccountFilters(platform="tmall"))
    assert rows and all(r.store.platform == "tmall" for r in rows)
    rows, has_next = services.list_cs_accounts(hr_cn.scope, "cs.view", services.AccountFilters(), per_page=2)
    assert len(rows) == 2 and has_next


# --- personal bindings ---------------------------------------------------------------------------

def test_only_a_personal_account_is_bound(hr_cn, account, person):
    with pytest.raises(ServiceError) as error:
        services.bind_personal_account(hr_cn, account, person, D)
    assert error.value.field == "employee"


def test_one_holder_at_a_time(hr_cn, personal, person, other_person):
    first = services.bind_personal_account(hr_cn, personal, person, D, D + 9 * DAY)
    with pytest.raises(ServiceError, match="孙丽 holds it") as error:
        services.bind_personal_account(hr_cn, personal, other_person, D + 9 * DAY)
    assert error.value.field == "valid_from"
    with pytest.raises(ServiceError):  # an open binding reaching over the first
        services.bind_personal_account(hr_cn, personal, other_person, D - 5 * DAY)
    second = services.bind_personal_account(hr_cn, personal, other_person, D + 10 * DAY)
    assert [b.id for b in services.account_bindings(personal)] == [second.id, first.id]
    # ending the first later would now overlap the second
    with pytest.raises(ServiceError) as error:
        services.end_account_binding(hr_cn, first, D + 12 * DAY)
    assert error.value.field == "valid_to"
    with pytest.raises(ServiceError, match="cannot come before"):
        services.end_account_binding(hr_cn, first, D - DAY)
    assert services.end_account_binding(hr_cn, first, D + 3 * DAY).valid_to == D + 3 * DAY
    assert events("cs.account_bound") == 2 and events("cs.account_binding_ended") == 1


def test_binding_dates_are_checked(hr_cn, personal, person):
    with pytest.raises(ServiceError) as error:
        services.bind_personal_account(hr_cn, personal, person, D, D - DAY)
    assert error.value.field == "valid_to"
    with pytest.raises(ServiceError) as error:
        services.bind_personal_account(hr_cn, personal, person, None)
    assert error.value.field == "valid_from"
    with pytest.raises(ServiceError) as error:
        services.bind_personal_account(hr_cn, personal, None, D)
    assert error.value.field == "employee"


def test_current_holders(hr_cn, personal, person, other_person):
    today = dt.date.today()
    services.bind_personal_account(hr_cn, personal, person, today - 10 * DAY, today - DAY)
    services.bind_personal_account(hr_cn, personal, other_person, today)
    assert services.current_holders([personal.id])[personal.id].id == other_person.id
    assert services.current_holders([personal.id], today - 2 * DAY)[personal.id].id == person.id
    assert services.current_holders([]) == {}


# --- sub-accounts ----------------------------------------------------------------------------------

def test_sub_account_create_bind_and_end(hr_cn, account, person, other_person):
    sub = services.create_sub_account(hr_cn, account, " 京东旗舰店:小孙 ")
    assert sub.name == "京东旗舰店:小孙"
    with pytest.raises(ServiceError) as error:
        services.create_sub_account(hr_cn, account, "京东旗舰店:小孙")
    assert error.value.field == "name"
    binding = services.bind_sub_account(hr_cn, sub, person, D)
    with pytest.raises(ServiceError, match="one person at a time"):
        services.bind_sub_account(hr_cn, sub, other_person, D + 5 * DAY)
    ended = services.end_sub_account_binding(hr_cn, binding, D + 4 * DAY)
    assert ended.valid_to == D + 4 * DAY
    handed_over = services.bind_sub_account(hr_cn, sub, other_person, D + 5 * DAY)
    (listed,) = services.sub_accounts_of(account)
    assert [b.id for b in listed.binding_rows] == [handed_over.id, binding.id]
    assert listed.binding_rows[0].employee.legal_name == "周强"
    assert CsSubAccountBinding.select().where(CsSubAccountBinding.sub_account == sub.id).count() == 2


def test_a_shared_account_has_sub_accounts_but_a_bad_name_is_refused(hr_cn, account):
    for name in ("", "   ", "x" * 121):
        with pytest.raises(ServiceError):
            services.create_sub_account(hr_cn, account, name)


# --- workstations -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,value,stored", [
    ("ip", " 10.8.21.20 ", "10.8.21.20"),
    ("ip", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ("workstation", "  CN-JD-PC07 ", "CN-JD-PC07"),
])
def test_workstation_values_are_normalised(kind, value, stored):
    assert services.normalise_workstation(kind, value) == stored


@pytest.mark.parametrize("kind,value", [("ip", "10.8.21"), ("ip", "010.8.21.20"), ("ip", "host"),
                                        ("workstation", ""), ("workstation", "x" * 65), ("printer", "x")])
def test_bad_workstation_values_are_refused(kind, value):
    with pytest.raises(ServiceError):
        services.normalise_workstation(kind, value)


def test_register_workstation_and_overlap(hr_cn, person, other_person):
    first = services.register_workstation(hr_cn, person, "ip", "10.8.21.99", "工位", D, D + 9 * DAY)
    assert (first.value, first.company_id, first.label) == ("10.8.21.99", person.company_id, "工位")
    with pytest.raises(ServiceError, match="already registered") as error:
        services.register_workstation(hr_cn, person, "ip", " 10.8.21.99", "", D + 9 * DAY)
    assert error.value.field == "value"
    # after the first ends, and for another person (a shared desk), the address may be registered
    assert services.register_workstation(hr_cn, person, "ip", "10.8.21.99", "", D + 10 * DAY)
    assert services.register_workstation(hr_cn, other_person, "ip", "10.8.21.99", "", D)
    # a workstation name with the same text is another thing
    assert services.register_workstation(hr_cn, person, "workstation", "10.8.21.99", "", D)
    assert [w.valid_to for w in services.workstations_of(person)].count(None) == 2


def test_register_workstation_defaults_to_today_and_checks_the_label(hr_cn, person):
    with pytest.raises(ServiceError) as error:
        services.register_workstation(hr_cn, person, "ip", "10.1.1.1", "x" * 81)
    assert error.value.field == "label"
    station = services.register_workstation(hr_cn, person, "ip", "10.1.1.1")
    assert station.valid_from == services.company_today(unit_by_code("EXCN"))


def test_remove_workstation_ends_one_in_use_and_deletes_a_new_one(hr_cn, person):
    today = D + 20 * DAY
    used = services.register_workstation(hr_cn, person, "ip", "10.1.1.2", "", D)
    kept = services.remove_workstation(hr_cn, used, today=today)
    assert kept.valid_to == today - DAY
    with pytest.raises(ServiceError, match="already ended"):
        services.remove_workstation(hr_cn, kept, today=today)
    fresh = services.register_workstation(hr_cn, person, "ip", "10.1.1.3", "", today)
    assert services.remove_workstation(hr_cn, fresh, today=today) is None
    assert not CsWorkstation.select().where(CsWorkstation.id == fresh.id).exists()
    assert events("cs.workstation_ended") == 1 and events("cs.workstation_removed") == 1


def test_list_workstations_filters(hr_cn, person):
    services.register_workstation(hr_cn, person, "ip", "10.77.1.1", "Desk", D - 30 * DAY, D - 20 * DAY)
    services.register_workstation(hr_cn, person, "workstation", "PC-77", "", D - 30 * DAY)
    filters = services.WorkstationFilters(q=person.number)
    rows, _next = services.list_workstations(hr_cn.scope, "cs.workstations", filters, today=D)
    assert [r.value for r in rows] == ["PC-77"]
    rows, _next = services.list_workstations(hr_cn.scope, "cs.workstations",
                                             services.WorkstationFilters(q="10.77.", ended=True), today=D)
    assert [(r.value, r.employee.id) for r in rows] == [("10.77.1.1", person.id)]


# --- scope --------------------------------------------------------------------------------------------

def test_a_company_hr_cannot_touch_another_companys_accounts(hr_de, hr_cn, account, personal, person, jd):
    sub = services.create_sub_account(hr_cn, account, "waiter")
    binding = services.bind_personal_account(hr_cn, personal, person, D)
    station = services.register_workstation(hr_cn, person, "ip", "10.1.2.3", "", D)
    refused = [
        lambda: services.create_cs_account(hr_de, jd, "DE-TAKE", "Take"),
        lambda: services.update_cs_account(hr_de, account, account.version, jd, "SET-UP", "Taken", "shared",
                                           "equal", 0, 1440),
        lambda: services.archive_cs_account(hr_de, account),
        lambda: services.create_sub_account(hr_de, account, "intruder"),
        lambda: services.bind_sub_account(hr_de, sub, person, D),
        lambda: services.end_account_binding(hr_de, binding, D + DAY),
        lambda: services.register_workstation(hr_de, person, "ip", "10.9.9.9"),
        lambda: services.remove_workstation(hr_de, station),
    ]
    before = AuditEvent.select().count()
    for attempt in refused:
        with pytest.raises(NotInScope):
            attempt()
    assert AuditEvent.select().count() == before
    assert CsAccount.get_by_id(account.id).name == "设置测试"


def test_china_hr_cannot_bind_a_hong_kong_account_nor_a_hong_kong_person(hr_cn, personal, db):
    hk_account = services.create_cs_account(SYSTEM, unit_by_code("HK-TM"), "HK-VIP", "HK VIP", kind="personal")
    hk_person = make_employee("EXHK")
    with pytest.raises(NotInScope):
        services.bind_personal_account(hr_cn, hk_account, make_employee("EXCN"), D)
    with pytest.raises(NotInScope):
        services.bind_personal_account(hr_cn, personal, hk_person, D)
    rows, _next = services.list_cs_accounts(hr_cn.scope, "cs.view", services.AccountFilters(q="HK-VIP"))
    assert rows == []


def test_a_team_lead_registers_workstations_of_the_team_but_sets_up_no_accounts(lead, jd_team, jd, account):
    member = make_employee("EXCN")
    make_assignment(member, make_post("EXCN"), jd_team)
    assert services.register_workstation(lead, member, "ip", "10.8.21.250").employee_id == member.id
    elsewhere = make_employee("EXCN")
    make_assignment(elsewhere, make_post("EXCN"), make_unit(jd, "team"))
    with pytest.raises(NotInScope):
        services.register_workstation(lead, elsewhere, "ip", "10.8.21.251")
    with pytest.raises(NotInScope):
        services.create_cs_account(lead, jd, "LEAD", "Lead's")
    with pytest.raises(NotInScope):
        services.create_sub_account(lead, account, "lead's waiter")


# --- stale attribution runs ------------------------------------------------------------------------------

def test_bindings_mark_the_runs_they_touch_stale(hr_cn, account, personal, person, march_run):
    services.bind_personal_account(hr_cn, personal, person, dt.date(2031, 5, 1), dt.date(2031, 5, 31))
    assert not stale(march_run)
    binding = services.bind_personal_account(hr_cn, personal, person, dt.date(2031, 3, 20), dt.date(2031, 4, 10))
    assert stale(march_run)
    CsAttributionRun.update(stale=False).execute()
    services.end_account_binding(hr_cn, binding, dt.date(2031, 4, 5))  # only April changes
    assert not stale(march_run)
    services.end_account_binding(hr_cn, CsAccountBinding.get_by_id(binding.id), dt.date(2031, 3, 25))
    assert stale(march_run)
    CsAttributionRun.update(stale=False).execute()
    sub = services.create_sub_account(hr_cn, account, "waiter")
    assert not stale(march_run)
    services.bind_sub_account(hr_cn, sub, person, dt.date(2031, 2, 1))  # open-ended: reaches March
    assert stale(march_run)


def test_workstations_mark_the_runs_they_touch_stale(hr_cn, person, march_run):
    services.register_workstation(hr_cn, person, "ip", "10.5.5.5", "", dt.date(2031, 1, 1), dt.date(2031, 2, 28))
    assert not stale(march_run)
    station = services.register_workstation(hr_cn, person, "ip", "10.5.5.6", "", dt.date(2031, 3, 2))
    assert stale(march_run)
    CsAttributionRun.update(stale=False).execute()
    services.remove_workstation(hr_cn, station, today=dt.date(2031, 3, 15))
    assert stale(march_run)


def test_account_changes_mark_runs_stale_only_when_attribution_reads_them(hr_cn, account, jd, march_run):
    CsAttributionRun.update(stale=False).execute()
    saved = services.update_cs_account(hr_cn, account, account.version, jd, "SET-UP", "Only the name", "shared",
                                       "equal", 540, 1440)
    assert not stale(march_run)
    services.update_cs_account(hr_cn, saved, saved.version, jd, "SET-UP", "Only the name", "shared", "capacity",
                               540, 1440)
    assert stale(march_run)
