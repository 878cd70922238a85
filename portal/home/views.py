from flask import Blueprint, render_template
from markupsafe import Markup

from portal.core.cache import cached
from portal.core.db import utcnow
from portal.core.htmx import render
from portal.core.permissions import current_actor, login_only, public
from portal.home.services import dashboard_figures
from portal.jobs.services import recent_jobs

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@login_only
def dashboard():
    actor = current_actor()

    def render_figures():
        figures = dashboard_figures(actor)
        return (Markup(render_template("home/_stats.html", **figures)),
                Markup(render_template("home/_recent_changes.html", **figures)))

    # Figures and recent changes hold no per-user secret: cached by data version
    # and scope (core/cache.py). Jobs change without an audit event: always read.
    stats_html, changes_html = cached("home.figures", actor.scope, render_figures)
    return render("home/dashboard.html", "home/_dashboard.html", stats_html=stats_html, changes_html=changes_html,
                  jobs=recent_jobs(actor, 5), now=utcnow())


@blueprint.route("/healthz")
@public
def healthz():
    return {"status": "ok"}
