"""The flowables of one printed question, per question type, and of section headings."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from questionnaires.model import Question, Questionnaire, QuestionType, Section
from questionnaires.pdf_layout import (
    ACCENT,
    BOX_SIDE,
    CONTENT_WIDTH,
    RULE,
    SHADE,
    AnswerBox,
    DigitBoxes,
    WritingLines,
    markup,
    table_style,
)
from questionnaires.pdf_routing import Routing, jump_text, only_if_text

ANSWER_INDENT = 7 * mm
_TWO_COLUMN_MAX_LABEL = 34  # characters; longer labels get the full width
_TWO_COLUMN_MIN_CHOICES = 5
_GRID_PADDING = 1.2 * mm
# A scale's labels print above its boxes while the tallest fits in this height; longer ones
# print as a key above the question ("1 = ..., 2 = ...") and the boxes show only the codes,
# so that no header taller than a page can fail the layout.
_HEAD_MAX_HEIGHT = 30 * mm
_GRID_MIN_ITEM_WIDTH = 45 * mm  # the items' column keeps at least this much

_WORDS = {
    "vi": {
        "number": "Câu {n}.",
        "section": "PHẦN {letter}.",
        "single": "(Chọn một)",
        "multiple": "(Có thể chọn nhiều)",
        "grid": "(Mỗi dòng chọn một ô)",
        "date": "(ngày / tháng / năm)",
        "range": "(từ {minimum} đến {maximum})",
        "item": "Nội dung",
        "key": "Các mức trả lời:",
    },
    "en": {
        "number": "Q{n}.",
        "section": "PART {letter}.",
        "single": "(Tick one)",
        "multiple": "(Tick all that apply)",
        "grid": "(Tick one box in each row)",
        "date": "(day / month / year)",
        "range": "(from {minimum} to {maximum})",
        "item": "Item",
        "key": "Answers:",
    },
}


def _section_letter(index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[index] if index < len(letters) else str(index + 1)


def section_heading(section: Section, index: int, styles, lang: str) -> list:
    """A shaded bar with "PHẦN A. <title>" and the section's intro."""
    words = _WORDS[lang]
    label = f"{words['section'].format(letter=_section_letter(index))} {markup(section.title.get(lang))}"
    bar = Table([[Paragraph(label, styles["section"])]], colWidths=[CONTENT_WIDTH])
    bar.setStyle(
        table_style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), ACCENT),
                ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 1.6 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
            ]
        )
    )
    flowables = [bar]
    if section.intro:
        note = Paragraph(markup(section.intro.get(lang)), styles["section_note"])
        flowables.extend([Spacer(0, 1.5 * mm), note])
    flowables.append(Spacer(0, 1 * mm))
    return flowables


def _plain_table_style(extra: list | None = None) -> TableStyle:
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 1.1 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.1 * mm),
    ]
    return table_style(commands + (extra or []))


def _code_width(codes) -> float:
    digits = max((len(str(code)) for code in codes), default=1)
    return (1.6 * digits + 1.2) * mm


class QuestionFlowables:
    """Builds the list of flowables for a question: text, notes, answer boxes, routing."""

    def __init__(self, questionnaire: Questionnaire, routing: Routing, styles, lang: str):
        self.questionnaire = questionnaire
        self.routing = routing
        self.styles = styles
        self.lang = lang
        self.words = _WORDS[lang]

    def flowables(self, question: Question) -> list:
        styles = self.styles
        number = self.words["number"].format(n=self.routing.numbers[question.code])
        parts = [
            Spacer(0, 2.5 * mm),
            Paragraph(
                f"<b>{number}</b> {markup(question.text.get(self.lang))}", styles["question"]
            ),
        ]
        instruction = self._instruction(question)
        if instruction:
            parts.append(Paragraph(instruction, styles["instruction"]))
        condition = self.routing.conditions.get(question.code)
        if condition is not None:
            text = only_if_text(condition, self.questionnaire, self.routing.numbers, self.lang)
            parts.append(Paragraph(f"→ {markup(text)}", styles["routing"]))
        parts.append(Spacer(0, 1.2 * mm))
        parts.extend(self._answers(question))
        for jump in self.routing.jumps.get(question.code, ()):
            text = jump_text(jump, question, self.lang)
            parts.append(Paragraph(f"→ {markup(text)}", styles["routing"]))
        return parts

    def _instruction(self, question: Question) -> str:
        pieces = []
        kind = question.type
        if kind in (QuestionType.SINGLE, QuestionType.YESNO, QuestionType.SCALE5):
            pieces.append(self.words["single"])
        elif kind is QuestionType.MULTIPLE:
            pieces.append(self.words["multiple"])
        elif kind is QuestionType.GRID:
            pieces.append(self.words["grid"])
        elif (
            kind is QuestionType.NUMBER
            and question.minimum is not None
            and question.maximum is not None
            and not question.hint
        ):
            pieces.append(
                self.words["range"].format(
                    minimum=_number(question.minimum), maximum=_number(question.maximum)
                )
            )
        if question.hint:
            pieces.append(markup(question.hint.get(self.lang)))
        return " ".join(pieces)

    # ---------------------------------------------------------------- answers per type

    def _answers(self, question: Question) -> list:
        kind = question.type
        if kind.has_choices and not question.all_choices():
            return []  # nothing to tick (the validator refuses this; never fail the layout)
        if kind is QuestionType.GRID:
            return self._grid(question)
        if kind is QuestionType.SCALE5:
            return self._scale_row(question)
        if kind.has_choices:
            return [self._choice_list(question)]
        if kind is QuestionType.TEXT:
            return [_indented(WritingLines(4 if question.multiline else 1))]
        if kind is QuestionType.NUMBER:
            return [_indented(self._number_boxes(question))]
        if kind is QuestionType.DATE:
            row = Table(
                [
                    [
                        "",
                        DigitBoxes([2, 2, 4], separator="/"),
                        Paragraph(self.words["date"], self.styles["instruction"]),
                    ]
                ],
                colWidths=[ANSWER_INDENT, 52 * mm, None],
                hAlign="LEFT",
            )
            row.setStyle(_plain_table_style())
            return [row]
        return []

    def _jump_marks(self, question: Question) -> dict[int, str]:
        """Choice code → " → 12" printed right after the label of a routing answer."""
        marks = {}
        for jump in self.routing.jumps.get(question.code, ()):
            target = jump.target if jump.target is not None else "∎"
            for code in jump.choice_codes:
                marks[code] = f" <b>→ {target}</b>"
        return marks

    def _choice_list(self, question: Question) -> Table:
        choices = question.all_choices()
        marks = self._jump_marks(question)
        code_width = _code_width(choice.code for choice in choices)
        box_width = BOX_SIDE + 1.2 * mm + code_width

        def cells(choice) -> list:
            label = markup(choice.label.get(self.lang)) + marks.get(choice.code, "")
            return [
                AnswerBox(choice.code, code_width=code_width),
                Paragraph(label, self.styles["choice"]),
            ]

        labels_short = all(
            len(choice.label.get(self.lang)) <= _TWO_COLUMN_MAX_LABEL for choice in choices
        )
        if labels_short and len(choices) >= _TWO_COLUMN_MIN_CHOICES:
            half = (len(choices) + 1) // 2
            rows = []
            for index in range(half):
                right = cells(choices[index + half]) if index + half < len(choices) else ["", ""]
                rows.append(["", *cells(choices[index]), *right])
            column = (CONTENT_WIDTH - ANSWER_INDENT) / 2 - box_width
            widths = [ANSWER_INDENT, box_width, column, box_width, column]
        else:
            rows = [["", *cells(choice)] for choice in choices]
            widths = [ANSWER_INDENT, box_width, CONTENT_WIDTH - ANSWER_INDENT - box_width]
        # splitInRow: a label longer than a page still splits instead of failing the layout.
        table = Table(rows, colWidths=widths, hAlign="LEFT", splitByRow=1, splitInRow=1)
        table.setStyle(_plain_table_style([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return table

    def _scale_key(self, question: Question, marks: dict[int, str]) -> Paragraph:
        """The scale's labels as a key above the boxes: "(1) label; (2) label; ..." (a
        paragraph, so that a key longer than a page flows on to the next)."""
        entries = [
            f"<b>({c.code})</b> {markup(c.label.get(self.lang))}{marks.get(c.code, '')}"
            for c in question.all_choices()
        ]
        text = f"{self.words['key']} " + "; ".join(entries)
        style = self.styles["choice"].clone("scale_key", leftIndent=ANSWER_INDENT, spaceAfter=2)
        return Paragraph(text, style)

    def _scale_row(self, question: Question) -> list:
        """A 5-point scale across the page: labels above, a box with its code below each
        (labels too long to sit above a box are printed as a key first)."""
        choices = question.all_choices()
        marks = self._jump_marks(question)
        width = (CONTENT_WIDTH - ANSWER_INDENT) / len(choices)
        head = self.styles["grid_head"].clone("scale_head", fontName=self.styles["base"].fontName)
        labels = [
            Paragraph(markup(c.label.get(self.lang)) + marks.get(c.code, ""), head) for c in choices
        ]
        keyed = _too_tall(labels, width - 2 * mm)
        if keyed:
            labels = [Paragraph(f"({c.code})", head) for c in choices]
        code_width = _code_width(c.code for c in choices)
        boxes = [AnswerBox(c.code, code_width=code_width) for c in choices]
        table = Table(
            [["", *labels], ["", *boxes]],
            colWidths=[ANSWER_INDENT] + [width] * len(choices),
            hAlign="LEFT",
        )
        table.setStyle(
            _plain_table_style(
                [
                    ("ALIGN", (1, 0), (-1, -1), "CENTER"),
                    ("VALIGN", (1, 0), (-1, 0), "BOTTOM"),
                    ("LEFTPADDING", (1, 0), (-1, -1), 1 * mm),
                    ("RIGHTPADDING", (1, 0), (-1, -1), 1 * mm),
                ]
            )
        )
        return [self._scale_key(question, marks), table] if keyed else [table]

    def _grid(self, question: Question) -> list:
        """Items as rows, the shared scale's codes as columns; the header repeats on a new page."""
        choices = question.all_choices()
        styles = self.styles
        column = min(17 * mm, max(11 * mm, (CONTENT_WIDTH * 0.55) / max(len(choices), 1)))
        number_width = 10 * mm
        widest = (CONTENT_WIDTH - number_width - _GRID_MIN_ITEM_WIDTH) / max(len(choices), 1)
        head_style, column = self._grid_head_style(choices, min(column, widest))
        column = min(column, widest)  # longer words are split rather than crowd out the items
        item_width = CONTENT_WIDTH - number_width - column * len(choices)
        code_width = _code_width(c.code for c in choices)
        heads = [
            Paragraph(f"{markup(c.label.get(self.lang))}<br/>({c.code})", head_style)
            for c in choices
        ]
        keyed = _too_tall(heads, column - 2 * _GRID_PADDING)
        if keyed:
            heads = [Paragraph(f"({c.code})", head_style) for c in choices]
        header = [
            "",
            Paragraph(self.words["item"], styles["grid_head"].clone("grid_item_head", alignment=0)),
            *heads,
        ]
        rows = [header]
        for item in question.items:
            rows.append(
                [
                    Paragraph(self.routing.numbers[item.code], styles["small"]),
                    Paragraph(markup(item.text.get(self.lang)), styles["grid_item"]),
                    *[AnswerBox(c.code, code_width=code_width) for c in choices],
                ]
            )
        table = Table(
            rows,
            colWidths=[number_width, item_width] + [column] * len(choices),
            repeatRows=1,
            hAlign="LEFT",
            splitInRow=1,
        )
        commands = [
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (2, 1), (-1, -1), "CENTER"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), _GRID_PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), _GRID_PADDING),
            ("TOPPADDING", (0, 0), (-1, -1), 1.4 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.4 * mm),
        ]
        commands += [("BACKGROUND", (0, row), (-1, row), SHADE) for row in range(2, len(rows), 2)]
        table.setStyle(table_style(commands))
        return [self._scale_key(question, {}), table] if keyed else [table]

    def _grid_head_style(self, choices, column: float):
        """A header font size at which no word of a scale label is cut ("Dissatisf-ied"):
        smaller type first (down to 6 pt), then a wider column."""
        style = self.styles["grid_head"]
        words = [word for c in choices for word in c.label.get(self.lang).split()]
        longest = max(
            (stringWidth(word, style.fontName, style.fontSize) for word in words), default=0
        )
        inner = column - _GRID_PADDING * 2 - 0.5
        size = style.fontSize
        if longest > inner:
            size = max(6.0, style.fontSize * inner / longest)
            needed = longest * size / style.fontSize + _GRID_PADDING * 2 + 0.5
            column = max(column, needed)
        return style.clone("grid_head_fitted", fontSize=size, leading=size * 1.2), column

    @staticmethod
    def _number_boxes(question: Question):
        if question.integer:
            digits = 4
            if question.maximum is not None:
                digits = max(1, len(str(int(abs(question.maximum)))))
            return DigitBoxes([min(digits, 12)])
        return WritingLines(1)


def _too_tall(paragraphs: list[Paragraph], width: float) -> bool:
    """Whether any of ``paragraphs``, wrapped to ``width``, is taller than a header may be."""
    return any(p.wrap(width, _HEAD_MAX_HEIGHT * 100)[1] > _HEAD_MAX_HEIGHT for p in paragraphs)


def _indented(flowable) -> Table:
    table = Table([["", flowable]], colWidths=[ANSWER_INDENT, None], hAlign="LEFT")
    table.setStyle(_plain_table_style())
    return table


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
