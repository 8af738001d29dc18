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
Errors name the spreadsheet row (header = row 1), the column and the value, in Vietnamese
and English.
"""

from __future__ import annotations

import difflib
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring_bridge.errors import ResponsesError
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
_MAX_REPORTED = 5


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
    Raises :class:`~scoring_bridge.errors.ResponsesError` naming row, column and value.
    """
    raw = source.copy() if isinstance(source, pd.DataFrame) else read_responses_file(source)
    raw.columns = [unicodedata.normalize("NFC", str(c)).strip() for c in raw.columns]
    raw = raw.drop(columns=[c for c in raw.columns if c.lower() in PII_COLUMNS])
    raw = raw.reset_index(drop=True)
    required = [*ID_COLUMNS, *([] if unweighted else ["weight"]), *spec.item_codes]
    _check_columns(raw, required, spec)
    _check_duplicate_ids(raw)

    clean = pd.DataFrame(index=raw.index)
    for column in ID_COLUMNS:
        clean[column] = _text_codes(raw, column)
    clean["mode"] = _text_codes(raw, "mode", allow_empty=True) if "mode" in raw else ""
    clean["is_probability"] = _booleans(raw, "is_probability") if "is_probability" in raw else True
    if unweighted and "weight" not in raw:
        clean["weight"] = 1.0
    else:
        clean["weight"] = _weights(raw, clean["is_probability"].to_numpy())
    if "inclusion_prob" in raw:
        clean["inclusion_prob"] = _probabilities(raw)
    for item in spec.items:
        clean[item.code] = _item_codes(raw, item.code, item.allowed_codes())
    for variable in spec.others:
        if variable.code in raw:
            clean[variable.code] = _other_values(raw, variable)
    return clean


def _check_columns(raw: pd.DataFrame, required: list[str], spec: SurveySpec) -> None:
    present = list(raw.columns)
    known = set(STANDARD_COLUMNS) | set(spec.item_codes) | {v.code for v in spec.others}
    unexpected = [c for c in present if c not in known]
    problems_vi, problems_en = [], []
    for column in required:
        if column in present:
            continue
        guess = difflib.get_close_matches(column, unexpected, n=1, cutoff=0.6)
        if not guess:
            lowered = {c.lower(): c for c in unexpected}
            guess = [lowered[column.lower()]] if column.lower() in lowered else []
        hint_vi = f" (có phải cột '{guess[0]}' bị đổi tên?)" if guess else ""
        hint_en = f" (was it renamed to '{guess[0]}'?)" if guess else ""
        problems_vi.append(f"thiếu cột '{column}'{hint_vi}")
        problems_en.append(f"column '{column}' is missing{hint_en}")
    if problems_vi:
        first = next(c for c in required if c not in present)
        raise ResponsesError(
            "Tệp trả lời: " + "; ".join(problems_vi[:_MAX_REPORTED]) + ".",
            "Responses: " + "; ".join(problems_en[:_MAX_REPORTED]) + ".",
            column=first,
        )


def _row_number(position: int) -> int:
    """Spreadsheet row of a data row: the header is row 1."""
    return int(position) + 2


def _fail(raw: pd.DataFrame, column: str, positions: np.ndarray, problem_vi: str, problem_en: str):
    shown = positions[:_MAX_REPORTED]
    values = [raw[column].iloc[p] for p in shown]
    ids = raw["response_id"].iloc[shown].tolist() if "response_id" in raw else [None] * len(shown)
    where_vi = "; ".join(
        f"dòng {_row_number(p)} (response_id {i}): {v!r}"
        for p, i, v in zip(shown, ids, values, strict=True)
    )
    where_en = "; ".join(
        f"row {_row_number(p)} (response_id {i}): {v!r}"
        for p, i, v in zip(shown, ids, values, strict=True)
    )
    more = f" (+{len(positions) - len(shown)})" if len(positions) > len(shown) else ""
    raise ResponsesError(
        f"Cột '{column}': {problem_vi} — {where_vi}{more}.",
        f"Column '{column}': {problem_en} — {where_en}{more}.",
        row=_row_number(positions[0]),
        column=column,
        value=values[0],
    )


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


def _text_codes(raw: pd.DataFrame, column: str, *, allow_empty: bool = False) -> pd.Series:
    series = raw[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    values = _as_text(series)
    if not allow_empty:
        empty = np.flatnonzero((values == "").to_numpy())
        if empty.size:
            _fail(raw, column, empty, "giá trị trống", "empty value")
    return values


def _check_duplicate_ids(raw: pd.DataFrame) -> None:
    if "response_id" not in raw:
        return
    ids = _as_text(raw["response_id"])
    duplicated = np.flatnonzero(ids.duplicated(keep=False).to_numpy())
    if duplicated.size:
        _fail(raw, "response_id", duplicated, "mã phiếu bị trùng", "duplicate response id")


def _numbers(raw: pd.DataFrame, column: str) -> np.ndarray:
    """Column as float64 with NaN for empty cells; text that is not a number fails."""
    series = raw[column]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    text = _as_text(series)
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    bad = np.flatnonzero((numbers.isna() & (text != "")).to_numpy())
    if bad.size:
        _fail(raw, column, bad, "không phải là số", "not a number")
    return numbers.to_numpy(dtype=np.float64)


def _weights(raw: pd.DataFrame, is_probability: np.ndarray) -> np.ndarray:
    weights = _numbers(raw, "weight")
    missing = np.flatnonzero(np.isnan(weights) & is_probability)
    if missing.size:
        _fail(
            raw,
            "weight",
            missing,
            "thiếu trọng số (cần trọng số sau điều chỉnh không trả lời, hoặc chạy không trọng số)",
            "weight missing (give the nonresponse-adjusted weight, or run unweighted)",
        )
    bad = np.flatnonzero(~np.isnan(weights) & ~(np.isfinite(weights) & (weights > 0)))
    if bad.size:
        _fail(raw, "weight", bad, "trọng số phải là số dương", "weight must be a positive number")
    return weights


def _probabilities(raw: pd.DataFrame) -> np.ndarray:
    values = _numbers(raw, "inclusion_prob")
    bad = np.flatnonzero(~np.isnan(values) & ~((values > 0) & (values <= 1 + 1e-9)))
    if bad.size:
        _fail(
            raw,
            "inclusion_prob",
            bad,
            "xác suất chọn phải lớn hơn 0 và không quá 1",
            "an inclusion probability must be above 0 and at most 1",
        )
    return np.minimum(values, 1.0)


def _booleans(raw: pd.DataFrame, column: str) -> np.ndarray:
    series = raw[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    text = _as_text(series).str.lower()
    truthy = text.isin(_TRUE).to_numpy()
    bad = np.flatnonzero(~truthy & ~text.isin(_FALSE).to_numpy())
    if bad.size:
        _fail(raw, column, bad, "cần giá trị đúng/sai (1/0)", "expected true/false (1/0)")
    return truthy


def _item_codes(raw: pd.DataFrame, column: str, allowed: frozenset[int]) -> np.ndarray:
    numbers = _numbers(raw, column)
    answered = ~np.isnan(numbers)
    lookup = np.zeros(256, dtype=bool)
    lookup[list(allowed)] = True
    whole = np.where(answered, numbers, 0.0)
    in_range = (whole >= 0) & (whole <= 255) & (whole == np.floor(whole))
    ok = ~answered | (in_range & lookup[np.where(in_range, whole, 0).astype(np.intp)])
    bad = np.flatnonzero(~ok)
    if bad.size:
        codes = ", ".join(str(c) for c in sorted(allowed))
        _fail(
            raw,
            column,
            bad,
            f"giá trị ngoài thang đo (mã hợp lệ: {codes})",
            f"value out of range for the item's scale (valid codes: {codes})",
        )
    return whole.astype(np.int8)


def _other_values(raw: pd.DataFrame, variable: Any) -> pd.Series:
    if variable.kind == "text":
        return _as_text(raw[variable.code])
    if variable.kind == "date":
        return _as_text(raw[variable.code])
    numbers = _numbers(raw, variable.code)
    if variable.kind == "choice" and variable.value_labels:
        allowed = set(variable.value_labels) | set(variable.missing_codes)
        answered = ~np.isnan(numbers)
        bad = np.flatnonzero(answered & ~np.isin(np.where(answered, numbers, -1), list(allowed)))
        if bad.size:
            codes = ", ".join(str(c) for c in sorted(allowed))
            _fail(
                raw,
                variable.code,
                bad,
                f"mã không có trong danh sách lựa chọn ({codes})",
                f"unknown code (valid codes: {codes})",
            )
        return pd.Series(numbers, index=raw.index).astype("Int64")
    return pd.Series(numbers, index=raw.index)
