"""``surveyapp questionnaire pdf | batch | invitations``: printable booklets and letters.

Library errors (``QuestionnaireError``) are printed in Vietnamese and English with exit
code 1, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from questionnaires import QuestionnaireError, load_builtin, load_questionnaire
from questionnaires.batch import read_codes_csv, render_batch
from questionnaires.invitation import render_invitations
from questionnaires.pdf import render_questionnaire_pdf
from surveyapp.core.progress import progress_bar


def _fail(error: QuestionnaireError) -> None:
    raise click.ClickException(str(error))


def _load(questionnaire_id: str, version: str | None):
    """A built-in questionnaire by ID, or a YAML definition file."""
    if questionnaire_id.endswith((".yaml", ".yml")) and Path(questionnaire_id).is_file():
        return load_questionnaire(questionnaire_id)
    return load_builtin(questionnaire_id, version)


_lang_option = click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Ngôn ngữ / Language",
)
_version_option = click.option(
    "--version", "version", default=None, help="Phiên bản / Version (default: latest)"
)


@click.command("pdf")
@click.argument("questionnaire_id")
@_version_option
@_lang_option
@click.option("--url", default=None, help="URL mã hóa trong mã QR / URL the QR code encodes")
@click.option("--code", default=None, help="Mã ngắn in trên phiếu / Short code printed")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def pdf_command(
    questionnaire_id: str,
    version: str | None,
    lang: str,
    url: str | None,
    code: str | None,
    out: Path,
) -> None:
    """Phiếu in (PDF A4) / Printable questionnaire (A4 PDF), personalised with --url and --code."""
    try:
        questionnaire = _load(questionnaire_id, version)
        pages = render_questionnaire_pdf(questionnaire, str(out), lang=lang, url=url, code=code)
    except QuestionnaireError as error:
        _fail(error)
    click.echo(f"Đã ghi / Written {out}: {questionnaire.key}, {pages} trang/pages")


@click.command("batch")
@click.argument("questionnaire_id")
@_version_option
@_lang_option
@click.option(
    "--codes",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV với cột url, code / CSV with url and code columns",
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "zip"]),
    default=None,
    help="pdf: một tệp / one file; zip: một PDF mỗi bản / one PDF per copy (default: from --out)",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Số tiến trình cho zip / Processes for zip",
)
def batch_command(
    questionnaire_id: str,
    version: str | None,
    lang: str,
    codes: Path,
    out: Path,
    fmt: str | None,
    workers: int,
) -> None:
    """In hàng loạt bản cá nhân hóa / Render personalised copies into one PDF or a ZIP."""
    fmt = fmt or ("zip" if out.suffix.lower() == ".zip" else "pdf")
    try:
        questionnaire = _load(questionnaire_id, version)
        entries = read_codes_csv(codes)
        with progress_bar("Đang in / Rendering", len(entries)) as bar:
            result = render_batch(
                questionnaire,
                entries,
                str(out),
                fmt=fmt,
                lang=lang,
                progress=bar.count,
                workers=workers,
            )
    except QuestionnaireError as error:
        _fail(error)
    click.echo(
        f"Đã ghi / Written {out}: {result.copies} bản/copies, {result.pages} trang/pages, "
        f"{result.files} tệp/files"
    )


@click.command("invitations")
@click.option(
    "--codes",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: url, code[, addressee, unit]",
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--questionnaire", "questionnaire_id", default=None, help="ID bảng hỏi / ID")
@_version_option
@_lang_option
@click.option("--unit-name", default=None, help="Cơ quan được đánh giá / Unit being rated")
@click.option("--province", default=None, help="Tỉnh / Province")
@click.option("--year", default=None, help="Năm khảo sát / Survey year")
@click.option("--deadline", default=None, help="Hạn trả lời / Answer by (text)")
@click.option("--contact", default=None, help="Liên hệ / Contact line")
def invitations_command(
    codes: Path,
    out: Path,
    questionnaire_id: str | None,
    version: str | None,
    lang: str,
    unit_name: str | None,
    province: str | None,
    year: str | None,
    deadline: str | None,
    contact: str | None,
) -> None:
    """Thư mời có mã QR (một trang A4 mỗi người) / Invitation letters with QR code."""
    try:
        questionnaire = _load(questionnaire_id, version) if questionnaire_id else None
        entries = [
            (entry.url, entry.code, entry.addressee, entry.unit) for entry in read_codes_csv(codes)
        ]
        with progress_bar("Đang in / Rendering", len(entries)) as bar:
            pages = render_invitations(
                entries,
                str(out),
                questionnaire=questionnaire,
                unit_name=unit_name,
                province=province,
                year=year,
                deadline=deadline,
                contact=contact,
                lang=lang,
                progress=bar.count,
            )
    except QuestionnaireError as error:
        _fail(error)
    click.echo(f"Đã ghi / Written {out}: {pages} thư/letters")
