"""The CS domain's pages under /cs, one blueprint per part, nested here so the
app registers the domain from its one list (portal.DOMAINS); the JSON push API
(portal.cs.api) beside them, under /api/cs/v1."""
from flask import Blueprint

from portal.cs import account_views, api, conversation_views, dashboard_views, import_views, workstation_views

blueprint = Blueprint("cs", __name__, url_prefix="/cs")
for _part in (account_views, workstation_views, import_views, dashboard_views, conversation_views):
    blueprint.register_blueprint(_part.blueprint)

# What the app registers: the pages under /cs and the push API under /api/cs/v1.
blueprints = (blueprint, api.blueprint)
