"""What the dashboard shows, each part only where the user may see it."""
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.accounts.permissions import USERS_VIEW
from portal.audit.permissions import AUDIT_VIEW
from portal.audit.services import list_events, unit_names
from portal.core.db import utcnow
from portal.jobs.services import recent_jobs
from portal.org.permissions import ORG_VIEW
from portal.org.services import count_units

# Org figures on the dashboard: a label and the unit kinds it counts.
UNIT_STATS = (
    (_l("Companies"), ("company",)),
    (_l("Stores"), ("store",)),
    (_l("Departments and teams"), ("department", "team")),
)


def dashboard_summary(actor):
    """Everything the dashboard shows: `dashboard_figures`, the user's recent jobs and the date."""
    return {**dashboard_figures(actor), "jobs": recent_jobs(actor, 5), "now": utcnow()}


def dashboard_figures(actor):
    """The org and user figures and the recent changes in the actor's scope:
    audited data only, so the page may cache them by data version (core/cache.py)."""
    scope = actor.scope
    summary = {"unit_stats": [], "user_count": None, "events": None}
    if scope.has_any(ORG_VIEW):
        counts = count_units(scope)
        # A figure that is zero in this scope (a team lead sees no companies) is left out.
        summary["unit_stats"] = [(label, n) for label, kinds in UNIT_STATS if (n := sum(counts.get(k, 0) for k in kinds))]
    if scope.has_any(USERS_VIEW):
        summary["user_count"] = (User.select().where(scope.condition(User.unit, USERS_VIEW) & User.is_active)
                                 .count())
    if scope.has_any(AUDIT_VIEW):
        events, _ = list_events(scope, per_page=8)
        summary["events"] = events
        summary["event_units"] = unit_names(events)
    return summary
