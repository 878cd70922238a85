"""`flask people import FILE --company CODE`: the same checks as the pages, the error
report on the terminal with exit status 1, and a progress bar otherwise."""
import json

import pytest

from factories import unit_by_code
from portal.audit.models import AuditEvent
from portal.people.models import Employee

GOOD = "工号,姓名,入职日期,身份证号\nCN6001,陈晨,2024-04-01,310101199505051111\nCN6002,高洋,2024-04-02,\n"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csv_file(tmp_path):
    def write(content, encoding="utf-8", name="people.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode(encoding))
        return str(path)

    return write


def test_a_good_file_is_imported_with_a_progress_bar(runner, csv_file):
    result = runner.invoke(args=["people", "import", csv_file(GOOD, "gbk"), "--company", "excn"])
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output
    assert "Imported 2 rows into EXCN: 2 new, 0 changed, 0 unchanged." in result.output
    assert Employee.get(Employee.number == "CN6001").company_id == unit_by_code("EXCN").id
    imported = AuditEvent.select().where(AuditEvent.action == "people.imported").get()
    assert imported.actor_name is None and json.loads(imported.after)["created"] == 2
    again = runner.invoke(args=["people", "import", csv_file(GOOD), "--company", "EXCN"])
    assert "0 new, 0 changed, 2 unchanged." in again.output


def test_errors_are_listed_by_row_and_column_and_nothing_is_written(runner, csv_file):
    bad = "工号,姓名,入职日期\nCN6101,甲,2024-04-31\nCN6102,,2024-04-01\nCN6103,丙,2024-04-01\n"
    result = runner.invoke(args=["people", "import", csv_file(bad), "--company", "EXCN"])
    assert result.exit_code == 1
    assert "row 2, column 入职日期: “2024-04-31” is not a date." in result.output
    assert "row 3, column 姓名: This value is required." in result.output
    assert "2 error(s) in 3 rows: nothing imported." in result.output
    assert not Employee.select().where(Employee.number.startswith("CN61")).exists()


def test_a_mapping_can_be_given_as_json(runner, csv_file):
    path = csv_file("ID;Who;Since\nCN6201;丁;2024-05-01\n")
    mapping = json.dumps({"number": "ID", "legal_name": "Who", "hire_date": "Since"})
    result = runner.invoke(args=["people", "import", path, "--company", "EXCN", "--mapping", mapping])
    assert result.exit_code == 0, result.output
    assert Employee.get(Employee.number == "CN6201").legal_name == "丁"


@pytest.mark.parametrize("args,message", [
    (["--company", "NOPE"], "No company has the code NOPE."),
    (["--company", "CN-JD"], "No company has the code CN-JD."),  # a store, not a company
    (["--company", "EXCN", "--mapping", "{oops"], "--mapping is not valid JSON."),
    (["--company", "EXCN", "--mapping", "[1]"], "--mapping must be a JSON object"),
    (["--company", "EXCN", "--kind", "posts"], "Choose the column that holds this field."),
])
def test_bad_arguments_are_refused(runner, csv_file, args, message):
    result = runner.invoke(args=["people", "import", csv_file(GOOD), *args])
    assert result.exit_code != 0
    assert message in result.output
