"""The questionnaire as pages: one section per page, relevance decided on the server.

* A section is shown only when at least one of its questions is relevant given the
  answers so far; Next and Back skip the others.
* A question whose relevance reads only answers of earlier pages is left out of its page
  when it does not apply (no script needed), and the draft keeps only answers that still
  apply (:func:`questionnaires.relevant_answers`): going back and changing an answer
  removes the later answers it made irrelevant.
* The counter ("Phần x / y") counts the pages passed that were shown, this page, and the
  pages ahead that are shown or may still be (their rule reads an answer not given yet),
  so moving forward adds one to x and y never grows.
* Within a page, a question whose relevance depends on an answer on the same page is
  shown with a note saying when to answer it; the server neither requires nor keeps its
  answer when it is not relevant. static/js/relevance.js hides such questions (any rule
  of the relevance language, evaluated like the server does).
* Answers are kept in the draft as JSON values and turned back into field data here.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm

from questionnaires import (
    AnswerError,
    Question,
    Questionnaire,
    QuestionType,
    build_form_class,
    clean_answers,
    decided_irrelevant,
    expression_data,
    parse_expression,
    relevant_answers,
)
from questionnaires.expressions import Compare, InList, Selected
from questionnaires.relevance import section_of

_FORM_CLASSES: dict[tuple[str, str, str, int], type] = {}


def form_class(questionnaire: Questionnaire, lang: str, section_index: int):
    """The page's form class; kept per (id, version, lang, page), because the library's own
    cache hashes the whole questionnaire tree on every call."""
    key = (questionnaire.id, str(questionnaire.version), lang, section_index)
    if key not in _FORM_CLASSES:
        section = questionnaire.sections[section_index]
        _FORM_CLASSES[key] = build_form_class(
            questionnaire, lang, section=section.code, base=FlaskForm
        )
    return _FORM_CLASSES[key]


def section_shown(questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]) -> bool:
    return any(q.is_relevant(answers) for q in questionnaire.sections[index].questions)


def next_section(
    questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]
) -> int | None:
    for candidate in range(index + 1, len(questionnaire.sections)):
        if section_shown(questionnaire, candidate, answers):
            return candidate
    return None


def previous_section(
    questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]
) -> int | None:
    for candidate in range(index - 1, -1, -1):
        if section_shown(questionnaire, candidate, answers):
            return candidate
    return None


def first_section(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> int:
    return next_section(questionnaire, -1, answers) or 0


def shown_sections(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> list[int]:
    return [
        i for i in range(len(questionnaire.sections)) if section_shown(questionnaire, i, answers)
    ]


def counted_sections(
    questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]
) -> list[int]:
    """The pages the counter counts while on page ``index`` (see the module's notes)."""
    where = section_of(questionnaire)

    def undecided(i: int) -> bool:
        return any(
            code not in answers and where.get(code, -1) >= index
            for q in questionnaire.sections[i].questions
            if q.relevant
            for code in parse_expression(q.relevant).references()
        )

    return [
        i
        for i in range(len(questionnaire.sections))
        if i == index or section_shown(questionnaire, i, answers) or (i > index and undecided(i))
    ]


def hidden_questions(
    questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]
) -> frozenset[str]:
    """Questions of page ``index`` left out: earlier pages' answers make them irrelevant."""
    return decided_irrelevant(questionnaire, index, answers)


def keep_relevant(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The draft's answers without those that no longer apply."""
    return relevant_answers(questionnaire, answers)


def section_codes(questionnaire: Questionnaire, index: int) -> set[str]:
    return {code for q in questionnaire.sections[index].questions for code in q.answer_codes()}


def answers_before(
    questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """Answers of the sections before ``index`` (what relevance on this page may read)."""
    codes = set()
    for earlier in range(index):
        codes |= section_codes(questionnaire, earlier)
    return {code: value for code, value in answers.items() if code in codes}


def field_data(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Stored (JSON) answers as WTForms field data (dates back to ``date``)."""
    data = {}
    for q in questionnaire.questions():
        for code in q.answer_codes():
            if code not in answers:
                continue
            value = answers[code]
            if q.type is QuestionType.DATE and isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    continue
            elif q.type is QuestionType.MULTIPLE:
                value = list(value)
            data[code] = value
    return data


def page_problems(
    questionnaire: Questionnaire, index: int, formdata, earlier: Mapping[str, Any]
) -> dict[str, tuple[str, str]]:
    """The (Vietnamese, English) problem of each answer code on a posted page.

    The form's own messages hold both languages in one string; the page shows the
    visitor's language only, so the same rules are run on the posted values here.
    """
    section = questionnaire.sections[index]
    values = {}
    for q in section.questions:
        for code in q.answer_codes():
            values[code] = (
                formdata.getlist(code) if q.type is QuestionType.MULTIPLE else formdata.get(code)
            )
    try:
        clean_answers(questionnaire, values, section=section.code, earlier_answers=earlier)
    except AnswerError as error:
        return error.problems
    return {}


def merge(
    stored: Mapping[str, Any], page_codes: set[str], page_answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The draft's answers with this page's answers replacing the page's old ones."""
    merged = {code: value for code, value in stored.items() if code not in page_codes}
    merged.update(page_answers)
    return merged


# --- same-page conditions (for the note and the progressive script) -----------------------


def simple_condition(question: Question) -> tuple[str, tuple[str, ...]] | None:
    """``(code, values)`` when relevance is "code is one of values", else None."""
    if not question.relevant:
        return None
    expression = parse_expression(question.relevant)
    if isinstance(expression, Compare) and expression.op == "=":
        return expression.code, (str(expression.value),)
    if isinstance(expression, InList):
        return expression.code, tuple(str(v) for v in expression.values)
    if isinstance(expression, Selected):
        return expression.code, (str(expression.value),)
    return None


def rule_data(question: Question) -> list:
    """The question's rule for static/js/relevance.js."""
    return expression_data(parse_expression(question.relevant))


def referenced_earlier(
    questionnaire: Questionnaire, index: int, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """Earlier pages' answers that this page's rules read (the script needs them when a
    rule mixes an earlier answer with one on this page)."""
    earlier = answers_before(questionnaire, index, answers)
    read = {
        code
        for q in questionnaire.sections[index].questions
        if q.relevant
        for code in parse_expression(q.relevant).references()
    }
    return {code: value for code, value in earlier.items() if code in read}


def condition_note(
    questionnaire: Questionnaire, section_index: int, question: Question, lang: str
) -> str | None:
    """A note for a question that depends on an answer on the same page, or None."""
    if not question.relevant:
        return None
    page = section_codes(questionnaire, section_index)
    expression = parse_expression(question.relevant)
    if not set(expression.references()) & page:
        return None
    condition = simple_condition(question)
    if condition is not None:
        code, values = condition
        source = questionnaire.question(code)
        labels = [source.choice_label(int(v), lang) for v in values if v.lstrip("-").isdigit()]
        labels = [label for label in labels if label]
        if labels:
            chosen = " / ".join(f"«{label}»" for label in labels)
            if lang == "en":
                return f"Answer only if you chose {chosen} in the question above."
            return f"Chỉ trả lời nếu Ông/Bà chọn {chosen} ở câu phía trên."
    if lang == "en":
        return "Answer only if it applies, given your answers above."
    return "Chỉ trả lời nếu phù hợp với câu trả lời phía trên."
