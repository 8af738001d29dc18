"""Dates as Vietnamese lists write them: day first (dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy,
dd.mm.yyyy), ISO (yyyy-mm-dd, with or without a time), Excel serial day numbers (a date
cell that lost its format) and date cells of a workbook (read as ISO text).

A column of a million dates holds a few hundred distinct values, so each distinct text is
parsed once and the result spread back with the dictionary codes.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sampling.text import large_string_column

_DAY_FIRST_AND_ISO_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
_TIME_SUFFIX = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$"
_EXCEL_SERIAL = r"^\d{5}(?:\.\d+)?$"
# Excel's day 0 is 1899-12-30 once its 1900 leap-year bug is accounted for.
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def _parse_distinct(texts: pd.Series) -> np.ndarray:
    """datetime64[D] for each distinct text, NaT where no format fits."""
    dates = texts.str.replace(_TIME_SUFFIX, "", regex=True)
    result = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[s]")
    for date_format in _DAY_FIRST_AND_ISO_FORMATS:
        missing = result.isna()
        if not missing.any():
            break
        result[missing] = pd.to_datetime(dates[missing], format=date_format, errors="coerce")
    serial = result.isna() & dates.str.fullmatch(_EXCEL_SERIAL)
    if serial.any():
        days = dates[serial].astype(float).astype(np.int64).to_numpy()
        result[serial] = _EXCEL_EPOCH + days.astype("timedelta64[D]")
    return result.to_numpy().astype("datetime64[D]")


def parse_dates(values) -> tuple[np.ndarray, np.ndarray]:
    """(dates as datetime64[D] with NaT, mask of present cells that could not be parsed)."""
    # One hash pass: the chunks share one dictionary once unified.
    encoded = pc.dictionary_encode(large_string_column(values)).unify_dictionaries()
    distinct_texts = (
        encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.large_string())
    )
    parsed_distinct = _parse_distinct(pd.Series(distinct_texts.to_pylist(), dtype="str"))
    codes = pa.chunked_array([chunk.indices for chunk in encoded.chunks], pa.int32())
    codes = codes.fill_null(-1).to_numpy(zero_copy_only=False)
    # Code -1 (a missing cell) takes the appended last entry: NaT, not "unparsed".
    dates = np.append(parsed_distinct, np.datetime64("NaT"))[codes]
    unparsed = np.append(np.isnat(parsed_distinct), False)[codes]
    return dates, unparsed


def parse_date(value: object) -> dt.date | None:
    """One date (text in any accepted format, date or datetime), or None."""
    return parse_two_dates(value, None)[0]


def parse_two_dates(first: object, second: object) -> tuple[dt.date | None, dt.date | None]:
    """:func:`parse_date` of both, texts parsed in one pass (a period's bounds)."""
    values = [first, second]
    texts = {
        i: str(value).strip()
        for i, value in enumerate(values)
        if value is not None and not isinstance(value, dt.date)
    }
    if texts:
        dates, _ = parse_dates(pa.array(list(texts.values()), type=pa.large_string()))
        for i, day in zip(texts, dates, strict=True):
            values[i] = None if np.isnat(day) else day.astype(dt.date)
    return tuple(v.date() if isinstance(v, dt.datetime) else v for v in values)
