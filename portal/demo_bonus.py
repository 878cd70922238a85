"""Demo bonus data (issue 6): for every customer-service team (a team under a store),
last month's pool locked and this month's an open, computed draft, split by the
company's published "Customer service" rule (services.DEFAULT_DEFINITION with whole
units of the currency and a team multiplier when the adjusted satisfaction reaches
75 %). Everything goes through portal/bonus/services.py: last month's pool is
submitted, decided by whoever the approval chain waits for, and locked.

Meant to run after seed_cs (the CS figures exist then): `seed_bonus(echo=...)`.
"""
import datetime as dt

from portal.core.permissions import Actor

PER_PERSON = 800  # demo pool per member and month, in units of the company's currency


def _rule_definition(currency):
    from babel.numbers import get_currency_precision

    from portal.bonus.services import DEFAULT_DEFINITION

    return {**DEFAULT_DEFINITION, "rounding_unit_minor": 10 ** get_currency_precision(currency),
            "team_multiplier_bp": 11_000,
            "team_target": {"source": "cs.satisfaction_shrunk", "direction": "higher", "threshold": 0.75}}


def _decide_as_chain(request):
    """Approve each pending step as one of the people it waits for (the demo has no one else to ask)."""
    from portal.accounts.models import User
    from portal.approvals.models import ApprovalRequest, ApprovalStep
    from portal.approvals.services import decide_step, step_approver_ids

    while True:
        request = ApprovalRequest.get_by_id(request.id)
        step = ApprovalStep.get_or_none((ApprovalStep.request == request.id) & (ApprovalStep.state == "pending"))
        if request.state != "pending" or step is None:
            return request
        approver = User.get_by_id(min(step_approver_ids(request, step)))
        decide_step(Actor.for_user(approver), request.id, request.version, True, "")


def seed_bonus(today=None, echo=print):
    """Rules and pools for the CS teams (module docstring). Returns how many pools it made."""
    from babel.numbers import get_currency_precision

    from portal.bonus import services
    from portal.core.errors import ServiceError
    from portal.org.models import OrgUnit

    system = Actor.system()
    today = today or dt.date.today()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    stores = OrgUnit.select(OrgUnit.id).where(OrgUnit.kind == "store")
    teams = list(OrgUnit.select().where((OrgUnit.kind == "team") & OrgUnit.parent.in_(stores)).order_by(OrgUnit.code))
    versions, made = {}, 0
    for team in teams:
        company = OrgUnit.get_by_id(team.company_id)
        currency = company.currency or "CNY"
        if company.id not in versions:
            draft = services.create_rule(system, company, "Customer service", _rule_definition(currency),
                                         description="Workload, first response, resolution and satisfaction.")
            versions[company.id] = services.publish_rule_version(system, draft)
        for month in (last_month, this_month):
            start, end = services.month_period(month)
            people = services.members_from_assignments(team, start, end)
            if not people:
                continue
            amount = round(PER_PERSON * sum(part for part, _facts in people.values())) \
                * 10 ** get_currency_precision(currency)
            pool = services.create_pool(system, team, month, amount, currency, versions[company.id])
            made += 1
            try:
                services.compute_pool(system, pool)
            except ServiceError as error:
                echo(f"  {team.code} {month:%Y-%m}: {error.message}")
                continue
            if month == last_month:
                _decide_as_chain(services.submit_pool(system, pool))
                services.lock_pool(system, services.BonusPool.get_by_id(pool.id))
    echo(f"Seeded {made} bonus pools for {len(teams)} customer-service teams.")
    return made
