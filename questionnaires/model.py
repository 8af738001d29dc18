"""The typed tree of a questionnaire definition (immutable, built by the loader).

A :class:`Questionnaire` has sections; a :class:`Section` has questions; a
:class:`Question` has a :class:`QuestionType`, a text, numeric :class:`Choice` codes and,
for grids, :class:`GridItem` rows that share the grid's scale. Every text is a
:class:`Text`: a mapping language → string whose ``.get(lang)`` falls back to Vietnamese.

Answer keys. Answers are a ``dict`` keyed by *answer code*: the question code for every
question except grids, whose items are answered one by one under the item codes (a grid
code is never an answer key). Values: ``int`` codes for scale/single/yes-no and grid
items, a sorted ``tuple`` of ``int`` codes for multiple choice, ``str`` for text,
``int``/``float`` for numbers, :class:`datetime.date` for dates. An unanswered question
is simply absent.

Helpers:

* :meth:`Questionnaire.questions` — every question in order, grids NOT expanded (a grid is
  one :class:`Question` carrying its ``items``); :meth:`Questionnaire.answer_codes` lists
  the answer keys (grids expanded).
* :meth:`Questionnaire.variables` — export variables with value labels (grid items one
  variable each; multiple choice one 0/1 variable per choice named ``<code>_<choice>``).
* :meth:`Questionnaire.elements` — the declared index elements with the variables of the
  scale items that belong to each.

Build trees with :func:`questionnaires.load_questionnaire` (which validates); the
constructors here do no cross-checking.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from questionnaires.expressions import parse_expression

DEFAULT_LANGUAGE = "vi"

# The texts an invitation letter takes from its questionnaire (``letter:`` in the YAML) and
# the placeholders they may use; see questionnaires/invitation.py for what each one is.
LETTER_KEYS = ("title", "subtitle", "salutation", "purpose", "confidentiality", "thanks")
LETTER_PLACEHOLDERS = ("province", "year", "unit", "rated_units", "duration")


def nfc(value: str) -> str:
    """Vietnamese text is stored NFC-normalised so comparisons and fonts behave."""
    return unicodedata.normalize("NFC", value)


class Text(Mapping[str, str]):
    """Immutable translations of one text, e.g. ``Text(vi="Có", en="Yes")``.

    ``text.get("en")`` returns the English string, or the Vietnamese one when there is no
    English, or the first available translation; unlike ``dict.get`` it never returns
    ``None`` for a missing language. ``str(text)`` is the Vietnamese text.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | str | None = None, /, **by_language: str):
        if isinstance(values, str):
            values = {DEFAULT_LANGUAGE: values}
        merged = {**(dict(values) if values else {}), **by_language}
        object.__setattr__(
            self, "_values", tuple((lang, nfc(str(s))) for lang, s in merged.items())
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Text is immutable")

    def __getitem__(self, lang: str) -> str:
        for key, value in self._values:
            if key == lang:
                return value
        raise KeyError(lang)

    def __iter__(self) -> Iterator[str]:
        return (lang for lang, _ in self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash(frozenset(self._values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._values) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Text({dict(self._values)!r})"

    def __str__(self) -> str:
        return self.get(DEFAULT_LANGUAGE)

    def get(self, lang: str = DEFAULT_LANGUAGE, default: str | None = None) -> str:  # type: ignore[override]
        """The text in ``lang``, else Vietnamese, else the first translation, else ``default``."""
        values = dict(self._values)
        for candidate in (lang, DEFAULT_LANGUAGE):
            if values.get(candidate):
                return values[candidate]
        if self._values:
            return self._values[0][1]
        return default if default is not None else ""

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)


class QuestionType(enum.StrEnum):
    """The question types; the value is the spelling used in YAML definitions."""

    SCALE5 = "scale5"  # 5-point satisfaction scale (1 Rất không hài lòng … 5 Rất hài lòng)
    SINGLE = "single"  # one choice from a list
    MULTIPLE = "multiple"  # any number of choices from a list
    YESNO = "yesno"  # 1 Có / 2 Không
    TEXT = "text"  # free text
    NUMBER = "number"  # integer or decimal, optional minimum/maximum
    DATE = "date"  # a calendar date
    GRID = "grid"  # scale items sharing the grid's choices (by default the 5-point scale)

    @property
    def has_choices(self) -> bool:
        return self in _CHOICE_TYPES


_CHOICE_TYPES = frozenset(
    {
        QuestionType.SCALE5,
        QuestionType.SINGLE,
        QuestionType.MULTIPLE,
        QuestionType.YESNO,
        QuestionType.GRID,
    }
)


@dataclass(frozen=True)
class Choice:
    """One answer option: a stable numeric code and its label."""

    code: int
    label: Text


SCALE5_CHOICES: tuple[Choice, ...] = (
    Choice(1, Text(vi="Rất không hài lòng", en="Very dissatisfied")),
    Choice(2, Text(vi="Không hài lòng", en="Dissatisfied")),
    Choice(3, Text(vi="Bình thường", en="Neither satisfied nor dissatisfied")),
    Choice(4, Text(vi="Hài lòng", en="Satisfied")),
    Choice(5, Text(vi="Rất hài lòng", en="Very satisfied")),
)
YESNO_CHOICES: tuple[Choice, ...] = (
    Choice(1, Text(vi="Có", en="Yes")),
    Choice(2, Text(vi="Không", en="No")),
)
DEFAULT_NOT_APPLICABLE = Choice(
    9, Text(vi="Không biết / không áp dụng", en="Don't know / not applicable")
)
# A paper form on which the respondent left a question unanswered, as the clerk keys it:
# distinct from "don't know / not applicable" (a respondent's answer). Recorded only for
# single-answer choice questions and grid items (``Question.takes_left_blank``); a user-
# missing code in exports and left out of every denominator. No choice may use this code.
LEFT_BLANK = Choice(98, Text(vi="Để trống trên phiếu", en="Left blank on the form"))


@dataclass(frozen=True)
class GridItem:
    """One row of a grid: answered on the grid's scale under its own code."""

    code: str
    text: Text
    element: str | None = None


@dataclass(frozen=True)
class Question:
    """One question. ``choices`` excludes ``not_applicable`` (see :meth:`all_choices`).

    ``relevant`` is the source of a relevance expression (see
    :mod:`questionnaires.expressions`); ``None`` means always relevant. ``required``
    applies only while the question is relevant.
    """

    code: str
    type: QuestionType
    text: Text
    hint: Text | None = None
    choices: tuple[Choice, ...] = ()
    required: bool = True
    not_applicable: Choice | None = None
    relevant: str | None = None
    element: str | None = None
    items: tuple[GridItem, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True  # NUMBER only: whole numbers (XLSForm integer) or decimals
    multiline: bool = False  # TEXT only: a paragraph rather than one line
    max_length: int | None = None  # TEXT only

    def all_choices(self) -> tuple[Choice, ...]:
        """The choices followed by the not-applicable option, if any."""
        if self.not_applicable is None:
            return self.choices
        return (*self.choices, self.not_applicable)

    def valid_codes(self) -> frozenset[int]:
        return frozenset(choice.code for choice in self.all_choices())

    @property
    def takes_left_blank(self) -> bool:
        """A paper form's "left blank" can be keyed for it (one-answer choice questions)."""
        return self.type.has_choices and self.type is not QuestionType.MULTIPLE

    def choice_label(self, code: int, lang: str = DEFAULT_LANGUAGE) -> str | None:
        for choice in self.all_choices():
            if choice.code == code:
                return choice.label.get(lang)
        return None

    def answer_codes(self) -> tuple[str, ...]:
        """The answer keys this question produces: its items for a grid, else its code."""
        if self.type is QuestionType.GRID:
            return tuple(item.code for item in self.items)
        return (self.code,)

    def is_relevant(self, answers: Mapping[str, Any], unknown: Collection[str] = ()) -> bool:
        """Evaluate the relevance condition against earlier answers. A condition that reads
        an ``unknown`` answer (left blank on a paper form) holds: what the form has written
        under it is kept."""
        if not self.relevant:
            return True
        expression = parse_expression(self.relevant)
        if unknown and any(code in unknown for code in expression.references()):
            return True
        return expression.evaluate(answers)


@dataclass(frozen=True)
class Section:
    code: str
    title: Text
    intro: Text | None = None
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class Element:
    """An index element (component), e.g. SIPAS "access to services".

    ``variables`` is filled by :meth:`Questionnaire.elements` with the answer codes of the
    scale questions and grid items that belong to the element, in questionnaire order.
    """

    code: str
    title: Text
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variable:
    """An export variable (SPSS/Stata/CSV column) with its value labels.

    ``measure`` follows SPSS: ``ordinal`` for scales, ``nominal`` for codes, text and
    dates, ``scale`` for numbers. ``missing_codes`` lists user-missing codes (the
    not-applicable code), which scoring leaves out of denominators.
    """

    name: str
    label: Text
    question: str
    type: QuestionType
    value_labels: tuple[Choice, ...] = ()
    measure: str = "nominal"
    element: str | None = None
    missing_codes: tuple[int, ...] = ()


_SELECTED = (
    Choice(0, Text(vi="Không chọn", en="Not selected")),
    Choice(1, Text(vi="Có chọn", en="Selected")),
)


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: Text
    description: Text | None = None
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)
    sections: tuple[Section, ...] = ()
    index_elements: tuple[Element, ...] = field(default=())
    # Expected minutes to answer (lowest, highest): the letter and the poster both say it.
    # Neither this nor the letter is part of the instrument's identity (an XLSForm carries
    # neither), so they are left out of equality.
    duration_minutes: tuple[int, int] | None = field(default=None, compare=False)
    # The invitation letter's texts (key -> Text), see LETTER_KEYS.
    letter: tuple[tuple[str, Text], ...] = field(default=(), compare=False)
    # Per respondent group, texts that differ from ``letter`` (group -> key -> Text).
    letter_groups: tuple[tuple[str, tuple[tuple[str, Text], ...]], ...] = field(
        default=(), compare=False
    )

    @property
    def key(self) -> str:
        """``id@version``, handy in headers and logs."""
        return f"{self.id}@{self.version}"

    def questions(self) -> tuple[Question, ...]:
        """Every question in order; a grid is one question (its items are not expanded)."""
        return tuple(q for section in self.sections for q in section.questions)

    def question(self, code: str) -> Question:
        """The question with this code, or the grid that owns this item code."""
        for q in self.questions():
            if q.code == code or code in q.answer_codes():
                return q
        raise KeyError(code)

    def answer_codes(self) -> tuple[str, ...]:
        """Every answer key in order (grid items expanded)."""
        return tuple(code for q in self.questions() for code in q.answer_codes())

    def elements(self) -> tuple[Element, ...]:
        """The declared elements, each with the answer codes of its scale items."""
        members: dict[str, list[str]] = {e.code: [] for e in self.index_elements}
        for q in self.questions():
            if q.type is QuestionType.GRID:
                for item in q.items:
                    element = item.element or q.element
                    if element in members:
                        members[element].append(item.code)
            elif q.element in members:
                members[q.element].append(q.code)
        return tuple(replace(e, variables=tuple(members[e.code])) for e in self.index_elements)

    def variables(self) -> tuple[Variable, ...]:
        """Export variables in order, with value labels and user-missing codes."""
        result: list[Variable] = []
        for q in self.questions():
            result.extend(_variables_of(q))
        return tuple(result)


def _variables_of(q: Question) -> Iterator[Variable]:
    missing = (q.not_applicable.code,) if q.not_applicable else ()
    if q.takes_left_blank:
        missing = (*missing, LEFT_BLANK.code)
    if q.type is QuestionType.GRID:
        for item in q.items:
            yield Variable(
                item.code,
                item.text,
                q.code,
                q.type,
                (*q.all_choices(), LEFT_BLANK),
                "ordinal",
                item.element or q.element,
                missing,
            )
    elif q.type is QuestionType.MULTIPLE:
        for choice in q.all_choices():
            label = Text({lang: f"{q.text.get(lang)}: {choice.label.get(lang)}" for lang in q.text})
            yield Variable(f"{q.code}_{choice.code}", label, q.code, q.type, _SELECTED)
    elif q.type.has_choices:
        measure = "ordinal" if q.type is QuestionType.SCALE5 else "nominal"
        labels = (*q.all_choices(), LEFT_BLANK)
        yield Variable(q.code, q.text, q.code, q.type, labels, measure, q.element, missing)
    else:
        measure = "scale" if q.type is QuestionType.NUMBER else "nominal"
        yield Variable(q.code, q.text, q.code, q.type, (), measure, q.element)
