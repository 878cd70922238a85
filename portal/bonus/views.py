"""The bonus domain's pages under /bonus (rules, pools, what-if, statements): built
on portal/bonus/services.py."""
from flask import Blueprint

blueprint = Blueprint("bonus", __name__, url_prefix="/bonus")
