"""gunicorn settings for the web process (Procfile), chosen by bench/bench_citizen_submit.py.

Threaded workers (gthread): a request mostly waits for PostgreSQL (commit included), so a
few threads per process keep the cores busy where sync workers sit idle. One worker
per core by default (WEB_CONCURRENCY), WEB_THREADS threads each. Each thread can hold
one database connection: keep workers x threads within SQLAlchemy's pool (5 + 10
overflow per process) and PostgreSQL's max_connections.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread" if threads > 1 else "sync"
