"""attendance pages (being built)."""
from flask import Blueprint

blueprint = Blueprint("attendance", __name__, url_prefix="/attendance")
