from flask_babel import lazy_gettext as _l

from portal.approvals.models import ApprovalChain, ApprovalRequest
from portal.core.audit import declare_actions
from portal.core.permissions import Permission, declare, register_object_type

APPROVALS_VIEW, APPROVALS_CONFIGURE = declare(
    Permission("approvals.view", _l("See every approval request in scope")),
    Permission("approvals.configure", _l("Define approval chains")),
)

register_object_type("chain_id", ApprovalChain, ApprovalChain.unit, APPROVALS_CONFIGURE)
# Requesters and approvers reach a request through approvals.services.visible_request;
# this registration is what others with approvals.view on its unit see (and what the
# scope walk in tests/core checks).
register_object_type("request_id", ApprovalRequest, ApprovalRequest.unit, APPROVALS_VIEW)

declare_actions({
    "approvals.requested": _l("Approval requested"),
    "approvals.approved": _l("Approval step approved"),
    "approvals.rejected": _l("Request rejected"),
    "approvals.withdrawn": _l("Request withdrawn"),
    "approvals.applied": _l("Approved change applied"),
    "approvals.chain_saved": _l("Approval chain saved"),
    "approvals.chain_reset": _l("Approval chain reset to the default"),
    "approvals.delegated": _l("Approvals delegated"),
    "approvals.delegation_revoked": _l("Delegation revoked"),
})
