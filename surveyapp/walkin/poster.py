"""The A4 counter poster: a large QR code to the unit's walk-in form, in Vietnamese and English,
and the campaign's walk-in link for a unit that it leads to."""

import secrets

import sqlalchemy as sa
from flask import current_app
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph

from questionnaires import fonts, qr_matrix
from questionnaires.pdf_layout import BinaryCanvas, markup
from questionnaires.qr import draw_qr
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import Unit
from surveyapp.models.walkin import WalkinLink

ACCENT = HexColor("#0b4f9c")
WIDTH, HEIGHT = A4
MARGIN = 18 * mm
QR_SIZE = 110 * mm


def _centred(canvas, text: str, style: ParagraphStyle, top: float) -> float:
    paragraph = Paragraph(text, style)
    _, height = paragraph.wrap(WIDTH - 2 * MARGIN, HEIGHT)
    paragraph.drawOn(canvas, MARGIN, top - height)
    return top - height


def render_poster(
    out, *, url: str, unit_name: str, campaign_name: str, duration: str | None = None
) -> None:
    """Write the poster for ``url`` (the unit's /w/ address) to ``out`` (path or file).

    ``duration`` is the questionnaire's expected minutes (``duration_label``), the same
    figure its invitation letter prints; without it the poster names no duration.

    The questionnaires library's canvas: DejaVu Sans from the first operator on, so that no
    font other than the embedded DejaVu faces is listed in the file.
    """
    style = ParagraphStyle("p", fontName=fonts.REGULAR, fontSize=14, leading=19, alignment=1)
    title = style.clone("title", fontName=fonts.BOLD, fontSize=26, leading=32, textColor=ACCENT)
    english = style.clone("en", fontName=fonts.ITALIC, fontSize=13, leading=17)
    unit_style = style.clone("unit", fontName=fonts.BOLD, fontSize=18, leading=23)
    canvas = BinaryCanvas(out, pagesize=A4)
    canvas.setTitle(f"Khảo sát tại quầy — {unit_name}")
    top = HEIGHT - MARGIN
    top = _centred(canvas, "MỜI ÔNG/BÀ CHO Ý KIẾN", title, top) - 2 * mm
    top = _centred(canvas, "về sự phục vụ của", style, top) - 1 * mm
    top = _centred(canvas, markup(unit_name), unit_style, top) - 2 * mm
    top = _centred(canvas, "Please tell us how we served you today", english, top) - 6 * mm
    matrix = qr_matrix(url, error_correction="Q")
    draw_qr(canvas, matrix, (WIDTH - QR_SIZE) / 2, top - QR_SIZE, QR_SIZE)
    top -= QR_SIZE + 6 * mm
    minutes_vi = f" (khoảng {markup(duration)} phút)" if duration else ""
    minutes_en = f" (about {markup(duration)} minutes)" if duration else ""
    top = _centred(
        canvas,
        f"Quét mã QR bằng camera điện thoại, trả lời vài câu hỏi{minutes_vi}.",
        style,
        top,
    )
    top = (
        _centred(canvas, f"Scan the QR code with your phone's camera{minutes_en}.", english, top)
        - 4 * mm
    )
    link_style = style.clone("link", fontName=fonts.CODE, fontSize=12, leading=16)
    top = _centred(canvas, markup(url), link_style, top) - 6 * mm
    _centred(
        canvas,
        "<b>Phiếu không ghi tên.</b> Ý kiến của Ông/Bà được giữ bí mật và chỉ dùng để thống kê. "
        f"<br/>{markup(campaign_name)}",
        style.clone("small", fontSize=11, leading=15),
        top,
    )
    canvas.showPage()
    canvas.save()


def poster_link(campaign: Campaign, unit: Unit) -> WalkinLink:
    """The campaign's walk-in link for ``unit``, made on first use."""
    link = db.session.scalar(
        sa.select(WalkinLink).where(
            WalkinLink.campaign_id == campaign.id, WalkinLink.unit_id == unit.id
        )
    )
    if link is None:
        group = current_app.config["WALKIN_RESPONDENT_GROUP"]
        link = WalkinLink(
            campaign_id=campaign.id,
            unit_id=unit.id,
            slug=secrets.token_urlsafe(9),
            respondent_group=group,
        )
        db.session.add(link)
        db.session.flush()
    return link
