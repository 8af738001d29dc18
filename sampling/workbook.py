"""Checks of an XLSX workbook before its reader allocates anything.

python-calamine builds the whole rectangle from the top-left to the farthest cell a sheet
declares or holds: a 5 kB file whose last cell is ``XFD1048576`` asks for 512 GB and
aborts the process. So the archive is checked from the sizes it declares (zip bombs), its
XML members for document type declarations (entity bombs; a workbook never has one), and
the chosen sheet's XML is streamed from the archive, a chunk at a time, to find its
declared dimension, its farthest row and column and its number of cells, all bounded,
before calamine sees the file.

The sheet is scanned with byte counts and regular expressions that only yield the rare
matches (row numbers above the largest seen so far, columns past Z). The two small XML parts that name the
sheets are parsed with defusedxml.
"""

import re
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as safe_xml

from sampling.errors import SamplingError

#: Largest compression ratio of a workbook member; XML sheets compress about 5-20 times,
#: zip bombs a thousand times and more.
MAX_COMPRESSION_RATIO = 200
MAX_ZIP_MEMBERS = 10_000
_MAX_PART_BYTES = 16 * 1024 * 1024  # workbook.xml and its relations
_CHUNK = 1 << 20
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class WorkbookLimitError(SamplingError):
    """Raised with the bilingual message of what is wrong (the caller adds the file)."""


class ArchiveLimitError(WorkbookLimitError):
    """The archive: too many members, too much or too compressed content, entities."""


class SheetLimitError(WorkbookLimitError):
    """The sheet: too many rows, columns or cells, declared or held; ``rows`` is set when
    the rows passed their bound."""

    rows: int | None = None


@dataclass
class SheetExtent:
    rows: int  # the farthest row number a cell or row element names
    columns: int  # the farthest column number (A = 1)
    cells: int  # references (cells and rows) and cells without one


def column_number(letters: bytes | str) -> int:
    """A = 1, Z = 26, AA = 27, ..., XFD = 16384."""
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        number = number * 26 + ord(letter) - 64
    return number


def _greater_than(number: int) -> str:
    """A regular expression matching the decimal integers (no leading zero) above number."""
    digits = str(number)
    options = [rf"[1-9]\d{{{len(digits)},}}"]
    for i, digit in enumerate(digits):
        if digit != "9":
            options.append(f"{digits[:i]}[{int(digit) + 1}-9]\\d{{{len(digits) - i - 1}}}")
    return "(?:" + "|".join(options) + ")(?!\\d)"


def zip_members(archive: zipfile.ZipFile, max_uncompressed: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's members, refused when it declares too many, too much or too
    compressed content (the sizes are those the archive declares; reading is capped at
    them by zipfile)."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise ArchiveLimitError(
            f"có {len(members):,} tệp con trong gói nén",
            f"it holds {len(members):,} archive members",
        )
    total = sum(member.file_size for member in members)
    if total > max_uncompressed:
        raise ArchiveLimitError(
            f"khi giải nén sẽ chiếm {_megabytes(total)}, vượt giới hạn "
            f"{_megabytes(max_uncompressed)}",
            f"it would expand to {_megabytes(total)}, more than the limit of "
            f"{_megabytes(max_uncompressed)}",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO:
            raise ArchiveLimitError(
                f"tệp con {member.filename} nén với tỉ lệ {ratio:,.0f}:1 bất thường",
                f"member {member.filename} has an abnormal compression ratio of {ratio:,.0f}:1",
            )
    return {member.filename: member for member in members}


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def refuse_declarations(archive: zipfile.ZipFile, members) -> None:
    """No XML member may declare a document type: that is how entity bombs (billion
    laughs, external entities) start, and no spreadsheet program writes one. Only the
    head of each member is read: a declaration must come before the root element."""
    for name in members:
        if not name.endswith((".xml", ".rels")):
            continue
        with archive.open(name) as handle:
            head = handle.read(4096)
        if _DOCTYPE.search(head):
            raise ArchiveLimitError(
                f"tệp con {name} có khai báo DOCTYPE/ENTITY (không bảng tính nào ghi như vậy)",
                f"member {name} declares a DOCTYPE/ENTITY (no spreadsheet program writes one)",
            )


def _small_part(archive: zipfile.ZipFile, members, name: str):
    member = members.get(name)
    if member is None or member.file_size > _MAX_PART_BYTES:
        return None
    try:
        return safe_xml.fromstring(archive.read(name))
    except Exception:  # defusedxml's refusals and XML syntax errors alike
        return None


def sheet_paths(archive: zipfile.ZipFile, members) -> dict[str, str]:
    """Sheet name -> path of its XML in the archive, in the workbook's order."""
    workbook = _small_part(archive, members, "xl/workbook.xml")
    relations = _small_part(archive, members, "xl/_rels/workbook.xml.rels")
    if workbook is None or relations is None:
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in relations}
    paths = {}
    for sheet in workbook.iter():
        if not sheet.tag.endswith("}sheet") or sheet.get("name") is None:
            continue
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        paths[sheet.get("name")] = target
    return paths


_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d{1,7})?(?::([A-Z]{1,3})?(\d{1,7})?)?"'
)
_ROOT = re.compile(rb"<(\w+:)?worksheet\b")
_DIGITS = re.compile(rb"\d+")
_ROW_NUMBERS = re.compile(rb' r="[A-Z]{0,3}(\d+)"')
_WIDE_REF = re.compile(rb' r="([A-Z]{2,3})\d')


def scan_sheet(archive: zipfile.ZipFile, path: str, *, max_rows: int, max_columns: int,
               max_cells: int) -> SheetExtent:  # fmt: skip
    """The sheet's extent, or WorkbookLimitError as soon as it passes a bound: its
    declared dimension, farthest row, farthest column, cells, or their rectangle."""
    extent = SheetExtent(rows=0, columns=0, cells=0)
    tail, prefix = b"", None
    with archive.open(path) as handle:
        while chunk := handle.read(_CHUNK):
            data = tail + chunk
            cut = data.rfind(b">") + 1  # never split an element's tag between chunks
            part, tail = data[:cut], data[cut:]
            if len(tail) > _CHUNK:
                raise SheetLimitError(
                    "trang tính có một thẻ XML dài bất thường",
                    "a sheet has an abnormally long XML tag",
                )
            if prefix is None:
                root = _ROOT.search(part)
                prefix = (root.group(1) or b"") if root else b""
                _check_dimension(part, max_rows, max_columns, max_cells)
            _scan_part(part, prefix, extent)
            _check_extent(extent.rows, extent.columns, extent.cells, max_rows, max_columns,
                          max_cells)  # fmt: skip
    return extent


def _check_dimension(head: bytes, max_rows: int, max_columns: int, max_cells: int) -> None:
    match = _DIMENSION.search(head[:65536])
    if not match:
        return
    first_col, first_row, last_col, last_row = match.groups()
    rows = int(last_row or first_row or 1)
    columns = column_number(last_col or first_col or b"A")
    _check_extent(rows, columns, rows * columns, max_rows, max_columns, max_cells, declared=True)


def _scan_part(part: bytes, prefix: bytes, extent: SheetExtent) -> None:
    """Fold one run of whole elements into the extent, in two passes of regular
    expressions that only turn rare matches into Python objects."""
    # The farthest row: the last row element of the run, then any reference beyond it
    # (rows out of order, or a cell naming a far row). Columns: references of two letters
    # or more are read, one letter counts as 26 (cheaper than finding which letter).
    row_tag = b"<" + prefix + b'row r="'
    last = part.rfind(row_tag)
    if last >= 0:
        number = _DIGITS.match(part, last + len(row_tag))
        extent.rows = max(extent.rows, int(number.group()) if number else 0)
    beyond = re.compile(rb' r="[A-Z]{0,3}' + _greater_than(extent.rows).encode())
    if beyond.search(part):
        extent.rows = max(extent.rows, *map(int, _ROW_NUMBERS.findall(part)))
    wide = set(_WIDE_REF.findall(part))
    if wide:
        extent.columns = max(extent.columns, *map(column_number, wide))
    if extent.columns < 26 and b' r="' in part:
        extent.columns = 26
    # Cells without a reference (no spreadsheet program writes them) take the next
    # column: each counts as a column.
    cell = b"<" + prefix + b"c"
    without = re.compile(re.escape(cell) + rb'(?:>|/>|\s(?!r=")(?![^>]*\br="))')
    if without.search(part):
        extent.columns = max(extent.columns, len(without.findall(part)))
        extent.cells += len(without.findall(part))
    extent.cells += part.count(b' r="')


def _check_extent(rows, columns, cells, max_rows, max_columns, max_cells, declared=False) -> None:
    said_vi = "khai báo " if declared else ""
    said_en = "declares " if declared else "has "
    if rows > max_rows:
        error = SheetLimitError(
            f"trang tính {said_vi}tới dòng {rows:,}, vượt giới hạn {max_rows:,} dòng",
            f"the sheet {said_en}rows up to {rows:,}, more than the limit of {max_rows:,}",
        )
        error.rows = rows
        raise error
    if columns > max_columns:
        raise SheetLimitError(
            f"trang tính {said_vi}tới cột thứ {columns:,}, vượt giới hạn {max_columns:,} cột",
            f"the sheet {said_en}columns up to number {columns:,}, more than the limit of "
            f"{max_columns:,}",
        )
    area = rows * columns
    if max(area, cells) > max_cells:
        raise SheetLimitError(
            f"trang tính {said_vi}{rows:,} dòng × {columns:,} cột = {max(area, cells):,} ô, "
            f"vượt giới hạn {max_cells:,} ô",
            f"the sheet {said_en}{rows:,} rows × {columns:,} columns = {max(area, cells):,} "
            f"cells, more than the limit of {max_cells:,}",
        )
