"""Row-level validation of a frame: every problem reported, not just the first.

Rules (all vectorised over the columns):

* Required columns. Citizens: ``full_name`` and ``unit``, and at least one contact
  column among ``phone``, ``email``, ``address``. Officials: ``full_name``, ``unit`` and
  ``group`` or ``position`` (the respondent group, leader / civil servant / public
  employee, is a stratum); officials are reached through their unit, so no contact
  column is required. ``required`` adds columns (e.g. the strata of a draw); a survey
  period requires ``completed_on``.
* Required cells empty: the row is excluded (``missing_value``, ``missing_group``).
* With the campaign's ``groups``, a ``group`` cell naming none of them (by code or by the
  words of :data:`sampling.groups.GROUP_ALIASES`, e.g. "Tổ chức") is a warning
  (``unknown_group``): the row stays in the list kind's default group.
* A cell longer than its column allows (:data:`CELL_LIMITS`; any other column: Excel's
  limit of 32,767 characters) excludes the row (``cell_too_long``); the report shows its
  beginning.
* Phones are normalised to ``0xxxxxxxxx`` (see :mod:`sampling.phones`); an invalid
  number (``phone_invalid``, ``phone_scientific``) is a warning when the person can still
  be reached another way (valid e-mail or an address) and excludes the row otherwise.
  Likewise ``email_invalid``. Several numbers in a cell: the first is used
  (``phone_several``, warning).
* Citizens without any phone, e-mail or address are excluded (``no_contact``).
* ``completed_on`` is parsed (see :mod:`sampling.dates`); a date that cannot be read
  (``date_unparseable``) or, under a period, an empty one (``date_missing``) is a warning;
  a date outside the survey period excludes the row (``date_outside_period``), since the
  frame is the people who received a result within the period.
* Names of the kept rows are tidied (see :func:`tidy_names`): spaces collapsed, personal
  names capitalised word by word; the report shows them as written.
* Duplicates within a unit (same dossier code ignoring case and spaces,
  ``duplicate_dossier``; or same name ignoring case and spacing with the same phone number,
  ``duplicate_person``) are kept once, at their first occurrence; later ones are reported
  as merged. Rows already excluded take no part.
"""

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sampling.columns import CANONICAL_ALIASES, CONTACT_COLUMNS
from sampling.dates import parse_dates, parse_two_dates
from sampling.errors import SamplingError
from sampling.groups import DEFAULT_GROUP, group_code
from sampling.phones import PHONE_INVALID, PHONE_SCIENTIFIC, canonical_text, phone_numbers
from sampling.text import (
    as_large_string,
    hash_strings,
    large_string_column,
    normalise_strings,
    rows_with_bytes,
    splitmix64,
    spreadsheet_safe_frame,
    string_buffers,
    take_sorted,
    to_bools,
    transform_rows,
)

KINDS = ("citizens", "officials")
REQUIRED_COLUMNS = {"citizens": ("full_name", "unit"), "officials": ("full_name", "unit")}
ISSUE_COLUMNS = (
    "row", "column", "value", "severity", "action", "code", "reason_vi", "reason_en",
)  # fmt: skip
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
#: Longest text of a cell, in characters, per column; other columns: MAX_CELL_CHARS.
CELL_LIMITS = {
    "full_name": 255, "email": 255, "dossier_code": 120, "position": 255, "group": 64,
    "unit": 255, "phone": 100, "address": 1000,
}  # fmt: skip
#: Excel's limit of a cell.
MAX_CELL_CHARS = 32_767
_SHOWN_CHARS = 60

# Column labels used in messages when the frame has no header of its own for them.
_LABELS = {canonical: aliases[0] for canonical, aliases in CANONICAL_ALIASES.items()}
_LABELS.update(
    full_name="Họ và tên (full_name)",
    phone="Số điện thoại (phone)",
    email="Email (email)",
    address="Địa chỉ (address)",
    unit="Đơn vị (unit)",
    group="Đối tượng (group)",
    position="Chức vụ (position)",
    completed_on="Ngày trả kết quả (completed_on)",
    dossier_code="Mã hồ sơ (dossier_code)",
)


class ValidationError(SamplingError):
    """A frame that cannot be validated at all."""


class InvalidParameterError(ValidationError):
    pass


class MissingColumnsError(ValidationError):
    def __init__(self, missing: list[str], found: list[str]):
        self.missing = missing
        self.found = found
        listed_missing = "; ".join(missing)
        shown = [f"«{name}»" for name in found[:15]]
        if len(found) > 15:
            shown.append(f"… (+{len(found) - 15})")
        listed_found = ", ".join(shown) or "(không có / none)"
        super().__init__(
            f"Thiếu cột bắt buộc: {listed_missing}. Các cột có trong tệp: {listed_found}.",
            f"Required columns missing: {listed_missing}. Columns found in the file: "
            f"{listed_found}.",
        )


class NoValidRowsError(ValidationError):
    """Every row was excluded; ``result`` holds the report saying why."""

    def __init__(self, result: "ValidationResult"):
        self.result = result
        super().__init__(
            f"Không còn dòng hợp lệ nào trong {result.summary['rows_read']:,} dòng đã đọc; "
            "xem báo cáo lỗi để sửa.",
            f"No valid rows remain of the {result.summary['rows_read']:,} rows read; see "
            "the error report to fix them.",
        )


class ReportFormatError(ValidationError):
    def __init__(self, path: str):
        super().__init__(
            f"Không ghi được báo cáo {path}: chỉ hỗ trợ .csv hoặc .xlsx.",
            f"Cannot write report {path}: only .csv or .xlsx are supported.",
        )


# ------------------------------------------------------------------------- results


@dataclass
class ValidationResult:
    """Outcome of :func:`validate_frame`.

    ``valid``: kept rows (canonical ``phone``, lower-case ``email``, ``completed_on`` as
    datetime64, ``source_row`` kept). ``issues``: one row per problem with the columns of
    ``ISSUE_COLUMNS``. ``summary``: counts ``rows_read``, ``blank_rows``, ``valid``,
    ``excluded``, ``duplicates``, ``errors``, ``warnings``.
    """

    valid: pd.DataFrame
    issues: pd.DataFrame
    summary: dict[str, int]
    kind: str = "citizens"
    period: tuple[dt.date, dt.date] | None = None
    source_name: str | None = field(default=None)

    def write_report(self, path: str | Path) -> Path:
        """Write the issues to CSV (UTF-8 with BOM, so Excel shows Vietnamese) or XLSX,
        chosen by the extension. Formula-looking cells are neutralised."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise ReportFormatError(str(path))
        report = spreadsheet_safe_frame(self.issues)
        if suffix == ".csv":
            report.to_csv(path, index=False, encoding="utf-8-sig")
        else:
            summary = pd.DataFrame(
                [(key, value) for key, value in self.summary.items()], columns=["count", "value"]
            )
            with pd.ExcelWriter(path, engine="openpyxl") as writer:
                report.to_excel(writer, sheet_name="issues", index=False)
                spreadsheet_safe_frame(summary).to_excel(writer, sheet_name="summary", index=False)
        return path

    def to_text(self, max_issues: int = 20) -> str:
        """A bilingual summary for the command line, with the first issues listed."""
        s = self.summary
        lines = [
            f"Đã đọc {s['rows_read']:,} dòng (bỏ qua {s['blank_rows']:,} dòng trống). "
            f"Hợp lệ: {s['valid']:,}; bị loại: {s['excluded']:,}; trùng (giữ một): "
            f"{s['duplicates']:,}; lỗi: {s['errors']:,}; cảnh báo: {s['warnings']:,}.",
            f"Read {s['rows_read']:,} rows ({s['blank_rows']:,} blank rows skipped). "
            f"Valid: {s['valid']:,}; excluded: {s['excluded']:,}; duplicates (kept once): "
            f"{s['duplicates']:,}; errors: {s['errors']:,}; warnings: {s['warnings']:,}.",
        ]
        if len(self.issues):
            counts = self.issues.groupby("code", sort=False).size().sort_values(ascending=False)
            lines.append("Vấn đề theo loại / Issues by kind:")
            lines += [f"  {code}: {count:,}" for code, count in counts.items()]
            lines.append("Các vấn đề đầu tiên / First issues:")
            for issue in self.issues.head(max_issues).itertuples(index=False):
                value = "" if pd.isna(issue.value) else f" «{issue.value}»"
                lines.append(
                    f"  Dòng/row {issue.row}, {issue.column}{value}: {issue.reason_vi} / "
                    f"{issue.reason_en}"
                )
            if len(self.issues) > max_issues:
                lines.append(
                    f"  … và {len(self.issues) - max_issues:,} vấn đề khác / and "
                    f"{len(self.issues) - max_issues:,} more."
                )
        return "\n".join(lines)


# ----------------------------------------------------------------------- collector


_REPEATED_TEXTS = ("column", "severity", "action", "code", "reason_vi", "reason_en")


class _Issues:
    """Issues gathered rule by rule as numpy blocks (scalars stay scalars until the end),
    joined, ordered by row and column, with the repeated texts as categoricals."""

    def __init__(self, source_rows: np.ndarray, headers: dict[str, str]):
        self.source_rows = source_rows
        self.headers = headers
        self.blocks: list[tuple[int, dict]] = []

    def label(self, column: str) -> str:
        return self.headers.get(column) or _LABELS.get(column, column)

    def add(self, mask, column, values, severity, action, code, reason_vi, reason_en):
        """Report the rows where mask is true; severity, action and reasons are scalars
        or arrays over all rows or over the rows reported."""
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return
        if values is None:
            cell_values = pa.nulls(len(rows), pa.large_string())
        else:
            cell_values = as_large_string(take_sorted(values, rows))
        block = {
            "row": self.source_rows[rows],
            "column": self.label(column),
            "value": cell_values,
            "severity": _aligned(severity, mask, rows),
            "action": _aligned(action, mask, rows),
            "code": code,
            "reason_vi": _aligned(reason_vi, mask, rows),
            "reason_en": _aligned(reason_en, mask, rows),
            "_order": rows,
        }
        self.blocks.append((len(rows), block))

    def _joined(self, name: str) -> np.ndarray:
        return np.concatenate(
            [
                value if isinstance(value, np.ndarray) else np.full(count, value, dtype=object)
                for count, block in self.blocks
                for value in (block[name],)
            ]
        )

    def frame(self, column_order: list[str]) -> pd.DataFrame:
        if not self.blocks:
            empty = {name: pd.Categorical([]) for name in _REPEATED_TEXTS}
            empty.update(row=np.zeros(0, np.int64), value=pd.array([], dtype="str"))
            return pd.DataFrame({name: empty[name] for name in ISSUE_COLUMNS})
        rank_of = {self.label(name): i for i, name in enumerate(column_order)}
        ranks = np.concatenate(
            [
                np.full(count, rank_of.get(block["column"], len(rank_of)))
                for count, block in self.blocks
            ]
        )
        order = np.lexsort((ranks, self._joined("_order")))
        columns = {"row": self._joined("row")[order]}
        values = pa.concat_arrays([block["value"] for _, block in self.blocks])
        columns["value"] = pd.array(values.take(pa.array(order)), dtype="str")
        for name in _REPEATED_TEXTS:
            columns[name] = self._categorical(name, order)
        return pd.DataFrame({name: columns[name] for name in ISSUE_COLUMNS})

    def _categorical(self, name: str, order: np.ndarray) -> pd.Categorical:
        """Codes built block by block: a scalar is one code, an array is factorized."""
        categories: dict[str, int] = {}
        parts = []
        for count, block in self.blocks:
            value = block[name]
            if isinstance(value, np.ndarray):
                codes, uniques = pd.factorize(value)
                known = [categories.setdefault(text, len(categories)) for text in uniques]
                parts.append(np.asarray(known, dtype=np.int64)[codes])
            else:
                parts.append(np.full(count, categories.setdefault(value, len(categories))))
        return pd.Categorical.from_codes(np.concatenate(parts)[order], categories=list(categories))


def _aligned(value, mask, rows):
    """A scalar, or an array over all rows (taken at rows) or over the rows reported."""
    if isinstance(value, np.ndarray) and len(value) == len(mask) != len(rows):
        return value[rows]
    return value


# -------------------------------------------------------------------------- rules


def _present(values: pa.Array) -> np.ndarray:
    return to_bools(values.is_valid())


def _check_columns(frame, kind, required, period):
    columns = set(frame.columns)
    needed = [*REQUIRED_COLUMNS[kind], *(required or ())]
    # A period needs the completion date column; an empty date cell is only a warning.
    wanted = [*needed, "completed_on"] if period is not None else needed
    missing = [_LABELS.get(name, name) for name in dict.fromkeys(wanted) if name not in columns]
    if kind == "citizens" and not columns & set(CONTACT_COLUMNS):
        missing.append(
            "một cột liên hệ / one contact column: Số điện thoại (phone), Email (email) "
            "hoặc/or Địa chỉ (address)"
        )
    if kind == "officials" and not columns & {"group", "position"}:
        missing.append("Đối tượng (group) hoặc/or Chức vụ (position)")
    if missing:
        headers = frame.attrs.get("source_columns", {})
        found = [headers.get(name, name) for name in frame.columns if name != "source_row"]
        raise MissingColumnsError(missing, found)
    return list(dict.fromkeys(needed))


_KEPT_VI = "; vẫn giữ dòng vì còn cách liên hệ khác."
_KEPT_EN = "; row kept because another way to contact remains."
_EXCLUDED_VI = "; dòng bị loại vì không còn cách liên hệ nào."
_EXCLUDED_EN = "; row excluded: no other way to contact the person."


def _contact_issue(issues, mask, column, values, reachable, code, reason_vi, reason_en):
    """An unusable contact cell: a warning when the person is reachable otherwise."""
    excluded = (~reachable[mask]).astype(np.intp)

    def either(if_kept: str, if_excluded: str) -> np.ndarray:
        # Object arrays sharing two strings (np.where would copy them into every row).
        return np.array([if_kept, if_excluded], dtype=object)[excluded]

    issues.add(
        mask,
        column,
        values,
        either("warning", "error"),
        either("kept", "excluded"),
        code,
        either(reason_vi + _KEPT_VI, reason_vi + _EXCLUDED_VI),
        either(reason_en + _KEPT_EN, reason_en + _EXCLUDED_EN),
    )


def _check_contacts(frame, columns, parsed, issues, contact_required):
    """Phones (national numbers) and canonical e-mails, and the rows left without any way
    of contact."""
    n = len(frame)
    numbers = email = None
    phone_ok = np.zeros(n, dtype=bool)
    email_ok = np.zeros(n, dtype=bool)
    address_ok = _present(columns["address"]) if "address" in columns else np.zeros(n, bool)
    phone_problem = email_problem = np.zeros(n, dtype=bool)
    scientific = several = np.zeros(n, dtype=bool)
    if "phone" in columns:
        numbers, status, several = parsed["phone"]
        phone_ok = status == 0
        scientific = status == PHONE_SCIENTIFIC
        phone_problem = (status == PHONE_INVALID) | scientific
    if "email" in columns:
        email = pc.utf8_lower(columns["email"])
        email_ok = pc.match_substring_regex(email, EMAIL_PATTERN).fill_null(False)
        email_ok = to_bools(email_ok)
        email_problem = _present(email) & ~email_ok
        email = pc.if_else(pa.array(email_ok), email, pa.scalar(None, pa.large_string()))
    reachable = phone_ok | email_ok | address_ok
    if not contact_required:
        reachable = np.ones(n, dtype=bool)
    if "phone" in columns:
        _contact_issue(
            issues, phone_problem & ~scientific, "phone", columns["phone"], reachable,
            "phone_invalid",
            "Số điện thoại không hợp lệ (cần số di động 10 chữ số hoặc số cố định 02x)",
            "Invalid phone number (expected a 10-digit mobile or a 02x landline number)",
        )  # fmt: skip
        _contact_issue(
            issues, scientific, "phone", columns["phone"], reachable, "phone_scientific",
            "Excel đã hiển thị số điện thoại dạng số mũ (ví dụ 9,12E+08) nên mất chữ số; "
            "hãy định dạng cột là Văn bản (Text)",
            "Excel turned the phone number into scientific notation (e.g. 9.12E+08) and "
            "lost digits; format the column as Text",
        )  # fmt: skip
        issues.add(
            several & phone_ok, "phone", columns["phone"], "warning", "kept", "phone_several",
            "Ô có nhiều số điện thoại; dùng số đầu tiên.",
            "Several phone numbers in one cell; the first one is used.",
        )  # fmt: skip
    if "email" in columns:
        _contact_issue(
            issues, email_problem, "email", columns["email"], reachable, "email_invalid",
            "Địa chỉ email không hợp lệ", "Invalid e-mail address",
        )  # fmt: skip
    nothing_written = ~(phone_problem | email_problem) & ~reachable
    contact_column = (
        next(name for name in ("phone", "email", "address") if name in columns)
        if (contact_required)
        else None
    )
    if contact_column:
        issues.add(
            nothing_written, contact_column, None, "error", "excluded", "no_contact",
            "Không có số điện thoại, email hay địa chỉ để liên hệ; dòng bị loại.",
            "No phone number, e-mail or address to contact the person; row excluded.",
        )  # fmt: skip
    return numbers, email, ~reachable


def _check_dates(columns, parsed, issues, period):
    n = len(next(iter(columns.values())))
    if "completed_on" not in columns:
        return None, np.zeros(n, dtype=bool)
    dates, unparsed = parsed["completed_on"]
    issues.add(
        unparsed, "completed_on", columns["completed_on"], "warning", "kept",
        "date_unparseable",
        "Không đọc được ngày (dùng dd/mm/yyyy hoặc yyyy-mm-dd); vẫn giữ dòng.",
        "Date not understood (use dd/mm/yyyy or yyyy-mm-dd); row kept.",
    )  # fmt: skip
    outside = np.zeros(n, dtype=bool)
    if period is not None:
        issues.add(
            ~_present(columns["completed_on"]), "completed_on", None, "warning", "kept",
            "date_missing",
            "Thiếu ngày trả kết quả nên không kiểm tra được kỳ khảo sát; vẫn giữ dòng.",
            "No completion date, so the survey period cannot be checked; row kept.",
        )  # fmt: skip
        start, end = (np.datetime64(day, "D") for day in period)
        outside = ~np.isnat(dates) & ((dates < start) | (dates > end))
        shown = f"{period[0]:%d/%m/%Y}–{period[1]:%d/%m/%Y}"
        issues.add(
            outside, "completed_on", columns["completed_on"], "error", "excluded",
            "date_outside_period",
            f"Ngày nằm ngoài kỳ khảo sát {shown}; dòng bị loại.",
            f"Date outside the survey period {shown}; row excluded.",
        )  # fmt: skip
    return dates, outside


_OTHER_SPACE = np.zeros(256, dtype=bool)
_OTHER_SPACE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D]] = True


def _name_key(names: pa.Array) -> pa.Array:
    """Names compared ignoring case and runs of spaces (collapsed only where present)."""
    folded = pc.utf8_lower(as_large_string(names))
    offsets, data = string_buffers(folded)
    rows = rows_with_bytes(folded, _OTHER_SPACE)
    region = data[offsets[0] : offsets[-1]]
    runs = np.flatnonzero((region[:-1] == 0x20) & (region[1:] == 0x20)) + offsets[0]
    rows[np.searchsorted(offsets, runs, side="right") - 1] = True
    if rows.any():
        selected = pa.array(rows)
        collapsed = pc.replace_substring_regex(folded.filter(selected), r"\s+", " ")
        folded = pc.replace_with_mask(folded, selected, collapsed)
    return folded


def _shared_keys(keys: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Mask of the rows whose key (uint64) occurs more than once, counting only the rows
    marked in ``among`` (all rows when None).

    A count of the keys' top bits (about four buckets per key) clears the keys alone in
    their bucket, about 80% of them, in one pass; only the rest go through pandas' hash
    table: half the time of hashing them all.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    if among is not None:
        rows = np.flatnonzero(among)
        shared = np.zeros(len(keys), dtype=bool)
        shared[rows] = _shared_keys(keys[rows])
        return shared
    # splitmix64 is a bijection: keys stay exact, but lose the regular structure (unit
    # code * 10**11 + number) that crowds buckets and makes pandas' hash table 3-4x slower.
    mixed = splitmix64(keys)
    bits = max((len(keys) * 4).bit_length(), 10)
    bucket = (mixed >> np.uint64(64 - bits)).astype(np.intp)
    crowded = np.flatnonzero(np.bincount(bucket, minlength=1 << bits)[bucket] > 1)
    shared = np.zeros(len(keys), dtype=bool)
    shared[crowded] = pd.Series(mixed[crowded]).duplicated(keep=False).to_numpy()
    return shared


def _repeats(candidates: np.ndarray, coarse_key: np.ndarray, exact_parts: list[pa.Array]):
    """(later rows, their first occurrence) among the ``candidates`` rows sharing a key.

    ``coarse_key`` (int64 per row) finds repeats cheaply: equal values for equal keys,
    rarely for different ones. Those rows are then grouped exactly by the texts in
    ``exact_parts``: full-length arrays indexed by row, or functions giving the texts of
    the rows they are passed (so that costly folding only sees those rows).
    """
    rows = np.flatnonzero(_shared_keys(coarse_key.view(np.uint64), candidates))
    if len(rows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes = {"coarse": coarse_key[rows]}
    for i, part in enumerate(exact_parts):
        texts = as_large_string(part(rows) if callable(part) else take_sorted(part, rows))
        encoded = texts.dictionary_encode().indices
        codes[f"part{i}"] = encoded.fill_null(-1).to_numpy(zero_copy_only=False)
    keys = pd.DataFrame(codes)
    later = keys.duplicated(keep="first").to_numpy()
    first = pd.Series(rows).groupby([keys[c] for c in keys], sort=False).transform("first")
    return rows[later], first.to_numpy()[later]


def _unit_codes(unit: pa.ChunkedArray) -> np.ndarray:
    """An integer code per row, equal for equal unit texts, -1 for missing."""
    if pa.types.is_dictionary(unit.type):  # a categorical: its codes (distinct categories)
        codes = pa.chunked_array([chunk.indices for chunk in unit.chunks], unit.type.index_type)
    else:
        codes = pc.index_in(unit, value_set=pc.unique(unit).drop_null())
    # int32: products with int64 constants below come out as int64.
    return np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int32)


def _check_duplicates(columns, parsed, phone_numbers, issues, candidates, source_rows):
    """Rows repeating an earlier row of the same unit: same dossier code (ignoring case
    and spaces), or same name (ignoring case and spacing) with the same phone number."""
    n = len(candidates)
    unit = columns["unit"]
    unit_codes = _unit_codes(unit)
    searches = {}
    if "dossier_code" in columns:
        searches[("dossier_code", "duplicate_dossier")] = partial(
            _dossier_repeats, columns["dossier_code"], parsed["dossier_code"], unit, unit_codes,
            candidates,
        )  # fmt: skip
    if phone_numbers is not None:
        searches[("full_name", "duplicate_person")] = partial(
            _person_repeats, columns["full_name"], phone_numbers, unit_codes, candidates
        )
    found = [search() for search in searches.values()]
    duplicate = np.zeros(n, dtype=bool)
    for (column, code), (later, first) in zip(searches, found, strict=True):
        new = ~duplicate[later]
        later, first = later[new], first[new]
        duplicate[later] = True
        _report_duplicates(issues, column, code, columns, later, first, source_rows, n)
    return duplicate


def _dossier_repeats(dossier, hashes, unit, unit_codes, candidates):
    coarse = hashes.view(np.int64) ^ (unit_codes * np.int64(0x1F3D5B79))
    return _repeats(
        _present(dossier) & candidates,
        coarse,
        [unit, lambda rows: _dossier_key(take_sorted(dossier, rows))],
    )


def _person_repeats(names, phone_numbers, unit_codes, candidates):
    reachable = (phone_numbers >= 0) & _present(names) & candidates
    # A national number is at most 10 digits: unit and number make an exact int64 key.
    coarse = unit_codes * np.int64(10**11) + phone_numbers
    return _repeats(reachable, coarse, [lambda rows: _name_key(take_sorted(names, rows))])


_NEEDS_FOLDING = np.zeros(256, dtype=bool)
_NEEDS_FOLDING[[ord(" "), *range(ord("a"), ord("z") + 1), *range(0x80, 0x100)]] = True


def _dossier_hashes(dossier: pa.ChunkedArray) -> np.ndarray:
    """hash_strings of each dossier key (see _dossier_key)."""
    return np.concatenate(
        [_folded_hashes(as_large_string(chunk)) for chunk in dossier.chunks]
        or [np.zeros(0, np.uint64)]
    )


def _folded_hashes(codes: pa.Array) -> np.ndarray:
    return hash_strings(_dossier_key(codes))


# The per-cell work that does not depend on other columns; issues are reported later, in
# order, by the rules that use these results.
_CELL_PARSERS = {
    "completed_on": parse_dates,
    "phone": phone_numbers,
    "dossier_code": _dossier_hashes,
}


def _parse_cells(columns) -> dict:
    """Phones, dates and dossier keys, parsed once per column."""
    return {name: parse(columns[name]) for name, parse in _CELL_PARSERS.items() if name in columns}


def _dossier_key(codes):
    """Dossier codes compared ignoring case and spaces (only codes holding a space, a
    lower-case or a non-ASCII letter are rewritten; most are upper-case already)."""
    if isinstance(codes, pa.ChunkedArray):
        return pa.chunked_array([_dossier_key(c) for c in codes.chunks], type=pa.large_string())
    codes = as_large_string(codes)
    return transform_rows(
        codes,
        rows_with_bytes(codes, _NEEDS_FOLDING),
        lambda values: pc.utf8_upper(pc.replace_substring(values, " ", "")),
    )


def _report_duplicates(issues, column, code, columns, later, first, source_rows, n):
    if len(later) == 0:
        return
    order = np.argsort(later)
    mask = np.zeros(n, dtype=bool)
    mask[later] = True
    first_rows = source_rows[first[order]].astype(str).astype(object)
    if code == "duplicate_dossier":
        vi = "Trùng mã hồ sơ với dòng " + first_rows + " trong cùng đơn vị; chỉ giữ dòng đầu."
        en = "Same dossier code as row " + first_rows + " in the same unit; first row kept."
    else:
        vi = (
            "Trùng họ tên và số điện thoại với dòng " + first_rows
            + " trong cùng đơn vị; chỉ giữ dòng đầu."
        )  # fmt: skip
        en = (
            "Same name and phone number as row " + first_rows + " in the same unit; first row kept."
        )
    # vi and en follow the reported rows in row order, as issues.add expects.
    issues.add(mask, column, columns[column], "warning", "merged", code, vi, en)


def _cell_lengths(values: pd.Series, limit: int) -> np.ndarray | None:
    """Characters per cell where the cell may pass ``limit`` (0 elsewhere), or None for
    a column without text. Bytes are counted first: a cell has at least one byte per
    character, so only cells with more bytes than the limit are counted in characters."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if not pd.api.types.is_string_dtype(categories.dtype):
            return None
        per_category = np.append(categories.str.len().to_numpy(dtype=np.int64), 0)
        return per_category[values.cat.codes.to_numpy()]  # code -1 (missing) takes the 0
    if not _is_text(values):
        return None
    text = large_string_column(values.array)
    lengths = np.zeros(len(values), dtype=np.int64)
    start = 0
    for chunk in text.chunks:
        offsets, _ = string_buffers(as_large_string(chunk))
        if len(chunk) and offsets[-1] - offsets[0] > limit:  # else no cell can pass it
            lengths[start : start + len(chunk)] = np.diff(offsets)
        start += len(chunk)
    wide = np.flatnonzero(lengths > limit)
    if len(wide):
        lengths[wide] = pc.utf8_length(take_sorted(text, wide)).to_numpy(zero_copy_only=False)
    return lengths


def _check_cell_lengths(frame: pd.DataFrame, issues) -> np.ndarray:
    too_long = np.zeros(len(frame), dtype=bool)
    for name in frame.columns:
        if name == "source_row":
            continue
        limit = CELL_LIMITS.get(name, MAX_CELL_CHARS)
        lengths = _cell_lengths(frame[name], limit)
        if lengths is None or not (over := lengths > limit).any():
            continue
        rows = np.flatnonzero(over)
        shown = pc.utf8_slice_codeunits(
            as_large_string(take_sorted(large_string_column(frame[name].array), rows)),
            0,
            _SHOWN_CHARS,
        )
        ellipsis = pa.scalar("…", pa.large_string())
        shown = pc.binary_join_element_wise(shown, ellipsis, pa.scalar("", pa.large_string()))
        counts = lengths[rows].astype(str).astype(object)
        issues.add(
            over, name, _scattered(shown, rows, len(frame)), "error", "excluded",
            "cell_too_long",
            "Ô dài " + counts + f" ký tự, vượt giới hạn {limit:,}; dòng bị loại.",
            "Cell has " + counts + f" characters, more than {limit:,}; row excluded.",
        )  # fmt: skip
        too_long |= over
    return too_long


def _scattered(values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """A length-n array holding values at rows, missing elsewhere."""
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(pa.nulls(n, pa.large_string()), pa.array(mask), values)


def _check_required_cells(columns, needed, kind, issues):
    excluded = np.zeros(len(columns["full_name"]), dtype=bool)
    for name in needed:
        empty = ~_present(columns[name])
        label = issues.label(name)
        issues.add(
            empty, name, None, "error", "excluded", "missing_value",
            f"Ô «{label}» trống; thông tin bắt buộc, dòng bị loại.",
            f"Cell «{label}» is empty; it is required, the row is excluded.",
        )  # fmt: skip
        excluded |= empty
    if kind == "officials":
        no_group = np.ones(len(excluded), dtype=bool)
        for name in ("group", "position"):
            if name in columns:
                no_group &= ~_present(columns[name])
        target = "group" if "group" in columns else "position"
        issues.add(
            no_group, target, None, "error", "excluded", "missing_group",
            "Thiếu cả đối tượng và chức vụ; không xác định được nhóm người trả lời; dòng bị loại.",
            "Both group and position are empty; the respondent group is unknown; row "
            "excluded.",
        )  # fmt: skip
        excluded |= no_group
    return excluded


def _check_groups(values, groups: list[str], default: str, issues: _Issues) -> None:
    """Warn about group cells that name none of the campaign's groups (kept as ``default``)."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.large_string())
    unknown = [v for v in pc.unique(values).to_pylist() if v and group_code(v, groups) is None]
    if not unknown:
        return
    mask = to_bools(pc.is_in(values, value_set=pa.array(unknown, pa.large_string())))
    names = ", ".join(groups)
    issues.add(
        mask, "group", values, "warning", "kept", "unknown_group",
        f"Đối tượng không thuộc nhóm nào của đợt khảo sát ({names}); dòng được tính vào nhóm "
        f"{default}. Nếu sai, ghi ví dụ «Cá nhân», «Tổ chức», «Doanh nghiệp», «Cán bộ, công "
        "chức» hoặc mã nhóm.",
        f"The group names none of the campaign's groups ({names}); the row counts in group "
        f"{default}. If that is wrong, write e.g. «Cá nhân», «Tổ chức», «Doanh nghiệp», «Cán "
        "bộ, công chức» or the group's code.",
    )  # fmt: skip


# ------------------------------------------------------------------------ entry point


def _normalised_columns(frame: pd.DataFrame, names) -> dict[str, pa.ChunkedArray]:
    """The columns the rules use, as pyarrow chunks (no copy for a read_frame result)."""
    already = frame.attrs.get("normalised", False)
    columns = {}
    for name in names:
        if name in frame.columns:
            values = frame[name]
            if already and _is_text_categorical(values):
                # Categories already clean: Arrow dictionary over the pandas codes, no copy.
                columns[name] = pa.chunked_array([pa.array(values, from_pandas=True)])
                continue
            columns[name] = large_string_column(
                values.array if already else normalise_strings(_as_text(values))
            )
    return columns


def _is_text_categorical(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
        values.cat.categories.dtype
    )


def _as_text(values: pd.Series):
    if _is_text(values):
        return values.array
    return pa.array([None if pd.isna(v) else str(v) for v in values], type=pa.large_string())


def _period(period) -> tuple[dt.date, dt.date] | None:
    if period is None:
        return None
    start, end = parse_two_dates(*period)
    if start is None or end is None or start > end:
        raise InvalidParameterError(
            f"Kỳ khảo sát không hợp lệ: {period!r} (cần ngày bắt đầu ≤ ngày kết thúc).",
            f"Invalid survey period: {period!r} (start must be a date on or before the end).",
        )
    return start, end


def validate_frame(
    frame: pd.DataFrame,
    *,
    kind: str = "citizens",
    period=None,
    required=None,
    groups=None,
) -> ValidationResult:
    """Validate a frame (usually from :func:`sampling.read_frame`) for sampling.

    ``kind`` is "citizens" (people and organisations who completed a procedure) or
    "officials" (leaders, civil servants and public employees); ``period`` a (start,
    end) pair of dates (or date texts) bounding ``completed_on``; ``required`` extra
    columns that must exist and be filled on every row (e.g. stratification columns);
    ``groups`` the campaign's respondent group codes, to report group cells naming none.

    Raises :class:`MissingColumnsError` when required columns are absent and
    :class:`NoValidRowsError` (carrying the result) when no row survives.
    """
    if kind not in KINDS:
        raise InvalidParameterError(
            f"Loại danh sách không hợp lệ: {kind!r} (citizens hoặc officials).",
            f"Unknown list kind: {kind!r} (citizens or officials).",
        )
    period = _period(period)
    needed = _check_columns(frame, kind, required, period)
    n = len(frame)
    source_rows = (
        frame["source_row"].to_numpy(dtype=np.int64)
        if "source_row" in frame.columns
        else np.arange(2, n + 2, dtype=np.int64)
    )
    used = {
        *needed, *CONTACT_COLUMNS, "dossier_code", "completed_on", "group", "position",
    }  # fmt: skip
    columns = _normalised_columns(frame, [name for name in frame.columns if name in used])
    issues = _Issues(source_rows, frame.attrs.get("source_columns", {}))

    parsed = _parse_cells(columns)
    excluded = _check_required_cells(columns, needed, kind, issues)
    excluded |= _check_cell_lengths(frame, issues)
    if groups is not None and "group" in columns:
        _check_groups(columns["group"], list(groups), DEFAULT_GROUP[kind], issues)
    numbers, email, unreachable = _check_contacts(
        frame, columns, parsed, issues, kind == "citizens"
    )
    dates, outside = _check_dates(columns, parsed, issues, period)
    excluded |= unreachable | outside
    duplicate = _check_duplicates(columns, parsed, numbers, issues, ~excluded, source_rows)

    keep = ~excluded & ~duplicate
    # The copy of the kept rows below is the peak: only what it needs stays alive.
    kept_numbers = None if numbers is None else numbers[keep]
    kept_dates = None if dates is None else dates[keep]
    del parsed, numbers, dates
    issue_table = issues.frame(list(frame.columns))
    valid = _valid_rows(frame, keep, columns, kept_numbers, email, kept_dates)
    blank_rows = int(frame.attrs.get("blank_rows", 0))
    summary = {
        "rows_read": n,
        "blank_rows": blank_rows,
        "valid": int(keep.sum()),
        "excluded": int(excluded.sum()),
        "duplicates": int(duplicate.sum()),
        "errors": int((issue_table["severity"] == "error").sum()),
        "warnings": int((issue_table["severity"] != "error").sum()),
    }
    result = ValidationResult(
        valid=valid,
        issues=issue_table,
        summary=summary,
        kind=kind,
        period=period,
        source_name=frame.attrs.get("source_name"),
    )
    if summary["valid"] == 0:
        raise NoValidRowsError(result)
    return result


#: Words that mark an organisation's name (kept as written, not recapitalised).
_ORGANISATION_WORDS = (
    "công ty", "cty", "tnhh", "cổ phần", "hợp tác xã", "htx", "doanh nghiệp", "dntn",
    "hộ kinh doanh", "chi nhánh", "văn phòng", "ngân hàng", "bệnh viện", "ubnd", "ủy ban",
    "uỷ ban", "hiệp hội", "tổ chức", "cửa hàng", "tập đoàn", "trung tâm", "thcs", "thpt",
    "ltd", "jsc", "corp", "company",
)  # fmt: skip
_SPACES = r"[\s\x{a0}\x{2000}-\x{200a}\x{202f}\x{3000}]+"
# Two spaces in a row, another space character, a small letter starting a word, or two
# capitals in a row: what a tidy name has none of.
_UNTIDY = r"\s\s|[\t\n\r\f\v\x{a0}\x{2000}-\x{200a}\x{202f}\x{3000}]|(?:^|\s)\p{Ll}|\p{Lu}\p{Lu}"
_PERSONAL_NAME = r"^[\p{L}][\p{L}'’\-]*(?: [\p{L}][\p{L}'’\-]*){1,6}$"


def tidy_names(names: pa.ChunkedArray) -> pa.ChunkedArray:
    """Personal names as Vietnamese write them: runs of spaces (tabs, no-break spaces)
    collapsed to one, and each word capitalised ("NGUYỄN VĂN an" -> "Nguyễn Văn An").
    Names of organisations (a word such as "Công ty", "TNHH", "Hộ kinh doanh"), names
    with digits or other signs, and words capitalised inside (McDonald) keep their
    capitals. Text is already NFC.

    Only the names one pass of _UNTIDY picks are looked at further."""
    names = large_string_column(names)
    flagged = to_bools(pc.match_substring_regex(names, _UNTIDY))
    rows = np.flatnonzero(flagged)
    if len(rows) == 0:
        return names
    candidates = pc.replace_substring_regex(as_large_string(take_sorted(names, rows)), _SPACES, " ")
    personal = ~to_bools(pc.utf8_is_title(candidates))
    personal &= to_bools(pc.match_substring_regex(candidates, _PERSONAL_NAME))
    # A capital after a small letter inside a word (McDonald) is written on purpose.
    personal &= ~to_bools(pc.match_substring_regex(candidates, r"\p{Ll}\p{Lu}"))
    folded = pc.utf8_lower(candidates)
    for word in _ORGANISATION_WORDS:
        personal &= ~to_bools(pc.match_substring(folded, word))
    if personal.any():
        titled = pc.utf8_title(candidates.filter(pa.array(personal)))
        candidates = pc.replace_with_mask(candidates, pa.array(personal), titled)
    return _replaced(names, flagged, candidates)


def _replaced(values: pa.ChunkedArray, rows: np.ndarray, replacements) -> pa.ChunkedArray:
    """values with the marked rows replaced, in order."""
    replaced = pc.replace_with_mask(
        as_large_string(values), pa.array(rows), as_large_string(replacements)
    )
    return pa.chunked_array([replaced])


def _valid_rows(frame, keep, columns, kept_numbers, email, kept_dates) -> pd.DataFrame:
    """The kept rows of the frame, with the values validation rewrites: canonical phones,
    e-mails and dates, and every text column of a frame not read by read_frame."""
    mask = pa.array(keep)
    rewritten = {}
    if not frame.attrs.get("normalised", False):
        rewritten.update({name: values.filter(mask) for name, values in columns.items()})
    if "full_name" in columns:
        rewritten["full_name"] = tidy_names(columns["full_name"].filter(mask))
    if email is not None:
        rewritten["email"] = email.filter(mask)
    if kept_numbers is not None:
        rewritten["phone"] = canonical_text(kept_numbers)
    if kept_dates is not None:
        rewritten["completed_on"] = kept_dates.astype("datetime64[s]")
    if "source_row" not in frame.columns:
        frame = frame.assign(source_row=np.arange(2, len(frame) + 2, dtype=np.int64))
    kept = {
        name: rewritten[name] if name in rewritten else _kept_values(frame[name], keep, mask)
        for name in frame.columns
    }
    valid = pd.DataFrame(
        {
            name: _str_series(values) if isinstance(values, pa.ChunkedArray) else values
            for name, values in kept.items()
        }
    )
    valid.attrs = dict(frame.attrs)
    return valid


def _kept_values(values: pd.Series, keep: np.ndarray, mask: pa.Array):
    """values[keep]: text filtered by Arrow chunk by chunk (pandas' take would first copy
    the chunks of the column into one), other columns by numpy."""
    if _is_text(values):
        return large_string_column(values.array).filter(mask)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(values.cat.codes.to_numpy()[keep], dtype=values.dtype)
    return values.array[keep]


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype) and values.dtype != object


def _str_series(values: pa.ChunkedArray) -> pd.Series:
    """A pandas str column over the arrow data (no copy)."""
    return pd.Series(values.to_pandas().array, dtype="str")


def duplicates_across(earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``later`` repeating a row of ``earlier``: another file of the same unit's list,
    by the rules of :func:`validate_frame` (same dossier code ignoring case and spaces, or
    same name ignoring case and spacing with the same phone number). Both frames hold valid
    rows (names tidied, phones canonical, as ``ValidationResult.valid`` or stored).

    Returns one row per repeated row of ``later``: ``later`` and ``earlier`` (positions in
    each frame; the first matching earlier row), ``column`` and ``code``
    (``duplicate_dossier`` is looked for first, then ``duplicate_person``).
    """
    found = []
    taken = np.zeros(len(later), dtype=bool)
    for column, code in (("dossier_code", "duplicate_dossier"), ("full_name", "duplicate_person")):
        earlier_keys, later_keys = _across_keys(earlier, column), _across_keys(later, column)
        if earlier_keys is None or later_keys is None:
            continue
        first = (
            pd.DataFrame({"key": earlier_keys, "earlier": np.arange(len(earlier))})
            .dropna()
            .drop_duplicates("key")
        )
        repeats = pd.DataFrame({"key": later_keys, "later": np.arange(len(later))}).dropna()
        matched = repeats.merge(first, on="key").sort_values("later")
        matched = matched[~taken[matched["later"].to_numpy()]]
        taken[matched["later"].to_numpy()] = True
        found.append(
            matched.assign(column=column, code=code)[["later", "earlier", "column", "code"]]
        )
    if not found:
        return pd.DataFrame(columns=["later", "earlier", "column", "code"])
    return pd.concat(found, ignore_index=True).sort_values("later", ignore_index=True)


def _text_array(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """A column as a large_string array ("" for missing) and the mask of filled cells."""
    texts = values.astype(object).where(values.notna(), "").astype(str)
    return pa.array(texts.tolist(), pa.large_string()), (texts != "").to_numpy()


def _across_keys(frame: pd.DataFrame, column: str) -> pd.Series | None:
    """The duplicate key of each row for ``column``'s rule (missing where it has none)."""
    if column == "dossier_code":
        if "dossier_code" not in frame.columns:
            return None
        codes, filled = _text_array(frame["dossier_code"])
        keys = pd.Series(_dossier_key(codes).to_pylist(), dtype=object)
        return keys.where(filled, None)
    if "full_name" not in frame.columns or "phone" not in frame.columns:
        return None
    names, named = _text_array(frame["full_name"])
    phones, reachable = _text_array(frame["phone"])
    keys = pd.Series(_name_key(names).to_pylist(), dtype=object) + "\x1f" + phones.to_pylist()
    return keys.where(named & reachable, None)
