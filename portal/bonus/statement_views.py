"""Bonus statements: /bonus/me lists the user's own (pools approved or locked), and a
statement page explains one person's amount in one pool — each dimension's raw and
normalised value, weight and contribution against the team's range, eligibility,
floor and cap, adjustments, and the share in the pay currency with the rate used.

Self-service: everyone reads their own statements; a lead or HR reads those of the
people in the pools they see (bonus.view). Any other statement answers 404, like
one that does not exist (services.statement_for)."""
from flask import Blueprint, abort

from portal.bonus import services
from portal.bonus.models import BonusPool
from portal.core.htmx import render
from portal.core.permissions import current_actor, login_only
from portal.org.models import OrgUnit
from portal.time.services import employee_of

blueprint = Blueprint("statements", __name__)


@blueprint.get("/me")
@login_only
def mine():
    actor = current_actor()
    rows = services.my_statements(actor)
    units = {unit.id: unit for unit in OrgUnit.select().where(OrgUnit.id.in_({p.unit_id for p, _line in rows} or [0]))}
    return render("bonus/mine.html", "bonus/_mine.html", rows=rows, units=units, me=employee_of(actor.user))


@blueprint.get("/pools/<int:bonus_pool_id>/statements/<int:employee_id>")
@login_only
def statement(bonus_pool_id, employee_id):
    pool = BonusPool.get_or_none(BonusPool.id == bonus_pool_id)
    if pool is None:
        abort(404)
    actor = current_actor()
    found = services.statement_for(actor, pool, employee_id)
    me = employee_of(actor.user)
    return render("bonus/statement.html", "bonus/_statement.html", statement=found, pool=pool,
                  mine=me is not None and me.id == employee_id,
                  definition=services.definition_of(found.rule_version))
