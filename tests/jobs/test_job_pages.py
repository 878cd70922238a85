"""A job's page: who may follow it, and what it shows while and after it runs."""
import pytest

from factories import unit_by_code
from portal.accounts.models import User
from portal.core import jobs
from portal.core.jobs import start_job
from portal.jobs.models import Job
from portal.core.errors import NotInScope
from portal.core.permissions import Actor
from portal.jobs.services import load_job, recent_jobs


def user(username):
    return User.get(User.username == username)


@pytest.fixture
def german_job(db):
    """A chain check started by hr.de, filed under the German company."""
    return start_job("audit.verify", actor=user("hr.de"), unit=unit_by_code("EXDE"), total=10)


@pytest.fixture
def failing_kind(monkeypatch):
    def explode(progress):
        progress.update(3, 10, force=True)
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "test.explode", explode)
    monkeypatch.setitem(jobs.JOB_LABELS, "test.explode", "Exploding job")
    return "test.explode"


def test_the_starter_follows_their_job(client_for, german_job):
    body = client_for("hr.de").get(f"/jobs/{german_job.id}").get_data(as_text=True)
    assert "<html" in body.lower()
    assert f'id="job-{german_job.id}"' in body and "Done" in body


def test_the_job_fragment_for_htmx_polling(client_for, german_job):
    body = client_for("hr.de").get(f"/jobs/{german_job.id}", htmx=True).get_data(as_text=True)
    assert body.lstrip().startswith(f'<article class="job" id="job-{german_job.id}"')


@pytest.mark.parametrize("username", ["admin", "auditor"])  # jobs.view on the group (auditor: *.view)
def test_others_with_jobs_view_on_the_unit_follow_it_too(client_for, german_job, username):
    assert client_for(username).get(f"/jobs/{german_job.id}").status_code == 200


@pytest.mark.parametrize("username", ["hr.cn", "lead.jd", "agent.jd1"])
def test_nobody_else_sees_the_job(client_for, german_job, username):
    assert client_for(username).get(f"/jobs/{german_job.id}").status_code == 404


def test_an_unknown_or_overlong_job_id_is_404(client_for, german_job):
    client = client_for("hr.de")
    assert client.get("/jobs/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get(f"/jobs/{german_job.id}{'x' * 50}").status_code == 200  # read as its first 32 characters


def test_anonymous_visitors_are_sent_to_login(client, german_job):
    response = client.get(f"/jobs/{german_job.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_failed_job_shows_its_state_and_message(client_for, failing_kind):
    job = start_job(failing_kind, actor=user("hr.de"), unit=unit_by_code("EXDE"))
    stored = Job.get_by_id(job.id)
    assert (stored.state, stored.done, stored.total) == ("failed", 3, 10)
    assert stored.finished_at is not None and "the disk is full" in stored.message
    body = client_for("hr.de").get(f"/jobs/{job.id}", htmx=True).get_data(as_text=True)
    assert "Failed" in body and "the disk is full" in body and "Exploding job" in body
    assert 'hx-trigger="every 1s"' not in body


def test_a_running_job_keeps_polling(client_for, german_job):
    Job.update(state="running", done=4, total=10, finished_at=None, result=None).where(
        Job.id == german_job.id).execute()
    body = client_for("hr.de").get(f"/jobs/{german_job.id}", htmx=True).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in body and "Running" in body
    assert '<progress value="4" max="10"' in body and "40%" in body


def test_unknown_job_kinds_are_refused(db):
    with pytest.raises(LookupError):
        start_job("no.such.kind")


def test_load_job_and_recent_jobs_follow_the_scope(german_job):
    assert load_job(Actor.for_user(user("hr.de")), german_job.id).id == german_job.id
    with pytest.raises(NotInScope):
        load_job(Actor.for_user(user("hr.cn")), german_job.id)
    assert german_job.id in {j.id for j in recent_jobs(Actor.for_user(user("admin")))}
    assert german_job.id not in {j.id for j in recent_jobs(Actor.for_user(user("hr.cn")))}


def test_job_percent(db):
    assert Job(done=1, total=4, state="running").percent == 25
    assert Job(done=0, total=0, state="succeeded").percent == 100
    assert Job(done=0, total=0, state="queued").percent == 0
