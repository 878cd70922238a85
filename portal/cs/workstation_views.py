"""The IP addresses and workstations people work from, so that platform logins
from them are matched to the person: the list with its filter, registering one,
and ending or removing one. Team leads keep their agents' (cs.workstations)."""
import datetime as dt

from flask import Blueprint, current_app, flash, request, url_for
from flask_babel import gettext as _

from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error, parse_page
from portal.core.htmx import redirect_after_change, render
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.cs import services
from portal.cs.forms import WORKSTATION_KIND_LABELS, WorkstationFilterForm, WorkstationForm
from portal.cs.models import CsWorkstation
from portal.cs.permissions import CS_WORKSTATIONS

blueprint = Blueprint("workstations", __name__, url_prefix="/workstations")
blueprint.add_app_template_global(WORKSTATION_KIND_LABELS, "CS_WORKSTATION_KIND_LABELS")
INVALID = 422


def _people_suggestions():
    return services.people_in_scope_suggestions(current_scope(), CS_WORKSTATIONS)


def _render_list(status=200, error=None):
    scope = current_scope()
    filter_form = WorkstationFilterForm(request.args)
    filters = services.WorkstationFilters()
    if filter_form.validate():
        filters = services.WorkstationFilters(q=(filter_form.q.data or "").strip(), ended=filter_form.ended.data)
    elif status == 200:
        status = INVALID
    page = parse_page(request.args)
    rows, has_next = services.list_workstations(scope, CS_WORKSTATIONS, filters, page,
                                                current_app.config["PAGE_SIZE"])
    query_args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render("cs/workstations.html", "cs/_workstation_rows.html", status=status, filter_form=filter_form,
                  workstations=rows, page=page, has_next=has_next, query_args=query_args, confirm_form=ConfirmForm(),
                  error=error)


@blueprint.route("")
@require(CS_WORKSTATIONS)
def workstations():
    return _render_list()


@blueprint.route("/new", methods=["GET", "POST"])
@require(CS_WORKSTATIONS)
def register():
    form = WorkstationForm()
    if not form.is_submitted():
        return render("cs/workstation_form.html", "cs/_workstation_form.html", form=form,
                      suggestions=_people_suggestions())
    if form.validate():
        person = services.find_person(current_scope(), CS_WORKSTATIONS, form.number.data)
        if person is None:
            form.number.errors.append(_("Nobody with this number is in your scope."))
        else:
            try:
                station = services.register_workstation(current_actor(), person, form.kind.data, form.value.data,
                                                        form.label.data, form.valid_from.data, form.valid_to.data)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                flash(_("%(value)s is registered for %(name)s.", value=station.value, name=person.display_name),
                      "success")
                return redirect_after_change(url_for("cs.workstations.workstations"))
    return render("cs/workstation_form.html", "cs/_workstation_form.html", status=INVALID, form=form,
                  suggestions=_people_suggestions())


@blueprint.route("/<int:cs_workstation_id>/remove", methods=["POST"])
@require(CS_WORKSTATIONS)
def remove(cs_workstation_id):
    station = load_or_404(CsWorkstation, cs_workstation_id, CS_WORKSTATIONS)
    if not ConfirmForm().validate_on_submit():
        return _render_list(status=INVALID, error=_("The form expired. Reload the page and try again."))
    try:
        kept = services.remove_workstation(current_actor(), station)
    except ServiceError as error:
        return _render_list(status=INVALID, error=str(error.message))
    if kept is None:
        flash(_("%(value)s is removed.", value=station.value), "success")
    else:
        flash(_("%(value)s is no longer used from today.", value=station.value), "success")
    return redirect_after_change(url_for("cs.workstations.workstations"))
