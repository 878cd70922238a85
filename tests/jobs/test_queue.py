"""The job queue round trip, as the worker runs it: queued in storage, then
dequeued and executed with progress written to the job's row."""
import json

import pytest
import redis
from huey import RedisHuey, SqliteHuey

from portal.audit.models import AuditEvent
from portal.audit.services import start_chain_verification
from portal.core import jobs
from portal.core.permissions import Actor
from portal.jobs.models import Job


@pytest.fixture
def queued_mode():
    """Queue jobs instead of running them at once, as in production."""
    jobs.huey.immediate = False
    jobs.huey.flush()
    yield jobs.huey
    jobs.huey.flush()
    jobs.huey.immediate = True


def test_sqlite_queue_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("JOBS_SQLITE_PATH", str(tmp_path / "queue.db"))
    queue = jobs._make_huey()
    assert isinstance(queue, SqliteHuey)
    assert (tmp_path / "queue.db").exists()


def test_redis_queue_when_redis_url_is_set(monkeypatch):
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    monkeypatch.setenv("REDIS_URL", url)
    queue = jobs._make_huey()
    assert isinstance(queue, RedisHuey)
    queue.flush()

    @queue.task()
    def add(a, b):
        return a + b

    add(2, 3)
    assert queue.pending_count() == 1
    result = queue.execute(queue.dequeue())
    assert result == 5
    queue.flush()


def test_worker_runs_a_queued_job_and_records_progress(app, queued_mode):
    job = start_chain_verification(Actor.system())
    assert Job.get_by_id(job.id).state == "queued"
    assert queued_mode.pending_count() == 1

    queued_mode.execute(queued_mode.dequeue())  # what `flask jobs worker` does

    finished = Job.get_by_id(job.id)
    assert finished.state == "succeeded"
    assert finished.done == finished.total == AuditEvent.select().count()
    assert json.loads(finished.result)["ok"] is True


def test_a_failing_job_is_marked_failed_with_its_message(app, queued_mode, monkeypatch):
    def explode(progress):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "audit.verify", explode)
    job = start_chain_verification(Actor.system())
    queued_mode.execute(queued_mode.dequeue())
    failed = Job.get_by_id(job.id)
    assert failed.state == "failed"
    assert "disk on fire" in failed.message
