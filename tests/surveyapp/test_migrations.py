"""The migrations build exactly the schema the models describe, on both backends."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from surveyapp.extensions import db


def test_upgraded_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        diffs = compare_metadata(context, db.metadata)
    assert diffs == []


def test_every_model_table_exists_after_upgrade(app):
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_then_upgrade_round_trip(tmp_path):
    from flask_migrate import downgrade, upgrade

    from surveyapp.app import create_app

    uri = f"sqlite:///{tmp_path / 'roundtrip.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_existing_uploads_become_versions(tmp_path):
    """Issue 10.7's migration: each upload before it becomes a version of its own, numbered
    in upload order per list, the current upload's version current."""
    from flask_migrate import upgrade

    from surveyapp.app import create_app

    uri = f"sqlite:///{tmp_path / 'versions.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        upgrade(revision="b8e2d4f61a09")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO units (id, code, name, level_label, active) "
                    "VALUES (1, 'X1', 'Xã 1', 'UBND cấp xã', true)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO campaigns (id, code, name, status, created_at) "
                    "VALUES (1, 'C1', 'Đợt 1', 'draft', '2024-01-01 00:00:00')"
                )
            )
            for upload_id, day, current, kind in (
                (1, "2024-03-01", False, "citizens"),
                (2, "2024-03-05", True, "citizens"),
                (3, "2024-03-02", True, "officials"),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO frame_uploads (id, campaign_id, unit_id, list_kind, "
                        "filename, uploaded_at, rows_read, rows_valid, rows_excluded, "
                        "is_current) VALUES (:id, 1, 1, :kind, :name, :day, 5, 4, 1, :current)"
                    ),
                    {"id": upload_id, "kind": kind, "name": f"f{upload_id}.csv", "day": day,
                     "current": current},
                )  # fmt: skip
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT v.list_kind, v.number, v.action, v.is_current, v.rows_valid, "
                    "f.upload_id FROM frame_versions v JOIN frame_version_files f "
                    "ON f.version_id = v.id ORDER BY v.list_kind, v.number"
                )
            ).all()
            pending = connection.execute(
                sa.text("SELECT count(*) FROM frame_uploads WHERE pending_action IS NOT NULL")
            ).scalar()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("citizens", 1, "upload", False, 4, 1),
        ("citizens", 2, "upload", True, 4, 2),
        ("officials", 1, "upload", True, 4, 3),
    ]
    assert pending == 0


def test_a_sqlite_database_with_rows_pointing_at_rebuilt_tables_upgrades(tmp_path):
    """SQLite rebuilds a table to alter it (copy, drop, rename). With foreign keys enforced,
    dropping ``users`` while a job row points at it failed, so an existing embedded
    database (the previous release's demo) could not be upgraded. The references are
    checked once the migrations are done instead, and stay enforced afterwards."""
    from flask_migrate import upgrade

    from surveyapp.app import create_app

    uri = f"sqlite:///{tmp_path / 'upgrade.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        upgrade(revision="a7c41e0b9d25")  # the head of the release before server-side sessions
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, username, full_name, role, password_hash, active, "
                    "session_version, created_at) "
                    "VALUES (1, 'admin', 'Quản trị', 'admin', 'x', true, 1, '2026-01-01')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO jobs (id, kind, status, progress, created_by, created_at) "
                    "VALUES ('0123456789abcdef0123456789abcdef', 'draw', 'done', 100, 1, "
                    "'2026-01-02')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT created_by FROM jobs")).scalar() == 1
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
