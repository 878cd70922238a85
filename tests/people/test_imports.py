"""Importing people, posts and assignments, through the services (no HTTP): reading
CSV/XLSX, the row-by-row report, all-or-nothing writes, idempotence, audit, scope."""
import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook

from factories import SYSTEM, unit_by_code
from portal.audit.models import AuditEvent
from portal.core import tabular
from portal.core.errors import NotInScope, ServiceError
from portal.people import imports
from portal.people.models import Assignment, Employee, ImportMapping, PeopleImport
from portal.people.services import read_sensitive
from portal.posts.models import Post

pytestmark = pytest.mark.usefixtures("db")

HEADER = "工号,姓名,入职日期,状态,手机,身份证号,银行卡号\n"
ROWS = ("CN9001,张伟,2024-03-01,在职,13800000001,310101199001011234,6222020200112233\n"
        "CN9002,李娜,2023/11/15,试用,13800000002,310101199202022345,\n"
        "cn9003,王芳,2022年7月1日,active,,,6222020200445566\n")


def upload(actor, company, content, kind="employees", name="people.csv", encoding="utf-8"):
    data = content if isinstance(content, bytes) else content.encode(encoding)
    return imports.upload_import(actor, company, kind, name, io.BytesIO(data))


def check(actor, people_import, mapping=None):
    """Map the columns (as suggested, unless given) and check the rows, as the pages do."""
    headers = imports.import_headers(people_import)
    people_import = imports.save_mapping(
        actor, people_import, mapping or imports.suggest_mapping(people_import.company, people_import.kind, headers))
    return imports.validate_import(actor, people_import)


def run(actor, people_import):
    """Start the import job (which runs at once in the tests)."""
    return imports.start_import(actor, PeopleImport.get_by_id(people_import.id))


def import_whole(actor, people_import, mapping=None):
    """Map, check and, without errors, import; returns the plan."""
    plan = check(actor, people_import, mapping)
    if not plan.errors:
        run(actor, people_import)
    return plan


def snapshot(model):
    return list(model.select().order_by(model.id).tuples())


def events(action=None):
    query = AuditEvent.select()
    return list(query.where(AuditEvent.action == action) if action else query)


# --- reading files --------------------------------------------------------------------------------

def test_a_gbk_csv_from_chinese_excel_is_read_and_its_headers_mapped(hr_cn, excn):
    people_import = upload(hr_cn, excn, HEADER + ROWS, encoding="gbk")
    headers = imports.import_headers(people_import)
    assert headers == ["工号", "姓名", "入职日期", "状态", "手机", "身份证号", "银行卡号"]
    assert imports.suggest_mapping(excn, "employees", headers) == {
        "number": "工号", "legal_name": "姓名", "hire_date": "入职日期", "status": "状态", "phone": "手机",
        "national_id": "身份证号", "bank_account": "银行卡号"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes((HEADER + ROWS).encode(encoding))
    table = imports.read_table(path)
    assert table.headers[0] == "工号"
    assert [cells[1] for _n, cells in table.rows] == ["张伟", "李娜", "王芳"]


def test_semicolon_separated_csv_and_blank_rows_keep_their_numbers(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("Personalnummer;Name\nDE1;Anna\n;\nDE2;Lukas\n", encoding="utf-8")
    table = imports.read_table(path)
    assert table.headers == ["Personalnummer", "Name"]
    assert [number for number, _cells in table.rows] == [2, 4]


def xlsx_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_workbook_is_read_with_its_dates_and_numbers(hr_cn, excn):
    data = xlsx_bytes([["Employee number", "Legal name", "Hire date", "Phone"],
                       ["CN9101", "赵敏", dt.datetime(2024, 5, 6), 13900000000]])
    people_import = upload(hr_cn, excn, data, name="people.xlsx")
    plan = import_whole(hr_cn, people_import)
    assert plan.errors == []
    employee = Employee.get(Employee.number == "CN9101")
    assert (employee.hire_date, employee.phone) == (dt.date(2024, 5, 6), "13900000000")


@pytest.mark.parametrize("data", [
    b"PK\x03\x04" + b"\x00" * 200,  # a zip header and nothing behind it
    b"",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,  # the old binary .xls
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,
])
def test_files_that_are_no_table_are_refused_cleanly(hr_cn, excn, data, app, tmp_path):
    with pytest.raises(ServiceError) as refused:
        upload(hr_cn, excn, data, name="people.xlsx")
    assert refused.value.field == "file"
    assert not PeopleImport.select().exists()
    assert not any((tmp_path / "uploads" / "imports").iterdir())  # the stored copy is removed again


def test_a_damaged_workbook_is_refused_cleanly(hr_cn, excn):
    good = xlsx_bytes([["Employee number", "Legal name", "Hire date"], ["CN1", "A", "2024-01-01"]])
    with pytest.raises(ServiceError, match="workbook"):
        upload(hr_cn, excn, good[: len(good) // 2], name="people.xlsx")
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ServiceError, match="zip"):
        upload(hr_cn, excn, buffer.getvalue(), name="people.xlsx")


def test_duplicate_column_names_are_refused(hr_cn, excn):
    with pytest.raises(ServiceError, match="姓名"):
        upload(hr_cn, excn, "工号,姓名,姓名\n1,a,b\n")


# --- the row-by-row report -------------------------------------------------------------------------

BAD_FILE = (
    "工号,姓名,入职日期,状态,公司,邮箱,离职日期\n"
    "CN9201,好人,2024-01-02,在职,EXCN,ok@example.com,\n"  # row 2: fine
    "CN9202,日期错,2024-13-40,在职,,,\n"  # row 3: bad date
    "CN9201,重复,2024-01-02,在职,,,\n"  # row 4: number already in row 2
    "CN9203,公司错,2024-01-02,在职,EXDE,,\n"  # row 5: another company
    "CN9204,状态错,2024-01-02,退休,,,\n"  # row 6: unknown status
    "CN9205,,2024-01-02,,,not-an-email,\n"  # row 7: no name, bad e-mail
    "CN9206,离职,2024-01-02,离职,,,2023-12-31\n"  # row 8: left before hired
)


def test_every_bad_row_is_reported_with_row_column_and_reason_and_nothing_is_written(hr_cn, excn):
    people_before = snapshot(Employee)
    people_import = upload(hr_cn, excn, BAD_FILE)
    plan = check(hr_cn, people_import)
    events_before = len(events())
    found = sorted((e.row, e.column, e.code) for e in plan.errors)
    assert found == [
        (3, "入职日期", "bad_date"), (4, "工号", "duplicate_in_file"), (5, "公司", "company_mismatch"),
        (6, "状态", "bad_status"), (7, "姓名", "required"), (7, "邮箱", "bad_email"),
        (8, "离职日期", "leaving_before_hire")]
    assert plan.counts() == {"rows": 7, "create": 1, "update": 0, "unchanged": 0, "errors": 7}
    duplicate = next(e for e in plan.errors if e.code == "duplicate_in_file")
    assert duplicate.message == "“CN9201” is already in row 2 of this file."
    stored = PeopleImport.get_by_id(people_import.id)
    assert (stored.state, stored.error_count) == ("validated", 7)
    assert [(e.row, e.code) for e in imports.import_errors(stored)] == [(e.row, e.code) for e in plan.errors]
    with pytest.raises(ServiceError):
        run(hr_cn, stored)
    assert snapshot(Employee) == people_before
    assert len(events()) == events_before


def test_a_number_of_another_companys_person_is_refused(hr_cn, hr_de, excn):
    import_whole(hr_cn, upload(hr_cn, excn, "工号,姓名,入职日期\nCN9301,甲,2024-01-01\n"))
    plan = import_whole(hr_de, upload(hr_de, unit_by_code("EXDE"),
                                      "Employee number,Legal name,Hire date\nCN9301,Fremd,2024-01-01\n"))
    assert [(e.row, e.code) for e in plan.errors] == [(2, "number_elsewhere")]


# --- writing ---------------------------------------------------------------------------------------

def test_import_creates_people_encrypted_and_audited_in_bulk(hr_cn, excn):
    people_import = upload(hr_cn, excn, HEADER + ROWS)
    plan = check(hr_cn, people_import)
    events_before = len(events())
    run(hr_cn, people_import)
    assert plan.counts() == {"rows": 3, "create": 3, "update": 0, "unchanged": 0, "errors": 0}
    zhang, li, wang = (Employee.get(Employee.number == n) for n in ("CN9001", "CN9002", "CN9003"))
    assert (wang.number, wang.hire_date, wang.status) == ("CN9003", dt.date(2022, 7, 1), "active")
    assert (li.status, zhang.company_id, zhang.unit_id) == ("probation", excn.id, excn.id)
    assert zhang.search_text == "cn9001 张伟"
    assert read_sensitive(zhang, "national_id") == "310101199001011234"
    assert read_sensitive(zhang, "bank_account") == "6222020200112233"
    assert "3101011990" not in zhang.national_id and zhang.national_id_index
    assert (li.bank_account, wang.national_id, wang.national_id_index) == (None, None, None)
    new_events = events()[events_before:]
    assert [e.action for e in new_events] == ["people.imported"]
    after = json.loads(new_events[0].after)
    assert after == {"kind": "employees", "sha256": people_import.sha256, "created": 3, "updated": 0,
                     "unchanged": 0}
    stored = PeopleImport.get_by_id(people_import.id)
    assert stored.state == "imported" and json.loads(stored.summary)["create"] == 3


def test_importing_the_same_file_again_changes_nothing_and_records_nothing(hr_cn, excn):
    import_whole(hr_cn, upload(hr_cn, excn, HEADER + ROWS))
    people, count = snapshot(Employee), len(events())
    plan = import_whole(hr_cn, upload(hr_cn, excn, HEADER + ROWS, encoding="gbk"))
    assert plan.counts() == {"rows": 3, "create": 0, "update": 0, "unchanged": 3, "errors": 0}
    assert snapshot(Employee) == people
    assert len(events()) == count


def test_a_changed_row_updates_that_person_and_is_audited_with_masked_values(hr_cn, excn):
    import_whole(hr_cn, upload(hr_cn, excn, HEADER + ROWS))
    zhang = Employee.get(Employee.number == "CN9001")
    others = [row for row in snapshot(Employee) if row[0] != zhang.id]
    count = len(events())
    changed = ROWS.replace("13800000001,310101199001011234", "13911112222,310101199001019999")
    plan = import_whole(hr_cn, upload(hr_cn, excn, HEADER + changed))
    assert plan.counts()["update"] == 1 and plan.counts()["unchanged"] == 2
    fresh = Employee.get_by_id(zhang.id)
    assert (fresh.phone, fresh.version) == ("13911112222", zhang.version + 1)
    assert read_sensitive(fresh, "national_id") == "310101199001019999"
    assert read_sensitive(fresh, "bank_account") == "6222020200112233"  # not in the change: left alone
    assert [row for row in snapshot(Employee) if row[0] != zhang.id] == others
    new_events = events()[count:]
    assert [e.action for e in new_events] == ["people.employee_updated", "people.imported"]
    updated = new_events[0]
    assert (updated.object_type, updated.object_id) == ("employee", str(zhang.id))
    assert json.loads(updated.before) == {"phone": "13800000001", "national_id": "***"}
    assert json.loads(updated.after) == {"phone": "13911112222", "national_id": "***"}
    assert "310101199001019999" not in updated.after + updated.before
    assert json.loads(new_events[1].after)["updated"] == 1


def test_empty_cells_leave_stored_values_alone(hr_cn, excn):
    import_whole(hr_cn, upload(hr_cn, excn, HEADER + ROWS))
    people = snapshot(Employee)
    blanks = "".join(",".join(line.split(",")[:3]) + ",,,,\n" for line in ROWS.splitlines())
    plan = import_whole(hr_cn, upload(hr_cn, excn, HEADER + blanks))
    assert plan.counts()["unchanged"] == 3
    assert snapshot(Employee) == people


def test_a_failure_at_row_n_leaves_the_database_unchanged(hr_cn, excn, monkeypatch):
    many = "工号,姓名,入职日期,身份证号\n" + "".join(
        f"CN8{n:03},人{n},2024-01-01,31010119900101{n:04}\n" for n in range(40))
    people_import = upload(hr_cn, excn, many)
    assert check(hr_cn, people_import).errors == []
    people, count = snapshot(Employee), len(events())
    monkeypatch.setattr(imports, "WRITE_CHUNK_ROWS", 10)
    real_insert = imports._insert_rows

    def fail_at_row_25(model, rows, on_progress):
        real_insert(model, rows[:24], on_progress)  # rows 2–25 of the file are written…
        raise RuntimeError("disk full at row 26")  # …then the writer dies

    monkeypatch.setattr(imports, "_insert_rows", fail_at_row_25)
    run(hr_cn, people_import)  # the job runs at once in the tests, and fails
    assert snapshot(Employee) == people
    assert len(events()) == count
    stored = PeopleImport.get_by_id(people_import.id)
    assert stored.state == "failed"
    from portal.jobs.models import Job

    assert Job.get_by_id(stored.job_id).state == "failed"


def test_import_is_checked_again_when_it_runs(hr_cn, excn):
    people_import = upload(hr_cn, excn, "工号,姓名,入职日期\nCN9401,甲,2024-01-01\n")
    imports.save_mapping(hr_cn, people_import, imports.suggest_mapping(excn, "employees", ["工号", "姓名", "入职日期"]))
    imports.validate_import(hr_cn, PeopleImport.get_by_id(people_import.id))
    # Meanwhile someone of another company takes the number.
    from portal.people.services import create_employee

    create_employee(SYSTEM, unit_by_code("EXDE"), {"number": "CN9401", "legal_name": "Schneller",
                                                    "hire_date": dt.date(2024, 1, 1)})
    job = imports.start_import(hr_cn, PeopleImport.get_by_id(people_import.id))
    from portal.jobs.models import Job

    assert Job.get_by_id(job.id).state == "failed"
    stored = PeopleImport.get_by_id(people_import.id)
    assert (stored.state, stored.error_count) == ("validated", 1)
    assert Employee.get(Employee.number == "CN9401").company_id == unit_by_code("EXDE").id


# --- mappings, scope -------------------------------------------------------------------------------

def test_the_mapping_is_remembered_per_company_and_kind(hr_cn, excn, admin_actor):
    odd = "ID,Full,Joined,Cell\nCN9501,甲,2024-01-01,139\n"
    mapping = {"number": "ID", "legal_name": "Full", "hire_date": "Joined", "phone": "Cell"}
    assert imports.suggest_mapping(excn, "employees", ["ID", "Full", "Joined", "Cell"]) == {}
    import_whole(hr_cn, upload(hr_cn, excn, odd), mapping)
    remembered = ImportMapping.get((ImportMapping.company == excn) & (ImportMapping.kind == "employees"))
    assert json.loads(remembered.mapping) == mapping
    assert imports.suggest_mapping(excn, "employees", ["ID", "Full", "Joined", "Cell"]) == mapping
    assert imports.suggest_mapping(unit_by_code("EXDE"), "employees", ["ID", "Full", "Joined", "Cell"]) == {}
    assert imports.suggest_mapping(excn, "posts", ["ID", "Full", "Joined", "Cell"]) == {}
    # Used again unchanged: no new audit event.
    count = len(events("people.import_mapping_saved"))
    import_whole(hr_cn, upload(hr_cn, excn, odd), mapping)
    assert len(events("people.import_mapping_saved")) == count


@pytest.fixture
def admin_actor(actor_of):
    return actor_of("admin")


def test_a_mapping_must_name_the_required_fields_once(hr_cn, excn):
    people_import = upload(hr_cn, excn, "工号,姓名,入职日期\nCN1,甲,2024-01-01\n")
    with pytest.raises(ServiceError) as missing:
        imports.save_mapping(hr_cn, people_import, {"number": "工号", "legal_name": "姓名"})
    assert missing.value.field == "hire_date"
    with pytest.raises(ServiceError) as twice:
        imports.save_mapping(hr_cn, people_import, {"number": "工号", "legal_name": "工号", "hire_date": "入职日期"})
    assert twice.value.field == "legal_name"


def test_company_hr_cannot_import_into_another_company(hr_de, excn):
    with pytest.raises(NotInScope):
        upload(hr_de, excn, HEADER + ROWS)
    with pytest.raises(NotInScope):
        imports.check_file(hr_de, excn, "employees", __file__)
    assert not PeopleImport.select().exists()


# --- posts and assignments ------------------------------------------------------------------------

POSTS = "岗位代码,岗位名称,岗位职责,编制,默认占比\nCS-JD,京东客服,接待买家咨询,12,100\nCS-VIP,唯品会客服,,8,60%\n"


def test_posts_are_imported_and_reimporting_changes_nothing(hr_cn, excn):
    plan = import_whole(hr_cn, upload(hr_cn, excn, POSTS, kind="posts"))
    assert plan.counts()["create"] == 2
    vip = Post.get((Post.company == excn) & (Post.code == "CS-VIP"))
    assert (vip.title, vip.headcount_plan, vip.capacity) == ("唯品会客服", 8, 60)
    posts, count = snapshot(Post), len(events())
    assert import_whole(hr_cn, upload(hr_cn, excn, POSTS, kind="posts")).counts()["unchanged"] == 2
    assert (snapshot(Post), len(events())) == (posts, count)


@pytest.fixture
def cn_people_and_posts(hr_cn, excn):
    import_whole(hr_cn, upload(hr_cn, excn, POSTS, kind="posts"))
    import_whole(hr_cn, upload(hr_cn, excn, "工号,姓名,入职日期\nCN9601,甲,2024-01-01\nCN9602,乙,2024-01-01\n"))


ASSIGNMENTS_HEADER = "工号,岗位代码,单位代码,占比,开始日期,结束日期,主岗\n"


def test_assignments_are_imported_and_the_home_unit_follows_the_primary_post(hr_cn, excn, cn_people_and_posts):
    content = ASSIGNMENTS_HEADER + ("CN9601,CS-JD,CN-JD-CS-A,60,2024-01-01,,是\n"
                                    "CN9601,CS-VIP,CN-VIP-CS-A,40,2024-01-01,,否\n"
                                    "CN9602,CS-JD,CN-JD-CS-B,,2024-01-01,,1\n")
    plan = import_whole(hr_cn, upload(hr_cn, excn, content, kind="assignments"))
    assert plan.errors == [] and plan.counts()["create"] == 3
    first = Employee.get(Employee.number == "CN9601")
    held = sorted((a.post.code, a.unit.code, a.share, a.is_primary) for a in first.assignments)
    assert held == [("CS-JD", "CN-JD-CS-A", 60, True), ("CS-VIP", "CN-VIP-CS-A", 40, False)]
    assert first.unit_id == unit_by_code("CN-JD-CS-A").id
    assert Employee.get(Employee.number == "CN9602").assignments[0].share == 100  # the post's capacity
    count = len(events())
    assert import_whole(hr_cn, upload(hr_cn, excn, content, kind="assignments")).counts()["unchanged"] == 3
    assert len(events()) == count
    changed = content.replace("CS-VIP,CN-VIP-CS-A,40,2024-01-01,,", "CS-VIP,CN-VIP-CS-A,40,2024-01-01,2024-12-31,")
    assert import_whole(hr_cn, upload(hr_cn, excn, changed, kind="assignments")).counts()["update"] == 1
    assert [e.action for e in events()[count:]] == ["people.assignments_imported", "people.imported"]


def test_bad_assignments_are_reported_and_nothing_is_written(hr_cn, excn, cn_people_and_posts):
    content = ASSIGNMENTS_HEADER + (
        "CN9601,CS-JD,CN-JD-CS-A,70,2024-01-01,,是\n"  # row 2: with row 3, 110% from 2024-06-01
        "CN9601,CS-VIP,CN-VIP-CS-A,40,2024-06-01,,否\n"  # row 3
        "CN9602,NO-SUCH,CN-JD-CS-A,50,2024-01-01,,否\n"  # row 4: unknown post
        "CN9602,CS-JD,EXDE-CS-CS1,50,2024-01-01,,否\n"  # row 5: a unit of another company
        "CN0000,CS-JD,CN-JD-CS-A,50,2024-01-01,,否\n"  # row 6: nobody has this number
        "CN9602,CS-JD,CN-JD-CS-B,50,2024-03-01,2024-02-01,否\n"  # row 7: ends before it starts
    )
    assignments, count = snapshot(Assignment), len(events())
    plan = import_whole(hr_cn, upload(hr_cn, excn, content, kind="assignments"))  # the mapping is remembered
    assert sorted((e.row, e.column, e.code) for e in plan.errors) == [
        (2, "占比", "capacity"), (3, "占比", "capacity"), (4, "岗位代码", "unknown_post"),
        (5, "单位代码", "unknown_unit"), (6, "工号", "unknown_employee"), (7, "结束日期", "end_before_start")]
    capacity = next(e for e in plan.errors if e.code == "capacity")
    assert "110" in capacity.message and "京东客服" in capacity.message and "唯品会客服" in capacity.message
    assert snapshot(Assignment) == assignments
    assert [e.action for e in events()[count:]] == ["people.import_mapping_saved"]


def test_two_primary_posts_at_once_are_refused(hr_cn, excn, cn_people_and_posts):
    content = ASSIGNMENTS_HEADER + ("CN9601,CS-JD,CN-JD-CS-A,50,2024-01-01,,是\n"
                                    "CN9601,CS-VIP,CN-VIP-CS-A,50,2024-01-01,,是\n")
    plan = import_whole(hr_cn, upload(hr_cn, excn, content, kind="assignments"))
    assert [(e.row, e.code) for e in plan.errors] == [(2, "primary"), (3, "primary")]


def test_an_employee_out_of_scope_is_unknown_to_the_importer(hr_de, cn_people_and_posts):
    exde = unit_by_code("EXDE")
    Post.create(company=exde, code="DE-CS", title="Kundenservice")
    content = ASSIGNMENTS_HEADER + "CN9601,DE-CS,EXDE-CS-CS1,20,2024-01-01,,否\n"
    plan = import_whole(hr_de, upload(hr_de, exde, content, kind="assignments"))
    assert [(e.row, e.code) for e in plan.errors] == [(2, "unknown_employee")]


def test_a_workbook_that_would_unpack_too_large_is_refused(hr_cn, excn, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_XLSX_UNPACKED_BYTES", 1000)  # the shared reader (portal.core.tabular)
    data = xlsx_bytes([["Employee number", "Legal name", "Hire date"]] + [[f"CN{n}", "x" * 50, "2024-01-01"]
                                                                           for n in range(100)])
    with pytest.raises(ServiceError, match="too large"):
        upload(hr_cn, excn, data, name="people.xlsx")
