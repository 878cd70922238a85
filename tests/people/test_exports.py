"""Exporting the employee list: the filtered list in scope, formulas neutralised in
CSV and XLSX, no sensitive columns, audited."""
import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from factories import SYSTEM, make_assignment, make_post, unit_by_code
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.core.permissions import Scope
from portal.people.models import Employee
from portal.people.permissions import employee_condition
from portal.people.services import create_employee

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)"]


def person(company_code, number, legal_name, **values):
    return create_employee(SYSTEM, unit_by_code(company_code), {
        "number": number, "legal_name": legal_name, "hire_date": dt.date(2024, 1, 2), **values})


@pytest.fixture
def people(db):
    created = [person("EXCN", f"CNX{i}", name) for i, name in enumerate(FORMULAS)]
    wang = person("EXCN", "CNX-ZH", "王小明", national_id="310101199001017777", bank_account="6222000011112222",
                  email="wang@example.cn", phone="138 0000 0000")
    make_assignment(wang, make_post("EXCN", code="CS-X", title="京东客服"), "CN-JD-CS-A", share=60, is_primary=True)
    return created + [wang, person("EXDE", "DEX1", "=cmd|' /C calc'!A0", email="x@example.de"),
                      person("EXDE", "DEX2", "Anna Schmidt")]


def read_csv(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="people-')
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def download(client, url):
    """A binary download, through the bare test client (the suite's Client reads pages as text)."""
    return client.http.get(url)


def read_xlsx(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=False).active
    return [[cell for cell in row] for row in sheet.iter_rows()]


def test_csv_export_neutralises_formulas_and_keeps_sensitive_values_out(hr_cn_client, people):
    rows = read_csv(hr_cn_client.get("/people/export.csv"))
    assert rows[0] == ["Employee number", "Legal name", "Preferred name", "Company", "Unit", "Posts", "Status",
                       "Hire date", "E-mail", "Phone"]
    names = {row[0]: row[1] for row in rows[1:]}
    assert [names[f"CNX{i}"] for i in range(len(FORMULAS))] == ["'" + value for value in FORMULAS]
    wang = next(row for row in rows if row[0] == "CNX-ZH")
    assert wang == ["CNX-ZH", "王小明", "", "示例电商（上海）有限公司", "京东客服A组", "京东客服 (60%)", "Active", "2024-01-02",
                    "wang@example.cn", "138 0000 0000"]
    text = "\n".join(",".join(row) for row in rows)
    assert "310101199001017777" not in text and "6222000011112222" not in text and "7777" not in text


def test_xlsx_export_holds_text_never_formulas(hr_de_client, people):
    rows = read_xlsx(download(hr_de_client, "/people/export.xlsx"))
    assert [cell.value for cell in rows[0]][:3] == ["Employee number", "Legal name", "Preferred name"]
    by_number = {row[0].value: row for row in rows[1:]}
    name = by_number["DEX1"][1]
    assert name.value == "'=cmd|' /C calc'!A0" and name.data_type == "s"
    assert all(cell.data_type != "f" for row in rows for cell in row)
    hire_date = by_number["DEX2"][7]
    assert hire_date.is_date and hire_date.value.date() == dt.date(2024, 1, 2)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_holds_only_people_in_scope(hr_de_client, people, file_format):
    response = download(hr_de_client, f"/people/export.{file_format}")
    rows = read_csv(response) if file_format == "csv" else [[c.value for c in row] for row in read_xlsx(response)]
    exported = {row[0] for row in rows[1:]}
    hr_de = Scope.for_user(User.get(User.username == "hr.de"))
    in_scope = {number for (number,) in Employee.select(Employee.number)
                .where(employee_condition(hr_de, "people.export")).tuples()}
    assert exported == in_scope
    assert {"DEX1", "DEX2"} <= exported and not any(number.startswith("CNX") for number in exported)


def test_an_export_is_the_filtered_list_and_is_audited(hr_cn_client, people):
    rows = read_csv(hr_cn_client.get("/people/export.csv?q=王小&status=active"))
    assert [row[0] for row in rows[1:]] == ["CNX-ZH"]
    listed = hr_cn_client.get("/people?q=王小&status=active", htmx=True).get_data(as_text=True)
    assert "CNX-ZH" in listed and "CNX0" not in listed
    event = AuditEvent.select().where(AuditEvent.action == "people.exported").order_by(AuditEvent.id.desc()).get()
    assert json.loads(event.after) == {"filters": {"q": "王小", "status": "active"}, "rows": 1, "format": "csv"}
    assert event.actor_name == "hr.cn" and event.unit_id == unit_by_code("EXCN").id


def test_an_export_of_a_unit_is_filed_under_it(hr_cn_client, people):
    team = unit_by_code("CN-JD-CS-A")
    rows = read_csv(hr_cn_client.get(f"/people/export.csv?unit={team.id}&q=cnx"))
    assert [row[0] for row in rows[1:]] == ["CNX-ZH"]
    event = AuditEvent.select().where(AuditEvent.action == "people.exported").order_by(AuditEvent.id.desc()).get()
    assert event.unit_id == team.id


def test_export_needs_the_export_permission(agent_client, lead_client, people):
    assert agent_client.get("/people/export.csv").status_code == 403
    assert download(lead_client, "/people/export.xlsx").status_code == 403


def test_an_unknown_format_is_not_found(hr_cn_client):
    assert hr_cn_client.get("/people/export.pdf").status_code == 404
    assert not AuditEvent.select().where(AuditEvent.action == "people.exported").exists()


def test_a_large_export_streams(hr_cn_client, people, monkeypatch):
    from portal.people import exports

    monkeypatch.setattr(exports, "POSTS_BATCH", 2)  # several batches of posts, as with 100,000 people
    response = download(hr_cn_client, "/people/export.csv")
    assert response.is_streamed
    numbers = [row[0] for row in read_csv(response)[1:]]
    assert len(numbers) == len(set(numbers)) == Employee.select().where(employee_condition(
        Scope.for_user(User.get(User.username == "hr.cn")), "people.export")).count()
    assert {person.number for person in people[:len(FORMULAS) + 1]} <= set(numbers)
