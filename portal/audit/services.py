"""Reading the audit trail, and verifying its chain as a background job."""
from flask_babel import lazy_gettext as _l

from portal.audit.models import AuditEvent
from portal.audit.permissions import AUDIT_VIEW
from portal.core.audit import verify_chain
from portal.core.jobs import background_job, start_job
from portal.org.models import OrgUnit


def list_events(scope, unit=None, since=None, until=None, action=None, page=1, per_page=50):
    """Events in scope, newest first, filtered; returns (rows, has_next).

    `unit` keeps events of that unit and its subtree; `since` and `until`
    are naive UTC datetimes, `until` exclusive."""
    query = AuditEvent.select().where(scope.condition(AuditEvent.unit_id, AUDIT_VIEW))
    if unit is not None:
        query = query.where(AuditEvent.unit_id.in_(
            OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    rows = list(query.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page + 1))
    return rows[:per_page], len(rows) > per_page


def unit_names(events):
    ids = {e.unit_id for e in events if e.unit_id}
    return dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids)).tuples()) if ids else {}


@background_job("audit.verify", _l("Verify the audit chain"))
def verify_audit_chain_job(progress):
    ok, checked, bad_id, reason = verify_chain(on_progress=lambda done, total: progress.update(done, total))
    return {"ok": ok, "checked": checked, "first_bad_event": bad_id, "reason": reason}


def start_chain_verification(actor):
    """Queue a verification of the whole chain, filed under the top-most unit
    of the actor's audit scope."""
    unit = OrgUnit.select().where(actor.scope.unit_condition(AUDIT_VIEW)).order_by(OrgUnit.depth).first()
    return start_job("audit.verify", actor=actor.user, unit=unit, total=AuditEvent.select().count())
