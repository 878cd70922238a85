"""The audit trail: filtered list, CSV export, and chain verification."""
import datetime as dt
import zoneinfo

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_timezone, gettext as _

from portal.audit import services
from portal.audit.forms import AuditFilterForm
from portal.audit.permissions import AUDIT_EXPORT, AUDIT_VIEW
from portal.core.audit import action_label
from portal.core.cache import cached, cached_fragment
from portal.core.exports import csv_response
from portal.core.forms import ConfirmForm, parse_page
from portal.core.htmx import render, wants_fragment
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices

blueprint = Blueprint("audit", __name__, url_prefix="/audit")
blueprint.add_app_template_filter(action_label, "action_label")
EXPORT_LIMIT = 100_000


def _filters():
    """Parse the filter form; returns (form, kwargs for list_events)."""
    form = AuditFilterForm(request.args)
    scope = current_scope()
    # Every unit in scope (a thousand and more): the same list until the data changes.
    units = cached("audit.unit_choices", scope, lambda: unit_choices(scope, AUDIT_VIEW))
    form.unit.choices = [(0, _("All units in my scope"))] + units
    if not form.validate():
        return form, None
    tz = zoneinfo.ZoneInfo(str(get_timezone()))

    def utc_midnight(day):
        local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        return local.astimezone(dt.timezone.utc).replace(tzinfo=None)

    return form, dict(
        unit=load_or_404(OrgUnit, form.unit.data, AUDIT_VIEW) if form.unit.data else None,
        since=utc_midnight(form.date_from.data) if form.date_from.data else None,
        until=utc_midnight(form.date_to.data + dt.timedelta(days=1)) if form.date_to.data else None,
        action=(form.action.data or "").strip() or None,
    )


@blueprint.route("")
@require(AUDIT_VIEW)
def events():
    scope = current_scope()
    args_key = tuple(sorted(request.args.items(multi=True)))
    # Parsing the filters checks the unit against every unit in scope: the outcome is
    # the same until the data changes (core/cache.py; the form is only read afterwards).
    form, filters = cached("audit.filters", scope, _filters, args_key)
    page = parse_page(request.args)
    query_args = {k: v for k, v in request.args.items() if k != "page" and v}

    def render_events():
        rows, has_next = ([], False) if filters is None else services.list_events(
            scope, page=page, per_page=current_app.config["PAGE_SIZE"], **filters)
        return render_template("audit/_events.html", events=rows, page=page, has_next=has_next,
                               unit_names=services.unit_names(rows), query_args=query_args)

    # The table holds no per-user secret: cached by data version and scope (core/cache.py).
    # The filter's unit was read before the version: its path (what the query uses) is in the key.
    unit_path = filters["unit"].path if filters and filters["unit"] else None
    events_html = cached_fragment("audit.events", scope, render_events, page, unit_path,
                                  tuple(sorted(query_args.items())))
    # The filters' unit list runs to every unit in scope: rendered once per data version and query.
    filters_html = cached_fragment("audit.filters_html", scope,
                                   lambda: render_template("audit/_filters.html", form=form), args_key)
    return render("audit/events.html", "audit/_events_cached.html", filters_html=filters_html, events_html=events_html,
                  query_args=query_args, status=200 if filters is not None else 422)


@blueprint.route("/export.csv")
@require(AUDIT_EXPORT)
def export():
    form, filters = _filters()
    if filters is None:
        abort(400)
    rows, _more = services.list_events(current_scope(), per_page=EXPORT_LIMIT, **filters)
    names = services.unit_names(rows)
    header = [_("Time (UTC)"), _("Actor"), _("Action"), _("Object"), _("Object id"), _("Unit"), _("Before"),
              _("After"), _("IP address"), _("Hash")]
    return csv_response(
        f"audit-{dt.date.today().isoformat()}.csv", header,
        ([e.occurred_at.isoformat(timespec="seconds"), e.actor_name or "", e.action, e.object_label or e.object_type,
          e.object_id or "", names.get(e.unit_id, ""), e.before or "", e.after or "", e.ip_address or "", e.hash]
         for e in rows))


@blueprint.route("/verify", methods=["POST"])
@require(AUDIT_VIEW)
def verify():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    job = services.start_chain_verification(current_actor())
    if wants_fragment():
        from portal.jobs.views import render_job

        return render_job(job)
    return redirect(url_for("jobs.job", job_id=job.id))
