"""The single place where database work is committed or rolled back.

Convention (every blueprint follows it):

* Views never call ``db.session.commit()``. A request's session is committed by
  :func:`_commit_or_rollback` after the view when the response status is below 400 and
  rolled back otherwise (and when the view raised). Views that want their changes
  discarded return a 4xx status (a re-shown invalid form answers 422).
* Views that must recover from an expected integrity error use a savepoint
  (``with db.session.begin_nested(): ...``) and handle the exception.
* CLI commands, background jobs and tests use :func:`transaction`.
* Timestamps are naive UTC (:func:`utcnow`), the same on SQLite and PostgreSQL.
"""

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine

from surveyapp.extensions import db


def utcnow() -> datetime:
    """Current time as naive UTC (stored the same way by every backend)."""
    return datetime.now(UTC).replace(tzinfo=None)


def monday_of(day: date) -> date:
    """The Monday of ``day``'s ISO week (responses store a week, never an instant)."""
    return day - timedelta(days=day.weekday())


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column type: VARCHAR + named CHECK constraint.

    No native PostgreSQL enum type, so adding a value is an ordinary migration.
    """
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


@contextmanager
def transaction() -> Iterator[None]:
    """Commit the session's work on success, roll it back on any exception.

    For CLI commands, jobs and tests (which run outside the request hook)::

        with app.app_context(), transaction():
            db.session.add(unit)
    """
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _commit_or_rollback(response: Response) -> Response:
    # An exception raised here (e.g. an integrity error at commit) becomes a 500 page, and
    # the error response passes through this hook again, which then rolls back.
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _rollback_on_exception(exc: BaseException | None) -> None:
    if exc is not None:
        db.session.rollback()


def _sqlite_pragmas(dbapi_connection, _connection_record) -> None:
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    """Register the commit hook; SQLite pragmas are set on every new connection."""
    app.after_request(_commit_or_rollback)
    app.teardown_request(_rollback_on_exception)


# Applies to every engine of the process; non-SQLite connections are ignored.
event.listen(Engine, "connect", _sqlite_pragmas)
