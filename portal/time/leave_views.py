"""leave pages (being built)."""
from flask import Blueprint

blueprint = Blueprint("leave", __name__, url_prefix="/leave")
