"""The bonus allocation engine (portal/bonus/engine.py): hand-made pools, then the
properties of issue 6 with Hypothesis — lines sum exactly to the pool, a person's
amount never decreases when one of their values improves, swapping two people swaps
their amounts, identical data differ by at most one unit, floors and caps hold,
infeasible pools are refused with a message key, the batch equals one-pool-at-a-time,
and the numpy engine equals the Decimal reference (tests/bonus/reference.py) on every
case tried. Plus currency conversion and its half-even rounding.

(Named test_engine_allocation.py: tests/approvals/test_engine.py already takes the
module name test_engine under pytest's rootdir import mode.)"""
import importlib.util
import math
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.bonus import engine

_spec = importlib.util.spec_from_file_location("bonus_reference", Path(__file__).with_name("reference.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

NAN = float("nan")
PERSON_ARGS = ("eligible", "eligibility_scale", "participation", "floor", "cap", "adjustment")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(case):
    """The engine on one pool: its Allocation, or the error key."""
    values, pool, rule = case
    try:
        return engine.allocate_pool(values, pool, **rule)
    except engine.AllocationError as error:
        return error.key


def amounts(case):
    result = run(case)
    return result if isinstance(result, str) else result.amount[0].tolist()


# --- strategies -------------------------------------------------------------------------------------------------

@st.composite
def pools(draw, min_people=1, max_people=9, bounds=True, adjustments=True, units=(1, 1, 100)):
    n = draw(st.integers(min_people, max_people))
    k = draw(st.integers(1, 3))
    value = st.one_of(st.integers(0, 20).map(float), st.integers(0, 200).map(lambda v: v / 10),
                      st.just(NAN))
    values = [[draw(value) for _ in range(k)] for _ in range(n)]
    unit = draw(st.sampled_from(units))
    size = st.one_of(st.integers(0, 50), st.integers(0, 10_000_000), st.integers(0, 2 ** 39))
    pool = draw(size) * draw(st.sampled_from((1, unit)))
    rule = {
        "weights": [draw(st.integers(0, 10)) for _ in range(k)],
        "direction": [draw(st.sampled_from((engine.HIGHER, engine.LOWER))) for _ in range(k)],
        "normalisation": [draw(st.sampled_from((engine.MINMAX, engine.PERCENTILE, engine.RATIO))) for _ in range(k)],
        "ratio_cap": [draw(st.sampled_from((1.0, 1.5, 2.0, 3.0))) for _ in range(k)],
        "eligible": [draw(st.booleans()) or draw(st.booleans()) for _ in range(n)],
        "eligibility_scale": [draw(st.sampled_from((1.0, 1.0, 0.5))) for _ in range(n)],
        "participation": [draw(st.sampled_from((1.0, 1.0, 0.5, 0.8))) for _ in range(n)],
        "unit": unit,
    }
    if draw(st.booleans()):
        rule["multiplier_bp"] = draw(st.sampled_from((10_000, 11_000, 12_345)))
        rule["target_met"] = draw(st.booleans())
    if bounds and draw(st.booleans()):
        top = max(pool // max(n, 1), 1)
        rule["floor"] = [draw(st.sampled_from((0, 0, top // 3, top // 2))) for _ in range(n)]
        rule["cap"] = [draw(st.sampled_from((-1, -1, top, 2 * top, top + top // 2))) for _ in range(n)]
    if adjustments and draw(st.booleans()):
        rule["adjustment"] = [draw(st.sampled_from((0, 0, 0, 100, -100, 2_500))) for _ in range(n)]
    return values, pool, rule


def feasible(case):
    result = run(case)
    assume(not isinstance(result, str))
    return result


# --- hand-made pools --------------------------------------------------------------------------------------------

def test_one_dimension_min_max_splits_by_distance_from_the_worst():
    result = engine.allocate_pool([[0.0], [1.0], [3.0]], 400, weights=[1], direction=[engine.HIGHER],
                                  normalisation=[engine.MINMAX])
    assert result.normalised[0, :, 0].tolist() == [0.0, 1 / 3, 1.0]
    assert result.amount[0].tolist() == [0, 100, 300]


def test_lower_is_better_percentile_and_missing_values():
    # first response time: lower is better; the person without data scores 0 on it and is left out of the ranks
    result = engine.allocate_pool([[30.0], [60.0], [60.0], [NAN]], 1000, weights=[1], direction=[engine.LOWER],
                                  normalisation=[engine.PERCENTILE])
    assert result.normalised[0, :, 0].tolist() == [1.0, 0.25, 0.25, 0.0]
    # 666.67 / 166.67 / 166.67: the two left-over units go by s / (⌊s⌋ + ½) — 1.001 for 166.67 beats 1.0003
    assert result.amount[0].tolist() == [666, 167, 167, 0]


def test_ratio_to_the_team_mean_is_capped():
    result = engine.allocate_pool([[10.0], [10.0], [100.0]], 12_000, weights=[1], direction=[engine.HIGHER],
                                  normalisation=[engine.RATIO], ratio_cap=[1.5])
    assert result.normalised[0, :, 0].tolist() == [0.25, 0.25, 1.5]
    assert result.amount[0].tolist() == [1500, 1500, 9000]


def test_probation_scale_participation_and_ineligible():
    result = engine.allocate_pool([[1.0], [1.0], [1.0], [1.0]], 700, weights=[1], direction=[1],
                                  normalisation=[engine.MINMAX], eligible=[True, True, True, False],
                                  eligibility_scale=[1, 0.5, 1, 1], participation=[1, 1, 0.5, 1])
    assert result.amount[0].tolist() == [350, 175, 175, 0]
    assert result.ineligible[0].tolist() == [False, False, False, True]


def test_floors_and_caps_are_water_filled():
    result = engine.allocate_pool([[0.0], [1.0], [2.0], [9.0]], 10_000, weights=[1], direction=[1],
                                  normalisation=[engine.MINMAX], floor=[1_000, 1_000, 0, 0], cap=[-1, -1, -1, 4_000])
    # min–max 0, 1/9, 2/9, 1: 3 is held at the cap, then 0 at the floor; 1 and 2 split the rest 1 : 2
    assert result.amount[0].tolist() == [1_000, 1_667, 3_333, 4_000]
    assert result.at_floor[0].tolist() == [True, False, False, False]
    assert result.at_cap[0].tolist() == [False, False, False, True]


def test_team_multiplier_unit_and_leftover():
    result = engine.allocate_pool([[1.0], [2.0], [3.0]], 100_001, weights=[1], direction=[1],
                                  normalisation=[engine.RATIO], multiplier_bp=11_000, target_met=True, unit=100)
    assert int(result.pool_effective[0]) == 110_001
    assert all(a % 100 == 0 for a in result.amount[0])
    assert int(result.amount[0].sum()) + int(result.leftover[0]) == 110_001 and int(result.leftover[0]) == 1


def test_adjustments_come_off_the_top_and_keep_the_total():
    result = engine.allocate_pool([[1.0], [1.0]], 1_000, weights=[1], direction=[1], normalisation=[engine.MINMAX],
                                  adjustment=[200, -100])
    assert result.amount[0].tolist() == [650, 350]
    with pytest.raises(engine.AllocationError) as refused:
        engine.allocate_pool([[0.0], [1.0]], 1_000, weights=[1], direction=[1], normalisation=[0],
                             adjustment=[-100, 0])     # person 0's rule amount is 0
    assert refused.value.key == "bonus.adjustment_below_zero"


@pytest.mark.parametrize("rule, key", [
    ({"floor": [600, 500]}, "bonus.floors_above_pool"),
    ({"cap": [400, 500]}, "bonus.caps_below_pool"),
    ({"floor": [300, 0], "cap": [200, -1]}, "bonus.floor_above_cap"),
    ({"adjustment": [1_200, 0]}, "bonus.adjustments_above_pool"),
    ({"eligible": [False, False]}, "bonus.nobody_eligible"),
])
def test_infeasible_pools_are_refused_with_a_message_key(rule, key):
    with pytest.raises(engine.AllocationError) as refused:
        engine.allocate_pool([[1.0], [2.0]], 1_000, weights=[1], direction=[1], normalisation=[0], **rule)
    assert refused.value.key == key
    assert key in engine.ERRORS.values()


def test_left_over_units_go_by_relative_remainder_so_improving_never_costs_a_unit():
    # Person 0 improves: their share and person 2's grow by the same factor, person 1's shrinks.
    # Hamilton (bare remainders .5/.05/.45 → .605/.7815/.6135) would move person 0 from 4 to 3;
    # ranking by s / (⌊s⌋ + ½) keeps their 4.
    before = engine.round_shares(np.array([[3.5, 1.05, 5.45]]), np.array([10]), np.ones((1, 3), bool))
    after = engine.round_shares(np.array([[3.605, 0.7815, 5.6135]]), np.array([10]), np.ones((1, 3), bool))
    assert before.tolist() == [[4, 1, 5]]
    assert after.tolist() == [[4, 1, 5]]
    hamilton_after = [3, 1, 6]   # floors 3, 0, 5 and the two units to the remainders .7815 and .6135
    assert sum(hamilton_after) == 10 and after[0, 0] > hamilton_after[0]


def test_batch_is_pool_by_pool():
    cases = [([[1.0], [2.0], [NAN]], 999), ([[5.0], [1.0], [1.0]], 10)]
    values = np.array([c[0] for c in cases])
    batch = engine.allocate(values, np.ones((2, 3), bool), np.array([c[1] for c in cases]), weights=[1],
                            direction=[1], normalisation=[engine.PERCENTILE])
    for p, (v, pool) in enumerate(cases):
        one = engine.allocate_pool(v, pool, weights=[1], direction=[1], normalisation=[engine.PERCENTILE])
        assert batch.amount[p].tolist() == one.amount[0].tolist()


# --- properties -------------------------------------------------------------------------------------------------

@FAST
@given(pools(max_people=12))
def test_engine_equals_the_decimal_reference(case):
    values, pool, rule = case
    mine = run(case)
    theirs = reference.allocate(values, pool, **rule)
    if isinstance(theirs, str) or isinstance(mine, str):
        assert mine == theirs
        return
    assert mine.amount[0].tolist() == theirs["amount"]
    assert int(mine.leftover[0]) == theirs["leftover"]
    for i, row in enumerate(theirs["normalised"]):
        assert mine.normalised[0, i].tolist() == pytest.approx([float(x) for x in row], rel=1e-12, abs=1e-12)
    assert mine.share[0].tolist() == pytest.approx([float(x) for x in theirs["share"]], rel=1e-9, abs=1e-6)


@FAST
@given(pools(max_people=20))
def test_lines_sum_exactly_to_the_pool(case):
    values, pool, rule = case
    result = feasible(case)
    assert int(result.amount[0].sum()) + int(result.leftover[0]) == int(result.pool_effective[0])
    assert 0 <= int(result.leftover[0]) < rule["unit"]
    if rule["unit"] == 1:
        assert int(result.amount[0].sum()) == int(result.pool_effective[0])
    rule_part = result.amount[0] - np.asarray(rule.get("adjustment", [0] * len(values)))
    assert (rule_part % rule["unit"] == 0).all()
    share = result.share[0]
    unit = rule["unit"]
    assert (np.abs(rule_part - share) < unit + 1e-6 * max(pool, 1)).all()   # each line is ⌊s⌋ or ⌈s⌉ units


@FAST
@given(pools(max_people=12))
def test_floors_and_caps_hold(case):
    values, pool, rule = case
    result = feasible(case)
    n = len(values)
    rule_part = result.amount[0] - np.asarray(rule.get("adjustment", [0] * n))
    active = ~result.ineligible[0]
    for i in range(n):
        if not active[i]:
            assert rule_part[i] == 0
            continue
        assert rule_part[i] >= rule.get("floor", [0] * n)[i]
        cap = rule.get("cap", [-1] * n)[i]
        if cap >= 0:
            assert rule_part[i] <= cap


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools(min_people=2, max_people=10), st.data())
def test_improving_ones_own_value_never_lowers_ones_amount(case, data):
    values, pool, rule = case
    n, k = len(values), len(values[0])
    i = data.draw(st.integers(0, n - 1))
    d = data.draw(st.integers(0, k - 1))
    assume(not math.isnan(values[i][d]))
    step = data.draw(st.sampled_from((0.1, 1.0, 3.0, 20.0)))
    better = [row[:] for row in values]
    better[i][d] = values[i][d] + step * rule["direction"][d]
    before, after = amounts(case), amounts((better, pool, rule))
    assume(not isinstance(before, str) and not isinstance(after, str))
    assert after[i] >= before[i]


@FAST
@given(pools(min_people=2, max_people=10), st.data())
def test_swapping_two_people_swaps_their_amounts(case, data):
    values, pool, rule = case
    n = len(values)
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1))
    order = list(range(n))
    order[i], order[j] = j, i
    swapped_rule = {name: ([value[o] for o in order] if name in PERSON_ARGS else value) for name, value in rule.items()}
    before = amounts(case)
    after = amounts(([values[o] for o in order], pool, swapped_rule))
    assert isinstance(before, str) == isinstance(after, str)
    if isinstance(before, str):
        assert before == after
        return
    permuted = [before[o] for o in order]
    assert all(abs(a - b) <= rule["unit"] for a, b in zip(after, permuted))
    assert sum(after) == sum(before)


@FAST
@given(pools(min_people=2, max_people=10), st.integers(2, 5))
def test_identical_people_differ_by_at_most_one_unit(case, copies):
    values, pool, rule = case
    n = len(values)
    # person 0's data copied over the next `copies - 1` people
    copies = min(copies, n)
    values = [values[0][:] if i < copies else values[i] for i in range(n)]
    rule = {name: ([value[0] if i < copies else value[i] for i in range(n)] if name in PERSON_ARGS else value)
            for name, value in rule.items()}
    got = amounts((values, pool, rule))
    assume(not isinstance(got, str))
    same = got[:copies]
    assert max(same) - min(same) <= rule["unit"]


@FAST
@given(pools(min_people=1, max_people=8, bounds=False, adjustments=False), st.data())
def test_infeasible_floors_are_refused(case, data):
    values, pool, rule = case
    n = len(values)
    eligible = sum(1 for e, s, p in zip(rule["eligible"], rule["eligibility_scale"], rule["participation"]) if e)
    assume(eligible and pool < engine.MAX_POOL)  # larger pools are refused as too large first
    extra = data.draw(st.integers(1, 1_000))
    each = -(-(pool + extra) // eligible)
    rule = dict(rule, floor=[each + rule["unit"]] * n, multiplier_bp=10_000, target_met=False)
    got = run((values, pool, rule))
    assert got == "bonus.floors_above_pool"
    with pytest.raises(engine.AllocationError, match="bonus.floors_above_pool"):
        engine.allocate_pool(values, pool, **rule)


@FAST
@given(st.lists(pools(max_people=6, units=(1,)), min_size=1, max_size=4))
def test_batch_equals_each_pool_alone(cases):
    n = max(len(c[0]) for c in cases)
    k = len(cases[0][0][0])
    cases = [c for c in cases if len(c[0][0]) == k and set(c[2]) == set(cases[0][2])]
    rule0 = cases[0][2]
    assume(all(c[2]["weights"] == rule0["weights"] and c[2]["direction"] == rule0["direction"]
               and c[2]["normalisation"] == rule0["normalisation"] and c[2]["ratio_cap"] == rule0["ratio_cap"]
               for c in cases))
    p = len(cases)
    values = np.full((p, n, k), NAN)
    member = np.zeros((p, n), bool)
    person = {name: np.zeros((p, n), float if name in ("eligibility_scale", "participation") else
                             (bool if name == "eligible" else np.int64)) for name in PERSON_ARGS if name in rule0}
    for q, (v, _, rule) in enumerate(cases):
        values[q, :len(v)] = v
        member[q, :len(v)] = True
        for name in person:
            person[name][q, :len(v)] = rule[name]
    extra = {name: np.array([c[2][name] for c in cases]) for name in ("multiplier_bp", "target_met") if name in rule0}
    batch = engine.allocate(values, member, np.array([c[1] for c in cases]), weights=rule0["weights"],
                            direction=rule0["direction"], normalisation=rule0["normalisation"],
                            ratio_cap=rule0["ratio_cap"], unit=1, **person, **extra)
    for q, case in enumerate(cases):
        alone = amounts(case)
        if isinstance(alone, str):
            assert engine.ERRORS[int(batch.error[q])] == alone
        else:
            assert batch.amount[q, :len(case[0])].tolist() == alone
            assert (batch.amount[q, len(case[0]):] == 0).all()


# --- currency conversion ----------------------------------------------------------------------------------------

def test_conversion_names_its_rate_date_and_source():
    got = engine.convert(123_456, "CNY", "EUR", Decimal("0.1289"), rate_date=date(2026, 11, 30), rate_source="ECB")
    assert got == engine.Converted(15_913, "EUR", Decimal("0.1289"), date(2026, 11, 30), "ECB")   # 159.134784 €


def test_conversion_rounds_half_even_and_handles_zero_decimal_currencies():
    assert engine.convert_minor_units(25, 2, 2, Decimal("0.5")) == 12       # 0.125 → 0.12
    assert engine.convert_minor_units(35, 2, 2, Decimal("0.5")) == 18       # 0.175 → 0.18
    assert engine.convert(1_050, "CNY", "JPY", Decimal("20"), rate_date=None, rate_source="x").amount == 210
    # ¥5 × 0.047 = 0.235 CNY → 0.24; 1 CNY × 0.0525 = 0.0525 BHD → 0.052 (three decimals)
    assert engine.convert(5, "JPY", "CNY", Decimal("0.047"), rate_date=None, rate_source="x").amount == 24
    assert engine.convert(100, "CNY", "BHD", Decimal("0.0525"), rate_date=None, rate_source="x").amount == 52


@pytest.mark.parametrize("rate", [0.5, Decimal("0"), Decimal("-1"), Decimal("NaN")])
def test_conversion_refuses_float_and_non_positive_rates(rate):
    with pytest.raises(ValueError):
        engine.convert_minor_units(100, 2, 2, rate)


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**12, 10**12), st.integers(0, 3), st.integers(0, 3),
       st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=6))
def test_conversion_is_exact_half_even(amount, src, dst, rate):
    exact = Fraction(amount, 10 ** src) * Fraction(rate) * 10 ** dst
    got = engine.convert_minor_units(amount, src, dst, rate)
    assert abs(Fraction(got) - exact) <= Fraction(1, 2)
    if abs(Fraction(got) - exact) == Fraction(1, 2):
        assert got % 2 == 0
