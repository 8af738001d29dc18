"""The personal part of a booklet copy (code in the header, QR and code on page 1) as raw
PDF operators.

Writing the few operators directly is faster than going through the canvas API for every
copy, and it lets :mod:`questionnaires.pdf_template` put exactly the same content into a
pre-rendered booklet without reportlab. Text is encoded with the document's own TrueType
subsets through :class:`TextEncoder`.
"""

from __future__ import annotations

from reportlab.pdfbase import pdfmetrics

from questionnaires.errors import QuestionnaireError


def _escape_pdf_string(raw: bytes) -> str:
    out = []
    for byte in raw:
        if byte in (0x28, 0x29, 0x5C):  # ( ) \
            out.append("\\" + chr(byte))
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


class TextEncoder:
    """Encodes text for a reportlab document's embedded TrueType subsets.

    Each character is mapped once, through reportlab's subsetting for that document, to the
    subset font name and the byte that selects its glyph; the map is cached. After
    :meth:`freeze` (the document has been written, so its subsets can no longer grow) a
    character that was never mapped raises :class:`QuestionnaireError`.
    """

    def __init__(self, canvas) -> None:
        # reportlab keeps the subset state per document object; the canvas owns it.
        self._document = canvas._doc
        self._maps: dict[str, dict[str, tuple[str, int]]] = {}
        self._frozen = False

    def freeze(self) -> None:
        self._frozen = True

    def prime(self, font_name: str, characters: str) -> None:
        """Map ``characters`` now, so their glyphs go into the embedded subsets."""
        for character in set(characters):
            self._glyph(font_name, character)

    def _glyph(self, font_name: str, character: str) -> tuple[str, int]:
        mapping = self._maps.setdefault(font_name, {})
        glyph = mapping.get(character)
        if glyph is None:
            if self._frozen:
                raise QuestionnaireError(
                    f"Ký tự {character!r} chưa có trong phông đã nhúng. / "
                    f"Character {character!r} is not in the embedded font subset."
                )
            font = pdfmetrics.getFont(font_name)
            ((subset, encoded),) = font.splitString(character, self._document)
            # getSubsetInternalName also registers the font with the document for embedding.
            glyph = (font.getSubsetInternalName(subset, self._document), encoded[0])
            mapping[character] = glyph
        return glyph

    def show_text(self, font_name: str, size: float, text: str) -> str:
        """Operators that select the right subsets and show ``text`` (inside BT ... ET)."""
        parts = []
        current = None
        run: list[int] = []
        for character in text:
            subset, code = self._glyph(font_name, character)
            if subset != current:
                if run:
                    parts.append(f"({_escape_pdf_string(bytes(run))}) Tj")
                    run = []
                parts.append(f"{subset} {size:g} Tf")
                current = subset
            run.append(code)
        if run:
            parts.append(f"({_escape_pdf_string(bytes(run))}) Tj")
        return " ".join(parts)


def _rgb(color) -> str:
    return f"{color.red:.3f} {color.green:.3f} {color.blue:.3f} rg"


def text_operators(
    encoder: TextEncoder,
    text: str,
    *,
    font_name: str,
    size: float,
    x: float,
    y: float,
    align: str = "left",
    char_space: float = 0.0,
    color=None,
) -> str:
    """A self-contained (``q ... Q``) text line; ``align`` is left, right or centre on x."""
    width = pdfmetrics.stringWidth(text, font_name, size) + char_space * max(len(text) - 1, 0)
    if align == "right":
        x -= width
    elif align == "centre":
        x -= width / 2
    fill = _rgb(color) if color is not None else "0 g"
    spacing = f" {char_space:.3f} Tc" if char_space else ""
    return (
        f"q {fill} BT{spacing} 1 0 0 1 {x:.3f} {y:.3f} Tm "
        f"{encoder.show_text(font_name, size, text)} ET Q"
    )


def code_characters(codes) -> str:
    """Every character needed to print these codes (to prime a template's subsets)."""
    return "".join(sorted(set("".join(codes))))
