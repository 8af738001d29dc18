"""The application factory: configuration, extensions, hooks and the blueprints, listed.

Nothing here touches the database: no queries at import or start-up.
"""

import os
from pathlib import Path

from flask import Flask

from surveyapp import (
    audit,
    i18n,
    jobs,
    models,  # noqa: F401  (every table on the metadata, for Alembic)
    security,
    throttles,
)
from surveyapp import config as app_config
from surveyapp import db as app_db
from surveyapp.audit import routes as audit_routes
from surveyapp.auth import cli as users_cli
from surveyapp.auth import routes as auth
from surveyapp.campaigns import routes as campaigns
from surveyapp.citizen import routes as citizen
from surveyapp.core import errors
from surveyapp.core import routes as core
from surveyapp.crosswalk import cli as crosswalk_cli
from surveyapp.crosswalk import routes as crosswalk
from surveyapp.dashboard import routes as dashboard
from surveyapp.demo import cli as demo_cli
from surveyapp.draws import routes as draws
from surveyapp.extensions import csrf, db, migrate
from surveyapp.fieldwork import cli as campaign_cli
from surveyapp.fieldwork import routes as fieldwork
from surveyapp.frames import routes as frames
from surveyapp.results import cli as results_cli
from surveyapp.results import routes as results
from surveyapp.tokens import cli as tokens_cli
from surveyapp.tokens import routes as tokens
from surveyapp.units import cli as units_cli
from surveyapp.units import routes as units
from surveyapp.walkin import routes as walkin

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")

BLUEPRINTS = (
    core.bp,
    auth.bp,
    units.bp,
    crosswalk.bp,
    campaigns.bp,
    frames.bp,
    draws.bp,
    tokens.bp,
    citizen.bp,
    walkin.bp,
    fieldwork.bp,
    dashboard.bp,
    results.bp,
    audit_routes.bp,
)

# The service's commands (``surveyapp <command>``, run in an application context). The
# libraries' commands, which need no application, are added in surveyapp/cli.py.
COMMANDS = (
    units_cli.group,
    crosswalk_cli.group,
    users_cli.group,
    campaign_cli.group,
    tokens_cli.group,
    results_cli.group,
    demo_cli.demo_command,
    jobs.worker_command,
)


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = os.environ.get("SURVEYAPP_INSTANCE_PATH")
    app = Flask(
        "surveyapp",
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(app_config.config_from_env(app.instance_path, test_config))
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    jobs.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    # Order matters: who the user is and whether they may see the route are decided
    # before the CSRF check, so anonymous POSTs are refused as such.
    security.init_app(app)
    throttles.init_app(app)
    csrf.init_app(app)
    audit.init_app(app)  # before app_db: its events are written after the commit
    app_db.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for command in COMMANDS:
        app.cli.add_command(command)
    return app
