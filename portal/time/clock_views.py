"""Clock pages under /time/clock: "My time" (the phone hub with the big button),
the clock events of a unit or person for HR and leads, and the import of
attendance-device exports (upload → map columns → check → import in the background)."""
import datetime as dt

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_time, gettext as _

from portal.core.db import utcnow
from portal.core.errors import ServiceError
from portal.core.forms import apply_service_error, parse_page
from portal.core.htmx import redirect_after_change, render, wants_fragment
from portal.core.import_pages import (
    INVALID, check_step, errors_csv, mapping_form, review_context, run_step, uploaded_file,
)
from portal.core.permissions import current_actor, current_scope, load_or_404, login_only, require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.time import clock, clock_import
from portal.time.forms import ClockUploadForm, PunchForm
from portal.time.models import ClockImport
from portal.time.permissions import TIME_IMPORT, TIME_VIEW
from portal.time.services import company_zone, employee_of, to_local

blueprint = Blueprint("clock", __name__, url_prefix="/clock")


@blueprint.app_template_filter("punch_time")
def punch_time(instant, zone, format="short"):
    """A naive-UTC instant as the wall time of `zone` (the company's), not the reader's."""
    return format_time(to_local(zone, instant), format, rebase=False)


# --- My time -------------------------------------------------------------------------------------

def _card_context(employee, notice=None, error=None, state=None):
    state = state or clock.clock_state(employee)
    return {"employee": employee, "state": state, "zone": state.zone, "events": clock.todays_events(employee),
            "form": PunchForm(kind=state.next_kind), "notice": notice, "error": error}


def _card(status=200, **context):
    return render("time/me.html", "time/_me_card.html", status=status, **context)


@blueprint.route("/me")
@login_only
def me():
    employee = employee_of(current_actor().user)
    return _card(**(_card_context(employee) if employee is not None else {"employee": None}))


def _refused(message):
    """The card again with why the punch was refused (a redirect with the message without JS)."""
    if not wants_fragment():
        flash(message, "error")
        return redirect(url_for("time.clock.me"))
    employee = employee_of(current_actor().user)
    if employee is None:
        abort(404)
    return _card(INVALID, **_card_context(employee, error=message))


@blueprint.route("/punch", methods=["POST"])
@login_only
def punch():
    if not PunchForm().validate_on_submit():
        return _refused(_("The form expired. Reload the page and try again."))
    actor = current_actor()
    try:
        state = clock.punch(actor, request.form.get("kind") or None, request.remote_addr or "")
    except ServiceError as error:
        if employee_of(actor.user) is None:
            abort(404)
        return _refused(str(error.message))
    at = punch_time(state.last.at, state.zone)
    notice = _("Clocked in at %(time)s.", time=at) if state.last.kind == "in" else _("Clocked out at %(time)s.",
                                                                                      time=at)
    if not wants_fragment():
        flash(notice, "success")
        return redirect(url_for("time.clock.me"))
    return _card(**_card_context(state.employee, notice=notice, state=state))


# --- clock events for HR and leads ---------------------------------------------------------------

def _parse_day(raw, zone):
    try:
        return dt.date.fromisoformat(raw) if raw else to_local(zone, utcnow()).date()
    except ValueError:
        return to_local(zone, utcnow()).date()


@blueprint.route("/events")
@require(TIME_VIEW)
def events():
    actor = current_actor()
    choices = unit_choices(current_scope(), TIME_VIEW)
    employee = unit = None
    if request.args.get("employee"):
        try:
            employee = clock.employee_in_scope(actor, int(request.args["employee"]))
        except ValueError:
            abort(404)
        zone = company_zone(employee.company)
    else:
        unit_id = request.args.get("unit", type=int) or (choices[0][0] if choices else None)
        if unit_id is None:
            abort(404)
        unit = load_or_404(OrgUnit, unit_id, TIME_VIEW)
        zone = company_zone(unit)
    day = _parse_day(request.args.get("date"), zone)
    page = parse_page(request.args)
    rows, has_next = clock.clock_events(actor, unit=unit, day=day, employee=employee, page=page)
    args = {"date": day.isoformat(), **({"employee": employee.id} if employee else {"unit": unit.id})}
    return render("time/clock_events.html", "time/_clock_events.html", rows=rows, has_next=has_next, page=page,
                  day=day, unit=unit, employee=employee, zone=zone, choices=choices, args=args,
                  previous_args={**args, "date": (day - dt.timedelta(days=1)).isoformat()},
                  next_args={**args, "date": (day + dt.timedelta(days=1)).isoformat()},
                  source_labels=clock.SOURCE_LABELS, kind_labels=clock.EVENT_LABELS)


# --- device-export imports -------------------------------------------------------------------------

def _upload_form(formdata=None):
    form = ClockUploadForm(formdata=formdata)
    form.company.choices = clock_import.importable_companies(current_scope())
    return form


def _mapping_form(clock_imp, formdata=None):
    return mapping_form(clock_import.clock_import_headers(clock_imp), clock_import.FIELDS,
                        clock_import.current_mapping(clock_imp), formdata)


def _step_context(clock_imp, form=None):
    state = clock_imp.state
    context = {"clock_import": clock_imp, "summary": clock_import.clock_import_summary(clock_imp),
               "state_label": clock_import.STATE_LABELS[state], "company": clock_imp.company,
               "fields": clock_import.FIELDS}
    if form is not None or state in ("uploaded", "mapped", "failed"):
        context["form"] = form or _mapping_form(clock_imp)
    return {**context, **review_context(clock_imp, form)}


def _render_step(clock_imp, form=None, status=200, notice=None):
    return render("time/clock_import.html", "time/_clock_import_step.html", status=status, notice=notice,
                  **_step_context(clock_imp, form))


@blueprint.route("/imports", methods=["GET", "POST"])
@require(TIME_IMPORT)
def imports():
    posted = request.method == "POST"
    form = _upload_form(request.form if posted else None)
    company = load_or_404(OrgUnit, form.company.data, TIME_IMPORT) if posted and form.company.data else None
    if posted and form.validate_on_submit():
        try:
            upload = uploaded_file()
            clock_imp = clock_import.upload_clock_import(current_actor(), company, upload.filename, upload.stream)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect_after_change(url_for("time.clock.import_page", clock_import_id=clock_imp.id))
    return render("time/clock_imports.html", "time/_clock_import_upload.html", status=INVALID if posted else 200,
                  form=form, recent=clock_import.recent_clock_imports(current_actor()),
                  state_labels=clock_import.STATE_LABELS, company_names=dict(form.company.choices))


@blueprint.route("/imports/<clock_import_id>", methods=["GET", "POST"])
@require(TIME_IMPORT)
def import_page(clock_import_id):
    """The import at its step; a POST here saves the column mapping and checks the file."""
    clock_imp = load_or_404(ClockImport, clock_import_id[:32])
    if request.method == "GET" or clock_imp.state in ("importing", "imported"):
        return _render_step(clock_imp)
    form = _mapping_form(clock_imp, request.form)
    if not form.validate_on_submit():
        return _render_step(clock_imp, form, INVALID)
    return check_step(clock_imp, form, {f.name: form[f.name].data for f in clock_import.FIELDS},
                      clock_import.save_clock_mapping, clock_import.validate_clock_import, _render_step,
                      url_for("time.clock.import_page", clock_import_id=clock_imp.id))


@blueprint.route("/imports/<clock_import_id>/mapping")
@require(TIME_IMPORT)
def import_mapping(clock_import_id):
    clock_imp = load_or_404(ClockImport, clock_import_id[:32])
    if clock_imp.state in ("importing", "imported"):
        return _render_step(clock_imp)
    return _render_step(clock_imp, _mapping_form(clock_imp))


@blueprint.route("/imports/<clock_import_id>/run", methods=["POST"])
@require(TIME_IMPORT)
def run_import(clock_import_id):
    clock_imp = load_or_404(ClockImport, clock_import_id[:32])
    return run_step(clock_imp, clock_import.start_clock_import, _render_step,
                    url_for("time.clock.import_page", clock_import_id=clock_imp.id))


@blueprint.route("/imports/<clock_import_id>/errors.csv")
@require(TIME_IMPORT)
def import_errors_csv(clock_import_id):
    return errors_csv(load_or_404(ClockImport, clock_import_id[:32]), "clock-import-errors")
