"""The survey service: a Flask application factory composing the libraries.

Blueprints are discovered: every sub-package of ``surveyapp`` whose ``__init__`` defines a
Blueprint named ``bp`` is registered (a feature engineer adds a package, not a line
here). Its ``routes`` and ``cli`` modules, when present, are imported first so that their
views and commands attach to ``bp`` (the ``__init__`` itself imports neither, which keeps
``from surveyapp.<feature>.models import ...`` free of import cycles). A blueprint with a
``cli_group`` brings its commands to ``surveyapp <group>``.
Nothing here touches the database: no queries at import or start-up.
"""

import importlib
import importlib.util
import os
import pkgutil
from pathlib import Path

from flask import Blueprint, Flask

from surveyapp import config as app_config
from surveyapp import db as app_db
from surveyapp import i18n, security
from surveyapp.core import errors
from surveyapp.extensions import csrf, db, migrate

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")
NOT_FEATURES = {"commands", "migrations", "templates", "static"}


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = os.environ.get("SURVEYAPP_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(app_config.config_from_env(app.instance_path, test_config))
    if test_config:
        app.config.update(test_config)

    import surveyapp.models  # noqa: F401  (every table on the metadata, for Alembic)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    # Order matters: who the user is and whether they may see the route are decided
    # before the CSRF check, so anonymous POSTs are refused as such.
    security.init_app(app)
    csrf.init_app(app)
    app_db.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    for blueprint in discover_blueprints():
        app.register_blueprint(blueprint)
    return app


def discover_blueprints() -> list[Blueprint]:
    blueprints = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.ispkg or info.name in NOT_FEATURES:
            continue
        package = f"{__name__}.{info.name}"
        blueprint = getattr(importlib.import_module(package), "bp", None)
        if not isinstance(blueprint, Blueprint):
            continue
        for part in ("routes", "cli"):
            if importlib.util.find_spec(f"{package}.{part}") is not None:
                importlib.import_module(f"{package}.{part}")
        blueprints.append(blueprint)
    return blueprints
