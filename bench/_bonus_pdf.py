"""The statements PDF for bench/bonus.py: `measure(args)` returns a dict.

A 30-person team's computed pool (bench/_bonus_world.py): its statements PDF made by
portal.bonus.exports.statements_pdf as its lead would get it (the snapshot and its
SHA-256, the layout by WeasyPrint with the CJK fonts, one page a person, the audit
event) — "statements_pdf", the median of a few runs after a warm-up (target < 10 s) —
beside "floor": WeasyPrint rendering one plain HTML page holding the same people's
table (names, figures, amounts) with the same fonts and no template.
"""
import re
import shutil
import statistics
import subprocess
import sys
import time

import _bonus_world

PEOPLE = 30
RUNS = 3
TARGET_SECONDS = 10.0


def log(message):
    print(f"[bench/bonus pdf] {message}", file=sys.stderr, flush=True)


def _plain_page(export):
    from markupsafe import escape

    rows = "".join(
        "<tr><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>".format(
            escape(item.employee.display_name), escape(item.employee.number),
            "".join(f"<td>{d.raw if d.raw is not None else '–'}</td><td>{d.normalised:.2f}</td>"
                    f"<td>{d.contribution:.2f}</td>" for d in item.dimensions),
            item.line.amount_minor, item.line.pay_amount_minor)
        for item in export.lines)
    return ("<!doctype html><html><head><meta charset='utf-8'><style>"
            "@page { size: A4 landscape; margin: 10mm } html { font-family: 'Noto Sans CJK SC', sans-serif;"
            " font-size: 7pt } table { border-collapse: collapse } td { border: 0.4pt solid #bbb }"
            f"</style></head><body><table>{rows}</table></body></html>")


def _pages(data):
    """The PDF's page count (poppler's pdfinfo), or None without it."""
    if shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _median_seconds(fn, runs):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure(args):
    from weasyprint import HTML

    from portal.accounts.models import User
    from portal.bonus import exports
    from portal.bonus.models import BonusPool
    from portal.core.permissions import Actor

    app, _workdir = _bonus_world.app()
    _team_id, pool_id, lead = _bonus_world.team(PEOPLE)
    with app.test_request_context():
        actor = Actor.for_user(User.get(User.username == lead))
        pool = BonusPool.get_by_id(pool_id)
        first = time.perf_counter()
        made = exports.statements_pdf(actor, pool)  # warm-up: fonts, templates
        cold = time.perf_counter() - first
        pages = _pages(made.body)
        seconds = _median_seconds(lambda: exports.statements_pdf(actor, pool), RUNS)
        html = _plain_page(exports.pool_export(actor, pool))
        HTML(string=html).write_pdf()
        floor = _median_seconds(lambda: HTML(string=html).write_pdf(), RUNS)
    result = {"people": PEOPLE, "statements_pdf": round(seconds, 3), "floor": round(floor, 3),
              "first_run_seconds": round(cold, 3), "pdf_bytes": len(made.body), "pages": pages,
              "target_seconds": TARGET_SECONDS, "meets_target": seconds < TARGET_SECONDS}
    log(str(result))
    return result
