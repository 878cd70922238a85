"""Clock-in benchmark: punching in and out through the whole Flask stack with
`--events` clock events (10 million by default) on record.

The database (migrated, demo seeded, then the events spread over the demo's people
and the years before the demo's own punches) is built once and kept in /tmp under a
name made of the migration files and the event count; a rerun copies it and skips the
building. Each punch is an htmx POST /time/clock/punch by a logged-in demo person
(CSRF token in the header, as the page sends it), timed from request to response
body. Called by bench/time.py (`measure(args)` returns one dict).
"""
import datetime as dt
import hashlib
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from people import ROOT, SECRET_KEY, bench_workdir, logged_in_client, summarise

TARGET_P95_MS = 20.0
PEOPLE = 150  # each clocks in and then out: 300 punches
CACHE_DIR = Path(tempfile.gettempdir())
HISTORY_START = np.datetime64("2014-01-01T00:00:00")  # the demo's own punches begin in 2026
HISTORY_END = np.datetime64("2025-12-31T00:00:00")
CHUNK = 200_000


def log(message):
    print(f"[bench/time clock] {message}", file=sys.stderr, flush=True)


def cache_path(events):
    migrations = sorted(p.name + hashlib.sha256(p.read_bytes()).hexdigest()[:12]
                        for p in (ROOT / "migrations").glob("0*.py"))
    key = hashlib.sha256("|".join([*migrations, str(events)]).encode()).hexdigest()[:16]
    return CACHE_DIR / f"fairshare-bench-clock-{events}-{key}.db"


def _history_rows(employee_ids, events, rng):
    """(employee, at, kind) rows: each person's punches in time order, alternating in
    and out, in chunks of CHUNK rows (sorted by person and time, so the index grows at its end)."""
    per_person = np.full(len(employee_ids), events // len(employee_ids))
    per_person[: events % len(employee_ids)] += 1
    span = int((HISTORY_END - HISTORY_START) / np.timedelta64(1, "s"))
    rows = []
    for employee_id, count in zip(employee_ids, per_person):
        # Strictly increasing instants: sorted distinct seconds across the span.
        seconds = np.sort(rng.choice(span, size=int(count), replace=False))
        stamps = np.datetime_as_string(HISTORY_START + seconds.astype("timedelta64[s]"), unit="s")
        for index, stamp in enumerate(stamps.tolist()):
            rows.append((int(employee_id), stamp.replace("T", " "), "in" if index % 2 == 0 else "out"))
            if len(rows) >= CHUNK:
                yield rows
                rows = []
    if rows:
        yield rows


def build_database(path, events):
    """Migrate, seed the demo and add `events` clock events; written to `path`."""
    from portal import create_app
    from portal.cli import upgrade_database
    from portal.core.db import database
    from portal.demo import seed

    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": f"sqlite:///{building}", "SECRET_KEY": SECRET_KEY, "JOBS_IMMEDIATE": True})
    began = time.perf_counter()
    with app.app_context():
        upgrade_database()
        seed(echo=log)
        database.close()
        if hasattr(database.obj, "close_all"):
            database.obj.close_all()
    log(f"demo seeded in {time.perf_counter() - began:.1f} s")
    connection = sqlite3.connect(building, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-1000000")
    employee_ids = [row[0] for row in connection.execute("SELECT id FROM employee ORDER BY id")]
    rng = np.random.default_rng(20261123)
    created = dt.datetime(2026, 1, 1).isoformat(sep=" ")
    began, done = time.perf_counter(), 0
    connection.execute("BEGIN")
    for chunk in _history_rows(employee_ids, events, rng):
        connection.executemany(
            "INSERT INTO clock_event (employee_id, at, kind, source, address, device, created_at) "
            "VALUES (?, ?, ?, 'device', '', 'ZK-F22 #1', ?)", [(*row, created) for row in chunk])
        done += len(chunk)
        if done % 2_000_000 < CHUNK:
            log(f"{done:,} events written ({time.perf_counter() - began:.0f} s)")
    connection.execute("COMMIT")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("ANALYZE")
    connection.close()
    building.rename(path)
    log(f"{events:,} events added in {time.perf_counter() - began:.1f} s → {path}")


def _csrf_token(client):
    page = client.get("/time/clock/me").get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]


def measure(args):
    events = getattr(args, "events", 10_000_000)
    workdir = bench_workdir("clock")
    cached = cache_path(events)
    try:
        if cached.exists():
            log(f"reusing {cached}")
        else:
            build_database(cached, events)
        database_file = workdir / "bench.db"
        shutil.copyfile(cached, database_file)  # the punches go to a copy: the cache stays as built
        return _measure_punches(database_file, events, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure_punches(database_file, events, workdir):
    from portal import create_app
    from portal.accounts.models import User
    from portal.core.db import database
    from portal.people.models import Employee
    from portal.time.models import ClockEvent

    app = create_app({"DATABASE_URL": f"sqlite:///{database_file}", "SECRET_KEY": SECRET_KEY,
                      "UPLOAD_DIR": str(workdir / "uploads"), "JOBS_IMMEDIATE": True, "FRAGMENT_CACHE_SIZE": 0})
    with app.app_context():
        on_record = ClockEvent.select().count()
        usernames = [u for (u,) in User.select(User.username).join(Employee, on=(Employee.user == User.id))
                     .order_by(User.id).limit(PEOPLE).tuples()]
        database.close()
    log(f"{on_record:,} clock events on record; logging in {len(usernames)} people")
    clients = []
    for username in usernames:
        client = logged_in_client(app, username)
        clients.append((client, _csrf_token(client)))
    random.Random(7).shuffle(clients)
    latencies, cpu = {"in": [], "out": []}, []
    for round_kind in ("in", "out"):
        for client, token in clients:
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.post("/time/clock/punch", headers={"HX-Request": "true", "X-CSRFToken": token})
            body = response.get_data(as_text=True)
            latencies[round_kind].append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
            if response.status_code != 200 or "Clocked" not in body:
                raise RuntimeError(f"punch answered {response.status_code}: {body[:300]}")
    every = latencies["in"] + latencies["out"]
    result = {"database": "sqlite", "events_on_record": on_record, **summarise(every),
              "clock_in": summarise(latencies["in"]), "clock_out": summarise(latencies["out"]),
              # CPU time of this process alone: what the wall times would be on a machine not shared.
              "cpu": {k: v for k, v in summarise(cpu).items() if k != "requests"},
              "target_p95_ms": TARGET_P95_MS}
    result["meets_target"] = result["p95_ms"] < TARGET_P95_MS
    return result
