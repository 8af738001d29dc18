"""Reading and validating responses: one row per response ("wide" layout).

Layout (CSV, XLSX, SPSS .sav, or a pandas DataFrame), one column per:

=================  =====================================================================
``response_id``    unique identifier of the response (not linkable to a person)
``unit``           code of the rated unit (sở, UBND xã, ...)
``group``          respondent group (e.g. ``individual``, ``organisation``, ``leader``)
``stratum``        sampling stratum (usually unit × group)
``weight``         sampling weight after nonresponse adjustment (``sampling``); may be
                   absent only with ``unweighted=True``; may be empty for walk-in rows
``mode``           optional: collection mode (phone, web, paper, visit, ...)
``is_probability`` optional (default true): false for walk-in (non-probability) answers
``inclusion_prob`` optional: the respondent's inclusion probability in the draw (needed
                   for a PPS draw's standard errors: 1 marks a unit taken with certainty)
<item code>        one column per scale item / question, answer codes as numbers;
                   empty = no answer
=================  =====================================================================

Columns that look like personal data (names, phones, e-mail, addresses, dossier codes,
tokens; :data:`PII_COLUMNS`) are dropped on reading and never reach any output; other
unknown columns are ignored.

:func:`prepare_responses` returns a clean DataFrame: the standard columns typed (``weight``
float64, ``is_probability`` bool), every scale item as ``int8`` with **0 meaning no
answer**, other variables kept (text NFC-normalised). The estimators expect this frame.
Every problem of a file is reported at once: missing columns, and each bad cell by its
spreadsheet row (header = row 1), column and value, in Vietnamese and English
(:class:`~scoring_bridge.errors.ResponsesError`'s ``problems`` lists them all).
"""

from __future__ import annotations

import difflib
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring_bridge.errors import ResponseProblem, ResponsesError
from scoring_bridge.spec import SurveySpec

ID_COLUMNS = ("response_id", "unit", "group", "stratum")
STANDARD_COLUMNS = (*ID_COLUMNS, "weight", "mode", "is_probability", "inclusion_prob")
PII_COLUMNS = frozenset(
    {
        "name",
        "full_name",
        "ho_ten",
        "phone",
        "phone_number",
        "so_dien_thoai",
        "email",
        "e_mail",
        "address",
        "dia_chi",
        "dossier",
        "dossier_code",
        "ma_ho_so",
        "token",
        "id_number",
        "cccd",
        "cmnd",
    }
)
_TRUE = frozenset({"1", "true", "t", "yes", "y", "có", "co", "x"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "không", "khong", ""})
_MAX_LISTED = 20  # rows named per column and problem in the message; ``problems`` has all


def read_responses_file(path: str | Path) -> pd.DataFrame:
    """Read a responses file (``.csv``, ``.xlsx``, ``.sav``) as raw columns, no validation."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ResponsesError(
            f"Không tìm thấy tệp trả lời {path}.", f"Responses file {path} not found."
        )
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, engine="calamine", dtype=object)
        if suffix == ".sav":
            import pyreadstat

            frame, _meta = pyreadstat.read_sav(str(path))
            return frame
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise ResponsesError(
            f"Không đọc được tệp {path.name}: {exc}", f"Cannot read {path.name}: {exc}"
        ) from exc
    raise ResponsesError(
        f"Định dạng tệp {suffix or '(không có đuôi)'} không được hỗ trợ; dùng .csv, .xlsx hoặc .sav.",
        f"File type {suffix or '(none)'} is not supported; use .csv, .xlsx or .sav.",
        value=suffix,
    )


def prepare_responses(
    source: pd.DataFrame | str | Path,
    spec: SurveySpec,
    *,
    unweighted: bool = False,
) -> pd.DataFrame:
    """Validate responses against the questionnaire and return the clean frame.

    ``source`` is a DataFrame (e.g. from the service's database) or a file path. With
    ``unweighted=True`` a missing ``weight`` column is allowed and every weight is 1.
    Raises :class:`~scoring_bridge.errors.ResponsesError` listing every problem at once
    (missing columns, and each bad cell by row, column and value, in ``problems``).
    """
    raw = source.copy() if isinstance(source, pd.DataFrame) else read_responses_file(source)
    raw.columns = [unicodedata.normalize("NFC", str(c)).strip() for c in raw.columns]
    raw = raw.drop(columns=[c for c in raw.columns if c.lower() in PII_COLUMNS])
    raw = raw.reset_index(drop=True)
    required = [*ID_COLUMNS, *([] if unweighted else ["weight"]), *spec.item_codes]
    check = _Check(raw)
    _check_columns(check, required, spec)
    _check_duplicate_ids(check)

    clean = pd.DataFrame(index=raw.index)
    for column in ID_COLUMNS:
        if column in raw:
            clean[column] = _text_codes(check, column)
    clean["mode"] = _text_codes(check, "mode", allow_empty=True) if "mode" in raw else ""
    is_probability = _booleans(check, "is_probability") if "is_probability" in raw else True
    clean["is_probability"] = is_probability
    if "weight" not in raw:
        clean["weight"] = 1.0
    else:
        clean["weight"] = _weights(check, clean["is_probability"].to_numpy())
    if "inclusion_prob" in raw:
        clean["inclusion_prob"] = _probabilities(check)
    for item in spec.items:
        if item.code in raw:
            clean[item.code] = _item_codes(check, item.code, item.allowed_codes())
    for variable in spec.others:
        if variable.code in raw:
            clean[variable.code] = _other_values(check, variable)
    check.raise_if_any()
    return clean


class _Check:
    """The raw frame being read and every problem found in it so far."""

    def __init__(self, raw: pd.DataFrame):
        self.raw = raw
        self.missing_vi: list[str] = []
        self.missing_en: list[str] = []
        self.missing_column: str | None = None
        self.groups: list[tuple[str, np.ndarray, str, str]] = []  # column, positions, vi, en

    def fail(self, column: str, positions: np.ndarray, problem_vi: str, problem_en: str):
        """Record a problem of these rows of ``column`` (reported with the others)."""
        self.groups.append((column, positions, problem_vi, problem_en))

    def problems(self) -> list[ResponseProblem]:
        ids = self.raw.get("response_id")
        out = []
        for column, positions, vi, en in self.groups:
            for p in positions:
                out.append(
                    ResponseProblem(
                        _row_number(p),
                        column,
                        self.raw[column].iloc[p],
                        vi,
                        en,
                        None if ids is None else ids.iloc[p],
                    )
                )
        return sorted(out, key=lambda problem: problem.row)

    def raise_if_any(self) -> None:
        if not self.missing_vi and not self.groups:
            return
        problems = self.problems()
        parts_vi = [f"thiếu cột: {'; '.join(self.missing_vi)}"] if self.missing_vi else []
        parts_en = [f"missing columns: {'; '.join(self.missing_en)}"] if self.missing_en else []
        for column, positions, vi, en in self.groups:
            where = self.where(column, positions)
            parts_vi.append(f"cột '{column}': {vi} — {where('dòng')}")
            parts_en.append(f"Column '{column}': {en} — {where('row')}")
        first = problems[0] if problems else None
        error = ResponsesError(
            f"Tệp trả lời có {len(problems) + len(self.missing_vi)} lỗi: "
            + "; ".join(parts_vi)
            + ".",
            f"Responses: {len(problems) + len(self.missing_en)} problem(s): "
            + "; ".join(parts_en)
            + ".",
            row=None if self.missing_column or first is None else first.row,
            column=self.missing_column or (first.column if first else None),
            value=None if self.missing_column or first is None else first.value,
        )
        error.problems = problems
        raise error

    def where(self, column: str, positions: np.ndarray):
        shown = positions[:_MAX_LISTED]
        more = len(positions) - len(shown)

        def text(word: str) -> str:
            listed = "; ".join(
                f"{word} {_row_number(p)}"
                + (
                    f" (response_id {self.raw['response_id'].iloc[p]})"
                    if "response_id" in self.raw
                    else ""
                )
                + f": {self.raw[column].iloc[p]!r}"
                for p in shown
            )
            return listed + (f" (+{more})" if more else "")

        return text


def _check_columns(check: _Check, required: list[str], spec: SurveySpec) -> None:
    present = list(check.raw.columns)
    known = set(STANDARD_COLUMNS) | set(spec.item_codes) | {v.code for v in spec.others}
    unexpected = [c for c in present if c not in known]
    for column in required:
        if column in present:
            continue
        guess = difflib.get_close_matches(column, unexpected, n=1, cutoff=0.6)
        if not guess:
            lowered = {c.lower(): c for c in unexpected}
            guess = [lowered[column.lower()]] if column.lower() in lowered else []
        hint_vi = f" (có phải cột '{guess[0]}' bị đổi tên?)" if guess else ""
        hint_en = f" (was it renamed to '{guess[0]}'?)" if guess else ""
        check.missing_vi.append(f"'{column}'{hint_vi}")
        check.missing_en.append(f"'{column}'{hint_en}")
        check.missing_column = check.missing_column or column


def _row_number(position: int) -> int:
    """Spreadsheet row of a data row: the header is row 1."""
    return int(position) + 2


def _as_text(series: pd.Series) -> pd.Series:
    """Codes as NFC strings; spreadsheet numbers like 101.0 become '101', empty cells ''.

    Converts each distinct value once (units, groups and strata repeat a lot).
    """

    def one(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return unicodedata.normalize("NFC", str(value)).strip()

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = np.array([one(v) for v in uniques] + [""], dtype=object)
    return pd.Series(labels[codes], index=series.index, dtype=object)


def _text_codes(check: _Check, column: str, *, allow_empty: bool = False) -> pd.Series:
    series = check.raw[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    values = _as_text(series)
    if not allow_empty:
        empty = np.flatnonzero((values == "").to_numpy())
        if empty.size:
            check.fail(column, empty, "giá trị trống", "empty value")
    return values


def _check_duplicate_ids(check: _Check) -> None:
    if "response_id" not in check.raw:
        return
    ids = _as_text(check.raw["response_id"])
    duplicated = np.flatnonzero((ids.duplicated(keep=False) & (ids != "")).to_numpy())
    if duplicated.size:
        check.fail("response_id", duplicated, "mã phiếu bị trùng", "duplicate response id")


def _numbers(check: _Check, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Column as float64 with NaN for empty cells, and which cells are text that is not a
    number (recorded as problems; NaN in the numbers)."""
    series = check.raw[column]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return numbers, np.zeros(len(numbers), dtype=bool)
    text = _as_text(series)
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    unreadable = (numbers.isna() & (text != "")).to_numpy()
    if unreadable.any():
        check.fail(column, np.flatnonzero(unreadable), "không phải là số", "not a number")
    return numbers.to_numpy(dtype=np.float64), unreadable


def _weights(check: _Check, is_probability: np.ndarray) -> np.ndarray:
    weights, unreadable = _numbers(check, "weight")
    missing = np.flatnonzero(np.isnan(weights) & is_probability & ~unreadable)
    if missing.size:
        check.fail(
            "weight",
            missing,
            "thiếu trọng số (cần trọng số sau điều chỉnh không trả lời, hoặc chạy không trọng số)",
            "weight missing (give the nonresponse-adjusted weight, or run unweighted)",
        )
    bad = np.flatnonzero(~np.isnan(weights) & ~(np.isfinite(weights) & (weights > 0)))
    if bad.size:
        check.fail("weight", bad, "trọng số phải là số dương", "weight must be a positive number")
    return weights


def _probabilities(check: _Check) -> np.ndarray:
    values, _ = _numbers(check, "inclusion_prob")
    bad = np.flatnonzero(~np.isnan(values) & ~((values > 0) & (values <= 1 + 1e-9)))
    if bad.size:
        check.fail(
            "inclusion_prob",
            bad,
            "xác suất chọn phải lớn hơn 0 và không quá 1",
            "an inclusion probability must be above 0 and at most 1",
        )
    return np.minimum(values, 1.0)


def _booleans(check: _Check, column: str) -> np.ndarray:
    series = check.raw[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    text = _as_text(series).str.lower()
    truthy = text.isin(_TRUE).to_numpy()
    bad = np.flatnonzero(~truthy & ~text.isin(_FALSE).to_numpy())
    if bad.size:
        check.fail(column, bad, "cần giá trị đúng/sai (1/0)", "expected true/false (1/0)")
    return truthy


def _item_codes(check: _Check, column: str, allowed: frozenset[int]) -> np.ndarray:
    numbers, _ = _numbers(check, column)
    answered = ~np.isnan(numbers)
    lookup = np.zeros(256, dtype=bool)
    lookup[list(allowed)] = True
    whole = np.where(answered, numbers, 0.0)
    in_range = (whole >= 0) & (whole <= 255) & (whole == np.floor(whole))
    ok = ~answered | (in_range & lookup[np.where(in_range, whole, 0).astype(np.intp)])
    bad = np.flatnonzero(~ok)
    if bad.size:
        codes = ", ".join(str(c) for c in sorted(allowed))
        check.fail(
            column,
            bad,
            f"giá trị ngoài thang đo (mã hợp lệ: {codes})",
            f"value out of range for the item's scale (valid codes: {codes})",
        )
    return np.where(ok, whole, 0.0).astype(np.int8)


def _other_values(check: _Check, variable: Any) -> pd.Series:
    raw = check.raw
    if variable.kind == "text":
        return _as_text(raw[variable.code])
    if variable.kind == "date":
        return _as_text(raw[variable.code])
    numbers, _ = _numbers(check, variable.code)
    if variable.kind == "choice" and variable.value_labels:
        allowed = set(variable.value_labels) | set(variable.missing_codes)
        answered = ~np.isnan(numbers)
        bad = np.flatnonzero(answered & ~np.isin(np.where(answered, numbers, -1), list(allowed)))
        if bad.size:
            codes = ", ".join(str(c) for c in sorted(allowed))
            check.fail(
                variable.code,
                bad,
                f"mã không có trong danh sách lựa chọn ({codes})",
                f"unknown code (valid codes: {codes})",
            )
        return pd.Series(numbers, index=raw.index).astype("Int64")
    return pd.Series(numbers, index=raw.index)
