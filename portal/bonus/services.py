"""Bonus pools (issue 6): rules, pools, the what-if preview, approval, statements.

Rows become arrays here, the allocation is portal/bonus/engine.py, money is rounded
there once (largest remainder) and converted here to each person's pay currency
with the rate, its date and its source recorded (portal/core/fx.py).

Service API (every write audited, inside `database.atomic()`, scope-checked; an
object outside the actor's scope raises NotInScope (404); a refused change raises
ServiceError(message, field=...)):

Rules (bonus.manage on the rule's company)
- `normalise_definition(definition) -> dict` — validates and canonicalises a rule
  definition (shape below); ServiceError with `field` like "dimensions-0-weight".
- `create_rule(actor, company, name, definition, description="", note="") -> BonusRuleVersion`
  (the rule with its version 1, a draft).
- `save_rule_draft(actor, rule, definition, note="") -> BonusRuleVersion` — edits the
  rule's unpublished version, or starts the next one when the latest is published.
- `publish_rule_version(actor, version) -> BonusRuleVersion` — from then on immutable.
- `rules_for(actor, company) -> [BonusRule]`, `rule_versions(rule) -> [BonusRuleVersion]`
  (newest first), `published_versions(actor, company) -> [BonusRuleVersion]` (with .rule),
  `definition_of(version) -> dict`, `describe_definition(definition) -> [DimensionInfo]`.
Pools (bonus.manage on the pool's team; writes refuse a pool that is not a draft)
- `create_pool(actor, unit, period_start, amount_minor, currency, rule_version) -> BonusPool`
  — the period is the month of `period_start`; members from the assignments in the
  team during it (participation = Σ share% × days held ÷ days of the month).
- `update_pool(actor, pool, version, amount_minor=None, currency=None, rule_version=None) -> BonusPool`
- `refresh_members(actor, pool) -> (added, removed)` — members re-read from assignments.
- `gather_dimension_values(pool, definition=None, members=None) -> Gathered` — the
  engine's input arrays, read in a few set-based queries.
- `compute_pool(actor, pool) -> PoolResult` — runs the engine, stores one BonusLine per
  member (pool and pay currency), the lines + leftover equal the (multiplied) pool exactly.
- `preview_pool(actor, pool, overrides=None) -> Preview` (bonus.view) — the what-if:
  computes with the overrides, saves nothing, and compares with the saved lines (the
  pool's own, else those of the pool it corrects). Uses the saved raw values when
  the pool has lines, so it runs no data query beyond lines, members and adjustments.
- `add_adjustment(actor, pool, member, amount_minor, reason) -> BonusAdjustment`,
  `remove_adjustment(actor, adjustment)` — both recompute the pool (total stays exact).
- `submit_pool(actor, pool) -> ApprovalRequest` — approval kind "bonus.pool_approval"
  (chain company HR → group administrator; nobody approves their own request); on
  approval the pool is "approved", on rejection/withdrawal a draft again.
  `withdraw_pool(actor, pool)` — the submitter takes it back.
- `lock_pool(actor, pool) -> BonusPool` (bonus.approve) — approved → locked, for good.
- `correct_pool(actor, pool, reason) -> BonusPool` — a locked pool's correction: a new
  draft pool, number + 1, `corrects` = pool, members and adjustments copied.
- `pools_for(actor, unit=None, period_start=None) -> [BonusPool]` (bonus.view scope,
  newest first), `pool_members(pool) -> [BonusPoolMember with .employee]`,
  `pool_adjustments(pool) -> [BonusAdjustment with .member.employee]`,
  `latest_pool(unit, period_start) -> BonusPool | None`, `approval_trail(pool) -> [ApprovalStep]`,
  `pool_snapshot(pool) -> dict` (canonical data of a computed pool, for export hashes).
Support points (bonus.points on the team)
- `add_support_points(actor, employee, unit, period_start, points, reason) -> BonusSupportPoint`,
  `support_points_for(actor, unit, period_start) -> [BonusSupportPoint]`.
Statements
- `statement_for(actor, pool, employee) -> Statement` — the person's own statement
  (self-service, for approved and locked pools) or anyone's with bonus.view on the team.
- `my_statements(actor) -> [(BonusPool, BonusLine)]` — the actor's own, newest first.
- `team_table(actor, pool) -> TeamTable` (bonus.view on the team) — the lead's table.

A rule definition (JSON, as `normalise_definition` returns it):
    {"dimensions": [{"key": "workload", "source": "cs.workload", "direction": "higher",
                     "normalisation": "minmax" | "percentile" | "ratio_cap", "cap": 2.0,
                     "weight": 40.0}, ...],
     "eligibility": {"min_days_worked": 0, "probation": "include" | "scale" | "exclude",
                     "probation_scale": 0.5},
     "floor_minor": 0, "cap_minor": null,      # per person, pool currency, × participation
     "team_multiplier_bp": 10000,               # 11000 = ×1.1 when the team target is met
     "team_target": null | {"source": "cs.satisfaction_shrunk", "direction": "higher", "threshold": 0.9},
     "rounding_unit_minor": 1}                  # 100 = whole yuan
Preview overrides: any top-level field of a definition (replacing it; "eligibility"
merged), plus per-dimension {"weights": {key: w}, "normalisation": {key: n},
"direction": {key: d}, "cap": {key: c}}.
A BonusLine's `raw` JSON: {source key: value or null} of the rule's sources, plus
the eligibility facts "hr.days_worked" and "hr.probation" (1.0 / 0.0);
`normalised` and `contributions`: {dimension key: float}.
"""
import calendar
import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
import peewee as pw
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from portal.accounts.models import User
from portal.approvals.kinds import Draft, RequestKind, register_kind, request_reason
from portal.approvals.models import ApprovalRequest
from portal.bonus import engine, sources
from portal.bonus.models import (BonusAdjustment, BonusLine, BonusPool, BonusPoolMember, BonusRule, BonusRuleVersion,
                                 BonusSupportPoint)
from portal.bonus.permissions import BONUS_APPROVE, BONUS_MANAGE, BONUS_POINTS, BONUS_VIEW
from portal.core import fx
from portal.core.audit import declare_actions, record_event
from portal.core.db import chunked_insert, database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.org.models import OrgUnit
from portal.people.models import Assignment, Contract, Employee
from portal.people.permissions import one_of

KIND = "bonus.pool_approval"
DIRECTIONS = ("higher", "lower")
NORMALISATIONS = {"minmax": engine.MINMAX, "percentile": engine.PERCENTILE, "ratio_cap": engine.RATIO}
PROBATION_RULES = ("include", "scale", "exclude")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_DIMENSIONS = 12
MAX_WEIGHT = 1000.0
MAX_REASON = 2000
NO_MULTIPLIER = 10_000
FACT_DAYS = "hr.days_worked"
FACT_PROBATION = "hr.probation"

DEFAULT_DEFINITION = {
    "dimensions": [
        {"key": "workload", "source": "cs.workload", "direction": "higher", "normalisation": "minmax", "weight": 40},
        {"key": "first_response", "source": "cs.first_response_seconds", "direction": "lower",
         "normalisation": "percentile", "weight": 20},
        {"key": "resolution", "source": "cs.resolution_rate", "direction": "higher", "normalisation": "minmax",
         "weight": 20},
        {"key": "satisfaction", "source": "cs.satisfaction_shrunk", "direction": "higher",
         "normalisation": "ratio_cap", "cap": 1.5, "weight": 20},
    ],
    "eligibility": {"min_days_worked": 0, "probation": "scale", "probation_scale": 0.5},
    "floor_minor": 0, "cap_minor": None, "team_multiplier_bp": NO_MULTIPLIER, "team_target": None,
    "rounding_unit_minor": 1,
}

ENGINE_MESSAGES = {
    "bonus.floors_above_pool": _l("The floors add up to more than the pool. Lower the floor or raise the pool."),
    "bonus.caps_below_pool": _l("The caps cannot hold the whole pool. Raise the cap or lower the pool."),
    "bonus.floor_above_cap": _l("The floor is above the cap."),
    "bonus.adjustments_above_pool": _l("The adjustments add up to more than the pool."),
    "bonus.adjustment_below_zero": _l("An adjustment would take someone's amount below zero."),
    "bonus.pool_too_large": _l("The pool is too large."),
    "bonus.nobody_eligible": _l("Nobody in the pool is eligible."),
}
INELIGIBLE_REASONS = {
    "min_days": _l("Fewer days worked than the rule requires"),
    "probation": _l("On probation (excluded by the rule)"),
    "no_capacity": _l("No capacity in the team during the period"),
}
STATE_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted"), "approved": _l("Approved"),
                "locked": _l("Locked")}

declare_actions({
    "bonus.rule_created": _l("Bonus rule created"),
    "bonus.rule_draft_saved": _l("Bonus rule draft saved"),
    "bonus.rule_published": _l("Bonus rule version published"),
    "bonus.pool_created": _l("Bonus pool created"),
    "bonus.pool_updated": _l("Bonus pool edited"),
    "bonus.pool_members_refreshed": _l("Bonus pool members updated from assignments"),
    "bonus.pool_computed": _l("Bonus pool computed"),
    "bonus.adjustment_added": _l("Bonus adjustment added"),
    "bonus.adjustment_removed": _l("Bonus adjustment removed"),
    "bonus.pool_submitted": _l("Bonus pool submitted for approval"),
    "bonus.pool_approved": _l("Bonus pool approved"),
    "bonus.pool_returned": _l("Bonus pool returned to draft"),
    "bonus.pool_locked": _l("Bonus pool locked"),
    "bonus.pool_corrected": _l("Bonus pool correction started"),
    "bonus.support_points_added": _l("Support points given"),
})


# --- periods and small helpers -------------------------------------------------------------------

def month_period(day):
    """(first day, last day) of the month of `day`."""
    start = day.replace(day=1)
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])


def company_of(unit):
    return OrgUnit.get_by_id(unit.company_id) if unit.company_id else unit


def _reason(reason):
    return request_reason({"reason": reason}, max_length=MAX_REASON)


def _nan_to_none(value):
    value = float(value)
    return None if math.isnan(value) else value


def _none_to_nan(value):
    return float("nan") if value is None else float(value)


# --- rule definitions ----------------------------------------------------------------------------

def _number(value, field_name, low=None, high=None, integer=False, message=None):
    try:
        number = int(value) if integer and not isinstance(value, float) else float(value)
        if integer and float(number) != float(value):
            raise ValueError
    except (TypeError, ValueError):
        raise ServiceError(message or _("Enter a number."), field=field_name) from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ServiceError(message or _("Enter a number."), field=field_name)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ServiceError(message or _("Enter a number from %(low)s to %(high)s.", low=low, high=high),
                           field=field_name)
    return number


def normalise_definition(definition):
    """The rule definition checked and in canonical form (module docstring)."""
    definition = dict(definition or {})
    dimensions = definition.get("dimensions") or []
    if not dimensions:
        raise ServiceError(_("Add at least one dimension."), field="dimensions")
    if len(dimensions) > MAX_DIMENSIONS:
        raise ServiceError(_("A rule has at most %(n)d dimensions.", n=MAX_DIMENSIONS), field="dimensions")
    out_dims, keys = [], set()
    for i, dim in enumerate(dimensions):
        prefix = f"dimensions-{i}-"
        source = dim.get("source")
        if source not in sources.SOURCES:
            raise ServiceError(_("Choose where the values come from."), field=prefix + "source")
        key = (dim.get("key") or source.split(".", 1)[-1]).strip().lower()
        if not KEY_RE.match(key):
            raise ServiceError(_("Use lower-case letters, digits and _ (up to 32)."), field=prefix + "key")
        if key in keys:
            raise ServiceError(_("Each dimension needs its own key."), field=prefix + "key")
        keys.add(key)
        direction = dim.get("direction") or sources.SOURCES[source].direction
        if direction not in DIRECTIONS:
            raise ServiceError(_("Choose whether higher or lower is better."), field=prefix + "direction")
        normalisation = dim.get("normalisation") or "minmax"
        if normalisation not in NORMALISATIONS:
            raise ServiceError(_("Choose a normalisation."), field=prefix + "normalisation")
        cap = _number(dim.get("cap", 2.0) if dim.get("cap") is not None else 2.0, prefix + "cap", 1.0, 100.0)
        weight = _number(dim.get("weight", 0), prefix + "weight", 0.0, MAX_WEIGHT)
        out_dims.append({"key": key, "source": source, "direction": direction, "normalisation": normalisation,
                         "cap": cap, "weight": weight})
    if sum(d["weight"] for d in out_dims) <= 0:
        raise ServiceError(_("Give at least one dimension a weight above zero."), field="dimensions-0-weight")
    eligibility = dict(definition.get("eligibility") or {})
    probation = eligibility.get("probation") or "include"
    if probation not in PROBATION_RULES:
        raise ServiceError(_("Choose how probation counts."), field="probation")
    out = {
        "dimensions": out_dims,
        "eligibility": {
            "min_days_worked": _number(eligibility.get("min_days_worked") or 0, "min_days_worked", 0, 31,
                                       integer=True),
            "probation": probation,
            "probation_scale": _number(eligibility.get("probation_scale", 0.5)
                                       if eligibility.get("probation_scale") is not None else 0.5,
                                       "probation_scale", 0.0, 1.0),
        },
        "floor_minor": _number(definition.get("floor_minor") or 0, "floor_minor", 0, engine.MAX_POOL - 1,
                               integer=True),
        "cap_minor": None if definition.get("cap_minor") in (None, "") else _number(
            definition["cap_minor"], "cap_minor", 0, engine.MAX_POOL - 1, integer=True),
        "team_multiplier_bp": _number(definition.get("team_multiplier_bp") or NO_MULTIPLIER, "team_multiplier_bp",
                                      0, 100_000, integer=True),
        "team_target": None,
        "rounding_unit_minor": _number(definition.get("rounding_unit_minor") or 1, "rounding_unit_minor", 1,
                                       1_000_000, integer=True),
    }
    if out["cap_minor"] is not None and out["cap_minor"] < out["floor_minor"]:
        raise ServiceError(_("The cap must not be below the floor."), field="cap_minor")
    target = definition.get("team_target")
    if target:
        source = target.get("source")
        if source not in sources.SOURCES:
            raise ServiceError(_("Choose the figure the team target is about."), field="team_target-source")
        direction = target.get("direction") or sources.SOURCES[source].direction
        if direction not in DIRECTIONS:
            raise ServiceError(_("Choose whether higher or lower is better."), field="team_target-direction")
        out["team_target"] = {"source": source, "direction": direction,
                              "threshold": _number(target.get("threshold"), "team_target-threshold")}
    return out


def definition_of(version):
    return json.loads(version.definition)


def _canonical(definition):
    return json.dumps(definition, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class DimensionInfo:
    key: str
    source: str
    label: object
    unit: str
    direction: str
    normalisation: str
    cap: float
    weight: float
    weight_share: float   # weight ÷ Σ weights


def describe_definition(definition):
    """The rule's dimensions with their sources' labels and units, for pages and statements."""
    total = sum(d["weight"] for d in definition["dimensions"]) or 1.0
    return [DimensionInfo(d["key"], d["source"], sources.SOURCES[d["source"]].label, sources.SOURCES[d["source"]].unit,
                          d["direction"], d["normalisation"], d["cap"], d["weight"], d["weight"] / total)
            for d in definition["dimensions"]]


# --- rules ---------------------------------------------------------------------------------------

def _rule_name(name, company, rule_id=None):
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Give the rule a name."), field="name")
    if len(name) > 120:
        raise ServiceError(_("Use at most %(max)d characters.", max=120), field="name")
    clash = BonusRule.select().where((BonusRule.company == company.id) & (BonusRule.name == name))
    if rule_id is not None:
        clash = clash.where(BonusRule.id != rule_id)
    if clash.exists():
        raise ServiceError(_("The company already has a rule of this name."), field="name")
    return name


def create_rule(actor, company, name, definition, description="", note=""):
    """A new rule of `company` with its version 1 as a draft; returns the version."""
    company = company_of(company)
    actor.require(BONUS_MANAGE, company)
    name = _rule_name(name, company)
    definition = normalise_definition(definition)
    with database.atomic():
        rule = BonusRule.create(company=company, name=name, description=(description or "").strip(),
                                created_by=actor.user)
        version = BonusRuleVersion.create(rule=rule, number=1, definition=_canonical(definition),
                                          note=(note or "").strip())
        record_event("bonus.rule_created", rule, unit=company, actor=actor.user,
                     after={"name": name, "definition": definition})
    return version


def _latest_version(rule):
    return BonusRuleVersion.select().where(BonusRuleVersion.rule == rule.id).order_by(
        BonusRuleVersion.number.desc()).first()


def save_rule_draft(actor, rule, definition, note=""):
    """Edit the rule: its unpublished version changes, or (the latest being published)
    the next version is started as a draft. Published versions never change."""
    actor.require(BONUS_MANAGE, OrgUnit.get_by_id(rule.company_id))
    definition = normalise_definition(definition)
    with database.atomic():
        latest = _latest_version(rule)
        if latest is not None and latest.published_at is None:
            before = definition_of(latest)
            BonusRuleVersion.update(definition=_canonical(definition), note=(note or "").strip()).where(
                (BonusRuleVersion.id == latest.id) & BonusRuleVersion.published_at.is_null()).execute()
            version = BonusRuleVersion.get_by_id(latest.id)
        else:
            before = None
            version = BonusRuleVersion.create(rule=rule.id, number=(latest.number + 1) if latest else 1,
                                              definition=_canonical(definition), note=(note or "").strip())
        record_event("bonus.rule_draft_saved", version, label=f"{rule.name} v{version.number}",
                     unit=rule.company_id, actor=actor.user, before=before, after=definition)
    return version


def publish_rule_version(actor, version):
    """Publish a draft version: pools may use it from now on, and it never changes again."""
    rule = BonusRule.get_by_id(version.rule_id)
    actor.require(BONUS_MANAGE, OrgUnit.get_by_id(rule.company_id))
    with database.atomic():
        changed = BonusRuleVersion.update(published_at=utcnow(), published_by=actor.user).where(
            (BonusRuleVersion.id == version.id) & BonusRuleVersion.published_at.is_null()).execute()
        if not changed:
            raise ServiceError(_("This version is already published."))
        version = BonusRuleVersion.get_by_id(version.id)
        record_event("bonus.rule_published", version, label=f"{rule.name} v{version.number}", unit=rule.company_id,
                     actor=actor.user, after={"number": version.number, "definition": definition_of(version)})
    return version


def rules_for(actor, company):
    """The company's rules the actor may manage, by name."""
    return list(BonusRule.select().where((BonusRule.company == company_of(company).id)
                                         & actor.scope.condition(BonusRule.company, BONUS_MANAGE))
                .order_by(BonusRule.name))


def rule_versions(rule):
    return list(BonusRuleVersion.select().where(BonusRuleVersion.rule == rule.id)
                .order_by(BonusRuleVersion.number.desc()))


def published_versions(actor, company):
    """Published versions of the company's rules (newest first per rule), with `.rule`."""
    return list(BonusRuleVersion.select(BonusRuleVersion, BonusRule).join(BonusRule)
                .where((BonusRule.company == company_of(company).id) & BonusRuleVersion.published_at.is_null(False)
                       & BonusRule.archived_at.is_null()
                       & actor.scope.condition(BonusRule.company, BONUS_MANAGE))
                .order_by(BonusRule.name, BonusRuleVersion.number.desc()))


# --- members from assignments --------------------------------------------------------------------

def members_from_assignments(unit, start, end):
    """{employee id: (participation, [assignment facts])} of the people holding a post in
    `unit` (or below) during start..end: Σ share% × days held ÷ days of the period, at most 1."""
    days = (end - start).days + 1
    query = (Assignment.select(Assignment.id, Assignment.employee, Assignment.share, Assignment.start_date,
                               Assignment.end_date, Assignment.post)
             .join(OrgUnit, on=(OrgUnit.id == Assignment.unit))
             .where(OrgUnit.path.startswith(unit.path) & (Assignment.start_date <= end)
                    & (Assignment.end_date.is_null() | (Assignment.end_date >= start)))
             .order_by(Assignment.employee, Assignment.start_date))
    found = {}
    for a in query:
        held = (min(end, a.end_date or end) - max(start, a.start_date)).days + 1
        total, facts = found.get(a.employee_id, (0.0, []))
        facts.append({"assignment": a.id, "post": a.post_id, "share": a.share, "days": held})
        found[a.employee_id] = (total + a.share / 100.0 * held / days, facts)
    return {employee_id: (min(round(total, 6), 1.0), facts) for employee_id, (total, facts) in found.items()}


# --- pools: reading ------------------------------------------------------------------------------

def pools_for(actor, unit=None, period_start=None):
    """Pools in the actor's bonus.view scope (in `unit` and below, of a month), newest first."""
    query = (BonusPool.select(BonusPool, OrgUnit).join(OrgUnit, on=(OrgUnit.id == BonusPool.unit))
             .where(actor.scope.condition(BonusPool.unit, BONUS_VIEW)))
    if unit is not None:
        query = query.where(OrgUnit.path.startswith(unit.path))
    if period_start is not None:
        query = query.where(BonusPool.period_start == month_period(period_start)[0])
    return list(query.order_by(BonusPool.period_start.desc(), OrgUnit.name, BonusPool.number.desc()))


def latest_pool(unit, period_start):
    return (BonusPool.select().where((BonusPool.unit == unit.id)
                                     & (BonusPool.period_start == month_period(period_start)[0]))
            .order_by(BonusPool.number.desc()).first())


def pool_members(pool):
    return list(BonusPoolMember.select(BonusPoolMember, Employee).join(Employee)
                .where(BonusPoolMember.pool == pool.id).order_by(Employee.legal_name, Employee.id))


@dataclass(frozen=True)
class MemberRow:
    """A member as the engine's results name it (no full Employee row needed)."""

    id: int
    employee_id: int
    participation: float
    name: str
    number: str


def member_rows(pool):
    """The pool's members as MemberRows, by name: one light query (the what-if's)."""
    query = (BonusPoolMember.select(BonusPoolMember.id, BonusPoolMember.employee, BonusPoolMember.participation,
                                    Employee.legal_name, Employee.preferred_name, Employee.number)
             .join(Employee).where(BonusPoolMember.pool == pool.id).order_by(Employee.legal_name, Employee.id))
    return [MemberRow(m_id, e_id, part, preferred or legal, number)
            for m_id, e_id, part, legal, preferred, number in query.tuples()]


def _rows_of(members):
    return [MemberRow(m.id, m.employee_id, m.participation, m.employee.display_name, m.employee.number)
            for m in members]


def pool_adjustments(pool):
    return list(BonusAdjustment.select(BonusAdjustment, BonusPoolMember, Employee, User)
                .join(BonusPoolMember).join(Employee).switch(BonusAdjustment)
                .join(User, pw.JOIN.LEFT_OUTER, on=(User.id == BonusAdjustment.created_by))
                .where(BonusAdjustment.pool == pool.id).order_by(BonusAdjustment.created_at, BonusAdjustment.id))


def approval_trail(pool):
    """The approval steps of the pool's request (role, decider, decision, comment), or []."""
    from portal.approvals.services import request_steps

    if not pool.approval_id:
        return []
    return request_steps(ApprovalRequest.get_by_id(pool.approval_id))


# --- pools: writing ------------------------------------------------------------------------------

NOT_DRAFT = {
    "submitted": _l("The pool waits for approval: withdraw it first to change it."),
    "approved": _l("The pool is approved and can no longer change."),
    "locked": _l("The pool is locked and never changes. Start a correction instead."),
}


def _draft_pool(actor, pool, permission=BONUS_MANAGE):
    """The pool, read again inside the writing transaction, if the actor may change it
    and it is still a draft."""
    unit = OrgUnit.get_by_id(pool.unit_id)
    actor.require(permission, unit)
    fresh = BonusPool.get_by_id(pool.id)
    if fresh.state != "draft":
        raise ServiceError(NOT_DRAFT.get(fresh.state, NOT_DRAFT["locked"]))
    return fresh, unit


def _pool_amount(amount_minor, currency):
    from portal.org.services import ISO_CURRENCIES

    currency = (currency or "").upper()
    if currency not in ISO_CURRENCIES:
        raise ServiceError(_("Enter an ISO 4217 currency code, such as CNY or EUR."), field="currency")
    amount = _number(amount_minor, "amount", 1, engine.MAX_POOL - 1, integer=True,
                     message=_("Enter an amount above zero."))
    return amount, currency


def _usable_version(rule_version, unit):
    version = BonusRuleVersion.get_or_none(BonusRuleVersion.id == getattr(rule_version, "id", rule_version))
    if version is None or version.published_at is None:
        raise ServiceError(_("Choose a published rule version."), field="rule_version")
    rule = BonusRule.get_by_id(version.rule_id)
    if rule.company_id != company_of(unit).id:
        raise ServiceError(_("Choose a rule of the team's company."), field="rule_version")
    return version


def _write_members(pool, found):
    chunked_insert(BonusPoolMember, [
        {"pool": pool.id, "employee": employee_id, "participation": participation,
         "assignments": json.dumps(facts), "created_at": utcnow()}
        for employee_id, (participation, facts) in sorted(found.items())])


def create_pool(actor, unit, period_start, amount_minor, currency, rule_version):
    """A draft pool for `unit` and the month of `period_start`, its members from assignments."""
    actor.require(BONUS_MANAGE, unit)
    if unit.company_id is None:
        raise ServiceError(_("Choose a team of a company."), field="unit")
    amount, currency = _pool_amount(amount_minor, currency)
    version = _usable_version(rule_version, unit)
    start, end = month_period(period_start)
    with database.atomic():
        if latest_pool(unit, start) is not None:
            raise ServiceError(_("This team already has a pool for this month. Open it, or correct it."),
                               field="period")
        pool = BonusPool.create(company=unit.company_id, unit=unit, period_start=start, period_end=end,
                                amount_minor=amount, currency=currency, rule_version=version, created_by=actor.user)
        found = members_from_assignments(unit, start, end)
        _write_members(pool, found)
        record_event("bonus.pool_created", pool, label=_pool_label(pool, unit), unit=unit, actor=actor.user,
                     after={"period": start.isoformat(), "amount_minor": amount, "currency": currency,
                            "rule_version": version.id, "members": len(found)})
    return BonusPool.get_by_id(pool.id)


def _pool_label(pool, unit=None):
    unit = unit or OrgUnit.get_by_id(pool.unit_id)
    return f"{unit.name} {pool.period_start:%Y-%m} #{pool.number}"


def _clear_lines(pool):
    BonusLine.delete().where(BonusLine.pool == pool.id).execute()
    BonusPool.update(computed_at=None, computed_by=None, effective_minor=None, leftover_minor=0,
                     version=BonusPool.version + 1).where(BonusPool.id == pool.id).execute()


def update_pool(actor, pool, version, amount_minor=None, currency=None, rule_version=None):
    """Change a draft pool's amount, currency or rule version (its lines are cleared:
    compute it again). `version` is the pool's version the editor saw."""
    with database.atomic():
        fresh, unit = _draft_pool(actor, pool)
        amount, currency = _pool_amount(fresh.amount_minor if amount_minor is None else amount_minor,
                                        currency or fresh.currency)
        rule_version = _usable_version(rule_version or fresh.rule_version_id, unit)
        changed = BonusPool.update(amount_minor=amount, currency=currency, rule_version=rule_version,
                                   version=BonusPool.version + 1).where(
            (BonusPool.id == fresh.id) & (BonusPool.version == version) & (BonusPool.state == "draft")).execute()
        if not changed:
            raise ServiceError(_("Someone else changed this pool meanwhile. Reload the page and try again."))
        _clear_lines(fresh)
        record_event("bonus.pool_updated", fresh, label=_pool_label(fresh, unit), unit=unit, actor=actor.user,
                     before={"amount_minor": fresh.amount_minor, "currency": fresh.currency,
                             "rule_version": fresh.rule_version_id},
                     after={"amount_minor": amount, "currency": currency, "rule_version": rule_version.id})
    return BonusPool.get_by_id(pool.id)


def refresh_members(actor, pool):
    """Members re-read from the assignments (people added, people gone removed with their
    adjustments, participation updated); the lines are cleared. Returns (added, removed)."""
    with database.atomic():
        fresh, unit = _draft_pool(actor, pool)
        found = members_from_assignments(unit, fresh.period_start, fresh.period_end)
        current = {m.employee_id: m for m in BonusPoolMember.select().where(BonusPoolMember.pool == fresh.id)}
        gone = [m.id for employee_id, m in current.items() if employee_id not in found]
        if gone:
            BonusPoolMember.delete().where(BonusPoolMember.id.in_(gone)).execute()
        for employee_id, (participation, facts) in found.items():
            if employee_id in current:
                BonusPoolMember.update(participation=participation, assignments=json.dumps(facts)).where(
                    BonusPoolMember.id == current[employee_id].id).execute()
        added = {k: v for k, v in found.items() if k not in current}
        _write_members(fresh, added)
        _clear_lines(fresh)
        record_event("bonus.pool_members_refreshed", fresh, label=_pool_label(fresh, unit), unit=unit,
                     actor=actor.user, after={"added": sorted(added), "removed": sorted(
                         e for e in current if e not in found)})
    return len(added), len(gone)


# --- gathering values ----------------------------------------------------------------------------

@dataclass
class Gathered:
    """The engine's inputs for a pool's members, aligned by position."""

    member_ids: list
    employee_ids: list
    sources: tuple             # source keys, the columns of `values`
    values: np.ndarray         # [N, len(sources)] float, NaN missing
    participation: np.ndarray  # [N]
    days_worked: np.ndarray    # [N] int
    on_probation: np.ndarray   # [N] bool
    team_values: dict = field(default_factory=dict)  # source key → the team's own figure
    target_met: bool | None = None  # known already (the saved lines'): the team values are not needed

    def column(self, source):
        return self.values[:, self.sources.index(source)]

    def raw_of(self, index):
        out = {key: _nan_to_none(self.values[index, k]) for k, key in enumerate(self.sources)}
        out[FACT_DAYS] = float(self.days_worked[index])
        out[FACT_PROBATION] = 1.0 if self.on_probation[index] else 0.0
        return out


def _needed_sources(definition):
    keys = [d["source"] for d in definition["dimensions"]]
    if definition.get("team_target"):
        keys.append(definition["team_target"]["source"])
    return tuple(dict.fromkeys(keys))


def _on_probation(employees, start, end):
    ids = [e.id for e in employees]
    in_contract = {employee_id for (employee_id,) in Contract.select(Contract.employee).where(
        one_of(Contract.employee, ids) & Contract.probation_end.is_null(False) & (Contract.probation_end >= start)
        & (Contract.start_date <= end)).tuples()} if ids else set()
    return np.array([e.status == "probation" or e.id in in_contract for e in employees], bool)


def gather_dimension_values(pool, definition=None, members=None):
    """The values of the rule's sources (and the eligibility facts) for the pool's
    members, in a few set-based queries (sources.Context)."""
    definition = definition or definition_of(BonusRuleVersion.get_by_id(pool.rule_version_id))
    members = members if members is not None else pool_members(pool)
    employees = [m.employee for m in members]
    participation = np.array([m.participation for m in members], np.float64)
    context = sources.Context(employees, OrgUnit.get_by_id(pool.unit_id), pool.period_start, pool.period_end,
                              participation)
    keys = _needed_sources(definition)
    values = sources.gather(context, keys)
    days = sources.attendance_days(context)[1] if employees else np.zeros(0, np.int64)
    team = {}
    if definition.get("team_target"):
        source = definition["team_target"]["source"]
        team[source] = sources.team_value(context, source)
    return Gathered([m.id for m in members], [e.id for e in employees], keys, values, participation,
                    np.asarray(days, np.int64), _on_probation(employees, pool.period_start, pool.period_end), team)


# --- running the engine --------------------------------------------------------------------------

@dataclass
class PersonResult:
    member_id: int
    employee_id: int
    name: str
    number: str
    raw: dict               # source key → value or None (+ eligibility facts)
    normalised: dict        # dimension key → float
    contributions: dict     # dimension key → weight × normalised
    score: float
    weight: float
    eligibility_scale: float
    participation: float
    ineligible_reason: str  # "" or a key of INELIGIBLE_REASONS
    floor_minor: int
    cap_minor: int | None
    at_floor: bool
    at_cap: bool
    rule_amount_minor: int
    adjustment_minor: int
    amount_minor: int
    rank: int
    saved_amount_minor: int | None = None   # preview: the saved line's amount (None: no saved line)
    saved_rank: int | None = None

    @property
    def delta_minor(self):
        return None if self.saved_amount_minor is None else self.amount_minor - self.saved_amount_minor


@dataclass
class PoolResult:
    pool: object
    currency: str
    definition: dict
    people: list              # [PersonResult], by rank
    pool_minor: int           # the pool's amount
    effective_minor: int      # after the team multiplier
    leftover_minor: int       # not allocated (rounding unit): Σ amounts + leftover = effective
    multiplier_bp: int
    target_met: bool | None   # None: the rule has no team target
    team_value: float | None
    total_minor: int          # Σ amounts


@dataclass
class Preview(PoolResult):
    error: str | None = None  # the engine's refusal, translated (then `people` carry no amounts)
    baseline: str = "none"    # "own" (the pool's saved lines), "corrected" (the pool it corrects) or "none"
    gainers: int = 0
    losers: int = 0
    gained_minor: int = 0
    lost_minor: int = 0


def _target(definition, gathered):
    target = definition.get("team_target")
    if not target:
        return None, None
    if gathered.target_met is not None:
        return gathered.target_met, None
    value = gathered.team_values.get(target["source"])
    if value is None or math.isnan(value):
        return False, None
    met = value >= target["threshold"] if target["direction"] == "higher" else value <= target["threshold"]
    return bool(met), float(value)


def _eligibility(definition, gathered):
    rule = definition["eligibility"]
    n = len(gathered.member_ids)
    reason = np.array([""] * n, dtype=object)
    scale = np.ones(n)
    eligible = np.ones(n, bool)
    short = gathered.days_worked < rule["min_days_worked"]
    eligible &= ~short
    reason[short] = "min_days"
    if rule["probation"] == "exclude":
        eligible &= ~gathered.on_probation
        reason[gathered.on_probation & (reason == "")] = "probation"
    elif rule["probation"] == "scale":
        scale = np.where(gathered.on_probation, rule["probation_scale"], 1.0)
    reason[(gathered.participation <= 0) & (reason == "")] = "no_capacity"
    return eligible, scale, reason


def _allocate(pool, definition, gathered, adjustments):
    """Run the engine on one pool: (Allocation, target_met, team value, eligibility arrays,
    floor, cap); raises ServiceError with the engine's refusal translated."""
    dims = definition["dimensions"]
    columns = [gathered.sources.index(d["source"]) for d in dims]
    values = gathered.values[:, columns] if len(gathered.member_ids) else np.zeros((0, len(dims)))
    eligible, scale, reason = _eligibility(definition, gathered)
    part = gathered.participation
    floor = np.ceil(definition["floor_minor"] * part - 1e-9).astype(np.int64)
    cap = None if definition["cap_minor"] is None else np.floor(definition["cap_minor"] * part + 1e-9).astype(
        np.int64)
    target_met, team_value = _target(definition, gathered)
    multiplier = definition["team_multiplier_bp"] if target_met else NO_MULTIPLIER
    adjustment = np.array([adjustments.get(m, 0) for m in gathered.member_ids], np.int64)
    if not len(gathered.member_ids):
        raise ServiceError(_("Nobody is in the pool."))
    try:
        allocation = engine.allocate_pool(
            values, pool.amount_minor, weights=[d["weight"] for d in dims],
            direction=[engine.HIGHER if d["direction"] == "higher" else engine.LOWER for d in dims],
            normalisation=[NORMALISATIONS[d["normalisation"]] for d in dims], ratio_cap=[d["cap"] for d in dims],
            eligible=eligible, eligibility_scale=scale, participation=part, floor=floor,
            cap=cap, adjustment=adjustment, multiplier_bp=definition["team_multiplier_bp"],
            target_met=bool(target_met), unit=definition["rounding_unit_minor"])
    except engine.AllocationError as error:
        raise ServiceError(ENGINE_MESSAGES.get(error.key, error.key)) from None
    return allocation, target_met, team_value, multiplier, (eligible, scale, reason), floor, cap, adjustment


def _ranks(amounts, scores):
    order = np.lexsort((-scores, -amounts))
    ranks = np.empty(len(amounts), np.int64)
    ranks[order] = np.arange(1, len(amounts) + 1)
    return ranks


def _result(pool, definition, gathered, adjustments, members, cls=PoolResult, **extra):
    allocation, target_met, team_value, multiplier, (eligible, scale, reason), floor, cap, adjustment = _allocate(
        pool, definition, gathered, adjustments)
    a = allocation
    amounts = a.amount[0]
    rule_amounts = amounts - adjustment
    ranks = _ranks(amounts, a.score[0])
    keys = [d["key"] for d in definition["dimensions"]]
    people = []
    for i, member in enumerate(members):
        people.append(PersonResult(
            member.id, member.employee_id, member.name, member.number, gathered.raw_of(i),
            {k: float(a.normalised[0, i, j]) for j, k in enumerate(keys)},
            {k: float(a.contribution[0, i, j]) for j, k in enumerate(keys)},
            float(a.score[0, i]), float(a.weight[0, i]), float(scale[i]) if eligible[i] else 0.0,
            float(gathered.participation[i]), str(reason[i]) if not eligible[i] or reason[i] == "no_capacity" else "",
            int(floor[i]) if eligible[i] else 0, None if cap is None else int(cap[i]), bool(a.at_floor[0, i]),
            bool(a.at_cap[0, i]), int(rule_amounts[i]), int(adjustment[i]), int(amounts[i]), int(ranks[i])))
    people.sort(key=lambda p: p.rank)
    return cls(pool, pool.currency, definition, people, int(pool.amount_minor), int(a.pool_effective[0]),
               int(a.leftover[0]), int(multiplier), target_met, team_value, int(amounts.sum()), **extra)


def _adjustment_totals(pool):
    return dict(BonusAdjustment.select(BonusAdjustment.member, pw.fn.SUM(BonusAdjustment.amount_minor))
                .where(BonusAdjustment.pool == pool.id).group_by(BonusAdjustment.member).tuples())


def _pay_currencies(employee_ids, company_currency, on):
    """{employee id: currency} from the contract in force on `on` (else the company's)."""
    found = {}
    query = (Contract.select(Contract.employee, Contract.currency)
             .where(one_of(Contract.employee, employee_ids) & (Contract.start_date <= on)
                    & (Contract.end_date.is_null() | (Contract.end_date >= on)))
             .order_by(Contract.start_date).tuples())
    for employee_id, currency in query:
        found[employee_id] = currency
    return {e: found.get(e, company_currency) for e in employee_ids}


def _conversions(pool, people):
    """{employee id: engine.Converted} of each amount into the person's pay currency."""
    company = OrgUnit.get_by_id(pool.company_id)
    on = min(pool.period_end, dt.date.today())
    pay = _pay_currencies([p.employee_id for p in people], company.currency or pool.currency, pool.period_end)
    rates = {}
    out = {}
    for person in people:
        currency = pay[person.employee_id]
        if currency not in rates:
            try:
                rates[currency] = fx.rate_for(pool.currency, currency, on)
            except fx.RateUnavailable:
                raise ServiceError(_("There is no exchange rate from %(source)s to %(target)s.",
                                     source=pool.currency, target=currency)) from None
        rate = rates[currency]
        out[person.employee_id] = engine.convert(person.amount_minor, pool.currency, currency, rate.rate,
                                                 rate_date=rate.rate_date, rate_source=rate.source)
    return out


def _compute(actor, pool):
    """Inside a writing transaction: run the rule on the pool's members and store the lines."""
    definition = definition_of(BonusRuleVersion.get_by_id(pool.rule_version_id))
    members = pool_members(pool)
    result = _result(pool, definition, gather_dimension_values(pool, definition, members), _adjustment_totals(pool),
                     _rows_of(members))
    _store_lines(pool, result)
    BonusPool.update(target_met=result.target_met, multiplier_bp=result.multiplier_bp,
                     effective_minor=result.effective_minor, leftover_minor=result.leftover_minor,
                     computed_at=utcnow(), computed_by=actor.user, version=BonusPool.version + 1).where(
        BonusPool.id == pool.id).execute()
    return result


def compute_pool(actor, pool):
    """Run the rule on the pool's members and store the lines (see the module docstring)."""
    with database.atomic():
        fresh, unit = _draft_pool(actor, pool)
        result = _compute(actor, fresh)
        record_event("bonus.pool_computed", fresh, label=_pool_label(fresh, unit), unit=unit, actor=actor.user,
                     after={"total_minor": result.total_minor, "leftover_minor": result.leftover_minor,
                            "effective_minor": result.effective_minor, "currency": fresh.currency,
                            "lines": len(result.people), "target_met": result.target_met})
    result.pool = BonusPool.get_by_id(pool.id)
    return result


def _store_lines(pool, result):
    converted = _conversions(pool, result.people)
    BonusLine.delete().where(BonusLine.pool == pool.id).execute()
    rows = []
    for p in result.people:
        c = converted[p.employee_id]
        rows.append({
            "pool": pool.id, "member": p.member_id, "employee": p.employee_id, "raw": json.dumps(p.raw),
            "normalised": json.dumps(p.normalised), "contributions": json.dumps(p.contributions), "score": p.score,
            "weight": p.weight, "eligibility_scale": p.eligibility_scale, "participation": p.participation,
            "ineligible_reason": p.ineligible_reason, "days_worked": int(p.raw[FACT_DAYS]),
            "floor_minor": p.floor_minor, "cap_minor": p.cap_minor, "at_floor": p.at_floor, "at_cap": p.at_cap,
            "rule_amount_minor": p.rule_amount_minor, "adjustment_minor": p.adjustment_minor,
            "amount_minor": p.amount_minor, "currency": pool.currency, "rank": p.rank,
            "pay_amount_minor": c.amount, "pay_currency": c.currency, "rate": format(c.rate, "f"),
            "rate_date": c.rate_date, "rate_source": c.rate_source})
    chunked_insert(BonusLine, rows, size=200)


# --- the what-if ---------------------------------------------------------------------------------

def _merge_overrides(definition, overrides):
    merged = json.loads(json.dumps(definition))
    overrides = dict(overrides or {})
    per_dimension = {name: overrides.pop(name, None) or {} for name in ("weights", "normalisation", "direction",
                                                                       "cap")}
    for name, value in overrides.items():
        if name == "eligibility":
            merged["eligibility"] = {**merged["eligibility"], **(value or {})}
        elif name in DEFAULT_DEFINITION:
            merged[name] = value
    for dim in merged["dimensions"]:
        for name, target in (("weights", "weight"), ("normalisation", "normalisation"), ("direction", "direction"),
                             ("cap", "cap")):
            if dim["key"] in per_dimension[name]:
                dim[target] = per_dimension[name][dim["key"]]
    return normalise_definition(merged)


def _saved_lines(pool_id):
    """{employee id: (amount, rank, raw dict)} of a pool's stored lines."""
    rows = BonusLine.select(BonusLine.employee, BonusLine.amount_minor, BonusLine.rank, BonusLine.raw).where(
        BonusLine.pool == pool_id).tuples()
    return {employee_id: (amount, rank, raw) for employee_id, amount, rank, raw in rows}


def _saved_inputs(pool, definition, base, members, own, needed):
    """The engine's inputs from the saved lines' raw values, when they hold every source
    needed and the team target is the saved one (then its outcome is the saved one too);
    None otherwise."""
    if any(m.employee_id not in own for m in members):
        return None
    target = definition.get("team_target")
    if target and (target != base.get("team_target") or pool.target_met is None):
        return None
    raws = [json.loads(own[m.employee_id][2]) for m in members]
    if raws and not all(key in raws[0] for key in needed):
        return None
    values = np.array([[_none_to_nan(r.get(k)) for k in needed] for r in raws], np.float64).reshape(
        len(members), len(needed))
    return Gathered([m.id for m in members], [m.employee_id for m in members], needed, values,
                    np.array([m.participation for m in members], np.float64),
                    np.array([int(r.get(FACT_DAYS) or 0) for r in raws], np.int64),
                    np.array([bool(r.get(FACT_PROBATION)) for r in raws], bool),
                    target_met=pool.target_met if target else None)


def preview_pool(actor, pool, overrides=None):
    """What the pool would give with `overrides` (module docstring), compared with the
    saved lines; nothing is written. An infeasible rule answers a Preview whose `error`
    says why, with the saved amounts only."""
    actor.require(BONUS_VIEW, OrgUnit.get_by_id(pool.unit_id))
    base = definition_of(BonusRuleVersion.get_by_id(pool.rule_version_id))
    definition = _merge_overrides(base, overrides)
    members = member_rows(pool)
    own = _saved_lines(pool.id)
    baseline, saved = ("own", own) if own else ("none", {})
    if not own and pool.corrects_id:
        saved = _saved_lines(pool.corrects_id)
        baseline = "corrected" if saved else "none"
    needed = _needed_sources(definition)
    gathered = _saved_inputs(pool, definition, base, members, own, needed) if own else None
    if gathered is None:
        gathered = gather_dimension_values(pool, definition, pool_members(pool))
    try:
        result = _result(pool, definition, gathered, _adjustment_totals(pool), members, cls=Preview,
                         baseline=baseline)
    except ServiceError as error:
        people = [PersonResult(m.id, m.employee_id, m.name, m.number, {}, {}, {}, 0.0, 0.0,
                               0.0, m.participation, "", 0, None, False, False, 0, 0, 0, 0) for m in members]
        result = Preview(pool, pool.currency, definition, people, int(pool.amount_minor), int(pool.amount_minor), 0,
                         NO_MULTIPLIER, None, None, 0, error=str(error.message), baseline=baseline)
    for person in result.people:
        if person.employee_id in saved:
            person.saved_amount_minor, person.saved_rank = int(saved[person.employee_id][0]), \
                int(saved[person.employee_id][1])
    if result.error is None:
        deltas = np.array([p.delta_minor or 0 for p in result.people], np.int64)
        result.gainers, result.losers = int((deltas > 0).sum()), int((deltas < 0).sum())
        result.gained_minor, result.lost_minor = int(deltas[deltas > 0].sum()), int(-deltas[deltas < 0].sum())
    return result


# --- adjustments ---------------------------------------------------------------------------------

def _recompute(actor, pool):
    """Inside a writing transaction: the pool's lines again, when it has been computed."""
    if BonusPool.get_by_id(pool.id).computed_at is not None:
        _compute(actor, pool)


def add_adjustment(actor, pool, member, amount_minor, reason):
    """A signed manual change of one member's amount with its reason. The rule splits the
    rest, so the pool's total stays exact; a computed pool is computed again (refused,
    changing nothing, when the adjustments no longer fit the pool)."""
    reason = _reason(reason)
    amount = _number(amount_minor, "amount", -(engine.MAX_POOL - 1), engine.MAX_POOL - 1, integer=True)
    if amount == 0:
        raise ServiceError(_("Enter an amount other than zero."), field="amount")
    with database.atomic():
        fresh, unit = _draft_pool(actor, pool)
        member = BonusPoolMember.get_or_none((BonusPoolMember.id == getattr(member, "id", member))
                                             & (BonusPoolMember.pool == fresh.id))
        if member is None:
            raise ServiceError(_("Choose someone in the pool."), field="member")
        adjustment = BonusAdjustment.create(pool=fresh, member=member, amount_minor=amount, reason=reason,
                                            created_by=actor.user)
        _recompute(actor, fresh)
        record_event("bonus.adjustment_added", adjustment, label=_pool_label(fresh, unit), unit=unit,
                     actor=actor.user, after={"employee": member.employee_id, "amount_minor": amount,
                                              "currency": fresh.currency, "reason": reason})
    return adjustment


def remove_adjustment(actor, adjustment):
    pool = BonusPool.get_by_id(adjustment.pool_id)
    with database.atomic():
        fresh, unit = _draft_pool(actor, pool)
        BonusAdjustment.delete().where(BonusAdjustment.id == adjustment.id).execute()
        _recompute(actor, fresh)
        record_event("bonus.adjustment_removed", adjustment, label=_pool_label(fresh, unit), unit=unit,
                     actor=actor.user, before={"employee": adjustment.member.employee_id,
                                               "amount_minor": adjustment.amount_minor, "reason": adjustment.reason})


# --- workflow ------------------------------------------------------------------------------------

def submit_pool(actor, pool, note=""):
    """Ask for approval of a computed draft pool (approval kind KIND); returns the request."""
    from portal.approvals.services import submit_request

    return submit_request(actor, KIND, pool, {"reason": note})


def withdraw_pool(actor, pool):
    from portal.approvals.services import withdraw_request

    fresh = BonusPool.get_by_id(pool.id)
    if fresh.state != "submitted" or not fresh.approval_id:
        raise ServiceError(_("The pool is not waiting for approval."))
    request = ApprovalRequest.get_by_id(fresh.approval_id)
    withdraw_request(actor, request.id, request.version)
    return BonusPool.get_by_id(pool.id)


def lock_pool(actor, pool):
    """Lock an approved pool: from now on it never changes (a correction is a new pool)."""
    unit = OrgUnit.get_by_id(pool.unit_id)
    actor.require(BONUS_APPROVE, unit)
    with database.atomic():
        changed = BonusPool.update(state="locked", locked_at=utcnow(), locked_by=actor.user,
                                   version=BonusPool.version + 1).where(
            (BonusPool.id == pool.id) & (BonusPool.state == "approved")).execute()
        if not changed:
            raise ServiceError(_("Only an approved pool can be locked."))
        fresh = BonusPool.get_by_id(pool.id)
        record_event("bonus.pool_locked", fresh, label=_pool_label(fresh, unit), unit=unit, actor=actor.user,
                     after={"state": "locked", "snapshot_sha256": snapshot_hash(fresh)})
    return fresh


def correct_pool(actor, pool, reason):
    """Start the correction of a locked pool: a new draft pool (number + 1, `corrects` =
    this one, with the reason), its members and adjustments copied. The locked pool stays."""
    reason = _reason(reason)
    unit = OrgUnit.get_by_id(pool.unit_id)
    actor.require(BONUS_MANAGE, unit)
    with database.atomic():
        fresh = BonusPool.get_by_id(pool.id)
        if fresh.state != "locked":
            raise ServiceError(_("Only a locked pool is corrected; change a draft directly."))
        latest = latest_pool(unit, fresh.period_start)
        if latest.id != fresh.id:
            raise ServiceError(_("This pool has already been corrected (version %(n)d).", n=latest.number))
        new = BonusPool.create(company=fresh.company_id, unit=unit, period_start=fresh.period_start,
                               period_end=fresh.period_end, amount_minor=fresh.amount_minor, currency=fresh.currency,
                               rule_version=fresh.rule_version_id, number=fresh.number + 1, corrects=fresh,
                               correction_reason=reason, created_by=actor.user)
        old_members = list(BonusPoolMember.select().where(BonusPoolMember.pool == fresh.id))
        chunked_insert(BonusPoolMember, [{"pool": new.id, "employee": m.employee_id, "participation": m.participation,
                                          "assignments": m.assignments, "created_at": utcnow()} for m in old_members])
        new_member = dict(BonusPoolMember.select(BonusPoolMember.employee, BonusPoolMember.id)
                          .where(BonusPoolMember.pool == new.id).tuples())
        employee_of_member = {m.id: m.employee_id for m in old_members}
        chunked_insert(BonusAdjustment, [
            {"pool": new.id, "member": new_member[employee_of_member[a.member_id]], "amount_minor": a.amount_minor,
             "reason": a.reason, "created_by": a.created_by_id, "created_at": a.created_at}
            for a in BonusAdjustment.select().where(BonusAdjustment.pool == fresh.id)])
        record_event("bonus.pool_corrected", new, label=_pool_label(new, unit), unit=unit, actor=actor.user,
                     after={"corrects": fresh.id, "number": new.number, "reason": reason})
    return BonusPool.get_by_id(new.id)


# --- the approval kind ---------------------------------------------------------------------------

class SubmitPoolForm(FlaskForm):
    """The approval engine's own request page for a pool (the pool page calls submit_pool)."""

    reason = TextAreaField(_l("Note for the approvers"), validators=[Optional(), Length(max=MAX_REASON)])


def _load_subject(actor, args):
    try:
        pool = BonusPool.get_by_id(int(args.get("pool", "")))
    except (ValueError, BonusPool.DoesNotExist):
        raise NotInScope(KIND) from None
    if not actor.scope.allows(BONUS_MANAGE, OrgUnit.get_by_id(pool.unit_id)):
        raise NotInScope(KIND)
    return pool


def _draft(actor, pool, values):
    unit = OrgUnit.get_by_id(pool.unit_id)
    actor.require(BONUS_MANAGE, unit)
    fresh = BonusPool.get_by_id(pool.id)
    if fresh.state != "draft":
        raise ServiceError(NOT_DRAFT.get(fresh.state, NOT_DRAFT["locked"]))
    if fresh.computed_at is None:
        raise ServiceError(_("Compute the pool before submitting it."))
    total = BonusLine.select(pw.fn.SUM(BonusLine.amount_minor)).where(BonusLine.pool == fresh.id).scalar() or 0
    payload = {"pool": fresh.id, "unit": unit.name, "period": f"{fresh.period_start:%Y-%m}", "number": fresh.number,
               "amount_minor": fresh.amount_minor, "total_minor": int(total), "currency": fresh.currency,
               "snapshot_sha256": snapshot_hash(fresh)}
    return Draft(unit=unit, subject=fresh, title=f"{unit.name} {fresh.period_start:%Y-%m} #{fresh.number}",
                 payload=payload, reason=(values.get("reason") or "").strip(), effective_date=fresh.period_end)


def _on_submit(actor, request, payload):
    changed = BonusPool.update(state="submitted", approval=request, submitted_at=utcnow(),
                               version=BonusPool.version + 1).where(
        (BonusPool.id == payload["pool"]) & (BonusPool.state == "draft")).execute()
    if not changed:
        raise ServiceError(_("Someone else changed this pool meanwhile. Reload the page and try again."))
    pool = BonusPool.get_by_id(payload["pool"])
    record_event("bonus.pool_submitted", pool, label=_pool_label(pool), unit=pool.unit_id, actor=actor.user,
                 after={"approval": request.id, "snapshot_sha256": payload["snapshot_sha256"]})


def _apply(actor, request, payload):
    pool = BonusPool.get_or_none((BonusPool.id == payload["pool"]) & (BonusPool.approval == request.id))
    if pool is None or pool.state != "submitted":
        raise ServiceError(_("This pool no longer waits for approval. Reject the request."))
    if snapshot_hash(pool) != payload["snapshot_sha256"]:
        raise ServiceError(_("The pool changed since it was submitted. Reject the request."))
    BonusPool.update(state="approved", approved_at=utcnow(), version=BonusPool.version + 1).where(
        BonusPool.id == pool.id).execute()
    record_event("bonus.pool_approved", pool, label=_pool_label(pool), unit=pool.unit_id, actor=actor.user,
                 after={"approval": request.id, "state": "approved"})


def _on_close(actor, request, payload, state):
    pool = BonusPool.get_or_none((BonusPool.id == payload["pool"]) & (BonusPool.approval == request.id)
                                 & (BonusPool.state == "submitted"))
    if pool is None:
        return
    BonusPool.update(state="draft", approval=None, submitted_at=None, version=BonusPool.version + 1).where(
        BonusPool.id == pool.id).execute()
    record_event("bonus.pool_returned", pool, label=_pool_label(pool), unit=pool.unit_id, actor=actor.user,
                 after={"approval": request.id, "state": state})


def _describe(request, payload):
    from portal.core.money import format_money

    return [(_("Team"), payload["unit"]), (_("Period"), payload["period"]), (_("Version"), payload["number"]),
            (_("Pool"), format_money(payload["amount_minor"], payload["currency"])),
            (_("Allocated"), format_money(payload["total_minor"], payload["currency"])),
            (_("Data fingerprint (SHA-256)"), payload["snapshot_sha256"])]


register_kind(RequestKind(
    key=KIND,
    label=_l("Bonus pool approval"),
    default_chain=("company_hr", "group_admin"),
    load_subject=_load_subject,
    form=lambda subject, formdata=None: SubmitPoolForm(formdata=formdata),
    draft=_draft,
    apply=_apply,
    describe=_describe,
    on_submit=_on_submit,
    on_close=_on_close,
    intro=_l("The approvers see the pool's amounts and the fingerprint of its data."),
    subject_args=("pool",),
))


# --- support points ------------------------------------------------------------------------------

def add_support_points(actor, employee, unit, period_start, points, reason):
    """A lead gives `points` (±, whole) to a person of the team for the month, with why."""
    actor.require(BONUS_POINTS, unit)
    reason = _reason(reason)
    points = _number(points, "points", -1000, 1000, integer=True)
    if points == 0:
        raise ServiceError(_("Enter a number other than zero."), field="points")
    start, end = month_period(period_start)
    if employee.id not in members_from_assignments(unit, start, end):
        raise ServiceError(_("Choose someone who works in the team that month."), field="employee")
    with database.atomic():
        row = BonusSupportPoint.create(employee=employee.id, unit=unit, period_start=start, points=points,
                                       reason=reason, entered_by=actor.user)
        record_event("bonus.support_points_added", row, label=employee.display_name, unit=unit, actor=actor.user,
                     after={"employee": employee.id, "period": start.isoformat(), "points": points,
                            "reason": reason})
    return row


def support_points_for(actor, unit, period_start):
    """The points given in the team for the month, newest first, with `.employee`."""
    actor.require(BONUS_VIEW, unit)
    return list(BonusSupportPoint.select(BonusSupportPoint, Employee).join(Employee)
                .where((BonusSupportPoint.unit == unit.id)
                       & (BonusSupportPoint.period_start == month_period(period_start)[0]))
                .order_by(BonusSupportPoint.created_at.desc()))


# --- snapshots, statements and team tables -------------------------------------------------------

def pool_snapshot(pool):
    """The data a computed pool stands on, as plain JSON-able data in a canonical order:
    the pool, its rule version's definition, members, adjustments and lines. Its SHA-256
    (`snapshot_hash`) is what exports print and the audit records."""
    lines = list(BonusLine.select().where(BonusLine.pool == pool.id).order_by(BonusLine.employee))
    members = list(BonusPoolMember.select().where(BonusPoolMember.pool == pool.id).order_by(BonusPoolMember.employee))
    adjustments = list(BonusAdjustment.select().where(BonusAdjustment.pool == pool.id).order_by(BonusAdjustment.id))
    version = BonusRuleVersion.get_by_id(pool.rule_version_id)
    return {
        "pool": {"id": pool.id, "unit": pool.unit_id, "period_start": pool.period_start.isoformat(),
                 "period_end": pool.period_end.isoformat(), "number": pool.number, "amount_minor": pool.amount_minor,
                 "currency": pool.currency, "corrects": pool.corrects_id, "correction_reason": pool.correction_reason,
                 "effective_minor": pool.effective_minor, "leftover_minor": pool.leftover_minor,
                 "multiplier_bp": pool.multiplier_bp, "target_met": pool.target_met},
        "rule_version": {"id": version.id, "rule": version.rule_id, "number": version.number,
                         "definition": definition_of(version)},
        "members": [{"employee": m.employee_id, "participation": m.participation} for m in members],
        "adjustments": [{"employee": next(x.employee_id for x in members if x.id == a.member_id),
                         "amount_minor": a.amount_minor, "reason": a.reason} for a in adjustments],
        "lines": [{"employee": line.employee_id, "raw": json.loads(line.raw),
                   "normalised": json.loads(line.normalised), "contributions": json.loads(line.contributions),
                   "score": line.score, "eligibility_scale": line.eligibility_scale,
                   "participation": line.participation, "ineligible_reason": line.ineligible_reason,
                   "floor_minor": line.floor_minor, "cap_minor": line.cap_minor, "at_floor": line.at_floor,
                   "at_cap": line.at_cap, "rule_amount_minor": line.rule_amount_minor,
                   "adjustment_minor": line.adjustment_minor, "amount_minor": line.amount_minor, "rank": line.rank,
                   "pay_amount_minor": line.pay_amount_minor, "pay_currency": line.pay_currency, "rate": line.rate,
                   "rate_date": line.rate_date.isoformat() if line.rate_date else None,
                   "rate_source": line.rate_source} for line in lines],
    }


def snapshot_hash(pool):
    data = json.dumps(pool_snapshot(pool), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass
class StatementDimension:
    info: DimensionInfo
    raw: float | None
    normalised: float
    contribution: float
    team_min: float | None    # over the eligible members with a value
    team_max: float | None


@dataclass
class Statement:
    pool: object
    unit: object
    rule: object
    rule_version: object
    employee: object
    line: object              # the BonusLine
    dimensions: list          # [StatementDimension]
    eligibility: dict         # rule's eligibility, plus days_worked, on_probation, scale, participation, reason
    adjustments: list         # [BonusAdjustment] of this member
    people: int               # members of the pool
    superseded_by: object = None   # the pool correcting this one, if any


def _visible_to_self(pool):
    return pool.state in ("approved", "locked")


def _may_read(actor, pool, employee_id):
    from portal.time.services import employee_of

    if actor.scope.allows(BONUS_VIEW, OrgUnit.get_by_id(pool.unit_id)):
        return True
    me = employee_of(actor.user)
    return me is not None and me.id == employee_id and _visible_to_self(pool)


def _ranges(lines, definition):
    """{source: (min, max)} over the eligible lines with a value."""
    out = {}
    raws = [json.loads(line.raw) for line in lines if line.eligibility_scale > 0]
    for dim in definition["dimensions"]:
        present = [r[dim["source"]] for r in raws if r.get(dim["source"]) is not None]
        out[dim["source"]] = (min(present), max(present)) if present else (None, None)
    return out


def statement_for(actor, pool, employee):
    """How the person's amount in the pool arose (see Statement); NotInScope for someone
    else's statement without bonus.view on the team, or one's own before approval."""
    employee_id = getattr(employee, "id", employee)
    if not _may_read(actor, pool, employee_id):
        raise NotInScope(BONUS_VIEW)
    lines = list(BonusLine.select().where(BonusLine.pool == pool.id))
    line = next((x for x in lines if x.employee_id == employee_id), None)
    if line is None:
        raise NotInScope(BONUS_VIEW)
    version = BonusRuleVersion.get_by_id(pool.rule_version_id)
    definition = definition_of(version)
    ranges = _ranges(lines, definition)
    raw, normalised, contributions = json.loads(line.raw), json.loads(line.normalised), json.loads(line.contributions)
    dims = [StatementDimension(info, raw.get(info.source), normalised.get(info.key, 0.0),
                               contributions.get(info.key, 0.0), *ranges[info.source])
            for info in describe_definition(definition)]
    eligibility = {**definition["eligibility"], "days_worked": line.days_worked,
                   "on_probation": bool(raw.get(FACT_PROBATION)), "scale": line.eligibility_scale,
                   "participation": line.participation, "reason": line.ineligible_reason,
                   "reason_label": INELIGIBLE_REASONS.get(line.ineligible_reason, "")}
    adjustments = [a for a in pool_adjustments(pool) if a.member_id == line.member_id]
    superseded = BonusPool.select().where(BonusPool.corrects == pool.id).first()
    return Statement(pool, OrgUnit.get_by_id(pool.unit_id), BonusRule.get_by_id(version.rule_id), version,
                     Employee.get_by_id(employee_id), line, dims, eligibility, adjustments, len(lines), superseded)


def my_statements(actor):
    """[(pool, line)] of the actor's own lines in approved and locked pools, newest first."""
    from portal.time.services import employee_of

    me = employee_of(actor.user)
    if me is None:
        return []
    rows = (BonusLine.select(BonusLine, BonusPool).join(BonusPool)
            .where((BonusLine.employee == me.id) & BonusPool.state.in_(("approved", "locked")))
            .order_by(BonusPool.period_start.desc(), BonusPool.number.desc()))
    return [(line.pool, line) for line in rows]


@dataclass
class TeamRow:
    employee: object
    line: object
    raw: dict
    normalised: dict
    contributions: dict


@dataclass
class TeamTable:
    pool: object
    unit: object
    rule: object
    rule_version: object
    dimensions: list          # [DimensionInfo]
    ranges: dict              # source → (min, max)
    rows: list                # [TeamRow] by rank
    total_minor: int
    adjustments: list         # [BonusAdjustment]


def team_table(actor, pool):
    """The pool's lines for its lead (bonus.view on the team), by rank."""
    unit = OrgUnit.get_by_id(pool.unit_id)
    actor.require(BONUS_VIEW, unit)
    lines = list(BonusLine.select(BonusLine, Employee).join(Employee).where(BonusLine.pool == pool.id)
                 .order_by(BonusLine.rank))
    version = BonusRuleVersion.get_by_id(pool.rule_version_id)
    definition = definition_of(version)
    rows = [TeamRow(line.employee, line, json.loads(line.raw), json.loads(line.normalised),
                    json.loads(line.contributions)) for line in lines]
    return TeamTable(pool, unit, BonusRule.get_by_id(version.rule_id), version, describe_definition(definition),
                     _ranges(lines, definition), rows, sum(line.amount_minor for line in lines),
                     pool_adjustments(pool))
