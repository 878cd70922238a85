"""The metrics engine: first response time in service hours, satisfaction
shrinkage, and the daily sums (workload, unanswered, response and handling time,
online time as a union of sessions, peak concurrency), on hand-made arrays."""
import numpy as np
import pytest

from portal.cs import engine

H = 3600
M = 60
DAY = 86400
D0 = 20_400  # a local day number
L0 = D0 * DAY  # its local midnight, in local seconds


def served(a, b, open_, close):
    return int(engine.service_seconds_between(a, b, open_, close))


# --- service hours ---------------------------------------------------------------------------------------------

def test_message_at_2350_answered_at_0905_counts_15_minutes():
    assert served(L0 + 23 * H + 50 * M, L0 + DAY + 9 * H + 5 * M, 9 * H, DAY) == 15 * M


def test_around_the_clock_is_wall_clock_time():
    assert served(L0 + 23 * H + 50 * M, L0 + DAY + 9 * H + 5 * M, 0, DAY) == 9 * H + 15 * M
    assert served(L0 + 5, L0 + 3 * DAY + 7, 0, DAY) == 3 * DAY + 2


def test_reply_before_opening_counts_nothing():
    assert served(L0 + 2 * H, L0 + 8 * H + 30 * M, 9 * H, DAY) == 0
    assert served(L0 + 8 * H, L0 + 9 * H + 10 * M, 9 * H, 18 * H) == 10 * M   # asked before opening


def test_multi_day_gap_counts_each_days_service_hours():
    # Monday 10:00 → Wednesday 10:00, hours 09:00–24:00: 14 h + 15 h + 1 h
    assert served(L0 + 10 * H, L0 + 2 * DAY + 10 * H, 9 * H, DAY) == 30 * H
    assert served(L0 + 20 * H, L0 + 2 * DAY + 8 * H, 9 * H, 18 * H) == 9 * H     # all of Tuesday only


def test_window_past_midnight_and_backwards():
    # 22:00–06:00 service: a message at 05:50 answered at 22:10 → 10 + 10 minutes
    assert served(L0 + 5 * H + 50 * M, L0 + 22 * H + 10 * M, 22 * H, 6 * H) == 20 * M
    assert served(L0 + 10 * H, L0 + 9 * H, 0, DAY) == 0


def test_service_seconds_vectorised():
    a = np.array([L0 + 23 * H + 50 * M, L0 + 10 * H])
    b = np.array([L0 + DAY + 9 * H + 5 * M, L0 + 10 * H + 90])
    assert engine.service_seconds_between(a, b, np.array([9 * H, 9 * H]), np.array([DAY, DAY])).tolist() == [900, 90]


# --- satisfaction --------------------------------------------------------------------------------------------

def test_shrunk_satisfaction():
    assert engine.shrunk_satisfaction(3, 3, 0.8) == pytest.approx((3 + 16) / 23)
    assert engine.shrunk_satisfaction(0, 0, 0.8) == pytest.approx(0.8)
    assert engine.shrunk_satisfaction(300, 300, 0.8) == pytest.approx(316 / 320)
    # three perfect ratings do not outweigh 270 of 300
    assert engine.shrunk_satisfaction(3, 3, 0.8) < engine.shrunk_satisfaction(270, 300, 0.8)
    assert engine.shrunk_satisfaction(np.array([1, 9]), np.array([2, 10]), 0.5, m=2).tolist() == \
        pytest.approx([0.5, 10 / 12])


# --- daily sums -----------------------------------------------------------------------------------------------

def facts(rows):
    """rows: (start, first reply or -1, end, resolved, reopened, rating, response
    seconds or nan) in local seconds; service hours 09:00–24:00."""
    cols = list(zip(*rows))
    n = len(rows)
    start = np.array(cols[0], np.int64)
    return engine.ConversationFacts(
        start_local=start, first_reply_local=np.array(cols[1], np.int64), end_local=np.array(cols[2], np.int64),
        service_open=np.full(n, 9 * H, np.int32), service_close=np.full(n, DAY, np.int32),
        day=(start // DAY).astype(np.int32), resolved=np.array(cols[3], np.int8),
        reopened=np.array(cols[4], bool), rating=np.array(cols[5], np.int8),
        response_seconds=np.array(cols[6], np.float64))


def attribution(rows, n):
    """rows: (conversation, person, share)."""
    cols = list(zip(*rows)) or [()] * 3
    m = len(rows)
    level = np.zeros(n, np.int8)
    level[list(cols[0])] = engine.LEVEL_ROSTERED
    return engine.Attribution(np.array(cols[0], np.int64), np.array(cols[1], np.int32),
                              np.array(cols[2], np.float64), np.full(m, 4, np.int8), np.full(m, 0.4),
                              np.zeros(m, np.int64), np.full(m, 5, np.int8), level)


def run(conv_rows, credit_rows, accounts=None, sessions=()):
    f = facts(conv_rows)
    n = len(conv_rows)
    s = list(zip(*sessions)) or [()] * 4
    return engine.daily_metrics(attribution(credit_rows, n), np.array(accounts or [0] * n, np.int32), f,
                                *(np.array(c, np.int64) for c in s))


def row(daily, person, account=0, day=D0):
    at = np.flatnonzero((daily.person == person) & (daily.account == account) & (daily.day == day))
    assert at.size == 1, f"no single row for {(person, account, day)}"
    return {name: getattr(daily, name)[at[0]].item() for name in engine.DailyMetrics.__dataclass_fields__}


NAN = float("nan")
TEN = L0 + 10 * H


def test_workload_is_the_sum_of_shares_and_unanswered_is_not_a_zero_first_response():
    convs = [(TEN, TEN + 60, TEN + 10 * M, 1, False, 5, 30.0),     # answered after 1 min
             (TEN + H, -1, TEN + H + 5 * M, -1, False, 0, NAN),      # never answered
             (TEN + 2 * H, TEN + 2 * H + 120, TEN + 2 * H + 20 * M, 0, True, 2, NAN)]
    daily = run(convs, [(0, 1, 1.0), (1, 1, 0.5), (1, 2, 0.5), (2, 1, 0.25), (2, 2, 0.75)])
    one = row(daily, 1)
    assert one["conversations"] == 3
    assert one["workload"] == pytest.approx(1.75)
    assert one["answered"] == pytest.approx(1.25) and one["unanswered"] == pytest.approx(0.5)
    assert one["first_response_seconds"] == pytest.approx(60 + 0.25 * 120)
    assert engine.rates(daily)["first_response_seconds"][0] == pytest.approx((60 + 30) / 1.25)
    assert one["handling_seconds"] == pytest.approx(9 * 60 + 0.25 * 18 * 60)
    assert one["response_seconds"] == pytest.approx(30.0) and one["response_count"] == pytest.approx(1.0)
    assert one["resolved"] == pytest.approx(1.0) and one["resolution_known"] == pytest.approx(1.25)
    assert one["reopened"] == pytest.approx(0.25)
    assert one["rated"] == pytest.approx(1.25) and one["rated_positive"] == pytest.approx(1.0)
    two = row(daily, 2)
    assert two["workload"] == pytest.approx(1.25) and two["unanswered"] == pytest.approx(0.5)
    assert two["first_response_seconds"] == pytest.approx(0.75 * 120)
    # everything adds up across people
    assert daily.workload.sum() == pytest.approx(3.0)


def test_rates_are_nan_without_a_denominator():
    convs = [(TEN, -1, TEN + 60, -1, False, 0, NAN)]
    r = engine.rates(run(convs, [(0, 1, 1.0)]))
    assert np.isnan(r["first_response_seconds"][0]) and np.isnan(r["satisfaction"][0])
    assert r["unanswered_rate"][0] == 1.0
    assert np.isnan(r["resolution_rate"][0]) and np.isnan(r["response_seconds"][0])


def test_rows_per_account_and_local_day():
    convs = [(TEN, TEN + 60, TEN + 120, -1, False, 0, NAN), (TEN + DAY, TEN + DAY + 60, TEN + DAY + 120, -1, False, 0,
                                                               NAN),
             (TEN, TEN + 60, TEN + 120, -1, False, 0, NAN)]
    daily = run(convs, [(0, 1, 1.0), (1, 1, 1.0), (2, 1, 1.0)], accounts=[0, 0, 3])
    assert list(zip(daily.person.tolist(), daily.account.tolist(), daily.day.tolist())) == \
        [(1, 0, D0), (1, 0, D0 + 1), (1, 3, D0)]
    assert daily.conversations.tolist() == [1, 1, 1]


def test_conversation_crossing_midnight_counts_on_the_day_it_started():
    late = L0 + 23 * H + 50 * M
    daily = run([(late, L0 + DAY + 9 * H + 5 * M, L0 + DAY + 9 * H + 30 * M, 1, False, 0, NAN)], [(0, 1, 1.0)])
    assert len(daily) == 1 and daily.day.tolist() == [D0]
    assert daily.first_response_seconds.tolist() == [15 * M]


def test_online_time_is_the_union_of_overlapping_sessions():
    sessions = [(1, 0, TEN, TEN + 2 * H), (1, 0, TEN + H, TEN + 3 * H), (1, 0, TEN + 5 * H, TEN + 6 * H),
                (1, 0, TEN + 5 * H + 10 * M, TEN + 5 * H + 20 * M),     # inside the previous one
                (2, 0, TEN, TEN + H), (-1, 0, TEN, TEN + 8 * H)]       # unmatched: nobody's
    daily = run([(TEN, TEN + 60, TEN + 120, -1, False, 0, NAN)], [(0, 1, 1.0)], sessions=sessions)
    assert row(daily, 1)["online_seconds"] == 4 * H
    two = row(daily, 2)
    assert two["online_seconds"] == H and two["conversations"] == 0 and two["workload"] == 0


def test_session_across_midnight_counts_on_both_days():
    sessions = [(1, 0, L0 + 22 * H, L0 + DAY + 2 * H)]
    daily = run([(TEN, TEN + 60, TEN + 120, -1, False, 0, NAN)], [(0, 1, 1.0)], sessions=sessions)
    assert row(daily, 1)["online_seconds"] == 2 * H
    assert row(daily, 1, day=D0 + 1)["online_seconds"] == 2 * H


def test_peak_concurrency():
    convs = [(TEN, TEN + 10, TEN + 30 * M, -1, False, 0, NAN),
             (TEN + 10 * M, TEN + 10 * M + 5, TEN + 20 * M, -1, False, 0, NAN),
             (TEN + 15 * M, TEN + 15 * M + 5, TEN + 40 * M, -1, False, 0, NAN),   # three open at 10:15
             (TEN + 40 * M, TEN + 40 * M + 5, TEN + 50 * M, -1, False, 0, NAN),   # starts as the third ends
             (TEN + 15 * M, TEN + 15 * M + 5, TEN + 16 * M, -1, False, 0, NAN)]   # someone else's
    daily = run(convs, [(0, 1, 1.0), (1, 1, 0.5), (1, 2, 0.5), (2, 1, 1.0), (3, 1, 1.0), (4, 2, 1.0)])
    assert row(daily, 1)["peak_concurrency"] == 3
    assert row(daily, 2)["peak_concurrency"] == 2
    single = run(convs[:1], [(0, 1, 1.0)])
    assert single.peak_concurrency.tolist() == [1]


def test_nothing_to_sum():
    daily = run([(TEN, -1, TEN, -1, False, 0, NAN)], [])
    assert len(daily) == 0


def test_peak_concurrency_with_many_groups():
    # 9,000 person-days (the engine's keys no longer fit 32 bits): two overlapping conversations each
    people = 9000
    convs = [(TEN, TEN + 10, TEN + 30 * M, -1, False, 0, NAN), (TEN + M, TEN + M + 5, TEN + 2 * M, -1, False, 0, NAN),
             (TEN + 40 * M, TEN + 40 * M + 5, TEN + 41 * M, -1, False, 0, NAN)]
    credits = [(c, p, 1.0) for p in range(people) for c in range(3)]
    daily = run(convs, credits)
    assert len(daily) == people
    assert (daily.peak_concurrency == 2).all() and (daily.conversations == 3).all()
