"""Job functions for the worker tests (tests/surveyapp/test_jobs_worker.py): the worker
process imports them by name, from this folder put on its PYTHONPATH."""

import json
import os
import time
from pathlib import Path

from flask import current_app

from surveyapp import jobs


def wait_for_gate(gate: str) -> None:
    """Report progress (the message is the process id), then wait until the file ``gate``
    exists."""
    jobs.progress(1, 2, str(os.getpid()))
    while not Path(gate).exists():
        time.sleep(0.05)
    jobs.progress(2, 2, "through the gate")


def which_app() -> None:
    """Record which application object the job ran in, and in which process."""
    worker = current_app.extensions.get("worker") or {}
    jobs.progress(1, 1, json.dumps({"worker_pid": worker.get("pid"), "pid": os.getpid()}))


def fail_unless(path: str) -> None:
    """Fail while the file ``path`` does not exist."""
    if not Path(path).exists():
        raise RuntimeError("the file is not there yet")
