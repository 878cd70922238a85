"""The bonus tests' world: the demo group without the demo's bonus data.

The tests' demo database is seeded with portal/demo_bonus.py (a locked pool for last
month and a draft for this month per CS team, and a "Customer service" rule per
company). These tests make their own rules and pools, often for those very teams and
months, so the demo's are cleared first; a test that wants them asks for `demo_bonus`.
Tests without a database (the engine's) are left alone."""
import pytest

from portal.approvals.models import ApprovalRequest
from portal.bonus.models import BonusPool, BonusRule, BonusRuleVersion, BonusSupportPoint
from portal.bonus.services import KIND


def clear_bonus_data():
    """Every pool (corrections first), rule, support point and pool approval request."""
    while BonusPool.select().exists():
        corrected = BonusPool.select(BonusPool.corrects).where(BonusPool.corrects.is_null(False))
        BonusPool.delete().where(BonusPool.id.not_in(corrected)).execute()
    BonusRuleVersion.delete().execute()
    BonusRule.delete().execute()
    BonusSupportPoint.delete().execute()
    ApprovalRequest.delete().where(ApprovalRequest.kind == KIND).execute()


@pytest.fixture
def demo_bonus(db):
    """The demo's own bonus data, kept."""
    return db


@pytest.fixture(autouse=True)
def _without_demo_bonus(request):
    if "app" not in request.fixturenames or "demo_bonus" in request.fixturenames:
        return
    request.getfixturevalue("db")
    clear_bonus_data()
