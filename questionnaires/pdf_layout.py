"""Shared page geometry, paragraph styles and small drawing helpers for the PDF renderers."""

from __future__ import annotations

import os
import unicodedata
from xml.sax.saxutils import escape as _xml_escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, TableStyle

from questionnaires import fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_LEFT = MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 20 * mm  # the running header sits in the top margin
MARGIN_BOTTOM = 16 * mm  # the page number sits in the bottom margin
CONTENT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

INK = colors.black
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")
SHADE = colors.HexColor("#EDEFF2")
ACCENT = colors.HexColor("#1F3A5F")

BOX_SIDE = 4.2 * mm
#: Letter spacing of printed short codes, as a fraction of the font size.
CODE_LETTER_SPACING = 0.25


class BinaryCanvas(Canvas):
    """A reportlab canvas for our PDFs: A4, DejaVu Sans as initial font, binary streams.

    * The initial font: otherwise the page preamble selects Helvetica, which then sits in the
      file as a font that is not embedded.
    * Binary streams: reportlab ASCII85-encodes compressed streams by default (for 7-bit mail
      transport), in pure Python when its C accelerator is not installed; that makes files
      25% larger and was the slowest single step of a batch. Flate-compressed binary
      streams are ordinary PDF. ``rl_config.useA85`` is read when the file is written, so it
      is switched off only for the duration of :meth:`save`.
    """

    def __init__(self, out, **kwargs) -> None:
        fonts.register_fonts()
        kwargs.setdefault("pagesize", A4)
        kwargs.setdefault("initialFontName", fonts.REGULAR)
        super().__init__(output_target(out), **kwargs)

    def save(self) -> None:
        previous = rl_config.useA85
        rl_config.useA85 = 0
        try:
            super().save()
        finally:
            rl_config.useA85 = previous


def output_target(out):
    """reportlab takes a file name or a binary file, not a ``Path``: accept all three."""
    return os.fspath(out) if isinstance(out, os.PathLike) else out


def markup(text: object) -> str:
    """User-supplied text made safe for reportlab Paragraph markup.

    NFC-normalised (decomposed Vietnamese diacritics would print as separate marks), the
    markup characters ``< > &`` escaped, and line breaks kept as ``<br/>``.
    """
    normalised = unicodedata.normalize("NFC", str(text))
    return _xml_escape(normalised).replace("\r\n", "\n").replace("\n", "<br/>")


def build_styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles of the questionnaire and the invitation (DejaVu Sans, embedded)."""
    fonts.register_fonts()
    base = ParagraphStyle(
        "base",
        fontName=fonts.REGULAR,
        fontSize=10,
        leading=13,
        textColor=INK,
        alignment=TA_LEFT,
        bulletFontName=fonts.REGULAR,
    )

    def derive(name: str, **overrides) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **overrides)

    return {
        "base": base,
        "agency": derive("agency", fontName=fonts.BOLD, fontSize=9.5, leading=12),
        "title": derive("title", fontName=fonts.BOLD, fontSize=15, leading=19, textColor=ACCENT),
        "subtitle": derive("subtitle", fontSize=10.5, leading=14, textColor=MUTED),
        "intro": derive("intro", fontSize=9.5, leading=12.5, spaceBefore=2),
        "section": derive(
            "section",
            fontName=fonts.BOLD,
            fontSize=11.5,
            leading=15,
            textColor=colors.white,
        ),
        "section_note": derive("section_note", fontSize=9, leading=12, textColor=MUTED),
        "question": derive("question", fontSize=10.5, leading=13.5),
        "instruction": derive(
            "instruction", fontName=fonts.ITALIC, fontSize=8.5, leading=11, textColor=MUTED
        ),
        "routing": derive("routing", fontName=fonts.BOLD, fontSize=8.5, leading=11),
        "choice": derive("choice", fontSize=9.5, leading=12),
        "grid_head": derive(
            "grid_head", fontName=fonts.BOLD, fontSize=7.5, leading=9, alignment=TA_CENTER
        ),
        "grid_item": derive("grid_item", fontSize=9, leading=11.5),
        "small": derive("small", fontSize=8, leading=10, textColor=MUTED),
        "center": derive("center", alignment=TA_CENTER),
    }


def table_style(commands: list) -> TableStyle:
    """A TableStyle whose cells use DejaVu Sans (reportlab's default is Helvetica, which would
    otherwise be listed in the PDF as a font that is not embedded)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR), *commands])


class AnswerBox(Flowable):
    """An empty square to tick, with the answer's numeric code printed beside it.

    ``code_width`` reserves room for the code so that boxes in a column line up.
    """

    def __init__(self, code: object | None, *, code_width: float = 6 * mm, side=BOX_SIDE):
        super().__init__()
        self.code = None if code is None else str(code)
        self.side = side
        self.code_width = code_width if self.code is not None else 0
        self.width = self.side + (1.2 * mm + self.code_width if self.code is not None else 0)
        self.height = self.side

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setLineWidth(0.8)
        canvas.setStrokeColor(INK)
        canvas.rect(0, 0, self.side, self.side, stroke=1, fill=0)
        if self.code is not None:
            canvas.setFont(fonts.REGULAR, 8)
            canvas.setFillColor(MUTED)
            canvas.drawString(self.side + 1.2 * mm, 0.9 * mm, self.code)


class DigitBoxes(Flowable):
    """A row of adjacent boxes for writing digits (numbers, dates), with optional separators."""

    def __init__(self, groups: list[int], *, separator: str = "", side: float = 5.5 * mm):
        super().__init__()
        self.groups = groups
        self.separator = separator
        self.side = side
        self.gap = 4 * mm if separator else 2 * mm
        self.width = sum(groups) * side + (len(groups) - 1) * self.gap
        self.height = side

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setLineWidth(0.7)
        canvas.setStrokeColor(INK)
        canvas.setFillColor(MUTED)
        canvas.setFont(fonts.REGULAR, 10)
        x = 0.0
        for index, count in enumerate(self.groups):
            for _ in range(count):
                canvas.rect(x, 0, self.side, self.side, stroke=1, fill=0)
                x += self.side
            if index < len(self.groups) - 1:
                if self.separator:
                    canvas.drawCentredString(x + self.gap / 2, 1.3 * mm, self.separator)
                x += self.gap


class WritingLines(Flowable):
    """Ruled lines to write an open answer on."""

    def __init__(self, lines: int, *, spacing: float = 8 * mm):
        super().__init__()
        self.lines = lines
        self.spacing = spacing

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        self.height = self.lines * self.spacing
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setLineWidth(0.4)
        canvas.setStrokeColor(RULE)
        canvas.setDash(1, 2)
        for index in range(self.lines):
            y = self.height - (index + 1) * self.spacing + 1
            canvas.line(0, y, self.width, y)
        canvas.setDash()


def draw_short_code(canvas, code: str, x_center: float, y: float, *, size: float = 20) -> None:
    """Print the short access code large, monospaced and letter-spaced, centred on ``x_center``.

    Letter spacing (not spaces) keeps the code one word when the PDF text is extracted.
    """
    fonts.register_fonts()
    spacing = size * CODE_LETTER_SPACING
    width = canvas.stringWidth(code, fonts.CODE, size) + spacing * (len(code) - 1)
    canvas.saveState()  # the character spacing would otherwise leak into later text
    text = canvas.beginText(x_center - width / 2, y)
    text.setFont(fonts.CODE, size)
    text.setCharSpace(spacing)
    text.textOut(code)
    canvas.drawText(text)
    canvas.restoreState()


def web_address_for(url: str) -> str:
    """The address where a code can be typed by hand: the URL's site followed by ``/s``.

    Printed without ``https://`` because people type it into a phone's address bar.
    """
    from urllib.parse import urlsplit

    netloc = urlsplit(url).netloc
    return f"{netloc}/s" if netloc else url
