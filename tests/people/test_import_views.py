"""The import pages: upload → mapping → preview → background import, each URL as a
full page and as an htmx fragment; scope (404) and permissions (403)."""
import csv
import io
import re

import pytest

from factories import unit_by_code
from portal.jobs.models import Job
from portal.people.models import Employee, PeopleImport

GOOD = "工号,姓名,入职日期,手机\nCN7001,周杰,2024-02-01,13700000001\nCN7002,林静,2024-02-02,\n"
BAD = "工号,姓名,入职日期\nCN7101,周杰,2024-02-30\nCN7101,林静,2024-02-02\n"


def upload(client, content, company_code="EXCN", kind="employees", name="people.csv", htmx=False):
    data = {"company": str(unit_by_code(company_code).id), "kind": kind,
            "file": (io.BytesIO(content.encode("utf-8")), name)}
    return client.post("/people/imports", data, htmx=htmx, content_type="multipart/form-data")


def uploaded(client, content, **kwargs):
    response = upload(client, content, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)
    return PeopleImport.select().order_by(PeopleImport.created_at.desc()).first()


def mapping_data(people_import, **columns):
    mapping = {"number": "工号", "legal_name": "姓名", "hire_date": "入职日期", **columns}
    return {f"map-{field}": header for field, header in mapping.items()}


def test_the_upload_page_is_a_page_and_a_fragment(hr_cn_client):
    page = hr_cn_client.get("/people/imports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "Upload a file" in html and "Recent imports" in html
    fragment = hr_cn_client.get("/people/imports", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and 'hx-encoding="multipart/form-data"' in fragment


def test_the_whole_way_through_the_pages_with_htmx(hr_cn_client):
    response = upload(hr_cn_client, GOOD, htmx=True)
    people_import = PeopleImport.get()
    assert response.headers["HX-Redirect"] == f"/people/imports/{people_import.id}"
    mapping_page = hr_cn_client.get(f"/people/imports/{people_import.id}").get_data(as_text=True)
    assert "Which column holds what?" in mapping_page
    assert re.search(r'<option selected value="工号">', mapping_page)  # matched by the column's name
    preview = hr_cn_client.post(f"/people/imports/{people_import.id}/mapping",
                                mapping_data(people_import, phone="手机"), htmx=True)
    assert preview.status_code == 200
    assert preview.headers["HX-Push-Url"] == f"/people/imports/{people_import.id}"
    html = preview.get_data(as_text=True)
    assert "<html" not in html and "Every row is in order" in html and "Import now" in html
    done = hr_cn_client.post(f"/people/imports/{people_import.id}/run", htmx=True)
    assert done.status_code == 200
    assert "Imported." in done.get_data(as_text=True)  # the job ran at once (tests run jobs immediately)
    assert Employee.get(Employee.number == "CN7001").phone == "13700000001"
    assert PeopleImport.get_by_id(people_import.id).state == "imported"
    job = Job.get_by_id(PeopleImport.get_by_id(people_import.id).job_id)
    job_box = hr_cn_client.get(f"/jobs/{job.id}", htmx=True).get_data(as_text=True)
    assert f"/people/imports/{people_import.id}" in job_box and "New" in job_box


def test_the_whole_way_through_without_htmx(hr_cn_client):
    people_import = uploaded(hr_cn_client, GOOD)
    response = hr_cn_client.post(f"/people/imports/{people_import.id}/mapping", mapping_data(people_import))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/imports/{people_import.id}"
    assert "Import now" in hr_cn_client.get(response.headers["Location"]).get_data(as_text=True)
    response = hr_cn_client.post(f"/people/imports/{people_import.id}/run")
    assert response.status_code == 302
    page = hr_cn_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "Imported." in page
    assert Employee.select().where(Employee.number.in_(["CN7001", "CN7002"])).count() == 2


def test_the_preview_lists_every_bad_row_and_imports_nothing(hr_cn_client):
    people_import = uploaded(hr_cn_client, BAD)
    hr_cn_client.post(f"/people/imports/{people_import.id}/mapping", mapping_data(people_import))
    page = hr_cn_client.get(f"/people/imports/{people_import.id}").get_data(as_text=True)
    assert "Rows with errors" in page and "Import now" not in page
    assert "“2024-02-30” is not a date" in page and "“CN7101” is already in row 2 of this file." in page
    report = hr_cn_client.get(f"/people/imports/{people_import.id}/errors.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Row", "Column", "Reason"]
    assert [row[:2] for row in rows[1:]] == [["2", "入职日期"], ["3", "工号"]]
    refused = hr_cn_client.post(f"/people/imports/{people_import.id}/run", htmx=True)
    assert refused.status_code == 422 and "Only a checked file without errors" in refused.get_data(as_text=True)
    assert not Employee.select().where(Employee.number == "CN7101").exists()


def test_a_mapping_without_a_required_field_is_refused_next_to_it(hr_cn_client):
    people_import = uploaded(hr_cn_client, GOOD)
    data = mapping_data(people_import)
    data["map-hire_date"] = ""
    response = hr_cn_client.post(f"/people/imports/{people_import.id}/mapping", data, htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="map-hire_date-error"' in html and "Choose the column that holds this field." in html


def test_a_file_that_is_no_table_is_refused_on_the_upload_form(hr_cn_client):
    response = upload(hr_cn_client, "\x00\x01binary", name="x.csv", htmx=True)
    assert response.status_code == 422
    assert "Upload a CSV file or an Excel workbook" in response.get_data(as_text=True)
    assert not PeopleImport.select().exists()


def test_company_hr_cannot_import_into_or_read_another_companys_imports(hr_cn_client, hr_de_client):
    people_import = uploaded(hr_cn_client, GOOD)
    hr_cn_client.post(f"/people/imports/{people_import.id}/mapping", mapping_data(people_import))
    base = f"/people/imports/{people_import.id}"
    for url in (base, base + "/mapping", base + "/errors.csv", base + "?page=2"):
        assert hr_de_client.get(url).status_code == 404, url
    for url in (base + "/mapping", base + "/run"):
        assert hr_de_client.post(url, mapping_data(people_import)).status_code == 404, url
    assert PeopleImport.get_by_id(people_import.id).state == "validated"
    assert upload(hr_de_client, GOOD, company_code="EXCN").status_code == 404
    assert PeopleImport.select().count() == 1
    assert people_import.original_name not in hr_de_client.get("/people/imports").get_data(as_text=True)


def test_without_the_import_permission_the_pages_are_refused(agent_client, lead_client):
    for client in (agent_client, lead_client):
        assert client.get("/people/imports").status_code == 403
        assert upload(client, GOOD).status_code == 403


@pytest.mark.parametrize("htmx", [False, True])
def test_an_imported_file_shows_its_outcome_on_its_mapping_url(hr_cn_client, htmx):
    people_import = uploaded(hr_cn_client, GOOD)
    hr_cn_client.post(f"/people/imports/{people_import.id}/mapping", mapping_data(people_import))
    hr_cn_client.post(f"/people/imports/{people_import.id}/run")
    html = hr_cn_client.get(f"/people/imports/{people_import.id}/mapping", htmx=htmx).get_data(as_text=True)
    assert "Imported." in html and ("<html" in html) != htmx
