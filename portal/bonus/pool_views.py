"""Bonus pools under /bonus/pools: the list (filters through htmx), a new pool, the
pool page — members and lines, adjustments with their reasons, the workflow by
state (compute, submit, withdraw, lock, correct), the approval trail and the data's
fingerprint — the what-if beside it (a preview that saves nothing) and the lead's
team table.

Every change is a form posted with htmx into the pool block (#pool): a refusal
comes back as that block with the message (422), a change as a redirect."""
import datetime as dt

import peewee as pw
from flask import Blueprint, current_app, flash, request, url_for
from flask_babel import gettext as _

from portal.bonus import services
from portal.bonus.forms import (AdjustmentForm, CorrectionForm, PoolFilterForm, PoolForm, RemoveAdjustmentForm,
                                SubmitForm, optional_int, whatif_overrides)
from portal.bonus.models import BonusAdjustment, BonusPool, BonusPoolMember, BonusRule
from portal.bonus.permissions import BONUS_APPROVE, BONUS_MANAGE, BONUS_VIEW
from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error, parse_page
from portal.core.htmx import redirect_after_change, render, wants_fragment
from portal.core.money import to_decimal
from portal.core.permissions import can, current_actor, current_scope, load_or_404, require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices

blueprint = Blueprint("pools", __name__, url_prefix="/pools")
INVALID = 422
WEIGHT_SLIDER_MAX = 100


# --- the list ------------------------------------------------------------------------------------

def _teams(permission):
    """(id, name) of the teams where `permission` holds (names without the tree's indent)."""
    return [(unit_id, label.strip()) for unit_id, label in unit_choices(current_scope(), permission, kinds=("team",))]


@blueprint.get("")
@require(BONUS_VIEW)
def pools():
    actor = current_actor()
    form = PoolFilterForm(request.args)
    teams = _teams(BONUS_VIEW)
    form.unit.choices = [("", _("Every team"))] + teams
    unit = OrgUnit.get_by_id(form.unit.data) if form.unit.data in {t for t, _label in teams} else None
    month = form.month.data if form.month.validate(form) else None
    rows = services.pools_for(actor, unit, month)
    if form.state.data in services.STATE_LABELS:
        rows = [pool for pool in rows if pool.state == form.state.data]
    page, per_page = parse_page(request.args), current_app.config.get("PAGE_SIZE", 50)
    has_next = len(rows) > page * per_page
    rows = rows[(page - 1) * per_page:page * per_page]
    counts = dict(BonusPoolMember.select(BonusPoolMember.pool, pw.fn.COUNT(BonusPoolMember.id))
                  .where(BonusPoolMember.pool.in_([p.id for p in rows] or [0])).group_by(BonusPoolMember.pool)
                  .tuples())
    args = {"unit": unit.id if unit else None, "month": month.strftime("%Y-%m") if month else None,
            "state": form.state.data or None}
    args = {k: v for k, v in args.items() if v}
    return render("bonus/pools.html", "bonus/_pools.html", form=form, pools=rows, counts=counts, page=page,
                  has_next=has_next, args=args, can_create=current_scope().has_any(BONUS_MANAGE))


# --- a new pool ----------------------------------------------------------------------------------

def _version_choices(actor, team_ids):
    """(version id, label) of the published rule versions of the teams' companies."""
    company_ids = sorted({company_id for (company_id,) in OrgUnit.select(OrgUnit.company).where(
        OrgUnit.id.in_(team_ids or [0])).tuples() if company_id})
    choices = []
    for company in OrgUnit.select().where(OrgUnit.id.in_(company_ids or [0])).order_by(OrgUnit.path):
        for version in services.published_versions(actor, company):
            choices.append((version.id, _("%(company)s · %(rule)s, version %(n)d", company=company.name,
                                          rule=version.rule.name, n=version.number)))
    return choices


@blueprint.route("/new", methods=["GET", "POST"])
@require(BONUS_MANAGE)
def new_pool():
    actor = current_actor()
    teams = _teams(BONUS_MANAGE)
    if request.method == "POST":
        form = PoolForm()
    else:
        unit = OrgUnit.get_or_none(OrgUnit.id == request.args.get("unit", type=int))
        company = OrgUnit.get_or_none(OrgUnit.id == unit.company_id) if unit and unit.company_id else None
        form = PoolForm(formdata=None, unit=unit.id if unit else None, month=dt.date.today().replace(day=1),
                        currency=(company.currency if company else None) or "CNY")
    form.unit.choices = teams
    form.rule_version.choices = _version_choices(actor, [t for t, _label in teams])
    if form.validate_on_submit():
        try:
            unit = OrgUnit.get_by_id(form.unit.data)
            pool = services.create_pool(actor, unit, form.month.data, form.amount_minor(),
                                        form.currency.data, form.rule_version.data)
        except ServiceError as error:
            if error.field == "period":
                error.field = "month"
            apply_service_error(form, error)
        else:
            flash(_("The pool is created with its members from the team's assignments. Compute it next."),
                  "success")
            return redirect_after_change(url_for(".pool", bonus_pool_id=pool.id))
    return render("bonus/pool_new.html", "bonus/_pool_form.html", status=INVALID if form.is_submitted() else 200,
                  form=form)


# --- the pool page -------------------------------------------------------------------------------

def whatif_defaults(definition, currency, values=None):
    """The what-if's sliders [(DimensionInfo, max)] of `definition` (the saved rule's, or
    the previewed one's), and the floor and cap as typed (else the rule's)."""
    values = values or {}
    sliders = [(info, max(WEIGHT_SLIDER_MAX, int(info.weight * 2)))
               for info in services.describe_definition(definition)]
    floor = values.get("floor", _major_text(definition["floor_minor"], currency))
    cap = values.get("cap", _major_text(definition["cap_minor"], currency))
    return sliders, floor, cap


def _major_text(minor, currency):
    return "" if minor is None else str(to_decimal(minor, currency))


def pool_context(actor, pool, **extra):
    """What the pool page shows (see the module docstring)."""
    unit = OrgUnit.get_by_id(pool.unit_id)
    version = services.BonusRuleVersion.get_by_id(pool.rule_version_id)
    definition = services.definition_of(version)
    computed = pool.computed_at is not None
    members = services.pool_members(pool)
    adjustment_form = extra.pop("adjustment_form", None) or AdjustmentForm(formdata=None)
    adjustment_form.member.choices = [(m.id, f"{m.employee.display_name} ({m.employee.number})") for m in members]
    preview = extra.get("preview")
    sliders, floor, cap = whatif_defaults(preview.definition if preview else definition, pool.currency,
                                          extra.pop("whatif_values", None))
    context = dict(
        pool=pool, unit=unit, company=OrgUnit.get_by_id(pool.company_id), version=version,
        rule=BonusRule.get_by_id(version.rule_id), definition=definition,
        dimensions=services.describe_definition(definition), computed=computed, members=members,
        table=services.team_table(actor, pool) if computed else None,
        adjustments=services.pool_adjustments(pool), trail=services.approval_trail(pool),
        snapshot=services.snapshot_hash(pool) if computed else None,
        corrects=BonusPool.get_or_none(BonusPool.id == pool.corrects_id) if pool.corrects_id else None,
        corrected_by=BonusPool.select().where(BonusPool.corrects == pool.id).first(),
        can_manage=can(BONUS_MANAGE, unit), can_approve=can(BONUS_APPROVE, unit),
        confirm_form=ConfirmForm(), submit_form=SubmitForm(formdata=None),
        correction_form=CorrectionForm(formdata=None), remove_form=RemoveAdjustmentForm(formdata=None),
        adjustment_form=adjustment_form, sliders=sliders, whatif_floor=floor, whatif_cap=cap,
        preview=None, whatif_error=None, action_error=None,
    )
    context.update(extra)
    return context


def _render_pool(actor, pool, status=200, **extra):
    return render("bonus/pool.html", "bonus/_pool.html", status=status,
                  **pool_context(actor, BonusPool.get_by_id(pool.id), **extra))


@blueprint.get("/<int:bonus_pool_id>")
@require(BONUS_VIEW)
def pool(bonus_pool_id):
    return _render_pool(current_actor(), load_or_404(BonusPool, bonus_pool_id))


@blueprint.get("/<int:bonus_pool_id>/team")
@require(BONUS_VIEW)
def team(bonus_pool_id):
    row = load_or_404(BonusPool, bonus_pool_id)
    table = services.team_table(current_actor(), row)
    return render("bonus/team.html", "bonus/_team.html", table=table, pool=row, definition=services.definition_of(
        table.rule_version), unit=table.unit)


# --- the workflow --------------------------------------------------------------------------------

def _change(bonus_pool_id, permission, action, success, make_form=lambda pool: ConfirmForm(), form_name=None):
    """Load the pool (404 outside `permission`'s scope), check the form, run `action(actor,
    pool, form)`; a refusal re-renders the pool block (422), a change redirects."""
    actor = current_actor()
    row = load_or_404(BonusPool, bonus_pool_id, permission)
    form = make_form(row)
    if form.validate_on_submit():
        try:
            target = action(actor, row, form)
        except ServiceError as error:
            if form_name:
                apply_service_error(form, error)
                return _render_pool(actor, row, INVALID, **{form_name: form})
            return _render_pool(actor, row, INVALID, action_error=str(error.message))
        if success:
            flash(success, "success")
        return redirect_after_change(url_for(".pool", bonus_pool_id=getattr(target, "id", row.id)))
    if form_name:
        return _render_pool(actor, row, INVALID, **{form_name: form})
    return _render_pool(actor, row, INVALID, action_error=_("The form expired. Reload the page and try again."))


@blueprint.post("/<int:bonus_pool_id>/compute")
@require(BONUS_MANAGE)
def compute(bonus_pool_id):
    return _change(bonus_pool_id, BONUS_MANAGE, lambda actor, pool, form: services.compute_pool(actor, pool).pool,
                   _("The pool is computed."))


@blueprint.post("/<int:bonus_pool_id>/members")
@require(BONUS_MANAGE)
def refresh(bonus_pool_id):
    def action(actor, pool, form):
        added, removed = services.refresh_members(actor, pool)
        flash(_("Members read again from the assignments: %(added)d added, %(removed)d removed. Compute the pool "
                "again.", added=added, removed=removed), "success")
        return pool

    return _change(bonus_pool_id, BONUS_MANAGE, action, None)


@blueprint.post("/<int:bonus_pool_id>/submit")
@require(BONUS_MANAGE)
def submit(bonus_pool_id):
    return _change(bonus_pool_id, BONUS_MANAGE,
                   lambda actor, pool, form: services.submit_pool(actor, pool, form.note.data or "") and pool,
                   _("The pool is sent for approval."), lambda pool: SubmitForm(), "submit_form")


@blueprint.post("/<int:bonus_pool_id>/withdraw")
@require(BONUS_MANAGE)
def withdraw(bonus_pool_id):
    return _change(bonus_pool_id, BONUS_MANAGE, lambda actor, pool, form: services.withdraw_pool(actor, pool),
                   _("The pool is withdrawn: it is a draft again."))


@blueprint.post("/<int:bonus_pool_id>/lock")
@require(BONUS_APPROVE)
def lock(bonus_pool_id):
    return _change(bonus_pool_id, BONUS_APPROVE, lambda actor, pool, form: services.lock_pool(actor, pool),
                   _("The pool is locked. It never changes from now on."))


@blueprint.post("/<int:bonus_pool_id>/correct")
@require(BONUS_MANAGE)
def correct(bonus_pool_id):
    return _change(bonus_pool_id, BONUS_MANAGE,
                   lambda actor, pool, form: services.correct_pool(actor, pool, form.reason.data),
                   _("The correction is a new draft version of the pool; the locked one stays as it was."),
                   lambda pool: CorrectionForm(), "correction_form")


# --- adjustments ---------------------------------------------------------------------------------

@blueprint.post("/<int:bonus_pool_id>/adjustments")
@require(BONUS_MANAGE)
def add_adjustment(bonus_pool_id):
    def action(actor, pool, form):
        services.add_adjustment(actor, pool, form.member.data, form.amount_minor(pool.currency),
                                form.reason.data)
        return pool

    return _change(bonus_pool_id, BONUS_MANAGE, action, _("The adjustment is added and the pool computed again."),
                   _adjustment_form, "adjustment_form")


def _adjustment_form(pool):
    form = AdjustmentForm()
    form.member.choices = [(m.id, f"{m.employee.display_name} ({m.employee.number})")
                           for m in services.pool_members(pool)]
    return form


@blueprint.post("/<int:bonus_pool_id>/adjustments/remove")
@require(BONUS_MANAGE)
def remove_adjustment(bonus_pool_id):
    def action(actor, pool, form):
        adjustment = BonusAdjustment.get_or_none((BonusAdjustment.id == optional_int(form.adjustment.data))
                                                 & (BonusAdjustment.pool == pool.id))
        if adjustment is None:
            raise ServiceError(_("This adjustment is no longer there. Reload the page."))
        services.remove_adjustment(actor, adjustment)
        return pool

    return _change(bonus_pool_id, BONUS_MANAGE, action, _("The adjustment is removed and the pool computed again."),
                   lambda pool: RemoveAdjustmentForm())


# --- the what-if ---------------------------------------------------------------------------------

@blueprint.post("/<int:bonus_pool_id>/preview")
@require(BONUS_VIEW)
def preview(bonus_pool_id):
    """What the pool would give with the what-if's weights, floor and cap: nothing is saved."""
    actor = current_actor()
    row = load_or_404(BonusPool, bonus_pool_id)
    definition = services.definition_of(services.BonusRuleVersion.get_by_id(row.rule_version_id))
    status, result, error = 200, None, None
    try:
        result = services.preview_pool(actor, row, whatif_overrides(request.form, definition, row.currency))
    except ServiceError as refusal:
        status, error = INVALID, str(refusal.message)
    values = {k: v for k, v in request.form.items() if k.startswith("weight-") or k in ("floor", "cap")}
    if wants_fragment():
        sliders, _floor, _cap = whatif_defaults(result.definition if result else definition, row.currency)
        return render("bonus/_whatif_result.html", "bonus/_whatif_result.html", status=status, pool=row,
                      preview=result, whatif_error=error, sliders=sliders if result else None, oob=True)
    return _render_pool(actor, row, status, preview=result, whatif_error=error, whatif_values=values)

