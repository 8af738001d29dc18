"""Handing freed memory back to the system between the big steps of reading and
validating a list.

Arrow's allocator and glibc's malloc keep freed blocks for reuse; between steps that is
memory nobody will reuse soon, and it counts towards the process's peak (a million-row
list: a third of the frame). Releasing it costs a few milliseconds.
"""

import ctypes
import ctypes.util

import pyarrow as pa


def _glibc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None


_malloc_trim = _glibc_trim()


def release_unused() -> None:
    """Return the freed blocks of Arrow's pool and of glibc's heaps to the system."""
    pa.default_memory_pool().release_unused()
    if _malloc_trim is not None:
        _malloc_trim(0)
