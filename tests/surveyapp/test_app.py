"""Application factory, configuration, commit convention, headers and error pages."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import abort

from surveyapp.app import BLUEPRINTS, create_app
from surveyapp.config import DEV_SECRET_KEY_FILE, database_uri_from_env
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models import Unit
from surveyapp.security import public


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
    ],
)
def test_database_url_mapping(url, expected):
    assert database_uri_from_env(url, "/instance") == expected


def test_default_database_is_sqlite_in_the_instance_folder():
    assert database_uri_from_env(None, "/srv/inst") == "sqlite:////srv/inst/surveyapp.sqlite"


def test_environment_configuration(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://a@b/c")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("BASE_URL", "https://khaosat.example.vn/")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "1000")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://a@b/c"
    assert app.config["SECRET_KEY"] == "s3cret"
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert app.config["BASE_URL"] == "https://khaosat.example.vn"
    assert app.config["MAX_CONTENT_LENGTH"] == 1000


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_development_key_is_random_private_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("SURVEYAPP_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app()
    key_file = tmp_path / "inst" / DEV_SECRET_KEY_FILE
    assert app.instance_path == str(tmp_path / "inst")
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) == 64
    assert key_file.stat().st_mode & 0o777 == 0o600
    # A restart keeps the key (printed links stay valid); another instance has its own.
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path / "other"))
    assert create_app().config["SECRET_KEY"] != app.config["SECRET_KEY"]
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_factory_does_not_touch_the_database(tmp_path):
    uri = f"sqlite:///{tmp_path / 'never-created.sqlite'}"
    create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    assert not (tmp_path / "never-created.sqlite").exists()


def test_sqlite_pragmas(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    with app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def _add_unit_route(app, status):
    @app.route(f"/_test/add/{status}")
    @public
    def add_unit():
        db.session.add(Unit(code=f"T{status}", name="x", level_label="x"))
        db.session.flush()
        if status >= 400:
            abort(status)
        return "ok", status


def _unit_codes(app):
    with app.app_context():
        return set(db.session.scalars(sa.select(Unit.code)))


@pytest.mark.parametrize("status", [200, 302])
def test_successful_requests_commit(app, client, status):
    _add_unit_route(app, status)
    assert client.get(f"/_test/add/{status}").status_code == status
    assert _unit_codes(app) == {f"T{status}"}


@pytest.mark.parametrize("status", [400, 403, 422])
def test_refused_requests_roll_back(app, client, status):
    _add_unit_route(app, status)
    assert client.get(f"/_test/add/{status}").status_code == status
    assert _unit_codes(app) == set()


@pytest.mark.app_config(PROPAGATE_EXCEPTIONS=False)
def test_crash_rolls_back_and_shows_no_traceback(app, client):
    @app.route("/_test/crash")
    @public
    def crash():
        db.session.add(Unit(code="CRASH", name="x", level_label="x"))
        db.session.flush()
        raise RuntimeError("secret internal detail")

    response = client.get("/_test/crash")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "secret internal detail" not in body
    assert "Lỗi hệ thống" in body
    assert _unit_codes(app) == set()


def test_failed_commit_gives_an_error_page_and_keeps_the_data(app, client, factory):
    factory.unit(code="DUP")

    @app.route("/_test/dup")
    @public
    def duplicate():
        db.session.add(Unit(code="DUP", name="again", level_label="x"))
        return "ok"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/_test/dup")
    assert response.status_code == 500
    assert _unit_codes(app) == {"DUP"}


def test_transaction_helper_commits_and_rolls_back(app):
    with app.app_context():
        with transaction():
            db.session.add(Unit(code="A", name="a", level_label="x"))
        with pytest.raises(ValueError), transaction():
            db.session.add(Unit(code="B", name="b", level_label="x"))
            raise ValueError("stop")
    assert _unit_codes(app) == {"A"}


def test_security_headers(client):
    response = client.get("/auth/login")
    headers = response.headers
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "method", "status", "vi", "en"),
    [
        ("/no-such-page", "get", 404, "Không tìm thấy trang", "Page not found"),
        ("/healthz", "post", 405, "Phương thức không được phép", "Method not allowed"),
    ],
)
def test_error_pages_in_both_languages(client, path, method, status, vi, en):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert vi in response.get_data(as_text=True)
    client.get("/lang/en")
    response = getattr(client, method)(path)
    body = response.get_data(as_text=True)
    assert en in body and '<html lang="en">' in body


@pytest.mark.app_config(MAX_CONTENT_LENGTH=100)
def test_too_large_request_gets_413_page(app, client):
    @app.route("/_test/upload", methods=["POST"])
    @public
    def upload():
        from flask import request

        return str(len(request.form))

    response = client.post("/_test/upload", data={"x": "y" * 1000})
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.get_data(as_text=True)


def test_language_switch_refuses_external_redirects(client):
    response = client.get("/lang/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"
    response = client.get("/lang/vi?next=/healthz")
    assert response.headers["Location"] == "/healthz"


def test_pages_load_only_local_assets(client):
    body = client.get("/auth/login").get_data(as_text=True)
    assert "/static/css/app.css" in body
    assert "http://" not in body and "https://" not in body
    assert client.get("/static/css/app.css").status_code == 200


def test_blueprints_are_the_listed_features_and_their_templates_live_with_them(app):
    assert list(app.blueprints.values()) == list(BLUEPRINTS)
    package = Path(app.root_path)
    shared = {"base.html", "macros.html", "_flashes.html", "errors/error.html"}
    assert {
        str(path.relative_to(package / "templates"))
        for path in (package / "templates").rglob("*.html")
    } == shared
    for path in package.rglob("*.html"):
        relative = path.relative_to(package).parts
        if relative[0] == "templates":
            continue
        # <feature>/templates/<feature>/page.html, rendered as "<feature>/page.html"
        feature = relative[0]
        assert relative[1:3] == ("templates", feature), path
        assert feature in app.blueprints and app.blueprints[feature].template_folder == "templates"
