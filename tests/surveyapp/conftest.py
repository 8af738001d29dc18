"""Fixtures for the web application's tests (read this before writing surveyapp tests).

Every test that uses ``app`` (directly or through ``client``, ``login``, ``factory``) runs
twice: on SQLite (a temporary file) and on PostgreSQL (marked ``postgres``).

Databases. One database per backend per pytest session, built by running the Alembic
migrations (``flask db upgrade``), so the tests exercise the real schema. PostgreSQL:
a uniquely named database is created on the server of ``TEST_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, used only to connect and CREATE
DATABASE) and dropped at the end, so parallel runs never collide. When the server is
unreachable the PostgreSQL half is skipped with the reason, unless ``REQUIRE_POSTGRES=1``
(then it fails). Every table is emptied after each test.

Fixtures
``app``          the Flask app (TESTING, CSRF off, cheap argon2). Extra config per test:
                 ``@pytest.mark.app_config(WTF_CSRF_ENABLED=True, REDIS_URL=...)``.
``backend``      "sqlite" or "postgresql".
``client``       ``app.test_client()``.
``factory``      creates committed rows and returns them detached with columns loaded:
                 ``factory.unit(code=None, name=None, level_label="UBND cấp xã", parent=None)``,
                 ``factory.user(role="admin", username=None, unit=None, password=PASSWORD,
                 active=True)``, ``factory.campaign(code=None, name=None, status="draft")``,
                 ``factory.instrument(campaign, respondent_group="citizen",
                 questionnaire_id="sipas-citizen", questionnaire_version="2024")``,
                 ``factory.add(obj, ...)`` for any other model instance.
``login``        ``login(role, **user_kwargs) -> User``: creates a user of that role (a unit
                 is made for focal points) and signs ``client`` in by recording a server-side
                 session and writing its id in the cookie (no password round trip). ``login(user=existing_user)`` signs in a user.
``db_session``   context manager: ``with db_session() as s: s.scalars(...)`` runs inside an
                 application context and commits at the end.
``PASSWORD``     the password of users made by the factory (module constant).

Writing to the database inside a test: use ``factory`` or ``db_session``; the request
commit hook does the rest for requests made with ``client``.
"""

import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from itertools import count

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from surveyapp.app import create_app
from surveyapp.extensions import db

PASSWORD = "correct horse battery"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "REDIS_URL": None,
    "SERVER_NAME": None,
    # Lower argon2 cost: the algorithm is the same, the suite stays fast.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
    # Every ballot mixed into responses after each commit, so that tests see their answers
    # at once; the anonymity tests (citizen/test_anonymity.py) use the service's batches.
    "BALLOT_BOX_SIZE": 0,
}


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**kwargs): extra Flask config for `app`")


def _migrate(uri: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_uri(tmp_path_factory):
    path = tmp_path_factory.mktemp("surveyapp-db") / "test.sqlite"
    uri = f"sqlite:///{path}"
    _migrate(uri)
    return uri


@pytest.fixture(scope="session")
def postgres_uri():
    server_url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))
    if server_url.drivername in ("postgres", "postgresql"):
        server_url = server_url.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL not reachable at {server_url.render_as_string()}: {exc.orig}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"surveyapp_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(
            sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        )
    uri = server_url.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(uri)
        yield uri
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request):
    return request.param


def _empty_tables() -> None:
    # DELETE is much faster than TRUNCATE on PostgreSQL for the few rows a test writes.
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(request, backend, tmp_path):
    uri = request.getfixturevalue("sqlite_uri" if backend == "sqlite" else "postgres_uri")
    # Rate-limit counters of their own on a shared Redis (tests with REDIS_URL).
    config = {
        **BASE_CONFIG,
        "SQLALCHEMY_DATABASE_URI": uri,
        "RATELIMIT_KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex}",
    }
    for marker in request.node.iter_markers("app_config"):
        config.update(marker.kwargs)
    application = create_app(config)
    application.instance_path = str(tmp_path / "instance")
    os.makedirs(application.instance_path, exist_ok=True)
    yield application
    with application.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    @contextmanager
    def session_scope():
        with app.app_context():
            try:
                yield db.session
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise

    return session_scope


class Factory:
    """Committed test rows, returned detached with their columns loaded."""

    def __init__(self, app):
        self.app = app
        self._serial = count(1)

    def add(self, *objects):
        with self.app.app_context():
            for obj in objects:
                db.session.add(obj)
            db.session.commit()
            for obj in objects:
                db.session.refresh(obj)
                db.session.expunge(obj)
        return objects[0] if len(objects) == 1 else objects

    def unit(self, code=None, name=None, level_label="UBND cấp xã", parent=None, active=True):
        from surveyapp.models import Unit

        n = next(self._serial)
        return self.add(
            Unit(
                code=code or f"U{n:03d}",
                name=name or f"Đơn vị {n}",
                level_label=level_label,
                parent_id=parent.id if parent is not None else None,
                active=active,
            )
        )

    def user(self, role="admin", username=None, unit=None, password=PASSWORD, active=True, **kw):
        from surveyapp.models import Role, User
        from surveyapp.security import hash_password

        role = Role(role)
        if role == Role.FOCAL_POINT and unit is None:
            unit = self.unit()
        with self.app.app_context():
            password_hash = hash_password(password)
        return self.add(
            User(
                username=username or f"{role.value}{next(self._serial)}",
                role=role,
                unit_id=unit.id if unit is not None else None,
                password_hash=password_hash,
                active=active,
                full_name=kw.pop("full_name", ""),
                **kw,
            )
        )

    def campaign(self, code=None, name=None, status="draft", **kw):
        from surveyapp.models import Campaign, CampaignStatus

        n = next(self._serial)
        return self.add(
            Campaign(
                code=code or f"C{n}",
                name=name or f"Đợt khảo sát {n}",
                status=CampaignStatus(status),
                **kw,
            )
        )

    def instrument(
        self,
        campaign,
        respondent_group="citizen",
        questionnaire_id="sipas-citizen",
        questionnaire_version="2024",
    ):
        from surveyapp.models import CampaignInstrument

        return self.add(
            CampaignInstrument(
                campaign_id=campaign.id,
                respondent_group=respondent_group,
                questionnaire_id=questionnaire_id,
                questionnaire_version=questionnaire_version,
            )
        )


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def login(client, factory):
    def sign_in(role="admin", user=None, **user_kwargs):
        from surveyapp.security import start_session

        if user is None:
            user = factory.user(role=role, **user_kwargs)
        with factory.app.app_context():
            session_id = start_session(user)  # a server-side session, as a sign-in makes
            db.session.commit()
        with client.session_transaction() as session:
            session.clear()
            session["sid"] = session_id
        return user

    return sign_in


# --- a real browser against a live server ---------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; Playwright's own download cannot work here


def browser_or_skip():
    """Playwright's sync API, or a skip with the reason (a failure with REQUIRE_BROWSER=1)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright package is not installed"
    if reason is None and not shutil.which(CHROMIUM):
        reason = f"chromium not found at {CHROMIUM}"
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture
def live_server(app):
    """The app on a free loopback port in a threaded server; letters and QR codes point at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    yield url
    server.shutdown()
    thread.join(timeout=10)
