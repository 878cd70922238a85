"""The CS dashboard pages: full page and htmx fragment, scope, sorting, export, help, menu."""
import datetime as dt
from zoneinfo import ZoneInfo
import xml.etree.ElementTree as ET

import pytest

from dashboard_data import make_conversations, make_daily_metric, make_dashboard_account
from factories import make_team_member, unit_by_code
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.people.models import Employee

# A month the tests' demo (the last week before today) leaves empty.
DAY = dt.date(2026, 9, 3)
RANGE = "start=2026-09-01&end=2026-09-30"


@pytest.fixture
def data(db):
    team = unit_by_code("CN-JD-CS-A")
    account = make_dashboard_account("CN-JD", name="京东 <共享> 账号")
    first = make_team_member(team, "Zhao <b>Agent</b>")
    second = make_team_member(team, "Qian Agent")
    agent = Employee.get(Employee.user == User.get(User.username == "agent.jd1").id)
    make_daily_metric(first, account, DAY, conversations=10, workload=10.0, answered=10.0, first_response_seconds=900.0,
                      rated=2.0, rated_positive=2.0)
    make_daily_metric(second, account, DAY, conversations=4, workload=4.0, answered=4.0, first_response_seconds=40.0)
    make_daily_metric(agent, account, DAY, conversations=6, workload=5.5, answered=5.0, unanswered=0.5,
                      first_response_seconds=100.0)
    vip = make_team_member(unit_by_code("CN-VIP-CS-A"), "Vip Person")
    make_daily_metric(vip, make_dashboard_account("CN-VIP"), DAY, conversations=3, workload=3.0)
    make_conversations(account, [dt.datetime(2026, 9, 3, 2, 30)] * 3)
    return {"team": team, "account": account, "first": first, "second": second, "agent": agent, "vip": vip}


def _svgs(body):
    """Every inline SVG of a page, parsed."""
    parts = body.split('<svg xmlns="http://www.w3.org/2000/svg" class="chart"')[1:]
    return [ET.fromstring('<svg xmlns="http://www.w3.org/2000/svg"' + part.split("</svg>")[0] + "</svg>")
            for part in parts]


def test_team_page_full_and_fragment(lead_client, data):
    page = lead_client.get(f"/cs/dashboards/team?{RANGE}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<html" in body and 'id="cs-dashboard"' in body
    assert "Zhao &lt;b&gt;Agent&lt;/b&gt;" in body and "Vip Person" not in body
    assert "京东 &lt;共享&gt; 账号" in body
    assert len(_svgs(body)) == 2
    assert "heat-5" in body
    fragment = lead_client.get(f"/cs/dashboards/team?{RANGE}", htmx=True)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and "cs-table" in text
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_team_defaults_to_own_team_and_this_month(lead_client, data):
    body = lead_client.get("/cs/dashboards/team").get_data(as_text=True)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the company's zone
    assert f'name="start" value="{today.replace(day=1).isoformat()}"' in body
    assert f'name="end" value="{today.isoformat()}"' in body
    assert f'<option value="{data["team"].id}" selected' in body


def test_sorting_by_query_arg(lead_client, data):
    body = lead_client.get(f"/cs/dashboards/team?{RANGE}&sort=first_response_seconds&dir=asc",
                           htmx=True).get_data(as_text=True)
    people = body.split("<tbody>")[1]
    assert people.index("Qian Agent") < people.index("刘芳") < people.index("Zhao")
    body = lead_client.get(f"/cs/dashboards/team?{RANGE}&sort=workload&dir=desc", htmx=True).get_data(as_text=True)
    people = body.split("<tbody>")[1]
    assert people.index("Zhao") < people.index("刘芳") < people.index("Qian Agent")
    assert 'aria-sort="descending"' in body
    # an unknown sort key falls back to the default
    assert lead_client.get(f"/cs/dashboards/team?{RANGE}&sort=evil").status_code == 200


def test_lead_sees_only_own_team(lead_client, data):
    vip_team = unit_by_code("CN-VIP-CS-A")
    assert lead_client.get(f"/cs/dashboards/team?unit={vip_team.id}&{RANGE}").status_code == 404
    body = lead_client.get(f"/cs/dashboards/team?{RANGE}").get_data(as_text=True)
    assert f'<option value="{vip_team.id}"' not in body
    assert lead_client.get(f"/cs/dashboards/person/{data['first'].id}?{RANGE}").status_code == 200
    assert lead_client.get(f"/cs/dashboards/person/{data['vip'].id}?{RANGE}").status_code == 404


def test_hr_de_sees_nothing_of_the_mainland(hr_de_client, data):
    assert hr_de_client.get(f"/cs/dashboards/team?unit={data['team'].id}&{RANGE}").status_code == 404
    assert hr_de_client.get(f"/cs/dashboards/team?unit={unit_by_code('EXCN').id}").status_code == 404
    assert hr_de_client.get(f"/cs/dashboards/person/{data['first'].id}").status_code == 404
    body = hr_de_client.get(f"/cs/dashboards/team?{RANGE}").get_data(as_text=True)
    assert "Zhao" not in body and "京东" not in body


def test_agent_only_has_own_page(agent_client, data):
    assert agent_client.get("/cs/dashboards/team").status_code == 403
    assert agent_client.get(f"/cs/dashboards/person/{data['first'].id}").status_code == 403
    page = agent_client.get(f"/cs/dashboards/me?{RANGE}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "刘芳" in body
    assert "Zhao" not in body and "Qian" not in body  # the rank names no one else
    assert "#2 of 3" in body  # workload 5.5 between 10 and 4
    assert len(_svgs(body)) == 2
    fragment = agent_client.get(f"/cs/dashboards/me?{RANGE}", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and "cs-table" in fragment
    assert "Customer service</a>" not in agent_client.get("/").get_data(as_text=True)


def test_me_without_employee_record(admin_client, db):
    page = admin_client.get("/cs/dashboards/me")
    assert page.status_code == 200


def test_person_page_rows_per_day_and_account(hr_cn_client, data):
    page = hr_cn_client.get(f"/cs/dashboards/person/{data['first'].id}?{RANGE}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200, body[-3000:]
    assert "Per day" in body and "Per account" in body and "1:30" in body  # 900 s over 10 answered


def test_empty_range_shows_dashes_not_zeros(lead_client, data):
    body = lead_client.get("/cs/dashboards/team?start=2026-01-01&end=2026-01-31").get_data(as_text=True)
    assert "No figures for this unit" in body
    assert len(_svgs(body)) == 2


def test_malformed_dates_404(lead_client, data):
    assert lead_client.get("/cs/dashboards/team?start=yesterday").status_code == 404


def test_export_csv_and_xlsx_audited(lead_client, agent_client, data):
    response = lead_client.get(f"/cs/dashboards/team/export.csv?{RANGE}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "Zhao <b>Agent</b>" in text and "Total" in text
    assert lead_client.http.get(f"/cs/dashboards/team/export.xlsx?{RANGE}").status_code == 200
    assert lead_client.get(f"/cs/dashboards/team/export.pdf?{RANGE}").status_code == 404
    assert AuditEvent.select().where(AuditEvent.action == "cs.dashboard_exported").count() == 2
    assert agent_client.get(f"/cs/dashboards/team/export.csv?{RANGE}").status_code == 403


def test_help_page_defines_every_metric(agent_client, db):
    from portal.cs.metrics import METRICS

    body = agent_client.get("/cs/dashboards/help").get_data(as_text=True)
    for metric in METRICS:
        assert f'id="metric-{metric.key}"' in body
    assert 'id="why"' in body


def test_menu_entries(lead_client, agent_client, db):
    lead_page = lead_client.get("/cs/dashboards/team").get_data(as_text=True)
    assert 'href="/cs/dashboards/team" aria-current="page"' in lead_page or "Customer service" in lead_page
    agent_page = agent_client.get("/cs/dashboards/me").get_data(as_text=True)
    assert "My service" in agent_page


def test_figures_link_to_their_conversations(lead_client, data):
    body = lead_client.get(f"/cs/dashboards/team?{RANGE}").get_data(as_text=True)
    assert f"/cs/conversations?start=2026-09-01&amp;end=2026-09-30&amp;employee={data['first'].id}" in body
    assert f"account={data['account'].id}" in body and "unattributed=1" in body
