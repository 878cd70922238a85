from flask_babel import lazy_gettext as _l

from portal.approvals.models import ApprovalChain
from portal.core.audit import declare_actions
from portal.core.permissions import Permission, declare, register_object_type

APPROVALS_VIEW, APPROVALS_CONFIGURE = declare(
    Permission("approvals.view", _l("See every approval request in scope")),
    Permission("approvals.configure", _l("Define approval chains")),
)

register_object_type("chain_id", ApprovalChain, ApprovalChain.unit, APPROVALS_CONFIGURE)

declare_actions({
    "approvals.requested": _l("Approval requested"),
    "approvals.approved": _l("Request approved"),
    "approvals.rejected": _l("Request rejected"),
    "approvals.withdrawn": _l("Request withdrawn"),
    "approvals.applied": _l("Approved change applied"),
    "approvals.chain_saved": _l("Approval chain saved"),
    "approvals.delegated": _l("Approvals delegated"),
    "approvals.delegation_revoked": _l("Delegation revoked"),
})
