"""Plain-Python Decimal reference for portal/bonus/engine.py: one pool, loops over
people, every rule of the engine's docstring written out the obvious way. Water-filling
by walking the sorted breakpoints of Σ clip(λ·w, floor, cap); rounding by ⌊s⌋ plus
one unit each, in order of s / (⌊s⌋ + ½), to the R − Σ⌊s⌋ people first in line."""
import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext

from portal.bonus import engine

PREC = 60
SNAP = Decimal(2) ** -46
KEY_SCALE = Decimal(2) ** 30


def D(x):
    """The exact value of a float (as numpy sees it), ints and Decimals as they are."""
    return Decimal(x) if isinstance(x, (int, Decimal)) else Decimal(float(x))


def _norms(column, present, direction, kind, cap):
    """Normalised values of one dimension: list (0 where not present)."""
    n = len(column)
    idx = [i for i in range(n) if present[i]]
    out = [Decimal(0)] * n
    if not idx:
        return out
    if kind == engine.RATIO:
        xs = {i: max(column[i], Decimal(0)) for i in idx}
        mean = sum(xs.values()) / len(idx)
        for i in idx:
            if mean <= 0:
                out[i] = Decimal(1)
            elif direction == engine.HIGHER:
                out[i] = min(xs[i] / mean, cap)
            else:
                out[i] = min(mean / xs[i], cap) if xs[i] > 0 else cap
        return out
    v = {i: (column[i] if direction == engine.HIGHER else -column[i]) for i in idx}
    if kind == engine.MINMAX:
        lo, hi = min(v.values()), max(v.values())
        for i in idx:
            out[i] = (v[i] - lo) / (hi - lo) if hi > lo else Decimal(1)
    else:
        for i in idx:
            if len(idx) == 1:
                out[i] = Decimal(1)
                continue
            below = sum(1 for j in idx if j != i and v[j] < v[i])
            equal = sum(1 for j in idx if j != i and v[j] == v[i])
            out[i] = (below + Decimal("0.5") * equal) / (len(idx) - 1)
    return out


def _water_fill(w, lo, hi, total, active):
    n = len(w)
    movable = [active[i] and w[i] > 0 for i in range(n)]

    def tot(lam):
        return sum((min(max(lam * w[i], lo[i]), hi[i]) if movable[i] else lo[i]) for i in range(n) if active[i])

    floors = sum(lo[i] for i in range(n) if active[i])
    lam = Decimal(0)
    if total > floors:
        points = sorted({lo[i] / w[i] for i in range(n) if movable[i]} | {hi[i] / w[i] for i in range(n) if movable[i]})
        prev = Decimal(0)
        for b in points:
            if tot(b) >= total:
                t0, t1 = tot(prev), tot(b)
                lam = prev + (total - t0) * (b - prev) / (t1 - t0) if t1 > t0 else b
                break
            prev = b
        else:  # Σ caps == total, missed by a rounding of the last breakpoint: everyone movable at the cap
            lam = prev
    at_floor = [active[i] and lam * w[i] <= lo[i] for i in range(n)]
    at_cap = [active[i] and not at_floor[i] and lam * w[i] >= hi[i] for i in range(n)]
    free = [active[i] and not at_floor[i] and not at_cap[i] for i in range(n)]
    fixed = sum(lo[i] for i in range(n) if at_floor[i]) + sum(hi[i] for i in range(n) if at_cap[i])
    free_w = sum(w[i] for i in range(n) if free[i])
    share = []
    for i in range(n):
        if not active[i]:
            share.append(Decimal(0))
        elif free[i]:
            share.append(min(max((total - fixed) * w[i] / free_w, lo[i]), hi[i]))
        else:
            share.append(hi[i] if at_cap[i] else lo[i])
    return share, at_floor, at_cap


def _round(share, total, active):
    n = len(share)
    tol = min(max(total, 1) * SNAP, Decimal("0.25") / max(sum(1 for a in active if a), 1))
    s = []
    for x in share:
        whole = x.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        s.append(whole if abs(x - whole) <= tol else x)
    base = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in s]
    slots = total - sum(base)
    line = []
    for i in range(n):
        if active[i] and s[i] > base[i]:
            key = int((s[i] / (base[i] + Decimal("0.5")) * KEY_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
            line.append((-key, i))
    line.sort()
    units = list(base)
    for _, i in line[:slots]:
        units[i] += 1
    return units


def allocate(values, pool, *, weights, direction, normalisation, ratio_cap=None, eligible=None,
             eligibility_scale=None, participation=None, floor=None, cap=None, adjustment=None,
             multiplier_bp=10_000, target_met=False, unit=1):
    """One pool. values: list of rows (list of float, NaN missing). Returns a dict
    (amount, normalised, score, share, at_floor, at_cap, leftover, error) or the error key."""
    with localcontext() as ctx:
        ctx.prec = PREC
        n, k = len(values), len(weights)
        eligible = eligible if eligible is not None else [True] * n
        scale = [D(x) for x in (eligibility_scale if eligibility_scale is not None else [1] * n)]
        part = [D(x) for x in (participation if participation is not None else [1] * n)]
        floor = list(floor) if floor is not None else [0] * n
        cap = list(cap) if cap is not None else [-1] * n
        adjustment = list(adjustment) if adjustment is not None else [0] * n
        ratio_cap = ratio_cap if ratio_cap is not None else [2.0] * k
        active = [bool(eligible[i]) and scale[i] > 0 and part[i] > 0 for i in range(n)]
        norms = [[Decimal(0)] * k for _ in range(n)]
        for d in range(k):
            present = [active[i] and not math.isnan(values[i][d]) for i in range(n)]
            column = [D(values[i][d]) if present[i] else Decimal(0) for i in range(n)]
            col = _norms(column, present, direction[d], normalisation[d], D(ratio_cap[d]))
            for i in range(n):
                norms[i][d] = col[i]
        score = [sum(D(weights[d]) * norms[i][d] for d in range(k)) for i in range(n)]
        w = [score[i] * scale[i] * part[i] if active[i] else Decimal(0) for i in range(n)]
        if sum(w) == 0:
            w = [scale[i] * part[i] if active[i] else Decimal(0) for i in range(n)]
        bp = multiplier_bp if target_met else 10_000
        pool_eff = int((Decimal(pool) * bp / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        rule_total = pool_eff - sum(adjustment)
        if pool >= engine.MAX_POOL or pool_eff >= engine.MAX_POOL:
            return engine.ERRORS[engine.POOL_TOO_LARGE]
        if rule_total < 0:
            return engine.ERRORS[engine.ADJUSTMENTS_ABOVE_POOL]
        units_total = rule_total // unit
        leftover = rule_total - units_total * unit
        if units_total > 0 and not any(active):
            return engine.ERRORS[engine.NOBODY_ELIGIBLE]
        lo = [int((Decimal(floor[i]) / unit).to_integral_value(rounding=ROUND_CEILING)) if active[i] else 0
              for i in range(n)]
        hi = [(units_total if cap[i] < 0 else min(cap[i] // unit, units_total)) if active[i] else 0 for i in range(n)]
        if any(active[i] and cap[i] >= 0 and lo[i] > cap[i] // unit for i in range(n)):
            return engine.ERRORS[engine.FLOOR_ABOVE_CAP]
        if sum(lo) > units_total:
            return engine.ERRORS[engine.FLOORS_ABOVE_POOL]
        if sum(hi[i] if w[i] > 0 else lo[i] for i in range(n)) < units_total:
            return engine.ERRORS[engine.CAPS_BELOW_POOL]
        share, at_floor, at_cap = _water_fill(w, [Decimal(min(a, b)) for a, b in zip(lo, hi)],
                                              [Decimal(x) for x in hi], Decimal(units_total), active)
        units = _round(share, units_total, active)
        amount = [units[i] * unit + adjustment[i] for i in range(n)]
        if any(a < 0 for a in amount):
            return engine.ERRORS[engine.ADJUSTMENT_BELOW_ZERO]
        return {"amount": amount, "normalised": norms, "score": score, "share": [x * unit for x in share],
                "at_floor": at_floor, "at_cap": at_cap, "ineligible": [not a for a in active],
                "leftover": leftover, "pool_effective": pool_eff}
