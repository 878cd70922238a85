"""Bonus exports for auditors (portal/bonus/exports.py, export_views.py): the pool summary and
statements PDFs read back with pdftotext (names, Chinese ones too, amounts, the fingerprint, one
statement a page), the audit event with the fingerprint, CSV and XLSX of the lines, scope, the
locked pool's unchanging fingerprint, and a company's statements as a background job."""
import csv
import datetime as dt
import io
import json
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from bonus_data import give_points, make_pool, members, points_for_everyone, this_month, two_dimension_definition
from factories import SYSTEM, make_contract, make_team_member
from portal.accounts.models import User
from portal.approvals.services import decide_step
from portal.audit.models import AuditEvent
from portal.bonus import exports, services
from portal.bonus.models import BonusLine, BonusPool
from portal.core import jobs
from portal.core.errors import NotInScope
from portal.core.money import format_money, to_decimal
from portal.core.permissions import Actor
from portal.jobs.models import Job
from portal.org.models import OrgUnit
from portal.people.models import Employee

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

CHINESE_NAME = "欧阳明月"


def pdf_pages(data):
    """The PDF's text, page by page (pdftotext ends each page with a form feed)."""
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    return text.split("\f")[:-1]


def fresh(pool):
    return BonusPool.get_by_id(pool.id)


def lines_of(pool):
    return list(BonusLine.select().where(BonusLine.pool == pool.id).order_by(BonusLine.rank))


@pytest.fixture
def pool(hr_cn, jd_team):
    """A computed pool of the JD team with a Chinese-named newcomer paid in HKD and an adjustment."""
    newcomer = make_team_member(jd_team, legal_name=CHINESE_NAME)
    make_contract(newcomer, currency="HKD", start_date=dt.date(2024, 1, 1))
    row = make_pool(jd_team, 1_234_567, definition=two_dimension_definition())
    points_for_everyone(row)
    give_points(row, {newcomer: 40})
    services.compute_pool(SYSTEM, row)
    member = next(m for m in members(row) if m.employee_id == newcomer.id)
    services.add_adjustment(hr_cn, row, member, 5_000, "Covered the night shift in the sale")
    return fresh(row)


def events(action, pool):
    """The pool's events of `action`, oldest first (the demo's cleared pools left events of their own ids)."""
    return list(AuditEvent.select().where((AuditEvent.action == action)
                                          & (AuditEvent.object_type == BonusPool._meta.table_name)
                                          & (AuditEvent.object_id == str(pool.id))
                                          & (AuditEvent.occurred_at >= pool.created_at)).order_by(AuditEvent.id))


def export_events(pool):
    return events("bonus.exported", pool)


# --- the PDFs ------------------------------------------------------------------------------------

def test_the_summary_names_everyone_with_their_amount_the_totals_and_the_fingerprint(hr_cn, pool):
    made = exports.summary_pdf(hr_cn, pool)
    assert made.body.startswith(b"%PDF") and made.filename == f"bonus-CN-JD-CS-A-{pool.period_start:%Y-%m}-v1-summary.pdf"
    assert made.sha256 == services.snapshot_hash(pool)
    pages = pdf_pages(made.body)
    text = "\n".join(pages)
    assert CHINESE_NAME in text and made.sha256 in text
    for line in lines_of(pool):
        assert Employee.get_by_id(line.employee_id).display_name in text
        assert format_money(line.amount_minor, "CNY") in text
    assert format_money(sum(x.amount_minor for x in lines_of(pool)), "CNY") in text
    assert "Covered the night shift in the sale" in text
    assert OrgUnit.get_by_id(pool.company_id).name in text and "version 1" in text
    assert f"page 1 of {len(pages)}" in pages[0]
    assert all(made.sha256 in page for page in pages)  # in the footer of every page
    event = export_events(pool)[-1]
    assert json.loads(event.after) == {"pool": pool.id, "format": "pdf_summary", "snapshot_sha256": made.sha256,
                                       "people": len(members(pool))}
    assert event.actor_id == hr_cn.user.id and event.unit_id == pool.unit_id


def test_each_statement_is_a_page_explaining_the_amount_in_the_pay_currency(hr_cn, pool):
    made = exports.statements_pdf(hr_cn, pool)
    pages = pdf_pages(made.body)
    lines = lines_of(pool)
    assert len(pages) == len(lines)
    for number, (page, line) in enumerate(zip(pages, lines), 1):
        employee = Employee.get_by_id(line.employee_id)
        assert employee.display_name in page and made.sha256 in page
        assert format_money(line.amount_minor, "CNY") in page
        assert f"page {number} of {len(pages)}" in page
        assert "Support points" in page and "Tenure" in page and "Team range" in page
    chinese = next(page for page in pages if CHINESE_NAME in page)
    line = next(x for x in lines if Employee.get_by_id(x.employee_id).legal_name == CHINESE_NAME)
    assert line.pay_currency == "HKD" and format_money(line.pay_amount_minor, "HKD") in chinese
    assert "ECB euro reference rates" in line.rate_source and "ECB euro reference rates" in chinese
    assert "Covered the night shift in the sale" in chinese
    assert json.loads(export_events(pool)[-1].after)["format"] == "pdf_statements"


def test_the_printed_data_is_the_fingerprinted_snapshot(hr_cn, pool):
    export = exports.pool_export(hr_cn, pool)
    assert export.sha256 == exports.snapshot_digest(services.pool_snapshot(pool)) == services.snapshot_hash(pool)
    statement = services.statement_for(hr_cn, pool, export.lines[0].employee)
    mine = export.lines[0]
    assert mine.line.amount_minor == statement.line.amount_minor and mine.line.rank == statement.line.rank
    assert [(d.raw, d.normalised, d.contribution, d.team_min, d.team_max) for d in mine.dimensions] == [
        (d.raw, d.normalised, d.contribution, d.team_min, d.team_max) for d in statement.dimensions]
    assert mine.eligibility == statement.eligibility
    assert export.totals["amount_minor"] + export.totals["leftover_minor"] == fresh(pool).effective_minor


def test_a_locked_pool_exports_with_the_same_fingerprint_every_time(hr_cn, pool):
    request = services.submit_pool(hr_cn, pool)
    decide_step(Actor.for_user(User.get(User.username == "admin")), request.id, request.version, True, "")
    locked = services.lock_pool(Actor.for_user(User.get(User.username == "admin")), fresh(pool))
    first, again = exports.statements_pdf(hr_cn, locked), exports.statements_pdf(hr_cn, fresh(locked))
    assert first.sha256 == again.sha256 == exports.summary_pdf(hr_cn, locked).sha256
    lock_event = events("bonus.pool_locked", pool)[-1]
    assert json.loads(lock_event.after)["snapshot_sha256"] == first.sha256
    assert {json.loads(e.after)["snapshot_sha256"] for e in export_events(pool)} == {first.sha256}
    text = "\n".join(pdf_pages(exports.summary_pdf(hr_cn, locked).body))
    assert "Locked" in text and "Company HR" in text and "Approved" in text  # the approval trail


def test_an_uncomputed_pool_exports_its_header_and_says_so(hr_cn, jd_team):
    draft = make_pool(jd_team)
    text = "\n".join(pdf_pages(exports.statements_pdf(hr_cn, draft).body))
    assert "Not computed yet" in text and services.snapshot_hash(draft) in text


# --- CSV and XLSX --------------------------------------------------------------------------------

def test_the_lines_as_csv_and_xlsx(hr_cn_client, pool):
    lines = lines_of(pool)
    response = hr_cn_client.get(f"/bonus/exports/pools/{pool.id}/lines.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="bonus-CN-JD-CS-A-{pool.period_start:%Y-%m}-v1.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert len(body) == len(lines) and "Amount" in header and "Support points: normalised" in header
    amount = header.index("Amount")
    assert [Decimal(row[amount]) for row in body] == [to_decimal(x.amount_minor, "CNY") for x in lines]
    assert sum(Decimal(row[amount]) for row in body) == to_decimal(sum(x.amount_minor for x in lines), "CNY")
    assert CHINESE_NAME in {row[header.index("Name")] for row in body}
    sha = services.snapshot_hash(pool)
    assert {row[-1] for row in body} == {sha}

    response = hr_cn_client.get(f"/bonus/exports/pools/{pool.id}/lines.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.values)
    assert list(values[0]) == header and len(values) == len(lines) + 1
    assert [Decimal(str(row[amount])) for row in values[1:]] == [to_decimal(x.amount_minor, "CNY") for x in lines]
    assert [json.loads(e.after)["format"] for e in export_events(pool)] == ["csv", "xlsx"]
    assert hr_cn_client.get(f"/bonus/exports/pools/{pool.id}/lines.txt").status_code == 404


def test_the_pdf_routes_answer_attachments(hr_cn_client, pool):
    for name in ("summary", "statements"):
        response = hr_cn_client.get(f"/bonus/exports/pools/{pool.id}/{name}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.get_data().startswith(b"%PDF")


def test_the_pool_page_offers_the_exports_to_those_who_may_export(hr_cn_client, lead_client, pool):
    for client in (hr_cn_client, lead_client):
        body = client.get(f"/bonus/pools/{pool.id}").get_data(as_text=True)
        assert f"/bonus/exports/pools/{pool.id}/statements.pdf" in body
        assert f"/bonus/exports/pools/{pool.id}/lines.xlsx" in body


# --- scope ---------------------------------------------------------------------------------------

def test_an_agent_cannot_export_even_their_own_pool(actor_of, agent_client, pool):
    agent = actor_of("agent.jd1")
    for call in (exports.summary_pdf, exports.statements_pdf, lambda a, p: exports.lines_table(a, p, "csv")):
        with pytest.raises(NotInScope):
            call(agent, pool)
    for url in ("summary.pdf", "statements.pdf", "lines.csv"):
        assert agent_client.get(f"/bonus/exports/pools/{pool.id}/{url}").status_code == 403
    assert export_events(pool) == []


def test_hr_of_another_company_cannot_export(hr_de, hr_de_client, pool):
    with pytest.raises(NotInScope):
        exports.statements_pdf(hr_de, pool)
    with pytest.raises(NotInScope):
        exports.lines_table(hr_de, pool, "xlsx")
    for url in ("summary.pdf", "statements.pdf", "lines.csv", "lines.xlsx"):
        assert hr_de_client.get(f"/bonus/exports/pools/{pool.id}/{url}").status_code == 404
    assert export_events(pool) == []


def test_a_lead_exports_their_team_only(lead, pool, vip_team):
    theirs = make_pool(vip_team)
    assert exports.summary_pdf(lead, pool).sha256 == services.snapshot_hash(pool)
    with pytest.raises(NotInScope):
        exports.summary_pdf(lead, theirs)


# --- a company's statements as a background job --------------------------------------------------

@pytest.fixture
def progress_calls(monkeypatch):
    calls = []
    update = jobs.JobProgress.update

    def recording(self, done, total=None, message=None, force=False):
        calls.append((done, total, str(message) if message is not None else None))
        return update(self, done, total, message, force)

    monkeypatch.setattr(jobs.JobProgress, "update", recording)
    return calls


def last_month():
    return (this_month() - dt.timedelta(days=1)).replace(day=1)


def test_the_company_job_puts_every_statement_in_one_pdf_with_progress(demo_bonus, hr_cn, excn, progress_calls):
    pools = [p for p in exports.exportable_pools(hr_cn, excn, last_month()) if p.computed_at]
    people = BonusLine.select().where(BonusLine.pool.in_([p.id for p in pools])).count()
    assert len(pools) >= 3
    job = exports.start_statements_job(hr_cn, excn, last_month(), "en", "Asia/Shanghai")
    job = Job.get_by_id(job.id)
    assert job.state == "succeeded", job.message
    assert job.total == people and job.done == people
    result = json.loads(job.result)
    assert (result["pools"], result["people"], result["pages"]) == (len(pools), people, people)
    assert result["fingerprints"] == {str(p.id): services.snapshot_hash(p) for p in pools}
    done = [d for d, _total, _message in progress_calls]
    assert done == sorted(done) and done[-1] == people and len(set(done)) >= len(pools)
    assert {message for _d, _t, message in progress_calls} >= {"Writing the PDF", "The PDF is ready."}
    path, filename = exports.job_file(hr_cn, job)
    assert filename == f"bonus-statements-EXCN-{last_month():%Y-%m}.pdf"
    pages = pdf_pages(path.read_bytes())
    assert len(pages) == people
    for pool in pools:
        assert sum(services.snapshot_hash(pool) in page for page in pages) == BonusLine.select().where(
            BonusLine.pool == pool.id).count()
    recorded = AuditEvent.select().where(AuditEvent.action == "bonus.exported")
    assert {json.loads(e.after)["job"] for e in recorded} == {job.id} and recorded.count() == len(pools)


def test_the_company_job_page_shows_progress_and_the_file_to_its_starter_only(demo_bonus, hr_cn_client, client_for,
                                                                              excn):
    page = hr_cn_client.get("/bonus/exports/statements")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True).lower()
    fragment = hr_cn_client.get("/bonus/exports/statements", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment.lower() and 'id="bonus-exports"' in fragment
    response = hr_cn_client.post("/bonus/exports/statements", {"company": excn.id, "month": f"{last_month():%Y-%m}"})
    assert response.status_code == 302, response.get_data(as_text=True)
    job_url = response.headers["Location"]
    body = hr_cn_client.get(job_url).get_data(as_text=True)
    assert "<progress" in body and "Download the PDF" in body
    assert "<html" not in hr_cn_client.get(job_url, htmx=True).get_data(as_text=True).lower()
    download = hr_cn_client.get(job_url + "/statements.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.get_data().startswith(b"%PDF")
    # the group administrator follows jobs of the company, but the file is the starter's
    other = client_for("admin").get(job_url + "/statements.pdf")
    assert other.status_code == 200 and "Only the person who asked for this PDF can download it." in other.get_data(
        as_text=True)
    assert client_for("hr.de").get(job_url).status_code == 404


def test_a_month_without_computed_pools_is_refused_next_to_the_month(hr_cn_client, excn):
    response = hr_cn_client.post("/bonus/exports/statements", {"company": excn.id, "month": "2020-01"})
    assert response.status_code == 422
    assert "No computed bonus pool of this month to export." in response.get_data(as_text=True)
    assert not Job.select().where(Job.kind == exports.JOB_KIND).exists()
