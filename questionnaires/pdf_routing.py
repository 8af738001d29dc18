"""Routing instructions for paper questionnaires, derived from relevance expressions.

On paper there is no engine to hide questions, so skip logic must be printed. Two forms:

* A **jump** ("Nếu trả lời “Không”, chuyển đến câu 12" / "If “No”, go to question 12"),
  printed under a single-choice question P for the answers after which the questions
  immediately following P are all irrelevant. A later question's relevance qualifies when it
  reads only P, so its value is known for every answer to P.
* A **condition in words** ("Chỉ trả lời nếu ..." / "Answer only if ..."), printed at a
  question whose relevance no jump fully expresses (several questions involved, multiple
  choice, numbers, or skipped questions that are not contiguous).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from questionnaires.expressions import (
    Answered,
    BoolOp,
    Compare,
    Expression,
    InList,
    Not,
    Selected,
    parse_expression,
)
from questionnaires.model import Question, Questionnaire, QuestionType

_JUMP_SOURCE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.YESNO, QuestionType.SCALE5})


@dataclass(frozen=True)
class Jump:
    """After answering one of ``choice_codes`` at a question, go to ``target`` (None: the end)."""

    choice_codes: tuple[int, ...]
    target: str | None  # the printed number of the question to go to


@dataclass
class Routing:
    """The printed numbers, the jumps under each question, the conditions to print in words."""

    numbers: dict[str, str] = field(default_factory=dict)  # answer or question code → "12"
    jumps: dict[str, list[Jump]] = field(default_factory=dict)
    conditions: dict[str, Expression] = field(default_factory=dict)


def question_numbers(questionnaire: Questionnaire) -> dict[str, str]:
    """Question code → printed number ("1", "2", ...); grid items get "12.1", "12.2", ..."""
    numbers: dict[str, str] = {}
    for index, question in enumerate(questionnaire.questions(), 1):
        numbers[question.code] = str(index)
        if question.type is QuestionType.GRID:
            for item_index, item in enumerate(question.items, 1):
                numbers[item.code] = f"{index}.{item_index}"
    return numbers


def plan_routing(questionnaire: Questionnaire) -> Routing:
    """Work out the jumps and the conditions to print for a whole questionnaire."""
    questions = questionnaire.questions()
    routing = Routing(numbers=question_numbers(questionnaire))
    parsed = {q.code: parse_expression(q.relevant) for q in questions if q.relevant}
    covered: set[str] = set()
    for position, source in enumerate(questions):
        if source.type not in _JUMP_SOURCE_TYPES:
            continue
        jumps, skipped_by_jumps = _jumps_from(source, questions[position + 1 :], parsed, routing)
        if jumps:
            routing.jumps[source.code] = jumps
        covered |= {
            code
            for code in skipped_by_jumps
            if _fully_expressed(parsed[code], source, skipped_by_jumps[code])
        }
    for question in questions:
        if question.code in parsed and question.code not in covered:
            routing.conditions[question.code] = parsed[question.code]
    return routing


def _reads_only(expression: Expression, code: str) -> bool:
    return set(expression.references()) == {code}


def _jumps_from(
    source: Question,
    following: tuple[Question, ...],
    parsed: Mapping[str, Expression],
    routing: Routing,
) -> tuple[list[Jump], dict[str, set[int]]]:
    """Jumps printed under ``source``, and for each skipped question the answers that skip it."""
    by_target: dict[str | None, list[int]] = {}
    skipped_by: dict[str, set[int]] = {}
    for choice in source.all_choices():
        answers = {source.code: choice.code}
        run_end = 0  # questions following[0:run_end] are irrelevant after this answer
        while run_end < len(following):
            expression = parsed.get(following[run_end].code)
            if (
                expression is None
                or not _reads_only(expression, source.code)
                or expression.evaluate(answers)
            ):
                break
            run_end += 1
        if run_end == 0:
            continue
        if _skips_later_question(following[run_end:], parsed, source.code, answers):
            continue  # not one contiguous run: a jump would mislead, print conditions instead
        target = routing.numbers[following[run_end].code] if run_end < len(following) else None
        by_target.setdefault(target, []).append(choice.code)
        for question in following[:run_end]:
            skipped_by.setdefault(question.code, set()).add(choice.code)
    jumps = [Jump(tuple(codes), target) for target, codes in by_target.items()]
    return jumps, skipped_by


def _skips_later_question(later, parsed, source_code: str, answers) -> bool:
    for question in later:
        expression = parsed.get(question.code)
        if (
            expression is not None
            and _reads_only(expression, source_code)
            and not expression.evaluate(answers)
        ):
            return True
    return False


def _fully_expressed(expression: Expression, source: Question, skipping: set[int]) -> bool:
    """True when the jumps skip the question for exactly the answers that make it irrelevant."""
    if not _reads_only(expression, source.code):
        return False
    irrelevant = {
        choice.code
        for choice in source.all_choices()
        if not expression.evaluate({source.code: choice.code})
    }
    return irrelevant == skipping


# --------------------------------------------------------------------------- words

_WORDS = {
    "vi": {
        "question": "câu {n}",
        "is": "{q} trả lời {values}",
        "is_not": "{q} không trả lời {value}",
        "selected": "ở {q} có chọn {value}",
        "not_selected": "ở {q} không chọn {value}",
        "answered": "đã trả lời {q}",
        "not_answered": "chưa trả lời {q}",
        "compare": "câu trả lời {q} {op} {value}",
        "or": " hoặc ",
        "and": " và ",
        "not": "không phải trường hợp: {inner}",
        "ops": {"<": "nhỏ hơn", "<=": "không lớn hơn", ">": "lớn hơn", ">=": "không nhỏ hơn"},
        "only_if": "Chỉ trả lời nếu {condition}.",
        "jump": "Nếu trả lời {values}, chuyển đến câu {target}.",
        "jump_end": "Nếu trả lời {values}, kết thúc phiếu tại đây.",
    },
    "en": {
        "question": "question {n}",
        "is": "the answer to {q} is {values}",
        "is_not": "the answer to {q} is not {value}",
        "selected": "{value} is ticked at {q}",
        "not_selected": "{value} is not ticked at {q}",
        "answered": "{q} is answered",
        "not_answered": "{q} is not answered",
        "compare": "the answer to {q} is {op} {value}",
        "or": " or ",
        "and": " and ",
        "not": "it is not the case that {inner}",
        "ops": {"<": "less than", "<=": "at most", ">": "greater than", ">=": "at least"},
        "only_if": "Answer only if {condition}.",
        "jump": "If {values}, go to question {target}.",
        "jump_end": "If {values}, the questionnaire ends here.",
    },
}


def words(lang: str) -> dict:
    return _WORDS.get(lang, _WORDS["en"])


def quoted(label: str) -> str:
    return f"“{label}”"


def _value_words(questionnaire: Questionnaire, code: str, value: object, lang: str) -> str:
    try:
        question = questionnaire.question(code)
    except KeyError:
        return quoted(str(value))
    if isinstance(value, int) and not isinstance(value, bool):
        label = question.choice_label(value, lang)
        if label is not None:
            return quoted(label)
    return quoted(str(value)) if isinstance(value, str) else str(value)


def describe_condition(
    expression: Expression, questionnaire: Questionnaire, numbers: Mapping[str, str], lang: str
) -> str:
    """The condition in plain words, referring to questions by their printed numbers."""
    w = words(lang)

    def q(code: str) -> str:
        return w["question"].format(n=numbers.get(code, code))

    def value(code: str, literal: object) -> str:
        return _value_words(questionnaire, code, literal, lang)

    def say(node: Expression, nested: bool = False) -> str:
        if isinstance(node, Compare):
            if node.op == "=":
                return w["is"].format(q=q(node.code), values=value(node.code, node.value))
            if node.op == "!=":
                return w["is_not"].format(q=q(node.code), value=value(node.code, node.value))
            return w["compare"].format(q=q(node.code), op=w["ops"][node.op], value=node.value)
        if isinstance(node, InList):
            values = w["or"].join(value(node.code, v) for v in node.values)
            return w["is"].format(q=q(node.code), values=values)
        if isinstance(node, Selected):
            return w["selected"].format(q=q(node.code), value=value(node.code, node.value))
        if isinstance(node, Answered):
            return w["answered"].format(q=q(node.code))
        if isinstance(node, Not):
            inner = node.operand
            if isinstance(inner, Answered):
                return w["not_answered"].format(q=q(inner.code))
            if isinstance(inner, Selected):
                return w["not_selected"].format(
                    q=q(inner.code), value=value(inner.code, inner.value)
                )
            return w["not"].format(inner=say(inner, nested=True))
        if isinstance(node, BoolOp):
            text = w[node.op].join(say(operand, nested=True) for operand in node.operands)
            return f"({text})" if nested else text
        return node.to_source()

    return say(expression)


def only_if_text(
    expression: Expression, questionnaire: Questionnaire, numbers: Mapping[str, str], lang: str
) -> str:
    return words(lang)["only_if"].format(
        condition=describe_condition(expression, questionnaire, numbers, lang)
    )


def jump_text(jump: Jump, question: Question, lang: str) -> str:
    w = words(lang)
    values = w["or"].join(
        quoted(question.choice_label(code, lang) or str(code)) for code in jump.choice_codes
    )
    if jump.target is None:
        return w["jump_end"].format(values=values)
    return w["jump"].format(values=values, target=jump.target)
