"""XLSForm (ODK, KoboToolbox, SurveyCTO) import and export.

Supported subset, both ways:

* sheets ``survey``, ``choices``, ``settings`` (``form_title``, ``form_id``, ``version``,
  ``default_language``); labels and hints per language in ``label::Vietnamese (vi)`` /
  ``label::English (en)`` columns (a plain ``label`` is the default language);
* types ``select_one L``, ``select_multiple L``, ``text``, ``integer``, ``decimal``,
  ``date``, ``begin group``/``end group``; columns ``relevant`` (the XPath subset of
  :func:`questionnaires.expressions.parse_xpath`), ``required``, ``appearance``
  (``multiline``), ``constraint`` only as a range (``. >= 1 and . <= 12``) or a text length
  (``string-length(.) <= 200``);
* a top-level group is a section (its hint is the section intro); a group inside a
  section whose questions are all ``select_one`` of one list is a grid, any other inner
  group is flattened into the section with its relevance joined to its questions';
* choice names must be integers; a list with other names is numbered 1, 2, ... in
  order (a note says so) and relevance literals are translated.

Extra columns that pyxform ignores carry what XLSForm cannot say: ``element`` (index
element), ``par_type`` (``scale5``/``yesno``, otherwise guessed from the standard labels)
on the survey sheet, ``not_applicable`` on the choices sheet, and a ``par_definition``
sheet with the titles in every language and the element titles.

Everything else (repeats, calculate, notes, other constraints, choice filters, media,
defaults, ...) is refused: :class:`XLSFormError` lists every unsupported feature and every
bad cell by sheet, row and column, in Vietnamese and English.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from questionnaires.errors import QuestionnaireError
from questionnaires.expressions import (
    BoolOp,
    Compare,
    Expression,
    ExpressionError,
    InList,
    Not,
    Selected,
    parse_expression,
    parse_xpath,
)
from questionnaires.loader import build_questionnaire
from questionnaires.model import (
    DEFAULT_LANGUAGE,
    SCALE5_CHOICES,
    YESNO_CHOICES,
    Choice,
    Question,
    Questionnaire,
    QuestionType,
    Text,
)

LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English", "fr": "French", "zh": "Chinese"}
_NAME_TO_CODE = {name.lower(): code for code, name in LANGUAGE_NAMES.items()} | {
    "tiếng việt": "vi",
    "tieng viet": "vi",
}
METADATA_SHEET = "par_definition"

# Types pyxform fills in by itself (device metadata): no question, nothing to import.
_METADATA_TYPES = {
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "phonenumber",
    "simserial",
    "subscriberid",
    "audit",
    "email",
}
_KNOWN_CHOICE_COLUMNS = {"list_name", "list name", "name", "label", "not_applicable"}
_KNOWN_SURVEY_COLUMNS = {
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "appearance",
    "constraint",
    "constraint_message",
    "required_message",
    "element",
    "par_type",
}


@dataclass(frozen=True)
class SheetProblem:
    sheet: str
    row: int | None
    column: str | None
    message_vi: str
    message_en: str

    def place(self, lang: str) -> str:
        parts = [f"{'trang' if lang == 'vi' else 'sheet'} {self.sheet}"]
        if self.row:
            parts.append(f"{'dòng' if lang == 'vi' else 'row'} {self.row}")
        if self.column:
            parts.append(f"{'cột' if lang == 'vi' else 'column'} {self.column}")
        return "[" + ", ".join(parts) + "]"


class XLSFormError(QuestionnaireError):
    """A workbook that cannot be imported (or a definition that cannot be exported)."""

    def __init__(self, problems: Iterable[SheetProblem], source: str | None = None):
        self.problems = list(problems)
        where = f"{source}: " if source else ""
        self.message_vi = (
            f"{where}không nhập được XLSForm ({len(self.problems)} lỗi):\n"
            + "\n".join(f"  {p.place('vi')} {p.message_vi}" for p in self.problems)
        )
        self.message_en = (
            f"{where}cannot import the XLSForm ({len(self.problems)} problem(s)):\n"
            + "\n".join(f"  {p.place('en')} {p.message_en}" for p in self.problems)
        )
        super().__init__(f"{self.message_vi}\n{self.message_en}")


# --------------------------------------------------------------------------- export


def _language_header(kind: str, lang: str) -> str:
    return f"{kind}::{LANGUAGE_NAMES.get(lang, lang)} ({lang})"


class _ListNamer:
    """Gives each distinct choice list (choices + not-applicable) one XLSForm list name."""

    def __init__(self) -> None:
        self.names: dict[tuple, str] = {}
        self.lists: list[tuple[str, tuple[Choice, ...], Choice | None]] = []

    def name_for(self, q: Question) -> str:
        key = (q.choices, q.not_applicable)
        if key not in self.names:
            if q.choices == SCALE5_CHOICES:
                base = "scale5"
            elif q.choices == YESNO_CHOICES:
                base = "yesno"
            else:
                base = q.code
            name = base + ("_na" if q.not_applicable else "")
            while name in self.names.values():
                name += "_"
            self.names[key] = name
            self.lists.append((name, q.choices, q.not_applicable))
        return self.names[key]


def _xpath(source: str | None) -> str:
    return parse_expression(source).to_xpath() if source else ""


def _constraint(q: Question) -> str:
    if q.type is QuestionType.NUMBER:
        parts = []
        if q.minimum is not None:
            parts.append(f". >= {q.minimum:g}")
        if q.maximum is not None:
            parts.append(f". <= {q.maximum:g}")
        return " and ".join(parts)
    if q.type is QuestionType.TEXT and q.max_length is not None:
        return f"string-length(.) <= {q.max_length}"
    return ""


_XLSFORM_TYPE = {
    QuestionType.TEXT: "text",
    QuestionType.DATE: "date",
}


def _survey_rows(questionnaire: Questionnaire, namer: _ListNamer) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def texts(kind: str, text: Text | None) -> dict[str, str]:
        return {
            _language_header(kind, lang): (text.get(lang) if text is not None else "")
            for lang in questionnaire.languages
        }

    for section in questionnaire.sections:
        rows.append(
            {"type": "begin group", "name": section.code}
            | texts("label", section.title)
            | texts("hint", section.intro)
        )
        for q in section.questions:
            common = {"required": "yes" if q.required else "", "relevant": _xpath(q.relevant)}
            if q.type is QuestionType.GRID:
                list_name = namer.name_for(q)
                rows.append(
                    {"type": "begin group", "name": q.code, "appearance": "field-list"}
                    | texts("label", q.text)
                    | texts("hint", q.hint)
                    | {
                        "relevant": common["relevant"],
                        "element": q.element or "",
                        "par_type": "grid",
                    }
                )
                for item in q.items:
                    rows.append(
                        {"type": f"select_one {list_name}", "name": item.code}
                        | texts("label", item.text)
                        | texts("hint", None)
                        | {"required": common["required"], "element": item.element or ""}
                    )
                rows.append({"type": "end group"})
                continue
            if q.type.has_choices:
                kind = "select_multiple" if q.type is QuestionType.MULTIPLE else "select_one"
                xls_type = f"{kind} {namer.name_for(q)}"
            elif q.type is QuestionType.NUMBER:
                xls_type = "integer" if q.integer else "decimal"
            else:
                xls_type = _XLSFORM_TYPE[q.type]
            par_type = q.type.value if q.type in (QuestionType.SCALE5, QuestionType.YESNO) else ""
            rows.append(
                {"type": xls_type, "name": q.code}
                | texts("label", q.text)
                | texts("hint", q.hint)
                | common
                | {
                    "constraint": _constraint(q),
                    "appearance": "multiline" if q.multiline else "",
                    "element": q.element or "",
                    "par_type": par_type,
                }
            )
        rows.append({"type": "end group"})
    return rows


def _write_sheet(
    workbook: Any, title: str, header: list[str], rows: Iterable[Mapping[str, Any]]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column, "") for column in header])


def export_xlsform(questionnaire: Questionnaire, path: str | Path | io.BytesIO) -> None:
    """Write an XLSForm workbook that pyxform converts (see the module doc for the mapping)."""
    import openpyxl

    namer = _ListNamer()
    survey = _survey_rows(questionnaire, namer)
    languages = questionnaire.languages
    label_headers = [_language_header("label", lang) for lang in languages]
    hint_headers = [_language_header("hint", lang) for lang in languages]
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    _write_sheet(
        workbook,
        "survey",
        ["type", "name", *label_headers, *hint_headers, "required", "relevant", "constraint"]
        + ["appearance", "element", "par_type"],
        survey,
    )
    choice_rows = []
    for name, choices, not_applicable in namer.lists:
        for choice in (*choices, *([not_applicable] if not_applicable else [])):
            row = {"list_name": name, "name": str(choice.code)}
            row |= {_language_header("label", lang): choice.label.get(lang) for lang in languages}
            row["not_applicable"] = "yes" if choice is not_applicable else ""
            choice_rows.append(row)
    _write_sheet(
        workbook, "choices", ["list_name", "name", *label_headers, "not_applicable"], choice_rows
    )
    _write_sheet(
        workbook,
        "settings",
        ["form_title", "form_id", "version", "default_language"],
        [
            {
                "form_title": questionnaire.title.get(DEFAULT_LANGUAGE),
                "form_id": questionnaire.id,
                "version": questionnaire.version,
                "default_language": f"{LANGUAGE_NAMES[DEFAULT_LANGUAGE]} ({DEFAULT_LANGUAGE})",
            }
        ],
    )
    metadata = [{"kind": "title", "code": ""} | _labels(questionnaire.title, languages)]
    if questionnaire.description is not None:
        metadata.append(
            {"kind": "description", "code": ""} | _labels(questionnaire.description, languages)
        )
    for element in questionnaire.index_elements:
        metadata.append(
            {"kind": "element", "code": element.code} | _labels(element.title, languages)
        )
    _write_sheet(workbook, METADATA_SHEET, ["kind", "code", *label_headers], metadata)
    workbook.save(path)


def _labels(text: Text, languages: Iterable[str]) -> dict[str, str]:
    return {_language_header("label", lang): text.get(lang) for lang in languages}


# --------------------------------------------------------------------------- import: sheets


@dataclass
class _Sheet:
    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (row number in the workbook, cells by header)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_sheets(path: str | Path | io.BytesIO, source: str) -> dict[str, _Sheet]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not XLSX
        raise XLSFormError(
            [
                SheetProblem(
                    "—",
                    None,
                    None,
                    f"không mở được tệp Excel (.xlsx): {error}",
                    f"cannot open the Excel (.xlsx) file: {error}",
                )
            ],
            source,
        ) from None
    sheets = {}
    try:
        for worksheet in workbook.worksheets:
            values = list(worksheet.iter_rows(values_only=True))
            if not values:
                continue
            header = [str(_cell(h) or "").strip() for h in values[0]]
            normalised = [_normalise_header(h) for h in header]
            rows = []
            for number, raw in enumerate(values[1:], start=2):
                cells = {
                    normalised[i]: _cell(v)
                    for i, v in enumerate(raw)
                    if i < len(normalised) and normalised[i]
                }
                if any(v is not None for v in cells.values()):
                    rows.append((number, cells))
            sheets[worksheet.title.strip().lower()] = _Sheet(worksheet.title, normalised, rows)
    finally:
        workbook.close()
    return sheets


def _normalise_header(header: str) -> str:
    # pyxform accepts "label::English (en)" and "label:: English (en)"; keep one spelling.
    if "::" in header:
        kind, _, language = header.partition("::")
        return f"{kind.strip().lower()}::{language.strip()}"
    return header.strip().lower()


def _language_of(spec: str, problems: list[SheetProblem], sheet: str, column: str) -> str | None:
    match = re.fullmatch(r".*\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*", spec)
    if match:
        return match.group(1).lower()
    code = _NAME_TO_CODE.get(spec.strip().lower())
    if code is None and re.fullmatch(r"[a-z]{2}", spec.strip()):
        code = spec.strip()
    if code is None:
        problems.append(
            SheetProblem(
                sheet,
                1,
                column,
                f"không rõ mã ngôn ngữ của cột «{column}»; hãy ghi dạng «label::Tên (mã)», ví dụ «label::English (en)»",
                f"cannot tell the language code of column «{column}»; write it as «label::Name (code)», e.g. «label::English (en)»",
            )
        )
    return code


def _texts(cells: Mapping[str, Any], kind: str, languages: Mapping[str, str]) -> dict[str, str]:
    """Language → text from the ``kind`` columns (``languages`` maps column → language)."""
    out = {}
    for column, lang in languages.items():
        if column.split("::")[0] == kind and str(cells.get(column) or "").strip():
            out[lang] = str(cells[column])
    return out


# --------------------------------------------------------------------------- import: converting


_TRUE = {"yes", "true", "true()", "1", "y"}
_FALSE = {"no", "false", "false()", "0", "n"}


class _Importer:
    def __init__(self, sheets: dict[str, _Sheet]):
        self.sheets = sheets
        self.problems: list[SheetProblem] = []
        self.notes: list[str] = []
        self.columns: dict[str, dict[str, str]] = {}  # sheet -> column -> language
        self.default_language = DEFAULT_LANGUAGE
        self.languages: list[str] = []
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.list_codes: dict[str, dict[str, int]] = {}  # list -> choice name -> code
        self.question_list: dict[str, str] = {}  # question code -> list name

    def problem(self, sheet: str, row: int | None, column: str | None, vi: str, en: str) -> None:
        self.problems.append(SheetProblem(sheet, row, column, vi, en))

    def texts(self, sheet: str, row: int, cells: Mapping[str, Any], kind: str) -> dict[str, str]:
        """Language → text of a row's ``kind`` cells. A language the form has but this row
        leaves empty gets the default language's text, with a warning naming the row (ODK
        and KoboToolbox accept such forms; pyxform only warns about missing columns)."""
        columns = self.columns.get(sheet, {})
        found = _texts(cells, kind, columns)
        if not found:
            return found
        source = next(
            (lang for lang in (self.default_language, DEFAULT_LANGUAGE) if lang in found),
            next(iter(found)),
        )
        for lang in self.languages:
            if lang in found:
                continue
            found[lang] = found[source]
            column = next(
                (
                    c
                    for c, language in columns.items()
                    if language == lang and c.split("::")[0] == kind
                ),
                _language_header(kind, lang),
            )
            name = LANGUAGE_NAMES.get(source, source)
            self.notes.append(
                f"trang {sheet}, dòng {row}, cột «{column}»: để trống, dùng bản «{source}» / "
                f"sheet {sheet}, row {row}, column «{column}»: empty, the {name} ({source}) "
                "text is used"
            )
        return found

    # -- languages
    def detect_languages(self) -> None:
        settings = self.sheets.get("settings")
        if settings and settings.rows:
            spec = settings.rows[0][1].get("default_language")
            if spec:
                self.default_language = (
                    _language_of(str(spec), self.problems, "settings", "default_language")
                    or DEFAULT_LANGUAGE
                )
        found: list[str] = []
        for key in ("survey", "choices", METADATA_SHEET):
            sheet = self.sheets.get(key)
            if sheet is None:
                continue
            mapping = {}
            for column in sheet.header:
                kind = column.split("::")[0]
                if kind not in ("label", "hint", "constraint_message", "required_message"):
                    continue
                if "::" in column:
                    lang = _language_of(column.split("::", 1)[1], self.problems, sheet.name, column)
                else:
                    lang = self.default_language
                if lang:
                    mapping[column] = lang
                    if kind == "label" and lang not in found:
                        found.append(lang)
            self.columns[key] = mapping
        found.sort(key=lambda lang: lang != DEFAULT_LANGUAGE)
        self.languages = found or [DEFAULT_LANGUAGE]

    # -- choices
    def read_choices(self) -> None:
        sheet = self.sheets.get("choices")
        if sheet is None:
            return
        for column in sheet.header:
            if column and column.split("::")[0] not in _KNOWN_CHOICE_COLUMNS:
                self.unsupported_column(sheet, column)
        for number, cells in sheet.rows:
            list_name = cells.get("list_name") or cells.get("list name")
            name = cells.get("name")
            if list_name is None or name is None:
                self.problem(
                    sheet.name,
                    number,
                    "list_name/name",
                    "thiếu list_name hoặc name",
                    "list_name or name is missing",
                )
                continue
            labels = self.texts(sheet.name, number, cells, "label")
            if not labels:
                self.problem(
                    sheet.name, number, "label", "lựa chọn không có nhãn", "the choice has no label"
                )
            self.lists.setdefault(str(list_name), []).append(
                {
                    "name": str(name),
                    "label": labels,
                    "na": _truthy(cells.get("not_applicable")),
                    "row": number,
                }
            )
        for list_name, entries in self.lists.items():
            self.list_codes[list_name] = self.number_choices(list_name, entries)

    def unsupported_column(self, sheet: _Sheet, column: str) -> None:
        if any(cells.get(column) is not None for _, cells in sheet.rows):
            self.problem(
                sheet.name,
                1,
                column,
                f"cột «{column}» chưa được hỗ trợ",
                f"column «{column}» is not supported",
            )

    def number_choices(self, list_name: str, entries: list[dict[str, Any]]) -> dict[str, int]:
        names = [e["name"] for e in entries]
        if all(re.fullmatch(r"-?\d+", n) for n in names):
            return {n: int(n) for n in names}
        codes, next_code = {}, 1
        for entry in entries:
            if not entry["na"]:
                codes[entry["name"]] = next_code
                next_code += 1
        for entry in entries:
            if entry["na"]:
                codes[entry["name"]] = 9 if next_code <= 9 else 99
        self.notes.append(
            f"Danh sách «{list_name}»: tên lựa chọn không phải số, đã đánh mã / choice names are not numbers, coded as "
            + ", ".join(f"{n}={c}" for n, c in codes.items())
        )
        return codes

    def choice_nodes(self, list_name: str) -> tuple[list[dict], dict | None]:
        codes = self.list_codes[list_name]
        choices, na = [], None
        for entry in self.lists[list_name]:
            node = {"code": codes[entry["name"]], "label": dict(entry["label"])}
            if entry["na"]:
                na = node
            else:
                choices.append(node)
        return choices, na

    # -- survey
    def read_survey(self) -> list[dict[str, Any]]:
        sheet = self.sheets["survey"]
        for column in sheet.header:
            if column and column.split("::")[0] not in _KNOWN_SURVEY_COLUMNS:
                self.unsupported_column(sheet, column)
        sections: list[dict[str, Any]] = []
        stack: list[dict[str, Any]] = []  # open groups: sections then inner groups
        loose: dict[str, Any] | None = None
        for number, cells in sheet.rows:
            kind = re.sub(r"\s+", " ", str(cells.get("type") or "")).strip()
            base = kind.replace("_", " ").lower()
            if not kind:
                self.problem(
                    sheet.name,
                    number,
                    "type",
                    "dòng có dữ liệu nhưng thiếu type",
                    "the row has data but no type",
                )
                continue
            if base == "begin group":
                group = self.group(cells, number)
                if not stack:
                    sections.append(group)
                    loose = None
                elif len(stack) >= 2:
                    self.problem(
                        sheet.name,
                        number,
                        "type",
                        "nhóm lồng quá hai cấp chưa được hỗ trợ",
                        "groups nested more than two deep are not supported",
                    )
                stack.append(group)
            elif base == "end group":
                if not stack:
                    self.problem(
                        sheet.name,
                        number,
                        "type",
                        "end group không có begin group tương ứng",
                        "end group without a matching begin group",
                    )
                    continue
                group = stack.pop()
                if stack:
                    stack[0]["questions"].extend(self.close_inner_group(group))
            elif base.split(" ")[0] in _METADATA_TYPES:
                continue
            else:
                question = self.question(cells, number, kind)
                if question is None:
                    continue
                if stack:
                    stack[-1]["questions"].append(question)
                else:
                    if loose is None:
                        loose = {
                            "code": f"S{len(sections) + 1}",
                            "title": None,
                            "questions": [],
                            "row": number,
                        }
                        sections.append(loose)
                    loose["questions"].append(question)
        for group in stack:
            self.problem(
                sheet.name,
                group["row"],
                "type",
                f"nhóm «{group['code']}» thiếu end group",
                f"group «{group['code']}» has no end group",
            )
        return sections

    def group(self, cells: Mapping[str, Any], number: int) -> dict[str, Any]:
        return {
            "code": str(cells.get("name") or f"G{number}"),
            "title": self.texts("survey", number, cells, "label") or None,
            "intro": self.texts("survey", number, cells, "hint") or None,
            "relevant": self.relevance(cells, number),
            "element": cells.get("element"),
            "questions": [],
            "row": number,
        }

    def close_inner_group(self, group: dict[str, Any]) -> list[dict[str, Any]]:
        """A grid when every question is a select_one of one list; else flattened."""
        questions = group["questions"]
        lists = {self.question_list.get(q["code"]) for q in questions}
        is_grid = (
            questions
            and all(q.get("_select") == "select_one" for q in questions)
            and len(lists) == 1
            and not any(q.get("relevant") for q in questions)
            and all(not q.get("items") for q in questions)
        )
        if not is_grid:
            for q in questions:
                q["relevant"] = _join(group["relevant"], q.get("relevant"))
                q.pop("_select", None)
            return questions
        first = questions[0]
        grid: dict[str, Any] = {
            "code": group["code"],
            "type": QuestionType.GRID.value,
            "text": group["title"] or first["text"],
            "required": all(q.get("required") for q in questions),
        }
        if group["intro"]:
            grid["hint"] = group["intro"]
        if group["relevant"]:
            grid["relevant"] = group["relevant"]
        if first["type"] != QuestionType.SCALE5.value:
            choices, na = self.choice_nodes(lists.pop())
            grid["choices"] = choices
            if na:
                grid["not_applicable"] = na
        elif "not_applicable" in first:
            grid["not_applicable"] = first["not_applicable"]
        grid["element"] = group["element"]
        grid["items"] = [
            {"code": q["code"], "text": q["text"]}
            | ({"element": q["element"]} if q.get("element") else {})
            for q in questions
        ]
        return [grid]

    def relevance(self, cells: Mapping[str, Any], number: int) -> str | None:
        source = cells.get("relevant")
        if source is None:
            return None
        try:
            expression = parse_xpath(str(source))
        except ExpressionError as error:
            self.problem("survey", number, "relevant", error.message_vi, error.message_en)
            return None
        return self.translate_literals(expression).to_source()

    def translate_literals(self, expression: Expression) -> Expression:
        """Choice names of renumbered lists become their codes inside relevance."""

        def code_of(ref: str, value: Any) -> Any:
            codes = self.list_codes.get(self.question_list.get(ref, ""), {})
            return codes.get(str(value), value)

        if isinstance(expression, Compare):
            return Compare(
                expression.code, expression.op, code_of(expression.code, expression.value)
            )
        if isinstance(expression, Selected):
            return Selected(expression.code, code_of(expression.code, expression.value))
        if isinstance(expression, InList):
            return InList(
                expression.code, tuple(code_of(expression.code, v) for v in expression.values)
            )
        if isinstance(expression, Not):
            return Not(self.translate_literals(expression.operand))
        if isinstance(expression, BoolOp):
            return BoolOp(
                expression.op, tuple(self.translate_literals(o) for o in expression.operands)
            )
        return expression

    def question(self, cells: Mapping[str, Any], number: int, kind: str) -> dict[str, Any] | None:
        name = cells.get("name")
        if name is None:
            self.problem("survey", number, "name", "thiếu name", "name is missing")
            return None
        code = str(name)
        parts = kind.split()
        xls_type = parts[0].lower()
        node: dict[str, Any] = {
            "code": code,
            "text": self.texts("survey", number, cells, "label") or None,
        }
        hint = self.texts("survey", number, cells, "hint")
        if hint:
            node["hint"] = hint
        node["required"] = self.required(cells, number)
        if xls_type in ("select_one", "select_multiple"):
            if len(parts) > 2:
                self.problem(
                    "survey",
                    number,
                    "type",
                    f"«{' '.join(parts[2:])}» (ví dụ or_other) chưa được hỗ trợ",
                    f"«{' '.join(parts[2:])}» (such as or_other) is not supported",
                )
                return None
            if len(parts) != 2 or parts[1] not in self.lists:
                self.problem(
                    "survey",
                    number,
                    "type",
                    f"danh sách lựa chọn «{' '.join(parts[1:])}» không có trong trang choices",
                    f"choice list «{' '.join(parts[1:])}» is not on the choices sheet",
                )
                return None
            self.select(node, xls_type, parts[1], cells)
        elif xls_type in ("integer", "int", "decimal"):
            node["type"] = QuestionType.NUMBER.value
            if xls_type == "decimal":
                node["integer"] = False
        elif xls_type == "text":
            node["type"] = QuestionType.TEXT.value
            if "multiline" in str(cells.get("appearance") or ""):
                node["multiline"] = True
        elif xls_type == "date":
            node["type"] = QuestionType.DATE.value
        else:
            self.problem(
                "survey",
                number,
                "type",
                f"loại «{kind}» chưa được hỗ trợ",
                f"type «{kind}» is not supported",
            )
            return None
        self.constraint(node, cells, number)
        relevant = self.relevance(cells, number)
        if relevant:
            node["relevant"] = relevant
        return node

    def required(self, cells: Mapping[str, Any], number: int) -> bool:
        value = cells.get("required")
        if value is None or value is False:
            return False
        if value is True or str(value).strip().lower() in _TRUE:
            return True
        if str(value).strip().lower() in _FALSE:
            return False
        self.problem(
            "survey",
            number,
            "required",
            f"required «{value}» chưa được hỗ trợ (chỉ yes/no)",
            f"required «{value}» is not supported (only yes/no)",
        )
        return False

    def select(
        self, node: dict[str, Any], xls_type: str, list_name: str, cells: Mapping[str, Any]
    ) -> None:
        self.question_list[node["code"]] = list_name
        node["_select"] = xls_type
        choices, na = self.choice_nodes(list_name)
        if xls_type == "select_multiple":
            qtype = QuestionType.MULTIPLE
        else:
            qtype = _select_one_type(cells.get("par_type"), choices)
        node["type"] = qtype.value
        if qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            node["choices"] = choices
        if na:
            node["not_applicable"] = na
        if qtype is QuestionType.SCALE5:
            node["element"] = cells.get("element")  # empty: an item outside every element
        elif cells.get("element") is not None:
            node["element"] = cells.get("element")

    def constraint(self, node: dict[str, Any], cells: Mapping[str, Any], number: int) -> None:
        source = cells.get("constraint")
        if source is None:
            return
        text = re.sub(r"\s+", " ", str(source)).strip()
        number_pattern = r"(-?\d+(?:\.\d+)?)"
        if node["type"] == QuestionType.NUMBER.value:
            low = re.fullmatch(rf"\. ?>= ?{number_pattern}", text)
            high = re.fullmatch(rf"\. ?<= ?{number_pattern}", text)
            both = re.fullmatch(rf"\. ?>= ?{number_pattern} and \. ?<= ?{number_pattern}", text)
            if both:
                node["min"], node["max"] = _number(both.group(1)), _number(both.group(2))
                return
            if low:
                node["min"] = _number(low.group(1))
                return
            if high:
                node["max"] = _number(high.group(1))
                return
        if node["type"] == QuestionType.TEXT.value:
            length = re.fullmatch(r"string-length\(\.\) ?<= ?(\d+)", text)
            if length:
                node["max_length"] = int(length.group(1))
                return
        self.problem(
            "survey",
            number,
            "constraint",
            f"ràng buộc «{source}» chưa được hỗ trợ (chỉ khoảng số «. >= a and . <= b» hoặc «string-length(.) <= n»)",
            f"constraint «{source}» is not supported (only a range «. >= a and . <= b» or «string-length(.) <= n»)",
        )

    # -- whole definition
    def definition(self) -> dict[str, Any]:
        if "survey" not in self.sheets:
            self.problem("survey", None, None, "thiếu trang survey", "the survey sheet is missing")
            return {}
        self.detect_languages()
        self.read_choices()
        sections = self.read_survey()
        settings = self.sheets.get("settings")
        cells = settings.rows[0][1] if settings and settings.rows else {}
        metadata = self.metadata()
        form_id = str(cells.get("form_id") or "imported-form")
        qid = re.sub(r"[^a-z0-9-]+", "-", form_id.lower()).strip("-") or "imported-form"
        if qid != form_id:
            self.notes.append(f"form_id «{form_id}» → id «{qid}»")
        title = metadata.get("title") or {
            lang: str(cells.get("form_title") or qid) for lang in self.languages
        }
        raw: dict[str, Any] = {
            "id": qid,
            "version": str(cells.get("version") or "1"),
            "languages": self.languages,
            "title": title,
        }
        if metadata.get("description"):
            raw["description"] = metadata["description"]
        if metadata.get("elements"):
            raw["elements"] = metadata["elements"]
        raw["sections"] = []
        for section in sections:
            for q in section["questions"]:
                q.pop("_select", None)
                if section.get("relevant"):
                    q["relevant"] = _join(section["relevant"], q.get("relevant"))
                if q.get("relevant") is None:
                    q.pop("relevant", None)
            out = {"code": section["code"], "title": section["title"] or title}
            if section.get("intro"):
                out["intro"] = section["intro"]
            out["questions"] = section["questions"]
            raw["sections"].append(out)
        return raw

    def metadata(self) -> dict[str, Any]:
        sheet = self.sheets.get(METADATA_SHEET)
        if sheet is None:
            return {}
        out: dict[str, Any] = {"elements": []}
        for number, cells in sheet.rows:
            kind = str(cells.get("kind") or "").lower()
            labels = self.texts(METADATA_SHEET, number, cells, "label")
            if kind in ("title", "description"):
                out[kind] = labels
            elif kind == "element":
                out["elements"].append({"code": str(cells.get("code")), "title": labels})
            else:
                self.problem(
                    METADATA_SHEET,
                    number,
                    "kind",
                    f"kind «{kind}» không hợp lệ",
                    f"unknown kind «{kind}»",
                )
        return out


def _select_one_type(par_type: Any, choices: list[dict[str, Any]]) -> QuestionType:
    if par_type in (QuestionType.SCALE5.value, QuestionType.YESNO.value):
        return QuestionType(par_type)
    standard = {
        QuestionType.SCALE5: SCALE5_CHOICES,
        QuestionType.YESNO: YESNO_CHOICES,
    }
    for qtype, expected in standard.items():
        if [(c["code"], c["label"].get(DEFAULT_LANGUAGE)) for c in choices] == [
            (e.code, e.label.get(DEFAULT_LANGUAGE)) for e in expected
        ]:
            return qtype
    return QuestionType.SINGLE


def _truthy(value: Any) -> bool:
    return value is True or str(value or "").strip().lower() in _TRUE


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _join(outer: str | None, inner: str | None) -> str | None:
    if not outer or not inner:
        return outer or inner
    return BoolOp("and", (parse_expression(outer), parse_expression(inner))).to_source()


def import_xlsform(path: str | Path | io.BytesIO, notes: list[str] | None = None) -> Questionnaire:
    """Read an XLSForm workbook into a validated :class:`Questionnaire`.

    Raises :class:`XLSFormError` listing every unsupported feature or bad cell, or
    :class:`~questionnaires.validation.DefinitionError` when the converted definition
    breaks a rule (duplicate codes, relevance to a later question, ...). ``notes``
    receives remarks such as choice lists that were renumbered.
    """
    source = str(path) if isinstance(path, (str, Path)) else None
    importer = _Importer(_read_sheets(path, source or "workbook"))
    raw = importer.definition()
    if importer.problems:
        raise XLSFormError(importer.problems, source)
    if notes is not None:
        notes.extend(importer.notes)
    return build_questionnaire(raw, source)


def convert_with_pyxform(path: str | Path) -> str:
    """The XForm XML pyxform makes of a workbook (a check that ODK tools accept it)."""
    from pyxform import xls2xform

    return xls2xform.convert(xlsform=str(path)).xform
