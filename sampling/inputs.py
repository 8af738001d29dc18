"""What a person types to describe a draw, parsed once for the command line and the web.

* :func:`parse_reserve`: spares per stratum, ``2`` (a count), ``0.2``, ``0,2`` or ``20%``
  (a ratio of ``n_h``);
* :func:`parse_sd_table`: the standard deviation of every stratum for Neyman allocation,
  one ``stratum,sd`` line each (a CSV file's text or a text box), an optional
  ``stratum,sd`` header, tab- or semicolon-separated text from a spreadsheet with a
  decimal comma;
* :data:`DAY_FORMATS`: dates typed by a person (dd/mm/yyyy first, as written in Vietnam;
  also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy and ISO), read by WTForms' ``DateField`` on the
  web and click's ``DateTime`` on the command line;
* :data:`DESIGN_DEFAULTS`: the defaults of the design options both front ends offer;
* :func:`with_unit`: a one-unit list needs no unit column.
"""

from __future__ import annotations

import csv
import math
import unicodedata

import pandas as pd

from sampling.draw import MIN_PER_DOMAIN, DesignError

DAY_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")

# The design options of `surveyapp sample plan|draw` and of the web draw page start from
# these values. n and the margin apply per stratum unless asked otherwise (sizes per unit
# are the practice), with the Ministry's Yamane formula.
DESIGN_DEFAULTS = {
    "per_stratum": True,
    "rule": "yamane",
    "confidence": 0.95,
    "allocation": "proportional",
    "min_per_stratum": 0,
    "min_per_domain": MIN_PER_DOMAIN,
    "reserve": "0",
}


def _number(text: str) -> float:
    value = float(text.strip().replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_reserve(text: str | int | float | None) -> int | float:
    """Spares per stratum: a count (``"2"``) or a ratio of ``n_h`` (``"0.2"``, ``"0,2"``,
    ``"20%"``). Empty means none. A :class:`DesignError` names the accepted forms."""
    if isinstance(text, bool):
        text = str(text)
    if isinstance(text, int | float):
        value = text
    else:
        typed = (text or "0").strip()
        try:
            if typed.endswith("%"):
                value = _number(typed[:-1]) / 100
            elif any(mark in typed for mark in ".,eE"):
                value = _number(typed)
            else:
                value = int(typed)
        except ValueError:
            value = -1
    if value < 0 or (isinstance(value, float) and not math.isfinite(value)):
        raise DesignError(
            f"Dự phòng «{text}» không hợp lệ: nhập số người mỗi tầng (ví dụ 2) hoặc tỷ lệ "
            "(ví dụ 0.2 hay 20%).",
            f"Reserve «{text}» is not valid: give spares per stratum (e.g. 2) or a ratio "
            "(e.g. 0.2 or 20%).",
        )
    return value


def _delimiter(lines: list[str]) -> str:
    if any("\t" in line for line in lines):
        return "\t"
    if all(";" in line for line in lines):
        return ";"
    return ","


def parse_sd_table(text: str | None) -> dict[str, float]:
    """``{stratum label: S_h}`` from lines ``stratum,sd``.

    The label is everything before the last separator (so ``XA01 | citizen,0.4`` and a
    quoted ``"Sở A, B",1.2`` both work), NFC and trimmed as the frame's labels are. An
    optional header ``stratum,sd`` is skipped. Every bad line is reported at once in a
    :class:`DesignError` (line number, what was found).
    """
    text = (text or "").lstrip("\ufeff")
    numbered = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not numbered:
        return {}
    delimiter = _delimiter([line for _, line in numbered])
    values: dict[str, float] = {}
    problems_vi, problems_en = [], []
    for index, (number, line) in enumerate(numbered):
        cells = next(csv.reader([line], delimiter=delimiter))
        label = unicodedata.normalize("NFC", delimiter.join(cells[:-1])).strip()
        sd = cells[-1].strip() if len(cells) > 1 else ""
        if index == 0 and (label.lower(), sd.lower()) == ("stratum", "sd"):
            continue  # the header of a CSV file
        try:
            value = _number(sd)
        except ValueError:
            value = -1.0
        if not label or value < 0:
            problems_vi.append(f"dòng {number} «{line.strip()}»")
            problems_en.append(f"line {number} «{line.strip()}»")
            continue
        if label in values and values[label] != value:
            problems_vi.append(f"dòng {number}: tầng {label} đã có độ lệch chuẩn {values[label]}")
            problems_en.append(f"line {number}: stratum {label} already has sd {values[label]}")
            continue
        values[label] = value
    if problems_vi:
        raise DesignError(
            "Độ lệch chuẩn: mỗi dòng cần «tầng,độ lệch chuẩn» với độ lệch chuẩn là số không "
            f"âm; sai ở {'; '.join(problems_vi)}.",
            "Standard deviations: every line needs «stratum,sd» with sd a non-negative "
            f"number; wrong at {'; '.join(problems_en)}.",
        )
    return values


def with_unit(frame: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    """A list that is one unit's may leave out the unit column: with ``unit`` given and no
    ``unit`` column, every row is that unit's (the web upload and ``--unit`` alike). A
    list that has the column keeps its own values (rows of other units are reported by
    whoever knows which unit the list is for)."""
    if unit is None or "unit" in frame.columns:
        return frame
    filled = frame.copy(deep=False)  # the columns are shared, not copied
    filled["unit"] = pd.Series([unit] * len(frame), dtype="str", index=frame.index)
    filled.attrs = dict(frame.attrs)
    return filled
