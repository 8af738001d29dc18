"""The service's processes set pyarrow's allocator up before pyarrow loads."""

import os
import subprocess
import sys

from surveyapp.arrow_allocator import PROCESS_ENVIRONMENT


def _mimalloc_options(code: str, environment: dict) -> str:
    """What mimalloc reports of its options at start-up (MIMALLOC_VERBOSE) in a fresh
    process running code."""
    env = {k: v for k, v in os.environ.items() if k not in PROCESS_ENVIRONMENT}
    env.update(environment, MIMALLOC_VERBOSE="1")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stderr


def test_importing_the_service_turns_huge_pages_off_for_pyarrows_allocator():
    report = _mimalloc_options("import surveyapp, pyarrow as pa; pa.default_memory_pool()", {})
    assert "option 'allow_thp': 0" in report
    # pyarrow alone keeps mimalloc's default: the setting is what made the difference.
    assert "option 'allow_thp': 1" in _mimalloc_options("import pyarrow", {})


def test_a_value_set_by_the_operator_wins():
    report = _mimalloc_options("import surveyapp, pyarrow", {"MIMALLOC_ALLOW_THP": "1"})
    assert "option 'allow_thp': 1" in report
