"""A small hand-built CS world for the attribution, conversation page and appeal tests:
one company (the demo's CN-JD store's), a shared account, a sub-account bound to a
person, a login from a registered IP, two shifts staffing the account and punches.

Local day DAY in the company's zone:
- conv "bound":     10:00 on the bound sub-account               → level 1, person `bound`
- conv "login":     10:30 on the account, `ip_person` logged in 09:00–12:00 from a registered IP → level 2
- conv "clocked":   14:00, `clocked` and `rostered` both rostered 13:00–18:00, only `clocked` clocked in → level 3
- conv "rostered":  20:00, only `rostered` rostered 19:00–23:00, no punch → level 4
- conv "nobody":    03:00, no evidence → unattributed
"""
import datetime as dt
import itertools
from types import SimpleNamespace

from factories import make_roster_person, make_roster_team, make_shift_type, make_clock_event, unit_by_code
from portal.cs.models import (CsAccount, CsConversation, CsLoginSession, CsSubAccount, CsSubAccountBinding,
                              CsWorkstation)
from portal.time.services import company_zone, local_instant

DAY = dt.date(2026, 3, 10)
_numbers = itertools.count(1)


def make_cs_account(store="CN-JD", code=None, kind="shared", split_rule="equal"):
    store = unit_by_code(store) if isinstance(store, str) else store
    n = next(_numbers)
    return CsAccount.create(company=store.company_id, store=store.id, code=code or f"ATTR-{n}",
                            name=f"Attribution account {n}", kind=kind, split_rule=split_rule)


def make_cs_conversation(account, start, minutes=10, sub_account=None, reply_after=60, **values):
    return CsConversation.create(
        company=account.company_id, account=account.id, sub_account=sub_account, session_id=f"C{next(_numbers)}",
        started_at=start, first_reply_at=start + dt.timedelta(seconds=reply_after) if reply_after is not None
        else None, ended_at=start + dt.timedelta(minutes=minutes), **values)


def build_world(store="CN-JD", day=DAY, bound=None):
    """`bound`: the person the sub-account is bound to (by default a new one)."""
    store = unit_by_code(store)
    company = store.company
    zone = company_zone(company)

    def at(hour, minute=0, on=day):
        return local_instant(zone, on, hour * 60 + minute)

    team = make_roster_team(store)
    ip_person, clocked, rostered = (make_roster_person(team) for _ in range(3))
    bound = bound or make_roster_person(team)
    account = make_cs_account(store)
    sub = CsSubAccount.create(account=account.id, name=f"{account.code}:waiter")
    binding = CsSubAccountBinding.create(sub_account=sub.id, employee=bound.id, valid_from=day - dt.timedelta(days=3))
    station = CsWorkstation.create(company=company.id, employee=ip_person.id, kind="ip", value="10.9.8.7",
                                   valid_from=day - dt.timedelta(days=30))
    login = CsLoginSession.create(company=company.id, account=account.id, session_id=f"L{next(_numbers)}",
                                  login_at=at(9), logout_at=at(12), address="10.9.8.7")
    afternoon = make_shift_type(company, start="13:00", end="18:00", break_minutes=0, cs_accounts=account.code)
    evening = make_shift_type(company, start="19:00", end="23:00", break_minutes=0, cs_accounts=account.code)
    from factories import make_roster_entry
    entry_clocked = make_roster_entry(team, clocked, day, afternoon)
    entry_both = make_roster_entry(team, rostered, day, afternoon)
    entry_evening = make_roster_entry(team, rostered, day, evening)
    make_clock_event(clocked, at(12, 55), "in")
    make_clock_event(clocked, at(18, 2), "out")
    convs = SimpleNamespace(
        bound=make_cs_conversation(account, at(10), sub_account=sub.id, rating=5, resolved=True),
        login=make_cs_conversation(account, at(10, 30)),
        clocked=make_cs_conversation(account, at(14), reply_after=None),
        rostered=make_cs_conversation(account, at(20)),
        nobody=make_cs_conversation(account, at(3)))
    return SimpleNamespace(store=store, company=company, zone=zone, team=team, bound=bound, ip_person=ip_person,
                           clocked=clocked, rostered=rostered, account=account, sub=sub, binding=binding,
                           station=station, login=login, entry_clocked=entry_clocked, entry_both=entry_both,
                           entry_evening=entry_evening, convs=convs, at=at, day=day)


def world_run(world):
    """The attribution run of the world's month (the demo keeps runs of its own months in the same company)."""
    from portal.cs.models import CsAttributionRun
    return CsAttributionRun.get((CsAttributionRun.company == world.company.id)
                                & (CsAttributionRun.period_start == world.day.replace(day=1)))
