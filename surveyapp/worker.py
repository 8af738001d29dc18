"""The RQ worker's entry point: ``surveyapp worker`` (surveyapp/jobs.py) builds the app once
and RQ calls :func:`perform` for each job in a work horse forked from it.

Run by a plain ``rq worker surveyapp`` instead, the app is built on the first job of each
process (with RQ's forking worker: once per job; prefer ``surveyapp worker``).
"""

import os

from flask import Flask

from surveyapp import jobs
from surveyapp.app import create_app
from surveyapp.extensions import db

_app: Flask | None = None
_pool_pid: int | None = None


def worker_app() -> Flask:
    global _app
    if _app is None:
        _app = jobs.worker_app() or create_app()
    return _app


def perform(job_id: str, func_path: str, args: list) -> None:
    global _pool_pid
    app = worker_app()
    with app.app_context():
        if _pool_pid != os.getpid():
            # A forked work horse must not share the parent's database connections.
            db.engine.dispose(close=False)
            _pool_pid = os.getpid()
        jobs.run_job(job_id, func_path, args)
