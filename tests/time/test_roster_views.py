"""Roster pages over HTTP: my roster (page and fragment), the grid, cell edits through htmx
(saved, refused with 422), week copy and clear, shift types, rotations, handover notes,
and scope (hr.de sees and changes nothing of mainland China's rosters)."""
import datetime as dt

import pytest

from factories import make_roster_entry, make_roster_person, make_roster_team, make_shift_type, unit_by_code
from portal.accounts.models import User
from portal.time.models import HandoverNote, Rotation, RosterEntry, ShiftType
from portal.time.rosters import week_bounds
from portal.time.services import company_zone, to_local
from portal.core.db import utcnow

MONDAY = dt.date(2025, 5, 5)


@pytest.fixture
def team(db):
    return make_roster_team("EXCN-CS")


@pytest.fixture
def early(team):
    return make_shift_type(team.company, "TE", "08:30", "17:30", name="Early test")


@pytest.fixture
def late(team):
    return make_shift_type(team.company, "TL", "14:00", "23:00", name="Late test")


@pytest.fixture
def person(team):
    return make_roster_person(team)


def cell_url(team, person, day, **extra):
    query = "&".join(f"{k}={v}" for k, v in {"unit": team.id, "employee": person.id, "day": day.isoformat(),
                                               **extra}.items())
    return f"/time/roster/cell?{query}"


def today_in_china():
    return to_local(company_zone(unit_by_code("EXCN")), utcnow()).date()


# --- my roster -------------------------------------------------------------------------------------

def test_my_roster_page_and_fragment(agent_client):
    page = agent_client.get("/time/roster/mine")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "My roster" in html and 'id="my-roster"' in html
    assert "Request a swap" in html and "京东客服A组" in html
    assert "Handover notes" in html and "Leave a note for the next shift" in html
    fragment = agent_client.get("/time/roster/mine", htmx=True)
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "my-shifts" in body
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_my_roster_without_an_employee_record(admin_client):
    response = admin_client.get("/time/roster/mine", htmx=True)
    assert response.status_code == 200
    assert "no employee record" in response.get_data(as_text=True)


def test_the_demo_gives_the_jd_team_a_rotation_and_notes(db):
    lead, agent = (User.get(User.username == name) for name in ("lead.jd", "agent.jd1"))
    from portal.people.models import Employee

    for user in (lead, agent):  # the tests' demo: two weeks or more back, three weeks ahead
        employee = Employee.get(Employee.user == user.id)
        assert RosterEntry.select().where(RosterEntry.employee == employee.id).count() >= 20
    team = unit_by_code("CN-JD-CS-A")
    assert Rotation.select().where(Rotation.unit == team.id).exists()
    assert HandoverNote.select().where(HandoverNote.unit == team.id).count() >= 2
    assert {st.code for st in ShiftType.select().where(ShiftType.company == unit_by_code("EXDE").id)} >= {"F", "S"}


# --- the grid and its cells -------------------------------------------------------------------------

def test_lead_sees_the_week_grid_with_editable_cells(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    year, week, _day = today_in_china().isocalendar()
    page = lead_client.get(f"/time/roster?unit={team.id}&week={year}-W{week:02d}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "cell-button" in html and "Copy previous week" in html and "刘芳" in html
    fragment = lead_client.get(f"/time/roster?unit={team.id}&month={today_in_china():%Y-%m}", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True) and "roster-month" in fragment.get_data(as_text=True)


def test_holidays_and_adjusted_workdays_are_labelled(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    html = lead_client.get(f"/time/roster?unit={team.id}&week=2026-W40", htmx=True).get_data(as_text=True)
    assert "holiday" in html  # National Day, 2026-10-01
    html = lead_client.get(f"/time/roster?unit={team.id}&week=2026-W41", htmx=True).get_data(as_text=True)
    assert "Working day" in html  # Saturday 2026-10-10 is worked (调休)


def test_an_agent_cannot_see_the_grid(agent_client):
    assert agent_client.get("/time/roster").status_code == 403


def test_lead_edits_a_cell_through_htmx(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    person = make_roster_person(team)
    late = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "晚"))
    form = lead_client.get(cell_url(team, person, MONDAY), htmx=True)
    assert form.status_code == 200 and "<select" in form.get_data(as_text=True)
    saved = lead_client.post(cell_url(team, person, MONDAY), {"shift_type": late.id}, htmx=True)
    assert saved.status_code == 200
    assert "晚" in saved.get_data(as_text=True) and "cell-button" in saved.get_data(as_text=True)
    (entry,) = RosterEntry.select().where(RosterEntry.employee == person.id)
    assert (entry.day, entry.shift_type_id, entry.created_by.username) == (MONDAY, late.id, "lead.jd")
    early = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "早"))
    tuesday = MONDAY + dt.timedelta(days=1)
    refused = lead_client.post(cell_url(team, person, tuesday), {"shift_type": early.id}, htmx=True)
    # 晚班 ends 23:00, 早班 starts 08:30: 9.5 h, enough for the demo's 8 h in China
    assert refused.status_code == 200
    overlap = make_shift_type(team.company, "TX", "12:00", "20:00")
    refused = lead_client.post(cell_url(team, person, MONDAY - dt.timedelta(days=0)), {"shift_type": overlap.id},
                               htmx=True)
    assert refused.status_code == 200  # replaces the cell's own shift: no conflict with itself


def test_a_refused_cell_edit_answers_422_with_the_reason(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    person = make_roster_person(team)
    night = make_shift_type(team.company, "TN", "22:00", "07:00", name="Night test")
    early = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "早"))
    make_roster_entry(team, person, MONDAY, night)
    refused = lead_client.post(cell_url(team, person, MONDAY + dt.timedelta(days=1)), {"shift_type": early.id},
                               htmx=True)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "rest" in html and person.display_name in html and "Night test" in html and "<select" in html
    assert RosterEntry.select().where(RosterEntry.employee == person.id).count() == 1


def test_cell_without_htmx_and_cancel(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    person = make_roster_person(team)
    page = lead_client.get(cell_url(team, person, MONDAY))
    assert page.status_code == 200 and "<select" in page.get_data(as_text=True)
    shown = lead_client.get(cell_url(team, person, MONDAY, show=1), htmx=True)
    assert shown.status_code == 200 and "cell-button" in shown.get_data(as_text=True)


def test_copy_and_clear_week(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    monday, _sunday = week_bounds(2025, 19)
    person = make_roster_person(team)
    early = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "早"))
    make_roster_entry(team, person, monday - dt.timedelta(days=7), early)
    response = lead_client.post(f"/time/roster/units/{team.id}/copy-week?week=2025-W19", htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith("week=2025-W19")
    assert RosterEntry.select().where((RosterEntry.employee == person.id) & (RosterEntry.day == monday)).exists()
    response = lead_client.post(f"/time/roster/units/{team.id}/clear-week?week=2025-W19")
    assert response.status_code == 302
    assert not RosterEntry.select().where((RosterEntry.unit == team.id) & (RosterEntry.day == monday)).exists()


# --- scope ----------------------------------------------------------------------------------------------

def test_hr_de_cannot_see_or_edit_mainland_rosters(hr_de_client):
    team = unit_by_code("CN-JD-CS-A")
    person = make_roster_person(team)
    early = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "早"))
    assert hr_de_client.get(f"/time/roster?unit={team.id}").status_code == 404
    assert hr_de_client.get(f"/time/roster?unit={team.id}", htmx=True).status_code == 404
    picker = hr_de_client.get("/time/roster").get_data(as_text=True)
    assert "京东" not in picker and "Kundenservice" in picker
    assert hr_de_client.get(cell_url(team, person, MONDAY)).status_code == 404
    assert hr_de_client.post(cell_url(team, person, MONDAY), {"shift_type": early.id}, htmx=True).status_code == 404
    assert hr_de_client.post(f"/time/roster/units/{team.id}/clear-week?week=2025-W19").status_code == 404
    assert hr_de_client.get(f"/time/roster/shift-types?company={team.company_id}").status_code == 404
    assert hr_de_client.post(f"/time/roster/shift-types/{early.id}/archive").status_code == 404
    assert hr_de_client.get(f"/time/roster/handover?unit={team.id}").status_code == 404
    rotation = Rotation.get(Rotation.unit == team.id)
    assert hr_de_client.post(f"/time/roster/rotations/{rotation.id}/generate",
                             {"start": "2025-05-05", "end": "2025-05-11"}).status_code == 404
    assert not RosterEntry.select().where(RosterEntry.employee == person.id).exists()
    assert ShiftType.get_by_id(early.id).archived_at is None


def test_a_lead_cannot_edit_another_team(lead_client):
    team = unit_by_code("CN-JD-CS-B")
    person = make_roster_person(team)
    early = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "早"))
    assert lead_client.post(cell_url(team, person, MONDAY), {"shift_type": early.id}, htmx=True).status_code == 404


# --- shift types, rotations, handover -----------------------------------------------------------------------

@pytest.fixture
def german_accounts(db):
    """A German marketplace store with two CS accounts (the demo has no German store)."""
    from factories import SYSTEM, make_unit
    from portal.cs.services import create_cs_account

    store = make_unit(unit_by_code("EXDE"), "store", name="Otto-Shop", platform="other")
    return [create_cs_account(SYSTEM, store, code, name) for code, name in (("OTTO-DE", "Otto"),
                                                                             ("AMZ-DE", "Amazon"))]


def test_hr_creates_and_edits_a_shift_type(hr_de_client, german_accounts):
    exde = unit_by_code("EXDE")
    page = hr_de_client.get(f"/time/roster/shift-types?company={exde.id}")
    assert page.status_code == 200 and "Frühschicht" in page.get_data(as_text=True)
    form = hr_de_client.get(f"/time/roster/shift-types/new?company={exde.id}").get_data(as_text=True)
    assert 'type="checkbox"' in form and 'value="OTTO-DE"' in form and "OTTO-DE · Otto" in form
    response = hr_de_client.post(f"/time/roster/shift-types/new?company={exde.id}", {
        "code": "NX", "name": "Nacht extra", "start": "22:00", "end": "06:00", "break_minutes": "30",
        "grace_minutes": "5", "color": "#1f3a93", "cs_accounts": ["OTTO-DE", "AMZ-DE"]})
    assert response.status_code == 302
    shift_type = ShiftType.get((ShiftType.company == exde.id) & (ShiftType.code == "NX"))
    assert shift_type.overnight and shift_type.cs_accounts == '["AMZ-DE", "OTTO-DE"]'
    refused = hr_de_client.post(f"/time/roster/shift-types/{shift_type.id}", {
        "code": "F", "name": "Nacht extra", "start": "22:00", "end": "06:00", "break_minutes": "30",
        "grace_minutes": "5", "color": "#1f3a93", "version": shift_type.version}, htmx=True)
    assert refused.status_code == 422 and "already has a shift type" in refused.get_data(as_text=True)


def test_a_shift_type_staffs_only_the_companys_active_accounts(hr_de_client, german_accounts):
    from portal.cs.services import archive_cs_account
    from factories import SYSTEM

    exde = unit_by_code("EXDE")
    values = {"code": "NY", "name": "Nacht", "start": "22:00", "end": "06:00", "break_minutes": "30",
              "grace_minutes": "5", "color": "#1f3a93"}
    refused = hr_de_client.post(f"/time/roster/shift-types/new?company={exde.id}",
                                {**values, "cs_accounts": ["OTTO-DE", "JD-MAIN"]}, htmx=True)
    assert refused.status_code == 422 and "no active CS account with the code JD-MAIN" in refused.get_data(
        as_text=True)
    assert not ShiftType.select().where((ShiftType.company == exde.id) & (ShiftType.code == "NY")).exists()
    assert hr_de_client.post(f"/time/roster/shift-types/new?company={exde.id}",
                             {**values, "cs_accounts": ["OTTO-DE"]}).status_code == 302
    shift_type = ShiftType.get((ShiftType.company == exde.id) & (ShiftType.code == "NY"))
    # An archived account the shift type already lists stays on it (and is shown as archived) …
    archive_cs_account(SYSTEM, german_accounts[0])
    form = hr_de_client.get(f"/time/roster/shift-types/{shift_type.id}").get_data(as_text=True)
    assert "OTTO-DE · Otto (archived)" in form and "checked" in form
    kept = hr_de_client.post(f"/time/roster/shift-types/{shift_type.id}",
                             {**values, "name": "Nacht 2", "cs_accounts": ["OTTO-DE"],
                              "version": shift_type.version})
    assert kept.status_code == 302 and ShiftType.get_by_id(shift_type.id).cs_accounts == '["OTTO-DE"]'
    # … but is not offered to another one, and no account at all is fine.
    other = hr_de_client.post(f"/time/roster/shift-types/new?company={exde.id}",
                              {**values, "code": "NZ", "cs_accounts": ["OTTO-DE"]}, htmx=True)
    assert other.status_code == 422
    assert hr_de_client.post(f"/time/roster/shift-types/new?company={exde.id}",
                             {**values, "code": "NZ"}).status_code == 302
    assert ShiftType.get((ShiftType.company == exde.id) & (ShiftType.code == "NZ")).cs_accounts == "[]"


def test_lead_saves_and_generates_a_rotation(lead_client):
    team = unit_by_code("CN-JD-CS-A")
    page = lead_client.get(f"/time/roster/rotations?unit={team.id}")
    assert page.status_code == 200 and "A/B" in page.get_data(as_text=True)
    person = make_roster_person(team)
    response = lead_client.post(f"/time/roster/rotations/new?unit={team.id}", {
        "name": "Test rotation", "pattern": "早 早 - -", "anchor_date": "2025-05-05",
        f"member-{person.id}-label": "A", f"member-{person.id}-offset": "0"})
    assert response.status_code == 302
    rotation = Rotation.get(Rotation.name == "Test rotation")
    response = lead_client.post(f"/time/roster/rotations/{rotation.id}/generate",
                                {"start": "2025-05-05", "end": "2025-05-11"}, htmx=True)
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    assert RosterEntry.select().where(RosterEntry.rotation == rotation.id).count() == 4


def test_handover_notes_page(agent_client, lead_client):
    team = unit_by_code("CN-JD-CS-A")
    page = lead_client.get(f"/time/roster/handover?unit={team.id}")
    assert page.status_code == 200 and "优惠券" in page.get_data(as_text=True)
    response = lead_client.post(f"/time/roster/handover?unit={team.id}",
                                {"day": today_in_china().isoformat(), "shift_type": "", "body": "交接：测试"})
    assert response.status_code == 302
    assert "交接：测试" in agent_client.get(f"/time/roster/handover?unit={team.id}", htmx=True).get_data(as_text=True)
    empty = lead_client.post(f"/time/roster/handover?unit={team.id}",
                             {"day": today_in_china().isoformat(), "body": ""}, htmx=True)
    assert empty.status_code == 422
