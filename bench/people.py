"""People benchmark: the employee list's search and filters at 100,000 people, and
importing 50,000 employee rows from CSV.

Builds a fresh SQLite database (migrated, the demo group seeded), adds 100,000
employees across the demo companies and teams — each with a primary post in their
team, a national ID and a bank account encrypted as the app stores them — then,
in-process through the whole Flask stack (the test client: routing, session,
scope, query, templates):

- active search: /people?q=… with HX-Request, as the browser sends while one
  types (number prefixes, Chinese and Latin names, e-mail fragments, an exact
  national ID through the blind index), as the group administrator and as
  company HR;
- the list with filters: the full page (/people?unit=…&status=…&sort=…), as
  someone opening a filtered link;
- importing a CSV of 50,000 new employees end to end through the import service
  (upload, column mapping, the check shown as preview, then the background job,
  run at once here, which checks again and writes in one transaction), beside a
  bare `insert_many` of the same rows (the floor), rolled back, and the same rows
  through the importer's own INSERT writer alone (its floor).

Prints ONE JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/people.py [--employees 100000] [--import-rows 50000] [--keep]

Targets: search p95 < 30 ms, filtered list p95 < 50 ms, import < 20 s.
"""
import argparse
import csv
import datetime as dt
import io
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-people-fixed-secret-key-not-for-production-0123456789"
TARGETS = {"search_p95_ms": 30.0, "list_p95_ms": 50.0, "import_seconds": 20.0}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["芳", "伟", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
         "婷", "晨", "雪", "佳怡", "子涵", "浩然"]
LATIN = ["Anna", "Lukas", "Lea", "Felix", "Marie", "Jonas", "Sophie", "Paul", "Laura", "Max", "Hannah", "Tim"]
LATIN_LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Sato", "Suzuki"]


def log(message):
    print(f"[bench/people] {message}", file=sys.stderr, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300, help="requests measured per scenario")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def percentile(sorted_values, p):
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(latencies):
    latencies = sorted(latencies)
    ms = lambda seconds: round(seconds * 1000, 2)  # noqa: E731
    return {"requests": len(latencies), "p50_ms": ms(percentile(latencies, 50)),
            "p95_ms": ms(percentile(latencies, 95)), "max_ms": ms(latencies[-1])}


# --- seeding ------------------------------------------------------------------------------------

def person_name(rng, latin):
    if latin:
        return f"{rng.choice(LATIN)} {rng.choice(LATIN_LAST)}"
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def national_id(n):
    return f"3101{n % 100:02d}19{70 + n % 30:02d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 10000:04d}"


def add_employees(count, rng):
    """`count` people across the demo teams, each with a primary post of the team's company."""
    from portal.core.db import database, utcnow
    from portal.org.models import OrgUnit
    from portal.people.imports import WRITE_CHUNK_ROWS, bulk_update
    from portal.people.models import Assignment, Employee
    from portal.people.services import search_text_for, sensitive_columns
    from portal.posts.models import Post

    teams = list(OrgUnit.select().where(OrgUnit.kind == "team").order_by(OrgUnit.id))
    posts = {}
    for post in Post.select().order_by(Post.id):
        posts.setdefault(post.company_id, []).append(post.id)
    companies = {unit.id: unit for unit in OrgUnit.select().where(OrgUnit.kind == "company")}
    now, start = utcnow(), dt.date(2015, 1, 1)
    statuses = ["active"] * 16 + ["probation"] * 2 + ["on_leave", "left"]
    rows, placed = [], []
    for n in range(count):
        team = teams[n % len(teams)]
        company = companies[team.company_id]
        status = rng.choice(statuses)
        hire_date = start + dt.timedelta(days=rng.randrange(3650))
        name = person_name(rng, company.country in ("DE", "JP"))
        number = f"B{company.code[2:]}{n:07d}"
        email = f"b{n}@{company.code.lower()}.example"
        rows.append({"number": number, "legal_name": name, "search_text": search_text_for(number, name, "", email),
                     "company": company.id, "unit": team.id, "email": email, "phone": f"+86 138{n:08d}",
                     "hire_date": hire_date, "status": status,
                     "leaving_date": hire_date + dt.timedelta(days=400) if status == "left" else None,
                     "created_at": now, "updated_at": now})
        placed.append((number, team, rng.choice(posts[company.id]), hire_date))
    with database.atomic():
        for begin in range(0, len(rows), WRITE_CHUNK_ROWS):
            Employee.insert_many(rows[begin:begin + WRITE_CHUNK_ROWS]).execute()
        ids = dict(Employee.select(Employee.number, Employee.id).where(Employee.number.startswith("B")).tuples())
        encrypted = []
        for n, (number, team, _post, _hired) in enumerate(placed):
            row_id = ids[number]
            encrypted.append({"id": row_id, **sensitive_columns(team.company_id, row_id, national_id(n),
                                                                f"6222{n:012d}")})
        bulk_update(Employee, encrypted, ("national_id", "national_id_index", "bank_account"))
        assignments = [{"employee": ids[number], "post": post_id, "unit": team.id, "is_primary": True, "share": 100,
                        "start_date": hired, "created_at": now} for number, team, post_id, hired in placed]
        for begin in range(0, len(assignments), WRITE_CHUNK_ROWS):
            Assignment.insert_many(assignments[begin:begin + WRITE_CHUNK_ROWS]).execute()
    database.execute_sql("ANALYZE")
    return teams


# --- the web requests ----------------------------------------------------------------------------

def logged_in_client(app, username):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": username, "password": "demo1234", "csrf_token": token})
    assert response.status_code == 302, f"login as {username} failed"
    client.set_cookie("locale", "en")
    return client


def timed_gets(client, urls, headers, expect):
    latencies = []
    for url in urls:
        began = time.perf_counter()
        response = client.get(url, headers=headers)
        body = response.get_data()
        latencies.append(time.perf_counter() - began)
        if response.status_code != 200 or expect not in body:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    return latencies


def typing(word):
    """What the search box sends while `word` is typed: every prefix of it."""
    return [word[:i] for i in range(1, len(word) + 1)]


def search_urls(count, employees, rng):
    from urllib.parse import quote

    words = []
    while len(words) < count:
        n = rng.randrange(employees)
        words.extend(rng.choice([
            typing(f"bcn{n:07d}"[:rng.randint(4, 10)]),  # an employee number, typed
            typing(rng.choice(SURNAMES) + rng.choice(GIVEN)),  # a Chinese name
            typing(rng.choice(LATIN).lower()[:5]),  # a Latin name
            [f"b{n}@"],  # an e-mail, pasted
            [national_id(n)],  # a national ID, pasted: the blind index
        ]))
    return [f"/people?q={quote(word)}" for word in words[:count]]


def list_urls(count, teams, rng):
    urls = []
    for _ in range(count):
        team = rng.choice(teams)
        args = rng.choice([
            f"unit={team.id}&status=active",
            f"status=probation&sort=hire_date&dir=desc",
            f"unit={team.company_id}&sort=number",
            f"unit={team.id}&sort=status&page={rng.randint(1, 3)}",
            f"status=active&page={rng.randint(1, 20)}",
        ])
        urls.append(f"/people?{args}")
    return urls


def measure_web(app, args, teams, rng):
    results = {}
    hx = {"HX-Request": "true", "Accept": "text/html"}
    for username in ("admin", "hr.cn"):
        client = logged_in_client(app, username)
        timed_gets(client, search_urls(30, args.employees, rng), hx, b"<")  # warm-up
        results[f"search_{username}"] = summarise(timed_gets(client, search_urls(args.requests, args.employees, rng),
                                                             hx, b"<"))
        log(f"search as {username}: {results[f'search_{username}']}")
        timed_gets(client, list_urls(20, teams, rng), {}, b"</html>")
        results[f"list_{username}"] = summarise(timed_gets(client, list_urls(args.requests, teams, rng), {},
                                                           b"</html>"))
        log(f"filtered list as {username}: {results[f'list_{username}']}")
    return results


# --- the import ------------------------------------------------------------------------------------

def import_csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["工号", "姓名", "入职日期", "状态", "手机", "邮箱", "身份证号", "银行卡号"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def import_rows(count, rng):
    return [[f"IMP{n:07d}", person_name(rng, False), f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",
             rng.choice(["在职", "试用"]), f"139{n:08d}", f"imp{n}@example.cn", national_id(n + 5_000_000),
             f"6217{n:012d}"] for n in range(count)]


def measure_import(app, args, rng):
    from portal.accounts.models import User
    from portal.core.db import database, utcnow
    from portal.core.permissions import Actor
    from portal.org.models import OrgUnit
    from portal.people import imports
    from portal.people.models import Employee, PeopleImport

    rows = import_rows(args.import_rows, rng)
    data = import_csv(rows)
    company = OrgUnit.get(OrgUnit.code == "EXCN")
    actor = Actor.for_user(User.get(User.username == "hr.cn"))
    phases = {}
    with app.test_request_context():
        began = time.perf_counter()
        people_import = imports.upload_import(actor, company, "employees", "bench.csv", io.BytesIO(data))
        phases["upload_seconds"] = time.perf_counter() - began
        mark = time.perf_counter()
        mapping = imports.suggest_mapping(company, "employees", imports.import_headers(people_import))
        people_import = imports.save_mapping(actor, people_import, mapping)
        plan = imports.validate_import(actor, people_import)
        phases["check_seconds"] = time.perf_counter() - mark
        if plan.errors:
            raise RuntimeError(f"the bench file has errors: {plan.errors[:3]}")
        mark = time.perf_counter()
        imports.start_import(actor, PeopleImport.get_by_id(people_import.id))  # the job runs at once here
        phases["job_seconds"] = time.perf_counter() - mark
        total = time.perf_counter() - began
    state = PeopleImport.get_by_id(people_import.id).state
    imported = Employee.select().where(Employee.number.startswith("IMP")).count()
    if state != "imported" or imported != args.import_rows:
        raise RuntimeError(f"import ended {state} with {imported} rows")
    # The floor: the same rows inserted bare (no reading, checks, encryption or audit), then rolled back.
    now = utcnow()
    bare = [{"number": f"FLOOR{n:07d}", "legal_name": name, "hire_date": dt.date.fromisoformat(hired),
             "status": "active", "phone": phone, "email": email, "search_text": email, "company": company.id,
             "unit": company.id, "created_at": now, "updated_at": now}
            for n, (_number, name, hired, _status, phone, email, _id, _bank) in enumerate(rows)]
    with database.atomic() as transaction:
        began = time.perf_counter()
        for start in range(0, len(bare), imports.WRITE_CHUNK_ROWS):
            Employee.insert_many(bare[start:start + imports.WRITE_CHUNK_ROWS]).execute()
        floor = time.perf_counter() - began
        transaction.rollback()
    # …and through the importer's own writer, whose SQL text is built once per chunk size.
    with database.atomic() as transaction:
        began = time.perf_counter()
        imports._insert_rows(Employee, bare, lambda written: None)
        writer_floor = time.perf_counter() - began
        transaction.rollback()
    result = {"rows": args.import_rows, "file_bytes": len(data), "seconds": round(total, 2),
              **{name: round(value, 2) for name, value in phases.items()},
              "floor_insert_many_seconds": round(floor, 2), "floor_importer_writer_seconds": round(writer_floor, 2)}
    log(f"import: {result}")
    return result


def bench_workdir(name):
    """A throw-away folder for one benchmark, holding the app's instance and job queue; the app importable."""
    workdir = Path(tempfile.mkdtemp(prefix=f"fairshare-bench-{name}-"))
    os.environ.update({"FAIRSHARE_INSTANCE": str(workdir / "instance"), "JOBS_SQLITE_PATH": str(workdir / "jobs.db"),
                       "SECRET_KEY": SECRET_KEY})
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    return workdir


def seeded_app(workdir, echo):
    """The app on a new SQLite database in `workdir`, migrated and demo-seeded; jobs run
    at once, no fragment cache."""
    from portal import create_app
    from portal.cli import upgrade_database
    from portal.demo import seed

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir}/bench.db", "SECRET_KEY": SECRET_KEY,
                      "UPLOAD_DIR": str(workdir / "uploads"), "JOBS_IMMEDIATE": True, "FRAGMENT_CACHE_SIZE": 0})
    with app.app_context():
        upgrade_database()
        seed(echo=echo)
    return app


def main():
    args = parse_args()
    workdir = bench_workdir("people")
    from portal.core.db import database

    rng = random.Random(20261123)
    try:
        began = time.perf_counter()
        app = seeded_app(workdir, log)
        with app.app_context():
            teams = add_employees(args.employees, rng)
            log(f"{args.employees} employees added in {time.perf_counter() - began:.1f} s")
            database.close()
        web = measure_web(app, args, teams, rng)
        with app.app_context():
            imported = measure_import(app, args, rng)
            database.close()
        search_p95 = max(web["search_admin"]["p95_ms"], web["search_hr.cn"]["p95_ms"])
        list_p95 = max(web["list_admin"]["p95_ms"], web["list_hr.cn"]["p95_ms"])
        print(json.dumps({
            "database": "sqlite",
            "employees": args.employees,
            **web,
            "import": imported,
            "targets": TARGETS,
            "meets_targets": {"search": search_p95 < TARGETS["search_p95_ms"],
                              "list": list_p95 < TARGETS["list_p95_ms"],
                              "import": imported["seconds"] < TARGETS["import_seconds"]},
        }, ensure_ascii=False))
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
