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
"""

import importlib
import uuid
from collections.abc import Callable
from contextvars import ContextVar

import sqlalchemy as sa
from flask import current_app
from redis import Redis
from rq import Queue
from sqlalchemy import event

from surveyapp.db import transaction, utcnow
from surveyapp.extensions import db
from surveyapp.models.jobs import Job, JobStatus

QUEUE_NAME = "surveyapp"
WORKER_ENTRY = "surveyapp.worker.perform"


# (job id, True when progress must be written on its own connection)
_current: ContextVar[tuple[uuid.UUID, bool] | None] = ContextVar("surveyapp_job", default=None)


def _resolve(func_path: str) -> Callable:
    module_name, _, attribute = func_path.partition(":")
    if not attribute:
        module_name, _, attribute = func_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def enqueue(kind: str, func_path: str, *args, created_by: int | None = None) -> Job:
    """Create a job running ``func_path`` ("package.module:function") with ``args``."""
    _resolve(func_path)  # fail now, in the caller, on a wrong path
    job = Job(kind=kind, created_by=created_by)
    db.session.add(job)
    db.session.flush()
    if current_app.config.get("REDIS_URL"):
        _queue_after_commit(job.id, func_path, args)
    else:
        _run_inline(job, func_path, args)
    return job


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
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(current_app.config["REDIS_URL"]))
    # By name: the worker's entry point builds the app, which imports this module.
    queue.enqueue(WORKER_ENTRY, str(job_id), func_path, list(args), job_id=str(job_id))


def run_job(job_id: str, func_path: str, args: list) -> None:
    """Run a queued job in the current application context (see surveyapp/worker.py)."""
    job_uuid = uuid.UUID(job_id)
    with transaction():
        job = db.session.get(Job, job_uuid)
        if job is None:  # its transaction was rolled back after queuing
            return
        job.status = JobStatus.RUNNING
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
        _current.reset(token)
