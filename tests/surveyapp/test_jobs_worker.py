"""Dead jobs and retries (issue 12 item 9), the worker's one application and the one Redis
client per application (issue 11 item 6): inline, and with the real Redis and a real RQ
worker process (``surveyapp worker``) killed with SIGKILL in the middle of a job."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis, RedisError

from surveyapp import jobs
from surveyapp.db import transaction, utcnow
from surveyapp.extensions import db
from surveyapp.models import Draw, FrameRecord, FrameUpload, Job, JobStatus, ListKind, Respondent
from surveyapp.models.users import Role

HELPERS = Path(__file__).parent / "worker_jobs"
REDIS_URL = "redis://127.0.0.1:6379/0"
QUEUE = f"surveyapp-test-{uuid.uuid4().hex[:12]}"
WORKER_CONFIG = {"REDIS_URL": REDIS_URL, "RQ_QUEUE": QUEUE, "JOB_HEARTBEAT_TIMEOUT": 2}
SURVEYAPP = str(Path(sys.executable).parent / "surveyapp")
WAIT = 120  # seconds: the longest wait for a worker to reach a state (never asserted)


@pytest.fixture(autouse=True)
def helpers_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HELPERS))


@pytest.fixture
def redis_server():
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield connection
    for key in connection.scan_iter(f"rq:*{QUEUE}*"):
        connection.delete(key)


@pytest.fixture
def worker_env(app, backend, redis_server):
    """The environment of a worker process serving the test's database and queue."""
    if backend != "postgresql":
        pytest.skip("the worker process shares the PostgreSQL database, as a second host would")
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SURVEYAPP_INSTANCE_PATH": app.instance_path,
        "REDIS_URL": REDIS_URL,
        "RQ_QUEUE": QUEUE,
        "JOB_HEARTBEAT_SECONDS": "0.2",
        "PYTHONPATH": os.pathsep.join([str(HELPERS), os.environ.get("PYTHONPATH", "")]),
    }


def enqueue(app, kind, func_path, *args):
    with app.app_context(), transaction():
        return jobs.enqueue(kind, func_path, *args).id


def job_row(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.1)


def run_worker_burst(env):
    done = subprocess.run(
        [SURVEYAPP, "worker", "--burst"], env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 0, done.stderr[-3000:]


# --- the inline path (no Redis) ---------------------------------------------------------------


def test_a_failed_inline_job_runs_again_on_retry(app, tmp_path):
    ready = tmp_path / "ready"
    job_id = enqueue(app, "letters", "surveyapp_worker_test_jobs:fail_unless", str(ready))
    assert job_row(app, job_id).status is JobStatus.FAILED
    ready.touch()
    with app.app_context(), transaction():
        assert jobs.retry(db.session.get(Job, job_id)) is True
    job = job_row(app, job_id)
    assert (job.status, job.attempts, job.message) == (JobStatus.DONE, 2, None)
    with app.app_context(), transaction():
        assert jobs.retry(db.session.get(Job, job_id)) is False  # only failed jobs


def _frame(app, campaign, unit, size=12):
    with app.app_context(), transaction():
        upload = FrameUpload(campaign_id=campaign.id, unit_id=unit.id,
                             list_kind=ListKind.CITIZENS, filename="x.csv", rows_read=size,
                             rows_valid=size)  # fmt: skip
        db.session.add(upload)
        db.session.flush()
        for i in range(size):
            db.session.add(FrameRecord(upload_id=upload.id, source_row=i + 2,
                                       full_name=f"Người {i}", phone=f"09{i:08d}",
                                       respondent_group="citizen"))  # fmt: skip


DESIGN = {"size_mode": "fixed", "n": "4", "reserve": "1", "min_per_stratum": "0", "seed": "7"}


def test_a_job_left_running_by_a_dead_process_is_failed_and_retried_inline(
    app, client, login, factory
):
    """No Redis: a row left running (its process died) shows as failed with a message in
    both languages once its heartbeat is older than the timeout; the button runs it again."""
    campaign = factory.campaign(code="2024")
    _frame(app, campaign, factory.unit(code="XA01"))
    login(Role.ADMIN)
    assert (
        client.post(f"/draws/{campaign.id}/design", data={**DESIGN, "action": "draw"}).status_code
        == 302
    )
    with app.app_context(), transaction():
        draw = db.session.scalar(sa.select(Draw))
        draw.verification = None
        stale = utcnow() - dt.timedelta(hours=1)
        job = Job(kind="draw-check", func_path="surveyapp.draws.tasks:run_check_job",
                  args=[draw.id], status=JobStatus.RUNNING, started_at=stale,
                  heartbeat_at=stale, progress=10, total=100)  # fmt: skip
        db.session.add(job)
        db.session.flush()
        job_id, draw_id = job.id, draw.id
    page = client.get(f"/draws/{campaign.id}/jobs/{job_id}").get_data(as_text=True)
    assert jobs.LOST_VI in page and jobs.LOST_EN in page and "Chạy lại" in page
    assert job_row(app, job_id).status is JobStatus.FAILED
    answer = client.post(f"/draws/{campaign.id}/jobs/{job_id}/retry")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Đã kiểm tra xong." in page
    with app.app_context():
        assert db.session.get(Draw, draw_id).verification["ok"] is True
    assert job_row(app, job_id).attempts == 2


def test_a_recent_running_job_is_left_alone(app):
    with app.app_context(), transaction():
        job = Job(kind="draw-check", status=JobStatus.RUNNING, heartbeat_at=utcnow())
        db.session.add(job)
        db.session.flush()
        assert jobs.check(job).status is JobStatus.RUNNING


def test_retry_needs_the_right_role(app, client, login, factory):
    campaign = factory.campaign()
    with app.app_context(), transaction():
        job = Job(kind="draw", status=JobStatus.FAILED, func_path="x:y", args=[])
        db.session.add(job)
        db.session.flush()
        job_id = job.id
    login(Role.SUPERVISOR)
    assert client.post(f"/draws/{campaign.id}/jobs/{job_id}/retry").status_code == 403
    assert job_row(app, job_id).status is JobStatus.FAILED


# --- Redis and the real worker --------------------------------------------------------------------


@pytest.mark.app_config(**WORKER_CONFIG)
def test_one_redis_client_per_application(app, redis_server, monkeypatch):
    client = app.extensions["redis"]
    monkeypatch.setattr(Redis, "from_url", lambda *a, **k: pytest.fail("a second Redis client"))
    job_id = enqueue(app, "letters", "surveyapp_worker_test_jobs:which_app")
    job_two = enqueue(app, "letters", "surveyapp_worker_test_jobs:which_app")
    with app.app_context():
        assert jobs.redis_client() is client
        assert redis_server.lrange(f"rq:queue:{QUEUE}", 0, -1) == [
            str(job_id).encode(),
            str(job_two).encode(),
        ]


@pytest.mark.app_config(**WORKER_CONFIG)
def test_a_worker_killed_mid_job_is_detected_and_the_job_retried(
    app, client, login, factory, worker_env, tmp_path
):
    campaign = factory.campaign()
    gate = tmp_path / "gate"
    job_id = enqueue(app, "draw-check", "surveyapp_worker_test_jobs:wait_for_gate", str(gate))
    worker = subprocess.Popen(
        [SURVEYAPP, "worker"],
        env=worker_env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: job_row(app, job_id).progress == 1, "the job to start")
        horse = int(job_row(app, job_id).message)  # RQ runs the job in its own process group
        os.kill(horse, signal.SIGKILL)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, as a host that goes down
        worker.wait()
    assert job_row(app, job_id).status is JobStatus.RUNNING  # nobody told the database

    login(Role.ADMIN)
    page_url = f"/draws/{campaign.id}/jobs/{job_id}"

    def failed_page() -> bool:
        return jobs.LOST_EN in client.get(page_url).get_data(as_text=True)

    wait_until(failed_page, "the page to show the lost job")
    page = client.get(page_url).get_data(as_text=True)
    assert jobs.LOST_VI in page and "Chạy lại" in page and 'http-equiv="refresh"' not in page
    assert job_row(app, job_id).status is JobStatus.FAILED

    gate.touch()
    assert client.post(f"{page_url}/retry").status_code == 302
    assert job_row(app, job_id).status is JobStatus.QUEUED
    run_worker_burst(worker_env)
    job = job_row(app, job_id)
    assert (job.status, job.progress, job.attempts) == (JobStatus.DONE, 2, 2)


@pytest.mark.app_config(**WORKER_CONFIG)
def test_the_worker_builds_the_app_once_for_many_jobs_and_draws(
    app, client, login, factory, worker_env
):
    campaign = factory.campaign(code="2024")
    _frame(app, campaign, factory.unit(code="XA01"))
    login(Role.ADMIN)
    answer = client.post(f"/draws/{campaign.id}/design", data={**DESIGN, "action": "draw"})
    assert "/jobs/" in answer.headers["Location"]  # queued, not drawn in the request
    ids = [enqueue(app, "letters", "surveyapp_worker_test_jobs:which_app") for _ in range(3)]
    run_worker_burst(worker_env)
    seen = [json.loads(job_row(app, job_id).message) for job_id in ids]
    worker_pids = {s["worker_pid"] for s in seen}
    # One worker process built the app; each job ran in it, in a work horse forked from it.
    assert len(worker_pids) == 1 and None not in worker_pids
    assert all(s["pid"] != s["worker_pid"] for s in seen)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Đã chọn xong mẫu." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Respondent.id))) == 5
        assert db.session.scalar(sa.select(Draw)).verification["ok"] is True


def test_a_failed_letters_job_is_run_again_from_its_page(app, client, login, tmp_path):
    ready = tmp_path / "ready"
    job_id = enqueue(app, "letters", "surveyapp_worker_test_jobs:fail_unless", str(ready))
    login(Role.SUPERVISOR)
    page = client.get(f"/tokens/jobs/{job_id}").get_data(as_text=True)
    assert "the file is not there yet" in page and f"/tokens/jobs/{job_id}/retry" in page
    ready.touch()
    answer = client.post(f"/tokens/jobs/{job_id}/retry")
    assert answer.headers["Location"].endswith(f"/tokens/jobs/{job_id}")
    assert job_row(app, job_id).status is JobStatus.DONE
    assert "Chạy lại" not in client.get(f"/tokens/jobs/{job_id}").get_data(as_text=True)


@pytest.mark.app_config(**WORKER_CONFIG)
def test_a_job_no_worker_takes_is_failed_and_queued_again(app, client, login, redis_server):
    job_id = enqueue(app, "letters", "surveyapp_worker_test_jobs:which_app")
    login(Role.SUPERVISOR)
    page = client.get(f"/tokens/jobs/{job_id}").get_data(as_text=True)
    assert jobs.NO_WORKER_VI not in page and 'http-equiv="refresh"' in page  # still waiting
    with app.app_context(), transaction():
        db.session.get(Job, job_id).created_at = utcnow() - dt.timedelta(minutes=5)
    page = client.get(f"/tokens/jobs/{job_id}").get_data(as_text=True)
    assert jobs.NO_WORKER_VI in page and "Chạy lại" in page
    assert job_row(app, job_id).status is JobStatus.FAILED
    client.post(f"/tokens/jobs/{job_id}/retry")
    assert job_row(app, job_id).status is JobStatus.QUEUED
    assert redis_server.lrange(f"rq:queue:{QUEUE}", 0, -1) == [str(job_id).encode()]
