"""The compiled inner loops of frame validation, when they were built.

``sampling/_kernels.c`` is an optional extension: an install without a C compiler still
works, reads CSV with pyarrow's reader and uses the numpy versions of the same rules,
which the tests check against the compiled ones. Callers look ``compiled`` up at call time, so that :func:`disabled` can
switch it off (tests, benchmarks).
"""

import contextlib

try:
    from sampling import _kernels as compiled
except ImportError:  # built without a C compiler
    compiled = None


def available() -> bool:
    """Whether the compiled loops are in use."""
    return compiled is not None


@contextlib.contextmanager
def disabled():
    """Use the numpy versions inside the block (not thread-safe: tests and benchmarks)."""
    global compiled
    saved, compiled = compiled, None
    try:
        yield
    finally:
        compiled = saved
