"""Import and export of the unit registry as CSV (columns code, name, level_label, parent_code
and, optionally, official_code: the statistics office's code, checked against the official
list).

Import is all-or-nothing: every row is checked first (encoding, header, empty or repeated
codes, unknown parents, cycles), and nothing is written when any row is wrong. A unit
whose code already exists is updated; units absent from the file are left as they are.
Parents may appear after their children in the file.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.models.units import Unit
from surveyapp.units import official

COLUMNS = ("code", "name", "level_label", "parent_code", "official_code")
REQUIRED_COLUMNS = ("code", "name")
MAX_ROWS = 20_000
MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 255
MAX_LEVEL_LENGTH = 120


@dataclass(frozen=True)
class RowError:
    row: int  # line in the file (1 = header)
    column: str
    value: str
    message_vi: str
    message_en: str

    @property
    def message(self) -> str:
        return t(self.message_vi, self.message_en)


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class UnitRow:
    row: int
    code: str
    name: str
    level_label: str
    parent_code: str
    official_code: str = ""


def clean(value: str | None) -> str:
    """NFC-normalised text without surrounding or repeated inner whitespace."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM is allowed). Raises ValueError with a bilingual message."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"Tệp không phải UTF-8 (byte lỗi ở vị trí {exc.start}). Hãy lưu lại dưới dạng "
            "'CSV UTF-8'.",
            f"The file is not UTF-8 (bad byte at position {exc.start}). Save it as 'CSV UTF-8'.",
        ) from exc


def parse(data: bytes) -> tuple[list[UnitRow], list[RowError]]:
    """Rows and row-level errors of a registry CSV (no database access)."""
    try:
        text = decode(data)
    except ValueError as exc:
        return [], [RowError(0, "", "", *exc.args)]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [clean(h).lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        expected = ", ".join(COLUMNS)
        return [], [
            RowError(
                1,
                ", ".join(missing),
                ", ".join(header),
                f"Thiếu cột {', '.join(missing)}. Dòng tiêu đề phải có: {expected}.",
                f"Missing column(s) {', '.join(missing)}. The header must have: {expected}.",
            )
        ]
    index = {name: header.index(name) for name in COLUMNS if name in header}
    rows, errors = [], []
    for line_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            errors.append(
                RowError(
                    line_number,
                    "",
                    "",
                    f"Tệp có quá {MAX_ROWS} dòng.",
                    f"The file has more than {MAX_ROWS} rows.",
                )
            )
            break

        def cell(name, cells=cells):
            position = index.get(name)
            return clean(cells[position]) if position is not None and position < len(cells) else ""

        rows.append(
            UnitRow(
                line_number,
                cell("code"),
                cell("name"),
                cell("level_label"),
                cell("parent_code"),
                cell("official_code"),
            )
        )
    return rows, errors + check_rows(rows) + check_official_codes(rows)


def check_official_codes(rows: list[UnitRow]) -> list[RowError]:
    """Official codes must be in the official list (current or pre-2025 edition) and
    appear once in a file."""
    rows = [row for row in rows if row.official_code]
    if not rows:
        return []

    known = official.current_codes().keys() | official.legacy_codes().keys()
    known |= official.legacy_district_codes()
    errors, first_row_of = [], {}
    for row in rows:
        code = row.official_code
        if code not in known:
            errors.append(
                RowError(
                    row.row,
                    "official_code",
                    code,
                    f"Mã {code} không có trong danh mục đơn vị hành chính chính thức "
                    f"({official.edition()}).",
                    f"The code {code} is not in the official list of administrative units "
                    f"({official.edition()}).",
                )
            )
        elif code in first_row_of:
            errors.append(
                RowError(
                    row.row,
                    "official_code",
                    code,
                    f"Mã chính thức trùng với dòng {first_row_of[code]}.",
                    f"The official code repeats row {first_row_of[code]}.",
                )
            )
        else:
            first_row_of[code] = row.row
    return errors


# Control and format characters (NUL, escapes, bidirectional overrides, zero-width ones)
# and private-use characters: invisible or misleading in pages, PDFs and spreadsheets.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co"})


def text_problem(value: str, limit: int) -> tuple[str, str] | None:
    """Why ``value`` (already :func:`clean`) cannot be a code, name or level label, in
    Vietnamese and English; None when it can. Shared with the results bundle's import."""
    if len(value) > limit:
        return (f"Giá trị dài quá {limit} ký tự.", f"The value is longer than {limit} characters.")
    for position, character in enumerate(value, start=1):
        if unicodedata.category(character) in _HIDDEN_CATEGORIES:
            code = f"U+{ord(character):04X}"
            return (
                f"Có ký tự điều khiển hoặc ký tự ẩn {code} ở vị trí {position}; hãy xoá ký tự này.",
                f"A control or hidden character {code} at position {position}; remove it.",
            )
    return None


def _text_error(row: UnitRow, column: str, value: str, limit: int) -> RowError | None:
    problem = text_problem(value, limit)
    if problem is None:
        return None
    shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in value[:80])
    return RowError(row.row, column, shown, *problem)


def check_rows(rows: list[UnitRow]) -> list[RowError]:
    """Errors that need only the file: empty, too long or repeated values, control
    characters."""
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    for row in rows:
        if not row.code:
            errors.append(
                RowError(row.row, "code", "", "Thiếu mã đơn vị.", "The unit code is empty.")
            )
        elif row.code in first_row_of:
            errors.append(
                RowError(
                    row.row,
                    "code",
                    row.code,
                    f"Mã trùng với dòng {first_row_of[row.code]}.",
                    f"The code repeats row {first_row_of[row.code]}.",
                )
            )
        else:
            first_row_of[row.code] = row.row
        if not row.name:
            errors.append(
                RowError(row.row, "name", "", "Thiếu tên đơn vị.", "The unit name is empty.")
            )
        if row.parent_code and row.parent_code == row.code:
            errors.append(
                RowError(
                    row.row,
                    "parent_code",
                    row.parent_code,
                    "Đơn vị không thể là cấp trên của chính nó.",
                    "A unit cannot be its own parent.",
                )
            )
        for column, value, limit in (
            ("code", row.code, MAX_CODE_LENGTH),
            ("name", row.name, MAX_NAME_LENGTH),
            ("level_label", row.level_label, MAX_LEVEL_LENGTH),
        ):
            error = _text_error(row, column, value, limit)
            if error:
                errors.append(error)
    return errors


def _cycle_errors(rows: list[UnitRow], parent_of: dict[str, str | None]) -> list[RowError]:
    errors = []
    for row in rows:
        seen = {row.code}
        current = parent_of.get(row.code)
        while current is not None:
            if current in seen:
                errors.append(
                    RowError(
                        row.row,
                        "parent_code",
                        row.parent_code,
                        "Quan hệ cấp trên tạo thành vòng lặp.",
                        "The parent links form a cycle.",
                    )
                )
                break
            seen.add(current)
            current = parent_of.get(current)
    return errors


def import_units(data: bytes, registry=None) -> ImportResult:
    """Check the whole file, then create or update its units in the current session.

    Nothing is added to the session when any error is found. The caller commits (the
    request hook or :func:`surveyapp.db.transaction`). Units are put in ``registry``
    (a :class:`~surveyapp.models.units.Registry`) when one is given.
    """
    rows, errors = parse(data)
    if errors:
        return ImportResult(errors=errors)
    existing = {u.code: u for u in db.session.scalars(sa.select(Unit))}
    codes_in_file = {row.code for row in rows}
    by_id = {u.id: u.code for u in existing.values()}
    parent_of = {code: by_id.get(u.parent_id) for code, u in existing.items()}
    for row in rows:
        if row.parent_code and row.parent_code not in codes_in_file | existing.keys():
            errors.append(
                RowError(
                    row.row,
                    "parent_code",
                    row.parent_code,
                    f"Không tìm thấy đơn vị cấp trên mã '{row.parent_code}' (trong tệp hay trong danh mục).",
                    f"No parent unit with code '{row.parent_code}' (in the file or the registry).",
                )
            )
        parent_of[row.code] = row.parent_code or None
    errors += _cycle_errors(rows, parent_of)
    if errors:
        return ImportResult(errors=sorted(errors, key=lambda e: e.row))

    result = ImportResult()
    units = {}
    for row in rows:
        unit = existing.get(row.code)
        if unit is None:
            unit = Unit(code=row.code)
            db.session.add(unit)
            result.created += 1
        else:
            result.updated += 1
        unit.name, unit.level_label = row.name, row.level_label
        unit.official_code = row.official_code or None
        if registry is not None:
            unit.unit_registry = registry
        units[row.code] = unit
    db.session.flush()  # ids for new units, then the parent links
    for row in rows:
        parent = units.get(row.parent_code) or existing.get(row.parent_code)
        units[row.code].parent_id = parent.id if row.parent_code else None
    db.session.flush()
    return result


def export_rows() -> list[list[str]]:
    """Registry rows in tree order (parents before children), for CSV export."""
    units = list(db.session.scalars(sa.select(Unit).order_by(Unit.code)))
    code_of = {u.id: u.code for u in units}
    return [
        [u.code, u.name, u.level_label, code_of.get(u.parent_id, ""), u.official_code or ""]
        for u in tree_order(units)
    ]


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def sort_key(unit: Unit) -> tuple:
    """Siblings grouped by level label, then by name in natural order ("Phường 2" before
    "Phường 10"), accents ignored so that "Đ" sorts with "D"."""
    parts = re.split(r"(\d+)", _plain(unit.name or ""))
    name = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)
    return (_plain(unit.level_label or ""), name, unit.code)


def tree_order(units: list[Unit]) -> list[Unit]:
    """Units depth-first from the roots, siblings in :func:`sort_key` order."""
    children: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in units}
    for unit in sorted(units, key=sort_key):
        parent = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(parent, []).append(unit)
    ordered: list[Unit] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.id, [])))
    return ordered
