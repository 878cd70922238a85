"""Approvals: the inbox, one's own requests, a request's page and decision, new
requests of every declared kind, delegation, notifications and the chains."""
import datetime as dt

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import format_date, gettext as _
from flask_login import current_user

from portal.accounts.models import User
from portal.accounts.services import role_label
from portal.approvals import services
from portal.approvals.forms import DELEGATION_STATE_LABELS, REQUEST_STATE_LABELS, STEP_STATE_LABELS, ChainForm, \
    DecisionForm, DelegationForm, WithdrawForm
from portal.approvals.kinds import kind_label, kind_or_404
from portal.approvals.permissions import APPROVALS_CONFIGURE
from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error, parse_page
from portal.core.htmx import redirect_after_change, render, wants_fragment
from portal.core.permissions import current_actor, current_scope, load_or_404, login_only, require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices

blueprint = Blueprint("approvals", __name__, url_prefix="/approvals")
INVALID = 422
PAGE_SIZE = 50


def current_badges():
    """The user's waiting steps and unread notifications, read once per page."""
    if "approval_badges" not in g:
        g.approval_badges = services.badge_counts(current_user.account)
    return g.approval_badges


blueprint.add_app_template_global(current_badges, "approval_badges")
blueprint.add_app_template_global(kind_label, "request_kind_label")
blueprint.add_app_template_filter(services.notification_text, "notification_text")
for _name, _labels in (("REQUEST_STATE_LABELS", REQUEST_STATE_LABELS), ("STEP_STATE_LABELS", STEP_STATE_LABELS),
                       ("DELEGATION_STATE_LABELS", DELEGATION_STATE_LABELS)):
    blueprint.add_app_template_global(_labels, _name)


# --- the inbox and one's own requests ---------------------------------------------------

@blueprint.route("")
@login_only
def inbox():
    page = parse_page(request.args)
    items, has_next = services.inbox(current_actor(), page, PAGE_SIZE)
    return render("approvals/inbox.html", "approvals/_inbox.html", items=items, page=page, has_next=has_next)


@blueprint.route("/mine")
@login_only
def mine():
    page = parse_page(request.args)
    rows, has_next = services.my_requests(current_actor(), page, PAGE_SIZE)
    return render("approvals/mine.html", "approvals/_mine.html", rows=rows, page=page, has_next=has_next)


# --- one request ------------------------------------------------------------------------------

def _request_context(approval, decision_form=None, error=None, notice=None):
    actor = current_actor()
    steps = services.request_steps(approval)
    pending = next((s for s in steps if s.state == "pending"), None) if approval.state == "pending" else None
    decider = services.decider_for(actor.user, approval, pending)
    if decider is not None and decision_form is None:
        decision_form = DecisionForm(formdata=None, version=approval.version)
    mine = actor.user is not None and actor.user.id == approval.requester_id
    return dict(
        approval=approval,
        requester=User.get_or_none(User.id == approval.requester_id),
        rows=services.describe_request(approval),
        steps=steps,
        pending=pending,
        decider=decider,
        stood_in_for=User.get_or_none(User.id == decider.on_behalf_of) if decider and decider.on_behalf_of else None,
        decision_form=decision_form if decider is not None else None,
        withdraw_form=WithdrawForm(formdata=None, version=approval.version) if mine and pending else None,
        history=services.request_history(approval),
        error=error,
        notice=notice,
    )


def _render_request(approval, status=200, **context):
    return render("approvals/request.html", "approvals/_request.html", status=status,
                  **_request_context(approval, **context))


@blueprint.route("/requests/<int:request_id>")
@login_only
def request_page(request_id):
    approval = services.visible_request(current_actor(), request_id)
    return _render_request(approval)


def _changed(request_id, message):
    """After a decision or a withdrawal: for htmx the fresh request with a notice,
    otherwise post/redirect/get."""
    approval = services.visible_request(current_actor(), request_id)
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("approvals.request_page", request_id=request_id))
    return _render_request(approval, notice=message)


def _refused(request_id, form, error):
    """A decision the engine refused: the request as it is now, with the reason. A
    message for a field stays next to it; any other (the request was decided
    meanwhile) goes on top, and the form is built afresh for what is pending now."""
    approval = services.visible_request(current_actor(), request_id)
    if error.field and error.field in form:
        apply_service_error(form, error)
        return _render_request(approval, INVALID, decision_form=form)
    return _render_request(approval, INVALID, error=str(error.message))


@blueprint.route("/requests/<int:request_id>/decide", methods=["POST"])
@login_only
def decide(request_id):
    approval = services.visible_request(current_actor(), request_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_request(approval, INVALID, decision_form=form)
    approve = form.decision.data == "approve"
    try:
        services.decide_step(current_actor(), approval.id, form.version.data, approve, form.comment.data)
    except ServiceError as error:
        return _refused(approval.id, form, error)
    return _changed(approval.id, _("You approved the request.") if approve else _("You rejected the request."))


@blueprint.route("/requests/<int:request_id>/withdraw", methods=["POST"])
@login_only
def withdraw(request_id):
    approval = services.visible_request(current_actor(), request_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _render_request(approval, INVALID, error=_("The form expired. Reload the page and try again."))
    try:
        services.withdraw_request(current_actor(), approval.id, form.version.data)
    except ServiceError as error:
        return _refused(approval.id, form, error)
    return _changed(approval.id, _("You withdrew the request."))


# --- new requests -------------------------------------------------------------------------------

def _form_values(form):
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def _entered_so_far(request_kind):
    """The form's data: what was posted, or, when a field the others depend on changed
    (htmx reloads the form with what is entered so far), the query; else none."""
    if request.method == "POST":
        return request.form
    if wants_fragment() and any(name in request.args for name in request_kind.refresh_on):
        return request.args
    return None


@blueprint.route("/new/<kind>", methods=["GET", "POST"])
@login_only
def new_request(kind):
    request_kind = kind_or_404(kind)
    actor = current_actor()
    subject = request_kind.load_subject(actor, request.args)
    form = request_kind.form(subject, _entered_so_far(request_kind))
    status = 200
    if form.validate_on_submit():
        try:
            approval = services.submit_request(actor, request_kind.key, subject, _form_values(form))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("Your request is sent for approval."), "success")
            return redirect_after_change(url_for("approvals.request_page", request_id=approval.id))
    if form.is_submitted():
        status = INVALID
    subject_args = {arg: request.args[arg] for arg in request_kind.subject_args if arg in request.args}
    action = url_for("approvals.new_request", kind=kind, **subject_args)
    for name in request_kind.refresh_on:
        form[name].render_kw = {"hx-get": action, "hx-trigger": "change", "hx-target": "#new-request",
                                "hx-swap": "outerHTML", "hx-include": "closest form", "hx-params": "not csrf_token"}
    return render("approvals/new.html", "approvals/_new_form.html", status=status, kind=request_kind,
                  subject=subject, form=form, action=action)


# --- notifications ----------------------------------------------------------------------------------

@blueprint.route("/notifications")
@login_only
def notifications():
    page = parse_page(request.args)
    rows, has_next = services.list_notifications(current_user.account, page, PAGE_SIZE)
    return render("approvals/notifications.html", "approvals/_notifications.html", rows=rows, page=page,
                  has_next=has_next, form=ConfirmForm())


@blueprint.route("/notifications/read", methods=["POST"])
@login_only
def read_notifications():
    if ConfirmForm().validate_on_submit():
        services.mark_notifications_read(current_user.account)
    return redirect(url_for("approvals.notifications"))


@blueprint.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_only
def read_notification(notification_id):
    if ConfirmForm().validate_on_submit():
        services.mark_notifications_read(current_user.account, notification_id)
    return redirect(url_for("approvals.notifications"))


# --- delegation ---------------------------------------------------------------------------------------

def _render_delegations(form, status=200):
    given, received = services.delegations_of(current_user.account)
    return render("approvals/delegations.html", "approvals/_delegations.html", status=status, form=form,
                  given=given, received=received, confirm_form=ConfirmForm(), today=dt.date.today())


@blueprint.route("/delegations", methods=["GET", "POST"])
@login_only
def delegations():
    form = DelegationForm()
    if form.validate_on_submit():
        try:
            delegation = services.set_delegation(current_actor(), form.delegate.data, form.start_date.data,
                                                 form.end_date.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("%(name)s now stands in for you from %(start)s to %(end)s.",
                    name=delegation.delegate.display_name, start=format_date(delegation.start_date),
                    end=format_date(delegation.end_date)),
                  "success")
            return redirect_after_change(url_for("approvals.delegations"))
    return _render_delegations(form, INVALID if form.is_submitted() else 200)


@blueprint.route("/delegations/<int:delegation_id>/revoke", methods=["POST"])
@login_only
def revoke_delegation(delegation_id):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_delegations(DelegationForm(formdata=None), INVALID)
    services.revoke_delegation(current_actor(), delegation_id)
    flash(_("The delegation is ended."), "success")
    return redirect_after_change(url_for("approvals.delegations"))


# --- chains -----------------------------------------------------------------------------------------------

@blueprint.route("/chains")
@require(APPROVALS_CONFIGURE)
def chains():
    choices = unit_choices(current_scope(), APPROVALS_CONFIGURE)
    unit_id = request.args.get("unit", type=int) or (choices[0][0] if choices else None)
    unit = load_or_404(OrgUnit, unit_id, APPROVALS_CONFIGURE) if unit_id else None
    return render("approvals/chains.html", "approvals/_chains.html", unit=unit, unit_choices=choices,
                  chains=services.chains_at(unit) if unit else [])


def _chain_form(kind_key, unit, formdata=None):
    roles, chain = services.chain_roles(kind_key, unit)
    form = ChainForm(formdata=formdata, version=chain.version if chain is not None and chain.unit_id == unit.id
                     else None, steps=[str(role.id) for role in roles])
    choices = [("", "—")] + [(str(role.id), str(role_label(role))) for role in services.roles_usable_at(unit)]
    for entry in form.steps:
        entry.choices = choices
    return form, chain


def _render_chain_form(kind_key, unit, form, chain, status=200):
    return render("approvals/chain_form.html", "approvals/_chain_form.html", status=status, kind=kind_or_404(kind_key),
                  unit=unit, form=form, own_chain=chain if chain is not None and chain.unit_id == unit.id else None,
                  inherited=chain if chain is not None and chain.unit_id != unit.id else None)


@blueprint.route("/chains/<int:unit_id>/<kind>", methods=["GET", "POST"])
@require(APPROVALS_CONFIGURE)
def chain(unit_id, kind):
    unit = load_or_404(OrgUnit, unit_id, APPROVALS_CONFIGURE)
    kind_or_404(kind)
    form, existing = _chain_form(kind, unit, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        try:
            services.save_chain(current_actor(), kind, unit, form.role_ids(), form.version.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The approval chain is saved."), "success")
            return redirect_after_change(url_for("approvals.chains", unit=unit.id))
    status = INVALID if form.is_submitted() else 200
    return _render_chain_form(kind, unit, form, existing, status)


@blueprint.route("/chains/<int:unit_id>/<kind>/reset", methods=["POST"])
@require(APPROVALS_CONFIGURE)
def reset_chain(unit_id, kind):
    unit = load_or_404(OrgUnit, unit_id, APPROVALS_CONFIGURE)
    kind_or_404(kind)
    if ConfirmForm().validate_on_submit():
        services.reset_chain(current_actor(), kind, unit)
        flash(_("The chain is reset: the one above this unit, or the default, applies."), "success")
    return redirect_after_change(url_for("approvals.chains", unit=unit.id))

