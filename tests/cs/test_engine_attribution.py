"""The attribution engine on hand-made arrays: each evidence level and its
precedence, splits by each rule, midnight and shift boundaries, unattributed
conversations, one credit per person; login sessions matched to people; and the
engine against the plain-Python reference (tests/cs/reference.py) on random
inputs (Hypothesis)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import reference
from portal.cs import engine

H = 3600
M = 60
DAY = 86400
T0 = 1_790_000_000 - 1_790_000_000 % DAY  # a UTC midnight

FIELDS = engine.AttributionInput.__dataclass_fields__


def make(conversations, accounts=2, rules=None, capacity=None, **evidence):
    """conversations: (account, sub, start, end); evidence: name → list of row
    tuples in the column order of AttributionInput (e.g. roster=[(person, account,
    start, end)])."""
    groups = {"sub_binding": ("sub", "person", "start", "end"),
              "account_binding": ("account", "person", "start", "end"),
              "login": ("account", "sub_account", "start", "end", "person"),
              "presence": ("person", "start", "end"),
              "roster": ("person", "account", "start", "end")}
    columns = list(zip(*conversations)) or [()] * 4
    values = {"conv_account": np.array(columns[0], np.int32), "conv_sub_account": np.array(columns[1], np.int32),
              "conv_start": np.array(columns[2], np.int64), "conv_end": np.array(columns[3], np.int64),
              "account_split_rule": np.array(rules or [engine.SPLIT_EQUAL] * accounts, np.int8),
              "person_capacity": np.array(capacity or [1.0] * 8, np.float64)}
    for group, names in groups.items():
        rows = evidence.get(group, [])
        cols = list(zip(*rows)) or [()] * len(names)
        for name, col in zip(names, cols):
            values[f"{group}_{name}"] = np.array(col, np.int64)
    assert set(values) == set(FIELDS)
    return engine.AttributionInput(**values)


def credits(result):
    """{conversation: {person: (share, level, evidence kind, evidence row)}}"""
    out = {}
    for c, p, s, lv, kind, row in zip(result.conv.tolist(), result.person.tolist(), result.share.tolist(),
                                      result.level.tolist(), result.evidence_kind.tolist(), result.evidence.tolist()):
        assert p not in out.setdefault(c, {}), "a person credited twice for one conversation"
        out[c][p] = (s, lv, kind, row)
    return out


def shares(result, conv):
    return {p: round(v[0], 9) for p, v in credits(result).get(conv, {}).items()}


NINE, FIVE = T0 + 9 * H, T0 + 17 * H
CONV = (0, -1, T0 + 10 * H, T0 + 10 * H + 10 * M)  # account 0, no sub-account, 10:00–10:10


# --- levels and precedence ---------------------------------------------------------------------------

def test_rostered_only():
    r = engine.attribute(make([CONV], roster=[(1, 0, NINE, FIVE)]))
    assert credits(r) == {0: {1: (1.0, engine.LEVEL_ROSTERED, engine.EVIDENCE_ROSTERED, 0)}}
    assert r.conv_level.tolist() == [engine.LEVEL_ROSTERED]
    assert r.confidence.tolist() == [engine.LEVEL_CONFIDENCE[4]]


def test_clocked_in_and_rostered_beats_rostered_only():
    r = engine.attribute(make([CONV], roster=[(1, 0, NINE, FIVE), (2, 0, NINE, FIVE)],
                              presence=[(2, NINE - 5 * M, FIVE + 5 * M)]))
    assert credits(r) == {0: {2: (1.0, engine.LEVEL_CLOCKED_ROSTERED, engine.EVIDENCE_CLOCKED_ROSTERED, 1)}}


def test_clocked_in_but_not_rostered_on_that_account_is_rostered_only_elsewhere():
    r = engine.attribute(make([CONV], roster=[(1, 0, NINE, FIVE), (2, 1, NINE, FIVE)],
                              presence=[(2, NINE, FIVE)]))
    assert credits(r) == {0: {1: (1.0, engine.LEVEL_ROSTERED, engine.EVIDENCE_ROSTERED, 0)}}


def test_login_beats_clocked_and_rostered():
    r = engine.attribute(make([CONV], roster=[(1, 0, NINE, FIVE)], presence=[(1, NINE, FIVE)],
                              login=[(0, -1, T0 + 9 * H + 30 * M, T0 + 12 * H, 3)]))
    assert credits(r) == {0: {3: (1.0, engine.LEVEL_LOGIN, engine.EVIDENCE_LOGIN, 0)}}
    assert r.confidence.tolist() == [0.9]


def test_unmatched_login_and_other_accounts_login_are_no_evidence():
    r = engine.attribute(make([CONV], roster=[(1, 0, NINE, FIVE)],
                              login=[(0, -1, NINE, FIVE, -1), (1, -1, NINE, FIVE, 4)]))
    assert credits(r) == {0: {1: (1.0, engine.LEVEL_ROSTERED, engine.EVIDENCE_ROSTERED, 0)}}


def test_login_sub_account_must_match_when_both_name_one():
    conv_sub = (0, 7, T0 + 10 * H, T0 + 10 * H + 60)
    logins = [(0, 8, NINE, FIVE, 1), (0, 7, NINE, FIVE, 2), (0, -1, NINE, FIVE, 3)]
    r = engine.attribute(make([conv_sub, CONV], login=logins))
    assert set(credits(r)[0]) == {2, 3}          # sub-account 8's login does not count for sub-account 7
    assert set(credits(r)[1]) == {1, 2, 3}       # a conversation without a sub-account: every login of the account


def test_sub_account_binding_beats_everything():
    conv_sub = (0, 5, T0 + 10 * H, T0 + 10 * H + 60)
    r = engine.attribute(make([conv_sub], sub_binding=[(5, 4, T0 - 10 * DAY, T0 + 10 * DAY)],
                              account_binding=[(0, 6, T0 - DAY, T0 + DAY)],
                              login=[(0, -1, NINE, FIVE, 3)], roster=[(1, 0, NINE, FIVE)]))
    assert credits(r) == {0: {4: (1.0, engine.LEVEL_BOUND, engine.EVIDENCE_SUB_BINDING, 0)}}
    assert r.confidence.tolist() == [1.0]


def test_personal_account_binding_then_expired():
    later = (0, -1, T0 + 3 * DAY, T0 + 3 * DAY + 60)
    r = engine.attribute(make([CONV, later], account_binding=[(0, 6, T0, T0 + DAY)], roster=[(1, 0, NINE, FIVE)]))
    c = credits(r)
    assert c[0] == {6: (1.0, engine.LEVEL_BOUND, engine.EVIDENCE_ACCOUNT_BINDING, 0)}
    assert 1 not in c and r.conv_level.tolist() == [engine.LEVEL_BOUND, 0]


def test_unbound_sub_account_falls_through_to_the_account():
    conv_sub = (0, 5, T0 + 10 * H, T0 + 10 * H + 60)
    r = engine.attribute(make([conv_sub], sub_binding=[(5, 4, T0 + DAY, T0 + 2 * DAY), (6, 2, T0, T0 + DAY)],
                              roster=[(1, 0, NINE, FIVE)]))
    assert credits(r) == {0: {1: (1.0, engine.LEVEL_ROSTERED, engine.EVIDENCE_ROSTERED, 0)}}


def test_a_binding_longer_than_a_day_is_found_in_the_middle():
    late = (0, 5, T0 + 20 * DAY + 5 * H, T0 + 20 * DAY + 5 * H + 60)
    r = engine.attribute(make([late], sub_binding=[(5, 4, T0 - 40 * DAY, T0 + 90 * DAY)]))
    assert set(credits(r)[0]) == {4}


# --- unattributed ------------------------------------------------------------------------------------------

def test_unattributed_conversations_are_given_to_nobody():
    night = (0, -1, T0 + 3 * H, T0 + 3 * H + 60)
    other_account = (1, -1, T0 + 10 * H, T0 + 10 * H + 60)
    r = engine.attribute(make([night, CONV, other_account], roster=[(1, 0, NINE, FIVE)],
                              presence=[(2, T0, T0 + DAY)]))
    assert set(credits(r)) == {1}
    assert r.conv_level.tolist() == [0, engine.LEVEL_ROSTERED, 0]
    assert r.unattributed.tolist() == [0, 2]


def test_no_evidence_at_all():
    r = engine.attribute(make([CONV, CONV]))
    assert r.conv.size == 0 and r.conv_level.tolist() == [0, 0]


def test_no_conversations():
    r = engine.attribute(make([], roster=[(1, 0, NINE, FIVE)]))
    assert r.conv.size == 0 and r.conv_level.size == 0


# --- splits -------------------------------------------------------------------------------------------------

A_SHIFT = (T0 + 8 * H, T0 + 17 * H)
B_SHIFT = (T0 + 13 * H, T0 + 22 * H)
OVERLAP = (0, -1, T0 + 16 * H + 50 * M, T0 + 17 * H + 10 * M)   # 16:50–17:10: A leaves at 17:00


def ab_roster(account=0):
    return [(1, account, *A_SHIFT), (2, account, *B_SHIFT)]


def test_overlapping_shifts_equal_split():
    r = engine.attribute(make([OVERLAP], rules=[engine.SPLIT_EQUAL, 0], roster=ab_roster()))
    assert shares(r, 0) == {1: 0.5, 2: 0.5}
    assert r.confidence.tolist() == [pytest.approx(0.4 * 0.75)] * 2


def test_overlapping_shifts_presence_split():
    # A's roster covers 10 of the 20 minutes, B's all 20
    r = engine.attribute(make([OVERLAP], rules=[engine.SPLIT_PRESENCE, 0], roster=ab_roster()))
    assert shares(r, 0) == {1: round(1 / 3, 9), 2: round(2 / 3, 9)}


def test_presence_split_uses_clocked_in_time_at_level_three():
    r = engine.attribute(make([OVERLAP], rules=[engine.SPLIT_PRESENCE, 0], roster=ab_roster(),
                              presence=[(1, T0 + 8 * H, T0 + 16 * H + 55 * M), (2, T0 + 13 * H, T0 + 22 * H)]))
    assert shares(r, 0) == {1: round(5 / 25, 9), 2: round(20 / 25, 9)}
    assert {v[1] for v in credits(r)[0].values()} == {engine.LEVEL_CLOCKED_ROSTERED}


def test_presence_split_of_an_instant_conversation_falls_back_to_equal():
    instant = (0, -1, T0 + 16 * H, T0 + 16 * H)
    r = engine.attribute(make([instant], rules=[engine.SPLIT_PRESENCE, 0], roster=ab_roster()))
    assert shares(r, 0) == {1: 0.5, 2: 0.5}


def test_overlapping_shifts_capacity_split():
    r = engine.attribute(make([OVERLAP], rules=[engine.SPLIT_CAPACITY, 0], capacity=[0, 1.0, 0.5, 0, 0, 0, 0, 0],
                              roster=ab_roster()))
    assert shares(r, 0) == {1: round(2 / 3, 9), 2: round(1 / 3, 9)}


def test_capacity_split_all_zero_falls_back_to_equal():
    r = engine.attribute(make([OVERLAP], rules=[engine.SPLIT_CAPACITY, 0], capacity=[0.0] * 8, roster=ab_roster()))
    assert shares(r, 0) == {1: 0.5, 2: 0.5}


@pytest.mark.parametrize("rule", [engine.SPLIT_EQUAL, engine.SPLIT_PRESENCE, engine.SPLIT_CAPACITY])
def test_shares_sum_to_one_per_conversation(rule):
    starts = T0 + np.arange(6 * H, 23 * H, 7 * M)
    conversations = [(0, -1, int(s), int(s) + 25 * M) for s in starts]
    r = engine.attribute(make(conversations, rules=[rule, 0], capacity=[0.3, 1.0, 0.5, 0.7, 0, 0, 0, 0],
                              roster=ab_roster() + [(3, 0, T0 + 12 * H, T0 + 14 * H)],
                              presence=[(2, T0 + 12 * H, T0 + 20 * H)]))
    total = np.bincount(r.conv, weights=r.share, minlength=len(conversations))
    attributed = r.conv_level > 0
    assert np.allclose(total[attributed], 1.0) and (total[~attributed] == 0).all()
    assert attributed.sum() < len(conversations)  # before 08:00 and after 22:00 nobody is rostered


# --- time boundaries -----------------------------------------------------------------------------------------

def test_a_conversation_is_judged_when_it_starts_at_a_shift_boundary():
    at_end_of_a = (0, -1, A_SHIFT[1], A_SHIFT[1] + 60)       # 17:00: A's shift [08:00, 17:00) is over
    before = (0, -1, A_SHIFT[1] - 1, A_SHIFT[1] + 60)
    at_start_of_b = (0, -1, B_SHIFT[0], B_SHIFT[0] + 60)
    r = engine.attribute(make([at_end_of_a, before, at_start_of_b], roster=ab_roster()))
    assert set(credits(r)[0]) == {2} and set(credits(r)[1]) == {1, 2} and set(credits(r)[2]) == {1, 2}


def test_conversation_crossing_midnight_and_a_night_shift():
    night = (T0 + 22 * H, T0 + DAY + 6 * H)                  # 22:00–06:00
    late = (0, -1, T0 + 23 * H + 50 * M, T0 + DAY + 20 * M)  # 23:50–00:20
    after_midnight = (0, -1, T0 + DAY + 10 * M, T0 + DAY + 15 * M)
    next_evening = (0, -1, T0 + DAY + 22 * H + 5 * M, T0 + DAY + 22 * H + 30 * M)
    r = engine.attribute(make([late, after_midnight, next_evening], rules=[engine.SPLIT_PRESENCE, 0],
                              roster=[(5, 0, *night), (6, 0, T0 + DAY - 30 * M, T0 + DAY + 10 * M)]))
    assert shares(r, 0) == {5: round(30 / 50, 9), 6: round(20 / 50, 9)}   # 6 leaves at 00:10
    assert shares(r, 1) == {5: 1.0}
    assert 2 not in credits(r)


# --- one credit per person ------------------------------------------------------------------------------------

def test_a_person_with_two_qualifying_intervals_counts_once():
    # person 1 rostered twice (an overlapping double entry) and logged in twice
    r = engine.attribute(make([CONV], roster=[(1, 0, NINE, FIVE), (1, 0, T0 + 10 * H - 60, T0 + 20 * H),
                                              (2, 0, NINE, FIVE)]))
    assert shares(r, 0) == {1: 0.5, 2: 0.5}
    assert credits(r)[0][1][3] == 1          # the longer-lasting entry is the evidence kept
    r = engine.attribute(make([CONV], login=[(0, -1, NINE, FIVE, 1), (0, -1, T0 + 9 * H + 30 * M, FIVE, 1)]))
    assert shares(r, 0) == {1: 1.0}
    assert credits(r)[0][1][3] == 0          # same end: the first row


def test_same_person_via_two_clocked_intervals_counts_once():
    r = engine.attribute(make([CONV], roster=[(1, 0, NINE, FIVE)],
                              presence=[(1, NINE, T0 + 11 * H), (1, T0 + 9 * H + 30 * M, FIVE)]))
    assert shares(r, 0) == {1: 1.0} and r.level.tolist() == [engine.LEVEL_CLOCKED_ROSTERED]


# --- against the reference -----------------------------------------------------------------------------------

def _intervals(draw, count, key_max, person_max, extra=()):
    rows = []
    for _ in range(count):
        key = draw(st.integers(0, key_max))
        person = draw(st.integers(-1 if "unmatched" in extra else 0, person_max))
        start = draw(st.integers(0, 3 * DAY))
        length = draw(st.sampled_from([0, 1, 30 * M, 2 * H, 9 * H, 26 * H, 5 * DAY]))
        rows.append((key, person, T0 + start, T0 + start + length + draw(st.integers(0, 600))))
    return rows


@st.composite
def inputs(draw):
    accounts, people, subs = 3, 5, 4
    n = draw(st.integers(0, 30))
    conversations = []
    for _ in range(n):
        start = T0 + draw(st.integers(0, 3 * DAY))
        conversations.append((draw(st.integers(0, accounts - 1)), draw(st.integers(-1, subs - 1)), start,
                              start + draw(st.sampled_from([0, 60, 20 * M, 3 * H]))))
    sub_binding = [(k, p, s, e) for k, p, s, e in _intervals(draw, draw(st.integers(0, 4)), subs - 1, people - 1)]
    account_binding = [(k, p, s, e) for k, p, s, e in _intervals(draw, draw(st.integers(0, 2)), accounts - 1,
                                                                   people - 1)]
    login = [(k, draw(st.integers(-1, subs - 1)), s, e, p)
             for k, p, s, e in _intervals(draw, draw(st.integers(0, 8)), accounts - 1, people - 1, ("unmatched",))]
    presence = [(p, s, e) for _k, p, s, e in _intervals(draw, draw(st.integers(0, 8)), 0, people - 1)]
    roster = [(p, k, s, e) for k, p, s, e in _intervals(draw, draw(st.integers(0, 12)), accounts - 1, people - 1)]
    rules = [draw(st.sampled_from([0, 1, 2])) for _ in range(accounts)]
    capacity = [draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])) for _ in range(8)]
    return make(conversations, accounts, rules, capacity, sub_binding=sub_binding, account_binding=account_binding,
                login=login, presence=presence, roster=roster)


@settings(max_examples=300, deadline=None)
@given(inputs())
def test_engine_agrees_with_the_reference(data):
    result = engine.attribute(data)
    expected_rows, expected_levels = reference.attribute(data)
    assert reference.same(expected_rows, reference.engine_rows(result), tolerance=1e-12)
    assert result.conv_level.tolist() == expected_levels
    total = np.bincount(result.conv, weights=result.share, minlength=data.conv_start.size)
    assert np.allclose(total[result.conv_level > 0], 1.0, rtol=0, atol=1e-12)


# --- login sessions → people ---------------------------------------------------------------------------------

def match(logins, stations=(), clocks=(), roster=(), tolerance=900):
    """logins: (start, address, workstation, account); stations: (person, kind, code,
    start, end); clocks: (person, at); roster: (person, account, start, end)."""
    lg = list(zip(*logins)) or [()] * 4
    stn = list(zip(*stations)) or [()] * 5
    clk = list(zip(*clocks)) or [()] * 2
    ros = list(zip(*roster)) or [()] * 4
    a = lambda col: np.array(col, np.int64)  # noqa: E731
    person, how = engine.match_login_sessions(a(lg[0]), a(lg[1]), a(lg[2]), *map(a, stn), *map(a, clk), a(lg[3]),
                                              *map(a, ros), tolerance_seconds=tolerance)
    return list(zip(person.tolist(), how.tolist()))


IP, WS = engine.STATION_IP, engine.STATION_WORKSTATION
ALWAYS = (T0 - 100 * DAY, T0 + 100 * DAY)


def test_login_matched_by_registered_ip_then_workstation():
    logins = [(NINE, 11, -1, 0), (NINE, 99, 21, 0), (NINE, -1, 21, 0), (NINE, 99, 98, 0)]
    stations = [(1, IP, 11, *ALWAYS), (2, WS, 21, *ALWAYS), (3, WS, 11, *ALWAYS)]
    assert match(logins, stations) == [(1, engine.MATCH_IP), (2, engine.MATCH_WORKSTATION),
                                       (2, engine.MATCH_WORKSTATION), (-1, engine.MATCH_NONE)]


def test_station_only_counts_while_registered():
    stations = [(1, IP, 11, T0 + DAY, T0 + 2 * DAY)]
    assert match([(NINE, 11, -1, 0), (NINE + DAY, 11, -1, 0)], stations) == [(-1, 0), (1, engine.MATCH_IP)]


def test_ambiguous_ip_does_not_match_by_itself():
    stations = [(1, IP, 11, *ALWAYS), (2, IP, 11, *ALWAYS), (2, WS, 21, *ALWAYS)]
    assert match([(NINE, 11, -1, 0), (NINE, 11, 21, 0)], stations) == [(-1, 0), (2, engine.MATCH_WORKSTATION)]
    # the same person registering the address twice is not ambiguous
    assert match([(NINE, 11, -1, 0)], [(1, IP, 11, *ALWAYS), (1, IP, 11, *ALWAYS)]) == [(1, engine.MATCH_IP)]


def test_login_matched_by_the_nearest_clock_in_of_someone_rostered():
    roster = [(1, 0, NINE, FIVE), (2, 0, NINE, FIVE), (3, 1, NINE, FIVE)]
    clocks = [(1, NINE - 10 * M), (2, NINE - 2 * M), (3, NINE)]   # 3 is nearest but rostered elsewhere
    assert match([(NINE + M, -1, -1, 0)], clocks=clocks, roster=roster) == [(2, engine.MATCH_CLOCK_IN)]


def test_clock_in_outside_the_tolerance_or_a_tie_does_not_match():
    roster = [(1, 0, NINE, FIVE), (2, 0, NINE, FIVE)]
    assert match([(NINE + 20 * M, -1, -1, 0)], clocks=[(1, NINE)], roster=roster) == [(-1, 0)]
    assert match([(NINE + 20 * M, -1, -1, 0)], clocks=[(1, NINE)], roster=roster, tolerance=1500) == \
        [(1, engine.MATCH_CLOCK_IN)]
    assert match([(NINE, -1, -1, 0)], clocks=[(1, NINE - M), (2, NINE + M)], roster=roster) == [(-1, 0)]


def test_clock_in_just_before_the_shift_matches_a_login_before_it_starts():
    roster = [(1, 0, NINE, FIVE)]
    assert match([(NINE - 3 * M, -1, -1, 0)], clocks=[(1, NINE - 8 * M)], roster=roster) == \
        [(1, engine.MATCH_CLOCK_IN)]


def test_ambiguous_ip_falls_back_to_clock_in():
    stations = [(1, IP, 11, *ALWAYS), (2, IP, 11, *ALWAYS)]
    assert match([(NINE, 11, -1, 0)], stations, clocks=[(2, NINE - M)], roster=[(2, 0, NINE, FIVE)]) == \
        [(2, engine.MATCH_CLOCK_IN)]


def test_no_logins():
    assert match([]) == []
