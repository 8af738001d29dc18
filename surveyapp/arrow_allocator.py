"""Process-wide allocator choice for pyarrow, made before pyarrow is first imported.

Arrow's default allocator (mimalloc) keeps the blocks freed by the CSV reader's threads,
so reading and validating a 1,000,000-row list peaks at about 3.4x the frame's size; the
system allocator keeps the peak at about 2.6-2.7x for about 15-20% more time (BENCHMARKS.md,
"Reading and validating frames"). A library cannot choose for its process; the service
and its command line can. An explicit ARROW_DEFAULT_MEMORY_POOL in the environment wins.
"""

import os

os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
