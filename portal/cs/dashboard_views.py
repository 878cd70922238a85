"""CS dashboards pages."""
from flask import Blueprint

blueprint = Blueprint("dashboards", __name__, url_prefix="/dashboards")
