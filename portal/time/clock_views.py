"""clock pages (being built)."""
from flask import Blueprint

blueprint = Blueprint("clock", __name__, url_prefix="/clock")
