"""The org tree in a real browser: htmx swaps, the menu, and the phone layout.

Run with `pytest -m e2e` (or `pytest tests/e2e`); each test takes a few seconds.
"""
import re

import pytest
from playwright.sync_api import expect

from portal.org.models import OrgUnit

pytestmark = pytest.mark.e2e

COMPANY = "示例电商（上海）有限公司"
STORE = "京东旗舰店"
EXISTING_TEAM = "京东客服A组"
NEW_TEAM = "京东夜间客服组"
NEW_CODE = "CN-JD-CS-NIGHT"
MARKER = "window.__fairshareE2E"


def branch(page, name):
    """The tree row of the unit called `name` (its toggle, link and list below)."""
    return page.locator(".org-tree li.branch").filter(has=page.locator("> a.node", has_text=name))


def open_branch(page, name):
    row = branch(page, name)
    row.locator("> details.twisty > summary").click()
    expect(row.locator("> details.twisty")).to_have_attribute("open", "")
    return row


def test_add_a_team_below_a_store_without_reloading_the_page(page, login, tmp_path):
    login(page, "admin")
    page.locator(".mainnav a[href$='/org']").click()
    expect(page).to_have_url(re.compile(r"/org$"))
    # Anything set on window survives htmx swaps and dies with a full page load.
    page.evaluate(f"{MARKER} = 'same page'")

    open_branch(page, COMPANY)
    store_row = open_branch(page, STORE)
    expect(store_row.locator("a.node", has_text=EXISTING_TEAM)).to_be_visible()

    store_row.locator("> a.node").click()
    panel = page.locator("#unit-panel")
    expect(panel.locator("h2")).to_contain_text(STORE)
    expect(page).to_have_url(re.compile(r"/org/units/\d+$"))
    expect(store_row.locator("> a.node")).to_be_visible()  # the tree is still there

    # The form loads when its <details> opens (hx-trigger="toggle once"): expect() waits for it.
    add = panel.locator("details.action[data-form='create']")
    add.locator("> summary").click()
    form = add.locator("form[action$='/children']")
    expect(form.locator("#new-kind")).to_have_value("team")
    form.locator("#new-name").fill(NEW_TEAM)
    form.locator("#new-code").fill(NEW_CODE)
    form.locator("button[type=submit]").click()

    expect(panel.locator(".flash")).to_contain_text(NEW_TEAM)
    expect(panel.locator(".child-list")).to_contain_text(NEW_TEAM)
    expect(panel.locator("h2")).to_contain_text(STORE)
    # The open branch reloads itself (org-tree-changed) and stays open.
    expect(store_row.locator("a.node", has_text=NEW_TEAM)).to_be_visible()
    expect(store_row.locator("a.node", has_text=EXISTING_TEAM)).to_be_visible()
    expect(branch(page, COMPANY).locator("> details.twisty")).to_have_attribute("open", "")
    assert page.evaluate(MARKER) == "same page", "the page was reloaded"

    team = OrgUnit.get(OrgUnit.code == NEW_CODE)
    assert (team.kind, team.name, team.parent.name) == ("team", NEW_TEAM, STORE)
    page.screenshot(path=tmp_path / "org-tree.png", full_page=True)

    page.locator(".topbar form[action$='/logout'] button").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator(".mainnav")).to_have_count(0)


def test_phone_menu_and_org_tree_fit_the_screen(phone_page, login, tmp_path):
    page = phone_page
    login(page, "admin")
    width = page.viewport_size["width"]

    menu = page.locator("details.menu")
    nav = page.locator(".mainnav")
    expect(menu.locator("summary")).to_be_visible()
    expect(nav).to_be_hidden()
    menu.locator("summary").click()
    expect(nav).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    nav.locator("a[href$='/org']").click()

    expect(page).to_have_url(re.compile(r"/org$"))
    expect(nav).to_be_hidden()  # a new page: the menu is closed again
    tree = page.locator(".org-tree")
    unit_panel = page.locator("#unit-panel")
    expect(unit_panel.locator("h2")).to_be_visible()
    # Stacked: the tree above the panel, each as wide as the screen allows.
    tree_box, panel_box = tree.bounding_box(), unit_panel.bounding_box()
    assert tree_box["y"] + tree_box["height"] <= panel_box["y"]
    assert tree_box["x"] + tree_box["width"] <= width and panel_box["x"] + panel_box["width"] <= width

    open_branch(page, COMPANY)
    branch(page, COMPANY).locator("a.node", has_text=STORE).click()
    expect(unit_panel.locator("h2")).to_contain_text(STORE)
    unit_panel.locator("details.action > summary").first.click()
    expect(unit_panel.locator("details.action[open] form")).to_be_visible()

    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=tmp_path / "org-tree-phone.png", full_page=True)
    assert overflow <= width, f"the page is {overflow}px wide on a {width}px screen"
