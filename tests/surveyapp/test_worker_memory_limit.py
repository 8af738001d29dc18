"""The web workers' address-space limit (gunicorn.conf.py's post_fork): a real gunicorn
with the project's configuration, whose workers' limits are read from /proc."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def address_space_limit(pid: int) -> str:
    limits = Path(f"/proc/{pid}/limits").read_text()
    line = next(line for line in limits.splitlines() if line.startswith("Max address space"))
    return line.split()[3]  # the soft limit, in bytes, or "unlimited"


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.mark.parametrize(("setting", "expected"), [("700", str(700 << 20)), ("0", "unlimited")])
def test_gunicorn_workers_run_under_the_configured_memory_limit(tmp_path, setting, expected):
    port = free_port()
    environment = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "WEB_MEMORY_LIMIT_MB": setting,
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path),
    }
    environment.pop("DATABASE_URL", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "surveyapp.app:create_app()",
        ],  # fmt: skip
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        workers = workers_of(server.pid)
        assert workers
        assert {address_space_limit(pid) for pid in workers} == {expected}
        assert address_space_limit(server.pid) == "unlimited"  # only the workers
    finally:
        server.terminate()
        server.wait(timeout=30)
