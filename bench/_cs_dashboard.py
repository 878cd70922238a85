"""The team dashboard for bench/cs.py: `measure_dashboard()` returns a dict.

A fresh SQLite database (migrated, the demo seeded) gets a 30-person CS team of
EXCN under CN-JD with its own lead, precomputed CsDailyMetric rows for a month
(every person on two accounts, most days) and about 30,000 conversations on those
accounts for the hour × weekday heat map. Then the team dashboard page
(/cs/dashboards/team for that team and month, full page and htmx fragment
alternately) is requested in-process through the whole Flask stack as the team's
lead: p50/p95 (target p95 < 100 ms).
"""
import datetime as dt
import random
import shutil
import sys
import time

from people import bench_workdir, logged_in_client, person_name, seeded_app, summarise

TARGETS = {"dashboard_p95_ms": 100.0}
PEOPLE, CONVERSATIONS = 30, 30_000
MONTH = (2026, 10)
LEAD = "bench.cs.lead"


def log(message):
    print(f"[bench/cs dashboard] {message}", file=sys.stderr, flush=True)


def build_team(rng):
    """The team, its lead, two shared accounts, a month of daily sums and conversations: bulk inserts."""
    from portal.accounts.models import Role
    from portal.accounts.services import create_user, grant_role
    from portal.core.db import database, utcnow
    from portal.core.permissions import Actor
    from portal.cs.models import CsAccount, CsAttributionRun, CsConversation, CsDailyMetric
    from portal.org.models import OrgUnit
    from portal.org.services import create_unit
    from portal.people.models import Assignment, Employee
    from portal.posts.models import Post

    system = Actor.system()
    company = OrgUnit.get(OrgUnit.code == "EXCN")
    store = OrgUnit.get(OrgUnit.code == "CN-JD")
    team = create_unit(system, store, "team", "BENCH-CS-30", "客服压测组")
    lead = create_user(system, team, LEAD, "Bench lead", "demo1234")
    grant_role(system, lead, Role.get(Role.builtin_key == "team_lead"), team, True)
    post_id = Post.select(Post.id).where(Post.company == company.id).first().id
    now = utcnow()
    year, month = MONTH
    first = dt.date(year, month, 1)
    days = (dt.date(year + month // 12, month % 12 + 1, 1) - first).days
    with database.atomic():
        Employee.insert_many([{"number": f"BCS{n:05d}", "legal_name": person_name(rng, False), "company": company.id,
                               "unit": team.id, "hire_date": dt.date(2024, 1, 1), "status": "active",
                               "created_at": now, "updated_at": now} for n in range(PEOPLE)]).execute()
        people = [e for (e,) in Employee.select(Employee.id).where(Employee.number.startswith("BCS")).tuples()]
        Assignment.insert_many([{"employee": e, "post": post_id, "unit": team.id, "is_primary": True, "share": 100,
                                 "start_date": dt.date(2024, 1, 1), "created_at": now} for e in people]).execute()
        accounts = [CsAccount.create(company=company.id, store=store.id, code=f"BENCH-JD-{n}",
                                     name=f"京东压测账号{n}", service_start_minute=9 * 60) for n in range(2)]
        run = CsAttributionRun.create(company=company.id, period_start=first,
                                      period_end=first + dt.timedelta(days=days - 1))
        rows = []
        for employee in people:
            for offset in range(days):
                if rng.random() < 0.25:
                    continue
                for account in accounts:
                    workload = rng.uniform(10, 60)
                    answered = workload * rng.uniform(0.9, 1.0)
                    rated = workload * 0.3
                    rows.append({"run": run.id, "company": company.id, "unit": team.id, "employee": employee,
                                 "account": account.id, "day": first + dt.timedelta(days=offset),
                                 "conversations": int(workload * 1.2), "workload": workload, "answered": answered,
                                 "unanswered": workload - answered,
                                 "first_response_seconds": answered * rng.uniform(20, 120),
                                 "response_seconds": answered * rng.uniform(30, 90), "response_count": answered,
                                 "handling_seconds": answered * rng.uniform(200, 600), "resolved": answered * 0.8,
                                 "resolution_known": answered, "reopened": answered * 0.05, "rated": rated,
                                 "rated_positive": rated * rng.uniform(0.7, 0.95),
                                 "online_seconds": rng.randint(4, 9) * 3600, "peak_concurrency": rng.randint(2, 8)})
        for begin in range(0, len(rows), 500):
            CsDailyMetric.insert_many(rows[begin:begin + 500]).execute()
        start = dt.datetime(year, month, 1) - dt.timedelta(hours=8)  # local midnight in Shanghai
        conversations = []
        for n in range(CONVERSATIONS):
            at = start + dt.timedelta(days=rng.randrange(days), seconds=int(rng.triangular(8 * 3600, 86400, 20 * 3600)))
            conversations.append({"company": company.id, "account": accounts[n % 2].id, "session_id": f"B{n}",
                                  "started_at": at, "first_reply_at": at + dt.timedelta(seconds=40),
                                  "ended_at": at + dt.timedelta(minutes=6), "created_at": now})
        for begin in range(0, len(conversations), 1000):
            CsConversation.insert_many(conversations[begin:begin + 1000]).execute()
    database.execute_sql("ANALYZE")
    return team, len(rows)


def measure_dashboard(requests=100):
    rng = random.Random(20261111)
    workdir = bench_workdir("cs-dashboard")
    from portal.core.db import database

    try:
        began = time.perf_counter()
        app = seeded_app(workdir, log)
        with app.app_context():
            team, metric_rows = build_team(rng)
            team_id = team.id
            database.close()
        log(f"{PEOPLE} people, {metric_rows} daily metric rows, {CONVERSATIONS} conversations "
            f"in {time.perf_counter() - began:.1f} s")
        client = logged_in_client(app, LEAD)
        year, month = MONTH
        url = f"/cs/dashboards/team?unit={team_id}&start={year:04d}-{month:02d}-01&end={year:04d}-{month:02d}-31"
        hx = {"HX-Request": "true"}
        latencies = []
        for n in range(requests + 5):
            began = time.perf_counter()
            response = client.get(url, headers=hx if n % 2 else {})
            body = response.get_data()
            elapsed = time.perf_counter() - began
            if response.status_code != 200 or b"cs-table" not in body or b"heat-5" not in body:
                raise RuntimeError(f"dashboard answered {response.status_code}")
            if n >= 5:  # the first few warm caches and templates
                latencies.append(elapsed)
        result = {"people": PEOPLE, "metric_rows": metric_rows, "conversations": CONVERSATIONS,
                  **summarise(latencies), "bytes": len(body)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["target_p95_ms"] = TARGETS["dashboard_p95_ms"]
    result["meets_target"] = result["p95_ms"] < TARGETS["dashboard_p95_ms"]
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(measure_dashboard()))
