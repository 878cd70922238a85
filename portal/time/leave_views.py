"""Leave pages under /time/leave: my leave (full page, or the fragment the phone hub
loads), the request form with its live balance, leave types, a person's balances
and ledger, and the team leave calendar."""
import datetime as dt

import peewee as pw
from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error
from portal.core.htmx import redirect_after_change, render, wants_fragment
from portal.core.permissions import can, current_actor, current_scope, load_or_404, login_only, require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.people.models import Employee
from portal.time import leave as services
from portal.time.forms import LeaveAdjustmentForm, LeaveTypeForm, hundredths
from portal.time.models import LeaveRequest, LeaveType
from portal.time.permissions import TIME_MANAGE, TIME_ROSTER, TIME_VIEW
from portal.time.services import employee_of

blueprint = Blueprint("leave", __name__, url_prefix="/leave")
INVALID = 422

LEAVE_STATE_LABELS = {
    "pending": _l("Pending"), "approved": _l("Approved"), "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"), "cancelled": _l("Cancelled"),
}
LEDGER_KIND_LABELS = {
    "opening": _l("Opening balance"), "accrual": _l("Accrual"), "taken": _l("Taken"), "returned": _l("Returned"),
    "expiry": _l("Expired (carry-over cap)"), "adjustment": _l("Adjustment"),
}
ACCRUAL_LABELS = {"none": _l("No accrual"), "monthly": _l("Monthly"), "yearly": _l("Yearly")}
COLOR_LABELS = dict(zip(services.LEAVE_COLORS, (_l("Green"), _l("Blue"), _l("Red"), _l("Amber"), _l("Purple"),
                                                 _l("Teal"), _l("Pink"), _l("Grey"))))


@blueprint.app_template_filter("leave_amount")
def leave_amount(amount, unit):
    """Hundredths of a leave unit as "1.5 days" / "3 hours"."""
    return services.format_amount(amount, unit)


@blueprint.app_template_filter("leave_color")
def leave_color(color):
    """The CSS class of a leave type's colour."""
    return f"leave-color-{(color or '').lstrip('#')}"


@blueprint.app_template_filter("minute_time")
def minute_time(minute):
    return "" if minute is None else "{:02d}:{:02d}".format(*divmod(minute, 60))


@blueprint.app_context_processor
def leave_labels():
    return {"LEAVE_STATE_LABELS": LEAVE_STATE_LABELS, "LEDGER_KIND_LABELS": LEDGER_KIND_LABELS,
            "ACCRUAL_LABELS": ACCRUAL_LABELS}


# --- my leave -------------------------------------------------------------------------------

@blueprint.get("/mine")
@login_only
def mine():
    employee = employee_of(current_user.account)
    context = dict(employee=employee)
    if employee is not None:
        context.update(balances=services.balances_of(employee), requests=services.requests_of(employee))
    return render("time/leave_mine.html", "time/_leave_mine.html", **context)


# --- requesting leave ---------------------------------------------------------------------------

def _subject():
    """Whose leave the form is for: ?employee= (leads and HR) or the user's own."""
    employee_id = request.args.get("employee", type=int)
    return services.person_for_leave(current_actor(), employee_id)


def _quote(employee, form):
    """(leave type, Quote or None, refusal or None) for what the form holds so far."""
    leave_type = services.company_type(employee, form.leave_type.data)
    incomplete = form.start_date.data is None or (
        leave_type is not None and leave_type.unit == "hour" and None in (form.start_time.data, form.end_time.data))
    if leave_type is None or incomplete:  # nothing to say until the form says what is asked for
        return leave_type, None, None
    start_minute = services.minute_of(form.start_time.data)
    end_minute = services.minute_of(form.end_time.data)
    try:
        quote = services.quote_leave(employee, leave_type, form.start_date.data,
                                     form.end_date.data or form.start_date.data, start_minute, end_minute)
    except ServiceError as error:
        return leave_type, None, error.message
    return leave_type, quote, None


def _form_context(employee, form):
    leave_type, quote, refusal = _quote(employee, form)
    action = url_for("time.leave.request_form", employee=employee.id if employee.user_id != current_user.id else None)
    balance = services.balance_of(employee, leave_type) if leave_type is not None else None
    # A new type may change the fields (hours or days): the whole form reloads.
    form.leave_type.render_kw = {"hx-get": action, "hx-trigger": "change", "hx-target": "#leave-request",
                                 "hx-swap": "outerHTML", "hx-include": "closest form", "hx-params": "not csrf_token"}
    return dict(employee=employee, form=form, leave_type=leave_type, quote=quote, refusal=refusal, balance=balance,
                action=action, quote_url=url_for("time.leave.quote", employee=request.args.get("employee")))


@blueprint.route("/request", methods=["GET", "POST"])
@login_only
def request_form():
    employee = _subject()
    editing = request.method == "GET" and wants_fragment() and "leave_type" in request.args
    form = services.leave_form(employee, request.form if request.method == "POST" else (
        request.args if editing else None))
    if form.validate_on_submit():
        values = {name: f.data for name, f in form._fields.items() if name != "csrf_token"}
        try:
            services.submit_leave(current_actor(), employee, values)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("Your leave request is sent for approval."), "success")
            target = url_for("time.leave.mine") if employee.user_id == current_user.id else \
                url_for("time.leave.person", employee_id=employee.id)
            return redirect_after_change(target)
    status = INVALID if form.is_submitted() else 200
    return render("time/leave_request.html", "time/_leave_request_form.html", status=status,
                  **_form_context(employee, form))


@blueprint.get("/request/quote")
@login_only
def quote():
    """The balance panel of the request form, for what is entered so far (htmx)."""
    employee = _subject()
    form = services.leave_form(employee, request.args)
    return render("time/_leave_quote.html", "time/_leave_quote.html", **_form_context(employee, form))


# --- leave types ------------------------------------------------------------------------------------

def _company_from_args(permission):
    """The company named by ?company= among those `permission` reaches (on the company or
    on any unit in it: a lead sees their company's leave types), else the first."""
    reached = OrgUnit.select(pw.fn.COALESCE(OrgUnit.company, OrgUnit.id)).where(
        current_scope().unit_condition(permission))
    choices = [(unit_id, name) for unit_id, name in OrgUnit.select(OrgUnit.id, OrgUnit.name).where(
        (OrgUnit.kind == "company") & OrgUnit.id.in_(reached)).order_by(OrgUnit.path).tuples()]
    if not choices:
        abort(404)
    company_id = request.args.get("company", type=int) or choices[0][0]
    if company_id not in {unit_id for unit_id, _label in choices}:
        abort(404)
    return OrgUnit.get_by_id(company_id), choices


@blueprint.get("/types")
@require(TIME_VIEW)
def types():
    company, choices = _company_from_args(TIME_VIEW)
    return render("time/leave_types.html", "time/_leave_types.html", company=company, choices=choices,
                  leave_types=services.types_of(company, include_archived=True),
                  can_manage=can(TIME_MANAGE, company), archive_form=ConfirmForm())


def _type_form(leave_type=None, formdata=None):
    form = LeaveTypeForm(formdata=formdata, obj=None)
    form.color.choices = list(COLOR_LABELS.items())
    if leave_type is not None and formdata is None:
        for name in services.TYPE_FIELDS:
            getattr(form, name).data = getattr(leave_type, name)
        form.accrual_amount.data = leave_type.accrual_amount / 100
        form.carry_over_cap.data = None if leave_type.carry_over_cap is None else leave_type.carry_over_cap / 100
    return form


def _save_type(company, leave_type=None):
    form = _type_form(leave_type, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        try:
            if leave_type is None:
                services.create_leave_type(current_actor(), company, form.values())
            else:
                services.update_leave_type(current_actor(), leave_type, form.values(),
                                           request.form.get("version", type=int))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The leave type is saved."), "success")
            return redirect_after_change(url_for("time.leave.types", company=company.id))
    return render("time/leave_type_form.html", "time/_leave_type_form.html",
                  status=INVALID if form.is_submitted() else 200, company=company, leave_type=leave_type, form=form)


@blueprint.route("/types/new", methods=["GET", "POST"])
@require(TIME_MANAGE)
def new_type():
    company, _choices = _company_from_args(TIME_MANAGE)
    return _save_type(company)


@blueprint.route("/types/<int:leave_type_id>", methods=["GET", "POST"])
@require(TIME_MANAGE)
def edit_type(leave_type_id):
    leave_type = load_or_404(LeaveType, leave_type_id, TIME_MANAGE)
    return _save_type(OrgUnit.get_by_id(leave_type.company_id), leave_type)


@blueprint.post("/types/<int:leave_type_id>/archive")
@require(TIME_MANAGE)
def archive_type(leave_type_id):
    leave_type = load_or_404(LeaveType, leave_type_id, TIME_MANAGE)
    if ConfirmForm().validate_on_submit():
        services.archive_leave_type(current_actor(), leave_type, archived=leave_type.archived_at is None)
    return redirect_after_change(url_for("time.leave.types", company=leave_type.company_id))


# --- a person's balances, ledger and requests ---------------------------------------------------------

def _adjust_form(employee, formdata=None):
    form = LeaveAdjustmentForm(formdata=formdata, prefix="adjust")
    form.leave_type.choices = [(t.id, t.name) for t in services.types_of(employee.company_id)]
    return form


def _render_person(employee, adjust_form=None, status=200):
    actor = current_actor()
    return render("time/leave_person.html", "time/_leave_person.html", status=status, employee=employee,
                  balances=services.balances_of(employee), ledger=services.ledger_of(employee),
                  requests=services.requests_of(employee),
                  can_manage=services.person_in_scope_or_none(actor, employee.id, TIME_MANAGE) is not None,
                  can_file=services.person_in_scope_or_none(actor, employee.id, TIME_ROSTER) is not None,
                  adjust_form=adjust_form or _adjust_form(employee), cancel_form=ConfirmForm())


@blueprint.get("/people/<int:employee_id>")
@require(TIME_VIEW)
def person(employee_id):
    return _render_person(load_or_404(Employee, employee_id, TIME_VIEW))


@blueprint.post("/people/<int:employee_id>/adjust")
@require(TIME_MANAGE)
def adjust(employee_id):
    employee = load_or_404(Employee, employee_id, TIME_MANAGE)
    form = _adjust_form(employee, request.form)
    if form.validate_on_submit():
        leave_type = LeaveType.get_or_none(LeaveType.id == form.leave_type.data)
        try:
            if leave_type is None:
                raise ServiceError(_("Choose a leave type from the list."), field="leave_type")
            services.adjust_balance(current_actor(), employee, leave_type, hundredths(form.amount.data),
                                    form.reason.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The balance is adjusted."), "success")
            return redirect_after_change(url_for("time.leave.person", employee_id=employee.id))
    return _render_person(employee, form, INVALID)


@blueprint.post("/requests/<int:leave_request_id>/cancel")
@require(TIME_MANAGE)
def cancel(leave_request_id):
    leave = load_or_404(LeaveRequest, leave_request_id, TIME_MANAGE)
    if ConfirmForm().validate_on_submit():
        try:
            services.cancel_leave(current_actor(), leave)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("The leave is cancelled and returned to the balance."), "success")
    return redirect_after_change(url_for("time.leave.person", employee_id=leave.employee_id))


# --- the team leave calendar ------------------------------------------------------------------------

def _month_from_args():
    try:
        first = dt.date.fromisoformat((request.args.get("month") or "") + "-01")
    except ValueError:
        first = dt.date.today().replace(day=1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first, last


@blueprint.get("/calendar")
@require(TIME_VIEW)
def calendar():
    choices = unit_choices(current_scope(), TIME_VIEW, kinds=("company", "store", "department", "team"))
    if not choices:
        abort(404)
    own = employee_of(current_user.account)
    default = own.unit_id if own is not None and own.unit_id in {c[0] for c in choices} else choices[0][0]
    unit_id = request.args.get("unit", type=int) or default
    if unit_id not in {c[0] for c in choices}:
        abort(404)
    unit = OrgUnit.get_by_id(unit_id)
    first, last = _month_from_args()
    days, rows = services.team_calendar(current_actor(), unit, first, last)
    previous = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    following = (last + dt.timedelta(days=1)).strftime("%Y-%m")
    return render("time/leave_calendar.html", "time/_leave_calendar.html", unit=unit, choices=choices,
                  first=first, days=days, rows=rows, previous=previous, following=following,
                  month=first.strftime("%Y-%m"), today=dt.date.today())
