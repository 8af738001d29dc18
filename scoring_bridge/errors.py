"""The one base exception of the scoring bridge and its specific subclasses.

Every error carries the same explanation in Vietnamese (``message_vi``) and English
(``message_en``), and, where it applies, the place to fix: ``row`` (1-based data row, as
a spreadsheet user counts them below the header), ``column``, ``key`` (a mapping path such
as ``criteria[2].source``) and the offending ``value``.
"""

from __future__ import annotations

from typing import Any, NamedTuple


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

    def full_message(self) -> str:
        """Both messages, then one line per problem when the error lists several."""
        lines = [self.message_vi, self.message_en]
        lines += [f"  {problem.describe()}" for problem in getattr(self, "problems", ())]
        return "\n".join(lines)


class ResponseProblem(NamedTuple):
    """One bad cell of a responses file: its spreadsheet row (header = row 1), column and
    value, what is wrong (vi, en) and the row's response id when the file has one."""

    row: int
    column: str
    value: Any
    message_vi: str
    message_en: str
    response_id: Any = None

    def describe(self) -> str:
        where = f"dòng/row {self.row}, cột/column '{self.column}'"
        if self.response_id is not None:
            where += f" (response_id {self.response_id})"
        return f"{where}: {self.value!r} — {self.message_vi} / {self.message_en}"


class ResponsesError(ScoringError):
    """The responses (file or DataFrame) do not fit the questionnaire. ``problems`` lists
    every bad cell found (all at once); row, column and value are the first one's."""

    problems: list[ResponseProblem] = []


class MappingError(ScoringError):
    """The mapping YAML refers to unknown items, has duplicate codes or bad maxima."""


class QuestionnaireSpecError(ScoringError):
    """The questionnaire cannot be scored (no scale items, unusable codes)."""


class OutputError(ScoringError):
    """An output could not be written (nothing is left half-written)."""
