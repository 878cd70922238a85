"""Importing a small marketplace export in a real browser — upload (GBK), mapping,
check, background import, all in place through htmx — then, once attributed,
opening one imported conversation and reading why it was credited to its agent.

Run with `pytest -m e2e` (or `pytest tests/e2e`).
"""
import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from factories import unit_by_code
from portal.core.permissions import Actor
from portal.cs.attribution import compute_period
from portal.cs.models import CsAccount, CsConversation, CsSubAccount, CsSubAccountBinding
from portal.time.services import company_zone

pytestmark = pytest.mark.e2e

MARKER = "window.__fairshareE2E"


def _bound_sub_account(company, day):
    """A demo Tmall sub-account of `company` bound to one person on `day`: (account, sub-account, binding)."""
    binding = (CsSubAccountBinding.select(CsSubAccountBinding, CsSubAccount, CsAccount)
               .join(CsSubAccount).join(CsAccount)
               .where((CsAccount.company == company.id) & (CsSubAccountBinding.valid_from <= day)
                      & (CsSubAccountBinding.valid_to.is_null() | (CsSubAccountBinding.valid_to >= day)))
               .order_by(CsSubAccountBinding.id).first())
    assert binding is not None, "the demo binds sub-accounts"
    return binding.sub_account.account, binding.sub_account, binding


def test_import_an_export_and_open_the_evidence_of_a_conversation(page, login, tmp_path):
    excn = unit_by_code("EXCN")
    day = dt.datetime.now(company_zone(excn)).date() - dt.timedelta(days=1)
    account, sub, binding = _bound_sub_account(excn, day)
    export = ("会话ID,主账号,子账号,买家昵称,买家首次咨询时间,客服首次响应时间,会话结束时间,买家评价\n"
              f"E2E-1,{account.code},{sub.name},tb_buyer1,{day} 10:00:00,{day} 10:00:40,{day} 10:12:00,5\n"
              f"E2E-2,{account.code},{sub.name},tb_buyer2,{day} 10:30:00,{day} 10:31:00,{day} 10:40:00,很满意\n")
    path = tmp_path / "千牛导出.csv"
    path.write_bytes(export.encode("gbk"))  # as Chinese Excel saves CSV

    login(page, "hr.cn")
    page.goto("/cs/imports")
    page.select_option("#connector", "tmall_conversations")
    page.set_input_files("#import-upload input[type=file]", str(path))
    page.locator("#import-upload button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cs/imports/[0-9a-f]{32}$"))
    step = page.locator("#import-step")
    expect(step.locator("select[name='map-sub_account']")).to_have_value("子账号")  # the Tmall preset
    page.evaluate(f"{MARKER} = 'same page'")  # survives htmx swaps, dies with a page load

    step.locator("button[type=submit]", has_text="Check the file").click()
    expect(step.locator(".import-ready")).to_contain_text("Every row is in order")
    step.locator(".import-ready button[type=submit]").click()
    expect(step.locator(".flash-success")).to_contain_text("Imported.")
    expect(step.locator(".badge.import-imported")).to_be_visible()
    assert page.evaluate(MARKER) == "same page"

    conversation = CsConversation.get((CsConversation.account == account.id) & (CsConversation.session_id == "E2E-1"))
    compute_period(Actor.system(), excn, day, day)  # what the recompute does after an import
    page.goto(f"/cs/conversations/{conversation.id}")
    evidence = page.locator("section.card", has_text="Why was this credited?")
    expect(evidence).to_contain_text(binding.employee.display_name)
    expect(evidence).to_contain_text(f"Sub-account {sub.name} bound to this person")
    expect(evidence).to_contain_text("100 %")
