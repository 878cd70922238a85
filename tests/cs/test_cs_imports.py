"""Importing marketplace logs (cs.imports): encodings and XLSX, every bad row with
its column and reason, idempotent re-imports, all or nothing (also when writing
fails half-way), sub-accounts created, attribution runs marked stale, the steps
through the background job, scope."""
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from portal.connectors import connector
from portal.core.errors import NotInScope, ServiceError
from portal.core.tabular import read_table
from portal.cs import imports
from portal.cs.models import (
    CsAttributionRun, CsConversation, CsImport, CsLoginSession, CsMessage, CsSubAccount,
)
from portal.time.services import company_zone

JD_CONVERSATIONS = ("会话ID,客服账号,客户账号,咨询时间,首次回复时间,会话结束时间,顾客消息数,客服消息数,是否解决,满意度评价\n"
                    "S-1,京东旗舰店:小王,pin1,2025-05-12 09:00:00,2025-05-12 09:00:30,2025-05-12 09:10:00,4,5,是,很满意\n"
                    "S-2,京东旗舰店:小李,pin2,2025/05/12 10:00,,2025/05/12 10:05,1,0,否,\n"
                    "S-3,京东旗舰店:小王,pin3,2025-05-13 20:00:00,2025-05-13 20:01:00,2025-05-13 20:30:00,2,2,,3\n")


def write(tmp_path, text, encoding="utf-8", name="export.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def plan_for(actor, company, path, code="jd_conversations", account=None, mapping=None):
    conn = connector(code)
    table = read_table(path)
    return imports.plan_table(actor, company, conn, table, mapping or imports.suggest_mapping(conn, table.headers),
                              account)


def conversations_of(account):
    return CsConversation.select().where(CsConversation.account == account.id)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_a_jd_export_imports_in_any_encoding_and_again_adds_nothing(tmp_path, hr_cn, excn, jd_account, encoding):
    path = write(tmp_path, JD_CONVERSATIONS, encoding)
    plan = plan_for(hr_cn, excn, path, account=jd_account)
    assert plan.errors == [] and plan.counts()["create"] == 3 and plan.counts()["sub_accounts"] == 2
    imports.apply_plan(hr_cn, plan, "sha")
    first = conversations_of(jd_account).where(CsConversation.session_id == "S-1").get()
    zone = company_zone(excn)
    local = dt.datetime(2025, 5, 12, 9, 0).replace(tzinfo=zone)
    assert first.started_at == local.astimezone(dt.timezone.utc).replace(tzinfo=None)
    assert (first.rating, first.resolved, first.customer_messages, first.agent_messages) == (5, True, 4, 5)
    assert first.sub_account.name == "京东旗舰店:小王" and first.sub_account.account_id == jd_account.id
    second = conversations_of(jd_account).where(CsConversation.session_id == "S-2").get()
    assert (second.first_reply_at, second.rating, second.resolved) == (None, None, False)
    assert CsSubAccount.select().where(CsSubAccount.account == jd_account.id).count() == 2
    again = plan_for(hr_cn, excn, path, account=jd_account)
    assert again.counts() == {"rows": 3, "create": 0, "existing": 3, "errors": 0, "sub_accounts": 0}
    imports.apply_plan(hr_cn, again, "sha")
    assert conversations_of(jd_account).count() == 3


def test_every_bad_row_is_reported_with_its_column_and_a_reason(tmp_path, hr_cn, excn, jd_account, other_account):
    text = ("会话ID,店铺账号,咨询时间,会话结束时间,满意度评价,顾客消息数\n"
            "S-1,JD-IMPORT,2025-05-12 09:00,2025-05-12 09:10,很满意,1\n"
            "S-2,NOPE,2025-05-12 09:00,2025-05-12 09:10,,1\n"
            "S-3,JD-IMPORT,yesterday,2025-05-12 09:10,,1\n"
            "S-4,JD-IMPORT,2025-05-12 09:00,2025-05-12 08:10,,1\n"
            "S-5,JD-IMPORT,2025-05-12 09:00,2025-05-12 09:10,超赞,1\n"
            "S-1,JD-IMPORT,2025-05-12 09:00,2025-05-12 09:10,,1\n"
            "S-7,HK-IMPORT,2025-05-12 09:00,2025-05-12 09:10,,1\n"
            ",JD-IMPORT,2025-05-12 09:00,2025-05-12 09:10,,x\n")
    plan = plan_for(hr_cn, excn, write(tmp_path, text, "gbk"))
    found = [(e.row, e.column, e.code) for e in plan.errors]
    assert found == [(3, "店铺账号", "cs_unknown_account"), (4, "咨询时间", "cs_bad_time"),
                     (5, "会话结束时间", "cs_end_before_start"), (6, "满意度评价", "cs_bad_rating"),
                     (7, "会话ID", "duplicate_in_file"), (8, "店铺账号", "cs_unknown_account"),
                     (9, "会话ID", "required"), (9, "顾客消息数", "cs_bad_count")]
    assert all(error.message and "%(" not in error.message for error in plan.errors)
    with pytest.raises(ServiceError):
        imports.apply_plan(hr_cn, plan, "sha")
    assert conversations_of(jd_account).count() == 0 and conversations_of(other_account).count() == 0


def test_a_file_without_an_account_column_needs_the_account_chosen(tmp_path, hr_cn, excn):
    plan = plan_for(hr_cn, excn, write(tmp_path, JD_CONVERSATIONS))
    assert {e.code for e in plan.errors} == {"cs_no_account"}


def test_an_account_of_another_company_cannot_be_chosen(tmp_path, hr_cn, excn, other_account):
    with pytest.raises(ServiceError):
        plan_for(hr_cn, excn, write(tmp_path, JD_CONVERSATIONS), account=other_account)


def test_a_failure_half_way_through_writing_leaves_nothing(tmp_path, hr_cn, excn, jd_account, monkeypatch):
    lines = ["会话ID,咨询时间,会话结束时间,客服账号"] + [
        f"S-{n},2025-05-12 09:00,2025-05-12 09:10,waiter-{n % 3}" for n in range(30)]
    plan = plan_for(hr_cn, excn, write(tmp_path, "\n".join(lines)), account=jd_account)
    run = CsAttributionRun.create(company=excn.id, period_start=dt.date(2025, 5, 1), period_end=dt.date(2025, 5, 31))
    monkeypatch.setattr(imports, "WRITE_CHUNK_ROWS", 5)
    written = []

    def failing_progress(count):
        written.append(count)
        if sum(written) >= 10:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        imports.apply_plan(hr_cn, plan, "sha", on_progress=failing_progress)
    assert conversations_of(jd_account).count() == 0
    assert CsSubAccount.select().where(CsSubAccount.account == jd_account.id).count() == 0
    assert not CsAttributionRun.get_by_id(run.id).stale


def test_an_import_marks_the_runs_over_its_dates_stale(tmp_path, hr_cn, excn, jd_account):
    may = CsAttributionRun.create(company=excn.id, period_start=dt.date(2025, 5, 1), period_end=dt.date(2025, 5, 31))
    april = CsAttributionRun.create(company=excn.id, period_start=dt.date(2025, 4, 1),
                                    period_end=dt.date(2025, 4, 30))
    counts = imports.apply_plan(hr_cn, plan_for(hr_cn, excn, write(tmp_path, JD_CONVERSATIONS), account=jd_account),
                                "sha")
    assert counts["stale_runs"] == 1
    assert CsAttributionRun.get_by_id(may.id).stale and not CsAttributionRun.get_by_id(april.id).stale


def test_jd_logins_and_messages_import_and_are_idempotent(tmp_path, hr_cn, excn, jd_account):
    imports.apply_plan(hr_cn, plan_for(hr_cn, excn, write(tmp_path, JD_CONVERSATIONS), account=jd_account), "sha")
    logins = ("子账号,登录时间,登出时间,IP,会话ID\n"
              "京东旗舰店:小王,2025-05-12 08:55:00,2025-05-12 18:00:00,10.0.0.7,L-1\n"
              "京东旗舰店:新人,2025-05-12 08:56:00,,10.0.0.8,L-2\n")
    path = write(tmp_path, logins, "gbk", "logins.csv")
    plan = plan_for(hr_cn, excn, path, "jd_logins", jd_account)
    assert plan.errors == [] and plan.counts()["sub_accounts"] == 1
    imports.apply_plan(hr_cn, plan, "sha")
    stored = CsLoginSession.get(CsLoginSession.session_id == "L-2")
    assert stored.logout_at is None and stored.address == "10.0.0.8" and stored.sub_account.name == "京东旗舰店:新人"
    assert plan_for(hr_cn, excn, path, "jd_logins", jd_account).counts()["existing"] == 2
    messages = ("会话编号,发送时间,发送方,客服工号\n"
                "S-1,2025-05-12 09:00:00,客户,\n"
                "S-1,2025-05-12 09:00:30,客服,京东旗舰店:小王\n"
                "S-9,2025-05-12 09:00:30,客服,\n")
    mpath = write(tmp_path, messages, name="messages.csv")
    plan = plan_for(hr_cn, excn, mpath, "vipshop_messages", jd_account)
    assert [(e.row, e.code) for e in plan.errors] == [(4, "cs_unknown_session")]
    fixed = write(tmp_path, messages.rsplit("S-9", 1)[0], name="messages2.csv")
    imports.apply_plan(hr_cn, plan_for(hr_cn, excn, fixed, "vipshop_messages", jd_account), "sha")
    assert CsMessage.select().join(CsConversation).where(CsConversation.account == jd_account.id).count() == 2
    assert plan_for(hr_cn, excn, fixed, "vipshop_messages", jd_account).counts()["existing"] == 2


def test_an_xlsx_export_with_date_time_cells_imports(tmp_path, hr_cn, excn, jd_account):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["会话ID", "咨询时间", "会话结束时间", "满意度评价", "是否解决"])
    sheet.append(["X-1", dt.datetime(2025, 5, 12, 9, 0), dt.datetime(2025, 5, 12, 9, 30), 4, "是"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    plan = plan_for(hr_cn, excn, path, account=jd_account)
    assert plan.errors == [] and plan.creates[0]["rating"] == 4


def test_a_malformed_workbook_is_refused_at_upload(hr_cn, excn):
    with pytest.raises(ServiceError) as refused:
        imports.upload_cs_import(hr_cn, excn, "jd_conversations", "export.xlsx",
                                 io.BytesIO(b"PK\x03\x04 not really a zip"))
    assert refused.value.field == "file"
    assert CsImport.select().count() == 0


def test_the_steps_through_the_background_job(hr_cn, excn, jd_account):
    upload = imports.upload_cs_import(hr_cn, excn, "jd_conversations", "咚咚.csv",
                                      io.BytesIO(JD_CONVERSATIONS.encode("gb18030")), account=jd_account)
    mapping = imports.current_mapping(upload)
    assert mapping["session_id"] == "会话ID" and mapping["sub_account"] == "客服账号"
    mapped = imports.save_cs_mapping(hr_cn, upload, mapping)
    imports.validate_cs_import(hr_cn, mapped)
    checked = CsImport.get_by_id(upload.id)
    assert checked.state == "validated" and imports.cs_import_summary(checked)["create"] == 3
    job = imports.start_cs_import(hr_cn, checked)
    from portal.jobs.models import Job
    assert Job.get_by_id(job.id).state == "succeeded"
    assert CsImport.get_by_id(upload.id).state == "imported"
    assert CsConversation.select().where(CsConversation.cs_import == upload.id).count() == 3


def test_hr_de_cannot_import_for_a_mainland_company(hr_de, excn):
    with pytest.raises(NotInScope):
        imports.upload_cs_import(hr_de, excn, "jd_conversations", "x.csv", io.BytesIO(JD_CONVERSATIONS.encode()))
