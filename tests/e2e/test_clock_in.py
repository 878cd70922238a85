"""Clocking in on a phone in a real browser: agent.jd1 (刘芳) opens My time at
375 px, taps the big button, and the card is swapped in place (htmx, no page
load) with the punch recorded, the message and the button turned to Clock out.

Run with `pytest -m e2e` (or `pytest tests/e2e`).
"""
import pytest
from playwright.sync_api import expect

from portal.accounts.models import User
from portal.people.models import Employee
from portal.time.models import ClockEvent

pytestmark = pytest.mark.e2e

MARKER = "window.__fairshareE2E"


def screenshot(page, path):
    """caret="initial": hiding the caret leaves style="" on inputs, which htmx's settle
    step copies onto swapped-in fields — an inline style the CSP refuses."""
    page.screenshot(path=str(path), full_page=True, caret="initial")


def test_clocking_in_at_phone_width(phone_page, login, tmp_path):
    person = Employee.get(Employee.user == User.get(User.username == "agent.jd1").id)
    before = ClockEvent.select().where(ClockEvent.employee == person.id).count()
    login(phone_page, "agent.jd1")
    phone_page.goto("/time/clock/me")
    button = phone_page.locator("button.clock-button")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["width"] >= 280 and box["height"] >= 70, box  # one big button, thumb-sized
    shown = button.inner_text().strip()
    if shown != "Clock in":  # the demo left 刘芳 clocked in: clock out first, so the test taps Clock in
        button.click()
        expect(phone_page.locator(".clock-notice")).to_contain_text("Clocked out at")
        before += 1
        phone_page.goto("/time/clock/me")
    phone_page.evaluate(f"{MARKER} = 'same page'")
    phone_page.locator("button.clock-button").click()
    expect(phone_page.locator(".clock-notice")).to_contain_text("Clocked in at")
    expect(phone_page.locator("button.clock-button")).to_have_text("Clock out")
    assert phone_page.evaluate(MARKER) == "same page"  # swapped in place, not a page load
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out sideways
    screenshot(phone_page, tmp_path / "my-time-375.png")
    latest = ClockEvent.select().where(ClockEvent.employee == person.id).order_by(ClockEvent.at.desc()).first()
    assert ClockEvent.select().where(ClockEvent.employee == person.id).count() == before + 1
    assert (latest.kind, latest.source) == ("in", "portal")
    expect(phone_page.locator("ol.clock-today li").last).to_contain_text("In")
