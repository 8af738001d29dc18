"""Spreadsheet downloads (CSV and XLSX) with every text cell neutralised (csvsafe).

Shared by the features: validation reports, the upload status table,
the contractor's sample lists.

Column headers. Files people read (the contractor's sample lists, validation reports,
the lists' status table) have headers in the visitor's language (:func:`headers`,
Vietnamese unless English is chosen). Files programs read back keep their machine names:
the sample and frame files ``surveyapp sample verify`` checks, the Department's import
file (points), and microdata, whose variable names analysts use in R, Stata or SPSS and
whose labels are in the codebook and the SPSS file's variable labels.
"""

import io
import re
from collections.abc import Iterable, Sequence

import pandas as pd
from flask import Response

from sampling import spreadsheet_safe
from scoring_bridge.xlsx import sheet_title, write_xlsx
from surveyapp.csvsafe import write_csv
from surveyapp.i18n import t

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Sheet = tuple[str, Sequence[str], Iterable[Sequence]]


#: Column name -> (Vietnamese, English) header of files people read.
COLUMN_LABELS = {
    "stratum": ("Tầng mẫu", "Stratum"),
    "selection": ("Chính / dự phòng", "Primary / reserve"),
    "reserve_rank": ("Thứ tự dự phòng", "Reserve rank"),
    "full_name": ("Họ và tên", "Full name"),
    "phone": ("Số điện thoại", "Phone"),
    "email": ("Email", "E-mail"),
    "address": ("Địa chỉ", "Address"),
    "dossier_code": ("Mã hồ sơ", "Dossier code"),
    "weight": ("Trọng số thiết kế", "Design weight"),
    "row": ("Dòng", "Row"),
    "column": ("Cột", "Column"),
    "value": ("Giá trị", "Value"),
    "severity": ("Mức độ", "Severity"),
    "action": ("Xử lý", "Action"),
    "code": ("Mã vấn đề", "Problem code"),
    "reason_vi": ("Vấn đề (tiếng Việt)", "Problem (Vietnamese)"),
    "reason_en": ("Vấn đề (tiếng Anh)", "Problem (English)"),
    "unit_code": ("Mã đơn vị", "Unit code"),
    "unit_name": ("Tên đơn vị", "Unit name"),
    "level_label": ("Cấp", "Level"),
    "kind": ("Danh sách", "List"),
    "uploaded": ("Đã nộp", "Uploaded"),
    "uploaded_at": ("Thời điểm nộp", "Uploaded at"),
    "uploaded_by": ("Người nộp", "Uploaded by"),
    "filename": ("Tệp", "File"),
    "rows_read": ("Số dòng đọc", "Rows read"),
    "rows_valid": ("Dòng hợp lệ", "Valid rows"),
    "rows_excluded": ("Dòng bị loại", "Rows excluded"),
    "late": ("Trễ hạn", "Late"),
}


#: Column name -> {coded value -> (Vietnamese, English)}: coded cells of files people read.
VALUE_LABELS = {
    "severity": {"error": ("Lỗi", "Error"), "warning": ("Cảnh báo", "Warning")},
    "action": {
        "excluded": ("Bị loại", "Excluded"),
        "kept": ("Giữ lại", "Kept"),
        "merged": ("Gộp (trùng)", "Merged (duplicate)"),
    },
}


def labelled(names: Sequence[str], rows: Iterable[Sequence]) -> list[list]:
    """``rows`` with coded cells (:data:`VALUE_LABELS`) in the visitor's language."""
    tables = [VALUE_LABELS.get(name, {}) for name in names]
    return [
        [t(*table[cell]) if isinstance(cell, str) and cell in table else cell
         for table, cell in zip(tables, row, strict=False)]
        for row in rows
    ]  # fmt: skip


def headers(names: Sequence[str]) -> list[str]:
    """Column headers in the visitor's language (names without a label stay as they are)."""
    return [t(*COLUMN_LABELS[name]) if name in COLUMN_LABELS else name for name in names]


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
