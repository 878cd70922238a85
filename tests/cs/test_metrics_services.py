"""The dashboards' figures: rates formed from sums, shrinkage, sorting, totals,
scope, the heat map and the SVG charts."""
import datetime as dt
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dashboard_data import make_conversations, make_daily_metric, make_dashboard_account
from factories import make_team_member
from portal.core import svg
from portal.core.errors import NotInScope
from portal.cs import metrics
from portal.people.models import Employee

DAY = dt.date(2026, 11, 3)
SUMS_A = dict(conversations=10, workload=8.0, answered=6.0, unanswered=2.0, first_response_seconds=600.0,
              handling_seconds=1200.0, resolved=4.0, resolution_known=5.0, reopened=1.0, rated=3.0,
              rated_positive=3.0, online_seconds=7200, peak_concurrency=3)
SUMS_B = dict(conversations=20, workload=20.0, answered=20.0, unanswered=0.0, first_response_seconds=4000.0,
              handling_seconds=4000.0, resolved=10.0, resolution_known=10.0, reopened=0.0, rated=100.0,
              rated_positive=50.0, online_seconds=3600, peak_concurrency=5)


@pytest.fixture
def team_data(jd_team):
    account = make_dashboard_account("CN-JD")
    a, b = make_team_member(jd_team, "Aa Agent"), make_team_member(jd_team, "Bb Agent")
    make_daily_metric(a, account, DAY, **SUMS_A)
    make_daily_metric(b, account, DAY, **SUMS_B)
    make_daily_metric(b, account, DAY + dt.timedelta(days=1), conversations=1, workload=1.0, unanswered=1.0,
                      peak_concurrency=1)
    return account, a, b


def _sums(**columns):
    return metrics.Sums({name: np.asarray(columns.get(name, [0.0]), np.float64) for name in metrics.FIELDS})


def test_rates_from_sums_nan_where_no_data():
    values = metrics.figures(_sums(workload=[2.0, 0.0], unanswered=[2.0, 0.0], answered=[0.0, 0.0]), 0.5)
    # everything unanswered: no first response time at all, not a zero
    assert math.isnan(values["first_response_seconds"][0])
    assert values["unanswered_rate"][0] == 1.0
    assert math.isnan(values["unanswered_rate"][1])
    assert math.isnan(values["resolution_rate"][0]) and math.isnan(values["satisfaction"][0])


def test_first_response_averages_over_answered_only():
    values = metrics.figures(_sums(workload=[8.0], answered=[6.0], unanswered=[2.0],
                                   first_response_seconds=[600.0]), 0.5)
    assert values["first_response_seconds"][0] == pytest.approx(100.0)


def test_shrunk_satisfaction_toward_team_rate():
    values = metrics.figures(_sums(rated=[3.0, 300.0, 0.0], rated_positive=[3.0, 300.0, 0.0]), 0.5)
    assert values["satisfaction"][0] == 1.0
    assert values["satisfaction_shrunk"][0] == pytest.approx((3 + 20 * 0.5) / (3 + 20))
    assert values["satisfaction_shrunk"][1] == pytest.approx((300 + 10) / 320)
    assert values["satisfaction_shrunk"][2] == pytest.approx(0.5)  # no ratings: the team's rate
    assert math.isnan(metrics.figures(_sums(rated=[0.0]), float("nan"))["satisfaction_shrunk"][0])


def test_team_dashboard_totals_are_sums(lead, jd_team, team_data):
    account, a, b = team_data
    board = metrics.team_dashboard(lead, jd_team, DAY, DAY + dt.timedelta(days=5))
    rows = {row.key: row for row in board.people.rows}
    assert set(rows) == {a.id, b.id}
    assert rows[b.id].values["workload"] == 21.0
    total = board.people.total.values
    assert total["workload"] == pytest.approx(sum(r.values["workload"] for r in board.people.rows))
    assert total["unanswered"] == pytest.approx(3.0)
    assert total["peak_concurrency"] == 5  # the largest, not a sum
    assert total["first_response_seconds"] == pytest.approx(4600 / 26)
    team_rate = 53 / 103
    assert board.team_rate == pytest.approx(team_rate)
    assert rows[a.id].values["satisfaction_shrunk"] == pytest.approx((3 + 20 * team_rate) / 23)
    assert [row.key for row in board.accounts.rows] == [account.id]
    assert board.accounts.rows[0].values["workload"] == pytest.approx(total["workload"])
    assert board.trend.workload[:2] == [28.0, 1.0]
    assert math.isnan(board.trend.first_response[1])  # answered nothing that day


def test_sorting_puts_missing_figures_last(lead, jd_team, team_data):
    _account, a, b = team_data
    c = make_team_member(jd_team, "Cc Agent")
    make_daily_metric(c, _account, DAY, conversations=1, workload=1.0, unanswered=1.0)
    for descending in (True, False):
        board = metrics.team_dashboard(lead, jd_team, DAY, DAY, "first_response_seconds", descending)
        keys = [row.key for row in board.people.rows]
        assert keys[-1] == c.id
        assert keys[:2] == ([b.id, a.id] if descending else [a.id, b.id])
    board = metrics.team_dashboard(lead, jd_team, DAY, DAY, "name", False)
    assert [row.label for row in board.people.rows] == ["Aa Agent", "Bb Agent", "Cc Agent"]


def test_scope_of_team_dashboard(hr_de, lead, jd_team, vip_team, team_data):
    with pytest.raises(NotInScope):
        metrics.team_dashboard(hr_de, jd_team, DAY, DAY)
    with pytest.raises(NotInScope):
        metrics.team_dashboard(lead, vip_team, DAY, DAY)


def test_rows_of_other_units_stay_out(lead, jd_team, vip_team, team_data):
    account, a, _b = team_data
    other = make_team_member(vip_team)
    make_daily_metric(other, account, DAY, conversations=5, workload=5.0)
    board = metrics.team_dashboard(lead, jd_team, DAY, DAY)
    assert other.id not in {row.key for row in board.people.rows}


def test_person_dashboard_and_rank(lead, jd_team, team_data):
    _account, a, b = team_data
    board = metrics.person_dashboard(lead, Employee.get_by_id(a.id), DAY, DAY + dt.timedelta(days=5))
    assert board.total.values["workload"] == 8.0
    assert board.ranks["workload"] == (2, 2)
    assert board.ranks["first_response_seconds"] == (1, 2)  # 100 s beats 200 s: lower is better
    assert [row.key for row in board.days] == [metrics._day_number(DAY)]


def test_heat_map_counts_local_hours(lead, jd_team, team_data):
    account, _a, _b = team_data
    # 02:30 UTC is 10:30 in Shanghai; 2026-11-03 is a Tuesday
    make_conversations(account, [dt.datetime(2026, 11, 3, 2, 30)] * 3 + [dt.datetime(2026, 11, 3, 15, 0)])
    board = metrics.team_dashboard(lead, jd_team, DAY, DAY)
    heat = board.heat[0]
    assert heat.counts[1][10] == 3
    assert heat.counts[1][23] == 1
    assert heat.total == 4 and heat.levels[1][10] == metrics.HEAT_LEVELS


def test_export_is_audited(lead, jd_team, team_data):
    from portal.audit.models import AuditEvent

    board = metrics.team_dashboard(lead, jd_team, DAY, DAY)
    metrics.record_export(lead, jd_team, DAY, DAY, "csv", len(board.people.rows))
    assert AuditEvent.select().where(AuditEvent.action == "cs.dashboard_exported").count() == 1
    rows = list(metrics.export_rows(board))
    assert len(rows) == 3 and rows[-1][2] == pytest.approx(28.0)


# --- SVG charts ---------------------------------------------------------------------------------

def test_svg_is_well_formed_and_escapes_labels():
    evil = '<script>alert("x")</script> & "quotes"'
    chart = svg.line_chart([evil, "b", "c"], [(evil, [1.0, None, float("nan")]), ("two", [2, 3, 4])],
                           title=evil, y_format=lambda v: f"{v:g}")
    root = ET.fromstring(str(chart))
    assert root.tag.endswith("svg")
    assert "<script" not in str(chart) and "style=" not in str(chart)
    assert root.find("{http://www.w3.org/2000/svg}title").text == evil
    bars = svg.bar_chart([evil, "x"], [None, 5], title="t", name=evil)
    ET.fromstring(str(bars))


def test_svg_empty_chart():
    chart = svg.bar_chart(["a"], [float("nan")], title="t", empty_text="No data <here>")
    assert "No data &lt;here&gt;" in str(chart)
    ET.fromstring(str(chart))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=40))
def test_svg_any_values_parse(values):
    labels = [str(n) for n in range(len(values))]
    ET.fromstring(str(svg.line_chart(labels, [("s", values)], title="t")))
    ET.fromstring(str(svg.bar_chart(labels, values, title="t")))


@given(st.floats(-1e9, 1e9), st.floats(0, 1e9))
def test_nice_ticks_cover_range(low, span):
    ticks = svg.nice_ticks(low, low + span)
    assert ticks[0] <= low + 1e-6 and ticks[-1] >= low + span - 1e-6 * max(1, abs(low + span))
