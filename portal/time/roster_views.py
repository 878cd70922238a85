"""roster pages (being built)."""
from flask import Blueprint

blueprint = Blueprint("roster", __name__, url_prefix="/roster")
