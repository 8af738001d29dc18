"""Validation of a raw definition (the dict read from YAML), pyxform style.

Every check appends a :class:`Problem` naming its place (``[question q12]``) and, when
the definition came from YAML, its line; all problems are reported together in one
:class:`DefinitionError`. The builder in :mod:`questionnaires.loader` runs only on a
definition without problems, so it may assume the shape checked here.

Error catalogue (English wording; each has a Vietnamese twin):

* YAML that does not parse (line and column), a key given twice in one mapping;
* a missing or misspelt key, a value of the wrong kind (text, list, number, yes/no);
* a text missing one of the declared languages, or an empty text;
* an unknown question type, a code that is not a valid variable name;
* a code used twice: sections, questions and grid items (one namespace), choices of a
  question (including the not-applicable code), elements;
* a single/multiple question without at least two choices, a scale or yes/no question
  with its own choices, a grid without items, an unknown choice list;
* options that do not fit the type (min/max on a text, multiline on a number, ...);
* an element that is not declared; a scale item without an element when the
  questionnaire declares elements;
* a relevance expression that does not parse, refers to an unknown code, to the
  question itself or a later one, to a grid instead of its items, compares a
  multiple-choice answer instead of using ``selected``, or uses a choice code the
  referenced question does not have.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from questionnaires.errors import QuestionnaireError
from questionnaires.expressions import (
    Compare,
    Expression,
    ExpressionError,
    InList,
    Selected,
    parse_expression,
)
from questionnaires.model import (
    DEFAULT_LANGUAGE,
    LEFT_BLANK,
    LETTER_KEYS,
    LETTER_PLACEHOLDERS,
    QuestionType,
)

CODE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
GROUP_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")  # as the campaign's group codes

_PLACE_VI = {
    "file": "tệp",
    "questionnaire": "bảng hỏi",
    "element": "thành phần",
    "choice list": "danh sách lựa chọn",
    "section": "phần",
    "question": "câu hỏi",
    "letter": "thư mời",
    "item": "mục",
}

TOP_KEYS = {
    "id",
    "version",
    "title",
    "description",
    "languages",
    "elements",
    "not_applicable",
    "choice_lists",
    "sections",
    "duration_minutes",
    "letter",
}
SECTION_KEYS = {"code", "title", "intro", "questions"}
QUESTION_KEYS = {
    "code",
    "type",
    "text",
    "hint",
    "choices",
    "required",
    "not_applicable",
    "relevant",
    "element",
    "items",
    "min",
    "max",
    "integer",
    "multiline",
    "max_length",
}
ITEM_KEYS = {"code", "text", "element"}
CHOICE_KEYS = {"code", "label"}
ELEMENT_KEYS = {"code", "title"}

_TYPE_ONLY_KEYS = {
    "choices": {QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.GRID},
    "not_applicable": {
        QuestionType.SCALE5,
        QuestionType.SINGLE,
        QuestionType.MULTIPLE,
        QuestionType.YESNO,
        QuestionType.GRID,
    },
    "items": {QuestionType.GRID},
    "min": {QuestionType.NUMBER},
    "max": {QuestionType.NUMBER},
    "integer": {QuestionType.NUMBER},
    "multiline": {QuestionType.TEXT},
    "max_length": {QuestionType.TEXT},
    "element": {QuestionType.SCALE5, QuestionType.GRID},
}


@dataclass(frozen=True)
class Problem:
    """One thing to fix, at one place (``kind`` + ``code``), optionally at a line."""

    kind: str
    code: str
    message_vi: str
    message_en: str
    line: int | None = None

    def place_vi(self) -> str:
        return f"[{_PLACE_VI.get(self.kind, self.kind)} {self.code}]".replace(" ]", "]")

    def place_en(self) -> str:
        return f"[{self.kind} {self.code}]".replace(" ]", "]")

    def text_vi(self) -> str:
        line = f" (dòng {self.line})" if self.line else ""
        return f"{self.place_vi()} {self.message_vi}{line}"

    def text_en(self) -> str:
        line = f" (line {self.line})" if self.line else ""
        return f"{self.place_en()} {self.message_en}{line}"

    def __str__(self) -> str:
        return f"{self.text_vi()} / {self.text_en()}"


class DefinitionError(QuestionnaireError):
    """A definition with problems; ``problems`` lists every one of them."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        count = len(self.problems)
        self.message_vi = f"{where}{count} lỗi trong định nghĩa bảng hỏi:\n" + "\n".join(
            "  " + p.text_vi() for p in self.problems
        )
        self.message_en = (
            f"{where}{count} problem(s) in the questionnaire definition:\n"
            + "\n".join("  " + p.text_en() for p in self.problems)
        )
        super().__init__(f"{self.message_vi}\n{self.message_en}")


class DefinitionSyntaxError(DefinitionError):
    """The file is not valid YAML (or is not a mapping at the top)."""


class DefinitionValidationError(DefinitionError):
    """The YAML parsed but the definition breaks the rules listed in this module."""


def line_of(value: Any) -> int | None:
    """The YAML line a mapping started on, when the loader recorded it."""
    return getattr(value, "line", None)


class _Checker:
    """Walks the raw definition once, in document order, collecting problems."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.problems: list[Problem] = []
        self.languages: list[str] = [DEFAULT_LANGUAGE]
        self.elements: set[str] = set()
        self.choice_lists: dict[str, list[int]] = {}
        # answer code -> (question type, valid choice codes or None); filled in order so
        # relevance can tell earlier questions from later ones.
        self.earlier: dict[str, tuple[QuestionType | None, frozenset[int] | None]] = {}
        self.grid_codes: set[str] = set()
        self.document_codes: set[str] = set()
        self.all_codes: dict[str, str] = {}  # every question/item code -> where first used
        self.section_codes: set[str] = set()

    def add(self, kind: str, code: Any, vi: str, en: str, line: int | None = None) -> None:
        self.problems.append(Problem(kind, str(code), vi, en, line))

    # ----------------------------------------------------------------- generic checks
    def unknown_keys(self, kind: str, code: str, node: Mapping, allowed: set[str]) -> None:
        for key in node:
            if key not in allowed:
                self.add(
                    kind,
                    code,
                    f"khoá không hợp lệ «{key}» (cho phép: {', '.join(sorted(allowed))})",
                    f"unknown key «{key}» (allowed: {', '.join(sorted(allowed))})",
                    line_of(node),
                )

    def text(self, kind: str, code: str, node: Mapping, key: str, *, required: bool) -> None:
        line = line_of(node)
        if key not in node or node[key] is None:
            if required:
                self.add(kind, code, f"thiếu «{key}»", f"«{key}» is missing", line)
            return
        value = node[key]
        if isinstance(value, str):
            value = {DEFAULT_LANGUAGE: value}
        if not isinstance(value, Mapping):
            self.add(
                kind,
                code,
                f"«{key}» phải là chuỗi hoặc bảng ngôn ngữ → chuỗi (vi:, en:)",
                f"«{key}» must be a string or a language → string mapping (vi:, en:)",
                line,
            )
            return
        for lang, text in value.items():
            if lang not in self.languages:
                self.add(
                    kind,
                    code,
                    f"«{key}» có ngôn ngữ «{lang}» không được khai báo trong languages",
                    f"«{key}» has language «{lang}» that is not declared in languages",
                    line,
                )
            elif text is None or (isinstance(text, str) and not text.strip()):
                self.add(kind, code, f"«{key}» ({lang}) rỗng", f"«{key}» ({lang}) is empty", line)
            elif isinstance(text, bool) or not isinstance(text, (str, int, float)):
                self.add(
                    kind,
                    code,
                    f"«{key}» ({lang}) phải là chuỗi (đặt trong dấu nháy nếu là yes/no/true)",
                    f"«{key}» ({lang}) must be a string (quote it if it reads yes/no/true)",
                    line,
                )
        for lang in self.languages:
            if lang not in value:
                self.add(
                    kind,
                    code,
                    f"«{key}» thiếu bản ngôn ngữ «{lang}»",
                    f"«{key}» lacks the «{lang}» translation",
                    line,
                )

    def code(self, kind: str, node: Mapping, fallback: str) -> str | None:
        """Check the ``code`` key of a mapping; return it as a string or ``None``."""
        if not isinstance(node, Mapping):
            self.add(
                kind, fallback, "phải là một bảng khoá: giá trị", "must be a key: value mapping"
            )
            return None
        code = node.get("code")
        if code is None:
            self.add(kind, fallback, "thiếu «code»", "«code» is missing", line_of(node))
            return None
        code = str(code)
        if not CODE_PATTERN.fullmatch(code):
            self.add(
                kind,
                code,
                "mã phải bắt đầu bằng chữ cái, chỉ gồm chữ không dấu, số và _ (tối đa 64 ký tự)",
                "a code must start with a letter and use only ASCII letters, digits and _ (64 at most)",
                line_of(node),
            )
        return code

    def boolean(self, kind: str, code: str, node: Mapping, key: str) -> None:
        if key in node and not isinstance(node[key], bool):
            self.add(
                kind,
                code,
                f"«{key}» phải là true hoặc false",
                f"«{key}» must be true or false",
                line_of(node),
            )

    def number(self, kind: str, code: str, node: Mapping, key: str, *, whole: bool = False) -> None:
        if key not in node:
            return
        value = node[key]
        ok = isinstance(value, int) if whole else isinstance(value, (int, float))
        if not ok or isinstance(value, bool):
            kind_vi = "số nguyên" if whole else "một số"
            kind_en = "a whole number" if whole else "a number"
            self.add(
                kind,
                code,
                f"«{key}» phải là {kind_vi}",
                f"«{key}» must be {kind_en}",
                line_of(node),
            )

    def a_list(self, kind: str, code: str, node: Mapping, key: str, *, required: bool) -> list:
        value = node.get(key)
        if value is None:
            if required:
                self.add(kind, code, f"thiếu «{key}»", f"«{key}» is missing", line_of(node))
            return []
        if not isinstance(value, list):
            self.add(
                kind,
                code,
                f"«{key}» phải là một danh sách",
                f"«{key}» must be a list",
                line_of(node),
            )
            return []
        return value

    # ----------------------------------------------------------------- top level
    def run(self) -> list[Problem]:
        raw = self.raw
        qid = str(raw.get("id", "?"))
        self.unknown_keys("questionnaire", qid, raw, TOP_KEYS)
        if "id" not in raw:
            self.add("questionnaire", "", "thiếu «id»", "«id» is missing")
        elif not ID_PATTERN.fullmatch(qid):
            self.add(
                "questionnaire",
                qid,
                "«id» chỉ gồm chữ thường không dấu, số và dấu gạch ngang",
                "«id» must use lower-case ASCII letters, digits and hyphens",
            )
        if raw.get("version") in (None, ""):
            self.add("questionnaire", qid, "thiếu «version»", "«version» is missing")
        self.check_languages(qid)
        self.text("questionnaire", qid, raw, "title", required=True)
        self.text("questionnaire", qid, raw, "description", required=False)
        self.check_duration(qid)
        self.check_letter()
        self.check_elements()
        if raw.get("not_applicable") is not None:
            self.check_choices("questionnaire", qid, [raw["not_applicable"]], "not_applicable")
        self.check_choice_lists()
        sections = self.a_list("questionnaire", qid, raw, "sections", required=True)
        self.collect_document_codes(sections)
        if "sections" in raw and not sections:
            self.add("questionnaire", qid, "không có phần nào", "has no sections")
        for index, section in enumerate(sections, start=1):
            self.check_section(section, index)
        return self.problems

    def check_duration(self, qid: str) -> None:
        value = self.raw.get("duration_minutes")
        if value is None:
            return
        pair = [value] if isinstance(value, int) else value
        if (
            not isinstance(pair, list)
            or len(pair) not in (1, 2)
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
            or not 1 <= pair[0] <= pair[-1] <= 240
        ):
            self.add(
                "questionnaire",
                qid,
                "«duration_minutes» phải là số phút (ví dụ 12) hoặc [ít nhất, nhiều nhất] "
                f"(ví dụ [10, 15]), từ 1 đến 240; đang là {value!r}",
                "«duration_minutes» must be minutes (e.g. 12) or [lowest, highest] "
                f"(e.g. [10, 15]), between 1 and 240; got {value!r}",
                line_of(self.raw),
            )

    def check_letter(self) -> None:
        """The letter's texts: known keys, every language, only known placeholders."""
        letter = self.raw.get("letter")
        if letter is None:
            return
        if not isinstance(letter, Mapping):
            self.add("letter", "", "phải là một bảng khoá: giá trị", "must be a key: value mapping")
            return
        self.unknown_keys("letter", "", letter, {*LETTER_KEYS, "groups"})
        self.check_letter_texts(letter, "")
        groups = letter.get("groups")
        if groups is None:
            return
        if not isinstance(groups, Mapping):
            self.add(
                "letter",
                "groups",
                "phải là bảng nhóm đối tượng → các đoạn thư của nhóm đó",
                "must map a respondent group to that group's letter texts",
                line_of(letter),
            )
            return
        for group, texts in groups.items():
            place = f"groups.{group}"
            if not GROUP_PATTERN.fullmatch(str(group)) or not isinstance(texts, Mapping):
                self.add(
                    "letter",
                    place,
                    "mã nhóm chữ thường không dấu (citizen, official, ...) và các đoạn thư",
                    "a lower-case ASCII group code (citizen, official, ...) with letter texts",
                    line_of(groups),
                )
                continue
            self.unknown_keys("letter", place, texts, set(LETTER_KEYS))
            self.check_letter_texts(texts, place + ".")

    def check_letter_texts(self, texts: Mapping, prefix: str) -> None:
        for key in LETTER_KEYS:
            self.text("letter", prefix + key, texts, key, required=False)
            value = texts.get(key)
            translations = value.values() if isinstance(value, Mapping) else [value]
            for text in translations:
                if isinstance(text, str):
                    self.check_placeholders(prefix + key, text, line_of(texts))

    def check_placeholders(self, key: str, text: str, line: int | None) -> None:
        allowed = ", ".join("{" + name + "}" for name in LETTER_PLACEHOLDERS)
        try:
            names = [
                field for _, field, _, _ in string.Formatter().parse(text) if field is not None
            ]
        except ValueError:
            names = None
        if names is None or any(name not in LETTER_PLACEHOLDERS for name in names):
            self.add(
                "letter",
                key,
                f"chỗ thay thế không hợp lệ trong «{text[:60]}» (chỉ dùng {allowed}; "
                "dấu { } khác không được phép)",
                f"unknown placeholder in «{text[:60]}» (only {allowed}; no other {{ }} allowed)",
                line,
            )

    def collect_document_codes(self, sections: list) -> None:
        """Every question, grid and item code, so relevance can tell later from unknown."""
        for section in sections:
            questions = section.get("questions") if isinstance(section, Mapping) else None
            for question in questions if isinstance(questions, list) else ():
                if not isinstance(question, Mapping):
                    continue
                self.document_codes.add(str(question.get("code")))
                if question.get("type") == QuestionType.GRID.value:
                    self.grid_codes.add(str(question.get("code")))
                items = question.get("items")
                for item in items if isinstance(items, list) else ():
                    if isinstance(item, Mapping):
                        self.document_codes.add(str(item.get("code")))

    def check_languages(self, qid: str) -> None:
        languages = self.raw.get("languages", [DEFAULT_LANGUAGE])
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            self.add(
                "questionnaire",
                qid,
                "«languages» phải là danh sách mã ngôn ngữ",
                "«languages» must be a list of language codes",
            )
            return
        if DEFAULT_LANGUAGE not in languages:
            self.add(
                "questionnaire",
                qid,
                "«languages» phải có tiếng Việt (vi)",
                "«languages» must include Vietnamese (vi)",
            )
        if len(set(languages)) != len(languages):
            self.add("questionnaire", qid, "«languages» có mã trùng", "«languages» repeats a code")
        self.languages = list(dict.fromkeys(languages)) or [DEFAULT_LANGUAGE]

    def check_elements(self) -> None:
        for index, node in enumerate(
            self.a_list(
                "questionnaire", self.raw.get("id", "?"), self.raw, "elements", required=False
            ),
            1,
        ):
            code = self.code("element", node, f"#{index}")
            if code is None:
                continue
            self.unknown_keys("element", code, node, ELEMENT_KEYS)
            if code in self.elements:
                self.add(
                    "element",
                    code,
                    "mã thành phần bị dùng hai lần",
                    "element code is used twice",
                    line_of(node),
                )
            self.elements.add(code)
            self.text("element", code, node, "title", required=True)

    def check_choice_lists(self) -> None:
        lists = self.raw.get("choice_lists")
        if lists is None:
            return
        if not isinstance(lists, Mapping):
            self.add(
                "questionnaire",
                self.raw.get("id", "?"),
                "«choice_lists» phải là bảng tên → danh sách",
                "«choice_lists» must map names to lists",
            )
            return
        for name, choices in lists.items():
            if not isinstance(choices, list):
                self.add(
                    "choice list",
                    name,
                    "phải là một danh sách lựa chọn",
                    "must be a list of choices",
                    line_of(lists),
                )
                continue
            self.choice_lists[str(name)] = self.check_choices(
                "choice list", str(name), choices, "choices"
            )

    def check_choices(self, kind: str, code: str, choices: list, key: str) -> list[int]:
        """Check a list of choices; return their integer codes."""
        seen: list[int] = []
        for index, node in enumerate(choices, start=1):
            if not isinstance(node, Mapping):
                self.add(
                    kind,
                    code,
                    f"lựa chọn thứ {index} trong «{key}» phải có code và label",
                    f"choice #{index} in «{key}» must have code and label",
                )
                continue
            self.unknown_keys(kind, code, node, CHOICE_KEYS)
            value = node.get("code")
            if not isinstance(value, int) or isinstance(value, bool):
                self.add(
                    kind,
                    code,
                    f"mã lựa chọn «{value}» phải là số nguyên",
                    f"choice code «{value}» must be a whole number",
                    line_of(node),
                )
                continue
            if value in seen:
                self.add(
                    kind,
                    code,
                    f"mã lựa chọn {value} bị dùng hai lần",
                    f"choice code {value} is used twice",
                    line_of(node),
                )
            seen.append(value)
            self.text(kind, code, node, "label", required=True)
        return seen

    # ----------------------------------------------------------------- sections, questions
    def claim_code(self, kind: str, code: str, line: int | None) -> None:
        if code in self.all_codes:
            self.add(
                kind,
                code,
                f"mã bị dùng hai lần (đã dùng cho {_PLACE_VI.get(self.all_codes[code])})",
                f"code is used twice (already used by a {self.all_codes[code]})",
                line,
            )
        else:
            self.all_codes[code] = kind

    def check_section(self, node: Any, index: int) -> None:
        code = self.code("section", node, f"#{index}")
        if code is None:
            return
        self.unknown_keys("section", code, node, SECTION_KEYS)
        if code in self.section_codes:
            self.add(
                "section",
                code,
                "mã phần bị dùng hai lần",
                "section code is used twice",
                line_of(node),
            )
        self.section_codes.add(code)
        self.text("section", code, node, "title", required=True)
        self.text("section", code, node, "intro", required=False)
        questions = self.a_list("section", code, node, "questions", required=True)
        if "questions" in node and not questions:
            self.add("section", code, "không có câu hỏi nào", "has no questions", line_of(node))
        for position, question in enumerate(questions, start=1):
            self.check_question(question, f"{code}#{position}")

    def check_question(self, node: Any, fallback: str) -> None:
        code = self.code("question", node, fallback)
        if code is None:
            return
        line = line_of(node)
        self.unknown_keys("question", code, node, QUESTION_KEYS)
        self.claim_code("question", code, line)
        type_name = node.get("type")
        try:
            qtype = QuestionType(type_name)
        except ValueError:
            self.add(
                "question",
                code,
                f"loại câu hỏi không hợp lệ «{type_name}» (cho phép: {', '.join(t.value for t in QuestionType)})",
                f"unknown question type «{type_name}» (allowed: {', '.join(t.value for t in QuestionType)})",
                line,
            )
            qtype = None
        self.text("question", code, node, "text", required=True)
        self.text("question", code, node, "hint", required=False)
        self.boolean("question", code, node, "required")
        if qtype is not None:
            self.check_type_options(code, qtype, node)
        codes = self.question_choice_codes(code, qtype, node) if qtype else None
        if node.get("relevant") is not None:
            self.check_relevance(code, node.get("relevant"), line)
        if qtype is QuestionType.GRID:
            self.check_items(code, node, codes)
        elif qtype is None:
            self.earlier[code] = (None, None)  # reported above; later references are fine
        else:
            self.earlier[code] = (qtype, frozenset(codes) if codes is not None else None)
            if qtype is QuestionType.MULTIPLE and codes:
                for choice in codes:
                    dummy = f"{code}_{choice}"
                    if dummy in self.all_codes:
                        self.add(
                            "question",
                            code,
                            f"biến xuất «{dummy}» của lựa chọn {choice} trùng với một mã khác",
                            f"export variable «{dummy}» of choice {choice} clashes with another code",
                            line,
                        )
        if qtype is QuestionType.SCALE5 and "element" not in node:
            self.check_element_required(code, line)

    def check_type_options(self, code: str, qtype: QuestionType, node: Mapping) -> None:
        line = line_of(node)
        for key, types in _TYPE_ONLY_KEYS.items():
            if key in node and qtype not in types:
                self.add(
                    "question",
                    code,
                    f"«{key}» không dùng được với loại {qtype.value}",
                    f"«{key}» does not apply to type {qtype.value}",
                    line,
                )
        self.number("question", code, node, "min")
        self.number("question", code, node, "max")
        self.number("question", code, node, "max_length", whole=True)
        self.boolean("question", code, node, "integer")
        self.boolean("question", code, node, "multiline")
        low, high = node.get("min"), node.get("max")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low > high:
            self.add(
                "question",
                code,
                f"min {low} lớn hơn max {high}",
                f"min {low} is greater than max {high}",
                line,
            )
        element = node.get("element")
        if element is not None and str(element) not in self.elements:
            self.add(
                "question",
                code,
                f"thành phần «{element}» chưa được khai báo trong elements",
                f"element «{element}» is not declared in elements",
                line,
            )

    def question_choice_codes(
        self, code: str, qtype: QuestionType, node: Mapping
    ) -> list[int] | None:
        """Check choices and the not-applicable option; return every valid code."""
        line = line_of(node)
        if not qtype.has_choices:
            return None
        if qtype in (QuestionType.SCALE5, QuestionType.YESNO):
            codes = [1, 2, 3, 4, 5] if qtype is QuestionType.SCALE5 else [1, 2]
            if "choices" in node:
                codes = []  # reported by check_type_options
        else:
            choices = node.get("choices")
            if choices is None and qtype is QuestionType.GRID:
                codes = [1, 2, 3, 4, 5]
            elif isinstance(choices, str):
                if choices not in self.choice_lists:
                    self.add(
                        "question",
                        code,
                        f"danh sách lựa chọn «{choices}» không có trong choice_lists",
                        f"choice list «{choices}» is not defined in choice_lists",
                        line,
                    )
                    return None
                codes = list(self.choice_lists[choices])
            elif isinstance(choices, list):
                codes = self.check_choices("question", code, choices, "choices")
            else:
                self.add(
                    "question",
                    code,
                    "thiếu «choices» (danh sách hoặc tên trong choice_lists)",
                    "«choices» is missing (a list or a name from choice_lists)",
                    line,
                )
                return None
            if len(set(codes)) < 2:
                self.add(
                    "question", code, "cần ít nhất hai lựa chọn", "needs at least two choices", line
                )
        na = node.get("not_applicable")
        if na is None or na is False:
            return self.check_left_blank_free(code, codes, line)
        if na is True:
            default = self.raw.get("not_applicable")
            na_code = default.get("code") if isinstance(default, Mapping) else 9
        elif isinstance(na, Mapping):
            found = self.check_choices("question", code, [na], "not_applicable")
            na_code = found[0] if found else None
        else:
            self.add(
                "question",
                code,
                "«not_applicable» phải là true hoặc một lựa chọn {code, label}",
                "«not_applicable» must be true or a {code, label} choice",
                line,
            )
            return codes
        if isinstance(na_code, int) and na_code in codes:
            self.add(
                "question",
                code,
                f"mã lựa chọn {na_code} bị dùng hai lần (không áp dụng trùng với một lựa chọn)",
                f"choice code {na_code} is used twice (not-applicable clashes with a choice)",
                line,
            )
        codes = [*codes, na_code] if isinstance(na_code, int) else codes
        return self.check_left_blank_free(code, codes, line)

    def check_left_blank_free(self, code: str, codes: list[int], line: int | None) -> list[int]:
        if LEFT_BLANK.code in codes:
            self.add(
                "question",
                code,
                f"mã {LEFT_BLANK.code} dành cho «để trống trên phiếu»; hãy dùng mã khác",
                f"code {LEFT_BLANK.code} is kept for «left blank on the form»; use another code",
                line,
            )
        return codes

    def check_items(self, code: str, node: Mapping, codes: list[int] | None) -> None:
        line = line_of(node)
        items = self.a_list("question", code, node, "items", required=False)
        if not items:
            self.add(
                "question", code, "lưới câu hỏi không có mục nào (items)", "grid has no items", line
            )
        for index, item in enumerate(items, start=1):
            item_code = self.code("item", item, f"{code}#{index}")
            if item_code is None:
                continue
            self.unknown_keys("item", item_code, item, ITEM_KEYS)
            self.claim_code("item", item_code, line_of(item))
            self.text("item", item_code, item, "text", required=True)
            element = item.get("element")
            if element is not None and str(element) not in self.elements:
                self.add(
                    "item",
                    item_code,
                    f"thành phần «{element}» chưa được khai báo trong elements",
                    f"element «{element}» is not declared in elements",
                    line_of(item),
                )
            if "element" not in node and "element" not in item:
                self.check_element_required(item_code, line_of(item), kind="item")
            self.earlier[item_code] = (QuestionType.GRID, frozenset(codes) if codes else None)

    def check_element_required(self, code: str, line: int | None, kind: str = "question") -> None:
        # `element: null` written out opts an item out (an overall rating, for example).
        if self.elements:
            self.add(
                kind,
                code,
                "câu hỏi thang đo thiếu «element» (bảng hỏi có khai báo thành phần; "
                "ghi element: null nếu câu không thuộc thành phần nào)",
                "scale item has no «element» although the questionnaire declares elements "
                "(write element: null for an item outside every element)",
                line,
            )

    # ----------------------------------------------------------------- relevance
    def check_relevance(self, code: str, source: Any, line: int | None) -> None:
        if not isinstance(source, str):
            self.add(
                "question",
                code,
                "«relevant» phải là một chuỗi biểu thức",
                "«relevant» must be an expression string",
                line,
            )
            return
        try:
            expression = parse_expression(source)
        except ExpressionError as error:
            self.add(
                "question",
                code,
                f"điều kiện «relevant» sai: {error.message_vi}",
                f"bad «relevant» condition: {error.message_en}",
                line,
            )
            return
        for problem in relevance_problems(
            expression, code, self.earlier, self.grid_codes, self.document_codes
        ):
            self.add("question", code, problem[0], problem[1], line)


def relevance_problems(
    expression: Expression,
    code: str,
    earlier: Mapping[str, tuple[QuestionType | None, frozenset[int] | None]],
    grid_codes: set[str] | frozenset[str] = frozenset(),
    known_codes: Mapping[str, Any] | set[str] = frozenset(),
) -> list[tuple[str, str]]:
    """(vi, en) messages for references to unknown, later or unsuitable questions."""
    messages: list[tuple[str, str]] = []
    for node in _walk(expression):
        ref = getattr(node, "code", None)
        if ref is None:
            continue
        if ref in grid_codes:
            messages.append(
                (
                    f"điều kiện tham chiếu lưới «{ref}»; hãy tham chiếu từng mục của lưới",
                    f"condition refers to grid «{ref}»; refer to one of its items instead",
                )
            )
            continue
        if ref not in earlier:
            if ref == code:
                messages.append(
                    (
                        f"điều kiện tham chiếu chính câu hỏi «{ref}»",
                        f"condition refers to the question itself «{ref}»",
                    )
                )
            elif ref in known_codes:
                messages.append(
                    (
                        f"điều kiện tham chiếu câu hỏi «{ref}» nằm sau; chỉ được dùng câu hỏi phía trước",
                        f"condition refers to «{ref}», which comes later; only earlier questions may be used",
                    )
                )
            else:
                messages.append(
                    (
                        f"điều kiện tham chiếu mã không tồn tại «{ref}»",
                        f"condition refers to unknown code «{ref}»",
                    )
                )
            continue
        messages.extend(_literal_problems(node, earlier[ref]))
    return messages


def _literal_problems(
    node: Expression, referenced: tuple[QuestionType | None, frozenset[int] | None]
) -> list[tuple[str, str]]:
    qtype, codes = referenced
    ref = node.code  # type: ignore[attr-defined]
    if qtype is None:
        return []
    if qtype is QuestionType.MULTIPLE and isinstance(node, (Compare, InList)):
        return [
            (
                f"«{ref}» là câu nhiều lựa chọn: dùng selected({ref}, mã)",
                f"«{ref}» is multiple choice: use selected({ref}, code)",
            )
        ]
    if isinstance(node, Selected) and not qtype.has_choices:
        return [
            (
                f"selected() chỉ dùng cho câu lựa chọn, «{ref}» là {qtype.value}",
                f"selected() needs a choice question, «{ref}» is {qtype.value}",
            )
        ]
    if not codes:
        return []
    values: tuple[Any, ...] = ()
    if isinstance(node, Compare) and node.op in ("=", "!="):
        values = (node.value,)
    elif isinstance(node, InList):
        values = node.values
    elif isinstance(node, Selected):
        values = (node.value,)
    wrong = [v for v in values if not (isinstance(v, int) and v in codes)]
    return [
        (
            f"«{ref}» không có mã lựa chọn {v!r} (có: {', '.join(map(str, sorted(codes)))})",
            f"«{ref}» has no choice code {v!r} (valid: {', '.join(map(str, sorted(codes)))})",
        )
        for v in wrong
    ]


def _walk(expression: Expression):
    yield expression
    for child in getattr(expression, "operands", ()):
        yield from _walk(child)
    operand = getattr(expression, "operand", None)
    if operand is not None:
        yield from _walk(operand)


def validate_definition(raw: Any) -> list[Problem]:
    """Every problem in a raw definition (empty when it is valid)."""
    if not isinstance(raw, Mapping):
        return [
            Problem(
                "file",
                "",
                "nội dung phải là một bảng khoá: giá trị (id, version, title, sections, ...)",
                "the content must be a key: value mapping (id, version, title, sections, ...)",
            )
        ]
    return _Checker(raw).run()
