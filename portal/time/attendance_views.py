"""Attendance pages: my attendance (self-service), the monthly sheet of a unit
with its exports, the working calendar and the time rules of a company."""
import datetime as dt

from babel.dates import format_skeleton
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_datetime, format_time, get_locale, gettext as _, pgettext
from flask_login import current_user

from portal.core.db import utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.exports import csv_response, xlsx_response
from portal.core.forms import apply_service_error
from portal.core.htmx import render, wants_fragment
from portal.core.pdf import pdf_response
from portal.core.permissions import current_actor, current_scope, load_or_404, login_only, require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.time import attendance, services
from portal.time.forms import CalendarDayForm, TimePolicyForm
from portal.time.permissions import TIME_EXPORT, TIME_MANAGE, TIME_VIEW

blueprint = Blueprint("attendance", __name__, url_prefix="/attendance")


@blueprint.app_template_filter("hours")
def hours(minutes):
    """Minutes as hours and minutes ("7:30"): how timesheets are read."""
    sign = "-" if minutes < 0 else ""
    return f"{sign}{abs(minutes) // 60}:{abs(minutes) % 60:02d}"


@blueprint.app_template_filter("month_name")
def month_name(day):
    """"November 2026" / "2026年11月" in the reader's language."""
    return format_skeleton("yMMMM", day, locale=get_locale())


@blueprint.app_template_filter("clock_time")
def clock_time(instant):
    return format_time(instant, "short") if instant else ""


def parse_month(value, today):
    """(year, month) from "2026-11"; this month when absent; 404 when malformed."""
    if not value:
        return today.year, today.month
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m")
    except ValueError:
        abort(404)
    if not 2000 <= parsed.year <= 2100:
        abort(404)
    return parsed.year, parsed.month


def month_links(year, month):
    """(previous, next) months as "YYYY-MM"."""
    first = dt.date(year, month, 1)
    previous = first - dt.timedelta(days=1)
    following = first + dt.timedelta(days=32)
    return f"{previous:%Y-%m}", f"{following:%Y-%m}"


@blueprint.route("/mine")
@login_only
def mine():
    now = utcnow()
    employee = services.employee_of(current_user.account)
    zone = services.company_zone(employee.company) if employee else None
    today = services.local_day(zone, now) if zone else now.date()
    year, month = parse_month(request.args.get("month"), today)
    context = dict(employee=employee, year=year, month=month, month_value=f"{year:04d}-{month:02d}",
                   month_first=dt.date(year, month, 1), today=today)
    context["previous_month"], context["next_month"] = month_links(year, month)
    if employee is not None:
        sheet = attendance.person_month(employee, year, month, now)
        context.update(days=sheet.person_days(0), totals=sheet.totals[0], status_labels=attendance.STATUS_LABELS)
    return render("time/attendance_mine.html", "time/_attendance_mine.html", **context)


# --- the monthly sheet of a unit ------------------------------------------------------------

def _sheet_request(permission):
    """(unit, year, month, unit choices) from ?unit=…&month=…: the unit in scope
    (404 otherwise), the first unit in scope when none is asked for."""
    choices = unit_choices(current_scope(), permission)
    unit_id = request.args.get("unit", type=int) or (choices[0][0] if choices else None)
    if unit_id is None:
        abort(404)
    unit = load_or_404(OrgUnit, unit_id, permission)
    today = services.local_day(services.company_zone(unit), utcnow()) if unit.kind != "group" else utcnow().date()
    year, month = parse_month(request.args.get("month"), today)
    return unit, year, month, choices


def _sheet(unit, year, month):
    try:
        return attendance.unit_sheet(current_actor(), unit, year, month, utcnow())
    except NotInScope:
        abort(404)


def _day_header(unit, data):
    """The sheet's column heads: the unit's company calendar (the group has none:
    plain weekdays)."""
    if unit.kind == "group":
        return [services.CalendarInfo(day, day.isoweekday() < 6) for day in data.days]
    return services.working_calendar(unit, data.days[0], data.days[-1])


@blueprint.route("")
@require(TIME_VIEW)
def sheet():
    unit, year, month, choices = _sheet_request(TIME_VIEW)
    data = _sheet(unit, year, month)
    previous_month, next_month = month_links(year, month)
    header = _day_header(unit, data)
    return render("time/attendance_sheet.html", "time/_attendance_sheet.html",
                  unit=unit, year=year, month=month, month_value=f"{year:04d}-{month:02d}",
                  month_first=dt.date(year, month, 1), previous_month=previous_month, next_month=next_month,
                  unit_options=choices, data=data, header=header, can_export=current_scope().allows(TIME_EXPORT, unit),
                  status_labels=attendance.STATUS_LABELS, status_codes=attendance.STATUS_CODES,
                  status_names=attendance.STATUS_NAMES, total_columns=attendance.TOTAL_COLUMNS)


EXPORT_FORMATS = ("csv", "xlsx", "pdf")


@blueprint.route("/export.<file_format>")
@require(TIME_EXPORT)
def export(file_format):
    if file_format not in EXPORT_FORMATS:
        abort(404)
    unit, year, month, _choices = _sheet_request(TIME_EXPORT)
    data = _sheet(unit, year, month)
    attendance.record_export(current_actor(), unit, year, month, file_format, len(data.people))
    filename = f"attendance-{unit.code}-{year:04d}-{month:02d}.{file_format}"
    header = [_("Number"), pgettext("person", "Name"), *(str(day.day) for day in data.days), *attendance.TOTAL_COLUMNS]
    if file_format == "csv":
        return csv_response(filename, header, data.export_rows())
    if file_format == "xlsx":
        return xlsx_response(filename, header, data.export_rows(), sheet_title=f"{year:04d}-{month:02d}")
    generated_at = format_datetime(utcnow(), "medium")
    period = month_name(dt.date(year, month, 1))
    return pdf_response(
        filename, "pdf/attendance_sheet.html", landscape=True, unit=unit, period=period, data=data,
        header=_day_header(unit, data),
        rows=list(data.export_rows()), total_columns=attendance.TOTAL_COLUMNS, unit_totals=data.unit_totals,
        status_labels=attendance.STATUS_LABELS, status_codes=attendance.STATUS_CODES,
        generated_line=_("Generated by %(name)s on %(when)s", name=current_user.display_name, when=generated_at))


# --- the working calendar of a company -----------------------------------------------------

def _company(permission):
    """The company of ?company=… and the companies to choose from: for reading, the
    companies of every unit in scope (a team lead sees their company's calendar and
    rules); for changing them, the companies the permission is granted on."""
    if permission == TIME_VIEW:
        companies = attendance.companies_in_scope(current_scope(), permission)
        choices = [(company.id, company.name) for company in companies]
    else:
        choices = unit_choices(current_scope(), permission, kinds=("company",))
    company_id = request.values.get("company", type=int) or (choices[0][0] if choices else None)
    if company_id not in {choice_id for choice_id, _label in choices}:
        abort(404)
    company = OrgUnit.get_by_id(company_id)
    return company, choices


@blueprint.route("/calendar")
@require(TIME_VIEW)
def calendar():
    company, choices = _company(TIME_VIEW)
    year = request.args.get("year", type=int) or services.local_day(services.company_zone(company), utcnow()).year
    if not 2000 <= year <= 2100:
        abort(404)
    return _calendar_page(company, choices, year, CalendarDayForm())


def _calendar_page(company, choices, year, form, status=200):
    can_manage = current_scope().allows(TIME_MANAGE, company)
    return render("time/calendar.html", "time/_calendar.html", status=status, company=company, company_options=choices,
                  year=year, months=attendance.year_months(company, year), own_days=attendance.own_days(company, year),
                  week_days=[dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(7)],  # a Monday onwards
                  form=form, can_manage=can_manage)


@blueprint.route("/calendar/days", methods=["POST"])
@require(TIME_MANAGE)
def add_calendar_day():
    company, choices = _company(TIME_MANAGE)
    form = CalendarDayForm()
    if form.validate():
        try:
            row = attendance.add_calendar_day(current_actor(), company, form.day.data, form.kind.data, form.name.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            if not wants_fragment():
                flash(_("Calendar day saved."), "success")
                return redirect(url_for(".calendar", company=company.id, year=row.day.year))
            return _calendar_page(company, choices, row.day.year, CalendarDayForm(formdata=None))
    year = form.day.data.year if form.day.data else utcnow().year
    return _calendar_page(company, choices, year, form, status=422)


@blueprint.route("/calendar/days/<int:calendar_day_id>/delete", methods=["POST"])
@require(TIME_MANAGE)
def remove_calendar_day(calendar_day_id):
    row = load_or_404(attendance.CalendarDay, calendar_day_id, TIME_MANAGE)
    company = row.company
    attendance.remove_calendar_day(current_actor(), row)
    if not wants_fragment():
        flash(_("Calendar day removed."), "success")
        return redirect(url_for(".calendar", company=company.id, year=row.day.year))
    choices = [(c.id, c.name) for c in attendance.companies_in_scope(current_scope(), TIME_VIEW)]
    return _calendar_page(company, choices, row.day.year, CalendarDayForm(formdata=None))


# --- time rules -----------------------------------------------------------------------------------

@blueprint.route("/rules")
@require(TIME_VIEW)
def rules():
    company, choices = _company(TIME_VIEW)
    policy = services.time_policy(company)
    form = TimePolicyForm(obj=policy)
    form.weekend.data = sorted(services.weekend_days(policy))
    return _rules_page(company, choices, policy, form)


def _rules_page(company, choices, policy, form, status=200, saved_message=None):
    return render("time/rules.html", "time/_rules.html", status=status, company=company, company_options=choices,
                  form=form, policy=policy, can_manage=current_scope().allows(TIME_MANAGE, company),
                  saved_message=saved_message)


@blueprint.route("/rules", methods=["POST"])
@require(TIME_MANAGE)
def save_rules():
    company, choices = _company(TIME_MANAGE)
    form = TimePolicyForm()
    if form.validate():
        try:
            policy = attendance.update_time_policy(current_actor(), company, form.version.data, form.values())
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            if wants_fragment():
                saved = TimePolicyForm(formdata=None, obj=policy)
                saved.weekend.data = sorted(services.weekend_days(policy))
                return _rules_page(company, choices, policy, saved, saved_message=_("Time rules saved."))
            flash(_("Time rules saved."), "success")
            return redirect(url_for(".rules", company=company.id))
    return _rules_page(company, choices, services.time_policy(company), form, status=422)
