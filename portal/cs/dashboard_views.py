"""CS dashboards: the team view of a unit (people × metrics, per account, trend
charts, hour × weekday load), a person's view, the agent's own view and the help
page that defines every figure. Filters through htmx: one URL serves the page
and, for an HX-Request, the fragment under the page head."""
import datetime as dt
import math

from babel.dates import format_skeleton
from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import format_decimal, format_percent, get_locale, gettext as _, pgettext
from flask_login import current_user

from portal.core import svg
from portal.core.db import utcnow
from portal.core.errors import NotInScope
from portal.core.exports import csv_response, xlsx_response
from portal.core.htmx import render
from portal.core.permissions import current_actor, current_scope, load_or_404, login_only, require
from portal.cs import metrics
from portal.cs.permissions import CS_EXPORT, CS_VIEW
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.people.models import Employee
from portal.time.services import company_zone, employee_of, local_day

blueprint = Blueprint("dashboards", __name__, url_prefix="/dashboards")

# The conversations list (portal/cs/conversation_views.py) every figure drills down to.
CONVERSATIONS_ENDPOINT = "cs.conversations.conversations"
UNIT_KINDS = ("company", "store", "department", "team")
WEEKDAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(7)]  # a Monday onwards


def conversations_url(args):
    """The conversations behind a figure (query args account, employee, start,
    end, level, unattributed), or None while that list does not exist."""
    if CONVERSATIONS_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(CONVERSATIONS_ENDPOINT, **{k: v for k, v in args.items() if v is not None})


# --- formatting --------------------------------------------------------------------------------

def _clock(seconds, with_seconds=True):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if not with_seconds:
        return f"{hours}:{minutes:02d}"
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@blueprint.app_template_filter("cs_metric")
def format_metric(value, kind):
    """A figure as shown: "–" for no data; durations as m:ss (h:mm:ss from an hour),
    online time as h:mm, rates as percentages, shares with one decimal."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return "–"
    if kind == "rate":
        return format_percent(value, "#,##0.0%")
    if kind == "duration":
        return _clock(value)
    if kind == "hours":
        return _clock(value, with_seconds=False)
    if kind == "share":
        return format_decimal(value, "#,##0.0")
    return format_decimal(round(value), "#,##0")


def _short_day(day):
    return format_skeleton("MMMd", day, locale=get_locale())


def trend_charts(trend):
    """The daily workload (bars) and first response time (line, minutes) as SVG."""
    labels = [_short_day(day) for day in trend.days]
    empty = _("No figures in this period.")
    workload = svg.bar_chart(labels, trend.workload, title=_("Workload per day"), name=_("Workload"),
                             y_format=lambda v: format_decimal(v, "#,##0.#"), empty_text=empty)
    minutes = [None if math.isnan(v) else v / 60 for v in trend.first_response]
    frt = svg.line_chart(labels, [(_("First response"), minutes)], title=_("First response time per day (minutes)"),
                         y_format=lambda v: format_decimal(v, "#,##0.#"),
                         point_format=lambda v: _clock(v * 60), empty_text=empty)
    return workload, frt


# --- request parsing -------------------------------------------------------------------------------

def _date_arg(name):
    value = request.args.get(name)
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        abort(404)
    if not 2000 <= day.year <= 2100:
        abort(404)
    return day


def date_range(today):
    """(start, end) from ?start=…&end=… (ISO dates): this month so far by default;
    reversed bounds are swapped, and a range is at most MAX_RANGE_DAYS long."""
    default_start, default_end = metrics.default_range(today)
    start, end = _date_arg("start") or default_start, _date_arg("end") or default_end
    if end < start:
        start, end = end, start
    if (end - start).days >= metrics.MAX_RANGE_DAYS:
        start = end - dt.timedelta(days=metrics.MAX_RANGE_DAYS - 1)
    return start, end


def sort_args():
    sort = request.args.get("sort") or "workload"
    if sort not in metrics.SORT_KEYS:
        sort = "workload"
    descending = request.args.get("dir", "asc" if sort == "name" else "desc") != "asc"
    return sort, descending


def _today(unit):
    return local_day(company_zone(unit), utcnow()) if unit.kind != "group" else utcnow().date()


def _team_request(permission):
    """(unit, start, end, unit choices): ?unit=… in scope (404 otherwise); by default
    the user's own team when it is in scope, else the first unit in scope."""
    choices = unit_choices(current_scope(), permission, kinds=UNIT_KINDS)
    unit_id = request.args.get("unit", type=int)
    if unit_id is None:
        employee = employee_of(current_user.account)
        ids = {choice_id for choice_id, _label in choices}
        unit_id = employee.unit_id if employee is not None and employee.unit_id in ids else \
            (choices[0][0] if choices else None)
    if unit_id is None:
        abort(404)
    unit = load_or_404(OrgUnit, unit_id, permission)
    start, end = date_range(_today(unit))
    return unit, start, end, choices


def _team_dashboard(unit, start, end, heat=True):
    sort, descending = sort_args()
    try:
        return metrics.team_dashboard(current_actor(), unit, start, end, sort, descending, heat=heat)
    except NotInScope:
        abort(404)


# --- pages ----------------------------------------------------------------------------------------

@blueprint.route("/team")
@require(CS_VIEW)
def team():
    unit, start, end, choices = _team_request(CS_VIEW)
    dashboard = _team_dashboard(unit, start, end)
    workload_chart, frt_chart = trend_charts(dashboard.trend)
    base = {"unit": unit.id, "start": start.isoformat(), "end": end.isoformat()}
    return render("cs/dashboard_team.html", "cs/_dashboard_team.html", dashboard=dashboard, unit=unit,
                  unit_options=choices, start=start, end=end, base_args=base, metrics=metrics.METRICS,
                  workload_chart=workload_chart, frt_chart=frt_chart, weekdays=WEEKDAYS,
                  conversations_url=conversations_url, can_export=current_scope().allows(CS_EXPORT, unit))


EXPORT_FORMATS = ("csv", "xlsx")


def _export_header():
    units = {"duration": _("seconds"), "hours": _("seconds"), "rate": _("fraction")}
    return [_("Number"), pgettext("person", "Name"),
            *(f"{metric.label} ({units[metric.kind]})" if metric.kind in units else str(metric.label)
              for metric in metrics.METRICS)]


@blueprint.route("/team/export.<file_format>")
@require(CS_EXPORT)
def export(file_format):
    if file_format not in EXPORT_FORMATS:
        abort(404)
    unit, start, end, _choices = _team_request(CS_EXPORT)
    dashboard = _team_dashboard(unit, start, end, heat=False)
    metrics.record_export(current_actor(), unit, start, end, file_format, len(dashboard.people.rows))
    filename = f"cs-{unit.code}-{start.isoformat()}-{end.isoformat()}.{file_format}"
    rows = metrics.export_rows(dashboard)
    if file_format == "csv":
        return csv_response(filename, _export_header(), rows)
    return xlsx_response(filename, _export_header(), rows, sheet_title=f"{start.isoformat()}")


def _person_page(employee, own):
    today = _today(employee.company)
    start, end = date_range(today)
    dashboard = metrics.person_dashboard(current_actor(), employee, start, end, own=own)
    workload_chart, frt_chart = trend_charts(dashboard.trend)
    endpoint = "cs.dashboards.me" if own else "cs.dashboards.person"
    page_args = {} if own else {"employee_id": employee.id}
    return render("cs/dashboard_person.html", "cs/_dashboard_person.html", dashboard=dashboard, employee=employee,
                  own=own, start=start, end=end, endpoint=endpoint, page_args=page_args, metrics=metrics.METRICS,
                  definitions=metrics.METRIC_DEFINITIONS, ranked=metrics.RANKED,
                  workload_chart=workload_chart, frt_chart=frt_chart, conversations_url=conversations_url)


@blueprint.route("/person/<int:employee_id>")
@require(CS_VIEW)
def person(employee_id):
    employee = load_or_404(Employee, employee_id, CS_VIEW)
    return _person_page(employee, own=False)


@blueprint.route("/me")
@login_only
def me():
    employee = employee_of(current_user.account)
    if employee is None:
        return render("cs/dashboard_person.html", "cs/_dashboard_person.html", dashboard=None, employee=None,
                      own=True, endpoint="cs.dashboards.me", page_args={})
    return _person_page(employee, own=True)


@blueprint.route("/help")
@login_only
def help_page():
    return render("cs/dashboard_help.html", "cs/dashboard_help.html", metrics=metrics.METRICS,
                  levels=metrics.LEVEL_EXPLANATIONS, splits=metrics.SPLIT_EXPLANATIONS, m=int(metrics.SHRINK_M))
