"""The time domain's numbers, pure numpy: arrays and plain values in, arrays out;
no database, no request, `now` passed in. A Python loop over rows here is a bug.

- roster conflicts: overlapping shifts and too little rest for one person;
- attendance days: scheduled vs worked time, lateness, early leaving, absence,
  overtime, leave and holidays per person and day.
"""
from dataclasses import dataclass

import numpy as np

# --- roster conflicts (rosters.py) -------------------------------------------------------

CONFLICT_OVERLAP, CONFLICT_REST, CONFLICT_LEAVE = 1, 2, 3


def roster_conflicts(employee, starts, ends, is_new, min_rest_seconds, day_keys=None, leave_keys=None):
    """Conflicts among shifts: one row per shift, `employee` ids (int), `starts` and
    `ends` instants (datetime64), `is_new` marking the shifts being added (only
    conflicts involving one of them count: old ones are what the roster already is).

    A shift conflicts with the latest-ending earlier shift of the same person when it
    starts before that one ends (overlap) or less than `min_rest_seconds` after it
    (rest). With `day_keys` (one int per shift, e.g. employee·100000 + day ordinal)
    and `leave_keys` (the same keys of approved leave days), a new shift on a leave
    day conflicts too.

    Returns (kind, shift index, other shift index or -1) arrays, in shift order."""
    employee = np.asarray(employee, dtype=np.int64)
    count = employee.size
    starts = np.asarray(starts, dtype="datetime64[s]").astype(np.int64)
    ends = np.asarray(ends, dtype="datetime64[s]").astype(np.int64)
    is_new = np.asarray(is_new, dtype=bool)
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    order = np.lexsort((ends, starts, employee))
    emp, start, end = employee[order], starts[order], ends[order]
    # A running maximum of the end per person: offset each person's ends so that
    # one accumulate never carries a maximum over into the next person.
    rank = np.concatenate(([0], np.cumsum(emp[1:] != emp[:-1])))
    span = int(ends.max() - starts.min()) + 1
    keyed = rank * span + (end - starts.min())
    running = np.maximum.accumulate(keyed)
    setter = np.maximum.accumulate(np.where(keyed == running, np.arange(count), 0))
    same_person = np.zeros(count, dtype=bool)
    same_person[1:] = rank[1:] == rank[:-1]
    previous = np.zeros(count, dtype=np.int64)
    previous[1:] = setter[:-1]
    previous_end = end[previous]
    gap = start - previous_end
    involved = is_new[order] | is_new[order][previous]
    overlap = same_person & involved & (gap < 0)
    rest = same_person & involved & (gap >= 0) & (gap < min_rest_seconds)
    kinds = np.where(overlap, CONFLICT_OVERLAP, np.where(rest, CONFLICT_REST, 0))
    found = kinds > 0
    rows_kind, rows_shift, rows_other = kinds[found], order[found], order[previous[found]]
    if day_keys is not None and leave_keys is not None and len(leave_keys):
        on_leave = np.flatnonzero(is_new & np.isin(np.asarray(day_keys, dtype=np.int64),
                                                     np.asarray(leave_keys, dtype=np.int64)))
        rows_kind = np.concatenate((rows_kind, np.full(on_leave.size, CONFLICT_LEAVE)))
        rows_shift = np.concatenate((rows_shift, on_leave))
        rows_other = np.concatenate((rows_other, np.full(on_leave.size, -1)))
    by_shift = np.argsort(rows_shift, kind="stable")
    return rows_kind[by_shift].astype(np.int64), rows_shift[by_shift].astype(np.int64), \
        rows_other[by_shift].astype(np.int64)


# --- attendance days (attendance.py) -----------------------------------------------------

# Status of one person-day, in the order they win when several apply (np.select below).
(STATUS_OFF, STATUS_REST, STATUS_HOLIDAY, STATUS_LEAVE, STATUS_PENDING, STATUS_OK, STATUS_LATE, STATUS_EARLY,
 STATUS_LATE_EARLY, STATUS_MISSING, STATUS_ABSENT, STATUS_EXTRA) = range(12)
CLOCK_IN, CLOCK_OUT = 0, 1


@dataclass(frozen=True)
class Shifts:
    """Rostered shifts, one item per shift: person and local-day indexes, UTC start
    and end in int64 seconds, unpaid break and grace minutes."""

    person: np.ndarray
    day: np.ndarray
    start: np.ndarray
    end: np.ndarray
    break_minutes: np.ndarray
    grace_minutes: np.ndarray


@dataclass(frozen=True)
class Punches:
    """Clock events (voided ones already left out): person index, UTC int64
    seconds, kind CLOCK_IN or CLOCK_OUT. Any order."""

    person: np.ndarray
    at: np.ndarray
    kind: np.ndarray


@dataclass(frozen=True)
class AttendanceDays:
    """Per person × day (P × D) arrays; minutes are int64. `first_in`/`last_out`:
    the punches paired with the day's shifts (or, on a day without one, the first
    in and last out of the day), int64 UTC seconds, -1 when there is none."""

    scheduled: np.ndarray
    worked: np.ndarray
    late: np.ndarray
    early: np.ndarray
    overtime: np.ndarray
    absent: np.ndarray
    missing: np.ndarray
    leave: np.ndarray
    holiday: np.ndarray
    rostered: np.ndarray
    workday: np.ndarray
    first_in: np.ndarray
    last_out: np.ndarray
    status: np.ndarray

    def totals(self):
        """Per person (P,): minutes summed, days counted."""
        minutes = {name: getattr(self, name).sum(axis=1) for name in
                   ("scheduled", "worked", "late", "early", "overtime")}
        counts = {name + "_days": getattr(self, name).sum(axis=1) for name in ("absent", "missing")}
        counts["late_days"] = (self.late > 0).sum(axis=1)
        counts["early_days"] = (self.early > 0).sum(axis=1)
        counts["leave_days"] = (self.leave & (self.rostered | self.workday)).sum(axis=1)
        return {**minutes, **counts}


def _minutes(seconds):
    return seconds // 60


def _keys(person, at, origin, span):
    """One sortable int64 key per (person, instant): searchsorted over it finds a
    person's punches in a time range without looking at anyone else's."""
    return person.astype(np.int64) * span + (np.clip(at, origin, origin + span - 1) - origin)


def attendance_days(people, day_bounds, shifts, punches, leave_days, leave_minutes, workday, holiday, now,
                    rounding=1, overtime_after=0, window=120):
    """Attendance of `people` persons over the local days delimited by `day_bounds`.

    `day_bounds`: int64 UTC seconds of local midnights, (D + 1,) or per person
    (P, D + 1) when people sit in different time zones. `leave_days` (P × D, bool):
    approved whole-day leave; `leave_minutes` (P × D): approved hour leave.
    `workday`, `holiday`: (D,) or (P, D) booleans from the working calendar
    (a 调休 weekend is a workday). `rounding`, `overtime_after`, `window`:
    minutes, scalars or one per person. `now`: int64 UTC seconds.

    Rules, per shift (overnight shifts belong to the day they start on; start and
    end are exact instants, so a night across a DST change is an hour longer or
    shorter):
    - its clock-in is the person's first "in" in [start − window, end); its
      clock-out the last "out" in (start, end + window], and only if after the in;
    - late = in − start minutes when in > start + grace; early = end − out when
      out < end − grace;
    - worked = out − max(in, start) − break, at least 0, rounded down to
      `rounding`; overtime = out − end − overtime_after when positive, rounded
      down; on a holiday that is not a workday all worked time is overtime;
    - a shift that has not ended by `now` is pending: never absent nor missing;
    - absent: ended, no in and no out, not on whole-day leave; missing punch:
      ended, exactly one of in/out;
    - whole-day leave excuses the day (no lateness, absence or missing punch);
      hour leave excuses that many minutes of lateness, then of early leaving.
    A day without a shift where the person clocked in and out (first in, last out
    of that local day) is extra work: all of it is overtime.
    Several shifts on one day add up. Results are P × D arrays (AttendanceDays).
    """
    day_bounds = np.asarray(day_bounds, dtype=np.int64)
    days = day_bounds.shape[-1] - 1
    bounds = np.broadcast_to(day_bounds, (people, days + 1))
    per_person = np.ones(people, dtype=np.int64)
    rounding = np.maximum(np.asarray(rounding, dtype=np.int64) * per_person, 1)
    overtime_after = np.asarray(overtime_after, dtype=np.int64) * per_person
    window = np.asarray(window, dtype=np.int64) * per_person * 60
    workday = np.broadcast_to(np.asarray(workday, dtype=bool), (people, days))
    holiday = np.broadcast_to(np.asarray(holiday, dtype=bool), (people, days))
    leave_days = np.asarray(leave_days, dtype=bool).reshape(people, days)
    leave_minutes = np.asarray(leave_minutes, dtype=np.int64).reshape(people, days)

    s_person = shifts.person.astype(np.int64)
    s_day = shifts.day.astype(np.int64)
    start = shifts.start.astype(np.int64)
    end = shifts.end.astype(np.int64)
    s_window = window[s_person]
    low, high = (int(bounds.min()), int(bounds.max())) if bounds.size else (0, 0)
    origin = int(min(low, start.min(initial=low) - window.max(initial=0))) - 1
    stop = int(max(high, end.max(initial=high) + window.max(initial=0))) + 1
    span = stop - origin + 1

    kind = punches.kind.astype(np.int64)
    p_keys = _keys(punches.person, punches.at.astype(np.int64), origin, span)
    in_keys = np.sort(p_keys[kind == CLOCK_IN])
    out_keys = np.sort(p_keys[kind == CLOCK_OUT])

    # Pair each shift with its punches.
    first = np.searchsorted(in_keys, _keys(s_person, start - s_window, origin, span), "left")
    has_in = first < in_keys.size
    first_key = in_keys[np.minimum(first, max(in_keys.size - 1, 0))] if in_keys.size else np.zeros_like(start)
    has_in &= first_key < _keys(s_person, end, origin, span)
    last = np.searchsorted(out_keys, _keys(s_person, end + s_window, origin, span), "right") - 1
    has_out = last >= 0
    last_key = out_keys[np.maximum(last, 0)] if out_keys.size else np.zeros_like(end)
    has_out &= last_key > _keys(s_person, start, origin, span)
    t_in = first_key - s_person * span + origin
    t_out = last_key - s_person * span + origin
    has_out &= ~has_in | (t_out > t_in)

    grace = shifts.grace_minutes.astype(np.int64) * 60
    ended = end <= now
    on_leave = leave_days[s_person, s_day]
    s_rounding = rounding[s_person]
    late = np.where(has_in & (t_in > start + grace), _minutes(t_in - start), 0)
    early = np.where(has_out & (t_out < end - grace), _minutes(end - t_out), 0)
    both = has_in & has_out
    worked = np.where(both, _minutes(t_out - np.maximum(t_in, start)) - shifts.break_minutes, 0)
    worked = np.maximum(worked, 0) // s_rounding * s_rounding
    overtime = np.where(both, np.maximum(_minutes(t_out - end) - overtime_after[s_person], 0), 0)
    overtime = overtime // s_rounding * s_rounding
    day_off = holiday[s_person, s_day] & ~workday[s_person, s_day]
    overtime = np.where(day_off, worked, overtime)
    late = np.where(on_leave, 0, late)
    early = np.where(on_leave, 0, early)
    absent = ended & ~has_in & ~has_out & ~on_leave
    missing = ended & (has_in ^ has_out) & ~on_leave
    pending = ~ended & ~on_leave
    scheduled = np.maximum(_minutes(end - start) - shifts.break_minutes, 0)

    def per_day(values, dtype=np.int64):
        out = np.zeros((people, days), dtype=dtype)
        np.add.at(out, (s_person, s_day), values.astype(dtype))
        return out

    excuse = leave_minutes
    day_late = per_day(late)
    late_left = np.maximum(day_late - excuse, 0)
    day_early = np.maximum(per_day(early) - np.maximum(excuse - day_late, 0), 0)
    day_late = late_left
    rostered = per_day(np.ones_like(s_person)) > 0
    day_pending = per_day(pending) > 0
    first_in = np.full((people, days), np.iinfo(np.int64).max)
    np.minimum.at(first_in, (s_person[has_in], s_day[has_in]), t_in[has_in])
    last_out = np.full((people, days), -1, dtype=np.int64)
    np.maximum.at(last_out, (s_person[has_out], s_day[has_out]), t_out[has_out])

    # Work on a day without a shift: the day's first in and last out.
    bound_keys = _keys(np.repeat(np.arange(people), days + 1), bounds.ravel(), origin, span)
    p_flat = np.searchsorted(bound_keys, p_keys, "right") - 1
    p_person = p_flat // (days + 1)
    p_day = p_flat % (days + 1)
    inside = (p_flat >= 0) & (p_day < days) & (p_person == punches.person)
    inside &= ~rostered[p_person.clip(0, people - 1), p_day.clip(0, days - 1)]
    at = punches.at.astype(np.int64)
    extra_in = inside & (kind == CLOCK_IN)
    extra_out = inside & (kind == CLOCK_OUT)
    np.minimum.at(first_in, (p_person[extra_in], p_day[extra_in]), at[extra_in])
    np.maximum.at(last_out, (p_person[extra_out], p_day[extra_out]), at[extra_out])
    extra = ~rostered & (first_in < np.iinfo(np.int64).max) & (last_out > first_in)
    extra_worked = np.where(extra, _minutes(np.where(extra, last_out - first_in, 0)), 0)
    extra_worked = extra_worked // rounding[:, None] * rounding[:, None]
    first_in = np.where(first_in == np.iinfo(np.int64).max, -1, first_in)

    result_worked = per_day(worked) + extra_worked
    result_overtime = per_day(overtime) + extra_worked
    day_absent = per_day(absent) > 0
    day_missing = per_day(missing) > 0
    day_leave = leave_days | (rostered & (leave_minutes > 0) & (per_day(scheduled) <= leave_minutes))
    status = np.select(
        [rostered & day_leave, day_absent, day_missing, (day_late > 0) & (day_early > 0), day_late > 0,
         day_early > 0, rostered & day_pending & (result_worked == 0), rostered, extra, leave_days,
         holiday & ~workday, ~workday],
        [STATUS_LEAVE, STATUS_ABSENT, STATUS_MISSING, STATUS_LATE_EARLY, STATUS_LATE, STATUS_EARLY,
         STATUS_PENDING, STATUS_OK, STATUS_EXTRA, STATUS_LEAVE, STATUS_HOLIDAY, STATUS_REST],
        STATUS_OFF)
    return AttendanceDays(
        scheduled=per_day(scheduled), worked=result_worked, late=day_late, early=day_early,
        overtime=result_overtime, absent=day_absent & ~day_leave, missing=day_missing & ~day_leave,
        leave=day_leave, holiday=holiday & ~workday, rostered=rostered,
        workday=workday.copy(), first_in=first_in, last_out=last_out,
        status=status)
