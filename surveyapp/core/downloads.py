"""Spreadsheet downloads (CSV and XLSX) with every text cell neutralised (csvsafe).

Shared by the features: validation reports, the upload status table,
the contractor's sample lists.
"""

import io
import re
from collections.abc import Iterable, Sequence

import pandas as pd
from flask import Response

from sampling import spreadsheet_safe
from scoring_bridge.xlsx import sheet_title, write_xlsx
from surveyapp.csvsafe import write_csv

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Sheet = tuple[str, Sequence[str], Iterable[Sequence]]


def xlsx_cell(value):
    """Formula prefix neutralised and XML-illegal characters dropped; non-text unchanged."""
    return spreadsheet_safe(value)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The workbook (scoring_bridge's fast writer: ~5x openpyxl's write-only mode here)."""

    frames: dict[str, pd.DataFrame] = {}
    used: set[str] = set()
    for name, header, rows in sheets:
        cells = [[xlsx_cell(v) for v in row] for row in rows]
        columns = [xlsx_cell(h) for h in header]
        frames[sheet_title(name, used)] = pd.DataFrame(cells, columns=columns, dtype=object)
    buffer = io.BytesIO()
    write_xlsx(buffer, frames)  # no sheet: one empty "Sheet"
    return buffer.getvalue()


def attachment(body, mimetype: str, filename: str) -> Response:
    """A download; ``filename`` must be ASCII (built by the caller from codes and ids)."""
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def xlsx_response(sheets: Iterable[Sheet], filename: str) -> Response:
    return attachment(xlsx_bytes(sheets), XLSX_MIMETYPE, filename)


def csv_download(header: Sequence[str], rows: Iterable[Sequence], filename: str) -> Response:
    return attachment(write_csv(rows, header), "text/csv", filename)


def ascii_name(text: str) -> str:
    """A safe ASCII fragment for a download name (unit and campaign codes)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "file"
