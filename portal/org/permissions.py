from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions
from portal.core.permissions import Permission, declare, register_object_type
from portal.org.models import OrgUnit

ORG_VIEW, ORG_MANAGE = declare(
    Permission("org.view", _l("See the org tree")),
    Permission("org.manage", _l("Create, rename, move and archive org units")),
)

register_object_type("unit_id", OrgUnit, OrgUnit.id, ORG_VIEW)

declare_actions({
    "org.unit_created": _l("Unit created"),
    "org.unit_updated": _l("Unit edited"),
    "org.unit_moved": _l("Unit moved"),
    "org.unit_archived": _l("Unit archived"),
    "org.unit_restored": _l("Unit restored"),
})
