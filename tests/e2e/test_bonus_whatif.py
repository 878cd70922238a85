"""The bonus what-if in a real browser: lead.jd opens this month's pool of the JD team A
(the demo's computed draft), moves the workload weight slider, and the preview beside it
is split again through htmx (no page load) — people gaining and losing against the
saved version, the weight's share updated — while nothing is saved.

Run with `pytest -m e2e` (or `pytest tests/e2e`).
"""
import datetime as dt

import pytest
from playwright.sync_api import expect

from portal.bonus.models import MODELS, BonusPool
from portal.org.models import OrgUnit

pytestmark = pytest.mark.e2e

MARKER = "window.__fairshareE2E"


def bonus_rows():
    return {model.__name__: list(model.select().order_by(model.id).tuples()) for model in MODELS}


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_moving_a_weight_slider_changes_the_preview(request, login, size):
    page = request.getfixturevalue("page" if size == "desktop" else "phone_page")
    team = OrgUnit.get(OrgUnit.code == "CN-JD-CS-A")
    pool = BonusPool.get((BonusPool.unit == team.id) & (BonusPool.period_start == dt.date.today().replace(day=1)))
    before = bonus_rows()
    login(page, "lead.jd")
    page.goto(f"/bonus/pools/{pool.id}")
    expect(page.locator("#whatif-result")).to_contain_text("Move a slider")
    share = page.locator("#whatif-out-workload")
    shown = share.inner_text()
    page.evaluate(f"{MARKER} = 'same page'")
    page.locator("#weight-workload").fill("100")  # a range input: sets the value and fires input
    expect(page.locator("#whatif-result .whatif-summary")).to_contain_text("gain")
    expect(page.locator("#whatif-result .delta.loss").first).to_be_visible()
    expect(share).not_to_have_text(shown)
    expect(share).to_contain_text("100")
    assert page.evaluate(MARKER) == "same page"  # swapped in place, not a page load
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert bonus_rows() == before
