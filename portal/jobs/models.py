import peewee as pw

from portal.core.db import BaseModel, utcnow

JOB_STATES = ("queued", "running", "succeeded", "failed")


class Job(BaseModel):
    """A unit of long work run by the background worker, with its progress.

    The page polls the job's row, so progress shows whichever worker or host
    runs it."""

    id = pw.CharField(max_length=32, primary_key=True)
    kind = pw.CharField(max_length=64)
    state = pw.CharField(max_length=16, default="queued")
    done = pw.IntegerField(default=0)
    total = pw.IntegerField(default=0)
    message = pw.TextField(default="")
    result = pw.TextField(null=True)
    created_by = pw.IntegerField(null=True)
    unit_id = pw.IntegerField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    started_at = pw.DateTimeField(null=True)
    finished_at = pw.DateTimeField(null=True)

    @property
    def is_finished(self):
        return self.state in ("succeeded", "failed")

    @property
    def percent(self):
        return int(100 * self.done / self.total) if self.total else (100 if self.is_finished else 0)
