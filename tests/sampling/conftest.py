"""Builders of messy, real-looking frame files for the reading and validation tests."""

import datetime as dt
import io
import unicodedata

import openpyxl
import pytest

HEADER_VI = ["Họ và tên", "Số điện thoại", "Địa chỉ", "Mã hồ sơ", "Đơn vị", "Ngày trả kết quả"]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    """Rows joined as CSV, quoting cells that need it (as Excel does)."""

    def cell(value: str) -> str:
        if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(delimiter.join(cell(v) for v in row) + "\r\n" for row in rows)


def xlsx_bytes(sheets: dict[str, list[list[object]]], number_formats=None) -> bytes:
    """A workbook written by openpyxl; number_formats maps (sheet, cell) -> format."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    for (name, cell), number_format in (number_formats or {}).items():
        workbook[name][cell].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def citizens_rows() -> list[list[str]]:
    """A header and six data rows with the usual problems of a unit's list."""
    return [
        HEADER_VI,
        [nfd("Nguyễn Văn An"), "+84 912.345.678", "Số 1 Lê Lợi", "H1", "UBND xã A", "05/03/2024"],
        ["  Trần Thị Bình ", "0987-654-321", "", "H2", "UBND xã A", "2024-03-06"],
        ["Lê Văn Cường", "01662345678", "", "H3", "UBND xã A", "7/3/2024"],
        ["Phạm Thị Dung", "12345", "Thôn 2", "H4", "UBND xã B", "08-03-2024"],
        ["Hoàng Văn Em", "", "", "H5", "UBND xã B", "09/03/2024"],
        ["Nguyễn  văn AN", "0912345678", "", "H6", "UBND xã A", "10/03/2024"],
    ]


@pytest.fixture
def period() -> tuple[dt.date, dt.date]:
    return dt.date(2024, 1, 1), dt.date(2024, 9, 30)


@pytest.fixture(scope="session")
def build(legacy_encodings):
    """The file builders above, for tests (conftest modules cannot be imported)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        nfd=nfd, csv_text=csv_text, cp1258_bytes=legacy_encodings.cp1258,
        xlsx_bytes=xlsx_bytes, tcvn3_bytes=legacy_encodings.tcvn3,
        header=list(HEADER_VI),
    )  # fmt: skip
