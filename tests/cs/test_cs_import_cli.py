"""`flask cs import FILE --company CODE --connector CODE`: the checks of the pages,
every bad row on the terminal (in the language asked for) with exit status 1 and
nothing written, a progress bar on stderr otherwise, and nothing added the second time."""
import pytest

from portal.audit.models import AuditEvent
from portal.cs.models import CsConversation, CsLoginSession

JD = ("会话ID,客服账号,咨询时间,首次回复时间,会话结束时间,满意度评价\n"
      "C-1,京东旗舰店:小王,2025-05-12 09:00:00,2025-05-12 09:00:30,2025-05-12 09:10:00,很满意\n"
      "C-2,京东旗舰店:小李,2025/05/12 10:00,,2025/05/12 10:05,\n")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def export(tmp_path):
    def write(content, encoding="utf-8", name="export.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode(encoding))
        return str(path)

    return write


def conversations_of(account):
    return CsConversation.select().where(CsConversation.account == account.id)


def cs_import(runner, path, *args):
    return runner.invoke(args=["cs", "import", path, "--company", "EXCN", *args])


def test_an_export_is_imported_with_a_progress_bar_and_again_adds_nothing(runner, export, jd_account):
    path = export(JD, "gbk")
    result = cs_import(runner, path, "--connector", "jd_conversations", "--account", "JD-IMPORT")
    assert result.exit_code == 0, result.output
    assert "Importing" in result.stderr and "Importing" not in result.stdout
    assert "Imported 2 rows of conversations into EXCN: 2 new, 0 already there, 2 new sub-account(s)." in result.stdout
    assert conversations_of(jd_account).count() == 2
    event = AuditEvent.get(AuditEvent.action == "cs.logs_imported")
    assert event.actor_name is None and event.object_label == "export.csv"
    again = cs_import(runner, path, "--connector", "jd_conversations", "--account", "JD-IMPORT")
    assert again.exit_code == 0, again.output
    assert "0 new, 2 already there, 0 new sub-account(s)." in again.stdout
    assert conversations_of(jd_account).count() == 2


def test_bad_rows_are_listed_and_nothing_is_written(runner, export, jd_account):
    bad = JD + "C-3,京东旗舰店:小王,yesterday,,2025-05-12 09:10:00,\nC-1,x,2025-05-12 09:00,,2025-05-12 09:01,超赞\n"
    result = cs_import(runner, export(bad), "--connector", "jd_conversations", "--account", "JD-IMPORT")
    assert result.exit_code == 1
    assert "row 4, column 咨询时间: “yesterday” is not a date and time." in result.stderr
    assert "row 5, column 满意度评价: “超赞” is not a rating" in result.stderr
    assert "2 error(s) in 4 rows: nothing imported." in result.stderr
    assert conversations_of(jd_account).count() == 0


def test_the_row_errors_come_in_the_language_asked_for(runner, export, jd_account):
    bad = "会话ID,咨询时间,会话结束时间\nC-9,yesterday,2025-05-12 09:10:00\n"
    english = cs_import(runner, export(bad), "--connector", "jd_conversations", "--account", "JD-IMPORT")
    chinese = cs_import(runner, export(bad), "--connector", "jd_conversations", "--account", "JD-IMPORT",
                        "--locale", "zh_CN")
    assert chinese.exit_code == 1 and "yesterday" in chinese.stderr
    assert "is not a date and time" in english.stderr and "is not a date and time" not in chinese.stderr


def test_a_mapping_names_the_columns(runner, export, jd_account):
    path = export("sid;acct;from;to;who\nM-1;JD-IMPORT;2025-05-12 08:00;2025-05-12 17:00;waiter-1\n")
    result = cs_import(runner, path, "--connector", "generic_logins", "--mapping", "session_id=sid",
                       "--mapping", "acct=account", "--mapping", '{"login_at": "from", "logout_at": "to"}',
                       "--mapping", "sub_account=who")
    assert result.exit_code == 0, result.output
    login = CsLoginSession.get(CsLoginSession.session_id == "M-1")
    assert login.account_id == jd_account.id and login.sub_account.name == "waiter-1"


def test_an_xlsx_that_is_no_workbook_is_refused(runner, tmp_path, jd_account):
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    result = cs_import(runner, str(path), "--connector", "jd_conversations", "--account", "JD-IMPORT")
    assert result.exit_code != 0 and "Error:" in result.output
    assert conversations_of(jd_account).count() == 0


@pytest.mark.parametrize("args,message", [
    (["--connector", "nope"], "No format has the code nope"),
    (["--connector", "jd_conversations", "--account", "NOPE"], "EXCN has no CS account with the code NOPE."),
    (["--connector", "jd_conversations", "--mapping", "colour=会话ID"], "has no field 'colour'"),
    (["--connector", "jd_conversations", "--mapping", "session_id"], "write it as FIELD=COLUMN"),
    (["--connector", "jd_conversations", "--mapping", "{oops"], "--mapping is not valid JSON."),
    (["--connector", "jd_conversations", "--mapping", "session_id=Nope"], "The file has no column “Nope”."),
    (["--connector", "jd_conversations", "--locale", "fr"], "--locale must be one of"),
])
def test_bad_arguments_are_refused(runner, export, jd_account, args, message):
    result = cs_import(runner, export(JD), *args)
    assert result.exit_code != 0
    assert message in result.output
    assert conversations_of(jd_account).count() == 0


def test_an_unknown_company_is_refused(runner, export):
    result = runner.invoke(args=["cs", "import", export(JD), "--company", "CN-JD", "--connector", "jd_conversations"])
    assert result.exit_code != 0 and "No company has the code CN-JD." in result.output
