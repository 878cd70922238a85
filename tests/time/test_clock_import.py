"""Importing attendance-device exports (time.clock_import): encodings and XLSX,
every bad row reported with its column and reason, idempotent re-imports, all or
nothing (also when writing fails half-way), the web steps with the background job,
and `flask time import-clock`."""
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from portal.core.errors import ServiceError
from portal.core.tabular import read_table
from portal.time import clock_import
from portal.time.models import ClockEvent, ClockImport
from portal.time.services import company_zone, local_instant
from factories import make_clock_person

DAY = dt.date(2025, 5, 12)


@pytest.fixture
def people(db):
    return [make_clock_person("CN-JD-CS-A")[0] for _ in range(2)]


def device_csv(people, header="工号,打卡时间,状态,设备", words=("签到", "签退")):
    first, second = people
    return (f"{header}\n"
            f"{first.number},2025-05-12 08:56:10,{words[0]},ZK-1\n"
            f"{first.number},2025-05-12 18:04,{words[1]},ZK-1\n"
            f"{second.number},2025/05/12 09:12,{words[0]},ZK-2\n")


def write(tmp_path, text, encoding="utf-8", name="export.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def plan_for(actor, company, path, mapping=None):
    table = read_table(path)
    return clock_import.plan_clock_import(actor, company, table, mapping or clock_import.suggest_clock_mapping(
        table.headers))


def events_of(people):
    return ClockEvent.select().where(ClockEvent.employee.in_([p.id for p in people])).count()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gbk"])
def test_a_device_export_imports_in_any_encoding_and_again_adds_nothing(tmp_path, people, hr_cn, excn, encoding):
    path = write(tmp_path, device_csv(people), encoding)
    plan = plan_for(hr_cn, excn, path)
    assert plan.errors == [] and plan.counts()["create"] == 3
    clock_import.apply_clock_plan(hr_cn, plan, "sha")
    first = ClockEvent.get((ClockEvent.employee == people[0].id) & (ClockEvent.kind == "in"))
    assert first.at == local_instant(company_zone(excn), DAY, 8 * 60 + 56) + dt.timedelta(seconds=10)
    assert (first.source, first.device) == ("device", "ZK-1")
    again = plan_for(hr_cn, excn, path)
    assert again.counts() == {"rows": 3, "create": 0, "existing": 3, "errors": 0}
    clock_import.apply_clock_plan(hr_cn, again, "sha")
    assert events_of(people) == 3


@pytest.mark.parametrize("words", [("in", "out"), ("上班", "下班"), ("I", "O"), ("Check-in", "Check-out")])
def test_directions_in_the_words_devices_use(tmp_path, people, hr_cn, excn, words):
    plan = plan_for(hr_cn, excn, write(tmp_path, device_csv(people, "Employee No,Timestamp,Direction,Device", words)))
    assert plan.errors == []
    assert [row["kind"] for row in plan.creates] == ["in", "out", "in"]


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path, people, hr_cn, excn):
    from factories import make_clock_person as person_of

    german = person_of("EXDE")[0]
    good = people[0].number
    text = ("工号,打卡时间,状态\n"
            f"{good},2025-05-12 08:56,签到\n"
            "NOBODY-1,2025-05-12 08:57,签到\n"
            f"{good},yesterday morning,签到\n"
            f"{good},2025-05-12 12:00,lunch\n"
            f"{good},2025-05-12 08:56,签到\n"
            f"{german.number},2025-05-12 09:00,签到\n"
            f",2025-05-12 09:00,签到\n")
    plan = plan_for(hr_cn, excn, write(tmp_path, text, "gbk"))
    found = [(e.row, e.column, e.code) for e in plan.errors]
    assert found == [(3, "工号", "unknown_employee"), (4, "打卡时间", "clock_bad_time"),
                     (5, "状态", "clock_bad_direction"), (6, "打卡时间", "clock_duplicate"),
                     (7, "工号", "clock_not_in_company"), (8, "工号", "required")]
    assert all(error.message for error in plan.errors)
    with pytest.raises(ServiceError):
        clock_import.apply_clock_plan(hr_cn, plan, "sha")
    assert events_of(people) == 0


def test_a_failure_half_way_through_writing_leaves_nothing(tmp_path, people, hr_cn, excn, monkeypatch):
    lines = ["工号,打卡时间,状态"] + [f"{people[0].number},2025-05-{day:02d} 09:00,签到" for day in range(1, 29)]
    plan = plan_for(hr_cn, excn, write(tmp_path, "\n".join(lines)))
    monkeypatch.setattr(clock_import, "WRITE_CHUNK_ROWS", 5)
    written = []

    def failing_progress(count):
        written.append(count)
        if sum(written) >= 10:  # two chunks are in the database when row 11's chunk fails
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        clock_import.apply_clock_plan(hr_cn, plan, "sha", on_progress=failing_progress)
    assert events_of(people) == 0


def test_an_xlsx_export_with_date_time_cells_imports(tmp_path, people, hr_cn, excn):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["AC-No.", "Check Time", "State"])
    sheet.append([people[0].number, dt.datetime(2025, 5, 12, 8, 59), "C/In"])
    sheet.append([people[0].number, dt.datetime(2025, 5, 12, 18, 1), "C/Out"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    plan = plan_for(hr_cn, excn, path)
    assert plan.errors == [] and plan.counts()["create"] == 2


def test_a_malformed_workbook_is_refused_at_upload(people, hr_cn, excn):
    with pytest.raises(ServiceError) as refused:
        clock_import.upload_clock_import(hr_cn, excn, "export.xlsx", io.BytesIO(b"PK\x03\x04 not really a zip"))
    assert refused.value.field == "file"
    assert ClockImport.select().count() == 0


def test_the_steps_through_the_background_job(people, hr_cn, excn):
    upload = clock_import.upload_clock_import(hr_cn, excn, "考勤.csv", io.BytesIO(device_csv(people).encode("gbk")))
    assert clock_import.current_mapping(upload) == {"number": "工号", "at": "打卡时间", "direction": "状态",
                                                    "device": "设备"}
    mapped = clock_import.save_clock_mapping(hr_cn, upload, clock_import.current_mapping(upload))
    clock_import.validate_clock_import(hr_cn, mapped)
    checked = ClockImport.get_by_id(upload.id)
    assert checked.state == "validated" and clock_import.clock_import_summary(checked)["create"] == 3
    job = clock_import.start_clock_import(hr_cn, checked)
    from portal.jobs.models import Job
    assert Job.get_by_id(job.id).state == "succeeded"
    assert ClockImport.get_by_id(upload.id).state == "imported"
    assert ClockEvent.select().where(ClockEvent.clock_import == upload.id).count() == 3


def test_hr_de_cannot_import_for_a_mainland_company(people, hr_de, excn):
    from portal.core.errors import NotInScope

    with pytest.raises(NotInScope):
        clock_import.upload_clock_import(hr_de, excn, "x.csv", io.BytesIO(device_csv(people).encode()))


# --- the command line --------------------------------------------------------------------------------

@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_the_cli_imports_with_a_progress_bar_and_adds_nothing_the_second_time(runner, tmp_path, people):
    path = str(write(tmp_path, device_csv(people), "gbk"))
    result = runner.invoke(args=["time", "import-clock", path, "--company", "excn"])
    assert result.exit_code == 0, result.output
    assert "3 new punches" in result.output and events_of(people) == 3
    again = runner.invoke(args=["time", "import-clock", path, "--company", "excn"])
    assert again.exit_code == 0 and "0 new punches, 3 already recorded" in again.output


def test_the_cli_lists_bad_rows_and_exits_1(runner, tmp_path, people):
    path = str(write(tmp_path, "工号,打卡时间,状态\nNOBODY,2025-05-12 08:00,签到\n"))
    result = runner.invoke(args=["time", "import-clock", path, "--company", "EXCN"])
    assert result.exit_code == 1
    assert "row 2, column 工号" in result.output and "nothing imported" in result.output
