"""Process-wide settings of pyarrow's allocator, made before pyarrow is first imported.

pyarrow allocates with mimalloc, which by default asks the kernel for transparent huge
pages: 2 MB pages that stay resident while any part of them is in use. Reading and
validating a 1,000,000-row list then peaks at about 3.2x the frame's size; with 4 kB pages
at about 2.8x, for about 10% more time (the system allocator: 2.7x, but 20% slower). See
BENCHMARKS.md, "Reading and validating frames". A library cannot choose for its process;
the service, its workers and its command line can. Values already in the environment win.
"""

import os

PROCESS_ENVIRONMENT = {"MIMALLOC_ALLOW_THP": "0"}

for name, value in PROCESS_ENVIRONMENT.items():
    os.environ.setdefault(name, value)
