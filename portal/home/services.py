"""What the dashboard shows, each part only where the user may see it."""
from portal.accounts.models import User
from portal.accounts.permissions import USERS_VIEW
from portal.audit.permissions import AUDIT_VIEW
from portal.audit.services import list_events, unit_names
from portal.core.db import utcnow
from portal.jobs.services import recent_jobs
from portal.org.permissions import ORG_VIEW
from portal.org.services import count_units


def dashboard_summary(actor):
    scope = actor.scope
    summary = {"unit_counts": None, "user_count": None, "events": None, "jobs": recent_jobs(actor, 5),
               "now": utcnow()}
    if scope.has_any(ORG_VIEW):
        summary["unit_counts"] = count_units(scope)
    if scope.has_any(USERS_VIEW):
        summary["user_count"] = (User.select().where(scope.condition(User.unit, USERS_VIEW) & User.is_active)
                                 .count())
    if scope.has_any(AUDIT_VIEW):
        events, _ = list_events(scope, per_page=8)
        summary["events"] = events
        summary["event_units"] = unit_names(events)
    return summary
