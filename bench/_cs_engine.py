"""CS engine numbers for bench/cs.py: `measure_engine(...)` returns a dict.

Synthetic month like the demo's stores, at scale: `accounts` CS accounts of which a
sixth are personal (bound to one person), a sixth shared with sub-accounts bound to
people (Tmall's waiters), the rest shared and staffed by small teams on overlapping
A (08:00–17:00) and B (13:00–22:00) shifts, some teams on two accounts; clock-ins and
outs with some missing; platform login sessions from registered IPs, workstations,
unregistered and shared addresses; conversations over the day with lunch and
evening peaks (some at night, nobody rostered: unattributed), in no particular
order as a database hands them over.

Measured, medians of several runs:
(a) match_login_sessions + attribute + daily_metrics on `conversations`
    conversations (target < 1 s and ≤ 5 × one np.argsort of their start times);
(b) the pure-Python reference attribution (tests/cs/reference.py) against the
    engine on the first `reference_conversations` of them: the speed-up (target
    ≥ 50 ×) and whether both credit the same people with the same shares.
"""
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"engine_seconds": 1.0, "argsort_ratio": 5.0, "reference_speedup": 50.0}
ORIGIN = 1_793_462_400 - 8 * 3600  # 2026-11-01 00:00 in Shanghai, as UTC epoch seconds
OFFSET = 8 * 3600
HOUR = 3600
DAY = 86400
# conversations per hour of the local day: quiet nights, lunch and evening peaks
HOURLY = np.array([2, 1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 9, 10, 10, 12, 12, 9, 8, 8, 8, 9, 11, 14, 15, 11, 5], float)


def log(message):
    print(f"[bench/cs engine] {message}", file=sys.stderr, flush=True)


def _paths():
    for path in (ROOT, ROOT / "tests" / "cs"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def synthetic(conversations, people, accounts, days, seed):
    """Every input array of the engine, as the services would build them."""
    from portal.cs import engine

    rng = np.random.default_rng(seed)
    personal = max(accounts // 6, 1)
    with_subs = max(accounts // 6, 1)
    shared = accounts - personal
    # personal accounts: persons 0..personal-1, one rebinding mid-month on some
    ab_account = np.arange(personal)
    ab_person = np.arange(personal)
    ab_start = np.full(personal, ORIGIN - 30 * DAY)
    ab_end = np.full(personal, ORIGIN + (days + 30) * DAY)
    # teams on shared accounts: the other people round-robin; half on A, half on B
    staff = np.arange(personal, people)
    home = personal + staff % shared                       # account of each staff member
    shift = (staff // shared) % 2                          # 0: A, 1: B
    second = np.where((home % 5 == 0) & (home + 1 < accounts), home + 1, -1)  # some shift types staff two accounts
    # rosters: 22 of `days` days each
    worked = np.argsort(rng.random((staff.size, days)), axis=1)[:, :min(22, days)]
    r_person = np.repeat(staff, worked.shape[1])
    r_day = worked.reshape(-1)
    r_shift = np.repeat(shift, worked.shape[1])
    r_start_local = r_day * DAY + np.where(r_shift == 0, 8 * HOUR, 13 * HOUR)
    r_start = ORIGIN + r_start_local
    r_end = r_start + 9 * HOUR
    r_home = np.repeat(home, worked.shape[1])
    r_second = np.repeat(second, worked.shape[1])
    two = np.flatnonzero(r_second >= 0)
    roster_person = np.concatenate((r_person, r_person[two]))
    roster_account = np.concatenate((r_home, r_second[two]))
    roster_start = np.concatenate((r_start, r_start[two]))
    roster_end = np.concatenate((r_end, r_end[two]))
    # presence: 97% clock in (a few minutes early), 95% clock out (a bit late)
    came = rng.random(r_person.size) < 0.97
    clock_in = r_start + rng.normal(-300, 240, r_person.size).astype(np.int64)
    clock_out = r_end + rng.normal(600, 600, r_person.size).astype(np.int64)
    paired = came & (rng.random(r_person.size) < 0.95)
    presence_person, presence_start, presence_end = r_person[paired], clock_in[paired], clock_out[paired]
    clock_person, clock_in_at = r_person[came], clock_in[came]
    # sub-accounts: three per account with subs, bound to that account's team (or nobody)
    sub_parent = np.repeat(np.arange(personal, personal + with_subs), 3)
    subs = sub_parent.size
    team_of = {int(a): staff[home == a] for a in range(personal, personal + with_subs)}
    sub_person = np.array([team_of[int(a)][i % max(team_of[int(a)].size, 1)] if team_of[int(a)].size else -1
                           for i, a in enumerate(sub_parent)])
    bound = np.flatnonzero(sub_person >= 0)[: subs - subs // 4]   # a quarter of the waiters unbound
    sb_sub, sb_person = bound, sub_person[bound]
    sb_start = np.full(bound.size, ORIGIN - 10 * DAY)
    sb_end = np.full(bound.size, ORIGIN + (days + 10) * DAY)
    # login sessions: a shared account's staff log in shortly after clocking in
    logged = came & (np.repeat(home, worked.shape[1]) >= personal)
    login_person_true = r_person[logged]
    login_account = r_home[logged]
    login_start = clock_in[logged] + rng.integers(30, 600, logged.sum())
    login_end = r_end[logged] + rng.integers(-600, 1800, logged.sum())
    login_sub = np.full(login_account.size, -1)
    # persons bound to a sub-account log in with it
    for_sub = {int(p): int(s) for s, p in zip(sb_sub, sb_person)}
    login_sub = np.array([for_sub.get(int(p), -1) for p in login_person_true]) if login_person_true.size else login_sub
    # stations: 60% of staff register an IP, 20% a workstation; two share one IP (ambiguous)
    kinds = rng.random(staff.size)
    ip_people = staff[kinds < 0.6]
    ws_people = staff[(kinds >= 0.6) & (kinds < 0.8)]
    station_person = np.concatenate((ip_people, ws_people, staff[:2]))
    station_kind = np.concatenate((np.full(ip_people.size, engine.STATION_IP),
                                   np.full(ws_people.size, engine.STATION_WORKSTATION), [engine.STATION_IP] * 2))
    station_code = np.concatenate((ip_people, ws_people, [10_000, 10_000]))
    station_start = np.full(station_person.size, ORIGIN - 100 * DAY)
    station_end = np.full(station_person.size, ORIGIN + (days + 100) * DAY)
    code = {int(p): int(p) for p in staff}
    login_address = np.array([code[int(p)] if p in set(ip_people.tolist()) else 20_000 + int(p)
                              for p in login_person_true]) if login_person_true.size else np.zeros(0, np.int64)
    ws_set = set(ws_people.tolist())
    login_workstation = np.array([int(p) if int(p) in ws_set else -1 for p in login_person_true]) \
        if login_person_true.size else np.zeros(0, np.int64)
    shared_ip = np.isin(login_person_true, staff[:2])
    login_address[shared_ip] = 10_000
    # conversations
    weights = rng.uniform(0.5, 1.5, accounts)
    conv_account = rng.choice(accounts, conversations, p=weights / weights.sum())
    hour = rng.choice(24, conversations, p=HOURLY / HOURLY.sum())
    day = rng.integers(0, days, conversations)
    start_local = day * DAY + hour * HOUR + rng.integers(0, HOUR, conversations)
    conv_start = ORIGIN + start_local
    duration = rng.exponential(600, conversations).astype(np.int64) + 30
    conv_end = conv_start + duration
    has_subs = (conv_account >= personal) & (conv_account < personal + with_subs)
    conv_sub = np.where(has_subs & (rng.random(conversations) < 0.7),
                        (conv_account - personal) * 3 + rng.integers(0, 3, conversations), -1)
    answered = rng.random(conversations) > 0.03
    reply = np.where(answered, conv_start + np.minimum(rng.exponential(60, conversations).astype(np.int64),
                                                       duration), -1)
    split_rule = rng.integers(0, 3, accounts)
    capacity = rng.choice([1.0, 1.0, 0.5, 0.8], people)
    service_open = np.where(np.arange(accounts) % 3 == 0, 9 * HOUR, 0)
    service_close = np.full(accounts, DAY)
    facts = engine.ConversationFacts(
        start_local=conv_start + OFFSET, first_reply_local=np.where(answered, reply + OFFSET, -1),
        end_local=conv_end + OFFSET, service_open=service_open[conv_account].astype(np.int32),
        service_close=service_close[conv_account].astype(np.int32),
        day=((conv_start + OFFSET) // DAY).astype(np.int32),
        resolved=rng.choice([-1, 0, 1, 1, 1], conversations).astype(np.int8),
        reopened=rng.random(conversations) < 0.05,
        rating=np.where(rng.random(conversations) < 0.3, rng.integers(1, 6, conversations), 0).astype(np.int8),
        response_seconds=np.where(rng.random(conversations) < 0.5, rng.exponential(40, conversations), np.nan))
    return {
        "conv_account": conv_account.astype(np.int32), "conv_sub_account": conv_sub.astype(np.int32),
        "conv_start": conv_start.astype(np.int64), "conv_end": conv_end.astype(np.int64),
        "account_split_rule": split_rule.astype(np.int8), "person_capacity": capacity,
        "sub_binding": (sb_sub, sb_person, sb_start, sb_end),
        "account_binding": (ab_account, ab_person, ab_start, ab_end),
        "login": (login_account, login_sub, login_start, login_end, login_address, login_workstation),
        "stations": (station_person, station_kind, station_code, station_start, station_end),
        "clock": (clock_person, clock_in_at),
        "presence": (presence_person, presence_start, presence_end),
        "roster": (roster_person, roster_account, roster_start, roster_end),
        "facts": facts,
    }


def run_engine(s, subset=None):
    """match_login_sessions → attribute → daily_metrics; returns (attribution, daily, stage seconds)."""
    from portal.cs import engine

    stages = {}
    began = time.perf_counter()
    login_account, login_sub, login_start, login_end, address, workstation = s["login"]
    roster = s["roster"]
    person, _how = engine.match_login_sessions(login_start, address, workstation, *s["stations"], *s["clock"],
                                               login_account, *roster)
    stages["match_login_sessions"] = time.perf_counter() - began
    pick = (lambda a: a) if subset is None else (lambda a: a[:subset])
    data = engine.AttributionInput(
        pick(s["conv_account"]), pick(s["conv_sub_account"]), pick(s["conv_start"]), pick(s["conv_end"]),
        s["account_split_rule"], s["person_capacity"], *s["sub_binding"], *s["account_binding"],
        login_account, login_sub, login_start, login_end, person, *s["presence"], *roster)
    mark = time.perf_counter()
    attribution = engine.attribute(data)
    stages["attribute"] = time.perf_counter() - mark
    mark = time.perf_counter()
    daily = None
    if subset is None:
        facts = s["facts"]
        daily = engine.daily_metrics(attribution, s["conv_account"], facts, person, login_account,
                                     login_start + OFFSET, login_end + OFFSET)
        stages["daily_metrics"] = time.perf_counter() - mark
    return data, attribution, daily, stages


def measure_engine(conversations=1_000_000, people=200, accounts=60, days=30, reference_conversations=100_000,
                   seed=20261111, runs=7):
    _paths()
    import reference

    began = time.perf_counter()
    s = synthetic(conversations, people, accounts, days, seed)
    log(f"synthetic month: {conversations} conversations, {s['roster'][0].size} roster rows, "
        f"{s['login'][0].size} login sessions in {time.perf_counter() - began:.1f} s")
    argsort_times, engine_times, stage_times = [], [], []
    for _ in range(runs):
        mark = time.perf_counter()
        np.argsort(s["conv_start"])
        argsort_times.append(time.perf_counter() - mark)
        mark = time.perf_counter()
        data, attribution, daily, stages = run_engine(s)
        engine_times.append(time.perf_counter() - mark)
        stage_times.append(stages)
    engine_s, argsort_s = statistics.median(engine_times), statistics.median(argsort_times)
    levels = np.bincount(attribution.conv_level, minlength=5)
    result = {
        "conversations": conversations, "people": people, "accounts": accounts, "days": days, "runs": runs,
        "credit_rows": int(attribution.conv.size), "daily_rows": len(daily),
        "conversations_by_level": {"unattributed": int(levels[0]), "bound": int(levels[1]),
                                   "login": int(levels[2]), "clocked_rostered": int(levels[3]),
                                   "rostered": int(levels[4])},
        "engine_ms": round(engine_s * 1000, 1), "engine_max_ms": round(max(engine_times) * 1000, 1),
        "stages_ms": {name: round(statistics.median(st[name] for st in stage_times) * 1000, 1)
                      for name in stage_times[0]},
        "argsort_ms": round(argsort_s * 1000, 1), "ratio_to_argsort": round(engine_s / argsort_s, 2),
    }
    log(f"engine: {result['engine_ms']} ms, argsort {result['argsort_ms']} ms, ratio {result['ratio_to_argsort']}")
    # (b) the reference on a subset
    n = min(reference_conversations, conversations)
    sub_times = []
    for _ in range(3):
        small_data, small, _, stages = run_engine(s, subset=n)
        sub_times.append(stages["attribute"])
    mark = time.perf_counter()
    ref_rows, ref_levels = reference.attribute(small_data)
    reference_s = time.perf_counter() - mark
    engine_small = statistics.median(sub_times)
    identical = reference.same(ref_rows, reference.engine_rows(small)) and ref_levels == small.conv_level.tolist()
    result["reference"] = {"conversations": n, "reference_ms": round(reference_s * 1000, 1),
                           "engine_ms": round(engine_small * 1000, 2),
                           "speedup": round(reference_s / engine_small, 1), "identical": bool(identical)}
    log(f"reference: {result['reference']}")
    result["targets"] = TARGETS
    result["meets_targets"] = {"engine": engine_s < TARGETS["engine_seconds"],
                               "argsort_ratio": result["ratio_to_argsort"] <= TARGETS["argsort_ratio"],
                               "reference_speedup": result["reference"]["speedup"] >= TARGETS["reference_speedup"],
                               "identical": bool(identical)}
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(measure_engine(), indent=2))
