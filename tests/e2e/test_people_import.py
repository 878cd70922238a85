"""Importing a small file in a real browser: upload, mapping, preview, background
import, and the people list showing the new people — htmx swaps, no full reloads
after the upload, no CSP or htmx errors.

Run with `pytest -m e2e` (or `pytest tests/e2e`).
"""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

GOOD = "工号,姓名,入职日期,手机\nCN4001,宋佳,2024-06-01,13600000001\nCN4002,韩磊,2024-06-02,\n"
BAD = "工号,姓名,入职日期\nCN4101,宋佳,2024-06-31\n"
MARKER = "window.__fairshareE2E"


def upload(page, tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content.encode("gbk"))  # as Chinese Excel saves CSV
    page.goto("/people/imports")
    page.set_input_files("#import-upload input[type=file]", str(path))
    page.locator("#import-upload button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/people/imports/[0-9a-f]{32}$"))


def test_import_a_small_file_and_find_the_people(page, login, tmp_path):
    login(page, "hr.cn")
    upload(page, tmp_path, GOOD, "新员工.csv")
    step = page.locator("#import-step")
    expect(step.locator("select[name='map-number']")).to_have_value("工号")  # matched by the column's name
    expect(step.locator("select[name='map-phone']")).to_have_value("手机")
    page.evaluate(f"{MARKER} = 'same page'")  # survives htmx swaps, dies with a page load

    step.locator("button[type=submit]", has_text="Check the file").click()
    expect(step.locator(".import-counts")).to_contain_text("To add")
    expect(step.locator(".import-ready")).to_contain_text("Every row is in order")
    step.locator(".import-ready button[type=submit]").click()
    expect(step.locator(".flash-success")).to_contain_text("Imported.")
    expect(step.locator(".badge.import-imported")).to_be_visible()
    assert page.evaluate(MARKER) == "same page"

    page.goto("/people")
    page.locator("input[name=q]").fill("CN400")
    expect(page.locator("#employee-rows")).to_contain_text("宋佳")
    expect(page.locator("#employee-rows")).to_contain_text("韩磊")


def test_a_bad_file_shows_its_rows_and_imports_nothing(page, login, tmp_path):
    login(page, "hr.cn")
    upload(page, tmp_path, BAD, "bad.csv")
    step = page.locator("#import-step")
    step.locator("button[type=submit]", has_text="Check the file").click()
    errors = step.locator("table.import-errors")
    expect(errors).to_contain_text("入职日期")
    expect(errors).to_contain_text("“2024-06-31” is not a date")
    expect(step.locator(".import-ready")).to_have_count(0)
    step.locator("a", has_text="Change the mapping").click()
    expect(step.locator("select[name='map-hire_date']")).to_have_value("入职日期")
