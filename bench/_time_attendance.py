"""Attendance numbers for bench/time.py: `measure(args)` returns a dict.

(a) the numpy engine alone on synthetic arrays: 1,000 people × 30 days, about
    22 shifts each with an in and an out punch (some late, early or missing),
    some leave — median and max of several runs (target < 1 s);
(b) loading and computing a month from a fresh SQLite database for 1,000 people
    (attendance.attendance_for: the queries, the arrays, the engine);
(c) the monthly sheet page of a 300-person unit through the whole Flask stack,
    in-process, logged in as hr.cn: p50/p95 (target p95 < 200 ms).
"""
import datetime as dt
import random
import shutil
import statistics
import sys
import time

import numpy as np

from people import bench_workdir, seeded_app, logged_in_client, person_name, summarise

TARGETS = {"engine_seconds": 1.0, "sheet_p95_ms": 200.0}
PEOPLE, DAYS, SHEET_PEOPLE = 1000, 30, 300
MONTH = (2026, 10)


def log(message):
    print(f"[bench/time attendance] {message}", file=sys.stderr, flush=True)


# --- (a) the engine on synthetic arrays ---------------------------------------------------------------

def synthetic(rng, people=PEOPLE, days=DAYS):
    """Arrays like a CS company's month: 22 of 30 days rostered (09:00–18:00, 1 h break)."""
    from portal.time import engine

    day_bounds = np.arange(days + 1, dtype=np.int64) * 86400 + 1_790_000_000
    rostered = np.zeros((people, days), bool)
    for person in range(people):
        rostered[person, rng.sample(range(days), 22)] = True
    person, day = np.nonzero(rostered)
    start = day_bounds[day] + 9 * 3600
    end = start + 9 * 3600
    shifts = engine.Shifts(person, day, start, end, np.full(person.size, 60), np.full(person.size, 5))
    nprng = np.random.default_rng(7)
    t_in = start + nprng.normal(-300, 400, person.size).astype(np.int64)
    t_out = end + nprng.normal(600, 900, person.size).astype(np.int64)
    keep_in = nprng.random(person.size) > 0.01
    keep_out = nprng.random(person.size) > 0.02
    punches = engine.Punches(np.concatenate([person[keep_in], person[keep_out]]),
                             np.concatenate([t_in[keep_in], t_out[keep_out]]),
                             np.concatenate([np.zeros(keep_in.sum(), np.int64), np.ones(keep_out.sum(), np.int64)]))
    leave = nprng.random((people, days)) < 0.03
    return shifts, punches, day_bounds, leave


def measure_engine(rng, runs=9):
    from portal.time import engine

    shifts, punches, bounds, leave = synthetic(rng)
    workday = np.ones(DAYS, bool)
    holiday = np.zeros(DAYS, bool)
    now = int(bounds[-1]) + 86400
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        result = engine.attendance_days(PEOPLE, bounds, shifts, punches, leave, np.zeros((PEOPLE, DAYS), np.int64),
                                        workday, holiday, now, rounding=1, overtime_after=30, window=120)
        result.totals()
        timings.append(time.perf_counter() - began)
    return {"people": PEOPLE, "days": DAYS, "shifts": int(shifts.person.size), "punches": int(punches.person.size),
            "runs": runs, "median_ms": round(statistics.median(timings) * 1000, 2),
            "max_ms": round(max(timings) * 1000, 2)}


# --- (b, c) from a database and through the web ------------------------------------------------------------

def build_units(rng):
    """A 300-person team and a 700-person team of EXCN, each person with a post
    there, a month of rosters and clock events: bulk inserts."""
    from portal.core.db import database, utcnow
    from portal.core.permissions import Actor
    from portal.org.models import OrgUnit
    from portal.org.services import create_unit
    from portal.people.models import Assignment, Employee
    from portal.posts.models import Post
    from portal.time.models import ClockEvent, RosterEntry, ShiftType
    from portal.time.services import company_zone, shift_bounds

    company = OrgUnit.get(OrgUnit.code == "EXCN")
    parent = OrgUnit.get(OrgUnit.code == "CN-JD")
    system = Actor.system()
    big = create_unit(system, parent, "team", "BENCH-ATT-300", "考勤压测组")
    rest = create_unit(system, parent, "team", "BENCH-ATT-700", "考勤压测二组")
    post_id = Post.select(Post.id).where(Post.company == company.id).first().id
    shift = ShiftType.create(company=company.id, code="BENCH-D", name="Bench day", start_minute=9 * 60,
                             end_minute=18 * 60, break_minutes=60, grace_minutes=5)
    zone = company_zone(company)
    now = utcnow()
    year, month = MONTH
    first = dt.date(year, month, 1)
    with database.atomic():
        rows = [{"number": f"BA{n:06d}", "legal_name": person_name(rng, False), "company": company.id,
                 "unit": (big if n < SHEET_PEOPLE else rest).id, "hire_date": dt.date(2024, 1, 1), "status": "active",
                 "created_at": now, "updated_at": now} for n in range(PEOPLE)]
        for begin in range(0, len(rows), 500):
            Employee.insert_many(rows[begin:begin + 500]).execute()
        people = list(Employee.select(Employee.id, Employee.unit).where(Employee.number.startswith("BA")).tuples())
        Assignment.insert_many([{"employee": e, "post": post_id, "unit": unit, "is_primary": True, "share": 100,
                                 "start_date": dt.date(2024, 1, 1), "created_at": now} for e, unit in people]).execute()
        rosters, events = [], []
        for employee_id, unit_id in people:
            for offset in rng.sample(range(31), 22):
                day = first + dt.timedelta(days=offset)
                start, end = shift_bounds(shift, day, zone)
                rosters.append({"employee": employee_id, "unit": unit_id, "company": company.id, "day": day,
                                "shift_type": shift.id, "starts_at": start, "ends_at": end, "break_minutes": 60,
                                "created_at": now})
                if rng.random() > 0.01:
                    events.append({"employee": employee_id, "kind": "in", "created_at": now,
                                   "at": start + dt.timedelta(seconds=int(rng.gauss(-300, 400)))})
                if rng.random() > 0.02:
                    events.append({"employee": employee_id, "kind": "out", "created_at": now,
                                   "at": end + dt.timedelta(seconds=int(rng.gauss(600, 900)))})
        for begin in range(0, len(rosters), 500):
            RosterEntry.insert_many(rosters[begin:begin + 500]).execute()
        for begin in range(0, len(events), 500):
            ClockEvent.insert_many(events[begin:begin + 500]).execute()
    database.execute_sql("ANALYZE")
    return big, rest, len(rosters), len(events)


def measure_database(runs=5):
    from portal.core.db import utcnow
    from portal.people.models import Employee
    from portal.time import attendance

    people = list(Employee.select(Employee.id, Employee.number, Employee.legal_name, Employee.preferred_name,
                                  Employee.company).where(Employee.number.startswith("BA")))
    start, end = attendance.month_bounds(*MONTH)
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        attendance.attendance_for(people, start, end, utcnow())
        timings.append(time.perf_counter() - began)
    return {"people": len(people), "runs": runs, "median_ms": round(statistics.median(timings) * 1000, 2),
            "max_ms": round(max(timings) * 1000, 2)}


def measure_sheet(app, unit_id, requests):
    client = logged_in_client(app, "hr.cn")
    url = f"/time/attendance?unit={unit_id}&month={MONTH[0]:04d}-{MONTH[1]:02d}"
    hx = {"HX-Request": "true"}
    latencies = []
    for n in range(requests + 5):
        began = time.perf_counter()
        response = client.get(url, headers=hx if n % 2 else {})
        elapsed = time.perf_counter() - began
        body = response.get_data()
        if response.status_code != 200 or b"att-grid" not in body:
            raise RuntimeError(f"sheet page answered {response.status_code}")
        if n >= 5:  # the first few warm caches and templates
            latencies.append(elapsed)
    return {"people": SHEET_PEOPLE, **summarise(latencies), "bytes": len(body)}


def measure(args):
    rng = random.Random(20261123)
    result = {"engine": measure_engine(rng)}
    log(f"engine: {result['engine']}")
    workdir = bench_workdir("attendance")
    from portal.core.db import database

    try:
        began = time.perf_counter()
        app = seeded_app(workdir, log)
        with app.app_context():
            big, _rest, rosters, events = build_units(rng)
            log(f"{PEOPLE} people, {rosters} shifts, {events} clock events in {time.perf_counter() - began:.1f} s")
            with app.test_request_context():
                result["database"] = measure_database()
            log(f"load + compute from the database: {result['database']}")
            database.close()
        result["sheet"] = measure_sheet(app, big.id, getattr(args, "requests", None) or 60)
        log(f"sheet page: {result['sheet']}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["targets"] = TARGETS
    result["meets_targets"] = {"engine": result["engine"]["max_ms"] / 1000 < TARGETS["engine_seconds"],
                               "database": result["database"]["max_ms"] / 1000 < TARGETS["engine_seconds"],
                               "sheet": result["sheet"]["p95_ms"] < TARGETS["sheet_p95_ms"]}
    return result
