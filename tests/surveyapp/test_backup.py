"""``surveyapp db backup FILE`` / ``surveyapp db restore FILE`` round trips (issue 12.12),
on SQLite and on PostgreSQL, through the installed command's entry point."""

import os
import stat
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from surveyapp.cli import cli

from .conftest import DEFAULT_PG_URL

PASSWORD = "correct horse battery"


def runner_for(monkeypatch, instance, database_url=None):
    """``surveyapp ...`` against one database (an instance folder, or DATABASE_URL)."""

    def run(*args, input=None):
        monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(instance))
        if database_url:
            monkeypatch.setenv("DATABASE_URL", database_url)
        else:
            monkeypatch.delenv("DATABASE_URL", raising=False)
        return CliRunner().invoke(cli, list(args), input=input)

    return run


def users(run) -> str:
    result = run("users", "list")
    assert result.exit_code == 0, result.output
    return result.output


def round_trip(tmp_path, first, second, backup_name):
    assert first("db", "upgrade").exit_code == 0
    created = first("users", "create", "sao-luu", "--role", "admin", "--password-stdin",
                    input=PASSWORD + "\n")  # fmt: skip
    assert created.exit_code == 0, created.output
    backup_file = tmp_path / backup_name
    result = first("db", "backup", str(backup_file))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(backup_file).st_mode) == 0o600  # it holds personal data
    again = first("db", "backup", str(backup_file))
    assert again.exit_code != 0 and "already exists" in again.output

    # A change after the backup; restoring over data needs --force, then undoes it.
    assert first("users", "disable", "sao-luu").exit_code == 0
    refused = first("db", "restore", str(backup_file))
    assert refused.exit_code != 0 and "--force" in refused.output and "users" in refused.output
    assert "disabled" in users(first)
    forced = first("db", "restore", str(backup_file), "--force")
    assert forced.exit_code == 0, forced.output
    assert "sao-luu\tadmin\t-\tactive" in users(first)

    # An empty, freshly migrated database takes the backup without --force.
    assert second("db", "upgrade").exit_code == 0
    restored = second("db", "restore", str(backup_file))
    assert restored.exit_code == 0, restored.output
    assert "sao-luu\tadmin\t-\tactive" in users(second)
    assert second("db", "current").exit_code == 0

    # Not a backup: a clear message, nothing touched.
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    bad = second("db", "restore", str(junk), "--force")
    assert bad.exit_code != 0 and "is not a" in bad.output
    assert "sao-luu" in users(second)


def test_backup_and_restore_on_sqlite(tmp_path, monkeypatch):
    first = runner_for(monkeypatch, tmp_path / "one")
    second = runner_for(monkeypatch, tmp_path / "two")
    round_trip(tmp_path, first, second, "backup.sqlite")


@pytest.fixture
def two_postgres_databases():
    server = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))
    if server.drivername in ("postgres", "postgresql"):
        server = server.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL not reachable: {exc.orig}")
        pytest.skip(f"PostgreSQL not reachable: {exc.orig}")
    names = [f"surveyapp_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with admin.connect() as connection:
        for name in names:
            connection.execute(
                sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
            )
    try:
        yield [server.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_backup_and_restore_on_postgresql(tmp_path, monkeypatch, two_postgres_databases):
    one, two = two_postgres_databases
    first = runner_for(monkeypatch, tmp_path / "one", one)
    second = runner_for(monkeypatch, tmp_path / "two", two)
    round_trip(tmp_path, first, second, "backup.dump")
