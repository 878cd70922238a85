"""The working calendar page (public holidays, 调休, the company's own days) and
the time rules page (CIDR validation, optimistic version)."""
import datetime as dt

from portal.audit.models import AuditEvent
from portal.time.models import CalendarDay, TimePolicy


def test_calendar_shows_holidays_and_adjusted_days_in_the_ui_language(hr_cn_client, excn):
    hr_cn_client.http.set_cookie("locale", "zh_CN")
    page = hr_cn_client.get(f"/time/attendance/calendar?company={excn.id}&year=2026")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert "国庆节" in body and 'class="cal-adjusted' in body
    fragment = hr_cn_client.get(f"/time/attendance/calendar?company={excn.id}&year=2026", htmx=True)
    assert "<html" not in fragment.get_data(as_text=True) and "cal-month" in fragment.get_data(as_text=True)


def test_calendar_of_another_company_is_404(hr_de_client, excn):
    assert hr_de_client.get(f"/time/attendance/calendar?company={excn.id}&year=2026").status_code == 404


def test_add_and_remove_a_company_day(hr_cn_client, excn):
    url = f"/time/attendance/calendar/days?company={excn.id}"
    response = hr_cn_client.post(url, {"day": "2025-12-31", "kind": "holiday", "name": "年终盘点"}, htmx=True)
    assert response.status_code == 200 and "年终盘点" in response.get_data(as_text=True)
    row = CalendarDay.get((CalendarDay.company == excn.id) & (CalendarDay.day == dt.date(2025, 12, 31)))
    duplicate = hr_cn_client.post(url, {"day": "2025-12-31", "kind": "workday", "name": "x"}, htmx=True)
    assert duplicate.status_code == 422
    assert AuditEvent.select().where(AuditEvent.action == "time.calendar_day_added").exists()
    removed = hr_cn_client.post(f"/time/attendance/calendar/days/{row.id}/delete", htmx=True)
    assert removed.status_code == 200
    assert not CalendarDay.select().where(CalendarDay.id == row.id).exists()
    assert AuditEvent.select().where(AuditEvent.action == "time.calendar_day_removed").exists()


def test_hr_de_cannot_add_days_to_china(hr_de_client, excn):
    response = hr_de_client.post(f"/time/attendance/calendar/days?company={excn.id}",
                                 {"day": "2025-12-31", "kind": "holiday", "name": "x"}, htmx=True)
    assert response.status_code == 404
    assert not CalendarDay.select().where(CalendarDay.name == "x").exists()


def policy_form(**changes):
    values = {"min_rest_minutes": "660", "rounding_minutes": "15", "overtime_after_minutes": "30",
              "clock_window_minutes": "120", "allowed_networks": "10.0.0.0/8\n192.168.1.0/24", "weekend": ["6", "7"],
              "workday_minutes": "480", "version": ""}
    values.update(changes)
    return values


def test_rules_save_validate_and_version(hr_cn_client, excn):
    assert hr_cn_client.get(f"/time/attendance/rules?company={excn.id}").status_code == 200
    url = f"/time/attendance/rules?company={excn.id}"
    bad = hr_cn_client.post(url, policy_form(allowed_networks="10.0.0.0/8\nnot-a-network"))
    assert bad.status_code == 422 and "not-a-network" in bad.get_data(as_text=True)
    existing = TimePolicy.get_or_none(TimePolicy.company == excn.id)
    version = str(existing.version) if existing else ""
    saved = hr_cn_client.post(url, policy_form(version=version))
    assert saved.status_code == 302
    policy = TimePolicy.get(TimePolicy.company == excn.id)
    assert policy.rounding_minutes == 15 and policy.allowed_networks == "10.0.0.0/8\n192.168.1.0/24"
    stale = hr_cn_client.post(url, policy_form(version=version, rounding_minutes="5"))
    assert stale.status_code == 422
    assert TimePolicy.get(TimePolicy.company == excn.id).rounding_minutes == 15
    assert AuditEvent.select().where(AuditEvent.action == "time.policy_updated").exists()


def test_rules_of_another_company(hr_de_client, excn):
    assert hr_de_client.get(f"/time/attendance/rules?company={excn.id}").status_code == 404
    assert hr_de_client.post(f"/time/attendance/rules?company={excn.id}", policy_form()).status_code == 404


def test_a_team_lead_reads_the_calendar_and_rules_of_their_company(lead_client, excn):
    assert lead_client.get(f"/time/attendance/calendar?company={excn.id}&year=2026").status_code == 200
    rules = lead_client.get(f"/time/attendance/rules?company={excn.id}")
    assert rules.status_code == 200 and "Save rules" not in rules.get_data(as_text=True)
    assert lead_client.post(f"/time/attendance/rules?company={excn.id}", policy_form()).status_code == 403
