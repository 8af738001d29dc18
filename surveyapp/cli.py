"""The ``surveyapp`` console command."""

import click
from flask.cli import FlaskGroup

from surveyapp import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def cli() -> None:
    """Khảo sát Chỉ số CCHC / PAR Index survey service."""


def _register_library_commands() -> None:
    # Each library's commands live in surveyapp/commands/<name>.py and expose `group`.
    import importlib
    import pkgutil

    import surveyapp.commands as commands

    for module_info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"surveyapp.commands.{module_info.name}")
        group = getattr(module, "group", None)
        if group is not None:
            cli.add_command(group)


_register_library_commands()
