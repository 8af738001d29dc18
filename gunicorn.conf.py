"""gunicorn settings for the web process (Procfile), chosen by bench/bench_citizen_submit.py.

Threaded workers (gthread): a request mostly waits for PostgreSQL (commit included), so a
few threads per process keep the cores busy where sync workers sit idle. One worker
per core by default (WEB_CONCURRENCY), WEB_THREADS threads each. Each thread can hold
one database connection: keep workers x threads within SQLAlchemy's pool (5 + 10
overflow per process) and PostgreSQL's max_connections.

Each worker's address space is limited to WEB_MEMORY_LIMIT_MB (default 2048; 0: no limit),
a second line of defence behind the list reader's own bounds: a request that still tries
to allocate past it gets MemoryError (the upload page refuses the file) instead of
swapping the machine or being killed by the kernel with the worker's other requests.
"""

import os
import resource

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread" if threads > 1 else "sync"


def worker_memory_limit() -> int | None:
    """The worker's address-space limit in bytes, from WEB_MEMORY_LIMIT_MB."""
    megabytes = int(os.environ.get("WEB_MEMORY_LIMIT_MB", "2048"))
    return megabytes * 1024 * 1024 if megabytes > 0 else None


def post_fork(server, worker):
    limit = worker_memory_limit()
    if limit is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        server.log.info("worker %s: address space limited to %d MB", worker.pid, limit >> 20)
