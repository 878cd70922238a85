"""The demo group's customer-service data: CS accounts for the demo stores, sub-accounts
and bindings, registered IPs and workstations, platform login logs and some months of
conversations, then attribution computed for the seeded months.

- JD (CN-JD) and Vipshop (CN-VIP): shared accounts staffed by the A/B teams' overlapping
  early and late shifts (each store gets its own copies of the company's early/late shift
  types, whose `cs_accounts` name the store's accounts). JD's after-sales account has no
  login logs, so its conversations rest on punches and rosters; agent.jd1 also holds a
  personal account. Every 15th day JD's attendance device lost the morning's clock-ins.
- Tmall (CN-TM, HK-TM): a shared account with one sub-account (waiter) per agent; most
  conversations name the waiter of someone on shift.
- Douyin (CN-DY): one shared account, no login logs; every 11th day without clock-ins.
- Conversations follow a daily curve with lunch and evening peaks, busier weekends and a
  Singles' Day (11.11) surge; customers write at night too, when no shift covers the
  account, so the unattributed list fills.

Rows are generated with numpy from the rng passed in (deterministic) and written with
prepared executemany runs (portal.cs.bulk): ~300,000 conversations in a few seconds on SQLite.
"""
import datetime as dt
import json

import numpy as np

# store code → [(account code, name, kind, split rule, service start, service end (minutes), share of the
# store's traffic, login logs?, sub-accounts?)]
DEMO_ACCOUNTS = {
    "CN-JD": [("JD-MAIN", "京东旗舰店-主客服", "shared", "equal", 9 * 60, 24 * 60, 0.62, True, False),
              ("JD-AS", "京东旗舰店-售后", "shared", "capacity", 9 * 60, 22 * 60, 0.33, False, False),
              ("JD-LIU", "京东旗舰店-VIP专席（刘芳）", "personal", "equal", 9 * 60, 18 * 60, 0.05, False, False)],
    "CN-VIP": [("VIP-MAIN", "唯品会专卖店-客服", "shared", "presence", 9 * 60, 24 * 60, 1.0, True, False)],
    "CN-TM": [("TM-MAIN", "天猫旗舰店", "shared", "equal", 8 * 60 + 30, 24 * 60, 1.0, True, True)],
    "CN-DY": [("DY-MAIN", "抖音小店-客服", "shared", "presence", 9 * 60, 24 * 60, 1.0, False, False)],
    "HK-TM": [("HK-TM-MAIN", "Tmall Global HK", "shared", "capacity", 9 * 60, 22 * 60, 1.0, True, True)],
}
# store code → (its share of the daily conversations, team codes staffing it)
STORE_TRAFFIC = {"CN-JD": (0.34, ("CN-JD-CS-A", "CN-JD-CS-B")), "CN-VIP": (0.22, ("CN-VIP-CS-A", "CN-VIP-CS-B")),
                 "CN-TM": (0.26, ("CN-TM-CS",)), "CN-DY": (0.12, ("CN-DY-CS",)), "HK-TM": (0.06, ("HK-TM-CS",))}
STORE_PREFIX = {"CN-JD": "京", "CN-VIP": "唯", "CN-TM": "猫", "CN-DY": "抖", "HK-TM": "HK"}
STORE_SUBNET = {"CN-JD": 21, "CN-VIP": 22, "CN-TM": 23, "CN-DY": 24, "HK-TM": 31}
# Days (counted from the first seeded day) when a store's clock-ins were lost.
DEVICE_DOWN_EVERY = {"CN-JD": 15, "CN-DY": 11}
DEVICE_DOWN_OFFSET = 3
CS_DAILY_CONVERSATIONS = 3900
# Local hour-of-day weights: quiet nights, a lunch peak and a larger evening one.
HOUR_WEIGHTS = np.array([1.2, 0.7, 0.4, 0.25, 0.2, 0.25, 0.5, 1.2, 2.6, 4.6, 5.6, 6.0, 6.8, 6.4, 5.2, 5.0,
                         5.0, 5.2, 5.4, 6.2, 7.4, 8.0, 6.4, 3.4])
RATING_P = np.array([0.04, 0.03, 0.08, 0.25, 0.60])


def _epoch(value):
    return int(value.replace(tzinfo=dt.timezone.utc).timestamp())


def _texts(seconds):
    """int64 UTC epoch seconds → 'YYYY-MM-DD HH:MM:SS' (what peewee keeps for a naive datetime)."""
    text = np.datetime_as_string(np.asarray(seconds, dtype="datetime64[s]"), unit="s")
    return np.char.replace(text, "T", " ").tolist()


def _insert(model, columns, rows):
    from portal.cs import bulk

    bulk.insert_rows(model, columns, rows)


def seed_cs(units, rng, today=None, history_days=None, daily_conversations=CS_DAILY_CONVERSATIONS, now=None,
            echo=print):
    """Called by demo.seed after seed_time. Conversations reach back `history_days` days
    (None: as far as the rosters go) up to `now`; about `daily_conversations` a day."""
    from portal.accounts.models import User
    from portal.core.audit import record_event
    from portal.core.db import database, utcnow
    from portal.cs.models import (CsAccount, CsAccountBinding, CsConversation, CsLoginSession, CsSubAccount,
                                  CsSubAccountBinding, CsWorkstation)
    from portal.people.models import Employee
    from portal.time.models import ClockEvent, Rotation, RosterEntry, ShiftType
    from portal.time.services import company_zone

    now = (now or utcnow()).replace(microsecond=0)
    today = today or dt.date.today()
    nrng = np.random.default_rng(rng.randrange(2 ** 32))
    stores = [code for code in DEMO_ACCOUNTS if code in units]
    first_roster = RosterEntry.select(RosterEntry.day).order_by(RosterEntry.day).limit(1).scalar()
    if first_roster is None or not stores:
        return {}
    first_day = first_roster if history_days is None else max(first_roster, today - dt.timedelta(days=history_days))
    agent = User.get_or_none(User.username == "agent.jd1")
    agent_employee = Employee.get_or_none(Employee.user == agent.id) if agent else None
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    counts = {"accounts": 0, "sub_accounts": 0, "workstations": 0, "logins": 0, "conversations": 0}

    with database.atomic():
        accounts, staff = {}, {}
        for store_code in stores:
            store = units[store_code]
            company = units[store_code.split("-")[0] == "HK" and "EXHK" or "EXCN"]
            teams = [units[code] for code in STORE_TRAFFIC[store_code][1] if code in units]
            people = list(Employee.select().where(Employee.unit.in_([t.id for t in teams])
                                                  & (Employee.status != "left")).order_by(Employee.id))
            staff[store_code] = people
            for code, name, kind, rule, open_minute, close_minute, *_rest in DEMO_ACCOUNTS[store_code]:
                accounts[code] = CsAccount.create(company=company, store=store, code=code, name=name, kind=kind,
                                                  split_rule=rule, service_start_minute=open_minute,
                                                  service_end_minute=close_minute)
            # The store's own early/late shifts, staffing its shared accounts.
            shared = [code for code, _n, kind, *_r in DEMO_ACCOUNTS[store_code] if kind == "shared"]
            early_code, late_code = ("早", "晚")
            for base_code in (early_code, late_code):
                base = ShiftType.get_or_none((ShiftType.company == company.id) & (ShiftType.code == base_code))
                if base is None:
                    continue
                own = ShiftType.create(company=company, code=f"{STORE_PREFIX[store_code]}{base_code}",
                                       name=f"{store.name}·{base.name}", start_minute=base.start_minute,
                                       end_minute=base.end_minute, break_minutes=base.break_minutes,
                                       grace_minutes=base.grace_minutes, color=base.color,
                                       cs_accounts=json.dumps(shared, ensure_ascii=False))
                team_ids = [t.id for t in teams]
                RosterEntry.update(shift_type=own.id).where(RosterEntry.unit.in_(team_ids)
                                                            & (RosterEntry.shift_type == base.id)).execute()
                for rotation in Rotation.select().where(Rotation.unit.in_(team_ids)):
                    pattern = [own.id if value == base.id else value for value in json.loads(rotation.pattern)]
                    Rotation.update(pattern=json.dumps(pattern)).where(Rotation.id == rotation.id).execute()
        counts["accounts"] = len(accounts)

        # Registered IPs (most agents) and a few workstation names.
        stations, address_of = [], {}
        for store_code, people in staff.items():
            company_id = accounts[DEMO_ACCOUNTS[store_code][0][0]].company_id
            for index, person in enumerate(people):
                address = f"10.8.{STORE_SUBNET[store_code]}.{20 + index}"
                address_of[person.id] = address
                if index % 6 != 5 or person == agent_employee:  # one in six never registered theirs
                    stations.append({"company": company_id, "employee": person.id, "kind": "ip", "value": address,
                                     "label": "工位电脑" if store_code != "HK-TM" else "Desk PC",
                                     "valid_from": first_day - dt.timedelta(days=30), "valid_to": None})
                if index % 4 == 0:
                    stations.append({"company": company_id, "employee": person.id, "kind": "workstation",
                                     "value": f"{store_code}-PC{index + 1:02d}", "label": "",
                                     "valid_from": first_day - dt.timedelta(days=30), "valid_to": None})
        CsWorkstation.insert_many(stations).execute()
        counts["workstations"] = len(stations)

        # Sub-accounts: one waiter per agent on the Tmall accounts, and the personal account.
        subs = {}  # account code → [(sub-account id, employee id)]
        for store_code in stores:
            for code, _name, kind, *_rest, with_subs in DEMO_ACCOUNTS[store_code]:
                if kind == "personal" and agent_employee is not None:
                    CsAccountBinding.create(account=accounts[code], employee=agent_employee,
                                            valid_from=first_day - dt.timedelta(days=60))
                if not with_subs:
                    continue
                account = accounts[code]
                subs[code] = []
                for index, person in enumerate(staff[store_code]):
                    sub = CsSubAccount.create(account=account, name=f"{account.name}:{person.legal_name}{index + 1}")
                    CsSubAccountBinding.create(sub_account=sub, employee=person,
                                               valid_from=first_day - dt.timedelta(days=60))
                    subs[code].append((sub.id, person.id))
                # A waiter handed over mid-period: the last one's first holder left it to the second.
                if len(subs[code]) > 2:
                    sub_id, _holder = subs[code][-1]
                    middle = first_day + (today - first_day) // 2
                    CsSubAccountBinding.update(valid_to=middle - dt.timedelta(days=1)).where(
                        CsSubAccountBinding.sub_account == sub_id).execute()
                    CsSubAccountBinding.create(sub_account=sub_id, employee=subs[code][1][1], valid_from=middle)
                counts["sub_accounts"] += len(subs[code])

        # Lost clock-ins on some days (the attendance device was down in the morning).
        for store_code, every in DEVICE_DOWN_EVERY.items():
            if store_code not in staff:
                continue
            ids = [p.id for p in staff[store_code]]
            day = first_day + dt.timedelta(days=DEVICE_DOWN_OFFSET)
            while day <= today:
                start = dt.datetime.combine(day, dt.time(0)) - dt.timedelta(hours=8)
                ClockEvent.delete().where(ClockEvent.employee.in_(ids) & (ClockEvent.kind == "in")
                                          & (ClockEvent.at >= start)
                                          & (ClockEvent.at < start + dt.timedelta(days=1))).execute()
                day += dt.timedelta(days=every)

        # Shifts of the staff, as epoch seconds.
        zones = {}
        shifts = {}
        for store_code, people in staff.items():
            rows = (RosterEntry.select(RosterEntry.employee, RosterEntry.starts_at, RosterEntry.ends_at)
                    .where(RosterEntry.employee.in_([p.id for p in people])
                           & (RosterEntry.day >= first_day - dt.timedelta(days=1)) & (RosterEntry.starts_at < now))
                    .order_by(RosterEntry.starts_at).tuples())
            shifts[store_code] = [(pk, _epoch(a), _epoch(b)) for pk, a, b in rows]
            zones[store_code] = company_zone(units[store_code])

        # Login logs: one session per shift on accounts that export them; most from the
        # agent's registered IP, some from elsewhere (a phone hotspot), a few without logout.
        logins, serial = [], 0
        now_s = _epoch(now)
        for store_code in stores:
            for code, *_mid, with_logins, _with_subs in DEMO_ACCOUNTS[store_code]:
                if not with_logins:
                    continue
                account = accounts[code]
                sub_of = {pk: sub for sub, pk in subs.get(code, [])}
                for pk, start, end in shifts[store_code]:
                    if nrng.random() < 0.03:
                        continue  # logged in on a colleague's screen
                    login = start - int(nrng.integers(0, 900))
                    logout = end + int(nrng.integers(-300, 900))
                    lost = nrng.random() < 0.03 or logout > now_s
                    foreign = nrng.random() < 0.12
                    address = (f"223.104.{int(nrng.integers(1, 250))}.{int(nrng.integers(2, 250))}" if foreign
                               else address_of.get(pk, ""))
                    serial += 1
                    logins.append((account.company_id, account.id, sub_of.get(pk), f"L{account.id}-{serial:07d}",
                                   login, None if lost else min(logout, now_s), address, stamp))
        if logins:
            login_at = _texts([row[4] for row in logins])
            logout_at = _texts([row[5] or 0 for row in logins])
            rows = [(c, a, s, sid, li, lo if row[5] else None, addr, "", created)
                    for row, li, lo in zip(logins, login_at, logout_at)
                    for c, a, s, sid, _li, _lo, addr, created in (row,)]
            _insert(CsLoginSession, ("company", "account", "sub_account", "session_id", "login_at", "logout_at",
                                     "address", "workstation", "created_at"), rows)
        counts["logins"] = len(logins)

        # Conversations.
        day_count = (today - first_day).days + 1
        days = [first_day + dt.timedelta(days=i) for i in range(day_count)]
        day_factor = np.array([(1.25 if d.weekday() >= 5 else 1.0)
                               * {(11, 10): 2.0, (11, 11): 4.5, (11, 12): 1.8}.get((d.month, d.day), 1.0)
                               for d in days])
        written = 0
        for store_code in stores:
            store_share = STORE_TRAFFIC[store_code][0]
            zone = zones[store_code]
            for code, _name, kind, _rule, open_minute, close_minute, share, *_flags in DEMO_ACCOUNTS[store_code]:
                account = accounts[code]
                written += _seed_conversations(
                    nrng, account, days, day_factor * daily_conversations * store_share * share, zone,
                    open_minute, close_minute, now_s, stamp, subs.get(code), shifts[store_code], written)
        counts["conversations"] = written
        record_event("demo.cs_seeded", object_type="cs_account", label=f"{written} demo conversations",
                     after=counts)
    _compute_attribution(units, first_day, today, now, echo)
    return counts


def _seed_conversations(nrng, account, days, expected, zone, open_minute, close_minute, now_s, stamp, subs,
                        shifts, serial_base):
    from portal.cs.models import CsConversation

    per_day = nrng.poisson(expected)
    total = int(per_day.sum())
    if not total:
        return 0
    day_index = np.repeat(np.arange(len(days)), per_day)
    hour_p = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    local_second = nrng.choice(24, size=total, p=hour_p) * 3600 + nrng.integers(0, 3600, size=total)
    # Singles' Day opens at midnight: a burst in the first two hours of 11.11.
    eleven = np.array([(d.month, d.day) == (11, 11) for d in days])[day_index]
    burst = eleven & (nrng.random(total) < 0.25)
    local_second[burst] = nrng.integers(0, 7200, size=int(burst.sum()))
    midnight_utc = np.array([_epoch(dt.datetime.combine(d, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc)
                                    .replace(tzinfo=None)) for d in days])
    start = midnight_utc[day_index] + local_second
    keep = start < now_s - 600
    start, local_second = np.sort(start[keep]), None
    total = start.size
    offset = midnight_utc[0] - _epoch(dt.datetime.combine(days[0], dt.time(0)))  # negative of the UTC offset
    local = (start - offset) % 86400
    # First reply: seconds inside service hours; outside, at the next opening plus a little.
    reply_delay = np.exp(nrng.normal(np.log(35), 0.9, total)).astype(np.int64) + 3
    busy = np.isin(((local // 3600)), (11, 12, 20, 21))
    reply_delay[busy] = (reply_delay[busy] * 1.8).astype(np.int64)
    open_s, close_s = open_minute * 60, close_minute * 60
    before = local < open_s
    after = local >= close_s
    wait = np.where(before, open_s - local, np.where(after, 86400 - local + open_s, 0))
    first_reply = start + wait + reply_delay
    unanswered = nrng.random(total) < np.where(wait > 0, 0.12, 0.025)
    handling = np.exp(nrng.normal(np.log(360), 0.8, total)).astype(np.int64) + 20
    ended = np.where(unanswered, start + np.exp(nrng.normal(np.log(240), 0.6, total)).astype(np.int64),
                     first_reply + handling)
    unanswered |= first_reply >= now_s
    ended = np.minimum(ended, now_s)
    customer_messages = nrng.poisson(3.5, total) + 1
    agent_messages = np.where(unanswered, 0, nrng.poisson(3.0, total) + 1)
    resolution = nrng.random(total)
    resolved = np.where(unanswered, 0, np.where(resolution < 0.84, 1, np.where(resolution < 0.95, 0, -1)))
    reopened = (resolved == 1) & (nrng.random(total) < 0.06)
    slow = (reply_delay > 120) | (wait > 0)
    rated = (~unanswered) & (nrng.random(total) < 0.36)
    rating = nrng.choice(5, size=total, p=RATING_P) + 1
    rating = np.where(slow & (nrng.random(total) < 0.3), np.maximum(rating - 2, 1), rating)
    rating = np.where(reopened, np.minimum(rating, 3), rating)

    sub_column = [None] * total
    if subs:
        # The waiter of someone on shift at the first message (a random one of those on shift); 12% of the
        # conversations reach the main account without a waiter.
        sub_of = {pk: sub for sub, pk in subs}
        best = np.full(total, np.inf)
        chosen = np.full(total, -1, dtype=np.int64)
        for pk, shift_start, shift_end in shifts:
            if pk not in sub_of:
                continue
            lo, hi = np.searchsorted(start, [shift_start, shift_end])
            if lo == hi:
                continue
            draw = nrng.random(hi - lo)
            better = draw < best[lo:hi]
            best[lo:hi] = np.where(better, draw, best[lo:hi])
            chosen[lo:hi] = np.where(better, sub_of[pk], chosen[lo:hi])
        chosen[nrng.random(total) < 0.12] = -1
        sub_column = [None if value < 0 else value for value in chosen.tolist()]

    start_text, reply_text, end_text = _texts(start), _texts(first_reply), _texts(ended)
    customers = nrng.integers(10 ** 7, 10 ** 8, total).tolist()
    rows = [(account.company_id, account.id, sub, f"S{account.id}-{serial_base + index:08d}", f"cust{customer}",
             started, None if no_reply else replied, ended_text, cm, am,
             None if res < 0 else bool(res), bool(reo), int(rt) if rd else None, stamp)
            for index, (sub, customer, started, replied, no_reply, ended_text, cm, am, res, reo, rt, rd)
            in enumerate(zip(sub_column, customers, start_text, reply_text, unanswered.tolist(), end_text,
                             customer_messages.tolist(), agent_messages.tolist(), resolved.tolist(),
                             reopened.tolist(), rating.tolist(), rated.tolist()))]
    _insert(CsConversation, ("company", "account", "sub_account", "session_id", "customer_ref", "started_at",
                             "first_reply_at", "ended_at", "customer_messages", "agent_messages", "resolved",
                             "reopened", "rating", "created_at"), rows)
    return total


def _compute_attribution(units, first_day, today, now, echo):
    """Attribution and metrics for every seeded month, through the attribution service."""
    try:
        from portal.cs import attribution
    except ImportError:
        echo("portal.cs.attribution is missing: CS attribution not computed.")
        return
    from portal.core.permissions import Actor

    actor = Actor.system()
    for code in ("EXCN", "EXHK"):
        if code not in units:
            continue
        month = first_day.replace(day=1)
        while month <= today:
            following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            attribution.compute_period(actor, units[code], max(month, first_day),
                                       min(following - dt.timedelta(days=1), today), now=now)
            month = following
