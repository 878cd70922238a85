"""Exports of bonus pools and statements under /bonus/exports (PDF, CSV, XLSX):
a part of the bonus blueprint (portal/bonus/views.py), its pages still to come."""
from flask import Blueprint

blueprint = Blueprint("exports", __name__, url_prefix="/exports")
