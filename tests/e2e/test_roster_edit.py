"""Editing a roster cell in a real browser: lead.jd opens the week grid of 京东客服A组,
clicks a cell, chooses a shift in the little htmx form and sees the cell change in
place; a shift that leaves too little rest after a night shift is refused with the
reason shown in the cell, and nothing is saved.

Run with `pytest -m e2e` (or `pytest tests/e2e`)."""
import datetime as dt

import pytest
from playwright.sync_api import expect

from factories import make_roster_entry, make_roster_person, make_shift_type, unit_by_code
from portal.time.models import RosterEntry, ShiftType

pytestmark = pytest.mark.e2e

WEEK = "2025-W19"
MONDAY = dt.date(2025, 5, 5)
MARKER = "window.__fairshareE2E"


@pytest.fixture
def roster(app):
    """A person of the JD team A with a night shift on Tuesday of a week far from the demo's rosters."""
    team = unit_by_code("CN-JD-CS-A")
    person = make_roster_person(team)
    night = make_shift_type(team.company, "TN", "22:00", "07:00", name="夜班测试")
    make_roster_entry(team, person, MONDAY + dt.timedelta(days=1), night)
    late = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "晚"))
    early = ShiftType.get((ShiftType.company == team.company_id) & (ShiftType.code == "早"))
    return {"team": team, "person": person, "late": late, "early": early}


def cell(page, person, day):
    return page.locator(f"#cell-{person.id}-{day.isoformat()}")


def test_lead_edits_a_roster_cell(page, login, roster, tmp_path):
    person, team = roster["person"], roster["team"]
    login(page, "lead.jd")
    page.goto(f"/time/roster?unit={team.id}&week={WEEK}")
    page.evaluate(f"{MARKER} = 'same page'")  # survives htmx swaps, dies with a page load

    monday = cell(page, person, MONDAY)
    monday.locator("button.cell-button").click()
    monday.locator("select").select_option(str(roster["late"].id))
    monday.locator("button[type=submit]").click()
    expect(monday.locator(".shift-chip")).to_have_text("晚")
    expect(monday.locator("select")).to_have_count(0)
    assert RosterEntry.select().where((RosterEntry.employee == person.id) & (RosterEntry.day == MONDAY)).count() == 1

    wednesday = cell(page, person, MONDAY + dt.timedelta(days=2))
    wednesday.locator("button.cell-button").click()
    wednesday.locator("select").select_option(str(roster["early"].id))
    wednesday.locator("button[type=submit]").click()
    expect(wednesday.locator("[role=alert]")).to_contain_text(person.display_name)
    expect(wednesday.locator("[role=alert]")).to_contain_text("夜班测试")
    assert not RosterEntry.select().where((RosterEntry.employee == person.id)
                                          & (RosterEntry.day == MONDAY + dt.timedelta(days=2))).exists()
    page.screenshot(path=str(tmp_path / "roster-edit-1366.png"), full_page=True, caret="initial")
    page.screenshot(path="/tmp/helper_a_e2e_roster.png", full_page=True, caret="initial")

    wednesday.get_by_role("button", name="Cancel").click()
    expect(wednesday.locator("select")).to_have_count(0)
    assert page.evaluate(MARKER) == "same page"
