"""Removing contact details and ID numbers from free-text answers before any export.

Patterns (Vietnamese formats):

* e-mail addresses;
* phone numbers: mobile ``0912 345 678`` / ``0912.345.678`` / ``+84 912 345 678`` /
  ``84912345678``, landlines ``(028) 3822 1234`` / ``0254 3852 123``;
* ID numbers: 9-digit CMND and 12-digit CCCD, and any other run of 9 or more digits
  (dossier and account numbers).

A :class:`Scrubber` also removes a campaign's own names, dossier codes and addresses
(from its lists): whole words, case-insensitive, with or without Vietnamese diacritics
(``Nguyễn Văn An``, ``nguyen van an`` and ``NGUYỄN VĂN AN`` alike), spacing ignored. The
terms go into one Aho–Corasick automaton (pyahocorasick), so tens of thousands of names
cost one pass over each text.

Each match is replaced by a bracketed placeholder, so readers see that something was
removed. Text is NFC-normalised first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import ahocorasick
import pandas as pd

EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[số điện thoại]"
ID_PLACEHOLDER = "[số giấy tờ]"
NAME_PLACEHOLDER = "[họ tên]"
DOSSIER_PLACEHOLDER = "[mã hồ sơ]"
ADDRESS_PLACEHOLDER = "[địa chỉ]"
MIN_TERM_LENGTH = 4  # shorter terms (a lone "An", "Hà") are words, not identities

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


class _FoldTable(dict):
    """``str.translate`` table folding case and diacritics (đ → d), one character to one,
    so that positions in the folded text are positions in the text; filled as met."""

    def __missing__(self, code: int) -> str:
        character = chr(code)
        if character.isspace():
            folded = " "
        elif character in "đĐ":
            folded = "d"
        else:
            folded = unicodedata.normalize("NFD", character)[0].lower()
        self[code] = folded
        return folded


_FOLD = _FoldTable()
_SPACES = re.compile(r" {2,}")


def _folded(text: str) -> tuple[str, list[int] | None]:
    """``text`` folded with runs of spaces made one; and, when spaces were removed, each
    folded character's position in ``text`` (None: the positions are the same)."""
    folded = text.translate(_FOLD)
    if "  " not in folded:
        return folded, None
    positions = [i for i, c in enumerate(folded) if c != " " or i == 0 or folded[i - 1] != " "]
    return _SPACES.sub(" ", folded), positions


class Scrubber:
    """The generic patterns of :func:`scrub_text` and a campaign's own terms.

    ``names`` are full names (at least two words), ``codes`` dossier codes and
    ``addresses`` addresses; for an address its first part (up to a comma) counts too when
    it holds a house number. Terms shorter than :data:`MIN_TERM_LENGTH` are ignored.
    """

    def __init__(
        self,
        names: Iterable[str | None] = (),
        codes: Iterable[str | None] = (),
        addresses: Iterable[str | None] = (),
    ):
        self._automaton = ahocorasick.Automaton()
        for placeholder, terms in (
            (ADDRESS_PLACEHOLDER, _address_terms(addresses)),
            (DOSSIER_PLACEHOLDER, codes),
            (NAME_PLACEHOLDER, (n for n in names if n and len(n.split()) >= 2)),
        ):
            for term in terms:
                key = _folded(unicodedata.normalize("NFC", str(term or "")).strip())[0]
                if len(key) >= MIN_TERM_LENGTH:
                    self._automaton.add_word(key, (len(key), placeholder))
        self.terms = len(self._automaton)
        if self.terms:
            self._automaton.make_automaton()

    def __call__(self, text: str) -> str:
        if not text:
            return text
        return scrub_text(self._remove_terms(unicodedata.normalize("NFC", str(text))))

    def _remove_terms(self, text: str) -> str:
        if not self.terms:
            return text
        folded, positions = _folded(text)
        spans = []
        for end, (length, placeholder) in self._automaton.iter(folded):
            start = end - length + 1
            whole_word = (start == 0 or not folded[start - 1].isalnum()) and (
                end + 1 == len(folded) or not folded[end + 1].isalnum()
            )
            if whole_word:
                spans.append((start, end + 1, placeholder))
        if not spans:
            return text
        kept, reach = [], -1
        for start, end, placeholder in sorted(spans, key=lambda s: (s[0], -s[1])):
            if start >= reach:  # the longest match at each place, no overlaps
                kept.append((start, end, placeholder))
                reach = end
        if positions is None:
            positions = range(len(text))
        pieces, last = [], 0
        for start, end, placeholder in kept:
            pieces += [text[last : positions[start]], placeholder]
            last = positions[end - 1] + 1
        return "".join(pieces) + text[last:]

    def series(self, series: pd.Series) -> pd.Series:
        """Every non-empty text of a column scrubbed."""
        return series.map(lambda value: self(value) if isinstance(value, str) else value)


def _address_terms(addresses: Iterable[str | None]) -> Iterable[str]:
    for address in addresses:
        if not address:
            continue
        yield address
        first = address.split(",")[0].strip()
        if first != address.strip() and any(c.isdigit() for c in first):
            yield first


GENERIC = Scrubber()


def scrub_series(series: pd.Series, scrubber: Scrubber | None = None) -> pd.Series:
    """Scrub every non-empty text of a column (generic patterns, and ``scrubber``'s terms)."""
    return (scrubber or GENERIC).series(series)
