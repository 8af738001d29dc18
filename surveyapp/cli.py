"""The ``surveyapp`` console command.

The libraries' commands (``sample``, ``questionnaire``, ``score``) are added here: they
need no application. The service's commands come from the application (``COMMANDS`` in
surveyapp/app.py, with Flask-Migrate's ``db``). Flask's own development commands (run,
shell, routes) and options (--app, --env-file, --debug) are left out of ``--help``: the
application is always this one, and ``surveyapp demo`` serves it.
"""

import copy

import click
from flask.cli import FlaskGroup
from flask_migrate.cli import db as migrate_group

from surveyapp import backup
from surveyapp.app import create_app
from surveyapp.commands import questionnaire, sample, score

LIBRARY_COMMANDS = (sample.group, questionnaire.group, score.score)
FLASK_OPTIONS = ("app", "env_file", "debug")


class ServiceGroup(FlaskGroup):
    def __init__(self, **kwargs):
        super().__init__(
            create_app=create_app, add_default_commands=False, add_version_option=False, **kwargs
        )
        # Copies: Flask's option objects are shared with the ``flask`` command.
        self.params = [_hidden(p) if p.name in FLASK_OPTIONS else p for p in self.params]


def _hidden(option: click.Option) -> click.Option:
    option = copy.copy(option)
    option.hidden = True
    return option


@click.group(cls=ServiceGroup)
def cli() -> None:
    """Khảo sát Chỉ số CCHC / PAR Index survey service."""


for command in LIBRARY_COMMANDS:
    cli.add_command(command)

# ``surveyapp db`` is Flask-Migrate's group (loaded as a Flask plugin); backup and restore
# sit beside its upgrade.
migrate_group.add_command(backup.backup_command)
migrate_group.add_command(backup.restore_command)
