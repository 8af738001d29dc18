"""``surveyapp --help`` lists the product's commands, not Flask's development internals."""

import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from surveyapp.cli import cli

PRODUCT_COMMANDS = {
    "sample",
    "questionnaire",
    "score",
    "units",
    "crosswalk",
    "users",
    "worker",
    "campaign",
    "tokens",
    "results",
    "db",
    "demo",
}


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return lambda *args: CliRunner().invoke(cli, args)


def _commands(help_text: str) -> set[str]:
    listing = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in listing.splitlines() if line.startswith("  ")}


def test_installed_command_lists_the_products_commands_only(tmp_path):
    executable = shutil.which("surveyapp")
    assert executable, "the surveyapp command is installed by pip install -e ."
    env = {**os.environ, "SURVEYAPP_INSTANCE_PATH": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [executable, "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert _commands(result.stdout) == PRODUCT_COMMANDS
    for internal in ("--app", "--env-file", "--debug", "Run a development server"):
        assert internal not in result.stdout
    assert "PAR Index survey service" in result.stdout


@pytest.mark.parametrize("internal", ["run", "shell", "routes"])
def test_flasks_development_commands_are_gone(run, internal):
    result = run(internal, "--help")
    assert result.exit_code == 2
    assert f"No such command '{internal}'" in result.output


def test_service_and_library_commands_still_run(run):
    units = run("units", "--help")
    assert units.exit_code == 0 and _commands(units.output) >= {"import", "export"}
    sample = run("sample", "--help")
    assert sample.exit_code == 0
    assert _commands(sample.output) >= {"validate", "plan", "draw", "verify"}
    questionnaire = run("questionnaire", "--help")
    assert _commands(questionnaire.output) >= {"list", "validate", "pdf", "batch", "invitations"}
