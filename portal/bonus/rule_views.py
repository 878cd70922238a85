"""Bonus rules under /bonus/rules: a company's rules, a rule's versions read out in
words, the editor of its draft (rows of dimensions added and removed through htmx,
the form re-rendered by the server with what was typed) and publishing, after
which a version never changes (bonus.manage on the company)."""
import peewee as pw
from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _

from portal.bonus import services
from portal.bonus.forms import PublishForm, apply_rule_error, definition_from_form, edit_rows, rule_form
from portal.bonus.models import BonusRule
from portal.bonus.permissions import BONUS_MANAGE
from portal.core.errors import ServiceError
from portal.core.htmx import redirect_after_change, render
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.org.models import OrgUnit

blueprint = Blueprint("rules", __name__, url_prefix="/rules")
INVALID = 422


def managed_companies():
    """(id, name) of the companies whose rules the user manages (bonus.manage on the company)."""
    return [(unit_id, name) for unit_id, name in OrgUnit.select(OrgUnit.id, OrgUnit.name).where(
        (OrgUnit.kind == "company") & OrgUnit.archived_at.is_null()
        & current_scope().unit_condition(BONUS_MANAGE)).order_by(OrgUnit.path).tuples()]


def _company_arg(choices):
    """The company of ?company= among `choices`, else the first; 404 outside them."""
    if not choices:
        return None
    company_id = request.args.get("company", type=int) or choices[0][0]
    if company_id not in {unit_id for unit_id, _name in choices}:
        abort(404)
    return OrgUnit.get_by_id(company_id)


def version_views(rule):
    """The rule's versions, newest first, each with `.definition` and `.dimensions`."""
    versions = services.rule_versions(rule)
    for version in versions:
        version.definition = services.definition_of(version)
        version.dimensions = services.describe_definition(version.definition)
    return versions


@blueprint.get("")
@require(BONUS_MANAGE)
def rules():
    choices = managed_companies()
    company = _company_arg(choices)
    rows = services.rules_for(current_actor(), company) if company is not None else []
    for rule in rows:
        versions = services.rule_versions(rule)
        rule.published = next((v for v in versions if v.published_at is not None), None)
        rule.draft = versions[0] if versions and versions[0].published_at is None else None
    return render("bonus/rules.html", "bonus/_rules.html", company=company, choices=choices, rules=rows)


def _editor(company, rule):
    """The editor of a new rule (rule None) or of the rule's draft; saving redirects to the rule."""
    currency = company.currency or "CNY"
    latest = services.rule_versions(rule)[0] if rule is not None else None
    status = 200
    if request.method == "POST":
        form = rule_form(None, currency, formdata=request.form)
        op = request.form.get("op", "")
        if op:  # add or remove a row: the same form again, nothing saved
            return _render_editor(company, rule, latest, edit_rows(form, op))
        if form.validate_on_submit():
            try:
                definition = definition_from_form(form)
                if rule is None:
                    version = services.create_rule(current_actor(), company, form.name.data, definition,
                                                   form.description.data, form.note.data)
                else:
                    version = services.save_rule_draft(current_actor(), rule, definition, form.note.data)
            except ServiceError as error:
                apply_rule_error(form, error)
            else:
                flash(_("Version %(n)d is saved as a draft. Publish it to use it in pools.", n=version.number),
                      "success")
                return redirect_after_change(url_for(".rule", bonus_rule_id=version.rule_id))
        status = INVALID
    elif rule is None:
        form = rule_form(services.DEFAULT_DEFINITION, currency)
    else:
        draft = latest.published_at is None
        form = rule_form(services.definition_of(latest), currency, note=latest.note if draft else "")
    return _render_editor(company, rule, latest, form, status)


def _render_editor(company, rule, latest, form, status=200):
    action = url_for(".edit_rule", bonus_rule_id=rule.id) if rule is not None else \
        url_for(".new_rule", company=company.id)
    return render("bonus/rule_editor.html", "bonus/_rule_form.html", status=status, company=company, rule=rule,
                  latest=latest, form=form, action=action, currency=company.currency or "CNY")


@blueprint.route("/new", methods=["GET", "POST"])
@require(BONUS_MANAGE)
def new_rule():
    company = _company_arg(managed_companies())
    if company is None:
        abort(404)
    return _editor(company, None)


@blueprint.route("/<int:bonus_rule_id>/edit", methods=["GET", "POST"])
@require(BONUS_MANAGE)
def edit_rule(bonus_rule_id):
    rule = load_or_404(BonusRule, bonus_rule_id)
    return _editor(OrgUnit.get_by_id(rule.company_id), rule)


def _render_rule(rule, status=200, error=None):
    versions = version_views(rule)
    draft = versions[0] if versions and versions[0].published_at is None else None
    pools = dict(services.BonusPool.select(services.BonusPool.rule_version, pw.fn.COUNT(services.BonusPool.id))
                 .where(services.BonusPool.rule_version.in_([v.id for v in versions] or [0]))
                 .group_by(services.BonusPool.rule_version).tuples())
    company = OrgUnit.get_by_id(rule.company_id)
    return render("bonus/rule.html", "bonus/_rule.html", status=status, rule=rule, company=company,
                  currency=company.currency or "CNY", versions=versions, draft=draft, pools=pools,
                  publish_form=PublishForm(number=draft.number if draft else ""), error=error)


@blueprint.get("/<int:bonus_rule_id>")
@require(BONUS_MANAGE)
def rule(bonus_rule_id):
    return _render_rule(load_or_404(BonusRule, bonus_rule_id))


@blueprint.post("/<int:bonus_rule_id>/publish")
@require(BONUS_MANAGE)
def publish_rule(bonus_rule_id):
    rule = load_or_404(BonusRule, bonus_rule_id)
    form = PublishForm()
    latest = services.rule_versions(rule)[0]
    if not form.validate_on_submit():
        return _render_rule(rule, INVALID, _("The form expired. Reload the page and try again."))
    if latest.published_at is not None or form.number.data != str(latest.number):
        return _render_rule(rule, INVALID, _("The draft changed meanwhile. Read it again before publishing."))
    try:
        version = services.publish_rule_version(current_actor(), latest)
    except ServiceError as error:
        return _render_rule(rule, INVALID, str(error.message))
    flash(_("Version %(n)d is published. It no longer changes; pools can use it now.", n=version.number), "success")
    return redirect_after_change(url_for(".rule", bonus_rule_id=rule.id))
