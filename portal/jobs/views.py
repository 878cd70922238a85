"""A job's progress: a full page, or the fragment the page polls."""
import json

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.core.htmx import render
from portal.core.jobs import JOB_LABELS
from portal.core.permissions import current_actor, login_only
from portal.jobs import services

blueprint = Blueprint("jobs", __name__, url_prefix="/jobs")
STATE_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "succeeded": _l("Done"),
    "failed": _l("Failed"),
}


@blueprint.app_template_filter("job_label")
def job_label(job):
    return JOB_LABELS.get(job.kind, job.kind)


@blueprint.app_template_filter("job_state")
def job_state(job):
    return STATE_LABELS[job.state]


def render_job(job):
    result = json.loads(job.result) if job.result else None
    return render("jobs/job.html", "jobs/_progress.html", job=job, result=result)


@blueprint.route("/<job_id>")
@login_only
def job(job_id):
    return render_job(services.load_job(current_actor(), job_id[:32]))
