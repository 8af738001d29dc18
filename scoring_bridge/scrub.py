"""Removing contact details and ID numbers from free-text answers before any export.

Patterns (Vietnamese formats):

* e-mail addresses;
* phone numbers: mobile ``0912 345 678`` / ``0912.345.678`` / ``+84 912 345 678`` /
  ``84912345678``, landlines ``(028) 3822 1234`` / ``0254 3852 123``;
* ID numbers: 9-digit CMND and 12-digit CCCD, and any other run of 9 or more digits
  (dossier and account numbers).

Each match is replaced by a bracketed placeholder, so readers see that something was
removed. Text is NFC-normalised first.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[số điện thoại]"
ID_PLACEHOLDER = "[số giấy tờ]"

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
# A leading +84 / 84 / 0, an optional bracketed area or network code, then 6–9 more
# digits that may be grouped with spaces, dots or dashes.
_PHONE = re.compile(r"(?<![\w+])\(?(?:\+?84[\s.\-]?|0)\(?\d{1,3}\)?(?:[\s.\-]?\d){6,9}(?![\d])")
_LONG_NUMBER = re.compile(r"(?<!\d)\d{9,}(?!\d)")


def scrub_text(text: str) -> str:
    """``text`` with e-mails, phone numbers and ID numbers replaced by placeholders."""
    if not text:
        return text
    cleaned = unicodedata.normalize("NFC", str(text))
    cleaned = _EMAIL.sub(EMAIL_PLACEHOLDER, cleaned)
    cleaned = _LONG_NUMBER.sub(_long_number, cleaned)
    cleaned = _PHONE.sub(PHONE_PLACEHOLDER, cleaned)
    return cleaned


def _long_number(match: re.Match) -> str:
    digits = match.group(0)
    # 10–11 digits starting with 0 or 84 are phone numbers; other long runs are IDs.
    if (len(digits) in (10, 11) and digits.startswith("0")) or (
        len(digits) == 11 and digits.startswith("84")
    ):
        return PHONE_PLACEHOLDER
    return ID_PLACEHOLDER


def scrub_series(series: pd.Series) -> pd.Series:
    """Scrub every non-empty text of a column."""
    return series.map(lambda value: scrub_text(value) if isinstance(value, str) else value)
