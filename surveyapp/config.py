"""Configuration read from the environment.

Environment variables (all optional except ``SECRET_KEY`` in production):

``SURVEYAPP_INSTANCE_PATH`` folder for the SQLite database, job outputs and the development key
                        (default: Flask's instance folder beside the package).
``SURVEYAPP_ENV``       ``production`` | ``development`` (default) | ``testing``
``DATABASE_URL``        SQLAlchemy URL; ``postgres://`` and ``postgresql://`` are mapped to the
                        psycopg 3 driver. Default: SQLite file in the instance folder.
``SECRET_KEY``          signs sessions and derives the token-hashing key (see security.derive_key).
                        Outside production, a random key kept in the instance folder
                        (``secret_key``) is used when it is not set.
``REDIS_URL``           enables RQ background jobs and Redis-backed rate limits (without it, rate
                        limits are counted in each process's memory).
``PROXY_HOPS``          number of trusted reverse proxies in front of the service whose
                        X-Forwarded-For / X-Forwarded-Proto are believed (default 0: none; the
                        client's address is then the connection's).
``STORAGE_DIR``         the one folder, shared by every host, for scoring runs' files (default: the
                        instance folder); their records are in the database.
``ARGON2_CONCURRENCY``  password hashes at once per process (default 2); a sign-in waits up to
``ARGON2_WAIT_SECONDS`` (default 10) for a slot, then gets a 503 asking to retry.
``RQ_QUEUE``            the RQ queue of this service's jobs (default ``surveyapp``).
``JOB_TIMEOUT``         longest run of one background job, in seconds (default 3600).
``JOB_HEARTBEAT_SECONDS`` how often a running job tells the database it is alive (default 10).
``JOB_HEARTBEAT_TIMEOUT`` a queued or running job not heard of for this many seconds is marked
                        failed (its worker died); the page then offers a retry (default 120).
``BASE_URL``            public address used in printed links and QR codes.
``MAX_CONTENT_LENGTH``  largest request body in bytes (default 20 MB).
``MAX_UPLOAD_ROWS``     largest number of data rows accepted in an uploaded list.
``MAX_UPLOAD_CELLS``    largest rectangle of cells (rows x columns) of an uploaded workbook's sheet,
                        checked before the sheet is read (default 10,000,000).
``WEB_MEMORY_LIMIT_MB`` address space of each web worker, set by gunicorn.conf.py (default 2048;
                        0: no limit).
``PROVINCE_NAME``       the province named on invitation letters (left out when unset).
"""

import os
import secrets
from pathlib import Path

DEV_SECRET_KEY_FILE = "secret_key"


def database_uri_from_env(url: str | None, instance_path: str) -> str:
    """Return the SQLAlchemy URI for ``DATABASE_URL`` (psycopg 3 driver for PostgreSQL)."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'surveyapp.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def development_secret_key(instance_path: str) -> str:
    """Return this instance's own random key, creating it on first use.

    Kept in a file (mode 0600) rather than made anew each start, because the key also
    derives the token-hashing key: printed invitation links must keep working after a
    restart of the development server or the demo.
    """
    path = Path(instance_path) / DEV_SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as key_file:
        key_file.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float_env(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def config_from_env(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the configuration mapping from environment variables.

    ``overrides`` (the factory's ``test_config``) may supply SECRET_KEY itself.
    """
    overrides = overrides or {}
    env = os.environ.get("SURVEYAPP_ENV", "development")
    production = env == "production"
    secret_key = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise RuntimeError(
                "SECRET_KEY chưa được đặt / SECRET_KEY must be set when SURVEYAPP_ENV=production"
            )
        secret_key = development_secret_key(instance_path)
    return {
        "ENV_NAME": env,
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_uri_from_env(
            os.environ.get("DATABASE_URL"), instance_path
        ),
        # No pre-ping (a round trip before every request): connections are replaced after
        # 30 min, and a connection found broken (database restarted) makes SQLAlchemy
        # discard the whole pool, so only the request that met it fails (rolled back).
        # A database error never carries its SQL parameters (list rows: names, phones)
        # into its message, hence into logs or job results (issue 12.8).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800, "hide_parameters": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "PROXY_HOPS": _int_env("PROXY_HOPS", 0),
        "RATELIMIT_KEY_PREFIX": "surveyapp-throttle",
        "STORAGE_DIR": os.environ.get("STORAGE_DIR") or None,
        "RQ_QUEUE": os.environ.get("RQ_QUEUE") or "surveyapp",
        "JOB_TIMEOUT": _int_env("JOB_TIMEOUT", 3600),
        "JOB_HEARTBEAT_SECONDS": _float_env("JOB_HEARTBEAT_SECONDS", 10.0),
        "JOB_HEARTBEAT_TIMEOUT": _float_env("JOB_HEARTBEAT_TIMEOUT", 120.0),
        "BASE_URL": (os.environ.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "MAX_CONTENT_LENGTH": _int_env("MAX_CONTENT_LENGTH", 20 * 1024 * 1024),
        "MAX_UPLOAD_ROWS": _int_env("MAX_UPLOAD_ROWS", 200_000),
        # 200,000 rows of 50 columns; the XLSX reader allocates the whole rectangle.
        "MAX_UPLOAD_CELLS": _int_env("MAX_UPLOAD_CELLS", 10_000_000),
        "ALLOWED_UPLOAD_EXTENSIONS": (".csv", ".xlsx"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # Sign-in attempts in a window (s): per account and address, per account (any
        # address), per address (any account). A browser where the account signed in before
        # (a signed cookie) is counted on its own instead, so others' typos behind the same
        # carrier address, or an attack on the account, do not lock its owner out.
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_ACCOUNT_LIMIT": 10,
        "LOGIN_ADDRESS_LIMIT": 30,
        "LOGIN_WINDOW_SECONDS": 15 * 60,
        "LOGIN_DEVICE_DAYS": 180,
        # argon2id parameters (argon2-cffi defaults = RFC 9106 low-memory profile);
        # tests lower them to keep the suite fast.
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
        "ARGON2_PARALLELISM": 4,
        # Password hashes at once per process, and how long a sign-in waits for a slot
        # before a 503 (security._hashing_slot).
        "ARGON2_CONCURRENCY": _int_env("ARGON2_CONCURRENCY", 2),
        "ARGON2_WAIT_SECONDS": _int_env("ARGON2_WAIT_SECONDS", 10),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "PROVINCE_NAME": os.environ.get("PROVINCE_NAME") or None,
        # Citizens' link and short-code lookups: per address in a window (s); past it, a
        # budget per hour shared by every address over its own limit, so that a valid code
        # still opens behind a busy carrier address (SECURITY.md, "Throttles").
        "TOKEN_LOOKUP_LIMIT": 20,
        "TOKEN_LOOKUP_WINDOW": 15 * 60,
        "TOKEN_LOOKUP_OVERFLOW_LIMIT": 300,
        "TOKEN_LOOKUP_OVERFLOW_WINDOW": 3600,
        # Walk-in form: submissions per IP in a window (s), and the group they count under.
        "WALKIN_LIMIT": 30,
        "WALKIN_WINDOW": 3600,
        "WALKIN_RESPONDENT_GROUP": "citizen",
        # Paper entry: wrong short codes per clerk in a window (s).
        "PAPER_CODE_LIMIT": 30,
        "PAPER_CODE_WINDOW": 600,
        # Fieldwork: non-contacts before a case is closed as such, automatic replacement
        # from the reserve, and the zone staff type and read times in.
        "FIELDWORK_MAX_NONCONTACTS": 3,
        "FIELDWORK_AUTO_REPLACE": False,
        "FIELDWORK_TIMEZONE": "Asia/Ho_Chi_Minh",
        # Only a draw made from a published commitment and a public random value can be
        # locked (sampling.commitment); trial draws with a chosen seed stay possible
        # elsewhere (demo, tests, training).
        "DRAW_COMMITMENT_REQUIRED": production,
        # Anyone may ask the public draw page for a fresh check (a re-draw): at most one
        # per campaign in this many minutes.
        "PUBLIC_CHECK_MINUTES": 10,
        # Answers leave the ballot box this many at a time, chosen at random once twice as
        # many wait (responses/ballots.py); all of them when the campaign closes.
        "BALLOT_BOX_SIZE": _int_env("BALLOT_BOX_SIZE", 10),
    }
