"""The time domain's pages under /time, one blueprint per part, nested here so the
app registers the domain from its one list (portal.DOMAINS)."""
from flask import Blueprint

from portal.time import attendance_views, clock_views, leave_views, roster_views

blueprint = Blueprint("time", __name__, url_prefix="/time")
for _part in (roster_views, clock_views, attendance_views, leave_views):
    blueprint.register_blueprint(_part.blueprint)
