"""The bonus domain's permissions and object types.

Pools belong to their team (org unit), rules to their company, support points to
the team they were given in. A person's own statements are self-service: everyone
reads the statements of the pools they are in without any permission
(services.statement_for / my_statements); `bonus.view` is for the pools and team
tables of units in scope (a lead's team, HR's company).
"""
from flask_babel import lazy_gettext as _l

from portal.bonus.models import BonusPool, BonusRule, BonusSupportPoint
from portal.core.permissions import Permission, declare, register_object_type

BONUS_VIEW, BONUS_MANAGE, BONUS_APPROVE, BONUS_EXPORT, BONUS_POINTS = declare(
    Permission("bonus.view", _l("See the bonus pools and team tables of units in scope")),
    Permission("bonus.manage", _l("Define bonus rules and prepare bonus pools")),
    Permission("bonus.approve", _l("Approve and lock bonus pools")),
    Permission("bonus.export", _l("Export bonus pools and statements")),
    Permission("bonus.points", _l("Give support and collaboration points, with a reason")),
)

register_object_type("bonus_pool_id", BonusPool, BonusPool.unit, BONUS_VIEW)
register_object_type("bonus_rule_id", BonusRule, BonusRule.company, BONUS_MANAGE)
register_object_type("bonus_point_id", BonusSupportPoint, BonusSupportPoint.unit, BONUS_POINTS)

# The pool approval kind (bonus.pool_approval) registers itself with the approval engine.
import portal.bonus.services  # noqa: E402,F401
