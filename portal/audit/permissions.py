from flask_babel import lazy_gettext as _l

from portal.audit.models import AuditEvent
from portal.core.permissions import Permission, declare, register_object_type

AUDIT_VIEW, AUDIT_EXPORT = declare(
    Permission("audit.view", _l("Read the audit trail")),
    Permission("audit.export", _l("Export the audit trail")),
)

register_object_type("event_id", AuditEvent, AuditEvent.unit_id, AUDIT_VIEW)
