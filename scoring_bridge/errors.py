"""The one base exception of the scoring bridge and its specific subclasses.

Every error carries the same explanation in Vietnamese (``message_vi``) and English
(``message_en``), and, where it applies, the place to fix: ``row`` (1-based data row, as
a spreadsheet user counts them below the header), ``column``, ``key`` (a mapping path such
as ``criteria[2].source``) and the offending ``value``.
"""

from __future__ import annotations

from typing import Any


class ScoringError(Exception):
    """Base class for every error raised by :mod:`scoring_bridge`."""

    def __init__(
        self,
        message_vi: str,
        message_en: str | None = None,
        *,
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
        value: Any = None,
    ):
        self.message_vi = message_vi
        self.message_en = message_en or message_vi
        self.row = row
        self.column = column
        self.key = key
        self.value = value
        super().__init__(f"{self.message_vi} / {self.message_en}")


class ResponsesError(ScoringError):
    """The responses (file or DataFrame) do not fit the questionnaire."""


class MappingError(ScoringError):
    """The mapping YAML refers to unknown items, has duplicate codes or bad maxima."""


class QuestionnaireSpecError(ScoringError):
    """The questionnaire cannot be scored (no scale items, unusable codes)."""


class OutputError(ScoringError):
    """An output could not be written (nothing is left half-written)."""
