"""Embedded Unicode fonts for the PDF renderers.

The 14 standard PDF fonts have no Vietnamese glyphs, so every PDF embeds DejaVu Sans, which
matplotlib (a declared dependency) ships, as TrueType subsets.
"""

from __future__ import annotations

import functools
from pathlib import Path

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


def _font_directory() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.cache
def register_fonts() -> str:
    """Register DejaVu Sans (regular, bold, italics) with reportlab once; return the family.

    The family mapping lets Paragraph markup ``<b>`` and ``<i>`` pick the right face.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    directory = _font_directory()
    for name, filename in _FILES.items():
        path = directory / filename
        if not path.is_file():
            raise QuestionnaireError(
                f"Không tìm thấy phông chữ {path} (cần matplotlib). / "
                f"Font file {path} not found (matplotlib is required)."
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(
        FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
    )
    return FAMILY
