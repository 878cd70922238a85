"""Reading jobs: a user follows the jobs they started and those of their units."""
from portal.core.db import memoized_rows
from portal.core.errors import NotInScope
from portal.jobs.models import Job
from portal.jobs.permissions import JOBS_VIEW


def load_job(actor, job_id):
    query = Job.select().where(
        (Job.id == job_id) & ((Job.created_by == actor.user.id) | actor.scope.condition(Job.unit_id, JOBS_VIEW)))
    job = query.first()
    if job is None:
        raise NotInScope("job")
    return job


def recent_jobs(actor, limit=10):
    query = (Job.select().where((Job.created_by == actor.user.id) | actor.scope.condition(Job.unit_id, JOBS_VIEW))
             .order_by(Job.created_at.desc()).limit(limit))
    # On every dashboard view: the SQL is written once per user and scope (core.db).
    return list(memoized_rows(("recent_jobs", actor.user.id, actor.scope.signature(), limit), query))
