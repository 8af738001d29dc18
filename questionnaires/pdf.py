"""Printable questionnaire booklets (A4, reportlab), optionally personalised with a QR code.

How a booklet is made: the questionnaire is laid out once per PDF document with platypus,
and every laid-out page is recorded as a named form XObject instead of being emitted
(:class:`PageFormCanvas`). A copy of the booklet is then a sequence of pages that each show
their form and add only what differs between copies: the page number, the short code in the
header and, on the first page, the QR code. A batch of ten thousand personalised copies thus
stores the questionnaire once and costs a QR code plus a few operators per page.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
)

from questionnaires import fonts
from questionnaires.errors import QuestionnaireError
from questionnaires.model import Questionnaire
from questionnaires.pdf_layout import (
    ACCENT,
    CODE_LETTER_SPACING,
    CONTENT_WIDTH,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RULE,
    SHADE,
    BinaryCanvas,
    DigitBoxes,
    build_styles,
    markup,
    table_style,
    web_address_for,
)
from questionnaires.pdf_personal import TextEncoder, text_operators
from questionnaires.pdf_questions import QuestionFlowables, section_heading
from questionnaires.pdf_routing import plan_routing
from questionnaires.qr import Matrix, qr_matrix, qr_operators

LANGUAGES = ("vi", "en")

PANEL_WIDTH = 50 * mm
PANEL_HEIGHT = 64 * mm
_PANEL_X = PAGE_WIDTH - MARGIN_RIGHT - PANEL_WIDTH
_CONTENT_TOP = PAGE_HEIGHT - MARGIN_TOP
_PANEL_Y = _CONTENT_TOP - PANEL_HEIGHT
_QR_SIZE = 36 * mm

_TEXT = {
    "vi": {
        "version": "phiên bản",
        "page": "Trang {page}/{pages}",
        "code": "Mã phiếu: {code}",
        "confidential": "Thông tin trên phiếu được giữ bí mật theo Luật Thống kê.",
        "agency": "SỞ NỘI VỤ · ĐIỀU TRA XÃ HỘI HỌC CHỈ SỐ CẢI CÁCH HÀNH CHÍNH",
        "how_to": (
            "<b>Cách điền phiếu:</b> đánh dấu ✗ vào một ô □ bên cạnh câu trả lời "
            "(câu có ghi “có thể chọn nhiều” thì đánh dấu mọi ô phù hợp); viết chữ in rõ "
            "ràng vào chỗ trống; làm theo chỉ dẫn chuyển câu (→). Phiếu không ghi tên."
        ),
        "scan": "Quét mã QR, hoặc vào<br/>{web}<br/>rồi nhập mã trên để trả lời.",
        "team": "DÀNH CHO NHÓM KHẢO SÁT",
        "form_code": "Mã phiếu",
        "interviewer": "Điều tra viên",
        "date": "Ngày",
    },
    "en": {
        "version": "version",
        "page": "Page {page}/{pages}",
        "code": "Form code: {code}",
        "confidential": "Your answers are kept confidential under the Statistics Law.",
        "agency": "DEPARTMENT OF HOME AFFAIRS · PAR INDEX SOCIOLOGICAL SURVEY",
        "how_to": (
            "<b>How to fill in:</b> put a ✗ in one box □ next to your answer (where it says "
            "“tick all that apply”, in every box that applies); write clearly in capitals in "
            "the spaces; follow the routing instructions (→). Do not write your name."
        ),
        "scan": "Scan the QR code, or go to<br/>{web}<br/>and type the code above.",
        "team": "FOR THE SURVEY TEAM",
        "form_code": "Form code",
        "interviewer": "Interviewer",
        "date": "Date",
    },
}


class PageFormCanvas(BinaryCanvas):
    """A canvas that can record platypus pages as named form XObjects instead of pages.

    While recording, each page begun by the document template opens a form and ``showPage``
    closes it; ``recorded_forms`` maps a recording key to its ordered form names.
    """

    def __init__(self, out: str | os.PathLike | IO[bytes], **kwargs) -> None:
        super().__init__(out, **kwargs)
        self.recorded_forms: dict[object, list[str]] = {}
        self.recorded_operators: dict[object, list[str]] = {}
        self.text_encoder: TextEncoder | None = None
        self._recording: list[str] | None = None
        self._form_prefix = ""

    def start_recording(self, key: object) -> list[str]:
        self._recording = self.recorded_forms.setdefault(key, [])
        self._form_prefix = f"qf{len(self.recorded_forms)}p"
        return self._recording

    def stop_recording(self) -> None:
        self._recording = None

    def begin_page_form(self) -> None:
        if self._recording is not None:
            name = f"{self._form_prefix}{len(self._recording) + 1}"
            self._recording.append(name)
            self.beginForm(name)

    def showPage(self) -> None:
        if self._recording is not None:
            self.endForm()
        else:
            super().showPage()


class _RecordingDocTemplate(BaseDocTemplate):
    """Builds the story onto a :class:`PageFormCanvas` that records every page as a form."""

    def handle_pageBegin(self) -> None:
        self.canv.begin_page_form()
        super().handle_pageBegin()


class QuestionnaireLayout:
    """A questionnaire laid out for print in one language, ready to stamp copies of.

    ``personalised`` layouts leave the first page's top-right panel for the QR code and
    short code; the others print a box for the survey team to write the form code in.
    """

    def __init__(self, questionnaire: Questionnaire, *, lang: str = "vi", personalised: bool):
        if lang not in LANGUAGES:
            raise QuestionnaireError(
                f"Ngôn ngữ không hỗ trợ: {lang!r} (vi hoặc en). / "
                f"Unsupported language {lang!r} (use vi or en)."
            )
        fonts.register_fonts()
        self.questionnaire = questionnaire
        self.lang = lang
        self.personalised = personalised
        self.text = _TEXT[lang]
        self.styles = build_styles()
        self.routing = plan_routing(questionnaire)
        # Identifies this layout's forms on a canvas that may carry several layouts.
        self._token = object()

    # ---------------------------------------------------------------- recording

    def page_forms(self, canvas: PageFormCanvas) -> list[str]:
        """Lay the questionnaire out on ``canvas``'s document (once) and return its page forms."""
        key = (self._token, "pages")
        if key in canvas.recorded_forms:
            return canvas.recorded_forms[key]
        forms = canvas.start_recording(key)
        document = self._document_template()
        document._doSave = 0  # the canvas goes on to receive the copies
        try:
            document.build(self._story(), canvasmaker=lambda *args, **kwargs: canvas)
        finally:
            canvas.stop_recording()
        return forms

    def _document_template(self) -> _RecordingDocTemplate:
        first_title = Frame(
            MARGIN_LEFT,
            _PANEL_Y,
            CONTENT_WIDTH - PANEL_WIDTH - 6 * mm,
            PANEL_HEIGHT,
            id="title",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        first_body = self._body_frame("first", top=_PANEL_Y - 4 * mm)
        later_body = self._body_frame("later", top=_CONTENT_TOP)
        document = _RecordingDocTemplate(
            None,
            pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
            title=self.questionnaire.title.get(self.lang),
            author=self.text["agency"],
            creator="par-survey questionnaires.pdf",
        )
        document.addPageTemplates(
            [
                PageTemplate(
                    id="first",
                    frames=[first_title, first_body],
                    onPage=self._draw_static_first_page,
                    autoNextPageTemplate="later",
                ),
                PageTemplate(id="later", frames=[later_body], onPage=self._draw_static_page),
            ]
        )
        return document

    @staticmethod
    def _body_frame(name: str, *, top: float) -> Frame:
        return Frame(
            MARGIN_LEFT,
            MARGIN_BOTTOM,
            CONTENT_WIDTH,
            top - MARGIN_BOTTOM,
            id=name,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )

    def _story(self) -> list:
        questionnaire = self.questionnaire
        styles = self.styles
        lang = self.lang
        story: list = [
            Paragraph(self.text["agency"], styles["small"]),
            Spacer(0, 2 * mm),
            Paragraph(markup(questionnaire.title.get(lang)), styles["title"]),
        ]
        if questionnaire.description:
            story.append(Paragraph(markup(questionnaire.description.get(lang)), styles["intro"]))
        story.append(_EndOfTitleFrame())
        story.append(_shaded_note(self.text["how_to"], styles))
        builder = QuestionFlowables(questionnaire, self.routing, styles, lang)
        for index, section in enumerate(questionnaire.sections):
            story.append(Spacer(0, 4 * mm))
            heading = section_heading(section, index, styles, lang)
            if not section.questions:
                story.extend(heading)
            # The heading travels with the first question (platypus' keepWithNext cannot
            # join a KeepTogether), so no heading is left alone at the foot of a page.
            for position, question in enumerate(section.questions):
                lead = heading if position == 0 else []
                story.append(KeepTogether([*lead, *builder.flowables(question)]))
        return story

    # ---------------------------------------------------------------- static page parts

    def _draw_static_page(self, canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(fonts.REGULAR, 8)
        canvas.setFillColor(MUTED)
        questionnaire = self.questionnaire
        canvas.drawString(
            MARGIN_LEFT,
            PAGE_HEIGHT - 12 * mm,
            f"{questionnaire.id} · {self.text['version']} {questionnaire.version}",
        )
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(
            MARGIN_LEFT, PAGE_HEIGHT - 14 * mm, PAGE_WIDTH - MARGIN_RIGHT, PAGE_HEIGHT - 14 * mm
        )
        canvas.line(
            MARGIN_LEFT, MARGIN_BOTTOM - 4 * mm, PAGE_WIDTH - MARGIN_RIGHT, MARGIN_BOTTOM - 4 * mm
        )
        canvas.setFont(fonts.ITALIC, 7.5)
        canvas.drawString(MARGIN_LEFT, MARGIN_BOTTOM - 8 * mm, self.text["confidential"])
        canvas.restoreState()

    def _draw_static_first_page(self, canvas, document) -> None:
        self._draw_static_page(canvas, document)
        canvas.saveState()
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(0.9)
        if self.personalised:
            canvas.setFillColor(SHADE)
            canvas.roundRect(
                _PANEL_X, _PANEL_Y, PANEL_WIDTH, PANEL_HEIGHT, 2 * mm, stroke=1, fill=1
            )
        else:
            canvas.roundRect(
                _PANEL_X, _PANEL_Y, PANEL_WIDTH, PANEL_HEIGHT, 2 * mm, stroke=1, fill=0
            )
            self._draw_survey_team_box(canvas)
        canvas.restoreState()

    def _draw_survey_team_box(self, canvas) -> None:
        left = _PANEL_X + 4 * mm
        top = _PANEL_Y + PANEL_HEIGHT
        canvas.setFillColor(ACCENT)
        canvas.setFont(fonts.BOLD, 8)
        canvas.drawString(left, top - 7 * mm, self.text["team"])
        canvas.setFillColor(MUTED)
        canvas.setFont(fonts.REGULAR, 8)
        canvas.drawString(left, top - 14 * mm, self.text["form_code"])
        boxes = DigitBoxes([4, 4], separator="-", side=4.6 * mm)
        boxes.wrapOn(canvas, PANEL_WIDTH, PANEL_HEIGHT)
        boxes.drawOn(canvas, left, top - 22 * mm)
        canvas.setFillColor(MUTED)
        canvas.setFont(fonts.REGULAR, 8)
        canvas.drawString(left, top - 31 * mm, self.text["interviewer"])
        canvas.setStrokeColor(RULE)
        canvas.setDash(1, 2)
        canvas.line(left, top - 39 * mm, _PANEL_X + PANEL_WIDTH - 4 * mm, top - 39 * mm)
        canvas.setDash()
        canvas.drawString(left, top - 47 * mm, self.text["date"])
        dates = DigitBoxes([2, 2, 4], separator="/", side=4.2 * mm)
        dates.wrapOn(canvas, PANEL_WIDTH, PANEL_HEIGHT)
        dates.drawOn(canvas, left, top - 56 * mm)

    def instruction_form(self, canvas: PageFormCanvas, web: str) -> str:
        """The short instruction under the code, kept as a form per web address."""
        key = (self._token, "panel", web)
        if key not in canvas.recorded_forms:
            name = f"qpanel{len(canvas.recorded_forms)}"
            canvas.recorded_forms[key] = [name]
            canvas.beginForm(name)
            style = self.styles["small"].clone("scan", alignment=1, fontSize=7, leading=8.6)
            width = PANEL_WIDTH - 6 * mm
            # The address gets a font size that keeps it on one line (down to 5 pt).
            web_size = max(5.0, min(7.5, 7.0 * width / stringWidth(web, fonts.BOLD, 7.5)))
            address = f'<font name="{fonts.BOLD}" size="{web_size:.2f}">{markup(web)}</font>'
            paragraph = Paragraph(self.text["scan"].format(web=address), style)
            _, height = paragraph.wrap(width, PANEL_HEIGHT)
            paragraph.drawOn(canvas, _PANEL_X + 3 * mm, _PANEL_Y + 13 * mm - height)
            canvas.endForm()
        return canvas.recorded_forms[key][0]

    # ---------------------------------------------------------------- copies

    def encoder(self, canvas: PageFormCanvas) -> TextEncoder:
        """The text encoder of ``canvas``'s document (one per document)."""
        if canvas.text_encoder is None:
            canvas.text_encoder = TextEncoder(canvas)
        return canvas.text_encoder

    def draw_copy(
        self,
        canvas: PageFormCanvas,
        *,
        url: str | None = None,
        code: str | None = None,
        matrix: Matrix | None = None,
    ) -> int:
        """Emit one copy of the booklet on ``canvas``; return its number of pages.

        A personalised layout needs ``url`` and ``code``; ``matrix`` (the QR modules for
        ``url``) may be given when the caller made it with a batch :class:`~qr.QrPlan`.
        """
        if not self.personalised:
            return self.emit_pages(canvas, None)
        if not url or not code:
            raise QuestionnaireError(
                "Bản cá nhân hóa cần cả URL và mã. / A personalised copy needs both URL and code."
            )
        encoder = self.encoder(canvas)
        header = self.header_operators(encoder, code)
        panel = self.panel_operators(
            encoder, code, matrix if matrix is not None else qr_matrix(url)
        )
        instruction = self.instruction_form(canvas, web_address_for(url))

        def personal(page: int) -> None:
            canvas.addLiteral(header)
            if page == 1:
                canvas.addLiteral(panel)
                canvas.doForm(instruction)

        return self.emit_pages(canvas, personal)

    def emit_pages(self, canvas: PageFormCanvas, personal: Callable[[int], None] | None) -> int:
        """Emit the pages of one copy; ``personal(page_number)`` adds that copy's own marks."""
        forms = self.page_forms(canvas)
        numbers = self._page_number_operators(canvas, len(forms))
        for index, form in enumerate(forms):
            canvas.doForm(form)
            canvas.addLiteral(numbers[index])
            if personal is not None:
                personal(index + 1)
            canvas.showPage()
        return len(forms)

    def _page_number_operators(self, canvas: PageFormCanvas, pages: int) -> list[str]:
        key = (self._token, "page-numbers")
        if key not in canvas.recorded_operators:
            encoder = self.encoder(canvas)
            canvas.recorded_operators[key] = [
                text_operators(
                    encoder,
                    self.text["page"].format(page=number, pages=pages),
                    font_name=fonts.REGULAR,
                    size=8,
                    x=PAGE_WIDTH - MARGIN_RIGHT,
                    y=MARGIN_BOTTOM - 8 * mm,
                    align="right",
                    color=MUTED,
                )
                for number in range(1, pages + 1)
            ]
        return canvas.recorded_operators[key]

    def header_operators(self, encoder: TextEncoder, code: str) -> str:
        """The copy's code at the top right of every page."""
        return text_operators(
            encoder,
            self.text["code"].format(code=code),
            font_name=fonts.REGULAR,
            size=8,
            x=PAGE_WIDTH - MARGIN_RIGHT,
            y=PAGE_HEIGHT - 12 * mm,
            align="right",
            color=MUTED,
        )

    def header_label_characters(self) -> str:
        return self.text["code"].format(code="")

    @staticmethod
    def panel_operators(encoder: TextEncoder, code: str, matrix: Matrix) -> str:
        """The QR code and the short code, large and letter-spaced, in the first-page panel."""
        qr = qr_operators(
            matrix,
            _PANEL_X + (PANEL_WIDTH - _QR_SIZE) / 2,
            _PANEL_Y + PANEL_HEIGHT - _QR_SIZE - 2 * mm,
            _QR_SIZE,
        )
        size = 14
        short_code = text_operators(
            encoder,
            code,
            font_name=fonts.CODE,
            size=size,
            x=_PANEL_X + PANEL_WIDTH / 2,
            y=_PANEL_Y + 16.5 * mm,
            align="centre",
            char_space=size * CODE_LETTER_SPACING,
        )
        return f"{qr}\n{short_code}"


class _EndOfTitleFrame(Flowable):
    """Fills the rest of the narrow title frame beside the QR panel, so that the questions
    start full width below it; takes no room when the title already overflowed below."""

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if available_width < CONTENT_WIDTH - 1:
            return available_width, available_height
        return 0, 0

    def draw(self) -> None:
        pass


def _shaded_note(text: str, styles) -> object:
    from reportlab.platypus import Table

    table = Table([[Paragraph(text, styles["intro"])]], colWidths=[CONTENT_WIDTH])
    table.setStyle(
        table_style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5 * mm),
            ]
        )
    )
    return table


def _validate_personalisation(url: str | None, code: str | None) -> bool:
    if (url is None) != (code is None) or url == "" or code == "":
        raise QuestionnaireError(
            "Cần cả --url và --code (hoặc không cái nào). / "
            "Give both a URL and a code for a personalised copy, or neither."
        )
    return url is not None


def render_questionnaire_pdf(
    questionnaire: Questionnaire,
    out: str | os.PathLike | IO[bytes],
    *,
    lang: str = "vi",
    url: str | None = None,
    code: str | None = None,
) -> int:
    """Write the printable booklet to ``out`` (a path or binary file); return its page count.

    With ``url`` and ``code`` the copy is personalised: the first page carries a QR code
    encoding exactly ``url`` and ``code`` printed large, and every page header shows the code.
    """
    personalised = _validate_personalisation(url, code)
    layout = QuestionnaireLayout(questionnaire, lang=lang, personalised=personalised)
    canvas = PageFormCanvas(out)
    canvas.setTitle(questionnaire.title.get(lang))
    pages = layout.draw_copy(canvas, url=url, code=code)
    canvas.save()
    return pages


__all__ = ["PageFormCanvas", "QuestionnaireLayout", "render_questionnaire_pdf"]
