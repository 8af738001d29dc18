"""``surveyapp questionnaire list | validate | xlsform import/export``: summaries, clear errors."""

import pytest
from click.testing import CliRunner

from questionnaires import load_builtin, load_questionnaire
from questionnaires.loader import LIBRARY
from surveyapp.commands.questionnaire import group


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(group, list(args), catch_exceptions=False)

    return invoke


def test_list_shows_id_version_title_and_question_count(run):
    result = run("list")
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if x.startswith("sipas-citizen"))
    q = load_builtin("sipas-citizen")
    assert line.split()[:3] == ["sipas-citizen", "2024", str(len(q.questions()))]
    assert q.title.get("vi") in line


def test_the_group_is_registered_on_the_surveyapp_command():
    from surveyapp.cli import cli

    result = CliRunner().invoke(cli, ["questionnaire", "list"], catch_exceptions=False)
    assert result.exit_code == 0 and "par-officials" in result.output


def test_validate_a_good_file_prints_a_summary(run):
    result = run("validate", str(LIBRARY / "par-officials.v2024.yaml"))
    assert result.exit_code == 0
    assert "Valid: par-officials v2024" in result.output
    questions = len(load_builtin("par-officials").questions())
    assert f"{questions} câu hỏi/questions" in result.output
    assert (
        "L7 Xây dựng và phát triển Chính phủ điện tử, Chính phủ số: h1, h2, h3, h4" in result.output
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id: x\nversion: 1\ntitle: [a\n", "malformed YAML"),
        (
            "id: x\nversion: 1\ntitle: T\nsections:\n  - code: A\n    title: A\n    questions:\n"
            "      - {code: q1, type: slider, text: Q}\n",
            "[question q1] unknown question type «slider»",
        ),
        (
            "id: x\nversion: 1\ntitle: T\nsections:\n  - code: A\n    title: A\n    questions:\n"
            "      - {code: q1, type: text, text: Q, relevant: 'q2 = 1'}\n"
            "      - {code: q2, type: yesno, text: Q}\n",
            "refers to «q2», which comes later",
        ),
        (
            "id: x\nversion: 1\ntitle: T\nsections:\n  - code: A\n    title: A\n    questions:\n"
            "      - {code: q1, type: text, text: Q}\n      - {code: q1, type: text, text: Q}\n",
            "[question q1] code is used twice",
        ),
    ],
)
def test_validate_a_bad_file_lists_errors_without_traceback(run, tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_xlsform_export_then_import_round_trips(run, tmp_path):
    xlsx, yaml_path = tmp_path / "s.xlsx", tmp_path / "s.yaml"
    result = run("xlsform", "export", "sipas-citizen", "--version", "2024", "--out", str(xlsx))
    assert result.exit_code == 0 and xlsx.exists()
    result = run("xlsform", "import", str(xlsx), "--out", str(yaml_path))
    assert result.exit_code == 0
    assert load_questionnaire(yaml_path) == load_builtin("sipas-citizen", "2024")


def test_xlsform_errors_are_reported_cleanly(run, tmp_path):
    result = run("xlsform", "export", "no-such-form", "--out", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 1
    assert "No built-in questionnaire «no-such-form»" in result.output
    fake = tmp_path / "fake.xlsx"
    fake.write_text("plain text")
    result = run("xlsform", "import", str(fake), "--out", str(tmp_path / "x.yaml"))
    assert result.exit_code == 1
    assert "cannot open the Excel (.xlsx) file" in result.output
    assert not (tmp_path / "x.yaml").exists()
