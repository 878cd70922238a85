"""The attendance engine on hand-made arrays: pairing, lateness, early leaving,
rounding, overtime, absence, missing punches, leave, holidays; and against a
plain-Python reference on random shifts and punches (Hypothesis)."""
import numpy as np
from hypothesis import given, settings, strategies as st

from portal.time import engine

H = 3600
M = 60
DAY = 24 * H
BOUNDS = np.arange(4) * DAY  # three local days starting at 0 (UTC for these tests)
NOW = 10 * DAY  # everything has ended


def shifts(*rows):
    """rows: (person, day, start, end, break minutes, grace minutes)."""
    columns = list(zip(*rows)) or [()] * 6
    return engine.Shifts(*(np.array(c, dtype=np.int64) for c in columns))


def punches(*rows):
    """rows: (person, at, "in"/"out")."""
    columns = list(zip(*rows)) or [()] * 3
    return engine.Punches(np.array(columns[0], np.int64), np.array(columns[1], np.int64),
                          np.array([k == "out" for k in columns[2]], np.int64))


def run(shift_rows, punch_rows, people=1, leave=None, leave_minutes=None, workday=True, holiday=False, now=NOW,
        **policy):
    days = len(BOUNDS) - 1
    leave = np.zeros((people, days), bool) if leave is None else leave
    leave_minutes = np.zeros((people, days), np.int64) if leave_minutes is None else leave_minutes
    return engine.attendance_days(people, BOUNDS, shifts(*shift_rows), punches(*punch_rows), leave, leave_minutes,
                                  np.broadcast_to(workday, days), np.broadcast_to(holiday, days), now, **policy)


NINE_TO_SIX = (0, 1, DAY + 9 * H, DAY + 18 * H, 60, 5)


def test_on_time_day():
    r = run([NINE_TO_SIX], [(0, DAY + 8 * H + 50 * M, "in"), (0, DAY + 18 * H + 2 * M, "out")], overtime_after=30)
    assert r.scheduled[0, 1] == 8 * 60
    assert r.worked[0, 1] == 8 * 60 + 2
    assert r.late[0, 1] == r.early[0, 1] == r.overtime[0, 1] == 0
    assert r.status[0, 1] == engine.STATUS_OK
    assert r.first_in[0, 1] == DAY + 8 * H + 50 * M and r.last_out[0, 1] == DAY + 18 * H + 2 * M


def test_late_within_and_beyond_grace():
    within = run([NINE_TO_SIX], [(0, DAY + 9 * H + 5 * M, "in"), (0, DAY + 18 * H, "out")])
    assert within.late[0, 1] == 0 and within.status[0, 1] == engine.STATUS_OK
    beyond = run([NINE_TO_SIX], [(0, DAY + 9 * H + 6 * M, "in"), (0, DAY + 18 * H, "out")])
    assert beyond.late[0, 1] == 6  # counted from the start, not from the end of the grace
    assert beyond.status[0, 1] == engine.STATUS_LATE


def test_early_leave_and_both():
    r = run([NINE_TO_SIX], [(0, DAY + 9 * H + 20 * M, "in"), (0, DAY + 17 * H + 30 * M, "out")])
    assert r.early[0, 1] == 30 and r.late[0, 1] == 20
    assert r.status[0, 1] == engine.STATUS_LATE_EARLY


def test_first_in_and_last_out_are_paired():
    r = run([NINE_TO_SIX], [(0, DAY + 8 * H, "in"), (0, DAY + 12 * H, "out"), (0, DAY + 13 * H, "in"),
                            (0, DAY + 18 * H, "out")])
    assert r.late[0, 1] == 0 and r.worked[0, 1] == 8 * 60  # from the start, not from an early arrival


def test_clock_window_limits_pairing():
    far = run([NINE_TO_SIX], [(0, DAY + 6 * H, "in"), (0, DAY + 18 * H, "out")], window=120)
    assert far.missing[0, 1] and far.status[0, 1] == engine.STATUS_MISSING
    near = run([NINE_TO_SIX], [(0, DAY + 7 * H, "in"), (0, DAY + 18 * H, "out")], window=120)
    assert not near.missing[0, 1]


def test_rounding_down():
    r = run([NINE_TO_SIX], [(0, DAY + 9 * H, "in"), (0, DAY + 17 * H + 59 * M, "out")], rounding=15)
    assert r.worked[0, 1] == 7 * 60 + 45  # 8:59 − 1:00 break = 7:59 → 7:45


def test_overtime_threshold():
    short = run([NINE_TO_SIX], [(0, DAY + 9 * H, "in"), (0, DAY + 18 * H + 25 * M, "out")], overtime_after=30)
    assert short.overtime[0, 1] == 0
    long = run([NINE_TO_SIX], [(0, DAY + 9 * H, "in"), (0, DAY + 20 * H, "out")], overtime_after=30)
    assert long.overtime[0, 1] == 90
    assert long.worked[0, 1] == 10 * 60


def test_missing_punch_only_after_the_end():
    punch = [(0, DAY + 9 * H, "in")]
    assert run([NINE_TO_SIX], punch).missing[0, 1]
    running = run([NINE_TO_SIX], punch, now=DAY + 12 * H)
    assert not running.missing[0, 1] and not running.absent[0, 1]


def test_absent_only_once_ended_and_not_on_leave():
    assert run([NINE_TO_SIX], []).absent[0, 1]
    assert run([NINE_TO_SIX], []).status[0, 1] == engine.STATUS_ABSENT
    future = run([NINE_TO_SIX], [], now=DAY)
    assert not future.absent[0, 1] and future.status[0, 1] == engine.STATUS_PENDING
    leave = np.zeros((1, 3), bool)
    leave[0, 1] = True
    on_leave = run([NINE_TO_SIX], [], leave=leave)
    assert not on_leave.absent[0, 1] and on_leave.status[0, 1] == engine.STATUS_LEAVE
    assert on_leave.totals()["leave_days"][0] == 1


def test_hour_leave_excuses_lateness():
    minutes = np.zeros((1, 3), np.int64)
    minutes[0, 1] = 120
    r = run([NINE_TO_SIX], [(0, DAY + 11 * H, "in"), (0, DAY + 18 * H, "out")], leave_minutes=minutes)
    assert r.late[0, 1] == 0 and r.status[0, 1] == engine.STATUS_OK


def test_overnight_shift_belongs_to_its_first_day():
    night = (0, 0, 22 * H, DAY + 6 * H, 30, 5)
    r = run([night], [(0, 21 * H + 55 * M, "in"), (0, DAY + 6 * H + 5 * M, "out")])
    assert r.scheduled[0, 0] == 8 * 60 - 30
    assert r.worked[0, 0] == 8 * 60 + 5 - 30
    assert r.scheduled[0, 1] == 0 and r.status[0, 1] == engine.STATUS_OFF


def test_holiday_work_is_overtime_and_unrostered_work_too():
    holiday = run([NINE_TO_SIX], [(0, DAY + 9 * H, "in"), (0, DAY + 18 * H, "out")], workday=False, holiday=True)
    assert holiday.overtime[0, 1] == holiday.worked[0, 1] == 8 * 60
    extra = run([], [(0, 2 * DAY + 10 * H, "in"), (0, 2 * DAY + 14 * H, "out")], workday=False)
    assert extra.worked[0, 2] == extra.overtime[0, 2] == 4 * 60
    assert extra.status[0, 2] == engine.STATUS_EXTRA
    assert extra.status[0, 1] == engine.STATUS_REST


def test_people_do_not_share_punches():
    r = run([NINE_TO_SIX, (1, 1, DAY + 9 * H, DAY + 18 * H, 60, 5)],
            [(1, DAY + 9 * H, "in"), (1, DAY + 18 * H, "out")], people=2)
    assert r.absent[0, 1] and not r.absent[1, 1]


def test_per_person_day_bounds():
    """People in different zones: each punch falls into its own person's local days."""
    bounds = np.stack([BOUNDS, BOUNDS - 8 * H])
    r = engine.attendance_days(2, bounds, shifts(), punches((0, 2 * DAY - 4 * H, "in"), (0, 2 * DAY - 3 * H, "out"),
                                                           (1, 2 * DAY - 4 * H, "in"), (1, 2 * DAY - 3 * H, "out")),
                               np.zeros((2, 3), bool), np.zeros((2, 3), np.int64), np.ones(3, bool),
                               np.zeros(3, bool), NOW)
    assert r.worked[0, 1] == 60 and r.worked[1, 2] == 60


# --- a plain reference: the docstring's rules, one shift at a time --------------------------------

def reference(shift_rows, punch_rows, window, rounding, overtime_after, now):
    out = []
    for person, _day, start, end, brk, grace in shift_rows:
        ins = [t for p, t, k in punch_rows if p == person and k == "in" and start - window * M <= t < end]
        outs = [t for p, t, k in punch_rows if p == person and k == "out" and start < t <= end + window * M]
        t_in = min(ins) if ins else None
        t_out = max(outs) if outs else None
        if t_in is not None and t_out is not None and t_out <= t_in:
            t_out = None
        late = (t_in - start) // M if t_in is not None and t_in > start + grace * M else 0
        early = (end - t_out) // M if t_out is not None and t_out < end - grace * M else 0
        worked = overtime = 0
        if t_in is not None and t_out is not None:
            worked = max((t_out - max(t_in, start)) // M - brk, 0) // rounding * rounding
            overtime = max((t_out - end) // M - overtime_after, 0) // rounding * rounding
        ended = end <= now
        absent = ended and t_in is None and t_out is None
        missing = ended and ((t_in is None) != (t_out is None))
        out.append((late, early, worked, overtime, absent, missing))
    return out


@st.composite
def one_shift_per_day(draw):
    people = draw(st.integers(1, 3))
    rows = []
    for person in range(people):
        for day in range(3):
            if draw(st.booleans()):
                start = day * DAY + draw(st.integers(0, 16)) * H
                rows.append((person, day, start, start + draw(st.integers(4, 10)) * H, draw(st.sampled_from([0, 30])),
                             draw(st.sampled_from([0, 5]))))
    punch_rows = draw(st.lists(st.tuples(st.integers(0, people - 1), st.integers(0, 3 * DAY) .map(lambda s: s // M * M),
                                         st.sampled_from(["in", "out"])), max_size=20, unique_by=lambda r: r[:2]))
    return people, rows, punch_rows


@settings(max_examples=150, deadline=None)
@given(one_shift_per_day(), st.sampled_from([1, 15]), st.sampled_from([0, 30]), st.integers(0, 4 * DAY))
def test_engine_matches_reference(case, rounding, overtime_after, now):
    people, rows, punch_rows = case
    r = run(rows, punch_rows, people=people, rounding=rounding, overtime_after=overtime_after, window=120, now=now)
    for (person, day, *_rest), expected in zip(rows, reference(rows, punch_rows, 120, rounding, overtime_after, now)):
        late, early, worked, overtime, absent, missing = expected
        assert (r.late[person, day], r.early[person, day], r.worked[person, day], r.overtime[person, day],
                bool(r.absent[person, day]), bool(r.missing[person, day])) == expected
