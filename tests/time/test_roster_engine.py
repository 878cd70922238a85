"""The roster conflict engine: overlap, rest and leave, vectorised over people's shifts."""
import numpy as np
from hypothesis import given, strategies as st

from portal.time.engine import CONFLICT_LEAVE, CONFLICT_OVERLAP, CONFLICT_REST, roster_conflicts

HOUR = 3600


def instants(hours):
    return np.array([np.datetime64("2025-05-05T00:00:00") + np.timedelta64(int(h * HOUR), "s") for h in hours])


def conflicts(employee, starts, ends, is_new, rest_hours=11, **kwargs):
    kinds, shifts, others = roster_conflicts(np.array(employee), instants(starts), instants(ends),
                                             np.array(is_new), rest_hours * HOUR, **kwargs)
    return list(zip(kinds.tolist(), shifts.tolist(), others.tolist()))


def test_no_shifts_no_conflicts():
    assert conflicts([], [], [], []) == []


def test_overlap_with_the_person_s_other_shift():
    # person 1: 8–17 (old) and a new 16–20; person 2 works 16–20 too, which is fine
    assert conflicts([1, 1, 2], [8, 16, 16], [17, 20, 20], [False, True, True]) == [(CONFLICT_OVERLAP, 1, 0)]


def test_rest_between_the_end_of_one_shift_and_the_next():
    # 14–23 then 8–17 the next day: 9 h of rest, 11 required
    assert conflicts([1, 1], [14, 32], [23, 41], [False, True]) == [(CONFLICT_REST, 1, 0)]
    assert conflicts([1, 1], [14, 32], [23, 41], [False, True], rest_hours=8) == []


def test_a_long_shift_is_remembered_past_shorter_ones():
    # 0–30 contains 2–4; the new 10–12 overlaps the long one, not the short one before it
    assert conflicts([1, 1, 1], [0, 2, 10], [30, 4, 12], [False, False, True], rest_hours=0) == [
        (CONFLICT_OVERLAP, 2, 0)]


def test_old_conflicts_are_not_reported():
    assert conflicts([1, 1], [8, 9], [17, 18], [False, False]) == []


def test_a_new_shift_on_a_leave_day():
    keys = np.array([1_000_005, 2_000_005])
    assert conflicts([1, 2], [8, 8], [17, 17], [True, True], day_keys=keys,
                     leave_keys=np.array([2_000_005])) == [(CONFLICT_LEAVE, 1, -1)]


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 200), st.integers(1, 12), st.booleans()),
                max_size=25), st.integers(0, 12))
def test_matches_a_plain_pairwise_check(shifts, rest_hours):
    """Whether a new shift conflicts at all agrees with comparing every pair."""
    employee = [s[0] for s in shifts]
    starts = [s[1] for s in shifts]
    ends = [s[1] + s[2] for s in shifts]
    is_new = [s[3] for s in shifts]
    found = {(kind, index) for kind, index, _other in conflicts(employee, starts, ends, is_new, rest_hours)}
    flagged = {index for _kind, index in found}
    for j in range(len(shifts)):
        earlier = [i for i in range(len(shifts)) if i != j and employee[i] == employee[j]
                   and (starts[i], ends[i], i) < (starts[j], ends[j], j)]
        latest_end = max((ends[i] for i in earlier), default=None)
        expected = latest_end is not None and starts[j] - latest_end < rest_hours and (
            is_new[j] or any(is_new[i] and ends[i] == latest_end for i in earlier))
        if not expected:
            assert j not in flagged or latest_end is None or starts[j] - latest_end < rest_hours
        if expected and is_new[j]:
            assert j in flagged
