"""Background jobs: inline runs, failures, progress, and RQ queuing after commit."""

import sys
import types
import uuid

import pytest
import sqlalchemy as sa

from surveyapp import jobs, worker
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models import Job, JobStatus, Unit


@pytest.fixture
def job_module(monkeypatch):
    module = types.ModuleType("surveyapp_test_jobs")

    def add_units(count):
        for n in range(count):
            db.session.add(Unit(code=f"JOB{n}", name=f"n{n}", level_label=""))
            jobs.progress(n + 1, count, f"{n + 1}/{count}")
        return "/tmp/result.pdf"

    def explode():
        db.session.add(Unit(code="LOST", name="x", level_label=""))
        db.session.flush()
        raise RuntimeError("the printer caught fire")

    module.add_units, module.explode = add_units, explode
    monkeypatch.setitem(sys.modules, "surveyapp_test_jobs", module)
    return module


def codes(app):
    with app.app_context():
        return set(db.session.scalars(sa.select(Unit.code)))


def test_inline_job_runs_and_records_progress(app, job_module):
    with app.app_context(), transaction():
        job = jobs.enqueue("letters", "surveyapp_test_jobs:add_units", 3)
        job_id = job.id
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.progress, job.total, job.message) == (JobStatus.DONE, 3, 3, "3/3")
        assert job.result_path == "/tmp/result.pdf" and job.finished_at is not None
    assert codes(app) == {"JOB0", "JOB1", "JOB2"}


def test_failed_inline_job_keeps_the_callers_work(app, job_module):
    with app.app_context(), transaction():
        db.session.add(Unit(code="CALLER", name="x", level_label=""))
        job_id = jobs.enqueue("letters", "surveyapp_test_jobs.explode").id
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == JobStatus.FAILED
        assert "printer caught fire" in job.message
    assert codes(app) == {"CALLER"}


def test_wrong_function_path_fails_at_once(app):
    with app.app_context(), pytest.raises((ImportError, AttributeError)):
        jobs.enqueue("x", "surveyapp.jobs:no_such_function")


@pytest.mark.app_config(REDIS_URL="redis://127.0.0.1:6379/0")
def test_rq_jobs_are_queued_only_after_commit(app, job_module, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "_send_to_rq", lambda *args: sent.append(args))
    with app.app_context():
        with transaction():
            job_id = jobs.enqueue("letters", "surveyapp_test_jobs:add_units", 2).id
            assert sent == []  # not before the job row is committed
        assert [s[0] for s in sent] == [job_id]
        assert db.session.get(Job, job_id).status == JobStatus.QUEUED
        with pytest.raises(RuntimeError), transaction():
            jobs.enqueue("letters", "surveyapp_test_jobs:add_units", 2)
            raise RuntimeError("request failed")
        assert len(sent) == 1  # a rolled-back job is never sent
        with transaction():
            with db.session.begin_nested():
                jobs.enqueue("letters", "surveyapp_test_jobs:add_units", 2)
            assert len(sent) == 1  # releasing a savepoint is not the commit
        assert len(sent) == 2
    assert codes(app) == set()


def test_worker_skips_a_job_whose_row_was_rolled_back(app, monkeypatch):
    monkeypatch.setattr(worker, "_app", app)
    worker.perform(str(uuid.uuid4()), "surveyapp_test_jobs:add_units", [2])
    assert codes(app) == set()


def test_jobs_are_queued_for_the_worker_entry_point():
    # RQ imports the entry point by this name in the worker process.
    assert jobs._resolve(jobs.WORKER_ENTRY) is worker.perform


def test_worker_entry_point_runs_the_job(app, job_module, monkeypatch):
    monkeypatch.setattr(worker, "_app", app)
    with app.app_context(), transaction():
        job = Job(kind="letters")
        db.session.add(job)
        db.session.flush()
        job_id = job.id
    worker.perform(str(job_id), "surveyapp_test_jobs:add_units", [2])
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.progress, job.result_path) == (JobStatus.DONE, 2, "/tmp/result.pdf")
    assert codes(app) == {"JOB0", "JOB1"}
