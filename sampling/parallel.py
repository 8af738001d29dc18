"""Independent pieces of work run side by side on the machine's cores.

Used for work that runs in Arrow or in the compiled loops (``sampling._kernels``), which
release the GIL: threads then use both cores of a small server without copying data to
other processes.
"""

from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa


def side_by_side(*calls) -> list:
    """The results of the calls (functions without arguments), in order."""
    workers = min(len(calls), pa.cpu_count())
    if workers <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]
