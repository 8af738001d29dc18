"""Fast separate PDF files per copy: one rendered booklet whose personal forms are swapped.

A ZIP of personalised booklets needs one complete PDF per copy, so the page forms that make
:class:`~questionnaires.pdf.PageFormCanvas` fast cannot be shared between files. Instead the
booklet is rendered once by reportlab with two placeholder form XObjects (the code in the
header of every page; the QR code and short code on page 1), and each copy is that file with
the two placeholder objects replaced and the cross-reference table rewritten. Everything else
(fonts, page forms, page objects) is copied byte for byte, so a copy costs its QR code and a
few hundred bytes of operators.

The glyphs of every character the codes may use are put into the embedded font subsets when
the template is made (:meth:`TextEncoder.prime`), because the subsets are fixed once written.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass

from reportlab.pdfbase.pdfdoc import xObjectName

from questionnaires import fonts
from questionnaires.errors import QuestionnaireError
from questionnaires.pdf import PageFormCanvas, QuestionnaireLayout
from questionnaires.pdf_layout import web_address_for
from questionnaires.qr import Matrix

_HEADER_FORM = "qpersonalheader"
_PANEL_FORM = "qpersonalpanel"
_XREF_START = re.compile(rb"xref\r?\n0 (\d+)\r?\n")
_XREF_ENTRY_SIZE = 20  # "0000000061 00000 n \n", fixed width by the PDF specification


@dataclass(frozen=True)
class _ParsedPdf:
    head: bytes  # everything before the first object
    objects: dict[int, bytes]  # object number -> "N 0 obj ... endobj\n"
    order: tuple[int, ...]  # object numbers in file order
    size: int  # the /Size of the cross-reference table
    trailer: bytes  # "trailer << ... >>\n", without startxref


def _parse_pdf(data: bytes) -> _ParsedPdf:
    """Split a classic-xref PDF (as reportlab writes it) into its objects."""
    start = int(data[data.rindex(b"startxref") + len(b"startxref") : data.rindex(b"%%EOF")])
    match = _XREF_START.match(data, start)
    if match is None:
        raise QuestionnaireError("Mẫu PDF không hợp lệ. / Unexpected PDF structure in template.")
    size = int(match.group(1))
    entries = data[match.end() : match.end() + size * _XREF_ENTRY_SIZE]
    offsets = {
        number: int(entries[number * _XREF_ENTRY_SIZE : number * _XREF_ENTRY_SIZE + 10])
        for number in range(1, size)
    }
    order = tuple(sorted(offsets, key=offsets.__getitem__))
    bounds = [offsets[number] for number in order] + [start]
    objects = {number: data[bounds[i] : bounds[i + 1]] for i, number in enumerate(order)}
    trailer_start = match.end() + size * _XREF_ENTRY_SIZE
    trailer = data[trailer_start : data.rindex(b"startxref")]
    return _ParsedPdf(data[: bounds[0]], objects, order, size, trailer)


def _form_object(number: int, template_object: bytes, content: str) -> bytes:
    """The form XObject ``number`` of the template with new (Flate-compressed) content."""
    # reportlab writes "N 0 obj\n<dictionary>\nstream\n<data>endstream\nendobj\n"
    dictionary = template_object[
        template_object.index(b"<<") : template_object.index(b"\nstream\n")
    ]
    stream = zlib.compress(content.encode("latin-1"), 6)
    dictionary = re.sub(rb"/Filter \[[^\]]*\]|/Filter /\w+", b"", dictionary)
    dictionary = re.sub(
        rb"/Length \d+", b"/Filter /FlateDecode /Length %d" % len(stream), dictionary
    )
    return b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (number, dictionary, stream)


class BookletTemplate:
    """A personalised booklet rendered once, to stamp out complete per-copy PDF files.

    ``characters`` must contain every character of every code that will be rendered (see
    :func:`questionnaires.pdf_personal.code_characters`); ``url`` is any URL of the batch and
    fixes the web address printed under the code, so one template serves one web address.
    """

    def __init__(self, layout: QuestionnaireLayout, *, url: str, characters: str) -> None:
        if not layout.personalised:
            raise QuestionnaireError(
                "Mẫu cần bố cục cá nhân hóa. / The layout must be personalised."
            )
        self.layout = layout
        self.web_address = web_address_for(url)
        buffer = io.BytesIO()
        canvas = PageFormCanvas(buffer, pageCompression=1)
        canvas.setTitle(layout.questionnaire.title.get(layout.lang))
        layout.page_forms(canvas)
        self._encoder = layout.encoder(canvas)
        self._encoder.prime(fonts.REGULAR, layout.header_label_characters() + characters)
        self._encoder.prime(fonts.CODE, characters)
        for name in (_HEADER_FORM, _PANEL_FORM):
            canvas.beginForm(name)
            canvas.addLiteral("% replaced per copy")
            canvas.endForm()
        instruction = layout.instruction_form(canvas, self.web_address)

        def personal(page: int) -> None:
            canvas.doForm(_HEADER_FORM)
            if page == 1:
                canvas.doForm(_PANEL_FORM)
                canvas.doForm(instruction)

        self.pages = layout.emit_pages(canvas, personal)
        canvas.save()
        self._encoder.freeze()
        numbers = canvas._doc.idToObjectNumberAndVersion  # reportlab's object numbering
        self._header_number = numbers[xObjectName(_HEADER_FORM)][0]
        self._panel_number = numbers[xObjectName(_PANEL_FORM)][0]
        self._pdf = _parse_pdf(buffer.getvalue())

    def render(self, *, url: str, code: str, matrix: Matrix) -> bytes:
        """The complete PDF of one copy whose QR encodes ``url`` and which shows ``code``."""
        if web_address_for(url) != self.web_address:
            raise QuestionnaireError(
                f"URL {url!r} không cùng địa chỉ web với mẫu ({self.web_address}). / "
                f"URL {url!r} is not on the template's web address ({self.web_address})."
            )
        pdf = self._pdf
        replaced = {
            self._header_number: _form_object(
                self._header_number,
                pdf.objects[self._header_number],
                self.layout.header_operators(self._encoder, code),
            ),
            self._panel_number: _form_object(
                self._panel_number,
                pdf.objects[self._panel_number],
                self.layout.panel_operators(self._encoder, code, matrix),
            ),
        }
        chunks = [pdf.head]
        position = len(pdf.head)
        offsets = [0] * pdf.size
        for number in pdf.order:
            chunk = replaced.get(number) or pdf.objects[number]
            offsets[number] = position
            chunks.append(chunk)
            position += len(chunk)
        xref = [b"xref\n0 %d\n0000000000 65535 f \n" % pdf.size]
        xref.extend(b"%010d 00000 n \n" % offsets[number] for number in range(1, pdf.size))
        chunks.append(b"".join(xref))
        chunks.append(pdf.trailer)
        chunks.append(b"startxref\n%d\n%%%%EOF\n" % position)
        return b"".join(chunks)
