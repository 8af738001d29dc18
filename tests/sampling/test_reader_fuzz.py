"""The reader against what a fuzzer would send (issues 11 and 12.1): a corpus built in
the test (hostile files, wrong encodings, truncated and mutated lists and workbooks,
random bytes) read in a fresh process whose address space is limited, and hypothesis
throwing random bytes and mutated real lists at it in this one. Only two outcomes are
allowed: a frame, or a SamplingError with a message in both languages."""

import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sampling

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (BYTES, BYTES))
    import sampling
    outcome = {}
    for path in sys.argv[1:]:
        try:
            frame = sampling.read_frame(path, max_rows=200_000)
            result = sampling.validate_frame(frame)
            outcome[path] = "read"
        except sampling.SamplingError as error:
            bilingual = bool(error.message_vi and error.message_en)
            outcome[path] = type(error).__name__ if bilingual else "no message"
        except Exception as error:  # what the test is looking for
            outcome[path] = f"crash: {type(error).__name__}: {error}"[:300]
    outcome["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(outcome))
    """
)
LIMIT = 1 << 30


def test_the_corpus_gives_frames_or_clear_errors_within_a_gigabyte(
    hostile, legacy_encodings, tmp_path
):
    corpus = hostile.corpus(legacy_encodings)
    paths = []
    for name, data in corpus.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    process = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("BYTES", str(LIMIT)), *paths],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-3000:]  # no abort, no MemoryError
    outcome = json.loads(process.stdout)
    peak = outcome.pop("peak_mb")
    crashes = {path: kind for path, kind in outcome.items() if kind.startswith(("crash", "no "))}
    assert crashes == {}
    assert len(outcome) == len(corpus) and peak < LIMIT >> 20
    kinds = set(outcome.values())
    # The corpus reaches the reader's refusals, not only its happy path.
    assert {"read", "ZipBombError", "TooManyRowsError", "UnreadableEncodingError"} <= kinds
    assert {"DamagedWorkbookError", "TooManyColumnsError", "SheetTooLargeError"} <= kinds


def _read(data: bytes) -> None:
    try:
        frame = sampling.read_frame(data, filename="fuzz.csv")
        sampling.validate_frame(frame)
    except sampling.SamplingError as error:
        assert error.message_vi and error.message_en


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_give_a_frame_or_a_clear_error(data):
    _read(data)


@pytest.fixture(scope="module")
def real_list(hostile) -> bytes:
    return hostile.real_list().encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 40), st.binary(max_size=12)), max_size=6
    )
)
def test_mutated_real_lists_give_a_frame_or_a_clear_error(real_list, edits):
    data = bytearray(real_list)
    for at, removed, inserted in edits:
        at %= len(data) + 1
        data[at : at + removed] = inserted
    _read(bytes(data))
