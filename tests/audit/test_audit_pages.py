"""The audit trail pages: filters, pages, scope, CSV export and the chain check job."""
import csv
import datetime as dt
import io
import re

import pytest

from factories import make_unit, unit_by_code
from portal.audit.models import AuditEvent
from portal.audit.services import list_events
from portal.core import audit as core_audit
from portal.core.db import database
from portal.core.exports import neutralise
from portal.core.permissions import Scope, WholeGroupScope
from portal.accounts.models import User
from portal.jobs.models import Job
from portal.org.models import OrgUnit


def subtree_ids(code):
    return {i for (i,) in OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(unit_by_code(code).path)).tuples()}


def rows_of(body):
    tbody = re.search(r"<tbody>(.*?)</tbody>", body, re.S)
    return re.findall(r"<tr>(.*?)</tr>", tbody.group(1), re.S) if tbody else []


def scope_of(username):
    return Scope.for_user(User.get(User.username == username))


@pytest.fixture
def dated_events(db, monkeypatch):
    """Three events in the Hamburg warehouse at known times (UTC)."""
    unit = unit_by_code("EXDE-WH-WH1")
    times = {"before": dt.datetime(2024, 3, 1, 12, 0), "late": dt.datetime(2024, 3, 1, 23, 30),
             "after": dt.datetime(2024, 3, 3, 8, 0)}
    for label, when in times.items():
        monkeypatch.setattr(core_audit, "utcnow", lambda when=when: when)
        core_audit.record_event("test.dated", object_type="thing", label=f"dated-{label}", unit=unit)
    monkeypatch.undo()
    return times


# --- the service ---------------------------------------------------------------------------

def test_list_filters_by_unit_subtree(db):
    make_unit(unit_by_code("EXDE-OPS"), "team", name="Retouren")
    rows, _ = list_events(WholeGroupScope(), unit=unit_by_code("EXDE-OPS"), per_page=1000)
    assert rows and {e.unit_id for e in rows} <= subtree_ids("EXDE-OPS")
    expected = AuditEvent.select().where(AuditEvent.unit_id.in_(subtree_ids("EXDE-OPS"))).count()
    assert len(rows) == expected
    assert "Retouren" in {e.object_label for e in rows}


def test_list_filters_by_date_and_action(dated_events):
    scope = WholeGroupScope()
    rows, _ = list_events(scope, since=dt.datetime(2024, 3, 1, 18), until=dt.datetime(2024, 3, 3), per_page=1000)
    assert [e.object_label for e in rows] == ["dated-late"]
    rows, _ = list_events(scope, action="test.", per_page=1000)
    assert [e.object_label for e in rows] == ["dated-after", "dated-late", "dated-before"]  # newest first
    assert all(e.action.startswith("org.") for e in list_events(scope, action="org.", per_page=1000)[0])


def test_list_is_paginated_newest_first(db):
    scope = WholeGroupScope()
    total = AuditEvent.select().where(AuditEvent.unit_id.is_null(False)).count()
    seen, page = [], 1
    while True:
        rows, has_next = list_events(scope, page=page, per_page=7)
        seen += [e.id for e in rows]
        if not has_next:
            break
        assert len(rows) == 7
        page += 1
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen) == total


def test_company_hr_lists_only_their_companys_events(db):
    rows, _ = list_events(scope_of("hr.de"), per_page=10_000)
    german = subtree_ids("EXDE")
    assert rows and {e.unit_id for e in rows} <= german
    assert len(rows) == AuditEvent.select().where(AuditEvent.unit_id.in_(german)).count()
    assert list_events(scope_of("hr.de"), unit=unit_by_code("EXCN"), per_page=10_000)[0] == []


def test_events_without_a_unit_are_for_the_group_only(client, db):
    client.post("/login", {"username": "nobody.here", "password": "whatever-1"})
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert event.unit_id is None
    assert event.id not in {e.id for e in list_events(scope_of("hr.de"), per_page=10_000)[0]}
    assert event.id not in {e.id for e in list_events(scope_of("auditor"), per_page=10_000)[0]}


# --- the page ------------------------------------------------------------------------------

def test_company_hr_sees_only_german_events(hr_de_client):
    body = hr_de_client.get("/audit", htmx=True).get_data(as_text=True)
    rows = rows_of(body)
    assert rows
    assert not re.search(r"[\u4e00-\u9fff]", "".join(rows))  # no Chinese unit or person
    assert "Example Commerce GmbH" in body


def test_unit_filter_outside_scope_shows_nothing(hr_de_client):
    response = hr_de_client.get(f"/audit?unit={unit_by_code('EXCN').id}", htmx=True)
    assert response.status_code == 422
    assert rows_of(response.get_data(as_text=True)) == []


def test_unit_filter_on_the_page(admin_client):
    body = admin_client.get(f"/audit?unit={unit_by_code('EXDE').id}", htmx=True).get_data(as_text=True)
    assert len(rows_of(body)) == min(50, AuditEvent.select().where(AuditEvent.unit_id.in_(subtree_ids("EXDE"))).count())
    assert not re.search(r"[\u4e00-\u9fff]", "".join(rows_of(body)))


def test_date_filter_uses_the_users_own_days(hr_de_client, dated_events):
    """23:30 UTC on 1 March is already 2 March in Hamburg, where hr.de works."""
    on_second = hr_de_client.get("/audit?date_from=2024-03-02&date_to=2024-03-02&action=test.", htmx=True)
    assert [re.search(r"dated-\w+", r).group(0) for r in rows_of(on_second.get_data(as_text=True))] == ["dated-late"]
    on_first = hr_de_client.get("/audit?date_from=2024-03-01&date_to=2024-03-01&action=test.", htmx=True)
    assert [re.search(r"dated-\w+", r).group(0) for r in rows_of(on_first.get_data(as_text=True))] == [
        "dated-before"]


def test_bad_dates_are_refused(hr_de_client):
    response = hr_de_client.get("/audit?date_from=yesterday")
    assert response.status_code == 422
    assert rows_of(response.get_data(as_text=True)) == []


def test_the_page_is_paginated_and_keeps_the_filters(app, hr_de_client):
    app.config["PAGE_SIZE"] = 4
    german = AuditEvent.select().where(AuditEvent.unit_id.in_(subtree_ids("EXDE"))).count()
    url, seen = f"/audit?unit={unit_by_code('EXDE').id}", 0
    while url:
        body = hr_de_client.get(url, htmx=True).get_data(as_text=True)
        rows = rows_of(body)
        seen += len(rows)
        link = re.search(r'<a href="([^"]+)"[^>]*>[^<]*Next', body)
        if link:
            assert len(rows) == 4
            url = link.group(1).replace("&amp;", "&")
            assert f"unit={unit_by_code('EXDE').id}" in url
        else:
            url = None
    assert seen == german > 4


def test_the_page_is_only_for_those_who_may_read_the_trail(agent_client, lead_client):
    assert agent_client.get("/audit").status_code == 403
    assert lead_client.get("/audit").status_code == 403


# --- CSV export ------------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("=1+2", "'=1+2"), ("+49 40 123", "'+49 40 123"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("Anna", "Anna"), ("a=b", "a=b"), ("", ""), (5, 5), (None, None),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


@pytest.fixture
def formula_units(db):
    department = unit_by_code("EXDE-OPS")
    names = ["=HYPERLINK(\"http://evil.example\")", "+SUM(A1:A9)", "-2+3", "@cmd"]
    for n, name in enumerate(names):
        make_unit(department, "team", name=name, code=f"F-{n}")
    return names


def read_csv(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # so Excel reads UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def test_auditor_exports_csv_with_formulas_neutralised(auditor_client, formula_units):
    response = auditor_client.get(f"/audit/export.csv?unit={unit_by_code('EXDE').id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    header, *rows = read_csv(response)
    assert header[:4] == ["Time (UTC)", "Actor", "Action", "Object"]
    assert len(rows) == AuditEvent.select().where(AuditEvent.unit_id.in_(subtree_ids("EXDE"))).count()
    objects = {row[3] for row in rows}
    units = {row[5] for row in rows}
    for name in formula_units:
        assert "'" + name in objects and name not in objects
        assert "'" + name in units
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_export_follows_the_scope(auditor_client, formula_units):
    auditor_rows = read_csv(auditor_client.get("/audit/export.csv"))[1:]
    assert len(auditor_rows) == AuditEvent.select().where(AuditEvent.unit_id.is_null(False)).count()


def test_export_needs_the_export_permission(hr_de_client):
    assert hr_de_client.get("/audit/export.csv").status_code == 403


# --- the chain check as a background job -------------------------------------------------------

def test_verify_job_shows_a_finished_progress_fragment(auditor_client):
    total = AuditEvent.select().count()
    response = auditor_client.post("/audit/verify", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body.lower()
    job = Job.select().order_by(Job.created_at.desc()).first()
    assert (job.kind, job.state, job.done, job.total) == ("audit.verify", "succeeded", total, total)
    assert f'id="job-{job.id}"' in body
    assert 'hx-trigger="every 1s"' not in body  # finished: no more polling
    assert f'<progress value="{total}" max="{total}"' in body
    assert f"The audit chain is intact: {total:,} events checked." in body


def test_verify_job_without_htmx_goes_to_the_job_page(auditor_client):
    response = auditor_client.post("/audit/verify")
    assert response.status_code == 302
    job = Job.select().order_by(Job.created_at.desc()).first()
    assert response.headers["Location"] == f"/jobs/{job.id}"
    page = auditor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page.lower() and "The audit chain is intact" in page


def test_verify_job_reports_a_broken_chain(auditor_client):
    victim = AuditEvent.select().order_by(AuditEvent.id).offset(10).first()
    database.execute_sql(f'UPDATE audit_event SET "after" = {database.param} WHERE id = {database.param}',
                         ('{"forged": true}', victim.id))
    body = auditor_client.post("/audit/verify", htmx=True).get_data(as_text=True)
    assert f"The chain is broken at event {victim.id}: 10 events before it are intact." in body


def test_verify_needs_the_csrf_token(auditor_client):
    jobs = Job.select().count()
    assert auditor_client.post("/audit/verify", csrf=False).status_code == 400
    assert Job.select().count() == jobs


def test_the_verify_job_is_filed_at_the_top_of_the_users_audit_scope(hr_de_client):
    hr_de_client.post("/audit/verify", htmx=True)
    job = Job.select().order_by(Job.created_at.desc()).first()
    assert job.unit_id == unit_by_code("EXDE").id
    assert job.created_by == User.get(User.username == "hr.de").id


def test_system_can_start_a_verification(db):
    from portal.audit.services import start_chain_verification
    from portal.core.permissions import Actor

    job = start_chain_verification(Actor.system())
    assert job.state == "succeeded" and job.unit_id == unit_by_code("EXG").id and job.created_by is None
