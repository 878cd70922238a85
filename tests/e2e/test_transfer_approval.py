"""A transfer (调岗) through the approval engine in a real browser: the request
form, each step's approver finding it in their inbox (with the count in the
menu) and approving it with a comment through the htmx decision form, the
person's posts changing from the day it takes effect, and the requester seeing
it approved with its history.

The chain is the default one, team lead → company HR, of the unit the person
leaves (京东客服A组). The administrator files it: lead.jd leads that team and
hr.cn is its company's HR, so each step has a demo login to decide it (had
hr.cn filed it, the engine would pass the HR step over, since nobody decides
their own request and hr.cn is the company's only HR).

Run with `pytest -m e2e` (or `pytest tests/e2e`).
"""
import datetime as dt
import re

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from portal.accounts.models import User
from portal.org.models import OrgUnit
from portal.people.models import Assignment, Employee
from portal.posts.models import Post

pytestmark = pytest.mark.e2e

FROM_TEAM, TO_TEAM = "京东客服A组", "京东客服B组"
REASON = "B组大促期间人手不足，调往B组支援。"
MARKER = "window.__fairshareE2E"
DAYS_AHEAD = 14


@pytest.fixture
def transfer(app):
    """Who moves where: agent.jd1 (刘芳) leaves their primary post in team A for the
    same post in team B, two weeks from today."""
    person = Employee.get(Employee.user == User.get(User.username == "agent.jd1").id)
    leaving = Assignment.get((Assignment.employee == person.id) & Assignment.is_primary
                             & Assignment.end_date.is_null())
    to_unit = OrgUnit.get(OrgUnit.code == "CN-JD-CS-B")
    return {
        "person": person,
        "assignment": leaving,
        "to_unit": to_unit,
        "to_post": Post.get((Post.company == to_unit.company_id) & (Post.code == "CS-JD-01")),
        "effective_date": dt.date.today() + dt.timedelta(days=DAYS_AHEAD),
    }


def log_out(page):
    with page.expect_navigation():
        page.locator("form[action$='/logout'] button[type=submit]").click()


def screenshot(page, path):
    """A full-page screenshot for a person to look at. caret="initial": hiding the caret
    leaves style="" on every input, which htmx's settle step then copies onto the
    swapped-in fields — an inline style the CSP refuses."""
    page.screenshot(path=str(path), full_page=True, caret="initial")


def shown_date(page, day):
    """`day` as the page's |date('medium') shows it, in the page's language."""
    return format_date(day, "medium", locale=page.evaluate("document.documentElement.lang").replace("-", "_"))


def file_transfer(page, transfer, tmp_path):
    """Fill in and send the transfer form; returns the new request's path."""
    page.goto(f"/approvals/new/people.transfer?employee={transfer['person'].id}")
    form = page.locator("#new-request")
    expect(form.locator("#assignment")).to_have_value(str(transfer["assignment"].id))  # the primary post first
    # Choosing the unit reloads the form with that unit's company's posts.
    with page.expect_response(lambda r: "/approvals/new/people.transfer" in r.url and r.request.method == "GET"):
        form.locator("#to_unit").select_option(str(transfer["to_unit"].id))
    expect(form.locator("#to_unit")).to_have_value(str(transfer["to_unit"].id))
    form.locator("#to_post").select_option(str(transfer["to_post"].id))
    expect(form.locator("#share")).to_have_value(str(transfer["assignment"].share))
    form.locator("#effective_date").fill(transfer["effective_date"].isoformat())
    form.locator("#reason").fill(REASON)
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, tmp_path / "new-request-1280.png")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/approvals/requests/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("sent for approval")
    return re.search(r"/approvals/requests/\d+$", page.url).group(0)


def waiting_in_menu(page):
    """The figure beside "Approvals" in the main menu (opening the menu on a phone)."""
    toggle = page.locator("details.menu > summary")
    folded = toggle.is_visible()
    if folded:
        toggle.click()
    badge = page.locator(".mainnav a[href$='/approvals'] .badge.count")
    expect(badge).to_be_visible()
    waiting = int(badge.inner_text())
    if folded:  # the open drop-down lies over the page
        toggle.click()
    return waiting


def approve_from_inbox(page, request_path, comment, screenshot_path=None):
    """Find the request in the inbox (the menu's count matching it), open it and
    approve it with `comment`; the decision swaps in without a page load."""
    page.goto("/approvals")
    rows = page.locator("#inbox tbody tr")
    entry = rows.filter(has=page.locator(f"a[href$='{request_path}']"))
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(FROM_TEAM)
    assert waiting_in_menu(page) == rows.count()
    if screenshot_path:
        screenshot(page, screenshot_path)
    with page.expect_navigation():
        entry.locator(f"a[href$='{request_path}']").click()
    page.evaluate(f"{MARKER} = 'same page'")  # survives htmx swaps, dies with a page load
    decision = page.locator("#request article.decision")
    decision.locator("textarea[name=comment]").fill(comment)
    decision.locator("button[value=approve]").click()
    request = page.locator("#request")
    expect(request.locator(".flash-success")).to_contain_text("You approved the request.")
    expect(request.locator("article.decision")).to_have_count(0)
    expect(request.locator("ol.chain")).to_contain_text(comment)
    assert page.evaluate(MARKER) == "same page"
    page.goto("/approvals")
    expect(page.locator(f"#inbox a[href$='{request_path}']")).to_have_count(0)


def test_a_transfer_goes_through_lead_and_hr_and_moves_the_person(page, phone_page, login, transfer, tmp_path):
    # The administrator files the transfer; the person's team lead is to decide first.
    login(page, "admin")
    request_path = file_transfer(page, transfer, tmp_path)
    request = page.locator("#request")
    expect(request.locator("h2 .badge")).to_have_text("Pending")
    expect(request.locator("dl.facts")).to_contain_text(f"{transfer['to_post'].title} · {TO_TEAM}")
    steps = request.locator("ol.chain > li")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text("Team lead")
    expect(steps.nth(0).locator(".badge")).to_have_text("Deciding now")
    expect(steps.nth(1)).to_contain_text("Company HR")
    expect(request.locator("article.decision")).to_have_count(0)  # nobody decides their own request
    screenshot(page, tmp_path / "request-1280.png")
    log_out(page)

    # The team lead, on a phone.
    login(phone_page, "lead.jd")
    approve_from_inbox(phone_page, request_path, "同意，B组大促缺人。", screenshot_path=tmp_path / "inbox-375.png")
    phone_page.goto(request_path)
    steps = phone_page.locator("#request ol.chain > li")
    expect(steps.nth(0).locator(".badge")).to_have_text("Approved")
    expect(steps.nth(1).locator(".badge")).to_have_text("Deciding now")

    # The company's HR decides last: the transfer is made.
    login(page, "hr.cn")
    approve_from_inbox(page, request_path, "已核对编制，同意调岗。")
    page.goto(request_path)
    expect(page.locator("#request h2 .badge")).to_have_text("Approved")

    # The person's posts: team A up to the day before, team B from the day it takes effect.
    page.goto(f"/people/{transfer['person'].id}/posts")
    rows = page.locator("#profile-tabs table tbody tr")
    old = rows.filter(has_text=FROM_TEAM).filter(has_text=shown_date(page, transfer["assignment"].start_date))
    new = rows.filter(has_text=TO_TEAM).filter(has_text=shown_date(page, transfer["effective_date"]))
    expect(new).to_have_count(1)
    expect(new).to_contain_text(transfer["to_post"].title)
    expect(new).to_contain_text("Primary")
    expect(old).to_have_count(1)
    expect(old).to_contain_text(shown_date(page, transfer["effective_date"] - dt.timedelta(days=1)))
    log_out(page)

    # The requester is told, and sees it approved, who decided each step, and its history.
    login(page, "admin")
    page.locator(".topbar a.notify-link").click()
    told = page.locator("#notifications li.unread").filter(has=page.locator(f"a[href$='{request_path}']"))
    expect(told).to_contain_text("Your request is approved")
    with page.expect_navigation():
        told.locator("a").click()
    request = page.locator("#request")
    expect(request.locator("h2 .badge")).to_have_text("Approved")
    expect(request.locator("dl.facts")).to_contain_text("Applied")
    steps = request.locator("ol.chain > li")
    expect(steps.nth(0)).to_contain_text("陈伟")
    expect(steps.nth(0)).to_contain_text("同意，B组大促缺人。")
    expect(steps.nth(1)).to_contain_text("赵静")
    expect(steps.nth(1)).to_contain_text("已核对编制，同意调岗。")
    history = request.locator("ul.event-list > li")
    expect(history).to_have_count(4)
    expect(history.nth(0)).to_contain_text("Approval requested")
    expect(history.nth(1)).to_contain_text("Approval step approved")
    expect(history.nth(2)).to_contain_text("Approval step approved")
    expect(history.nth(3)).to_contain_text("Approved change applied")
