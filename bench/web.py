"""Web benchmark: the dashboard, the org tree and the audit list under gunicorn.

Seeds a throw-away database with 10,000 employees' worth of users and about
1,000 extra org units (departments and teams under the demo companies), with
grants and a hash-chained audit trail of 50,000 events; starts the app under
gunicorn (2 workers) on 127.0.0.1; logs in as `admin` through the real login
form; then measures each page with concurrent clients on persistent HTTP
connections, beside a minimal /healthz through the same stack.

Prints ONE JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/web.py                       # fresh SQLite in a temp dir
    .venv/bin/python bench/web.py --database-url postgresql://user@127.0.0.1/empty_db

On PostgreSQL the database must be empty (or already seeded by this script,
with --reuse); it is left in place afterwards.

Targets: each page at least 25% of /healthz's throughput and p95 under 50 ms
at 8 concurrent clients.
"""
import argparse
import base64
import datetime as dt
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET_KEY = "bench-web-fixed-secret-key-not-for-production-0123456789abcdef"
PAGES = {  # name → path
    "healthz": "/healthz",
    "dashboard": "/",
    "org_tree": "/org",
    "audit_list": "/audit",
}
TARGET_RATIO = 0.25
TARGET_P95_MS = 50.0
AUDIT_ACTIONS = ["auth.login", "user.updated", "user.preferences", "org.unit_updated", "user.created",
                 "auth.logout", "grant.created", "auth.login_failed"]


def log(message):
    print(f"[bench/web] {message}", file=sys.stderr, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="run on this database instead of a fresh SQLite file")
    parser.add_argument("--reuse", action="store_true",
                        help="with --database-url: use a database this script already seeded")
    parser.add_argument("--employees", type=int, default=10_000, help="users in total (default 10000)")
    parser.add_argument("--departments-per-company", type=int, default=10)
    parser.add_argument("--teams-per-department", type=int, default=24)
    parser.add_argument("--audit-events", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured per page")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per page")
    parser.add_argument("--pages", default=",".join(PAGES),
                        help=f"comma-separated subset of {', '.join(PAGES)} (healthz is always measured)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (for inspection)")
    return parser.parse_args()


# --- seeding ------------------------------------------------------------------

def seed_database(args, database_url):
    """Migrate, seed the demo group and add the bulk data. Returns counts."""
    from portal import create_app
    from portal.cli import upgrade_database
    from portal.core.db import database, is_sqlite
    from portal.demo import seed
    from portal.org.models import OrgUnit

    app = create_app({"DATABASE_URL": database_url})
    with app.app_context():
        started = time.perf_counter()
        applied = upgrade_database()
        log(f"migrations applied: {applied or 'none pending'}")
        if OrgUnit.select().where(OrgUnit.code.startswith("B-")).exists():
            if not args.reuse:
                raise SystemExit("The database already holds bench data; pass --reuse to use it as it is.")
            log("reusing the bench data already in the database")
        else:
            if not seed(echo=log):
                raise SystemExit("The database is not empty; give an empty one (or --reuse a bench one).")
            _add_units(args)
            _add_users(args)
            _add_audit_trail(args)
            log(f"seeded in {time.perf_counter() - started:.1f} s")
        if not is_sqlite():
            # What autovacuum would soon do after a bulk load: without statistics the
            # planner reads all 50,000 events to show the newest 50.
            database.execute_sql("ANALYZE")
        counts = _counts()
        database.close()
        if hasattr(database.obj, "close_all"):
            database.obj.close_all()
    return counts


def _add_units(args):
    """Departments under every company and teams under each department, in bulk."""
    import peewee as pw

    from portal.core.db import chunked_insert, database, utcnow
    from portal.org.models import OrgUnit

    companies = list(OrgUnit.select().where(OrgUnit.kind == "company").order_by(OrgUnit.id))
    now = utcnow()

    def fix_paths(parent):
        # path = parent's path + own id + "/": one UPDATE per parent.
        (OrgUnit.update(path=pw.Value(parent.path).concat(OrgUnit.id.cast("text")).concat("/"))
         .where((OrgUnit.parent == parent.id) & (OrgUnit.path == "")).execute())

    with database.atomic():
        rows = []
        for company in companies:
            for d in range(1, args.departments_per_company + 1):
                rows.append({"parent": company.id, "company": company.id, "kind": "department",
                             "code": f"B-{company.code}-D{d:02d}", "name": f"Bench department {d:02d}",
                             "path": "", "depth": company.depth + 1, "created_at": now})
        chunked_insert(OrgUnit, rows)
        for company in companies:
            fix_paths(company)
        departments = list(OrgUnit.select().where(OrgUnit.code.startswith("B-") & (OrgUnit.kind == "department")))
        rows = []
        for dept in departments:
            for t in range(1, args.teams_per_department + 1):
                rows.append({"parent": dept.id, "company": dept.company_id, "kind": "team",
                             "code": f"{dept.code}-T{t:02d}", "name": f"{dept.name} · team {t:02d}",
                             "path": "", "depth": dept.depth + 1, "created_at": now})
        chunked_insert(OrgUnit, rows)
        for dept in departments:
            fix_paths(dept)
    log(f"added {len(departments)} departments and {len(rows)} teams")


def _add_users(args):
    """Users up to `--employees`, spread over the bench teams; the first of each
    team leads it. One precomputed Argon2 hash for all of them."""
    from portal.accounts.models import Grant, Role, User
    from portal.core.auth import hash_password
    from portal.core.db import chunked_insert, database, utcnow
    from portal.demo import DEMO_PASSWORD
    from portal.org.models import OrgUnit

    missing = args.employees - User.select().count()
    if missing <= 0:
        return
    teams = list(OrgUnit.select(OrgUnit.id).where(OrgUnit.code.startswith("B-") & (OrgUnit.kind == "team"))
                 .order_by(OrgUnit.id))
    roles = {r.builtin_key: r.id for r in Role.select().where(Role.builtin_key.is_null(False))}
    shared_hash = hash_password(DEMO_PASSWORD)
    now = utcnow()
    users, leads = [], set()
    for n in range(missing):
        team = teams[n % len(teams)]
        username = f"bench.user{n:05d}"
        if n < len(teams):
            leads.add(username)
        users.append({"username": username, "display_name": f"Bench User {n:05d}", "unit": team.id,
                      "password_hash": shared_hash, "created_at": now, "password_changed_at": now})
    with database.atomic():
        chunked_insert(User, users)
        ids = dict(User.select(User.username, User.id).where(User.username.startswith("bench.user")).tuples())
        grants = [{"user": ids[u["username"]], "role": roles["team_lead" if u["username"] in leads else "employee"],
                   "unit": u["unit"], "include_descendants": u["username"] in leads, "created_at": now}
                  for u in users]
        chunked_insert(Grant, grants)
    log(f"added {len(users)} users and {len(grants)} grants")


def _add_audit_trail(args):
    """`--audit-events` events over the last 90 days, continuing the chain."""
    from portal.accounts.models import User
    from portal.audit.models import AuditChainHead, AuditEvent
    from portal.core.audit import event_hash
    from portal.core.db import chunked_insert, database, utcnow
    from portal.org.models import OrgUnit

    rng = random.Random(20261122)
    actors = list(User.select(User.id, User.username, User.unit).tuples())
    units = dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).tuples())
    end = utcnow()
    start = end - dt.timedelta(days=90)
    step = (end - start) / max(1, args.audit_events)
    with database.atomic():
        head = AuditChainHead.get_by_id(1)
        prev_hash = head.last_hash
        rows = []
        for n in range(args.audit_events):
            actor_id, actor_name, unit_id = rng.choice(actors)
            action = rng.choice(AUDIT_ACTIONS)
            before = None
            after = None
            if action.endswith("updated") or action == "user.preferences":
                before = json.dumps({"display_name": actor_name, "locale": None}, sort_keys=True)
                after = json.dumps({"display_name": actor_name.upper(), "locale": "en"}, sort_keys=True)
            elif action.endswith("created"):
                after = json.dumps({"username": actor_name, "unit": unit_id}, sort_keys=True)
            event = AuditEvent(
                occurred_at=start + step * n, actor_id=actor_id, actor_name=actor_name, action=action,
                object_type="user", object_id=str(actor_id), object_label=actor_name, unit_id=unit_id,
                before=before, after=after, ip_address=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}")
            event.prev_hash = prev_hash
            event.hash = prev_hash = event_hash(prev_hash, event)
            rows.append(event.__data__)
        chunked_insert(AuditEvent, rows)
        last_id = AuditEvent.select(AuditEvent.id).where(AuditEvent.hash == prev_hash).scalar()
        AuditChainHead.update(last_event_id=last_id, last_hash=prev_hash).where(AuditChainHead.id == 1).execute()
    log(f"added {len(rows)} audit events over {len(units)} units")


def _counts():
    from portal.accounts.models import User
    from portal.audit.models import AuditEvent
    from portal.core.audit import verify_chain
    from portal.org.models import OrgUnit

    ok, checked, bad_id, reason = verify_chain()
    if not ok:
        raise SystemExit(f"audit chain broken at {bad_id}: {reason}")
    return {"employees": User.select().count(), "org_units": OrgUnit.select().count(),
            "audit_events": AuditEvent.select().count(), "audit_chain_ok": ok}


# --- the server ---------------------------------------------------------------

def _loadavg():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args, env, workdir):
        self.port = free_port()
        self.log_path = Path(workdir) / "gunicorn.log"
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(args.workers),
                   "--worker-class", args.worker_class, "--bind", f"{HOST}:{self.port}",
                   "--chdir", str(ROOT), "--log-level", "warning", "--error-logfile", str(self.log_path)]
        if args.worker_class == "gthread":
            command += ["--threads", str(args.threads)]
        self.command = command + ["wsgi:app"]
        self.env = env
        self.process = None

    def start(self):
        log(f"starting: {' '.join(self.command[1:])}")
        self.process = subprocess.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = request_once(self.port, "GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{self.log_tail()}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn: graceful shutdown of the workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own session, started above
            self.process.wait(timeout=5)

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# --- the client ---------------------------------------------------------------

def request_once(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def _cookie(headers, name):
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0]
    return None


def log_in(port, username, password):
    """The real login form: GET /login for the CSRF token and session, POST it."""
    status, headers, body = request_once(port, "GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    cookie = _cookie(headers, "session")
    if not match or not cookie:
        raise RuntimeError("no CSRF token or session cookie on the login page")
    form = urlencode({"csrf_token": match.group(1).decode(), "username": username, "password": password,
                      "next": ""})
    status, headers, _ = request_once(port, "POST", "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    cookie = _cookie(headers, "session")
    if status != 302 or not cookie:
        raise RuntimeError(f"login failed: POST /login answered {status}")
    return cookie


def _cpu_seconds(pid):
    """User + system CPU time of a process, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _children(pid):
    """Ids of the processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(entry.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def server_cpu(server):
    """CPU seconds used so far by gunicorn's workers (None where /proc is missing):
    the app's own cost per request, which the machine's other load does not
    inflate the way it does latency and throughput. A PostgreSQL server's work is
    not in it."""
    times = [_cpu_seconds(pid) for pid in _children(server.process.pid)]
    return None if not times or None in times else sum(times)


def run_load(port, path, headers, concurrency, duration, check):
    """`concurrency` threads, each on one persistent connection, requesting
    `path` back to back for `duration` seconds. Returns (latencies in s, errors, elapsed)."""
    results = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    start_barrier = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def client(index):
        latencies = results[index]
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        clock = time.perf_counter
        start_barrier.wait()
        deadline = stop_at[0]
        max_requests = 1_000_000  # a bound, never reached in practice
        for _ in range(max_requests):
            began = clock()
            if began >= deadline:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and check(body)
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
            if ok:
                latencies.append(clock() - began)
            else:
                errors[index] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + duration
    start_barrier.wait()
    for thread in threads:
        thread.join(timeout=duration + 30)
    elapsed = time.perf_counter() - began
    return [x for per_thread in results for x in per_thread], sum(errors), elapsed


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(latencies, errors, elapsed, size):
    latencies.sort()
    ms = lambda seconds: None if seconds is None else round(seconds * 1000, 2)  # noqa: E731
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": ms(percentile(latencies, 50)),
        "p95_ms": ms(percentile(latencies, 95)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(latencies[-1] if latencies else None),
        "bytes": size,
    }


def measure(args, server, cookie):
    port = server.port
    results = {}
    wanted = {"healthz"} | {name.strip() for name in args.pages.split(",")}
    for name, path in PAGES.items():
        if name not in wanted:
            continue
        headers = {"Accept-Language": "en", "Accept": "text/html"}
        if name != "healthz":
            headers["Cookie"] = cookie
        status, _, body = request_once(port, "GET", path, headers=headers)
        # A page, not the login form: a logged-out request would be redirected.
        if status != 200 or (name != "healthz" and b'action="/logout"' not in body):
            raise RuntimeError(f"GET {path} answered {status} without the logged-in page")
        size = len(body)
        marker = b'action="/logout"' if name != "healthz" else b'"ok"'
        check = lambda body, marker=marker: marker in body  # noqa: E731
        run_load(port, path, headers, args.concurrency, args.warmup, check)
        cpu_before, client_before = server_cpu(server), time.process_time()
        latencies, errors, elapsed = run_load(port, path, headers, args.concurrency, args.duration, check)
        cpu_after, client_after = server_cpu(server), time.process_time()
        result = results[name] = summarise(latencies, errors, elapsed, size)
        done = len(latencies) + errors
        result["app_cpu_ms_per_request"] = (
            round((cpu_after - cpu_before) * 1000 / done, 2) if done and None not in (cpu_before, cpu_after) else None)
        result["client_cpu_ms_per_request"] = round((client_after - client_before) * 1000 / done, 2) if done else None
        log(f"{name:10} {result['rps']:8.1f} req/s  p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  "
            f"app CPU {result['app_cpu_ms_per_request']} ms/req  errors {errors}  ({size} bytes)")
    return results


# --- main ---------------------------------------------------------------------

def _random_key():
    """A field-encryption key as core/crypto.py reads it (32 bytes, URL-safe base64)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def main():
    args = parse_args()
    workdir = tempfile.mkdtemp(prefix="fairshare-bench-web-")
    database_url = args.database_url or f"sqlite:///{workdir}/bench.db"
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "FAIRSHARE_ENV": "production",
        # Production refuses to start without field-encryption keys: fresh ones per run.
        "FIELD_KEYS": f"bench:{_random_key()}",
        "FIELD_KEY_CURRENT": "bench",
        "BLIND_INDEX_KEY": _random_key(),
        "FAIRSHARE_INSTANCE": str(Path(workdir) / "instance"),
        "JOBS_SQLITE_PATH": str(Path(workdir) / "jobs.db"),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.pop("REDIS_URL", None)
    env.pop("JOBS_IMMEDIATE", None)
    # The seeding below imports the portal in this process: the same settings.
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "FAIRSHARE_ENV", "FAIRSHARE_INSTANCE",
                                           "JOBS_SQLITE_PATH", "FIELD_KEYS", "FIELD_KEY_CURRENT",
                                           "BLIND_INDEX_KEY")})
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))

    server = None

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    load_before = _loadavg()
    try:
        log(f"seeding {'a fresh SQLite database' if not args.database_url else 'the given database'} in {workdir}")
        counts = seed_database(args, database_url)
        server = Server(args, env, workdir)
        server.start()
        cookie = log_in(server.port, "admin", "demo1234")
        results = measure(args, server, cookie)
        server_errors = server.log_tail()
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    base = results["healthz"]["rps"]
    met = {}
    for name in results:
        if name == "healthz":
            continue
        result = results[name]
        result["throughput_ratio"] = round(result["rps"] / base, 3) if base else None
        base_cpu = results["healthz"]["app_cpu_ms_per_request"]
        result["app_cpu_vs_healthz"] = (round(result["app_cpu_ms_per_request"] / base_cpu, 1)
                                        if base_cpu and result["app_cpu_ms_per_request"] else None)
        met[name] = bool(result["errors"] == 0 and result["throughput_ratio"] is not None
                         and result["throughput_ratio"] >= TARGET_RATIO
                         and result["p95_ms"] is not None and result["p95_ms"] < TARGET_P95_MS)
    output = {
        "bench": "web",
        "database": "sqlite" if database_url.startswith("sqlite") else "postgresql",
        "employees": counts["employees"],
        "org_units": counts["org_units"],
        "audit_events": counts["audit_events"],
        "audit_chain_ok": counts["audit_chain_ok"],
        "server": {"software": "gunicorn", "workers": args.workers, "worker_class": args.worker_class,
                   "threads": args.threads if args.worker_class == "gthread" else 1},
        "workers": args.workers,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "client": "http.client, one persistent connection per thread, same machine",
        "cpus": os.cpu_count(),
        # The client shares the machine with the server; any other load on it lowers
        # throughput and raises latency (app_cpu_ms_per_request is much less affected).
        "loadavg_1min_before_and_after": [load_before, _loadavg()],
        "results": results,
        "targets": {"page_throughput_ratio_min": TARGET_RATIO, "p95_ms_max": TARGET_P95_MS},
        "met": met,
        "all_met": all(met.values()),
    }
    if server_errors.strip():
        log("gunicorn error log:\n" + server_errors)
    print(json.dumps(output, ensure_ascii=False))


if __name__ == "__main__":
    main()
