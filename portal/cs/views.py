"""The CS domain's pages under /cs, one blueprint per part, nested here so the
app registers the domain from its one list (portal.DOMAINS)."""
from flask import Blueprint

from portal.cs import account_views, conversation_views, dashboard_views, import_views

blueprint = Blueprint("cs", __name__, url_prefix="/cs")
for _part in (account_views, import_views, dashboard_views, conversation_views):
    blueprint.register_blueprint(_part.blueprint)
