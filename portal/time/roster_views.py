"""Roster pages: one's own roster (phone), the unit's week or month grid edited cell
by cell with htmx, shift types, rotations and handover notes. Swaps are requests
of the approvals engine (kind "time.shift_swap", approvals.new_request)."""
import datetime as dt
import re

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _, ngettext

from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error
from portal.core.htmx import redirect_after_change, render
from portal.core.db import utcnow
from portal.core.permissions import current_actor, current_scope, load_or_404, login_only, require
from portal.cs import services as cs_services
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.people.models import Employee
from portal.time import rosters
from portal.time.forms import GenerateForm, HandoverForm, RosterCellForm, RotationForm, ShiftTypeForm
from portal.time.models import Rotation, ShiftType
from portal.time.permissions import TIME_ROSTER, TIME_VIEW
from portal.time.services import company_of, company_zone, employee_of, to_local

blueprint = Blueprint("roster", __name__, url_prefix="/roster")
blueprint.add_app_template_filter(rosters.colour_class, "shift_colour")
INVALID = 422
ROSTER_UNIT_KINDS = ("store", "department", "team")


def _today_of(unit):
    return to_local(company_zone(unit), utcnow()).date()


def _minutes_time(minute):
    return dt.time(minute // 60 % 24, minute % 60)


# --- my roster ---------------------------------------------------------------------------------

@blueprint.route("/mine")
@login_only
def mine():
    actor = current_actor()
    employee = employee_of(actor.user)
    shifts = rosters.my_roster(employee)
    notes = rosters.handover_for(employee, shifts)
    return render("time/roster_mine.html", "time/_roster_mine.html", employee=employee, shifts=shifts, notes=notes)


# --- the grid --------------------------------------------------------------------------------------

def _period(args, today):
    """(start, end, mode, week or month text) from ?week=2026-W48 or ?month=2026-11."""
    month = re.fullmatch(r"(\d{4})-(\d{2})", args.get("month", ""))
    if month and 1 <= int(month.group(2)) <= 12:
        start = dt.date(int(month.group(1)), int(month.group(2)), 1)
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return start, end, "month", month.group(0)
    week = re.fullmatch(r"(\d{4})-W(\d{2})", args.get("week", ""))
    try:
        start, end = rosters.week_bounds(int(week.group(1)), int(week.group(2))) if week else (None, None)
    except ValueError:
        start = None
    if start is None:
        year, number, _weekday = today.isocalendar()
        start, end = rosters.week_bounds(year, number)
    year, number, _weekday = start.isocalendar()
    return start, end, "week", f"{year}-W{number:02d}"


def _week_text(day):
    year, number, _weekday = day.isocalendar()
    return f"{year}-W{number:02d}"


def _grid_context(unit, args):
    start, end, mode, period = _period(args, _today_of(unit))
    grid = rosters.roster_grid(unit, start, end)
    if mode == "week":
        previous, following = {"week": _week_text(start - rosters.WEEK)}, {"week": _week_text(start + rosters.WEEK)}
    else:
        before = start - dt.timedelta(days=1)
        previous, following = {"month": f"{before:%Y-%m}"}, {"month": f"{end + dt.timedelta(days=1):%Y-%m}"}
    return dict(unit=unit, grid=grid, mode=mode, period=period, previous=previous, following=following,
                can_edit=current_scope().allows(TIME_ROSTER, unit), today=_today_of(unit),
                week_of_period=_week_text(start), month_of_period=f"{start:%Y-%m}", confirm_form=ConfirmForm())


@blueprint.route("")
@require(TIME_VIEW)
def grid():
    scope = current_scope()
    choices = unit_choices(scope, TIME_VIEW, ROSTER_UNIT_KINDS)
    unit_id = request.args.get("unit", type=int) or (choices[0][0] if choices else None)
    if unit_id is None:
        return render("time/roster.html", "time/_roster_grid.html", unit=None, unit_choices=choices)
    unit = load_or_404(OrgUnit, unit_id, TIME_VIEW)
    return render("time/roster.html", "time/_roster_grid.html", unit_choices=choices,
                  **_grid_context(unit, request.args))


def _cell_target(unit):
    """(person, day) of the cell named by ?employee=&day=, or 404."""
    try:
        day = dt.date.fromisoformat(request.args.get("day", ""))
        employee_id = int(request.args.get("employee", ""))
    except ValueError:
        abort(404)
    if employee_id not in {person.id for person in rosters.roster_people(unit, day, day)}:
        abort(404)
    return Employee.get_by_id(employee_id), day


def _cell_form(unit, formdata=None, entries=()):
    form = RosterCellForm(formdata=formdata, shift_type=entries[0].shift_type_id if entries else None)
    form.shift_type.choices = [("", _("No shift"))] + [
        (st.id, f"{st.code} · {st.name}") for st in rosters.shift_types_of(unit)]
    return form


def _render_cell(unit, employee, day, entries, status=200, form=None, error=None):
    leave = rosters.leave_overlapping([employee.id], day, day)
    template = "time/_roster_cell_form.html" if form is not None else "time/_roster_cell.html"
    return render(template, template, status=status, unit=unit, person=employee, day=day, entries=entries,
                  form=form, error=error, on_leave=bool(leave), can_edit=current_scope().allows(TIME_ROSTER, unit))


# One cell is named by ?unit=&employee=&day= like the grid it belongs to.
@blueprint.route("/cell", methods=["GET", "POST"])
@require(TIME_VIEW)
def cell():
    unit = load_or_404(OrgUnit, request.args.get("unit", type=int) or 0, TIME_VIEW)
    employee, day = _cell_target(unit)
    entries = rosters.cell_entries(unit, employee, day)
    if request.method == "GET":
        if request.args.get("show") or not current_scope().allows(TIME_ROSTER, unit):
            return _render_cell(unit, employee, day, entries)
        return _render_cell(unit, employee, day, entries, form=_cell_form(unit, entries=entries))
    if not current_scope().allows(TIME_ROSTER, unit):
        abort(403)
    form = _cell_form(unit, request.form)
    if not form.validate_on_submit():
        return _render_cell(unit, employee, day, entries, INVALID, form=form)
    shift_type = None
    if form.shift_type.data:
        shift_type = ShiftType.get_or_none((ShiftType.id == form.shift_type.data)
                                           & (ShiftType.company == company_of(unit).id))
        if shift_type is None:
            form.shift_type.errors = [_("Choose one of the company's current shift types.")]
            return _render_cell(unit, employee, day, entries, INVALID, form=form)
    try:
        entries = rosters.set_roster_cell(current_actor(), unit, employee.id, day, shift_type)
    except ServiceError as error:
        return _render_cell(unit, employee, day, entries, INVALID, form=form, error=str(error.message))
    return _render_cell(unit, employee, day, entries)


def _week_action(unit_id, action, done_message):
    unit = load_or_404(OrgUnit, unit_id, TIME_VIEW)
    if not current_scope().allows(TIME_ROSTER, unit):
        abort(403)
    start, _end, _mode, period = _period({"week": request.args.get("week", "")}, _today_of(unit))
    target = url_for("time.roster.grid", unit=unit.id, week=period)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Reload the page and try again."), "error")
        return redirect_after_change(target)
    try:
        count = action(current_actor(), unit, start)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(done_message(count), "success")
    return redirect_after_change(target)


@blueprint.route("/units/<int:unit_id>/copy-week", methods=["POST"])
@require(TIME_ROSTER)
def copy_week(unit_id):
    return _week_action(unit_id, rosters.copy_previous_week,
                        lambda n: ngettext("Copied %(num)s shift from the week before.",
                                                     "Copied %(num)s shifts from the week before.", n))


@blueprint.route("/units/<int:unit_id>/clear-week", methods=["POST"])
@require(TIME_ROSTER)
def clear_week(unit_id):
    return _week_action(unit_id, rosters.clear_week, lambda n: ngettext("Removed %(num)s shift.", "Removed %(num)s shifts.", n))


# --- shift types ------------------------------------------------------------------------------------

def _company_from_args():
    choices = unit_choices(current_scope(), TIME_VIEW, ("company",))
    company_id = request.args.get("company", type=int) or (choices[0][0] if choices else None)
    if company_id is None:
        abort(404)
    return load_or_404(OrgUnit, company_id, TIME_VIEW), choices


@blueprint.route("/shift-types")
@require(TIME_VIEW)
def shift_types():
    company, choices = _company_from_args()
    if company.kind != "company":
        company = company_of(company)
    return render("time/roster_shift_types.html", "time/_shift_types.html", company=company, company_choices=choices,
                  shift_types=rosters.shift_types_of(company, archived=True),
                  can_edit=current_scope().allows(TIME_ROSTER, company), confirm_form=ConfirmForm(),
                  accounts_of=rosters.shift_accounts, time_of=_minutes_time)


def _shift_type_form(company, formdata=None, shift_type=None):
    data = {}
    listed = rosters.shift_accounts(shift_type) if shift_type is not None else []
    if shift_type is not None:
        data = dict(code=shift_type.code, name=shift_type.name, start=_minutes_time(shift_type.start_minute),
                    end=_minutes_time(shift_type.end_minute), break_minutes=shift_type.break_minutes,
                    grace_minutes=shift_type.grace_minutes, color=shift_type.color, cs_accounts=listed,
                    version=shift_type.version)
    form = ShiftTypeForm(formdata=formdata, **data)
    form.color.choices = [(colour, str(name)) for colour, name in zip(rosters.SHIFT_COLOURS,
                                                                       rosters.SHIFT_COLOUR_NAMES)]
    # The company's active accounts, and the archived or unknown ones the shift type already lists.
    form.cs_accounts.choices = cs_services.account_code_choices(company.id, keep=listed)
    return form


def _unknown_accounts(form, company, shift_type):
    """Refuse account codes that name no active account of the company (archived
    ones the shift type already lists may stay). True when some were refused."""
    listed = rosters.shift_accounts(shift_type) if shift_type is not None else []
    unknown = cs_services.unknown_account_codes(company.id, form.cs_accounts.data or [], allowed=listed)
    if unknown:
        form.cs_accounts.errors = list(form.cs_accounts.errors) + [
            _("%(company)s has no active CS account with the code %(codes)s.", company=company.name,
              codes=", ".join(unknown))]
    return bool(unknown)


def _save_shift_type(company, shift_type=None):
    form = _shift_type_form(company, request.form if request.method == "POST" else None, shift_type)
    status = 200
    if form.validate_on_submit() and not _unknown_accounts(form, company, shift_type):
        values = {name: form[name].data for name in ("code", "name", "start", "end", "break_minutes",
                                                     "grace_minutes", "color", "cs_accounts")}
        try:
            if shift_type is None:
                rosters.create_shift_type(current_actor(), company, values)
            else:
                rosters.update_shift_type(current_actor(), shift_type, values, int(form.version.data or 0))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The shift type is saved."), "success")
            return redirect_after_change(url_for("time.roster.shift_types", company=company.id))
    if form.is_submitted():
        status = INVALID
    return render("time/roster_shift_type_form.html", "time/_shift_type_form.html", status=status, form=form,
                  company=company, shift_type=shift_type)


@blueprint.route("/shift-types/new", methods=["GET", "POST"])
@require(TIME_ROSTER)
def new_shift_type():
    company, _choices = _company_from_args()
    if not current_scope().allows(TIME_ROSTER, company):
        abort(404)
    return _save_shift_type(company_of(company))


@blueprint.route("/shift-types/<int:shift_type_id>", methods=["GET", "POST"])
@require(TIME_ROSTER)
def shift_type(shift_type_id):
    shift_type = load_or_404(ShiftType, shift_type_id, TIME_ROSTER)
    return _save_shift_type(shift_type.company, shift_type)


@blueprint.route("/shift-types/<int:shift_type_id>/archive", methods=["POST"])
@require(TIME_ROSTER)
def archive_shift_type(shift_type_id):
    shift_type = load_or_404(ShiftType, shift_type_id, TIME_ROSTER)
    if ConfirmForm().validate_on_submit():
        rosters.archive_shift_type(current_actor(), shift_type)
        flash(_("The shift type is archived."), "success")
    return redirect_after_change(url_for("time.roster.shift_types", company=shift_type.company_id))


# --- rotations -------------------------------------------------------------------------------------------

@blueprint.route("/rotations")
@require(TIME_VIEW)
def rotations():
    unit = load_or_404(OrgUnit, request.args.get("unit", type=int) or 0, TIME_VIEW)
    rows = list(Rotation.select().where((Rotation.unit == unit.id) & Rotation.archived_at.is_null())
                .order_by(Rotation.name))
    return render("time/roster_rotations.html", "time/_rotations.html", unit=unit, rotations=rows,
                  pattern_of=rosters.pattern_text, members_of=rosters.rotation_members,
                  can_edit=current_scope().allows(TIME_ROSTER, unit))


def _members_from_form(people):
    """{employee id: (label, offset)} from the member rows (a blank label: not a member)."""
    members = {}
    for person in people:
        label = request.form.get(f"member-{person.id}-label", "").strip()
        if label:
            members[person.id] = (label[:16], request.form.get(f"member-{person.id}-offset", 0, type=int) or 0)
    return members


def _rotation_page(unit, rotation=None):
    today = _today_of(unit)
    people = rosters.roster_people(unit, today - dt.timedelta(days=31), today + dt.timedelta(days=62))
    current = {m.employee_id: (m.label, m.offset) for m in rosters.rotation_members(rotation)} if rotation else {}
    data = dict(name=rotation.name, pattern=rosters.pattern_text(rotation), anchor_date=rotation.anchor_date,
                follows_calendar=rotation.follows_calendar) \
        if rotation else dict(anchor_date=today - dt.timedelta(days=today.weekday()))
    form = RotationForm(formdata=request.form if request.method == "POST" else None, **data)
    status = 200
    if form.validate_on_submit():
        current = _members_from_form(people)
        try:
            rotation = rosters.save_rotation(current_actor(), unit, {name: form[name].data for name in
                                                                     ("name", "pattern", "anchor_date",
                                                                      "follows_calendar")},
                                             current, rotation)
        except ServiceError as error_:
            apply_service_error(form, error_)
        else:
            flash(_("The rotation is saved."), "success")
            return redirect_after_change(url_for("time.roster.rotation", rotation_id=rotation.id))
    if form.is_submitted():
        status = INVALID
        current = _members_from_form(people)
    generate_form = GenerateForm(formdata=None, start=today, end=today + dt.timedelta(days=27))
    return render("time/roster_rotation.html", "time/_rotation_form.html", status=status, unit=unit,
                  rotation=rotation, form=form, people=people, members=current, generate_form=generate_form,
                  shift_types=rosters.shift_types_of(unit))


@blueprint.route("/rotations/new", methods=["GET", "POST"])
@require(TIME_ROSTER)
def new_rotation():
    unit = load_or_404(OrgUnit, request.args.get("unit", type=int) or 0, TIME_ROSTER)
    return _rotation_page(unit)


@blueprint.route("/rotations/<int:rotation_id>", methods=["GET", "POST"])
@require(TIME_ROSTER)
def rotation(rotation_id):
    rotation = load_or_404(Rotation, rotation_id, TIME_ROSTER)
    return _rotation_page(rotation.unit, rotation)


@blueprint.route("/rotations/<int:rotation_id>/generate", methods=["POST"])
@require(TIME_ROSTER)
def generate_rotation(rotation_id):
    rotation = load_or_404(Rotation, rotation_id, TIME_ROSTER)
    form = GenerateForm()
    conflicts, status = [], INVALID
    if form.validate_on_submit():
        try:
            count = rosters.generate_rotation(current_actor(), rotation, form.start.data, form.end.data)
        except rosters.RosterConflict as error:
            conflicts = error.conflicts
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(ngettext("Rostered %(num)s shift; the members are told.",
                           "Rostered %(num)s shifts; the members are told.", count), "success")
            return redirect_after_change(url_for("time.roster.grid", unit=rotation.unit_id, week=_week_text(form.start.data)))
    return render("time/roster_generate.html", "time/_rotation_generate.html", status=status, rotation=rotation,
                  generate_form=form, conflicts=conflicts[:rosters.CONFLICTS_SHOWN], more=max(
                      0, len(conflicts) - rosters.CONFLICTS_SHOWN))


# --- handover notes --------------------------------------------------------------------------------------------

def _handover_unit():
    """The unit named by ?unit=: in the reader's time.view scope, or one they are rostered in."""
    unit = OrgUnit.get_or_none(OrgUnit.id == (request.args.get("unit", type=int) or 0))
    if unit is None or not rosters.may_read_handover(current_actor(), unit):
        abort(404)
    return unit


@blueprint.route("/handover", methods=["GET", "POST"])
@login_only
def handover():
    unit = _handover_unit()
    today = _today_of(unit)
    day = request.args.get("day")
    try:
        shown_day = dt.date.fromisoformat(day) if day else None
    except ValueError:
        shown_day = None
    form = HandoverForm(formdata=request.form if request.method == "POST" else None, day=shown_day or today)
    form.shift_type.choices = [("", _("Whole day"))] + [(st.id, st.name) for st in rosters.shift_types_of(unit)]
    status = 200
    if form.validate_on_submit():
        shift_type = ShiftType.get_or_none(ShiftType.id == form.shift_type.data) if form.shift_type.data else None
        try:
            rosters.write_handover_note(current_actor(), unit, form.day.data, shift_type, form.body.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("Your note is left for the next shift."), "success")
            return redirect_after_change(url_for("time.roster.handover", unit=unit.id, day=form.day.data.isoformat()))
    if form.is_submitted():
        status = INVALID
    start = shown_day or today - dt.timedelta(days=6)
    notes = rosters.handover_notes(unit, start, shown_day or today)
    return render("time/roster_handover.html", "time/_handover.html", status=status, unit=unit, notes=notes,
                  form=form, day=shown_day, can_write=rosters.may_write_handover(current_actor(), unit, form.day.data
                                                                                 or today))
