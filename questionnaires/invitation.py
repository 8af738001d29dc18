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
from string import Formatter
from typing import IO

from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
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
    """One letter: the personal URL (encoded in the QR), its short code, optional addressee.

    ``address`` (when the list has one) is printed under the addressee, where a window
    envelope shows it; ``rated_units`` names the units an official rates; ``questionnaire``
    (the respondent group's) and ``group`` choose the letter's texts.
    """

    url: str
    code: str
    addressee: str | None = None
    unit: str | None = None
    address: str | None = None
    rated_units: tuple[str, ...] = ()
    questionnaire: object | None = None
    group: str | None = None  # the respondent group, for its own texts (letter: groups:)

    @classmethod
    def coerce(cls, item: object, position: int) -> InvitationEntry:
        if isinstance(item, InvitationEntry):
            if not item.url or not item.code:
                raise QuestionnaireError(
                    f"[thư {position}] thiếu URL hoặc mã. / [letter {position}] URL or code missing."
                )
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


# What every letter says, whatever the survey: layout words and instructions.
_TEXT = {
    "vi": {
        "state": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "agency": "SỞ NỘI VỤ",
        "dear": "Kính gửi: {addressee}",
        "at_unit": " tại <b>{unit}</b>",
        "in_year": " năm {year}",
        "deadline": "Kính mong {salutation} trả lời trước ngày <b>{deadline}</b>.",
        "how": "CÁCH TRẢ LỜI",
        "step_scan": "Mở camera điện thoại, quét mã QR bên cạnh; <b>hoặc</b>",
        "step_type": "Vào địa chỉ <b>{web}</b> và nhập mã:",
        "english": (
            "Survey invitation: scan the QR code, or go to {web} and type the code above. "
            "Your answers are anonymous and kept confidential under the Statistics Law."
        ),
        "contact": "Thông tin liên hệ: {contact}",
        "minutes": "{low}–{high}",
    },
    "en": {
        "state": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "agency": "DEPARTMENT OF HOME AFFAIRS",
        "dear": "To: {addressee}",
        "at_unit": " at <b>{unit}</b>",
        "in_province": " of {province} province",
        "in_year": " {year}",
        "deadline": "Please answer by <b>{deadline}</b>.",  # {salutation} unused
        "how": "HOW TO ANSWER",
        "step_scan": "Open your phone's camera and scan the QR code; <b>or</b>",
        "step_type": "Go to <b>{web}</b> and type the code:",
        "english": "",
        "contact": "Contact: {contact}",
        "minutes": "{low}–{high}",
    },
}

# A questionnaire without its own ``letter:`` texts gets a neutral letter that names no
# survey method, so that no group is ever told it is in another group's survey.
_GENERIC_LETTER = {
    "vi": {
        "title": "THƯ MỜI THAM GIA KHẢO SÁT",
        "subtitle": "",
        "salutation": "Ông/Bà",
        "purpose": (
            "Sở Nội vụ{province} đang tổ chức khảo sát{year}. Ông/Bà được chọn ngẫu nhiên{unit} "
            "để tham gia khảo sát này."
        ),
        "confidentiality": (
            "Phiếu khảo sát không ghi tên. Ý kiến của Ông/Bà được giữ bí mật theo Luật Thống kê "
            "và chỉ được tổng hợp cùng ý kiến của nhiều người khác."
        ),
        "thanks": "Trân trọng cảm ơn sự hợp tác của Ông/Bà!",
    },
    "en": {
        "title": "INVITATION TO TAKE PART IN A SURVEY",
        "subtitle": "",
        "salutation": "Sir or Madam",
        "purpose": (
            "The Department of Home Affairs{province} is running a survey{year}. You were chosen "
            "at random{unit} to take part in it."
        ),
        "confidentiality": (
            "The questionnaire does not ask for your name. Your answers are kept confidential "
            "under the Statistics Law and only ever combined with many others."
        ),
        "thanks": "Thank you for your help!",
    },
}
_GENERIC_DURATION = " Answering takes about {duration} minutes."
_GENERIC_DURATION_VI = " Việc trả lời mất khoảng {duration} phút."


def duration_label(questionnaire: object | None, lang: str = "vi") -> str | None:
    """The expected answering time in minutes, "10–15" or "12", from the questionnaire's
    ``duration_minutes`` (the one source for the letter and the walk-in poster)."""
    minutes = getattr(questionnaire, "duration_minutes", None)
    if not minutes:
        return None
    low, high = minutes
    return (
        str(low)
        if low == high
        else _TEXT.get(lang, _TEXT["vi"])["minutes"].format(low=low, high=high)
    )


def letter_texts(
    questionnaire: object | None, lang: str, group: str | None = None
) -> dict[str, str]:
    """The letter's texts in ``lang``: the questionnaire's own ``letter:`` (with the texts
    ``groups: <group>:`` changes for ``group``) over the neutral letter; the subtitle
    defaults to the questionnaire's title."""
    texts = dict(_GENERIC_LETTER[lang])
    own = dict(getattr(questionnaire, "letter", ()) or ())
    own.update(dict(dict(getattr(questionnaire, "letter_groups", ()) or ()).get(group, ())))
    if not own:
        title = _questionnaire_title(questionnaire, lang)
        if title:
            texts["subtitle"] = title
        if duration_label(questionnaire, lang):
            texts["confidentiality"] += _GENERIC_DURATION_VI if lang == "vi" else _GENERIC_DURATION
    for key, text in own.items():
        texts[key] = text.get(lang) if hasattr(text, "get") else str(text)
    return texts


@dataclass(frozen=True)
class _Letterhead:
    province: str | None
    year: str | None
    deadline: str | None
    contact: str | None
    lang: str


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
    preview: bool = False,
) -> int:
    """Write one A4 invitation page per entry to ``out`` (path or binary file); return pages.

    ``preview`` marks every page «BẢN XEM TRƯỚC — KHÔNG GỬI / PREVIEW — DO NOT SEND».

    ``entries`` are :class:`InvitationEntry` or ``(url, code[, addressee[, unit]])`` items;
    an entry's unit overrides ``unit_name``. The letter's texts come from the entry's
    questionnaire, else ``questionnaire`` (its ``letter:`` and ``duration_minutes``), else a
    neutral letter. ``progress(done, total)`` is called after every page.
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
    )
    plan = QrPlan.for_texts(letter.url for letter in letters)
    canvas = BinaryCanvas(out)
    first = letters[0]
    canvas.setTitle(letter_texts(first.questionnaire or questionnaire, lang, first.group)["title"])
    forms: dict[tuple, str] = {}
    # With any address in the batch, every letter leaves room for one (same layout).
    with_address = any(letter.address for letter in letters)
    styles = build_styles()
    for done, letter in enumerate(letters, 1):
        survey = letter.questionnaire or questionnaire
        unit = letter.unit or unit_name
        web = web_address_for(letter.url)
        key = (unit, letter.rated_units, web, id(survey), letter.group, with_address)
        if key not in forms:
            forms[key] = f"invitation{len(forms)}"
            canvas.beginForm(forms[key])
            _draw_static_letter(
                canvas,
                styles,
                head,
                survey,
                letter.group,
                unit,
                letter.rated_units,
                web,
                with_address,
            )
            canvas.endForm()
        canvas.doForm(forms[key])
        _draw_personal_part(canvas, styles, head, survey, letter, plan)
        if preview:
            _draw_preview_mark(canvas)
        canvas.showPage()
        if progress is not None:
            progress(done, len(letters))
    canvas.save()
    return len(letters)


def _draw_preview_mark(canvas) -> None:
    """A red line above the letterhead and below the footer (the layout stays readable)."""
    canvas.saveState()
    canvas.setFillColorRGB(0.75, 0.1, 0.1)
    canvas.setFont(fonts.BOLD, 11)
    mark = "BẢN XEM TRƯỚC — KHÔNG GỬI · PREVIEW — DO NOT SEND"
    canvas.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 11 * mm, mark)
    canvas.drawCentredString(PAGE_WIDTH / 2, 8 * mm, mark)
    canvas.restoreState()


def _questionnaire_title(questionnaire: object | None, lang: str) -> str | None:
    if questionnaire is None:
        return None
    title = getattr(questionnaire, "title", None)
    if title is None:
        return None
    return title.get(lang) if hasattr(title, "get") else str(title)


def _province_title(province: str) -> str:
    """«Tỉnh X» or «Thành phố X» as named, else «tỉnh X» (a name without its kind)."""
    if province.casefold().startswith(("tỉnh ", "thành phố ")):
        return province
    return f"tỉnh {province}"


def _in_province(province: str, lang: str) -> str:
    title = _province_title(province)
    if lang == "vi":
        return " " + markup(title[0].lower() + title[1:])
    if title == province:  # named with its kind (Thành phố X, Tỉnh X): no "province" added
        return " of " + markup(province)
    return _TEXT[lang]["in_province"].format(province=markup(province))


def _filled(template: str, values: dict[str, str]) -> str:
    """A letter text (plain, from the questionnaire) escaped, with its placeholders filled
    by ready-made markup."""
    pieces = []
    for literal, name, _, _ in Formatter().parse(template):
        pieces.append(markup(literal))
        if name is not None:
            pieces.append(values.get(name, ""))
    return "".join(pieces)


def _paragraph(canvas, text: str, style, x: float, top: float, width: float) -> float:
    """Draw a paragraph whose top edge is at ``top``; return the y just below it."""
    paragraph = Paragraph(text, style)
    _, height = paragraph.wrap(width, PAGE_HEIGHT)
    paragraph.drawOn(canvas, x, top - height)
    return top - height


_Y_DEAR = PAGE_HEIGHT - 74 * mm
_Y_BODY = _Y_DEAR - 10 * mm
_ADDRESS_SPACE = 9 * mm  # two lines of address under the addressee
_PANEL_TOP = PAGE_HEIGHT - 162 * mm


def _body_top(with_address: bool) -> float:
    return _Y_BODY - (_ADDRESS_SPACE if with_address else 0)


def _draw_static_letter(
    canvas,
    styles,
    head: _Letterhead,
    survey: object | None,
    group: str | None,
    unit: str | None,
    rated_units: tuple[str, ...],
    web: str,
    with_address: bool,
) -> None:
    text = _TEXT[head.lang]
    letter = letter_texts(survey, head.lang, group)
    top = PAGE_HEIGHT - _MARGIN
    half = _WIDTH / 2
    agency = styles["agency"]
    centred = {"alignment": 1}
    left_lines = []
    if head.province:
        left_lines.append(
            markup(
                ("UBND " if head.lang == "vi" else "PEOPLE'S COMMITTEE OF ")
                + _province_title(head.province).upper()
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
        canvas,
        markup(letter["title"]),
        styles["title"].clone("t", **centred),
        _MARGIN,
        top - 24 * mm,
        _WIDTH,
    )
    subtitle_style = styles["subtitle"].clone("s", **centred)
    subtitle = Paragraph(markup(letter["subtitle"]), subtitle_style)
    _, height = subtitle.wrap(_WIDTH, PAGE_HEIGHT)
    if y - 2 * mm - height < _Y_DEAR + 6 * mm:
        raise QuestionnaireError(
            "Tiêu đề thư quá dài (title, subtitle). / The letter's title and subtitle are too long."
        )
    subtitle.drawOn(canvas, _MARGIN, y - 2 * mm - height)

    body = styles["base"].clone("body", fontSize=10.5, leading=15, spaceAfter=6, firstLineIndent=0)
    values = {
        "province": _in_province(head.province, head.lang) if head.province else "",
        "year": text["in_year"].format(year=markup(head.year)) if head.year else "",
        "unit": text["at_unit"].format(unit=markup(unit)) if unit else "",
        "rated_units": ", ".join(
            f"<b>{markup(name)}</b>" for name in rated_units or [unit] if name
        ),
        "duration": markup(duration_label(survey, head.lang) or ""),
    }
    y = _paragraph(
        canvas, _filled(letter["purpose"], values), body, _MARGIN, _body_top(with_address), _WIDTH
    )
    y -= 3 * mm
    y = _paragraph(canvas, _filled(letter["confidentiality"], values), body, _MARGIN, y, _WIDTH)
    y -= 3 * mm
    if head.deadline:
        y = (
            _paragraph(
                canvas,
                text["deadline"].format(
                    deadline=markup(head.deadline), salutation=markup(letter["salutation"])
                ),
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
        f"<i>{_filled(letter['thanks'], values)}</i>",
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


def _draw_personal_part(
    canvas, styles, head: _Letterhead, survey: object | None, letter: InvitationEntry, plan
) -> None:
    text = _TEXT[head.lang]
    default = letter_texts(survey, head.lang, letter.group)["salutation"]
    addressee = markup(letter.addressee or default)
    y = _paragraph(
        canvas,
        text["dear"].format(addressee=f"<b>{addressee}</b>"),
        styles["base"].clone("dear", fontSize=11, leading=14),
        _MARGIN,
        _Y_DEAR,
        _WIDTH,
    )
    if letter.address:
        # Plain lines (no markup); an address longer than two lines keeps its first two.
        lines = simpleSplit(" ".join(letter.address.split()), fonts.REGULAR, 9.5, _WIDTH)
        if len(lines) > 2:
            lines = [lines[0], lines[1].rstrip(" ,") + " …"]
        canvas.setFont(fonts.REGULAR, 9.5)
        for number, line in enumerate(lines, 1):
            canvas.drawString(_MARGIN, y - number * 12, line)
    bottom = _PANEL_TOP - _PANEL_HEIGHT
    qr_y = bottom + (_PANEL_HEIGHT - _QR_SIZE) / 2
    draw_qr(canvas, plan.matrix(letter.url), _MARGIN + 6 * mm, qr_y, _QR_SIZE)
    text_left = _MARGIN + _QR_SIZE + 14 * mm
    text_width = _MARGIN + _WIDTH - text_left - 6 * mm
    draw_short_code(canvas, letter.code, text_left + text_width / 2, bottom + 13 * mm, size=22)
