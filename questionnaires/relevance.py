"""Skip logic across a whole questionnaire: which answers still count, which questions a
page leaves out, and the relevance rules as data a browser script can evaluate.

* :func:`relevant_answers` keeps only the answers of questions that are relevant given
  the answers kept before them (in questionnaire order), so an answer that an earlier
  change made irrelevant is removed, and so is whatever depended on it in turn.
* An answer «left blank on the form» (:data:`~questionnaires.model.LEFT_BLANK`, paper entry
  only) is unknown: a rule that reads it holds, so what the paper has under it is kept.
* :func:`decided_irrelevant` names the questions of a section whose relevance reads only
  answers of earlier sections and is false: a page never shows them.
* :func:`relevance_rules` lists every relevance rule (question, rule, the codes it reads)
  and :func:`rule_witnesses` finds answers that make a rule hold and fail: tests are
  generated from them.
* :func:`expression_data` writes a rule as nested JSON lists for ``static/js/relevance.js``,
  which evaluates them with the same unanswered semantics as :mod:`questionnaires.expressions`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
from questionnaires.model import LEFT_BLANK, Question, Questionnaire, QuestionType


@dataclass(frozen=True)
class RelevanceRule:
    """One question's relevance rule, located: its section index and the codes it reads."""

    section_index: int
    question: Question
    expression: Expression

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.expression.references()))


def relevance_rules(questionnaire: Questionnaire) -> tuple[RelevanceRule, ...]:
    """Every question that has a relevance rule, in questionnaire order."""
    return tuple(
        RelevanceRule(index, q, parse_expression(q.relevant))
        for index, section in enumerate(questionnaire.sections)
        for q in section.questions
        if q.relevant
    )


def relevant_answers(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that still count: those of questions relevant given the answers kept
    before them. Unknown keys are dropped too."""
    kept: dict[str, Any] = {}
    blankable = left_blank_codes(questionnaire)
    for q in questionnaire.questions():
        if not q.is_relevant(kept, unknown(kept, blankable)):
            continue
        for code in q.answer_codes():
            if code in answers:
                kept[code] = answers[code]
    return kept


def left_blank_codes(questionnaire: Questionnaire) -> frozenset[str]:
    """Answer codes that a paper form's «left blank» can be keyed for."""
    return frozenset(
        code for q in questionnaire.questions() if q.takes_left_blank for code in q.answer_codes()
    )


def unknown(answers: Mapping[str, Any], blankable: frozenset[str]) -> frozenset[str]:
    """The codes whose answer is «left blank on the form»: unknown for relevance."""
    return frozenset(
        code for code, value in answers.items() if code in blankable and value == LEFT_BLANK.code
    )


def section_of(questionnaire: Questionnaire) -> dict[str, int]:
    """Answer code → index of the section that asks it."""
    return {
        code: index
        for index, section in enumerate(questionnaire.sections)
        for q in section.questions
        for code in q.answer_codes()
    }


def decided_irrelevant(
    questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]
) -> frozenset[str]:
    """Codes of the questions of section ``index`` whose rule reads only answers of earlier
    sections and is false given them (the page leaves them out)."""
    where = section_of(questionnaire)
    earlier = {code: value for code, value in answers.items() if where.get(code, index) < index}
    hidden = set()
    for q in questionnaire.sections[index].questions:
        if not q.relevant:
            continue
        expression = parse_expression(q.relevant)
        reads_earlier = all(where.get(code, index) < index for code in expression.references())
        blank = unknown(earlier, left_blank_codes(questionnaire))
        if reads_earlier and not q.is_relevant(earlier, blank):
            hidden.add(q.code)
    return frozenset(hidden)


def expression_data(expression: Expression) -> list:
    """The rule as nested lists: ``["=", code, value]`` (any comparison operator),
    ``["in", code, [values]]``, ``["selected", code, value]``, ``["answered", code]``,
    ``["not", rule]``, ``["and", rule, ...]``, ``["or", rule, ...]``."""
    if isinstance(expression, Compare):
        return [expression.op, expression.code, expression.value]
    if isinstance(expression, InList):
        return ["in", expression.code, list(expression.values)]
    if isinstance(expression, Selected):
        return ["selected", expression.code, expression.value]
    if isinstance(expression, Answered):
        return ["answered", expression.code]
    if isinstance(expression, Not):
        return ["not", expression_data(expression.operand)]
    if isinstance(expression, BoolOp):
        return [expression.op, *(expression_data(o) for o in expression.operands)]
    raise TypeError(f"unknown expression node {expression!r}")


def irrelevant_questions(
    questionnaire: Questionnaire, answers: Mapping[str, Any]
) -> frozenset[str]:
    """Codes of the questions that are not relevant given ``answers`` (read in order, as
    :func:`relevant_answers` keeps them)."""
    kept = relevant_answers(questionnaire, answers)
    blank = unknown(kept, left_blank_codes(questionnaire))
    return frozenset(q.code for q in questionnaire.questions() if not q.is_relevant(kept, blank))


def _candidates(question: Question) -> list[Any]:
    """Values worth trying for a question a rule reads, answers first (a required question
    is answered), ``None`` (unanswered) last."""
    if question.type is QuestionType.MULTIPLE:
        return [*((code,) for code in sorted(question.valid_codes())), None]
    if question.type.has_choices:
        return [*sorted(question.valid_codes()), None]
    if question.type is QuestionType.NUMBER:
        low = question.minimum if question.minimum is not None else 0
        high = question.maximum if question.maximum is not None else low + 100
        return [low, (low + high) // 2, high, None]
    return ["x", None]


def rule_witnesses(questionnaire: Questionnaire, rule: RelevanceRule) -> dict[bool, dict[str, Any]]:
    """Answers to the codes a rule reads that make it hold (``True``) and fail (``False``),
    found by trying the referenced questions' values; a side no value reaches is absent."""
    codes = rule.references
    found: dict[bool, dict[str, Any]] = {}
    options = [_candidates(questionnaire.question(code)) for code in codes]
    for values in itertools.islice(itertools.product(*options), 5000):
        answers = {
            code: value for code, value in zip(codes, values, strict=True) if value is not None
        }
        found.setdefault(rule.expression.evaluate(answers), answers)
        if len(found) == 2:
            break
    return found


def rule_text(questionnaire: Questionnaire, question: Question, lang: str) -> str:
    """The question's rule as staff read it: the rule's source, with the labels of the
    choices it names, e.g. ``a6 = 1 (a6: 1 = «Trực tiếp tại Bộ phận một cửa»)``."""
    expression = parse_expression(question.relevant)
    labels = []
    for node in _leaves(expression):
        values = node.values if isinstance(node, InList) else (getattr(node, "value", None),)
        try:
            source = questionnaire.question(node.code)
        except KeyError:
            continue
        for value in values:
            if isinstance(value, int) and source.type.has_choices:
                label = source.choice_label(value, lang)
                if label:
                    labels.append(f"{node.code}: {value} = «{label}»")
    text = expression.to_source()
    return f"{text} ({'; '.join(labels)})" if labels else text


def _leaves(expression: Expression):
    if isinstance(expression, Not):
        yield from _leaves(expression.operand)
    elif isinstance(expression, BoolOp):
        for operand in expression.operands:
            yield from _leaves(operand)
    else:
        yield expression
