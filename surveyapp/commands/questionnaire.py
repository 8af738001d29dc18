"""``surveyapp questionnaire ...``: list, validate, render and convert questionnaires.

Errors from the library (``QuestionnaireError``) are shown as their Vietnamese and
English messages with a non-zero exit code, never as a traceback.
"""

from pathlib import Path

import click

from questionnaires import (
    QuestionnaireError,
    dump_questionnaire,
    list_builtin,
    load_builtin,
    load_questionnaire,
)
from questionnaires.xlsform import export_xlsform, import_xlsform
from surveyapp.commands.questionnaire_pdf import batch_command, invitations_command, pdf_command


@click.group("questionnaire")
def group() -> None:
    """Bảng hỏi / Questionnaires."""


group.add_command(pdf_command)
group.add_command(batch_command)
group.add_command(invitations_command)


def _fail(error: QuestionnaireError) -> None:
    vi = getattr(error, "message_vi", None)
    en = getattr(error, "message_en", None)
    click.echo(f"{vi}\n{en}" if vi and en and vi != en else str(error), err=True)
    raise SystemExit(1)


@group.command("list")
def list_command() -> None:
    """Bảng hỏi có sẵn / Built-in questionnaires: id, version, title, questions."""
    try:
        questionnaires = list_builtin()
    except QuestionnaireError as error:
        _fail(error)
    click.echo(f"{'ID':<16} {'VERSION':<8} {'Q':>3} {'ANSWERS':>7}  TITLE")
    for q in questionnaires:
        click.echo(
            f"{q.id:<16} {q.version:<8} {len(q.questions()):>3} {len(q.answer_codes()):>7}  {q.title.get('vi')}"
        )


@group.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(file: Path) -> None:
    """Kiểm tra một tệp định nghĩa YAML / Check a YAML definition file."""
    try:
        q = load_questionnaire(file)
    except QuestionnaireError as error:
        _fail(error)
    sections = len(q.sections)
    questions = len(q.questions())
    answers = len(q.answer_codes())
    click.echo(
        f"Hợp lệ / Valid: {q.id} v{q.version} — {sections} phần/sections, "
        f"{questions} câu hỏi/questions, {answers} biến trả lời/answer variables, "
        f"ngôn ngữ/languages: {', '.join(q.languages)}"
    )
    for element in q.elements():
        click.echo(f"  {element.code} {element.title.get('vi')}: {', '.join(element.variables)}")


@group.group("xlsform")
def xlsform_group() -> None:
    """Nhập / xuất XLSForm (ODK, KoboToolbox) / XLSForm import and export."""


@xlsform_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def xlsform_import(file: Path, out: Path) -> None:
    """Nhập XLSForm thành tệp YAML / Import an XLSForm workbook into a YAML definition."""
    notes: list[str] = []
    try:
        q = import_xlsform(file, notes)
    except QuestionnaireError as error:
        _fail(error)
    out.write_text(dump_questionnaire(q), encoding="utf-8")
    for note in notes:
        click.echo(f"  ! {note}")
    click.echo(
        f"Đã ghi / Written {out}: {q.id} v{q.version}, {len(q.questions())} câu hỏi/questions"
    )


@xlsform_group.command("export")
@click.argument("questionnaire_id")
@click.option("--version", "version", default=None, help="Phiên bản / Version (default: latest)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def xlsform_export(questionnaire_id: str, version: str | None, out: Path) -> None:
    """Xuất bảng hỏi ra XLSForm / Export a questionnaire (built-in ID or YAML file) to XLSForm."""
    try:
        if questionnaire_id.endswith((".yaml", ".yml")) and Path(questionnaire_id).is_file():
            q = load_questionnaire(questionnaire_id)
        else:
            q = load_builtin(questionnaire_id, version)
        export_xlsform(q, out)
    except QuestionnaireError as error:
        _fail(error)
    click.echo(f"Đã ghi / Written {out}: {q.id} v{q.version}")
