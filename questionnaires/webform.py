"""WTForms form classes built from a questionnaire, with server-side relevance.

:func:`build_form_class` makes one field per answer code (the field name IS the answer
code; a grid gives one field per item): radios for scale, single and yes/no questions and
grid items (the not-applicable option included), checkboxes for multiple choice, and
text, number and date inputs. Each field's ``label`` is the question (or item) text and
its ``description`` the hint (for grid items, the grid's question then the hint), all as
plain strings: templates autoescape them, this module never marks text safe.

Validation follows the questionnaire (WTForms validators and ``validate_<name>``
methods are not run on question fields), in order: a question that is not relevant (given
the answers before it) is not required, and whatever was sent for it is dropped, never
stored; a relevant required question must be answered; codes must be valid choices,
numbers within range, texts within length, the not-applicable option alone. After
``form.validate()``, ``form.answers`` holds exactly the answers to store.

Section-by-section forms (``section="B"``) need the answers already given in earlier
sections to evaluate relevance: set ``form.earlier_answers = {...}`` before validating.

:func:`clean_answers` applies the same rules to any mapping of values (``form.data``, a
JSON body, a keyed-in paper form) and raises :class:`AnswerError` listing every problem.
The web app passes ``base=flask_wtf.FlaskForm`` for CSRF; this module never imports Flask.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from collections.abc import Callable, Mapping
from typing import Any

import wtforms
from wtforms import fields, widgets

from questionnaires.errors import QuestionnaireError

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3
    SelectChoice = None
from questionnaires.model import (
    DEFAULT_LANGUAGE,
    LEFT_BLANK,
    Question,
    Questionnaire,
    QuestionType,
    nfc,
)

DEFAULT_MAX_TEXT = 2000


class AnswerError(QuestionnaireError):
    """Answers that break the questionnaire's rules; ``problems`` maps code → (vi, en)."""

    def __init__(self, problems: Mapping[str, tuple[str, str]]):
        self.problems = dict(problems)
        self.message_vi = "Câu trả lời chưa hợp lệ: " + "; ".join(
            f"[{code}] {vi}" for code, (vi, _) in self.problems.items()
        )
        self.message_en = "Invalid answers: " + "; ".join(
            f"[{code}] {en}" for code, (_, en) in self.problems.items()
        )
        super().__init__(f"{self.message_vi} / {self.message_en}")


class WebFormError(QuestionnaireError):
    """The questionnaire cannot become a form (e.g. a code clashes with a form attribute)."""

    def __init__(self, message_vi: str, message_en: str):
        self.message_vi, self.message_en = message_vi, message_en
        super().__init__(f"{message_vi} / {message_en}")


# --------------------------------------------------------------------------- cleaning rules

_INVALID = "\x00invalid"  # a value that could not be parsed; fails every rule


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_empty(v) for v in value)
    return False


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(value)


def _clean_value(q: Question, value: Any, left_blank: bool = False) -> Any:
    """Convert one non-empty answer to the stored form; ``(vi, en)`` ValueError if invalid.
    With ``left_blank`` (paper forms) the left-blank code is a valid answer where it applies."""
    if q.type in (QuestionType.SCALE5, QuestionType.SINGLE, QuestionType.YESNO, QuestionType.GRID):
        try:
            code = _as_int(value)
        except ValueError:
            raise ValueError(("mã trả lời không hợp lệ", "not a valid answer code")) from None
        if left_blank and code == LEFT_BLANK.code:
            return code
        if code not in q.valid_codes():
            raise ValueError(
                (
                    f"{code} không phải là lựa chọn của câu này",
                    f"{code} is not a choice of this question",
                )
            )
        return code
    if q.type is QuestionType.MULTIPLE:
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        try:
            codes = sorted({_as_int(v) for v in values if not _is_empty(v)})
        except ValueError:
            raise ValueError(("mã trả lời không hợp lệ", "not a valid answer code")) from None
        wrong = [c for c in codes if c not in q.valid_codes()]
        if wrong:
            raise ValueError(
                (
                    f"{', '.join(map(str, wrong))} không phải là lựa chọn của câu này",
                    f"{', '.join(map(str, wrong))} is not a choice of this question",
                )
            )
        if q.not_applicable and q.not_applicable.code in codes and len(codes) > 1:
            raise ValueError(
                (
                    "lựa chọn «không biết / không áp dụng» không đi cùng lựa chọn khác",
                    "«don't know / not applicable» cannot be combined with other choices",
                )
            )
        return tuple(codes)
    if q.type is QuestionType.NUMBER:
        return _clean_number(q, value)
    if q.type is QuestionType.DATE:
        return _clean_date(value)
    text = nfc(str(value).strip())
    limit = q.max_length or DEFAULT_MAX_TEXT
    if len(text) > limit:
        raise ValueError((f"dài quá {limit} ký tự", f"longer than {limit} characters"))
    return text


def _clean_number(q: Question, value: Any) -> int | float:
    try:
        number = decimal.Decimal(str(value).strip().replace(",", "."))
    except decimal.InvalidOperation:
        raise ValueError(("không phải là một số", "not a number")) from None
    if not number.is_finite():
        raise ValueError(("không phải là một số", "not a number"))
    if q.integer and number != number.to_integral_value():
        raise ValueError(("phải là số nguyên", "must be a whole number"))
    result: int | float = int(number) if q.integer else float(number)
    if q.minimum is not None and result < q.minimum:
        raise ValueError((f"phải từ {q.minimum:g} trở lên", f"must be at least {q.minimum:g}"))
    if q.maximum is not None and result > q.maximum:
        raise ValueError((f"phải không quá {q.maximum:g}", f"must be at most {q.maximum:g}"))
    return result


def _clean_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            ("ngày không hợp lệ (năm-tháng-ngày)", "not a valid date (YYYY-MM-DD)")
        ) from None


_REQUIRED = ("Vui lòng trả lời câu hỏi này", "Please answer this question")


_REQUIRED_ON_PAPER = (
    "Chọn một câu trả lời, hoặc «để trống trên phiếu» nếu phiếu bỏ trống câu này",
    "Choose an answer, or «left blank on the form» if the form leaves it blank",
)


def _clean(
    questions: tuple[Question, ...],
    value_of: Callable[[str], Any],
    earlier: Mapping[str, Any],
    left_blank: bool = False,
) -> tuple[dict[str, Any], dict[str, tuple[str, str]], set[str]]:
    """Walk questions in order: (answers to store, problems by code, codes dropped).

    ``left_blank`` (a paper form keyed in): a one-answer choice question takes the
    left-blank code, and must get it when the form leaves it blank; other questions the
    form leaves blank stay unanswered. A left-blank answer is unknown for relevance: the
    questions whose rule reads it keep what the paper has under them, and may be empty."""
    context = dict(earlier)
    answers: dict[str, Any] = {}
    problems: dict[str, tuple[str, str]] = {}
    dropped: set[str] = set()
    unknown: set[str] = set()  # left blank on paper: a rule reading it holds (nothing lost)
    for q in questions:
        applies = q.is_relevant(context)
        if not applies and not q.is_relevant(context, unknown):
            dropped.update(q.answer_codes())
            continue
        required = q.required and applies  # whether it applies is unknown: optional
        for code in q.answer_codes():
            value = value_of(code)
            if _is_empty(value):
                if required and not left_blank:
                    problems[code] = _REQUIRED
                elif required and q.takes_left_blank:
                    problems[code] = _REQUIRED_ON_PAPER
                continue
            try:
                answers[code] = context[code] = _clean_value(q, value, left_blank)
                if left_blank and q.takes_left_blank and answers[code] == LEFT_BLANK.code:
                    unknown.add(code)
            except ValueError as error:
                problems[code] = error.args[0]
    return answers, problems, dropped


def _questions(questionnaire: Questionnaire, section: str | None) -> tuple[Question, ...]:
    if section is None:
        return questionnaire.questions()
    for s in questionnaire.sections:
        if s.code == section:
            return s.questions
    raise WebFormError(
        f"bảng hỏi {questionnaire.key} không có phần «{section}»",
        f"questionnaire {questionnaire.key} has no section «{section}»",
    )


def clean_answers(
    questionnaire: Questionnaire,
    form_data: Mapping[str, Any],
    *,
    section: str | None = None,
    earlier_answers: Mapping[str, Any] | None = None,
    left_blank: bool = False,
) -> dict[str, Any]:
    """The answers to store from submitted values keyed by answer code.

    Non-relevant answers are dropped; unknown keys (``csrf_token``, ``submit``) ignored;
    codes become ``int``, multiple choice a sorted ``tuple`` of ``int``, dates
    :class:`datetime.date`. ``left_blank``: a keyed-in paper form (see :func:`_clean`).
    Raises :class:`AnswerError` listing every problem.
    """
    answers, problems, _ = _clean(
        _questions(questionnaire, section),
        lambda code: form_data.get(code),
        earlier_answers or {},
        left_blank,
    )
    if problems:
        raise AnswerError(problems)
    return answers


# --------------------------------------------------------------------------- form fields


def _message(pair: tuple[str, str], lang: str) -> str:
    """The problem in the form's language only (a page in one language, not half of each)."""
    vi, en = pair
    return en if lang == "en" else vi


class CodeRadioField(fields.RadioField):
    """Radios whose values are integer codes; range is checked by the form's rules."""

    def pre_validate(self, form: wtforms.Form) -> None:  # the questionnaire rules check choices
        return None


class CodeCheckboxField(fields.SelectMultipleField):
    """Checkboxes (one per choice) whose values are integer codes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: wtforms.Form) -> None:
        return None


def _choices(q: Question, lang: str, left_blank: bool = False) -> list[Any]:
    options = (
        (*q.all_choices(), LEFT_BLANK) if left_blank and q.takes_left_blank else q.all_choices()
    )
    pairs = [(c.code, c.label.get(lang)) for c in options]
    if SelectChoice is None:  # WTForms < 3.3 only knows (value, label) pairs
        return pairs
    return [SelectChoice(code, label) for code, label in pairs]


def _description(*texts: Any, lang: str) -> str:
    return " — ".join(t.get(lang) for t in texts if t is not None)


class _BrowserRequired:
    """Sets the field's ``required`` flag (HTML ``required``); the form's rules check it."""

    field_flags = {"required": True}

    def __call__(self, form: wtforms.Form, field: fields.Field) -> None:
        return None


def _field_for(
    q: Question, lang: str, label: str, description: str, left_blank: bool = False
) -> fields.Field:
    common: dict[str, Any] = {"label": label, "description": description}
    # Only a question that is always shown may carry HTML `required`; on checkboxes it
    # would demand every box, so multiple choice never does.
    required = q.required and not (left_blank and not q.takes_left_blank)
    if required and not q.relevant and q.type is not QuestionType.MULTIPLE:
        common["validators"] = [_BrowserRequired()]
    if q.type in (QuestionType.SCALE5, QuestionType.SINGLE, QuestionType.YESNO, QuestionType.GRID):
        return CodeRadioField(choices=_choices(q, lang, left_blank), coerce=int, **common)
    if q.type is QuestionType.MULTIPLE:
        return CodeCheckboxField(choices=_choices(q, lang), coerce=int, **common)
    if q.type is QuestionType.NUMBER:
        render = {"min": q.minimum, "max": q.maximum, "step": 1 if q.integer else "any"}
        render = {k: v for k, v in render.items() if v is not None}
        field_class = fields.IntegerField if q.integer else fields.DecimalField
        return field_class(render_kw=render, **common)
    if q.type is QuestionType.DATE:
        return fields.DateField(format="%Y-%m-%d", **common)
    limit = q.max_length or DEFAULT_MAX_TEXT
    field_class = fields.TextAreaField if q.multiline else fields.StringField
    return field_class(
        render_kw={"maxlength": limit},
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        **common,
    )


def _field_value(field: fields.Field) -> Any:
    """The submitted value of a field (``None`` when empty, ``_INVALID`` when unparsable)."""
    raw = field.raw_data
    if field.process_errors and not _is_empty(raw):
        return _INVALID
    if isinstance(field.data, decimal.Decimal):
        return str(field.data)
    return field.data


def build_form_class(
    questionnaire: Questionnaire,
    lang: str = DEFAULT_LANGUAGE,
    *,
    section: str | None = None,
    base: type[wtforms.Form] = wtforms.Form,
    left_blank: bool = False,
) -> type[wtforms.Form]:
    """A form class for the whole questionnaire, or one section of it.

    ``left_blank``: a form for keying in paper forms: one-answer choice questions get
    the «left blank on the form» option (see :func:`clean_answers`).

    The class carries ``questionnaire``, ``lang``, ``section`` and ``answer_fields``
    (question code → the field names it owns, in order) for templates. Classes are
    cached per (questionnaire, lang, section, base): trees are immutable, so requests
    share one class (do not modify it).
    """
    return _cached_form_class(questionnaire, lang, section, base, left_blank)


@functools.lru_cache(maxsize=64)
def _cached_form_class(
    questionnaire: Questionnaire,
    lang: str,
    section: str | None,
    base: type[wtforms.Form],
    left_blank: bool,
) -> type[wtforms.Form]:
    questions = _questions(questionnaire, section)
    attributes: dict[str, Any] = {}
    answer_fields: dict[str, tuple[str, ...]] = {}
    for q in questions:
        for code in q.answer_codes():
            if hasattr(base, code):
                raise WebFormError(
                    f"mã «{code}» trùng với thuộc tính của form; hãy đổi mã",
                    f"code «{code}» clashes with a form attribute; rename it",
                )
        if q.type is QuestionType.GRID:
            for item in q.items:
                attributes[item.code] = _field_for(
                    q,
                    lang,
                    item.text.get(lang),
                    _description(q.text, q.hint, lang=lang),
                    left_blank,
                )
        else:
            attributes[q.code] = _field_for(
                q, lang, q.text.get(lang), _description(q.hint, lang=lang), left_blank
            )
        answer_fields[q.code] = q.answer_codes()

    def validate(self: wtforms.Form, extra_validators: Mapping | None = None) -> bool:
        question_fields = {code for codes in answer_fields.values() for code in codes}
        success = True
        for name, field in self._fields.items():  # CSRF token and any extra fields
            if name not in question_fields:
                extra = (extra_validators or {}).get(name, ())
                success = field.validate(self, extra) and success
        answers, problems, dropped = _clean(
            questions,
            lambda code: _field_value(self[code]),
            getattr(self, "earlier_answers", {}),
            left_blank,
        )
        for code in question_fields:
            field = self[code]
            field.errors = []
            if code in dropped:
                field.data = [] if isinstance(field, CodeCheckboxField) else None
            elif code in problems:
                field.errors.append(_message(problems[code], lang))
        self.answers = answers
        return success and not problems

    attributes.update(
        questionnaire=questionnaire,
        lang=lang,
        section=section,
        answer_fields=answer_fields,
        earlier_answers={},
        answers={},
        validate=validate,
    )
    suffix = f"_{section}" if section else ""
    name = "".join(part.title() for part in questionnaire.id.split("-")) + f"Form{suffix}"
    return type(name, (base,), attributes)
