"""``surveyapp db backup FILE`` and ``surveyapp db restore FILE``: the database, whole.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --single-transaction``
(the connection's password goes to the tools in ``PGPASSWORD``, never on the command
line). SQLite: the SQLite backup API, which copies a consistent snapshot even while the
service writes. A backup holds personal data: it is written readable by its owner only
and never over an existing file. A restore refuses to overwrite a database that holds
rows (a freshly migrated, empty one is fine) unless ``--force`` is given.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from surveyapp.extensions import db
from surveyapp.i18n import both

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


class BackupError(Exception):
    def __init__(self, message_vi: str, message_en: str):
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en


def database_url() -> URL:
    return db.engine.url


def tables_with_rows(engine: sa.Engine) -> list[str]:
    """The tables (besides Alembic's) that hold at least one row."""
    inspector = sa.inspect(engine)
    full = []
    with engine.connect() as connection:
        for name in inspector.get_table_names():
            if name == "alembic_version":
                continue
            table = sa.table(name)
            if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                full.append(name)
    return full


def _private_file(path: Path) -> None:
    """Create ``path`` empty, readable by its owner only; refuse an existing file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(
            f"Tệp {path} đã tồn tại: chọn tên khác (không ghi đè bản sao lưu cũ)",
            f"{path} already exists: choose another name (backups are never overwritten)",
        ) from None


def _pg_env(url: URL) -> dict:
    env = {**os.environ, "PGDATABASE": url.database or ""}
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
    ):
        if value:
            env[key] = str(value)
    return env


def _run(command: list[str], url: URL) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(
            f"Không tìm thấy {command[0]} (cài gói postgresql-client)",
            f"{command[0]} not found (install the postgresql-client package)",
        )
    result = subprocess.run([tool, *command[1:]], env=_pg_env(url), capture_output=True, text=True)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        raise BackupError(f"{command[0]} thất bại: {detail}", f"{command[0]} failed: {detail}")


def backup(path: Path) -> None:
    """Write the application's database to ``path`` (a new file)."""
    url = database_url()
    _private_file(path)
    try:
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(url.database)
            target = sqlite3.connect(path)
            try:
                with target:
                    source.backup(target)
            finally:
                source.close()
                target.close()
        elif url.get_backend_name() == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={path}"], url)  # fmt: skip
        else:
            raise BackupError(
                f"Không hỗ trợ sao lưu {url.get_backend_name()}",
                f"Backups of {url.get_backend_name()} are not supported",
            )
    except BaseException:
        path.unlink(missing_ok=True)  # never leave half a backup behind
        raise


def restore(path: Path, force: bool = False) -> None:
    """Replace the application's database by the backup at ``path``."""
    url = database_url()
    backend = url.get_backend_name()
    if not path.is_file():
        raise BackupError(f"Không có tệp {path}", f"No file {path}")
    head = path.read_bytes()[:16] if path.stat().st_size else b""
    expected = SQLITE_HEADER if backend == "sqlite" else PG_DUMP_HEADER
    if not head.startswith(expected):
        raise BackupError(
            f"{path} không phải bản sao lưu {backend} của surveyapp db backup",
            f"{path} is not a {backend} backup made by surveyapp db backup",
        )
    full = tables_with_rows(db.engine)
    if full and not force:
        raise BackupError(
            f"Cơ sở dữ liệu đang có dữ liệu (bảng {', '.join(full[:5])}…): không ghi đè. "
            "Dùng --force nếu thật sự muốn thay toàn bộ.",
            f"The database holds data (tables {', '.join(full[:5])}…): not overwritten. "
            "Use --force to replace all of it.",
        )
    db.session.remove()
    db.engine.dispose()  # no pooled connection sees the old file or schema
    if backend == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(url.database)
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", f"--dbname={url.database}",
              str(path)], url)  # fmt: skip


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path):
    """Sao lưu cơ sở dữ liệu vào FILE / Back up the database to FILE."""
    try:
        backup(file)
    except BackupError as error:
        raise click.ClickException(both(error.message_vi, error.message_en)) from None
    click.echo(both(f"Đã sao lưu vào {file}", f"Backed up to {file}"))


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Ghi đè dữ liệu đang có / overwrite existing data")
@with_appcontext
def restore_command(file: Path, force: bool):
    """Khôi phục cơ sở dữ liệu từ FILE / Restore the database from FILE."""
    try:
        restore(file, force)
    except BackupError as error:
        raise click.ClickException(both(error.message_vi, error.message_en)) from None
    click.echo(
        both(
            f"Đã khôi phục từ {file}. Chạy «surveyapp db upgrade» nếu bản sao lưu cũ hơn mã.",
            f"Restored from {file}. Run “surveyapp db upgrade” if the backup is older "
            "than the code.",
        )
    )
