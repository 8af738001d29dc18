"""Separate PDF files per copy: one rendered booklet whose personal forms are restamped.

A ZIP of personalised booklets needs one complete PDF per copy, so the page forms that make
:class:`~questionnaires.pdf.PageFormCanvas` fast cannot be shared between files. Instead the
booklet is rendered once by reportlab with two placeholder form XObjects (the code in the
header of every page; the QR code and short code on page 1), opened once with pypdf, and each
copy is that document with the two placeholders' content streams replaced and written out by
pypdf. Fonts, page forms and pages are shared, so a copy costs its QR code and the writing.

The glyphs of every character the codes may use are put into the embedded font subsets when
the template is made (:meth:`TextEncoder.prime`), because the subsets are fixed once written.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from reportlab.pdfbase.pdfdoc import xObjectName

from questionnaires import fonts
from questionnaires.errors import QuestionnaireError
from questionnaires.pdf import PageFormCanvas, QuestionnaireLayout
from questionnaires.pdf_layout import web_address_for
from questionnaires.qr import Matrix

_HEADER_FORM = "qpersonalheader"
_PANEL_FORM = "qpersonalpanel"


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
        self._writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
        # Every page uses the same two form objects: replacing them once changes all pages.
        forms = self._writer.pages[0]["/Resources"]["/XObject"]
        self._header = forms["/" + xObjectName(_HEADER_FORM)].get_object()
        self._panel = forms["/" + xObjectName(_PANEL_FORM)].get_object()

    def render(self, *, url: str, code: str, matrix: Matrix) -> bytes:
        """The complete PDF of one copy whose QR encodes ``url`` and which shows ``code``."""
        if web_address_for(url) != self.web_address:
            raise QuestionnaireError(
                f"URL {url!r} không cùng địa chỉ web với mẫu ({self.web_address}). / "
                f"URL {url!r} is not on the template's web address ({self.web_address})."
            )
        header = self.layout.header_operators(self._encoder, code)
        panel = self.layout.panel_operators(self._encoder, code, matrix)
        self._header.set_data(header.encode("latin-1"))
        self._panel.set_data(panel.encode("latin-1"))
        out = io.BytesIO()
        self._writer.write(out)
        return out.getvalue()
