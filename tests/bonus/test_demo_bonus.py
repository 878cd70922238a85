"""The demo's bonus data (portal/demo_bonus.py): last month locked, this month a computed draft, per CS team."""
import datetime as dt

from portal.bonus.models import BonusLine, BonusPool
from portal.demo_bonus import seed_bonus
from portal.org.models import OrgUnit


def test_every_cs_team_gets_a_locked_pool_for_last_month_and_a_draft_for_this_one(db):
    messages = []
    made = seed_bonus(echo=messages.append)
    this_month = dt.date.today().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    teams = {pool.unit_id for pool in BonusPool.select()}
    assert made == BonusPool.select().count() and len(teams) >= 7
    for team_id in teams:
        pools = {p.period_start: p for p in BonusPool.select().where(BonusPool.unit == team_id)}
        assert pools[last_month].state == "locked" and pools[this_month].state == "draft"
        for pool in pools.values():
            total = sum(line.amount_minor for line in BonusLine.select().where(BonusLine.pool == pool.id))
            assert total + pool.leftover_minor == pool.effective_minor
    hk = OrgUnit.get(OrgUnit.code == "HK-TM-CS")
    assert BonusPool.get(unit=hk.id, period_start=this_month).currency == "HKD"


def test_the_demo_seed_carries_the_bonus_data(demo_bonus):
    """demo.seed calls seed_bonus after the CS data: the tests' demo has the pools."""
    this_month = dt.date.today().replace(day=1)
    jd = OrgUnit.get(OrgUnit.code == "CN-JD-CS-A")
    states = {p.period_start: p.state for p in BonusPool.select().where(BonusPool.unit == jd.id)}
    assert states[this_month] == "draft" and "locked" in states.values()
