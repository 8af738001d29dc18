"""Invitation letters: one A4 page per sampled respondent with QR code and short code.

A4 rather than an A5 leaflet because letters go out by post in window envelopes and are
printed on office printers; the same page also serves as a leaflet at the one-stop counter.
Everything that does not change between letters of one unit (letterhead, explanation,
confidentiality promise, instructions) is drawn once per unit as a PDF form XObject and
reused, so each letter only adds the addressee, the QR code and the short code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph

from questionnaires import fonts
from questionnaires.errors import QuestionnaireError
from questionnaires.pdf_layout import (
    ACCENT,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    SHADE,
    BinaryCanvas,
    build_styles,
    draw_short_code,
    markup,
    web_address_for,
)
from questionnaires.qr import QrPlan, draw_qr

Progress = Callable[[int, int], None]

_MARGIN = 20 * mm
_WIDTH = PAGE_WIDTH - 2 * _MARGIN
_PANEL_HEIGHT = 72 * mm
_QR_SIZE = 56 * mm


@dataclass(frozen=True)
class InvitationEntry:
    """One letter: the personal URL (encoded in the QR), its short code, optional addressee."""

    url: str
    code: str
    addressee: str | None = None
    unit: str | None = None

    @classmethod
    def coerce(cls, item: object, position: int) -> InvitationEntry:
        if isinstance(item, InvitationEntry):
            return item
        if isinstance(item, dict):
            values = (item.get("url"), item.get("code"), item.get("addressee"), item.get("unit"))
        elif isinstance(item, (tuple, list)) and 2 <= len(item) <= 4:
            values = (*item, *([None] * (4 - len(item))))
        else:
            raise QuestionnaireError(
                f"[thư {position}] cần (url, mã[, người nhận[, đơn vị]]). / "
                f"[letter {position}] expected (url, code[, addressee[, unit]]), got {item!r}."
            )
        url, code, addressee, unit = (None if v in (None, "") else str(v).strip() for v in values)
        if not url or not code:
            raise QuestionnaireError(
                f"[thư {position}] thiếu URL hoặc mã. / [letter {position}] URL or code missing."
            )
        return cls(url, code, addressee, unit)


_TEXT = {
    "vi": {
        "state": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "agency": "SỞ NỘI VỤ",
        "title": "THƯ MỜI THAM GIA KHẢO SÁT",
        "subtitle": "Đánh giá sự hài lòng đối với sự phục vụ của cơ quan hành chính nhà nước",
        "dear": "Kính gửi: {addressee}",
        "dear_default": "Ông/Bà",
        "why": (
            "Sở Nội vụ{province} đang tổ chức điều tra xã hội học phục vụ xác định Chỉ số cải "
            "cách hành chính (Chỉ số CCHC) và Chỉ số hài lòng của người dân, tổ chức đối với "
            "sự phục vụ của cơ quan hành chính nhà nước (SIPAS){year}. Ông/Bà được chọn ngẫu "
            "nhiên trong số người dân, tổ chức đã giải quyết thủ tục hành chính{unit}."
        ),
        "about": " về <b>{title}</b>",
        "at_unit": " tại <b>{unit}</b>",
        "in_province": " tỉnh {province}",
        "in_year": " năm {year}",
        "trust": (
            "Phiếu khảo sát <b>không ghi tên</b>. Ý kiến của Ông/Bà được giữ bí mật theo Luật "
            "Thống kê, chỉ được tổng hợp cùng ý kiến của nhiều người khác và không dùng vào mục "
            "đích nào khác. Việc trả lời mất khoảng 10–15 phút."
        ),
        "deadline": "Kính mong Ông/Bà trả lời trước ngày <b>{deadline}</b>.",
        "how": "CÁCH TRẢ LỜI",
        "step_scan": "Mở camera điện thoại, quét mã QR bên cạnh; <b>hoặc</b>",
        "step_type": "Vào địa chỉ <b>{web}</b> và nhập mã:",
        "thanks": "Trân trọng cảm ơn sự hợp tác của Ông/Bà!",
        "english": (
            "Survey invitation: scan the QR code, or go to {web} and type the code above. "
            "Your answers are anonymous and kept confidential under the Statistics Law."
        ),
        "contact": "Thông tin liên hệ: {contact}",
    },
    "en": {
        "state": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "agency": "DEPARTMENT OF HOME AFFAIRS",
        "title": "INVITATION TO TAKE PART IN A SURVEY",
        "subtitle": "Satisfaction with the services of state administrative agencies",
        "dear": "To: {addressee}",
        "dear_default": "the respondent",
        "why": (
            "The Department of Home Affairs{province} is running a sociological survey for the "
            "Public Administration Reform Index (PAR Index) and the Satisfaction Index of "
            "Public Administrative Services (SIPAS){year}. You were chosen at random among the "
            "citizens and organisations who completed an administrative procedure{unit}."
        ),
        "about": " about <b>{title}</b>",
        "at_unit": " at <b>{unit}</b>",
        "in_province": " of {province} province",
        "in_year": " {year}",
        "trust": (
            "The questionnaire <b>does not ask for your name</b>. Your answers are kept "
            "confidential under the Statistics Law, only ever combined with many others, and "
            "used for no other purpose. Answering takes about 10–15 minutes."
        ),
        "deadline": "Please answer by <b>{deadline}</b>.",
        "how": "HOW TO ANSWER",
        "step_scan": "Open your phone's camera and scan the QR code; <b>or</b>",
        "step_type": "Go to <b>{web}</b> and type the code:",
        "thanks": "Thank you for your help!",
        "english": "",
        "contact": "Contact: {contact}",
    },
}


@dataclass(frozen=True)
class _Letterhead:
    province: str | None
    year: str | None
    deadline: str | None
    contact: str | None
    lang: str
    survey_title: str | None


def render_invitations(
    entries: Iterable[object],
    out: str | os.PathLike | IO[bytes],
    *,
    questionnaire: object | None = None,
    unit_name: str | None = None,
    province: str | None = None,
    year: int | str | None = None,
    deadline: str | None = None,
    contact: str | None = None,
    lang: str = "vi",
    progress: Progress | None = None,
) -> int:
    """Write one A4 invitation page per entry to ``out`` (path or binary file); return pages.

    ``entries`` are :class:`InvitationEntry` or ``(url, code[, addressee[, unit]])`` items;
    an entry's unit overrides ``unit_name``. ``questionnaire`` (optional) names the survey.
    ``progress(done, total)`` is called after every page.
    """
    if lang not in _TEXT:
        raise QuestionnaireError(
            f"Ngôn ngữ không hỗ trợ: {lang!r} (vi hoặc en). / Unsupported language {lang!r}."
        )
    letters = [InvitationEntry.coerce(item, index) for index, item in enumerate(entries, 1)]
    if not letters:
        raise QuestionnaireError("Không có thư nào để in. / No invitations to print.")
    fonts.register_fonts()
    head = _Letterhead(
        province=province,
        year=None if year is None else str(year),
        deadline=deadline,
        contact=contact,
        lang=lang,
        survey_title=_questionnaire_title(questionnaire, lang),
    )
    plan = QrPlan.for_texts(letter.url for letter in letters)
    canvas = BinaryCanvas(out)
    canvas.setTitle(_TEXT[lang]["title"])
    forms: dict[tuple[str | None, str], str] = {}
    styles = build_styles()
    for done, letter in enumerate(letters, 1):
        unit = letter.unit or unit_name
        web = web_address_for(letter.url)
        key = (unit, web)
        if key not in forms:
            forms[key] = f"invitation{len(forms)}"
            canvas.beginForm(forms[key])
            _draw_static_letter(canvas, styles, head, unit, web)
            canvas.endForm()
        canvas.doForm(forms[key])
        _draw_personal_part(canvas, styles, head, letter, plan)
        canvas.showPage()
        if progress is not None:
            progress(done, len(letters))
    canvas.save()
    return len(letters)


def _questionnaire_title(questionnaire: object | None, lang: str) -> str | None:
    if questionnaire is None:
        return None
    title = getattr(questionnaire, "title", None)
    if title is None:
        return None
    return title.get(lang) if hasattr(title, "get") else str(title)


def _paragraph(canvas, text: str, style, x: float, top: float, width: float) -> float:
    """Draw a paragraph whose top edge is at ``top``; return the y just below it."""
    paragraph = Paragraph(text, style)
    _, height = paragraph.wrap(width, PAGE_HEIGHT)
    paragraph.drawOn(canvas, x, top - height)
    return top - height


_Y_DEAR = PAGE_HEIGHT - 74 * mm
_Y_BODY = _Y_DEAR - 10 * mm
_PANEL_TOP = PAGE_HEIGHT - 150 * mm


def _draw_static_letter(canvas, styles, head: _Letterhead, unit: str | None, web: str) -> None:
    text = _TEXT[head.lang]
    top = PAGE_HEIGHT - _MARGIN
    half = _WIDTH / 2
    agency = styles["agency"]
    centred = {"alignment": 1}
    left_lines = []
    if head.province:
        left_lines.append(
            markup(
                ("UBND TỈNH " if head.lang == "vi" else "PEOPLE'S COMMITTEE OF ")
                + head.province.upper()
            )
        )
    left_lines.append(text["agency"])
    _paragraph(
        canvas,
        "<br/>".join(left_lines),
        agency.clone("agency_left", **centred),
        _MARGIN,
        top,
        half - 6 * mm,
    )
    _paragraph(
        canvas,
        f"{text['state']}<br/><u>{text['motto']}</u>",
        agency.clone("agency_right", **centred),
        _MARGIN + half - 4 * mm,
        top,
        half + 4 * mm,
    )
    y = _paragraph(
        canvas, text["title"], styles["title"].clone("t", **centred), _MARGIN, top - 24 * mm, _WIDTH
    )
    subtitle_style = styles["subtitle"].clone("s", **centred)
    subtitle = Paragraph(text["subtitle"], subtitle_style)
    if head.survey_title:
        titled = Paragraph(markup(head.survey_title), subtitle_style)
        # A title too long for the space above "Kính gửi" gives way to the generic subtitle.
        if y - 2 * mm - titled.wrap(_WIDTH, PAGE_HEIGHT)[1] >= _Y_DEAR + 6 * mm:
            subtitle = titled
    _, height = subtitle.wrap(_WIDTH, PAGE_HEIGHT)
    subtitle.drawOn(canvas, _MARGIN, y - 2 * mm - height)

    body = styles["base"].clone("body", fontSize=10.5, leading=15, spaceAfter=6, firstLineIndent=0)
    why = text["why"].format(
        province=text["in_province"].format(province=markup(head.province))
        if head.province
        else "",
        year=text["in_year"].format(year=markup(head.year)) if head.year else "",
        unit=text["at_unit"].format(unit=markup(unit)) if unit else "",
    )
    y = _paragraph(canvas, why, body, _MARGIN, _Y_BODY, _WIDTH) - 3 * mm
    y = _paragraph(canvas, text["trust"], body, _MARGIN, y, _WIDTH) - 3 * mm
    if head.deadline:
        y = (
            _paragraph(
                canvas,
                text["deadline"].format(deadline=markup(head.deadline)),
                body,
                _MARGIN,
                y,
                _WIDTH,
            )
            - 3 * mm
        )
    _draw_panel_frame(canvas, styles, head, web, y - 3 * mm)
    footer_top = _MARGIN + 26 * mm
    y = _paragraph(
        canvas,
        f"<i>{text['thanks']}</i>",
        body.clone("thanks", alignment=1),
        _MARGIN,
        footer_top,
        _WIDTH,
    )
    if head.contact:
        y = _paragraph(
            canvas,
            text["contact"].format(contact=markup(head.contact)),
            styles["small"].clone("c", alignment=1),
            _MARGIN,
            y - 1 * mm,
            _WIDTH,
        )
    if text["english"]:
        _paragraph(
            canvas,
            text["english"].format(web=markup(web)),
            styles["small"].clone("en", alignment=1, fontName=fonts.ITALIC),
            _MARGIN,
            y - 2 * mm,
            _WIDTH,
        )


def _draw_panel_frame(canvas, styles, head: _Letterhead, web: str, body_bottom: float) -> None:
    text = _TEXT[head.lang]
    # The panel sits at a fixed place so that the personal part (drawn outside the form)
    # knows where the QR and the code go.
    top = _PANEL_TOP
    if body_bottom < top:
        raise QuestionnaireError(
            "Nội dung thư quá dài, không đủ chỗ cho mã QR. / "
            "The letter text is too long to leave room for the QR code."
        )
    bottom = top - _PANEL_HEIGHT
    canvas.saveState()
    canvas.setFillColor(SHADE)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1)
    canvas.roundRect(_MARGIN, bottom, _WIDTH, _PANEL_HEIGHT, 3 * mm, stroke=1, fill=1)
    canvas.restoreState()
    text_left = _MARGIN + _QR_SIZE + 14 * mm
    text_width = _MARGIN + _WIDTH - text_left - 6 * mm
    y = _paragraph(
        canvas,
        text["how"],
        styles["section"].clone("how", textColor=ACCENT),
        text_left,
        top - 7 * mm,
        text_width,
    )
    step = styles["base"].clone("step", fontSize=10.5, leading=14, leftIndent=12, bulletIndent=0)
    y = _paragraph(
        canvas, f"<bullet>1.</bullet>{text['step_scan']}", step, text_left, y - 3 * mm, text_width
    )
    _paragraph(
        canvas,
        f"<bullet>2.</bullet>{text['step_type'].format(web=markup(web))}",
        step,
        text_left,
        y - 2 * mm,
        text_width,
    )
    # The white box the short code is printed into by the personal part.
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.setStrokeColor(MUTED)
    canvas.roundRect(text_left, bottom + 8 * mm, text_width, 16 * mm, 2 * mm, stroke=1, fill=1)
    canvas.restoreState()


def _draw_personal_part(canvas, styles, head: _Letterhead, letter: InvitationEntry, plan) -> None:
    text = _TEXT[head.lang]
    addressee = markup(letter.addressee) if letter.addressee else text["dear_default"]
    _paragraph(
        canvas,
        text["dear"].format(addressee=f"<b>{addressee}</b>"),
        styles["base"].clone("dear", fontSize=11, leading=14),
        _MARGIN,
        _Y_DEAR,
        _WIDTH,
    )
    bottom = _PANEL_TOP - _PANEL_HEIGHT
    qr_y = bottom + (_PANEL_HEIGHT - _QR_SIZE) / 2
    draw_qr(canvas, plan.matrix(letter.url), _MARGIN + 6 * mm, qr_y, _QR_SIZE)
    text_left = _MARGIN + _QR_SIZE + 14 * mm
    text_width = _MARGIN + _WIDTH - text_left - 6 * mm
    draw_short_code(canvas, letter.code, text_left + text_width / 2, bottom + 13 * mm, size=22)
