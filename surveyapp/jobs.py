"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, inline otherwise.

API::

    from surveyapp import jobs
    job = jobs.enqueue("letters", "surveyapp.fieldwork.letters:render_letters", unit_id)
    # inside the job function:
    jobs.progress(done, total, "message")        # visible on a progress page
    return "/path/to/result.pdf"                  # stored as job.result_path

A job function takes the given positional arguments (JSON-friendly values) and runs in an
application context. Its database work is committed when it returns and rolled back when
it raises (the job is then marked failed with the error message).

Inline mode (no Redis, e.g. tests and the demo): the job runs at once, inside a savepoint
of the caller's transaction, so the request hook commits it with the rest. RQ mode: the
job row is committed with the request and the RQ job is queued only after that commit
(so the worker finds the row); progress is written on a separate connection so that the
page sees it while the job runs.

Dead jobs: while a job runs on the worker, a heartbeat thread writes ``heartbeat_at``
every ``JOB_HEARTBEAT_SECONDS``. :func:`check` (called by every page that shows a job)
marks a job failed, with a message in both languages, when its worker is gone: no
heartbeat for ``JOB_HEARTBEAT_TIMEOUT`` seconds (worker or host killed), or RQ reports
the job failed, stopped or missing. :func:`retry` queues a failed job again (the row
keeps the function and its arguments).

The Redis client is made once per application (``app.extensions["redis"]``), and the
worker (``surveyapp worker``) builds the application once and runs every job in it.
"""

import importlib
import logging
import os
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis, RedisError
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from sqlalchemy import event

from surveyapp.db import transaction, utcnow
from surveyapp.extensions import db
from surveyapp.models.jobs import Job, JobStatus

WORKER_ENTRY = "surveyapp.worker.perform"
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)

LOST_VI = (
    "Tiến trình chạy nền đã dừng giữa chừng (worker hoặc máy chủ bị tắt); phần làm dở "
    "không được lưu. Bấm «Chạy lại» để chạy lại."
)
LOST_EN = (
    "The background worker stopped in the middle of this job (worker or server shut "
    "down); nothing half-done was kept. Press “Run again” to run it again."
)
LOST_MESSAGE = f"{LOST_VI} / {LOST_EN}"
NO_WORKER_VI = (
    "Không có worker nào nhận việc này (worker chưa chạy?). Hãy khởi động worker "
    "(surveyapp worker) rồi bấm «Chạy lại»."
)
NO_WORKER_EN = (
    "No worker took this job (is the worker running?). Start the worker (surveyapp "
    "worker), then press “Run again”."
)
NO_WORKER_MESSAGE = f"{NO_WORKER_VI} / {NO_WORKER_EN}"

log = logging.getLogger(__name__)


# (job id, True when progress must be written on its own connection)
_current: ContextVar[tuple[uuid.UUID, bool] | None] = ContextVar("surveyapp_job", default=None)


def _resolve(func_path: str) -> Callable:
    module_name, _, attribute = func_path.partition(":")
    if not attribute:
        module_name, _, attribute = func_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def init_app(app: Flask) -> None:
    """One Redis client per application (it connects on first use, not here)."""
    url = app.config.get("REDIS_URL")
    app.extensions["redis"] = Redis.from_url(url) if url else None


def redis_client() -> Redis | None:
    return current_app.extensions.get("redis")


def _queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=redis_client())


def enqueue(kind: str, func_path: str, *args, created_by: int | None = None) -> Job:
    """Create a job running ``func_path`` ("package.module:function") with ``args``."""
    _resolve(func_path)  # fail now, in the caller, on a wrong path
    job = Job(kind=kind, created_by=created_by, func_path=func_path, args=list(args))
    db.session.add(job)
    db.session.flush()
    _start(job)
    return job


def _start(job: Job) -> None:
    if redis_client() is not None:
        _queue_after_commit(job.id, job.func_path, tuple(job.args or ()))
    else:
        _run_inline(job, job.func_path, tuple(job.args or ()))


def retry(job: Job) -> bool:
    """Queue a failed job again (inline without Redis: run it now); False when it cannot
    be retried (not failed, or recorded before jobs kept what they run)."""
    if job.status is not JobStatus.FAILED or not job.func_path:
        return False
    job.status = JobStatus.QUEUED
    job.progress, job.total, job.message = 0, None, None
    job.result_path, job.finished_at, job.started_at, job.heartbeat_at = None, None, None, None
    job.attempts = (job.attempts or 1) + 1
    job.created_at = utcnow()  # the grace for a queued job counts from now
    db.session.flush()
    _start(job)
    return True


def check(job: Job) -> Job:
    """Mark ``job`` failed when its worker is gone (see the module's docstring); the
    caller's transaction stores it."""
    message = _lost(job) if job.status in ACTIVE else None
    if message is not None:
        log.warning("Job %s (%s) lost its worker; marked failed", job.id, job.kind)
        job.status = JobStatus.FAILED
        job.message = message
        job.finished_at = utcnow()
        db.session.flush()
    return job


def _lost(job: Job) -> str | None:
    """Why the job will never finish (its message), or None while it may."""
    timeout = timedelta(seconds=float(current_app.config["JOB_HEARTBEAT_TIMEOUT"]))
    silent = utcnow() - (job.heartbeat_at or job.started_at or job.created_at)
    if job.status is JobStatus.RUNNING and silent > timeout:
        return LOST_MESSAGE
    redis = redis_client()
    if redis is None:
        # Inline jobs finish before their row is committed: an unfinished row was left by
        # a process that died, or by a host with a worker that is no longer heard of.
        return LOST_MESSAGE if silent > timeout else None
    try:
        rq_job = RQJob.fetch(str(job.id), connection=redis)
        status = rq_job.get_status(refresh=False)
        idle = status is RQStatus.QUEUED and Worker.count(queue=_queue()) == 0
    except NoSuchJobError:
        # Queued just after the commit that stored the row: allow for that moment.
        return LOST_MESSAGE if utcnow() - job.created_at > timeout else None
    except RedisError:
        return None  # cannot tell; the heartbeat rule still applies to running jobs
    if status in (RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED, RQStatus.FINISHED):
        return LOST_MESSAGE
    if idle and utcnow() - job.created_at > timeout:
        rq_job.cancel()  # a worker started later must not run it behind the page's back
        return NO_WORKER_MESSAGE
    return None


def progress(done: int, total: int | None = None, message: str | None = None) -> None:
    """Record a running job's progress (no-op outside a job)."""
    current = _current.get()
    if current is None:
        return
    job_id, separate_connection = current
    values = {"progress": done}
    if total is not None:
        values["total"] = total
    if message is not None:
        values["message"] = message
    if separate_connection:
        values["heartbeat_at"] = utcnow()
    statement = sa.update(Job).where(Job.id == job_id).values(**values)
    if separate_connection:
        with db.engine.begin() as connection:
            connection.execute(statement)
    else:
        db.session.execute(statement)


def _finish(job: Job, result) -> None:
    job.status = JobStatus.DONE
    job.result_path = result if isinstance(result, str) else None
    job.finished_at = utcnow()


def _fail(job: Job, exc: Exception) -> None:
    job.status = JobStatus.FAILED
    job.message = str(exc)[:2000] or type(exc).__name__
    job.finished_at = utcnow()


def _run_inline(job: Job, func_path: str, args: tuple) -> None:
    job.status = JobStatus.RUNNING
    token = _current.set((job.id, False))
    try:
        with db.session.begin_nested():
            result = _resolve(func_path)(*args)
    except Exception as exc:  # the job's own writes are rolled back with the savepoint
        current_app.logger.exception("Inline job %s failed", job.id)
        db.session.refresh(job)
        _fail(job, exc)
    else:
        db.session.refresh(job)
        _finish(job, result)
    finally:
        _current.reset(token)
    db.session.flush()


_PENDING = "surveyapp_pending_jobs"


def _queue_after_commit(job_id: uuid.UUID, func_path: str, args: tuple) -> None:
    session = db.session()
    if _PENDING not in session.info:
        session.info[_PENDING] = []
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _drop_pending)
    session.info[_PENDING].append((job_id, func_path, args))


def _send_pending(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; wait for the real commit
    pending, session.info[_PENDING] = session.info[_PENDING], []
    for item in pending:
        _send_to_rq(*item)


def _drop_pending(session) -> None:
    # A rolled-back savepoint keeps the list: jobs whose row vanished with it are
    # skipped by the worker (see perform).
    if not session.in_nested_transaction():
        session.info[_PENDING] = []


def _send_to_rq(job_id: uuid.UUID, func_path: str, args: tuple) -> None:
    queue = _queue()
    with suppress(NoSuchJobError):  # a retry: the failed attempt's RQ job (same id) goes
        RQJob.fetch(str(job_id), connection=queue.connection).delete()
    # By name: the worker's entry point runs the job in the worker's application.
    queue.enqueue(
        WORKER_ENTRY,
        str(job_id),
        func_path,
        list(args),
        job_id=str(job_id),
        job_timeout=current_app.config["JOB_TIMEOUT"],
    )


class _Heartbeat(threading.Thread):
    """Writes the job's ``heartbeat_at`` on its own connection until stopped."""

    def __init__(self, engine: sa.Engine, job_id: uuid.UUID, interval: float):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.engine, self.job_id, self.interval = engine, job_id, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            statement = sa.update(Job).where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
            try:
                with self.engine.begin() as connection:
                    connection.execute(statement.values(heartbeat_at=utcnow()))
            except sa.exc.SQLAlchemyError:
                log.warning("Heartbeat of job %s not written", self.job_id, exc_info=True)


def run_job(job_id: str, func_path: str, args: list) -> None:
    """Run a queued job in the current application context (see surveyapp/worker.py)."""
    job_uuid = uuid.UUID(job_id)
    with transaction():
        job = db.session.get(Job, job_uuid)
        if job is None or job.status is not JobStatus.QUEUED:
            return  # rolled back after queuing, or already marked failed as lost
        job.status = JobStatus.RUNNING
        job.started_at = job.heartbeat_at = utcnow()
    heartbeat = _Heartbeat(db.engine, job_uuid, current_app.config["JOB_HEARTBEAT_SECONDS"])
    heartbeat.start()
    token = _current.set((job_uuid, True))
    try:
        with transaction():
            result = _resolve(func_path)(*args)
    except Exception as exc:
        with transaction():
            _fail(db.session.get(Job, job_uuid), exc)
        raise
    else:
        with transaction():
            _finish(db.session.get(Job, job_uuid), result)
    finally:
        heartbeat.stopped.set()
        _current.reset(token)


# --- the worker ---------------------------------------------------------------------------------

_worker_app: Flask | None = None


def worker_app() -> Flask | None:
    """The application built by ``surveyapp worker`` (None elsewhere)."""
    return _worker_app


@click.command("worker")
@click.option("--burst", is_flag=True, help="Dừng khi hết việc / Stop when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Chạy các việc nền (RQ) / Run the background jobs (RQ) in this application."""
    global _worker_app
    if redis_client() is None:
        raise click.ClickException(
            "Chưa đặt REDIS_URL: việc nền chạy ngay trong yêu cầu, không cần worker. / "
            "REDIS_URL is not set: jobs run inline, no worker is needed."
        )
    # Built once here; RQ forks a work horse per job from this process, and each job
    # runs in this application (surveyapp/worker.py).
    _worker_app = current_app._get_current_object()
    _worker_app.extensions["worker"] = {"pid": os.getpid()}
    Worker([_queue()], connection=redis_client()).work(burst=burst)
