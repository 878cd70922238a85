"""Importing conversation logs for bench/cs.py: `measure(args)` returns a dict.

A JD 咚咚 conversation export of `args.conversations` rows (1,000,000 by default;
deterministic from `args.seed`) is written as a UTF-8 CSV with the export's own
column names: session id, shop account (six accounts), waiter (sub-account, on 70%
of the rows), customer PIN, consult / first reply / end times over 30 days in
Shanghai time (3% never answered), message counts, resolved, repeat consultation
and the satisfaction words. A fresh SQLite database (migrated; one company, its JD
store, the accounts and their waiters — no demo) receives it through the import
path `flask cs import` takes: `read_table` → `suggest_mapping` → `plan_table` (every
row checked against the database: account, times, duplicates, what is already
stored) → `apply_plan` (one transaction). The importer's row limit
(MAX_IMPORT_ROWS, 200,000 per file for uploads) is lifted for the run.

Beside it, the floor: the same parsed rows (values as the importer stores them)
through a bare peewee `insert_many` in chunks of 500 into the same, then empty,
table, rolled back. Target: the whole import < 60 s.
"""
import csv
import datetime as dt
import hashlib
import resource
import shutil
import sys
import time

import numpy as np

from people import SECRET_KEY, bench_workdir

TARGETS = {"import_seconds": 60.0}
ACCOUNTS, WAITERS, DAYS = 6, 30, 30
FIRST_DAY = dt.datetime(2026, 10, 1)  # local (Asia/Shanghai)
HEADERS = ["会话ID", "店铺账号", "客服账号", "客户账号", "咨询时间", "首次回复时间", "会话结束时间", "顾客消息数",
           "客服消息数", "是否解决", "是否重复咨询", "满意度评价"]
RATINGS = np.array(["", "很不满意", "不满意", "一般", "满意", "很满意"])
BARE_CHUNK = 500


def log(message):
    print(f"[bench/cs import] {message}", file=sys.stderr, flush=True)


def account_code(n):
    return f"JD-BENCH-{n}"


def waiter_name(account, n):
    return f"京东旗舰店{account}:客服{n:02d}"


def _times(seconds):
    """Local epoch-like seconds since FIRST_DAY → 'YYYY-MM-DD HH:MM:SS' strings."""
    base = np.datetime64(FIRST_DAY.isoformat(), "s")
    text = np.datetime_as_string(base + seconds.astype("timedelta64[s]"), unit="s")
    return np.char.replace(text, "T", " ")


def write_export(path, rows, seed):
    """The JD-shaped CSV, deterministic from `seed`. Returns its size in bytes."""
    rng = np.random.default_rng(seed)
    account = rng.integers(0, ACCOUNTS, rows)
    waiter = np.where(rng.random(rows) < 0.7, rng.integers(0, WAITERS, rows), -1)
    hour_weights = np.array([2, 1, .5, .3, .3, .5, 1, 3, 6, 9, 10, 10, 12, 12, 9, 8, 8, 8, 9, 11, 14, 15, 11, 5])
    start = (rng.integers(0, DAYS, rows) * 86400 + rng.choice(24, rows, p=hour_weights / hour_weights.sum()) * 3600
             + rng.integers(0, 3600, rows))
    reply = start + rng.exponential(40, rows).astype(np.int64) + 2
    end = reply + rng.exponential(420, rows).astype(np.int64) + 10
    answered = rng.random(rows) > 0.03
    customer = rng.integers(10 ** 7, 10 ** 8, rows)
    customer_messages = rng.poisson(3.5, rows) + 1
    agent_messages = np.where(answered, rng.poisson(3, rows) + 1, 0)
    resolved = rng.choice(np.array(["是", "是", "是", "否", ""]), rows)
    repeat = np.where(rng.random(rows) < 0.05, "是", "否")
    rating = RATINGS[np.where(rng.random(rows) < 0.3, rng.choice(6, rows, p=[0, .04, .04, .08, .24, .60]), 0)]
    start_text, reply_text, end_text = _times(start), _times(reply), _times(end)
    reply_text = np.where(answered, reply_text, "")
    accounts = [account_code(a) for a in range(ACCOUNTS)]
    waiters = {(a, w): waiter_name(a, w) for a in range(ACCOUNTS) for w in range(WAITERS)}
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(
            (f"JD{20261001000000 + n}", accounts[a], waiters[(a, w)] if w >= 0 else "", f"jd_{c}", s, r, e, cm, am,
             res, rep, rt)
            for n, (a, w, c, s, r, e, cm, am, res, rep, rt) in enumerate(zip(
                account.tolist(), waiter.tolist(), customer.tolist(), start_text.tolist(), reply_text.tolist(),
                end_text.tolist(), customer_messages.tolist(), agent_messages.tolist(), resolved.tolist(),
                repeat.tolist(), rating.tolist())))
    return path.stat().st_size


def fresh_company(workdir):
    """The app on a new migrated SQLite database with one company, its JD store, the
    accounts and their waiters."""
    from portal import create_app
    from portal.cli import upgrade_database
    from portal.core.db import database, utcnow
    from portal.core.permissions import Actor
    from portal.cs.models import CsAccount, CsSubAccount
    from portal.org.services import create_unit

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir}/bench.db", "SECRET_KEY": SECRET_KEY,
                      "UPLOAD_DIR": str(workdir / "uploads"), "JOBS_IMMEDIATE": True, "FRAGMENT_CACHE_SIZE": 0})
    with app.app_context():
        upgrade_database()
        system = Actor.system()
        settings = {"country": "CN", "currency": "CNY", "timezone": "Asia/Shanghai", "default_locale": "zh_CN"}
        with database.atomic():
            group = create_unit(system, None, "group", "BENCH", "Bench Group", settings=settings)
            company = create_unit(system, group, "company", "BENCH-CN", "压测电商有限公司", settings=settings)
            store = create_unit(system, company, "store", "BENCH-JD", "京东旗舰店", platform="jd")
            now = utcnow()
            for a in range(ACCOUNTS):
                account = CsAccount.create(company=company.id, store=store.id, code=account_code(a),
                                           name=f"京东旗舰店{a}", kind="shared")
                CsSubAccount.insert_many([{"account": account.id, "name": waiter_name(a, w), "created_at": now}
                                          for w in range(WAITERS)]).execute()
        database.close()
    return app


def bare_rows(plan, now):
    """The plan's new rows as the importer stores them, for the bare insert_many."""
    from portal.cs.models import CsSubAccount

    subs = {(a, n): pk for pk, a, n in CsSubAccount.select(CsSubAccount.id, CsSubAccount.account,
                                                           CsSubAccount.name).tuples()}
    company_id = plan.company.id
    return [(company_id, v["account"], subs.get((v["account"], v.get("sub_account"))), v["session_id"],
             v.get("customer_ref", ""), v["started_at"], v.get("first_reply_at"), v["ended_at"],
             v.get("customer_messages", 0), v.get("agent_messages", 0), v.get("resolved"), v.get("reopened", False),
             v.get("rating"), None, now) for v in plan.creates]


def measure(args):
    rows = args.conversations
    workdir = bench_workdir("cs-import")
    from portal.connectors import connector
    from portal.core import tabular
    from portal.core.db import database, utcnow
    from portal.core.permissions import Actor
    from portal.cs import imports
    from portal.cs.models import CsConversation
    from portal.org.models import OrgUnit

    limit = tabular.MAX_IMPORT_ROWS
    try:
        began = time.perf_counter()
        path = workdir / "jd-conversations.csv"
        size = write_export(path, rows, args.seed)
        app = fresh_company(workdir)
        log(f"{rows} rows, {size / 2 ** 20:.0f} MB of CSV and a fresh database in {time.perf_counter() - began:.1f} s")
        tabular.MAX_IMPORT_ROWS = rows + 1
        with app.test_request_context():
            actor = Actor.system()
            company = OrgUnit.get(OrgUnit.code == "BENCH-CN")
            conn = connector("jd_conversations")
            # what check_cs_file does, timed step by step, then apply_plan
            began = time.perf_counter()
            table = tabular.read_table(path)
            read_s = time.perf_counter() - began
            mark = time.perf_counter()
            plan = imports.plan_table(actor, company, conn, table, imports.suggest_mapping(conn, table.headers))
            sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            check_s = time.perf_counter() - mark
            del table
            if plan.errors or len(plan.creates) != rows:
                raise RuntimeError(f"the bench file does not plan cleanly: {plan.counts()} {plan.errors[:3]}")
            # the floor first, into the same empty table, rolled back
            bare = bare_rows(plan, utcnow())
            fields = [CsConversation._meta.fields[name] for name in imports._columns(CsConversation)]
            with database.atomic() as transaction:
                mark = time.perf_counter()
                for at in range(0, len(bare), BARE_CHUNK):
                    CsConversation.insert_many(bare[at:at + BARE_CHUNK], fields=fields).execute()
                bare_s = time.perf_counter() - mark
                transaction.rollback()
            del bare
            mark = time.perf_counter()
            counts = imports.apply_plan(actor, plan, sha256, label="bench")
            write_s = time.perf_counter() - mark
            stored = CsConversation.select().count()
            database.close()
        if counts["create"] != rows or stored != rows:
            raise RuntimeError(f"imported {counts}, {stored} rows stored")
    finally:
        tabular.MAX_IMPORT_ROWS = limit
        shutil.rmtree(workdir, ignore_errors=True)
    total = read_s + check_s + write_s
    result = {
        "rows": rows, "file_mb": round(size / 2 ** 20, 1), "seconds": round(total, 2),
        "rows_per_second": round(rows / total), "read_seconds": round(read_s, 2), "check_seconds": round(check_s, 2),
        "write_seconds": round(write_s, 2), "bare_insert_many_seconds": round(bare_s, 2),
        "bare_rows_per_second": round(rows / bare_s), "ratio_to_bare_insert_many": round(total / bare_s, 2),
        "write_ratio_to_bare_insert_many": round(write_s / bare_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "target_seconds": TARGETS["import_seconds"], "meets_target": total < TARGETS["import_seconds"],
    }
    log(f"import: {result}")
    return result


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261111)
    print(json.dumps(measure(parser.parse_args())))
