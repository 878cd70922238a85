"""Attendance pages: my attendance, the monthly sheet with its exports (CSV,
XLSX, PDF), with and without HX-Request, and scope."""
import datetime as dt
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from factories import make_attendance_shift, make_clock_event, make_team_member, make_unit, unit_by_code
from portal.audit.models import AuditEvent
from portal.time import services


@pytest.fixture
def cn_team(db):
    team = make_unit(unit_by_code("CN-JD"), name="考勤导出组")
    person = make_team_member(team, legal_name="欧阳娜娜")
    zone = services.company_zone(team)
    day = dt.date(2025, 6, 2)
    make_attendance_shift(person, day)
    make_clock_event(person, services.local_instant(zone, day, 9 * 60 + 20), "in")
    make_clock_event(person, services.local_instant(zone, day, 18 * 60), "out")
    make_attendance_shift(person, day + dt.timedelta(days=1))
    return team


def sheet_url(team, endpoint="", **args):
    query = "&".join(f"{k}={v}" for k, v in {"unit": team.id, "month": "2025-06", **args}.items())
    return f"/time/attendance{endpoint}?{query}"


def test_my_attendance_page_and_fragment(agent_client):
    full = agent_client.get("/time/attendance/mine")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    fragment = agent_client.get("/time/attendance/mine?month=2025-06", htmx=True)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="att-mine"' in body and "month=2025-05" in body
    assert agent_client.get("/time/attendance/mine?month=June").status_code == 404


def test_my_attendance_shows_my_days(client, db):
    from factories import make_clock_person

    employee, user = make_clock_person()
    make_attendance_shift(employee, dt.date(2025, 6, 2))
    client.login(user.username, "secret-pass-1")
    body = client.get("/time/attendance/mine?month=2025-06", htmx=True).get_data(as_text=True)
    assert "st-absent" in body


def test_sheet_full_page_and_fragment(hr_cn_client, cn_team):
    full = hr_cn_client.get(sheet_url(cn_team))
    body = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in body
    assert "欧阳娜娜" in body and 'class="st-late"' in body and 'class="st-absent"' in body
    fragment = hr_cn_client.get(sheet_url(cn_team), htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and "欧阳娜娜" in fragment and "export.pdf" in fragment


def test_sheet_out_of_scope_is_404(hr_de_client, cn_team):
    assert hr_de_client.get(sheet_url(cn_team)).status_code == 404
    for file_format in ("csv", "xlsx", "pdf"):
        assert hr_de_client.get(sheet_url(cn_team, f"/export.{file_format}")).status_code == 404


def test_agent_cannot_open_the_sheet(agent_client, cn_team):
    assert agent_client.get(sheet_url(cn_team)).status_code in (403, 404)


def test_csv_export_and_audit(hr_cn_client, cn_team):
    before = AuditEvent.select().where(AuditEvent.action == "time.attendance_exported").count()
    response = hr_cn_client.get(sheet_url(cn_team, "/export.csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 2
    row = lines[1].split(",")
    assert row[1] == "欧阳娜娜"
    assert row[2:5] == ["·", "L", "A"]  # Sunday 1 June rest, 2 June late, 3 June absent
    assert AuditEvent.select().where(AuditEvent.action == "time.attendance_exported").count() == before + 1


def test_xlsx_export(hr_cn_client, cn_team):
    response = hr_cn_client.http.get(sheet_url(cn_team, "/export.xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.values)
    assert rows[1][1] == "欧阳娜娜" and rows[1][3] == "L"
    header = list(rows[0])
    assert header[2:4] == ["1", "2"]
    scheduled, worked = rows[1][2 + 30:2 + 30 + 2]  # after the 30 days
    assert float(scheduled) == 18.0 and float(worked) == pytest.approx(8.67)  # 09:20–18:00


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_pdf_export_text(hr_cn_client, cn_team):
    response = hr_cn_client.http.get(sheet_url(cn_team, "/export.pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.get_data(), capture_output=True,
                          check=True).stdout.decode()
    assert "欧阳娜娜" in text
    assert "考勤导出组" in text
    assert "1 of 1" in text or "1 / 1" in text or "第 1 页" in text
    assert "赵静" in text  # who generated it


def test_export_of_an_unknown_format_is_404(hr_cn_client, cn_team):
    assert hr_cn_client.get(sheet_url(cn_team, "/export.doc")).status_code == 404
