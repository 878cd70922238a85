"""The CS import pages: upload → map columns → check → import in the background, each
URL as a full page and as an htmx fragment; GBK exports, a broken workbook, the
error report, importing again, scope (404) and permission (403)."""
import csv
import io

import pytest

from factories import unit_by_code
from portal.cs.models import CsConversation, CsImport, CsSubAccount
from portal.jobs.models import Job

JD = ("会话ID,客服账号,客户账号,咨询时间,首次回复时间,会话结束时间,顾客消息数,客服消息数,是否解决,满意度评价\n"
      "V-1,京东旗舰店:小王,pin1,2025-05-12 09:00:00,2025-05-12 09:00:30,2025-05-12 09:10:00,4,5,是,很满意\n"
      "V-2,京东旗舰店:小李,pin2,2025/05/12 10:00,,2025/05/12 10:05,1,0,否,\n")
BAD = ("会话ID,咨询时间,会话结束时间,满意度评价\n"
       "B-1,2025-05-12 09:00,2025-05-12 09:10,很满意\n"
       "B-2,yesterday,2025-05-12 09:10,\n"
       "B-3,2025-05-12 09:00,2025-05-12 08:10,\n"
       "B-4,2025-05-12 09:00,2025-05-12 09:10,超赞\n")


def upload(client, content, account=None, connector="jd_conversations", name="咚咚.csv", encoding="utf-8",
           htmx=False, company="EXCN"):
    body = content if isinstance(content, bytes) else content.encode(encoding)
    data = {"company": str(unit_by_code(company).id), "connector": connector,
            "account": str(account.id if account else 0), "file": (io.BytesIO(body), name)}
    return client.post("/cs/imports", data, htmx=htmx, content_type="multipart/form-data")


def uploaded(client, content, account=None, **kwargs):
    response = upload(client, content, account, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)
    return CsImport.select().order_by(CsImport.created_at.desc()).first()


def mapping(**columns):
    chosen = {"session_id": "会话ID", "started_at": "咨询时间", "ended_at": "会话结束时间", **columns}
    return {f"map-{field}": column for field, column in chosen.items()}


def conversations_of(account):
    return CsConversation.select().where(CsConversation.account == account.id)


def test_the_imports_page_is_a_page_and_a_fragment(hr_cn_client):
    page = hr_cn_client.get("/cs/imports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "Import marketplace logs" in html and 'value="jd_conversations"' in html
    assert 'href="/cs/imports/tokens"' in html  # company HR may manage tokens
    fragment = hr_cn_client.get("/cs/imports", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and 'hx-encoding="multipart/form-data"' in fragment


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_the_whole_way_through_with_htmx(hr_cn_client, jd_account, encoding):
    response = upload(hr_cn_client, JD, jd_account, encoding=encoding, htmx=True)
    cs_import = CsImport.get()
    assert response.headers["HX-Redirect"] == f"/cs/imports/{cs_import.id}"
    page = hr_cn_client.get(f"/cs/imports/{cs_import.id}").get_data(as_text=True)
    assert "Which column holds what?" in page and '<option selected value="会话ID">' in page
    checked = hr_cn_client.post(f"/cs/imports/{cs_import.id}", mapping(sub_account="客服账号", rating="满意度评价"),
                                htmx=True)
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "<html" not in html
    assert "Every row is in order" in html and "Import now" in html
    done = hr_cn_client.post(f"/cs/imports/{cs_import.id}/run", htmx=True)
    assert done.status_code == 200 and "Imported." in done.get_data(as_text=True)
    assert conversations_of(jd_account).count() == 2
    stored = conversations_of(jd_account).where(CsConversation.session_id == "V-1").get()
    assert stored.rating == 5 and stored.sub_account.name == "京东旗舰店:小王"
    job = Job.get_by_id(CsImport.get_by_id(cs_import.id).job_id)
    box = hr_cn_client.get(f"/jobs/{job.id}", htmx=True).get_data(as_text=True)
    assert f"/cs/imports/{cs_import.id}" in box and "New sub-accounts" in box


def test_the_whole_way_through_without_htmx(hr_cn_client, jd_account):
    cs_import = uploaded(hr_cn_client, JD, jd_account)
    response = hr_cn_client.post(f"/cs/imports/{cs_import.id}", mapping())
    assert response.status_code == 302 and response.headers["Location"] == f"/cs/imports/{cs_import.id}"
    page = hr_cn_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "Import now" in page
    response = hr_cn_client.post(f"/cs/imports/{cs_import.id}/run")
    assert response.status_code == 302
    assert "Imported." in hr_cn_client.get(response.headers["Location"]).get_data(as_text=True)
    assert conversations_of(jd_account).count() == 2


def test_importing_the_same_file_again_adds_nothing(hr_cn_client, jd_account):
    for _round in range(2):
        cs_import = uploaded(hr_cn_client, JD, jd_account, encoding="gbk")
        hr_cn_client.post(f"/cs/imports/{cs_import.id}", mapping(sub_account="客服账号"))
        hr_cn_client.post(f"/cs/imports/{cs_import.id}/run")
    page = hr_cn_client.get(f"/cs/imports/{cs_import.id}").get_data(as_text=True)
    assert "Every record was already there: nothing was added." in page
    assert CsImport.get_by_id(cs_import.id).state == "imported"
    assert conversations_of(jd_account).count() == 2
    assert CsSubAccount.select().where(CsSubAccount.account == jd_account.id).count() == 2


def test_bad_rows_are_listed_translated_and_downloadable_and_nothing_is_imported(hr_cn_client, jd_account):
    cs_import = uploaded(hr_cn_client, BAD, jd_account)
    hr_cn_client.post(f"/cs/imports/{cs_import.id}", mapping(rating="满意度评价"))
    page = hr_cn_client.get(f"/cs/imports/{cs_import.id}").get_data(as_text=True)
    assert "Rows with errors" in page and "Import now" not in page
    assert "“yesterday” is not a date and time." in page and "The conversation ends before it starts." in page
    report = hr_cn_client.get(f"/cs/imports/{cs_import.id}/errors.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Row", "Column", "Reason"]
    assert [row[:2] for row in rows[1:]] == [["3", "咨询时间"], ["4", "会话结束时间"], ["5", "满意度评价"]]
    refused = hr_cn_client.post(f"/cs/imports/{cs_import.id}/run", htmx=True)
    assert refused.status_code == 422 and "Only a checked file without errors" in refused.get_data(as_text=True)
    assert conversations_of(jd_account).count() == 0


def test_the_error_report_reads_in_the_users_language(client_for, jd_account):
    client = client_for("hr.cn")
    cs_import = uploaded(client, BAD, jd_account)
    client.post(f"/cs/imports/{cs_import.id}", mapping())
    client.http.set_cookie("locale", "zh_CN")
    page = client.get(f"/cs/imports/{cs_import.id}").get_data(as_text=True)
    assert "yesterday" in page and "is not a date and time" not in page


def test_a_malformed_workbook_is_refused_on_the_upload_form(hr_cn_client, jd_account):
    response = upload(hr_cn_client, b"PK\x03\x04 not really a zip", jd_account, name="export.xlsx", htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'class="field-error"' in html
    assert not CsImport.select().exists()
    full = upload(hr_cn_client, b"PK\x03\x04 not really a zip", jd_account, name="export.xlsx")
    assert full.status_code == 422 and "<html" in full.get_data(as_text=True)


def test_a_mapping_without_a_required_field_is_refused_next_to_it(hr_cn_client, jd_account):
    cs_import = uploaded(hr_cn_client, JD, jd_account)
    data = mapping()
    data["map-ended_at"] = ""
    response = hr_cn_client.post(f"/cs/imports/{cs_import.id}", data, htmx=True)
    assert response.status_code == 422
    assert 'id="map-ended_at-error"' in response.get_data(as_text=True)


def test_an_account_of_another_company_cannot_be_chosen(hr_cn_client, other_account):
    response = upload(hr_cn_client, JD, other_account, htmx=True)
    assert response.status_code in (404, 422)
    assert not CsImport.select().exists()


def test_without_the_import_permission_the_pages_are_refused(lead_client, agent_client, hr_cn, jd_account):
    from portal.cs import imports

    cs_import = imports.upload_cs_import(hr_cn, jd_account.company, "jd_conversations", "x.csv",
                                         io.BytesIO(JD.encode()), account=jd_account)
    for client in (lead_client, agent_client):
        assert client.get("/cs/imports").status_code == 403
        assert upload(client, JD, jd_account).status_code == 403
        assert client.get(f"/cs/imports/{cs_import.id}").status_code == 403
        assert client.post(f"/cs/imports/{cs_import.id}/run").status_code == 403
    dashboard = lead_client.get("/cs/dashboards/team")
    assert dashboard.status_code == 200 and "/cs/imports" not in dashboard.get_data(as_text=True)


def test_company_hr_cannot_reach_another_companys_import(hr_cn_client, hr_de_client, jd_account):
    cs_import = uploaded(hr_cn_client, JD, jd_account)
    base = f"/cs/imports/{cs_import.id}"
    for url in (base, base + "/mapping", base + "/errors.csv"):
        assert hr_de_client.get(url).status_code == 404, url
    assert hr_de_client.post(base, mapping()).status_code == 404
    assert upload(hr_de_client, JD, jd_account).status_code == 404
    assert cs_import.original_name not in hr_de_client.get("/cs/imports").get_data(as_text=True)
