"""The tests' demo holds CS data for every CS store, with every evidence level."""
from portal.accounts.models import User
from portal.cs.models import CsAccount, CsAttribution, CsConversation
from portal.org.models import OrgUnit
from portal.people.models import Employee


def test_every_cs_store_has_accounts(db):
    for code in ("CN-JD", "CN-VIP", "CN-TM", "CN-DY", "HK-TM"):
        store = OrgUnit.get(OrgUnit.code == code)
        assert CsAccount.select().where(CsAccount.store == store.id).exists(), code
    assert 1000 < CsConversation.select().count() < 3000


def test_every_evidence_level_and_some_unattributed(db):
    levels = {level for (level,) in CsAttribution.select(CsAttribution.level).distinct().tuples()}
    assert {1, 2, 3, 4} <= levels
    credited = CsAttribution.select(CsAttribution.conversation)
    assert CsConversation.select().where(CsConversation.id.not_in(credited)).exists()


def test_agent_jd1_has_credits(db):
    agent = Employee.get(Employee.user == User.get(User.username == "agent.jd1").id)
    levels = {level for (level,) in CsAttribution.select(CsAttribution.level)
              .where(CsAttribution.employee == agent.id).distinct().tuples()}
    assert len(levels) >= 2
