"""Bonus pool allocation, pure numpy (DESIGN.md "Bonus pool allocation"). Arrays and
plain values in, arrays out; no database, no request, no clock. Vectorised across
pools: a batch is a 2-D [pools, people] layout with a `member` mask for padding, so
10,000 pools × 50 people are one set of array operations (no Python loop over pools
or people).

Pipeline, per pool
------------------
1. **Reference group.** The people who take part in the normalisation of a pool are
   its members who are eligible (`eligible`, with a positive `eligibility_scale` and
   `participation`). Ineligible people are shown with their values but take no part in
   the team's range, ranks or mean, and get nothing from the rule.
2. **Missing values.** A NaN value scores 0 on that dimension (the worst possible
   contribution) and is left out of the team's range, ranks and mean.
3. **Normalisation** of each dimension k (never negative; `direction` +1 higher is
   better, −1 lower is better):
   - `MINMAX`: (x − min) / (max − min) over the reference group, in [0, 1]; lower is
     better uses −x. When everyone present has the same value, everyone gets 1.
   - `PERCENTILE`: mid-rank percentile (#others strictly worse + ½ #others equal) /
     (n − 1), in [0, 1]; a single person present gets 1.
   - `RATIO`: ratio to the team mean, capped at `ratio_cap[k]` (≥ 1): higher is better
     x / mean, lower is better mean / x (x = 0 → the cap); negative values count as 0;
     a mean of 0 gives everyone 1.
   All three are team-relative, and each has the property the monotonicity guarantee
   rests on: when one person's value improves, their own normalised value does not
   decrease and nobody else's increases.
4. **Score** = Σ_k contribution_k with contribution_k = w_k · norm_k (w_k ≥ 0; only
   their ratios matter). **Weight** = score × eligibility_scale × participation (a
   person in two teams takes part in each in proportion to their capacity; probation
   e.g. scale 0.5). When every weight of a pool is 0 the split falls back to
   eligibility_scale × participation.
5. **Pool.** effective pool = pool × multiplier_bp / 10,000 (half-even, exact integer
   arithmetic) when `target_met`, else the pool. Manual **adjustments** (minor units, ±)
   come off the top: the rule splits effective pool − Σ adjustments, then each line
   is the rule amount + its adjustment, so the total stays exact. Floors and caps bind
   the rule amount; a line may not end below 0 (`adjustment_below_zero`).
6. **Rounding unit** (`unit` minor units, e.g. 100 for whole yuan): the rule amount is
   allocated in whole units. Floors round up and caps round down to whole units. When
   the amount to split is not a multiple of the unit, the rest (< unit) is not given to
   anyone: it is returned per pool as `leftover`, and lines + leftover = pool exactly.
   With unit 1 (or a pool that is a multiple of the unit) leftover is 0 and the lines
   sum exactly to the pool.
7. **Floors and caps** by water-filling: the continuous share is
   s_i = clip(λ · weight_i, floor_i, cap_i) with λ found so that Σ s_i = R — the fixed
   point of "fix those at floor or cap, re-split the rest proportionally". λ comes
   from a sweep over the sorted breakpoints floor/weight and cap/weight; the free
   people's shares are then recomputed as (R − Σ fixed) · weight / Σ free weight.
   Infeasible pools are refused with a message key (see `ERRORS`): floors summing above
   the pool, or caps too small to hold it (people with weight 0 only ever receive
   their floor, so their floor counts as their cap here).
8. **Integer amounts** — the largest-remainder (quota) method: everyone gets ⌊s_i⌋ and
   the R − Σ⌊s_i⌋ units left over go one each to people whose share is not whole,
   so every amount is ⌊s_i⌋ or ⌈s_i⌉ and the lines sum exactly. The order in which
   the left-over units are handed out is by s_i / (⌊s_i⌋ + ½) (how far past the half
   way of their next unit a person is, relative to their size), highest first, ties to
   the lower index. Ranking by the bare remainder s_i − ⌊s_i⌋ (Hamilton) is not
   monotone: when one person improves, a larger colleague's share can grow by more in
   absolute terms and overtake their remainder (Hypothesis finds such cases); the
   relative rank keeps a person's amount from decreasing when their own data improves.
   Ties by index break symmetry: people with identical data may differ by one unit.
   To make the float engine and the Decimal reference agree, shares within
   min(R·2⁻⁴⁶, 1/(4n)) of a whole unit count as whole (n the people sharing), and the
   rank key is rounded to multiples of 2⁻³⁰.

Money stays integer (int64 minor units); floats only carry shares. Pools must stay
below 2⁴⁰ minor units (`pool_too_large`).

Currency conversion (`convert_minor_units`) is plain Decimal: amount × rate, rounded
half-even to the pay currency's minor units, the rate's date and source passed through.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

HIGHER = 1
LOWER = -1
MINMAX = 0
PERCENTILE = 1
RATIO = 2
NORMALISATIONS = {"minmax": MINMAX, "percentile": PERCENTILE, "ratio": RATIO}

OK = 0
FLOORS_ABOVE_POOL = 1
CAPS_BELOW_POOL = 2
FLOOR_ABOVE_CAP = 3
ADJUSTMENTS_ABOVE_POOL = 4
ADJUSTMENT_BELOW_ZERO = 5
POOL_TOO_LARGE = 6
NOBODY_ELIGIBLE = 7
# message keys the services translate (portal/bonus/services.py maps them to `_()` texts)
ERRORS = {
    FLOORS_ABOVE_POOL: "bonus.floors_above_pool",
    CAPS_BELOW_POOL: "bonus.caps_below_pool",
    FLOOR_ABOVE_CAP: "bonus.floor_above_cap",
    ADJUSTMENTS_ABOVE_POOL: "bonus.adjustments_above_pool",
    ADJUSTMENT_BELOW_ZERO: "bonus.adjustment_below_zero",
    POOL_TOO_LARGE: "bonus.pool_too_large",
    NOBODY_ELIGIBLE: "bonus.nobody_eligible",
}
MAX_POOL = 2 ** 40
SNAP = 2.0 ** -46
KEY_SCALE = 2.0 ** 30


class AllocationError(ValueError):
    """An infeasible pool: `key` is a message key from ERRORS, `pool` the pool index."""

    def __init__(self, key, pool=0):
        super().__init__(f"{key} (pool {pool})")
        self.key = key
        self.pool = pool


@dataclass
class Allocation:
    """Per person [pools, people] (per dimension [pools, people, dims]) and per pool [pools]."""
    normalised: np.ndarray      # [P, N, K] float, 0 for missing/ineligible
    contribution: np.ndarray    # [P, N, K] w_k · normalised
    score: np.ndarray           # [P, N]
    weight: np.ndarray          # [P, N] score × eligibility scale × participation (after the all-zero fallback)
    share: np.ndarray           # [P, N] continuous rule share in minor units (after floors/caps), before rounding
    amount: np.ndarray          # [P, N] int64 minor units: rule amount + adjustment (0 outside `member`)
    at_floor: np.ndarray        # [P, N] bool
    at_cap: np.ndarray          # [P, N] bool
    ineligible: np.ndarray      # [P, N] bool (members only)
    pool_effective: np.ndarray  # [P] int64 pool after the team multiplier
    leftover: np.ndarray        # [P] int64 minor units not allocated (< unit); lines + leftover = pool_effective
    error: np.ndarray           # [P] int8, OK or a key of ERRORS; an erroneous pool allocates nothing

    def error_keys(self):
        """{pool index: message key} for the refused pools."""
        return {int(p): ERRORS[int(self.error[p])] for p in np.flatnonzero(self.error)}


def _per_pool(value, pools, dims, dtype):
    return np.broadcast_to(np.asarray(value, dtype=dtype), (pools, dims))


def _person(value, shape, default, dtype):
    if value is None:
        return np.full(shape, default, dtype=dtype)
    return np.broadcast_to(np.asarray(value, dtype=dtype), shape)


def _minmax(signed, present, present_n):
    lo = np.where(present, signed, np.inf).min(axis=1)            # [P, K]
    hi = np.where(present, signed, -np.inf).max(axis=1)
    span = hi - lo
    return np.where((span > 0)[:, None, :], (signed - lo[:, None, :]) / np.where(span > 0, span, 1)[:, None, :], 1.0)


def _percentile(signed, present, present_n):
    """Mid-rank percentile: sort the present values of each pool/dimension (absent ones
    last); tie groups found by their first and last position in the sorted order."""
    keyed = np.where(present, signed, np.inf)
    order = np.argsort(keyed, axis=1, kind="stable")
    ordered = np.take_along_axis(keyed, order, axis=1)
    n = ordered.shape[1]
    pos = np.broadcast_to(np.arange(n)[None, :, None], ordered.shape)
    starts = np.ones(ordered.shape, bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=1)
    ends = np.ones(ordered.shape, bool)
    ends[:, :-1] = ordered[:, :-1] != ordered[:, 1:]
    last = n - 1 - np.maximum.accumulate(np.where(ends, n - 1 - pos, 0)[:, ::-1], axis=1)[:, ::-1]
    denom = np.maximum(present_n - 1, 1)[:, None, :]
    ranked = np.where((present_n > 1)[:, None, :], (first + 0.5 * (last - first)) / denom, 1.0)
    out = np.empty_like(ranked)
    np.put_along_axis(out, order, ranked, axis=1)
    return out


def _ratio(values, present, present_n, lower, cap):
    clipped = np.where(present, np.maximum(values, 0.0), 0.0)
    mean = (clipped.sum(axis=1) / np.maximum(present_n, 1))[:, None, :]
    cap = cap[:, None, :]
    up = np.minimum(clipped / np.where(mean > 0, mean, 1), cap)
    down = np.where(clipped > 0, np.minimum(mean / np.where(clipped > 0, clipped, 1), cap), cap)
    return np.where(mean > 0, np.where(lower, down, up), 1.0)


def normalise(values, present, direction, normalisation, ratio_cap):
    """[P, N, K] normalised values (see the module docstring), 0 where not `present`.
    Each normalisation is computed only on the dimensions some pool uses it for."""
    out = np.zeros(values.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        for kind in (MINMAX, PERCENTILE, RATIO):
            cols = np.flatnonzero((normalisation == kind).any(axis=0))
            if cols.size == 0:
                continue
            v, m = values[:, :, cols], present[:, :, cols]
            lower = (direction[:, cols] == LOWER)[:, None, :]
            n_present = m.sum(axis=1)
            if kind == RATIO:
                got = _ratio(v, m, n_present, lower, ratio_cap[:, cols])
            else:
                got = (_minmax if kind == MINMAX else _percentile)(np.where(lower, -v, v), m, n_present)
            use = (normalisation[:, cols] == kind)[:, None, :]
            out[:, :, cols] = np.where(use, got, out[:, :, cols])
    return np.where(present, out, 0.0)


def water_fill(weight, lo, hi, total, active):
    """Continuous shares s = clip(λ·weight, lo, hi) with Σ s = total, per pool.

    weight [P, N] ≥ 0, lo/hi [P, N] (0 outside `active`), total [P]; feasibility is the
    caller's business. Returns (share, at_floor, at_cap)."""
    pools, n = weight.shape
    movable = active & (weight > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lo = np.where(movable, lo / np.where(movable, weight, 1), np.inf)
        t_hi = np.where(movable, hi / np.where(movable, weight, 1), np.inf)
    times = np.concatenate((t_lo, t_hi), axis=1)
    d_const = np.concatenate((np.where(movable, -lo, 0.0), np.where(movable, hi, 0.0)), axis=1)
    d_slope = np.concatenate((np.where(movable, weight, 0.0), np.where(movable, -weight, 0.0)), axis=1)
    order = np.argsort(times, axis=1, kind="stable")
    times = np.take_along_axis(times, order, axis=1)
    const = lo.sum(axis=1)[:, None] + np.cumsum(np.take_along_axis(d_const, order, axis=1), axis=1)
    slope = np.cumsum(np.take_along_axis(d_slope, order, axis=1), axis=1)
    finite = np.isfinite(times)
    with np.errstate(invalid="ignore"):
        reached = np.where(finite, const + np.where(finite, times, 0) * slope, -np.inf)
    tot = total.astype(float)
    hit = reached >= tot[:, None]
    j = np.argmax(hit, axis=1)
    prev = np.maximum(j - 1, 0)
    c_before = np.where(j > 0, np.take_along_axis(const, prev[:, None], 1)[:, 0], lo.sum(axis=1))
    s_before = np.where(j > 0, np.take_along_axis(slope, prev[:, None], 1)[:, 0], 0.0)
    t_at = np.take_along_axis(times, j[:, None], 1)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(s_before > 0, (tot - c_before) / np.where(s_before > 0, s_before, 1), t_at)
    # Σ caps == total but the last breakpoint's sum rounded below it: everyone movable at the cap
    last = np.where(finite, times, 0.0).max(axis=1)
    lam = np.where(hit.any(axis=1), lam, last)
    lam = np.where(tot <= lo.sum(axis=1), 0.0, lam)
    lam = np.where(np.isfinite(lam), lam, 0.0)
    raw = lam[:, None] * weight
    at_floor = active & (raw <= lo)
    at_cap = active & ~at_floor & (raw >= hi)
    free = active & ~at_floor & ~at_cap
    fixed_sum = np.where(at_floor, lo, 0.0).sum(axis=1) + np.where(at_cap, hi, 0.0).sum(axis=1)
    free_weight = np.where(free, weight, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_weight = np.where(free_weight > 0, (tot - fixed_sum) / np.where(free_weight > 0, free_weight, 1), 0.0)
    share = np.where(free, np.clip(per_weight[:, None] * weight, lo, hi), np.where(at_cap, hi, lo))
    return np.where(active, share, 0.0), at_floor, at_cap


def round_shares(share, total, active):
    """Integer units per person, ⌊s⌋ or ⌈s⌉, summing to `total` (module docstring, step 8)."""
    pools, n = share.shape
    # within float error of a whole unit counts as whole; never so wide that the snaps of all
    # people together could pass a whole unit (Σ⌊s⌋ ≤ total)
    tol = np.minimum(np.maximum(total, 1) * SNAP, 0.25 / np.maximum(active.sum(axis=1), 1))[:, None]
    whole = np.rint(share)
    s = np.where(np.abs(share - whole) <= tol, whole, share)
    base = np.floor(s)
    candidate = active & (s > base)
    slots = total - base.sum(axis=1).astype(np.int64)
    key = np.rint(s / (base + 0.5) * KEY_SCALE).astype(np.int64)
    comp = np.where(candidate, (np.int64(2 ** 32) - key) * n + np.arange(n)[None, :], np.iinfo(np.int64).max)
    order = np.argsort(comp, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(n)[None, :], order.shape), axis=1)
    extra = candidate & (rank < slots[:, None])
    return base.astype(np.int64) + extra


def effective_pool(pool, multiplier_bp, target_met):
    """pool × multiplier_bp / 10,000, half-even, when the target is met (exact int64)."""
    pool = np.asarray(pool, np.int64)
    bp = np.where(np.asarray(target_met, bool), np.asarray(multiplier_bp, np.int64), 10_000)
    q, r = np.divmod(pool * bp, 10_000)
    up = (2 * r > 10_000) | ((2 * r == 10_000) & (q % 2 == 1))
    return q + up


def allocate(values, member, pool, *, weights, direction, normalisation, ratio_cap=None, eligible=None,
             eligibility_scale=None, participation=None, floor=None, cap=None, adjustment=None,
             multiplier_bp=None, target_met=None, unit=1):
    """Allocate a batch of pools. Shapes: values [P, N, K] float (NaN missing); member,
    eligible [P, N] bool; pool [P] int minor units; weights, direction, normalisation,
    ratio_cap [K] or [P, K]; eligibility_scale, participation [P, N] float (default 1);
    floor, cap, adjustment [P, N] int minor units (cap < 0 or None: no cap);
    multiplier_bp [P] int (10,000 = ×1) applied where target_met [P]; unit scalar or [P]."""
    values = np.asarray(values, float)
    if values.ndim == 2:
        values = values[:, :, None]
    pools, n, dims = values.shape
    shape = (pools, n)
    member = np.asarray(member, bool)
    weights = _per_pool(weights, pools, dims, float)
    direction = _per_pool(direction, pools, dims, np.int8)
    normalisation = _per_pool(normalisation, pools, dims, np.int8)
    ratio_cap = _per_pool(2.0 if ratio_cap is None else ratio_cap, pools, dims, float)
    eligible = member & _person(eligible, shape, True, bool)
    scale = _person(eligibility_scale, shape, 1.0, float)
    part = _person(participation, shape, 1.0, float)
    active = eligible & (scale > 0) & (part > 0)
    floor = np.where(active, _person(floor, shape, 0, np.int64), 0)
    cap_in = _person(cap, shape, -1, np.int64)
    adjustment = np.where(member, _person(adjustment, shape, 0, np.int64), 0)
    unit = np.broadcast_to(np.asarray(unit, np.int64), (pools,))
    pool = np.broadcast_to(np.asarray(pool, np.int64), (pools,))
    pool_eff = effective_pool(pool, 10_000 if multiplier_bp is None else multiplier_bp,
                              False if target_met is None else target_met)
    pool_eff = np.broadcast_to(pool_eff, (pools,))

    present = active[:, :, None] & ~np.isnan(values)
    norm = normalise(values, present, direction, normalisation, ratio_cap)
    contribution = norm * weights[:, None, :]
    score = contribution.sum(axis=2)
    weight = np.where(active, score * scale * part, 0.0)
    fallback = np.where(active, scale * part, 0.0)
    weight = np.where((weight.sum(axis=1) > 0)[:, None], weight, fallback)

    rule_total = pool_eff - adjustment.sum(axis=1)
    units_total = np.where(rule_total > 0, rule_total // unit, 0)
    leftover = np.where(rule_total > 0, rule_total - units_total * unit, 0)
    lo_u = np.where(active, -(-floor // unit[:, None]), 0)
    no_cap = cap_in < 0
    hi_u = np.where(active, np.where(no_cap, units_total[:, None], np.minimum(cap_in // unit[:, None],
                                                                             units_total[:, None])), 0)
    room = np.where(weight > 0, hi_u, lo_u).sum(axis=1)
    floor_over_cap = (active & ~no_cap & (-(-floor // unit[:, None]) > cap_in // unit[:, None])).any(axis=1)
    error = np.zeros(pools, np.int8)
    error[room < units_total] = CAPS_BELOW_POOL
    error[lo_u.sum(axis=1) > units_total] = FLOORS_ABOVE_POOL
    error[floor_over_cap] = FLOOR_ABOVE_CAP
    error[(units_total > 0) & ~active.any(axis=1)] = NOBODY_ELIGIBLE
    error[rule_total < 0] = ADJUSTMENTS_ABOVE_POOL
    error[(pool_eff >= MAX_POOL) | (pool >= MAX_POOL)] = POOL_TOO_LARGE
    good = error == OK
    total = np.where(good, units_total, 0)
    lo_f = np.where(good[:, None], np.minimum(lo_u, hi_u), 0).astype(float)
    hi_f = np.where(good[:, None], hi_u, 0).astype(float)
    share, at_floor, at_cap = water_fill(weight, lo_f, hi_f, total, active & good[:, None])
    units = round_shares(share, total, active & good[:, None])
    amount = np.where(member, units * unit[:, None] + adjustment, 0)
    below = (amount < 0).any(axis=1) & good
    error[below] = ADJUSTMENT_BELOW_ZERO
    good = error == OK
    amount = np.where(good[:, None], amount, 0)
    return Allocation(normalised=norm, contribution=contribution, score=score, weight=weight,
                      share=np.where(good[:, None], share, 0.0) * unit[:, None], amount=amount,
                      at_floor=at_floor & good[:, None], at_cap=at_cap & good[:, None],
                      ineligible=member & ~active, pool_effective=np.array(pool_eff),
                      leftover=np.where(good, leftover, 0), error=error)


def allocate_pool(values, pool, **rule):
    """One pool: values [N, K]; per-person arguments [N]; raises AllocationError when the
    pool is infeasible. Returns the Allocation of a batch of one (index [0])."""
    values = np.asarray(values, float)
    if values.ndim == 1:
        values = values[:, None]
    n = values.shape[0]
    batch = {}
    for name, value in rule.items():
        if name in ("eligible", "eligibility_scale", "participation", "floor", "cap", "adjustment") \
                and value is not None:
            value = np.asarray(value)[None, :]
        elif name in ("weights", "direction", "normalisation", "ratio_cap") and value is not None:
            value = np.asarray(value)[None, :]
        batch[name] = value
    result = allocate(values[None], np.ones((1, n), bool), np.array([pool]), **batch)
    if result.error[0]:
        raise AllocationError(ERRORS[int(result.error[0])], 0)
    return result


@dataclass(frozen=True)
class Converted:
    amount: int          # minor units of `currency`
    currency: str
    rate: Decimal
    rate_date: object
    rate_source: str


def convert_minor_units(amount, from_digits, to_digits, rate):
    """amount (int minor units, `from_digits` decimals) × rate (Decimal, pay units per pool
    unit) → int minor units with `to_digits` decimals, rounded half-even."""
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise ValueError("rate must be a positive finite Decimal")
    value = Decimal(int(amount)).scaleb(-int(from_digits)) * rate
    return int(value.scaleb(int(to_digits)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def convert(amount, currency, to_currency, rate, *, rate_date, rate_source):
    """Minor units of `currency` → `Converted` in `to_currency`, naming the rate's date and source."""
    from babel.numbers import get_currency_precision

    converted = convert_minor_units(amount, get_currency_precision(currency), get_currency_precision(to_currency),
                                    rate)
    return Converted(converted, to_currency, rate, rate_date, rate_source)
