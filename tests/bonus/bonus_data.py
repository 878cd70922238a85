"""Bonus test data through the services (tests/bonus): rules, pools, support points.

Pools here usually split by support points only (a source the test controls fully),
so amounts are known without CS or attendance data; `cs_definition` is the demo's
customer-service rule."""
import datetime as dt
import itertools

from factories import SYSTEM
from portal.bonus import services
from portal.bonus.models import BonusPoolMember
from portal.people.models import Employee

_names = itertools.count(1)


def points_definition(**changes):
    """A rule that splits by support points alone (min–max, higher is better)."""
    definition = {
        "dimensions": [{"key": "support", "source": "hr.support_points", "direction": "higher",
                        "normalisation": "minmax", "weight": 1}],
        "eligibility": {"min_days_worked": 0, "probation": "include"},
        "floor_minor": 0, "cap_minor": None, "team_multiplier_bp": 10_000, "team_target": None,
        "rounding_unit_minor": 1,
    }
    definition.update(changes)
    return definition


def two_dimension_definition(**changes):
    """Support points and tenure, weights 60/40: re-weighting moves money between people."""
    return points_definition(dimensions=[
        {"key": "support", "source": "hr.support_points", "direction": "higher", "normalisation": "minmax",
         "weight": 60},
        {"key": "tenure", "source": "hr.tenure", "direction": "higher", "normalisation": "minmax", "weight": 40},
    ], **changes)


def make_rule(company, definition=None, name=None, publish=True, actor=SYSTEM):
    """A rule of `company` with version 1 (published unless `publish` is False)."""
    version = services.create_rule(actor, company, name or f"Rule {next(_names)}",
                                   definition or points_definition())
    return services.publish_rule_version(actor, version) if publish else version


def this_month():
    return dt.date.today().replace(day=1)


def make_pool(unit, amount_minor=1_000_000, currency="CNY", version=None, period=None, actor=SYSTEM,
              definition=None):
    """A draft pool of `unit` for the month of `period` (this month), by a new points rule by default."""
    version = version or make_rule(unit.company, definition)
    return services.create_pool(actor, unit, period or this_month(), amount_minor, currency, version)


def give_points(pool, points_by_employee, actor=SYSTEM):
    """Support points for the pool's month: {employee or id: points}."""
    from portal.org.models import OrgUnit

    unit = OrgUnit.get_by_id(pool.unit_id)
    for employee, points in points_by_employee.items():
        employee = employee if isinstance(employee, Employee) else Employee.get_by_id(employee)
        services.add_support_points(actor, employee, unit, pool.period_start, points, "Helped the B team")


def members(pool):
    return list(BonusPoolMember.select().where(BonusPoolMember.pool == pool.id).order_by(BonusPoolMember.employee))


def points_for_everyone(pool, step=1):
    """Different points for every member (1, 2, 3, … × step), so every amount differs."""
    give_points(pool, {m.employee_id: (i + 1) * step for i, m in enumerate(members(pool))})
