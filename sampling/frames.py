"""Reading a unit's list (a sampling frame) from CSV or XLSX into a pandas DataFrame.

Every column comes back as text (pandas ``str``, or ``category`` for the few columns with
few distinct values such as ``unit`` and ``group``), NFC-normalised and trimmed, with blank
cells missing; headers are mapped to canonical names (see :mod:`sampling.columns`); a
``source_row`` column holds the row number the user sees in their spreadsheet (the header
row is row 1 unless title rows sit above it). Blank rows are dropped. Anything that is
not a readable CSV or XLSX file raises one :class:`FrameReadError` subclass with a
message in Vietnamese and English.

CSV is parsed by pyarrow's multi-threaded reader (faster than pandas' own); XLSX by
python-calamine (about five times faster than openpyxl).
"""

import codecs
import collections
import csv
import io
import itertools
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from sampling.columns import known_header_count, map_headers
from sampling.errors import SamplingError
from sampling.text import clean_filename, normalise_dictionary, normalise_strings
from sampling.workbook import (
    ArchiveLimitError,
    SheetLimitError,
    refuse_declarations,
    scan_sheet,
    sheet_paths,
    zip_members,
)

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_ROWS = 2_000_000
#: Columns of a list: Excel 2003's limit; a unit's list has a few dozen at most.
DEFAULT_MAX_COLUMNS = 256
#: Cells of a workbook sheet's rectangle (rows x columns), which the XLSX reader
#: allocates whole (about 32 bytes a cell): a million rows of 30 columns.
DEFAULT_MAX_CELLS = 30_000_000
#: Largest total uncompressed size a workbook may declare.
DEFAULT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_HEADER_SEARCH_ROWS = 30
_DELIMITERS = (",", ";", "\t", "|")
#: Columns with few distinct values (strata and the like), returned as pandas categoricals:
#: a draw then starts from ready-made codes instead of hashing a million texts, the kept
#: rows are filtered as integers, and a column holds 4 bytes per row instead of its text.
CATEGORY_COLUMNS = frozenset({"unit", "group", "position", "field", "procedure"})


class FrameReadError(SamplingError):
    """The file cannot be read as a frame."""


class FrameNotFoundError(FrameReadError):
    def __init__(self, name: str):
        super().__init__(
            f"Không tìm thấy tệp {name}.",
            f"File {name} not found.",
        )


class UnsupportedFormatError(FrameReadError):
    def __init__(self, name: str, detail_vi: str = "", detail_en: str = ""):
        super().__init__(
            f"Tệp {name} không phải CSV hoặc Excel (.xlsx){detail_vi}. "
            "Hãy lưu danh sách dưới dạng .xlsx hoặc CSV UTF-8.",
            f"File {name} is not CSV or Excel (.xlsx){detail_en}. "
            "Save the list as .xlsx or CSV UTF-8.",
        )


class EmptyFrameError(FrameReadError):
    def __init__(self, name: str, header_only: bool = False):
        if header_only:
            super().__init__(
                f"Tệp {name} chỉ có dòng tiêu đề, không có dòng dữ liệu nào.",
                f"File {name} has a header row but no data rows.",
            )
        else:
            super().__init__(f"Tệp {name} trống.", f"File {name} is empty.")


class FrameTooLargeError(FrameReadError):
    def __init__(self, name: str, size: int, max_bytes: int):
        super().__init__(
            f"Tệp {name} quá lớn ({_megabytes(size)}); giới hạn là {_megabytes(max_bytes)}. "
            "Hãy chia danh sách thành nhiều tệp.",
            f"File {name} is too large ({_megabytes(size)}); the limit is "
            f"{_megabytes(max_bytes)}. Split the list into several files.",
        )


_LAST_CELL_VI = (
    " Trong Excel, Ctrl+End cho thấy ô cuối cùng của trang tính: hãy xoá các dòng và cột "
    "thừa sau danh sách (hoặc chép danh sách sang một tệp mới) rồi lưu lại."
)
_LAST_CELL_EN = (
    " In Excel, Ctrl+End shows the sheet's last cell: delete the extra rows and columns "
    "after the list (or copy the list into a new file) and save again."
)


class TooManyRowsError(FrameReadError):
    """More rows than allowed; ``sheet_extent`` when a workbook sheet reaches that far
    (its last cell may sit far below the list)."""

    def __init__(self, name: str, rows: int, max_rows: int, sheet_extent: bool = False):
        if sheet_extent:
            super().__init__(
                f"Trang tính của tệp {name} kéo tới dòng {rows + 1:,}, vượt giới hạn "
                f"{max_rows:,} dòng." + _LAST_CELL_VI,
                f"The sheet of file {name} reaches row {rows + 1:,}, more than the limit of "
                f"{max_rows:,} rows." + _LAST_CELL_EN,
            )
            return
        super().__init__(
            f"Tệp {name} có {rows:,} dòng, vượt giới hạn {max_rows:,} dòng.",
            f"File {name} has {rows:,} rows, more than the limit of {max_rows:,}.",
        )


class DamagedWorkbookError(FrameReadError):
    def __init__(self, name: str, detail: str = ""):
        suffix = f" ({detail})" if detail else ""
        super().__init__(
            f"Tệp Excel {name} bị hỏng hoặc không đọc được{suffix}. "
            "Hãy mở tệp bằng Excel và lưu lại dưới dạng .xlsx.",
            f"Excel file {name} is damaged or unreadable{suffix}. "
            "Open it in Excel and save it again as .xlsx.",
        )


class ZipBombError(FrameReadError):
    def __init__(self, name: str, reason_vi: str, reason_en: str):
        super().__init__(
            f"Tệp Excel {name} bị từ chối: {reason_vi}.",
            f"Excel file {name} rejected: {reason_en}.",
        )


class SheetTooLargeError(FrameReadError):
    def __init__(self, name: str, reason_vi: str, reason_en: str):
        super().__init__(
            f"Tệp Excel {name} bị từ chối: {reason_vi}." + _LAST_CELL_VI,
            f"Excel file {name} rejected: {reason_en}." + _LAST_CELL_EN,
        )


class TooManyColumnsError(FrameReadError):
    def __init__(self, name: str, row: int, columns: int, max_columns: int):
        super().__init__(
            f"Tệp {name}, dòng {row}: có {columns:,} cột, vượt giới hạn {max_columns:,} cột. "
            "Hãy kiểm tra dấu phân cách và xoá các cột thừa.",
            f"File {name}, row {row}: {columns:,} columns, more than the limit of "
            f"{max_columns:,}. Check the delimiter and delete the extra columns.",
        )


class UnreadableEncodingError(UnsupportedFormatError):
    """Text that is neither UTF-8, UTF-16 nor Windows' Vietnamese code page."""

    def __init__(self, name: str, row: int | None):  # noqa: B042 (its own message)
        where_vi = f" (byte không hợp lệ đầu tiên ở dòng {row:,})" if row else ""
        where_en = f" (first invalid byte on row {row:,})" if row else ""
        FrameReadError.__init__(
            self,
            f"Tệp {name} không phải văn bản UTF-8{where_vi} và cũng không đọc được theo bảng "
            "mã Windows tiếng Việt (Windows-1258): có thể tệp dùng bảng mã cũ TCVN3 (ABC) hoặc "
            "VNI, hoặc trộn nhiều bảng mã. Hãy mở tệp bằng Excel và lưu lại dưới dạng «CSV "
            "UTF-8» hoặc .xlsx (hoặc chuyển sang Unicode bằng công cụ chuyển mã của Unikey) rồi "
            "tải lên lại.",
            f"File {name} is not UTF-8 text{where_en} and does not read as Windows' Vietnamese "
            "code page (Windows-1258) either: it may use an old Vietnamese encoding, TCVN3 "
            '(ABC) or VNI, or mix encodings. Open it in Excel and save it as "CSV UTF-8" or '
            ".xlsx (or convert it to Unicode with Unikey's converter) and upload it again.",
        )


class UnknownSheetError(FrameReadError):
    def __init__(self, name: str, sheet: str, sheets: list[str]):
        available = ", ".join(f"«{s}»" for s in sheets)
        super().__init__(
            f"Tệp {name} không có trang tính «{sheet}». Các trang tính có: {available}.",
            f"File {name} has no sheet «{sheet}». Its sheets are: {available}.",
        )


class MalformedCsvError(FrameReadError):
    def __init__(self, name: str, row: int | None, detail: str):
        where_vi = f" ở dòng {row}" if row else ""
        where_en = f" at row {row}" if row else ""
        super().__init__(
            f"Tệp CSV {name} sai cấu trúc{where_vi}: {detail}",
            f"CSV file {name} is malformed{where_en}: {detail}",
        )


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


# --------------------------------------------------------------------------- source


class _Source:
    """The uploaded bytes or the path of a file, with its first bytes for sniffing."""

    def __init__(self, source, filename: str | None, max_bytes: int):
        self.path: str | None = None
        self.data: bytes | None = None
        if isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
            self.name = clean_filename(filename or Path(self.path).name)
            if not os.path.isfile(self.path):
                raise FrameNotFoundError(self.name)
            size = os.path.getsize(self.path)
            if size > max_bytes:
                raise FrameTooLargeError(self.name, size, max_bytes)
            with open(self.path, "rb") as handle:
                self.head = handle.read(_SNIFF_BYTES)
            self.size = size
        else:
            self.name = (
                filename
                or getattr(source, "filename", None)
                or getattr(source, "name", None)
                or "upload"
            )
            self.name = clean_filename(self.name)
            if isinstance(source, (bytes, bytearray, memoryview)):
                data = bytes(source)
            else:
                data = source.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise FrameTooLargeError(self.name, len(data), max_bytes)
            self.data = data
            self.head = data[:_SNIFF_BYTES]
            self.size = len(data)

    def open(self) -> BinaryIO:
        return open(self.path, "rb") if self.path else io.BytesIO(self.data)

    def open_native(self) -> pa.NativeFile:
        """A pyarrow file, read without the GIL (much faster than a Python file object)."""
        return pa.OSFile(self.path) if self.path else pa.BufferReader(self.data)

    @property
    def is_complete_in_head(self) -> bool:
        return self.size <= len(self.head)


_KNOWN_BINARY_FORMATS = (
    (b"%PDF", " (PDF)", " (PDF)"),
    (b"\xd0\xcf\x11\xe0", " (Excel 97-2003 .xls hoặc tệp có mật khẩu)",
     " (Excel 97-2003 .xls or a password-protected file)"),
    (b"\x89PNG", " (ảnh PNG)", " (PNG image)"),
    (b"\xff\xd8\xff", " (ảnh JPEG)", " (JPEG image)"),
    (b"GIF8", " (ảnh GIF)", " (GIF image)"),
    (b"\x1f\x8b", " (tệp nén gzip)", " (gzip archive)"),
    (b"Rar!", " (tệp nén RAR)", " (RAR archive)"),
    (b"7z\xbc\xaf", " (tệp nén 7z)", " (7z archive)"),
)  # fmt: skip


@dataclass(frozen=True)
class _Limits:
    rows: int
    columns: int
    cells: int
    uncompressed_bytes: int


def read_frame(
    source,
    *,
    filename: str | None = None,
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    max_cells: int = DEFAULT_MAX_CELLS,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> pd.DataFrame:
    """Read a frame from a CSV or XLSX file.

    ``source`` is a path, the file's bytes, or a binary file object (a web upload);
    ``filename`` names it in messages. The format is recognised from the content, not
    the extension. ``sheet`` picks a workbook sheet by name (default: the first one).

    Hostile or broken files are refused before anything large is allocated: more than
    ``max_bytes``, ``max_rows`` data rows, ``max_columns`` columns, a sheet rectangle of
    more than ``max_cells`` cells (declared or held), a workbook expanding past
    ``max_uncompressed_bytes`` or compressed like a zip bomb, XML with entity
    declarations.

    The result has one text column per file column (canonical names for known headers)
    and ``source_row``: pandas ``category`` for the columns in :data:`CATEGORY_COLUMNS`
    (unit, group, position, field, procedure), ``str`` for the others. ``frame.attrs``
    holds ``source_columns`` (name -> header as written), ``blank_rows`` (blank rows
    dropped), ``source_name`` and ``sheet``.
    """
    src = _Source(source, filename, max_bytes)
    limits = _Limits(max_rows, max_columns, max_cells, max_uncompressed_bytes)
    if src.size == 0:
        raise EmptyFrameError(src.name)
    head = src.head
    for magic, detail_vi, detail_en in _KNOWN_BINARY_FORMATS:
        if head.startswith(magic):
            raise UnsupportedFormatError(src.name, detail_vi, detail_en)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        cells, data_start, sheet_name = _read_xlsx(src, sheet, limits)
        header_row, columns, source_rows = _split_header(cells, data_start, src.name)
    else:
        header_row, columns, source_rows = _read_csv(src, limits)
        sheet_name = None
    if len(header_row) > max_columns:
        raise TooManyColumnsError(src.name, int(source_rows[0]) - 1 if len(source_rows) else 1,
                                  len(header_row), max_columns)  # fmt: skip
    return _assemble(header_row, columns, source_rows, src.name, sheet_name, max_rows)


# ----------------------------------------------------------------------------- CSV


def _detect_encoding(src: _Source) -> str:
    """UTF-8 (with or without a byte order mark), UTF-16 (with one, or without: ASCII text
    then has a zero in every other byte) or, for text that is not UTF-8, Windows'
    Vietnamese code page when the file reads as Vietnamese in it."""
    head = src.head
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1::2].count(0) > 0.4 * (len(head) // 2):
        return "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > 0.4 * (len(head) // 2):
        return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=src.is_complete_in_head)
        return "utf-8"
    except UnicodeDecodeError:
        return _legacy_encoding(src)


def _legacy_encoding(src: _Source) -> str:
    """ "cp1258" for a file that is not UTF-8 and reads as Vietnamese in Windows' Vietnamese
    code page (the only legacy Vietnamese encoding Python decodes); otherwise
    UnreadableEncodingError naming the row of the first byte that is not UTF-8. TCVN3
    (ABC) and VNI text, or UTF-8 mixed with another encoding, read in cp1258 as letters
    Vietnamese does not use (¨, µ, ¸, Ã», ...), which is how they are told apart."""
    with src.open() as handle:
        data = handle.read()
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
    if _reads_as_vietnamese(data.decode("cp1258", errors="replace")):
        return "cp1258"
    raise UnreadableEncodingError(src.name, row)


def _vietnamese_letter(char: str) -> bool:
    base, *marks = unicodedata.normalize("NFD", char)
    return base in "aeiouyAEIOUY" and len(marks) <= 2 and set(marks) <= _VIETNAMESE_MARKS


# Tones (grave, acute, tilde, hook, dot below) and shapes (circumflex, breve, horn).
_VIETNAMESE_MARKS = set("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")
_VIETNAMESE_LETTERS = frozenset(
    "đĐ" + "".join(c for c in map(chr, range(0xC0, 0x1EFA)) if _vietnamese_letter(c))
)
# Signs a Vietnamese list may hold besides letters (Windows-1258 has them all).
_USUAL_SIGNS = frozenset("\u00a0–—‘’“”…•°№€")
_ASCII = re.compile("[\x00-\x7f]+")


def _reads_as_vietnamese(text: str) -> bool:
    """Whether the characters beyond ASCII are (almost all) Vietnamese letters."""
    others = _ASCII.sub("", unicodedata.normalize("NFC", text))
    foreign = sum(
        count
        for char, count in collections.Counter(others).items()
        if char not in _VIETNAMESE_LETTERS and char not in _USUAL_SIGNS
    )
    return foreign <= max(2, len(others) // 50)


def _decode_head(src: _Source, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    text = decoder.decode(src.head, final=src.is_complete_in_head)
    text = text.removeprefix("\ufeff")
    if not src.is_complete_in_head:
        if "\n" not in text:
            raise MalformedCsvError(
                src.name,
                1,
                f"dòng đầu dài hơn {_SNIFF_BYTES // 1024} KB: hãy kiểm tra dấu phân cách và xoá "
                f"các cột thừa / the first line is longer than {_SNIFF_BYTES // 1024} KB: check "
                "the delimiter and delete the extra columns",
            )
        # The last line may be cut in the middle: drop it.
        text = text[: text.rfind("\n")]
    return text


_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _looks_binary(text: str) -> bool:
    controls = len(_CONTROL_CHARACTERS.findall(text))
    return controls > max(2, len(text) // 100)


def _sniff_delimiter(text: str) -> str:
    """The candidate that splits a top row into known headers; else the one that splits
    most of the first records into the same number (> 1) of fields; comma when nothing
    does. Records are read with quotes honoured, so that a quoted cell holding line
    breaks or other candidates does not count."""
    best, best_score = ",", (0, 0, 0)
    for delimiter in _DELIMITERS:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = [row for row in itertools.islice(records, 50) if any(row)]
        except csv.Error:
            continue
        headers = max((known_header_count(row) for row in rows[:_HEADER_SEARCH_ROWS]), default=0)
        counts = [len(row) for row in rows if len(row) > 1]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        score = (min(headers, 2), counts.count(mode), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _find_header(rows: list[list[str]]) -> int:
    """Index of the header row: the first of the top rows naming at least two known
    columns (title rows often sit above it), else the first non-blank row."""
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if known_header_count(row) >= 2:
            return index
    for index, row in enumerate(rows):
        if any(str(cell).strip() for cell in row):
            return index
    return -1


def _read_csv(src: _Source, limits: _Limits):
    encoding = _detect_encoding(src)
    text = _decode_head(src, encoding)
    if _looks_binary(text):
        raise UnsupportedFormatError(src.name)
    if not text.strip():
        raise EmptyFrameError(src.name)
    delimiter = _sniff_delimiter(text)
    head_rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header_index = _find_header(head_rows)
    if header_index < 0:
        raise EmptyFrameError(src.name)
    header = head_rows[header_index]
    if len(header) > limits.columns:
        raise TooManyColumnsError(src.name, header_index + 1, len(header), limits.columns)
    # Low-cardinality columns are parsed straight into dictionaries (categoricals).
    names, _ = map_headers(header)
    types = [
        pa.dictionary(pa.int32(), pa.string()) if name in CATEGORY_COLUMNS else pa.large_string()
        for name in names
    ]
    try:
        table = _parse_csv_decoded(src, encoding, delimiter, header_index, types)
    except _RaggedRows as ragged:
        # Rows with fewer or more fields than the header: parse in Python, padding short
        # rows, so that every row keeps its number.
        return _parse_csv_with_python(src, ragged.encoding, delimiter, header_index, limits)
    # The header is spreadsheet row header_index + 1; data follows.
    columns = [table.column(i) for i in range(table.num_columns)]
    source_rows = np.arange(header_index + 2, header_index + 2 + table.num_rows)
    return header, columns, source_rows


class _RaggedRows(Exception):
    def __init__(self, encoding: str):
        super().__init__(encoding)
        self.encoding = encoding


def _parse_csv_decoded(src, encoding, delimiter, header_index, types):
    """Parse in the sniffed encoding; a UTF-8 guess that meets invalid bytes further down
    the file is looked at again as a whole (see _legacy_encoding)."""
    try:
        return _parse_csv_in_blocks(src, encoding, delimiter, header_index, types)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise UnsupportedFormatError(src.name) from None
    return _parse_csv_in_blocks(src, _legacy_encoding(src), delimiter, header_index, types)


def _parse_csv_in_blocks(src, encoding, delimiter, header_index, types):
    """Parse with pyarrow in parallel blocks; again in one block if a block boundary fell
    inside a quoted cell holding a line break (it shows as a ragged row) or a line is
    longer than a block."""
    try:
        return _parse_csv_with_arrow(src, encoding, delimiter, header_index, types, 8 << 20)
    except (_RaggedRows, MalformedCsvError):
        whole = max(8 << 20, src.size + 1)
        return _parse_csv_with_arrow(src, encoding, delimiter, header_index, types, whole)


def _parse_csv_with_arrow(src, encoding, delimiter, header_index, types, block_size):
    names = [f"c{i}" for i in range(len(types))]
    newlines_in_values = block_size > 8 << 20
    # No invalid_row_handler: pyarrow decodes the row's text for it, and a row that is
    # not UTF-8 would raise inside the callback, where nobody can catch it.
    try:
        with src.open_native() as handle:
            table = pa_csv.read_csv(
                handle,
                read_options=pa_csv.ReadOptions(
                    column_names=names,
                    skip_rows=header_index,
                    skip_rows_after_names=1,  # the header row itself
                    encoding="utf8" if encoding == "utf-8" else encoding,
                    block_size=block_size,
                ),
                parse_options=pa_csv.ParseOptions(
                    delimiter=delimiter,
                    newlines_in_values=newlines_in_values,
                    ignore_empty_lines=False,
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict(zip(names, types, strict=True)),
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
    except pa.ArrowInvalid as error:
        message = str(error)
        if "UTF8" in message or "utf8" in message.lower():
            raise UnicodeDecodeError(encoding, b"", 0, 1, message) from error
        if _RAGGED.search(message):
            raise _RaggedRows(encoding) from None
        raise MalformedCsvError(src.name, None, message.splitlines()[0][:300]) from error
    return table


_RAGGED = re.compile(r"Expected \d+ columns, got \d+")


def _parse_csv_with_python(src, encoding, delimiter, header_index, limits: _Limits):
    """Rows of a file whose records have different numbers of fields, row by row, so
    that a record of a million fields is refused before it is kept. A UTF-8 guess that
    meets invalid bytes is looked at again as a whole (see _legacy_encoding)."""
    try:
        rows = _python_rows(src, encoding, delimiter, header_index, limits)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise UnsupportedFormatError(src.name) from None
        legacy = _legacy_encoding(src)
        rows = _python_rows(src, legacy, delimiter, header_index, limits)
    if rows and rows[0] and rows[0][0].startswith("\ufeff"):
        rows[0][0] = rows[0][0].removeprefix("\ufeff")
    return _split_header(rows, 0, src.name, header_index=header_index)


def _python_rows(src, encoding, delimiter, header_index, limits: _Limits) -> list[list[str]]:
    rows: list[list[str]] = []
    with src.open() as handle:
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        records = csv.reader(text, delimiter=delimiter)
        try:
            for row in records:
                if len(row) > limits.columns:
                    raise TooManyColumnsError(src.name, records.line_num, len(row), limits.columns)
                if len(rows) > limits.rows + header_index + 1:
                    raise TooManyRowsError(src.name, len(rows) - header_index - 1, limits.rows)
                rows.append(row)
        except csv.Error as error:  # a cell longer than csv.field_size_limit(), a NUL...
            raise MalformedCsvError(src.name, records.line_num, _csv_error(error)) from None
    return rows


def _csv_error(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        limit = csv.field_size_limit()
        return (
            f"một ô dài hơn {limit:,} ký tự (hãy kiểm tra dấu ngoặc kép) / a cell is longer "
            f"than {limit:,} characters (check the quotes)"
        )
    return str(error)


# ---------------------------------------------------------------------------- XLSX


def _check_workbook(src: _Source, sheet: str | None, limits: _Limits) -> str:
    """The name of the sheet to read, once the archive and that sheet are known to be
    within the limits (see :mod:`sampling.workbook`); nothing is decompressed whole."""
    try:
        with src.open() as handle, zipfile.ZipFile(handle) as archive:
            members = zip_members(archive, limits.uncompressed_bytes)
            if "xl/workbook.xml" not in members:
                if "content.xml" in members:
                    raise UnsupportedFormatError(
                        src.name,
                        " (bảng tính OpenDocument .ods)",
                        " (OpenDocument .ods spreadsheet)",
                    )
                raise UnsupportedFormatError(src.name, " (tệp nén zip)", " (a zip archive)")
            refuse_declarations(archive, members)
            paths = sheet_paths(archive, members)
            if not paths:
                raise DamagedWorkbookError(src.name, "xl/workbook.xml")
            sheet_name = next(iter(paths)) if sheet is None else sheet
            if sheet_name not in paths:
                raise UnknownSheetError(src.name, sheet_name, list(paths))
            if paths[sheet_name] not in members:
                raise DamagedWorkbookError(src.name, paths[sheet_name][:200])
            scan_sheet(
                archive,
                paths[sheet_name],
                max_rows=limits.rows + _HEADER_SEARCH_ROWS + 1,
                max_columns=limits.columns,
                max_cells=limits.cells,
            )
    except ArchiveLimitError as error:
        raise ZipBombError(src.name, error.message_vi, error.message_en) from None
    except SheetLimitError as error:
        if error.rows is not None:
            raise TooManyRowsError(src.name, error.rows - 1, limits.rows, True) from None
        raise SheetTooLargeError(src.name, error.message_vi, error.message_en) from None
    except (
        zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
        struct.error, OverflowError, zlib.error,
    ) as error:  # fmt: skip
        # zipfile reports damaged headers and members in all these ways (found by fuzzing).
        raise DamagedWorkbookError(src.name, str(error)[:200]) from error
    return sheet_name


def _read_xlsx(src: _Source, sheet: str | None, limits: _Limits):
    import python_calamine

    sheet_name = _check_workbook(src, sheet, limits)
    try:
        with src.open() as handle:
            workbook = python_calamine.CalamineWorkbook.from_filelike(handle)
            if sheet_name not in workbook.sheet_names:
                raise UnknownSheetError(src.name, sheet_name, list(workbook.sheet_names))
            worksheet = workbook.get_sheet_by_name(sheet_name)
            # A header row and max_rows data rows, plus some title rows above the header.
            if worksheet.total_height > limits.rows + _HEADER_SEARCH_ROWS:
                raise TooManyRowsError(src.name, worksheet.total_height - 1, limits.rows)
            cells = worksheet.to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, ValueError, OSError, UnicodeError) as error:
        raise DamagedWorkbookError(src.name, str(error).splitlines()[0][:200]) from error
    except BaseException as error:
        # A panic inside the Rust reader surfaces as pyo3's PanicException, which derives
        # from BaseException; anything else (KeyboardInterrupt...) is not ours to catch.
        if type(error).__name__ != "PanicException":
            raise
        raise DamagedWorkbookError(src.name, "calamine") from error
    return cells, 0, sheet_name


def _cell_text(value: object) -> str | None:
    """Workbook cells as text: whole numbers without ".0" (phone numbers, codes), dates
    in ISO form (the date parser reads them back)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        if hasattr(value, "hour") and hasattr(value, "date"):
            if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
                return value.date().isoformat()
            return value.isoformat(sep=" ")
        return value.isoformat()
    return str(value)


def _split_header(rows: list[list], data_start: int, name: str, header_index: int | None = None):
    """(header, column arrays, source rows) from rows of cells; row i is spreadsheet row
    data_start + i + 1."""
    if header_index is None:
        header_index = _find_header(rows)
    if header_index < 0:
        raise EmptyFrameError(name)
    header = rows[header_index]
    body = rows[header_index + 1 :]
    width = max([len(header), *(len(row) for row in body)]) if body else len(header)
    header = [*header, *[""] * (width - len(header))]
    columns = []
    for position in range(width):
        texts = [_cell_text(row[position]) if position < len(row) else None for row in body]
        columns.append(pa.array(texts, type=pa.large_string()))
    first = data_start + header_index + 2
    return header, columns, np.arange(first, first + len(body))


# ---------------------------------------------------------------------------- frame


def _clean_chunk(chunk):
    if pa.types.is_dictionary(chunk.type):
        return normalise_dictionary(chunk)
    return normalise_strings(chunk)


def _cleaned_type(column_type: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(column_type):
        return pa.dictionary(pa.int32(), pa.large_string())
    return pa.large_string()


def _clean_columns(columns: list) -> list:
    """Every column NFC-normalised and trimmed."""
    columns = [pa.chunked_array([column]) if isinstance(column, pa.Array) else column
               for column in columns]  # fmt: skip
    return [
        pa.chunked_array(
            [_clean_chunk(chunk) for chunk in column.chunks], type=_cleaned_type(column.type)
        )  # fmt: skip
        for column in columns
    ]


def _assemble(header, columns, source_rows, name, sheet_name, max_rows) -> pd.DataFrame:
    # In place: the caller's list would otherwise keep the raw columns alive.
    columns[:] = _clean_columns(columns)
    # Columns without a header and without data are Excel's phantom columns.
    keep = [
        i
        for i, column in enumerate(columns)
        if str(header[i] or "").strip() or column.null_count < len(column)
    ]
    header = [header[i] for i in keep]
    columns = [columns[i] for i in keep]
    if not columns:
        raise EmptyFrameError(name)
    blank_rows, blank = 0, None
    # A column filled on every row (a row number, say) means no row is blank.
    if all(column.null_count for column in columns):
        blank = np.ones(len(source_rows), dtype=bool)
        for column in columns:
            if column.null_count < len(column):
                blank &= column.is_null().to_numpy(zero_copy_only=False)
        blank_rows = int(blank.sum())
    if blank_rows:
        keep_rows = pa.array(~blank)
        columns = [column.filter(keep_rows) for column in columns]
        source_rows = source_rows[~blank]
    if len(source_rows) == 0:
        raise EmptyFrameError(name, header_only=True)
    if len(source_rows) > max_rows:
        raise TooManyRowsError(name, len(source_rows), max_rows)
    names, originals = map_headers(header)
    columns = [
        column.dictionary_encode()
        if name in CATEGORY_COLUMNS and not pa.types.is_dictionary(column.type)
        else column
        for name, column in zip(names, columns, strict=True)
    ]
    table = pa.table(
        {**dict(zip(names, columns, strict=True)), "source_row": pa.array(source_rows)}
    )
    frame = table.to_pandas()
    frame.attrs.update(
        source_columns=originals,
        blank_rows=blank_rows,
        source_name=name,
        sheet=sheet_name,
        normalised=True,
    )
    return frame
