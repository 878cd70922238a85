from flask import Blueprint

from portal.core.htmx import render
from portal.core.permissions import current_actor, login_only, public
from portal.home.services import dashboard_summary

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@login_only
def dashboard():
    return render("home/dashboard.html", "home/_dashboard.html", **dashboard_summary(current_actor()))


@blueprint.route("/healthz")
@public
def healthz():
    return {"status": "ok"}
