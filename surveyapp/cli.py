"""The ``surveyapp`` console command.

The libraries' commands (``sample``, ``questionnaire``, ``score``) are added here: they
need no application. The service's commands come from the application (``COMMANDS`` in
surveyapp/app.py, with Flask-Migrate's ``db``).
"""

import click
from flask.cli import FlaskGroup

from surveyapp.app import create_app
from surveyapp.commands import questionnaire, sample, score

LIBRARY_COMMANDS = (sample.group, questionnaire.group, score.score)


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def cli() -> None:
    """Khảo sát Chỉ số CCHC / PAR Index survey service."""


for command in LIBRARY_COMMANDS:
    cli.add_command(command)
