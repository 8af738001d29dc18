"""Embedded Unicode fonts for the PDF renderers.

The 14 standard PDF fonts have no Vietnamese glyphs, so every PDF embeds DejaVu Sans as
TrueType subsets. The five faces used are shipped in this folder, unmodified, under their
licence (``LICENSE_DEJAVU``: Bitstream Vera terms, DejaVu changes in the public domain), which
allows redistribution with the notice.
"""

from __future__ import annotations

import functools
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from questionnaires.errors import QuestionnaireError

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"
#: Monospaced bold for short codes: every character the same width, easy to copy.
CODE = "DejaVuSansMono-Bold"
FAMILY = "DejaVuSans"

_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
    CODE: "DejaVuSansMono-Bold.ttf",
}


#: The folder holding the TrueType files (the report in scoring_bridge reads them here too).
DIRECTORY = Path(__file__).parent


def font_path(name: str) -> Path:
    """The TrueType file of one of the faces above (``REGULAR``, ``BOLD``, ...)."""
    return DIRECTORY / _FILES[name]


@functools.cache
def register_fonts() -> str:
    """Register DejaVu Sans (regular, bold, italics) with reportlab once; return the family.

    The family mapping lets Paragraph markup ``<b>`` and ``<i>`` pick the right face.
    """
    for name in _FILES:
        path = font_path(name)
        if not path.is_file():
            raise QuestionnaireError(
                f"Không tìm thấy phông chữ {path} (cài đặt gói bị thiếu tệp). / "
                f"Font file {path} not found (the installed package is incomplete)."
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(
        FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
    )
    return FAMILY
