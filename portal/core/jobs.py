"""Background jobs on huey: SQLite storage by default, Redis with REDIS_URL.

A job is declared with `@background_job("kind")`; `start_job` records a `Job`
row and queues the work; the worker runs it inside an app context and the
function reports progress through the `JobProgress` it receives. The page
and the CLI both read progress from the row.
"""
import json
import logging
import os
import time
import uuid

from flask import current_app, has_app_context
from huey import RedisHuey, SqliteHuey, crontab

from portal.config import INSTANCE
from portal.core.db import database, utcnow

log = logging.getLogger(__name__)


def _make_huey():
    # Tasks are declared at import time, so the queue is chosen from the
    # environment here rather than in create_app (which may set `immediate`).
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("fairshare", url=redis_url)
    path = os.environ.get("JOBS_SQLITE_PATH", str(INSTANCE / "jobs.db"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey("fairshare", filename=path)


huey = _make_huey()
_worker_app = None
JOB_FUNCTIONS = {}
JOB_LABELS = {}


def set_worker_app(app):
    global _worker_app
    _worker_app = app


def _app():
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from portal import create_app

        _worker_app = create_app()
    return _worker_app


class JobProgress:
    """Handed to a job function; writes progress to the job's row, at most a
    few times a second so a fast loop does not become a write loop."""

    MIN_INTERVAL = 0.25

    def __init__(self, job_id):
        self.job_id = job_id
        self._last_write = 0.0

    def update(self, done, total=None, message=None, force=False):
        from portal.jobs.models import Job

        now = time.monotonic()
        if not force and now - self._last_write < self.MIN_INTERVAL:
            return
        self._last_write = now
        values = {"done": done}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = str(message)
        with database.atomic():
            Job.update(**values).where(Job.id == self.job_id).execute()


def _run(job_id, args):
    from portal.jobs.models import Job

    with _app().app_context():
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            log.warning("job %s vanished before it ran", job_id)
            return
        with database.atomic():
            Job.update(state="running", started_at=utcnow()).where(Job.id == job_id).execute()
        try:
            result = JOB_FUNCTIONS[job.kind](JobProgress(job_id), *args)
        except Exception as exc:  # the job's failure is shown on its page, not lost in a log
            log.exception("job %s (%s) failed", job_id, job.kind)
            with database.atomic():
                Job.update(state="failed", finished_at=utcnow(), message=str(exc)[:2000]).where(
                    Job.id == job_id).execute()
            return
        with database.atomic():
            Job.update(state="succeeded", finished_at=utcnow(), result=json.dumps(result, default=str),
                       done=Job.total).where(Job.id == job_id).execute()


run_queued_job = huey.task(name="fairshare.run_job")(_run)


def background_job(kind, label):
    """Register `fn(progress, *args)` as the function behind jobs of `kind`;
    `label` (a lazy string) names such jobs on their pages."""

    def decorator(fn):
        JOB_FUNCTIONS[kind] = fn
        JOB_LABELS[kind] = label
        return fn

    return decorator


def daily_job(kind, hour=0, minute=5):
    """Start a job of `kind` every day at hour:minute UTC, while a consumer runs
    (`flask jobs worker`): for work that falls due with the date, such as
    changes dated in the future. Returns huey's task, whose `call_local()` starts one now."""

    def start_scheduled_job():
        with _app().app_context():
            start_job(kind)

    return huey.periodic_task(crontab(minute=str(minute), hour=str(hour)),
                              name=f"fairshare.daily.{kind}")(start_scheduled_job)


def start_job(kind, args=(), *, actor=None, unit=None, total=0, message=""):
    """Record a job and queue it; returns the Job row."""
    from portal.jobs.models import Job

    if kind not in JOB_FUNCTIONS:
        raise LookupError(kind)
    with database.atomic():
        job = Job.create(id=uuid.uuid4().hex, kind=kind, total=total, message=message,
                         created_by=getattr(actor, "id", None), unit_id=getattr(unit, "id", unit))
    run_queued_job(job.id, list(args))
    return Job.get_by_id(job.id)
