"""The capacity rule as a property: whatever assignments a person is given, one at a
time, each is accepted exactly when every day's total of shares stays at or under 100."""
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from factories import SYSTEM, make_employee, make_post, unit_by_code
from portal.core.errors import ServiceError
from portal.people.assignments import ProposedAssignment, assign_post, capacity_violations
from portal.people.models import Assignment

ORIGIN = dt.date(2026, 1, 1)
HORIZON = 40  # days the intervals fall in; an open end runs past it


@st.composite
def interval(draw):
    start = draw(st.integers(0, HORIZON - 1))
    end = draw(st.one_of(st.none(), st.integers(start, HORIZON - 1)))
    share = draw(st.sampled_from([1, 10, 25, 30, 40, 50, 60, 75, 90, 100]))
    return start, end, share


def daily_totals(intervals):
    """Brute force: the total of shares on every day of the horizon (and past it)."""
    return [sum(share for start, end, share in intervals if start <= day and (end is None or day <= end))
            for day in range(HORIZON + 1)]


def as_date(day):
    return None if day is None else ORIGIN + dt.timedelta(days=day)


@pytest.fixture
def post(db):
    return make_post("EXCN", code="CAP", capacity=50)


@pytest.fixture
def team(db):
    return unit_by_code("CN-JD-CS-A")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=st.lists(interval(), min_size=1, max_size=7))
def test_an_assignment_is_accepted_iff_every_day_stays_within_100(post, team, wanted):
    person = make_employee("EXCN")
    accepted = []
    for start, end, share in wanted:
        fits = max(daily_totals(accepted + [(start, end, share)])) <= 100
        try:
            assign_post(SYSTEM, person, post, team, share, as_date(start), as_date(end))
        except ServiceError as error:
            assert not fits, error.message
            assert error.field == "share"
        else:
            assert fits
            accepted.append((start, end, share))
    assert Assignment.select().where(Assignment.employee == person.id).count() == len(accepted)
    assert max(daily_totals(accepted)) <= 100


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 2), interval()), min_size=1, max_size=9))
def test_the_batched_check_flags_exactly_the_rows_on_an_overloaded_day(db, rows):
    """Proposed rows only (people not stored yet): a row is flagged iff some day it covers
    has its person over 100."""
    proposed = [ProposedAssignment(("new", person), share, as_date(start), as_date(end))
                for person, (start, end, share) in rows]
    flagged = {v.index for v in capacity_violations(proposed)}
    for index, (person, (start, end, _share)) in enumerate(rows):
        totals = daily_totals([r for p, r in rows if p == person])
        last = HORIZON if end is None else end
        assert (index in flagged) == any(totals[day] > 100 for day in range(start, last + 1)), index
