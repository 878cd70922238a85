"""Bonus engine numbers for bench/bonus.py: `measure_allocation(pools=10_000, people=50)`
returns a dict.

Synthetic batch like the demo's CS teams, at scale: `pools` pools of up to `people`
members (5% padding), five dimensions (workload min–max, first response time lower is
better by percentile, satisfaction ratio to the team mean capped at 1.5, attendance
min–max, support points ratio capped at 2) with 2% missing values; a tenth of the people
on probation (scale 0.5), some holding a post at half capacity, a few ineligible;
floors of ¥10 for everyone, caps on a third, a team multiplier ×1.1 on half the pools,
a couple of manual adjustments, pools of ¥1,000–¥100,000 in fen, whole-yuan rounding
on half of them.

Measured: one `portal.bonus.engine.allocate` call over the whole batch, median of
several runs after a warm-up (target < 1 s), and whether every pool's lines plus
leftover equal its effective pool.
"""
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0


def log(message):
    print(f"[bench/bonus engine] {message}", file=sys.stderr, flush=True)


def synthetic(pools, people, seed):
    from portal.bonus import engine

    rng = np.random.default_rng(seed)
    shape = (pools, people)
    values = np.stack([
        rng.gamma(4, 100, shape),                 # workload
        rng.gamma(2, 30, shape),                  # first response time, seconds
        rng.beta(8, 2, shape),                    # satisfaction
        rng.uniform(0.8, 1.0, shape),             # attendance rate
        rng.poisson(3, shape).astype(float),      # support points
    ], axis=2)
    values[rng.random(values.shape) < 0.02] = np.nan
    member = rng.random(shape) < 0.95
    pool = rng.integers(100_000, 10_000_000, pools)
    unit = np.where(np.arange(pools) % 2 == 0, 1, 100)
    pool = np.where(unit == 100, pool // 100 * 100, pool)
    cap = np.where(rng.random(shape) < 0.33, (pool // 20)[:, None], -1)
    adjustment = np.zeros(shape, np.int64)
    adjustment[rng.random(shape) < 0.01] = 5_000
    rule = dict(
        weights=[30, 20, 25, 15, 10],
        direction=[engine.HIGHER, engine.LOWER, engine.HIGHER, engine.HIGHER, engine.HIGHER],
        normalisation=[engine.MINMAX, engine.PERCENTILE, engine.RATIO, engine.MINMAX, engine.RATIO],
        ratio_cap=[2.0, 2.0, 1.5, 2.0, 2.0],
        eligible=rng.random(shape) > 0.02,
        eligibility_scale=np.where(rng.random(shape) < 0.1, 0.5, 1.0),
        participation=rng.choice([1.0, 1.0, 1.0, 0.5], shape),
        floor=np.full(shape, 1_000, np.int64), cap=cap, adjustment=adjustment,
        multiplier_bp=np.full(pools, 11_000), target_met=rng.random(pools) < 0.5, unit=unit,
    )
    return values, member, pool, rule


def measure_allocation(pools=10_000, people=50, seed=20261206, runs=5):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from portal.bonus import engine

    log(f"building {pools:,} pools × {people} people")
    values, member, pool, rule = synthetic(pools, people, seed)
    engine.allocate(values[:10], member[:10], pool[:10], **{k: (v[:10] if getattr(v, "ndim", 0) and len(v) == pools
                                                                 else v) for k, v in rule.items()})
    seconds = []
    for run in range(runs):
        started = time.perf_counter()
        result = engine.allocate(values, member, pool, **rule)
        seconds.append(time.perf_counter() - started)
        log(f"run {run + 1}/{runs}: {seconds[-1]:.3f} s")
    good = result.error == engine.OK
    exact = bool(np.all(result.amount.sum(axis=1)[good] + result.leftover[good] == result.pool_effective[good]))
    median = statistics.median(seconds)
    return {
        "pools": pools,
        "people_per_pool": people,
        "dimensions": int(values.shape[2]),
        "allocation_seconds": round(median, 4),
        "allocation_seconds_runs": [round(s, 4) for s in seconds],
        "pools_refused": int((~good).sum()),
        "lines_sum_exactly": exact,
        "target_seconds": TARGET_SECONDS,
        "meets_target": median < TARGET_SECONDS,
    }
