"""The Department's report (PDF in Vietnamese, and XLSX) and the codebook PDF.

PDFs embed DejaVu Sans (shipped in ``questionnaires/fonts``) so that Vietnamese diacritics render
everywhere; charts are drawn with matplotlib (Agg) and embedded as PNG.

Report sections: overview; ranking of units by overall index (chart with 95% CIs, table
with rank intervals and groups, points, response rates and the change since last year
when given; every unit of the sample, unranked ones with their status); response rates
per unit and respondent group; element breakdown per unit; criteria points; methods
annex (sample design, weights, standard errors, single-respondent strata, design effects,
intervals, ranks, limitations), which refers to ``METHODS.md`` in the repository.

Every text that comes from data (unit names and codes, the campaign's name, the criteria
set's names, group names, questionnaire labels) goes through ``markup`` (the one helper
the questionnaire PDFs and letters use) before it reaches reportlab's paragraph markup:
a name like ``<a href="javascript:...">`` prints as itself and an unclosed ``<b>`` cannot
fail the run. Chart labels have matplotlib's ``$`` escaped for the same reason.

The title names the campaign's own year (``settings["year"]``, else the mapping's) and
the criteria set (the mapping's name and id).
"""

from __future__ import annotations

import functools
import io
import math
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from questionnaires import fonts
from questionnaires.groups import group_name
from questionnaires.pdf_layout import markup
from scoring_bridge.comparison import RULE_LABELS
from scoring_bridge.errors import OutputError
from scoring_bridge.xlsx import write_xlsx

if TYPE_CHECKING:
    from scoring_bridge.scoring import ScoringResult
    from scoring_bridge.spec import SurveySpec

FONT = "SB-DejaVuSans"
FONT_BOLD = "SB-DejaVuSans-Bold"

TITLE = "BÁO CÁO KẾT QUẢ ĐIỀU TRA XÃ HỘI HỌC"
HEADINGS = {
    "overview": "1. Tổng quan về cuộc điều tra",
    "ranking": "2. Xếp hạng các cơ quan, đơn vị theo chỉ số hài lòng chung",
    "rates": "3. Tỷ lệ trả lời theo đơn vị và nhóm đối tượng",
    "elements": "4. Chỉ số theo từng yếu tố",
    "points": "5. Điểm các tiêu chí thành phần của Chỉ số CCHC",
    "methods": "Phụ lục: Phương pháp tính",
}
NOT_APPLICABLE_TEXT = "KAD"  # không áp dụng
UNITS_PER_CHART = 25
METHODS_DOCUMENT = "METHODS.md"  # in the repository: every formula, in Vietnamese and English
STATUS_TEXT = {
    "scored": "được xếp hạng",
    "below_min_n": "chưa đủ số phiếu tối thiểu",
    "no_responses": "không có phiếu trả lời",
    "not_applicable": "không áp dụng",
}
UNRELIABLE_TEXT = "không đủ tin cậy"
SINGLE_MARK = "†"  # a stratum with a single respondent contributes to the cell
SINGLE_METHOD_TEXT = {
    "collapse": "gộp với tầng tương tự nhất của cùng đơn vị (cùng nhóm đối tượng nếu có, "
    "trọng số gần nhất); đơn vị không có tầng nào khác: cách “adjust”",
    "adjust": "cách “adjust” của gói survey (R): giá trị tuyến tính hoá của người trả lời duy "
    "nhất được lấy độ lệch so với ước lượng của miền thay vì trung bình tầng",
    "certainty": "coi như chọn chắc chắn: tầng không đóng góp phương sai (sai số có thể bị "
    "đánh giá thấp)",
    "refuse": "không chấp nhận: lần tính dừng lại nếu có tầng như vậy",
}
SELECTION_TEXT = {
    "srswor": "chọn ngẫu nhiên đơn giản không hoàn lại trong từng tầng",
    "systematic": "chọn hệ thống trong từng tầng (sai số tính như chọn ngẫu nhiên đơn giản "
    "không hoàn lại, một xấp xỉ thông dụng)",
    "pps": "chọn theo xác suất tỷ lệ với quy mô (PPS) hệ thống trong từng tầng; sai số tính "
    "theo xấp xỉ có hoàn lại Hansen–Hurwitz (thận trọng, hơi lớn hơn thực tế), người được "
    "chọn chắc chắn (xác suất 1) không đóng góp phương sai",
}


@functools.cache
def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab under this module's names."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, face in ((FONT, fonts.REGULAR), (FONT_BOLD, fonts.BOLD)):
        path = fonts.font_path(face)
        if not path.is_file():
            raise OutputError(f"Không tìm thấy phông chữ {path}.", f"Font file {path} not found.")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)


def _styles():
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    register_fonts()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle(
            "t", parent=base["Title"], fontName=FONT_BOLD, fontSize=15, leading=19
        ),
        "subtitle": ParagraphStyle(
            "s", parent=base["Normal"], fontName=FONT, fontSize=11, leading=14, alignment=1
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base["Heading2"],
            fontName=FONT_BOLD,
            fontSize=12.5,
            leading=16,
            spaceBefore=10,
            keepWithNext=1,
        ),
        "body": ParagraphStyle(
            "b", parent=base["Normal"], fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4
        ),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontName=FONT, fontSize=7.5, leading=9),
        "cell_bold": ParagraphStyle(
            "cb", parent=base["Normal"], fontName=FONT_BOLD, fontSize=7.5, leading=9
        ),
    }


def _number(value, decimals: int = 1) -> str:
    """Vietnamese number format: comma as decimal separator."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{decimals}f}".replace(".", ",")


def _count(value: int) -> str:
    """Vietnamese thousands separator: 12.345."""
    return f"{int(value):,}".replace(",", ".")


def _table(rows, widths, styles, header_rows: int = 1):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [
        [
            Paragraph(markup(v), styles["cell_bold"] if r < header_rows else styles["cell"])
            for v in row
        ]
        for r, row in enumerate(rows)
    ]
    table = Table(cells, colWidths=widths, repeatRows=header_rows)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),  # Table's default would be Helvetica
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.Color(0.88, 0.91, 0.96)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def ranking_chart(units: pd.DataFrame, names: dict[str, str]) -> list[bytes]:
    """Horizontal bar charts (PNG) of the ranked units' overall index with 95% CIs, best first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = units.dropna(subset=["rank"]).sort_values(["rank", "unit"])
    images = []
    for start in range(0, len(ranked), UNITS_PER_CHART):
        chunk = ranked.iloc[start : start + UNITS_PER_CHART]
        height = 1.1 + 0.2 * len(chunk)
        figure, axes = plt.subplots(figsize=(7.0, height), dpi=150)
        labels = [str(names.get(u, u)).replace("$", r"\$") for u in chunk.unit]  # no mathtext
        positions = np.arange(len(chunk))[::-1]
        error = np.vstack(
            [
                chunk.overall_index - chunk.overall_ci_low,
                chunk.overall_ci_high - chunk.overall_index,
            ]
        )
        axes.barh(
            positions,
            chunk.overall_index,
            color="#3b6fb6",
            xerr=error,
            error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"},
        )
        axes.set_yticks(positions, labels, fontsize=7)
        axes.set_xlim(0, 100)
        axes.set_xlabel("Chỉ số hài lòng chung (%), khoảng tin cậy 95%", fontsize=8)
        axes.tick_params(axis="x", labelsize=7)
        axes.grid(axis="x", linewidth=0.3)
        for y, value, high in zip(
            positions, chunk.overall_index, chunk.overall_ci_high, strict=True
        ):
            if high + 8 <= 100:  # room right of the interval
                axes.text(high + 1.0, y, _number(value), va="center", fontsize=6)
            else:  # inside the bar, near its end
                axes.text(
                    value - 1.0,
                    y,
                    _number(value),
                    va="center",
                    ha="right",
                    fontsize=6,
                    color="white",
                )
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        images.append(buffer.getvalue())
    return images


def report_title(result: ScoringResult) -> str:
    """The title with the campaign's own year (else the mapping's, else this year)."""
    year = result.settings.get("year") or result.mapping.year or _today().year
    return f"{TITLE} NĂM {year}"


def _today() -> date:
    """Today in Viet Nam (reports are dated in Asia/Ho_Chi_Minh time)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def _percent(value) -> str:
    return "–" if value is None or pd.isna(value) else _number(100 * float(value))


def _flags(record) -> set[str]:
    value = getattr(record, "flags", "")
    return set(str(value).split(";")) if isinstance(value, str) and value else set()


def write_report_pdf(
    result: ScoringResult, path: Path, *, unit_names: dict[str, str] | None = None
) -> None:
    """The Vietnamese PDF report (see the module docstring)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import (
        CondPageBreak,
        Image,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
    )

    styles = _styles()
    names = unit_names or {}
    title = report_title(result)
    campaign = result.settings.get("campaign_name")
    story = [
        Paragraph(markup(title), styles["title"]),
        *([Paragraph(markup(campaign), styles["subtitle"])] if campaign else []),
        Paragraph(
            f"Phục vụ xác định Chỉ số cải cách hành chính – bộ tiêu chí: "
            f"{markup(result.mapping.name_vi)} ({markup(result.mapping.id)})",
            styles["subtitle"],
        ),
        Paragraph(markup(result.spec.title_vi), styles["subtitle"]),
        Paragraph(f"Ngày lập: {_today().strftime('%d/%m/%Y')}", styles["subtitle"]),
        Spacer(1, 0.4 * cm),
        Paragraph(HEADINGS["overview"], styles["h1"]),
        *[Paragraph(text, styles["body"]) for text in _overview(result)],
        Paragraph(HEADINGS["ranking"], styles["h1"]),
    ]
    for png in ranking_chart(result.units, names):
        reader = io.BytesIO(png)
        from reportlab.lib.utils import ImageReader

        width, height = ImageReader(io.BytesIO(png)).getSize()
        shown_width = 16.5 * cm
        story.append(Image(reader, width=shown_width, height=shown_width * height / width))
    story.append(Spacer(1, 0.3 * cm))
    story.append(_ranking_table(result, names, styles))
    story += [Paragraph(text, styles["body"]) for text in _ranking_notes(result)]
    story += [Paragraph(text, styles["body"]) for text in _comparison_notes(result, names)]
    if result.response_rates is not None:
        story += [CondPageBreak(6 * cm), Paragraph(HEADINGS["rates"], styles["h1"])]
        story.append(
            Paragraph(
                "Tỷ lệ trả lời theo định nghĩa AAPOR: RR1 = số phiếu hoàn thành / (số người "
                "đủ điều kiện + số người chưa rõ có đủ điều kiện hay không); RR3 chỉ tính phần "
                "ước lượng đủ điều kiện (e) của những người chưa rõ. Mẫu số của mỗi nhóm là mẫu "
                "của chính nhóm đó tại đơn vị. Cùng số liệu với trang Tiến độ khảo sát.",
                styles["body"],
            )
        )
        story.append(_rates_table(result, names, styles))
    story += [PageBreak(), Paragraph(HEADINGS["elements"], styles["h1"])]
    story.append(
        Paragraph(
            "Chỉ số hài lòng (%) của từng yếu tố, gộp các nhóm đối tượng; mỗi ô ghi chỉ số và "
            "số phiếu hợp lệ nhỏ nhất của các câu hỏi trong yếu tố. “*”: ô có số phiếu (hoặc cỡ "
            "mẫu hiệu dụng) dưới một nửa ngưỡng tối thiểu, không đủ tin cậy; "
            f"“{SINGLE_MARK}”: có tầng chỉ một người trả lời (phụ lục).",
            styles["body"],
        )
    )
    story.append(_elements_table(result, names, styles))
    story += [CondPageBreak(7 * cm), Paragraph(HEADINGS["points"], styles["h1"])]
    story.append(
        Paragraph(
            f"{NOT_APPLICABLE_TEXT}: không áp dụng (đơn vị không có phiếu hợp lệ cho tiêu chí, Sở Nội "
            "vụ quy đổi lại thang điểm); “&lt;n”: chưa đủ số phiếu tối thiểu, không chấm điểm; "
            "“KCP”: đơn vị có trong mẫu nhưng không có phiếu trả lời (thiếu số liệu, không phải "
            "không áp dụng).",
            styles["body"],
        )
    )
    story.append(_points_table(result, names, styles))
    story += [PageBreak(), Paragraph(HEADINGS["methods"], styles["h1"])]
    story += [Paragraph(text, styles["body"]) for text in _methods(result)]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawRightString(A4[0] - 1.8 * cm, 1.0 * cm, f"Trang {document.page}")
        # The questionnaire by its title (as on page 1), never its code; cut to the line.
        room = A4[0] - 3.6 * cm - 2.0 * cm
        text = f"{title} – {result.spec.title_vi}"
        if stringWidth(text, FONT, 7.5) > room:
            while stringWidth(text + "…", FONT, 7.5) > room and " " in text:
                text = text.rsplit(" ", 1)[0].rstrip(",;")
            text += "…"
        canvas.drawString(1.8 * cm, 1.0 * cm, text)
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=title,
        author="scoring_bridge",
        initialFontName=FONT,  # otherwise every page references an unembedded Helvetica
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)


def _comparison_notes(result: ScoringResult, names) -> list[str]:
    """How last year's figures were made where units changed (a crosswalk was used)."""
    units = result.units
    if "previous_note" not in units or "like_for_like" not in units:
        return []
    basis = next((b for b in units.get("previous_basis", []) if b), "")
    rule = RULE_LABELS.get(basis, ("", ""))[0]
    lines = [
        "<b>So sánh với năm trước qua bảng chuyển đổi đơn vị.</b> Chỉ số năm trước của đơn vị "
        f"hiện hành được tổng hợp từ các đơn vị tiền thân ({rule}); chỉ so sánh tương đương "
        "khi đơn vị có đúng một đơn vị tiền thân chuyển nguyên vẹn. Các đơn vị khác:"
    ]
    for record in units.itertuples():
        if not record.like_for_like and record.previous_note:
            name, note = names.get(record.unit, record.unit), record.previous_note
            lines.append(f"• {markup(name)}: {markup(note)}.")
    return lines


def _overview(result: ScoringResult) -> list[str]:
    s = result.settings
    groups = markup(", ".join(group_name(code) for code in s["groups"]))
    # The units table holds every sampled unit; the forms come from those with responses.
    answered = int((result.units.n_respondents > 0).sum())
    lines = [
        f"Số phiếu hợp lệ đưa vào tính toán: <b>{_count(s['responses_used'])}</b> phiếu của "
        f"<b>{answered}</b> cơ quan, đơn vị; nhóm đối tượng: {groups}; "
        f"số tầng chọn mẫu: {s['strata']}.",
        f"Bảng hỏi <b>{markup(result.spec.title_vi)}</b> ({markup(s['questionnaire'])})"
        + (
            f" phiên bản <b>{s['questionnaire_version']}</b>"
            if s.get("questionnaire_version")
            else ""
        )
        + f"; bộ tiêu chí chấm điểm <b>{result.mapping.id}</b> ({result.mapping.name_vi}).",
    ]
    if s["walk_in_excluded"]:
        lines.append(
            f"{_count(s['walk_in_excluded'])} phiếu tự đến (không thuộc mẫu xác suất) không được "
            "đưa vào chỉ số."
        )
    elif s["include_nonprobability"]:
        lines.append("Theo yêu cầu, phiếu tự đến (ngoài mẫu xác suất) được tính cùng mẫu xác suất.")
    statuses = result.units.status.value_counts()
    if statuses.get("no_responses", 0) or statuses.get("not_applicable", 0):
        lines.append(
            f"Trong {len(result.units)} đơn vị của mẫu: {statuses.get('scored', 0)} được xếp hạng, "
            f"{statuses.get('below_min_n', 0)} chưa đủ số phiếu tối thiểu, "
            f"{statuses.get('no_responses', 0)} không có phiếu trả lời, "
            f"{statuses.get('not_applicable', 0)} không áp dụng."
        )
    overall = result.units.overall_index.dropna()
    if len(overall):
        lines.append(
            f"Chỉ số hài lòng chung bình quân các đơn vị: <b>{_number(overall.mean())}%</b> "
            f"(thấp nhất {_number(overall.min())}%, cao nhất {_number(overall.max())}%)."
        )
    return lines


def _ranking_table(result: ScoringResult, names, styles):
    from reportlab.lib.units import cm

    units = result.units
    has_rate = "rr1" in units
    has_previous = "previous_overall_index" in units
    header = [
        "Hạng (khoảng)",
        "Nhóm",
        "Cơ quan, đơn vị",
        "Chỉ số chung (%)",
        "KTC 95%",
        "Số phiếu (n hiệu dụng)",
        "Điểm / tối đa",
    ]
    if has_rate:
        header.append("Tỷ lệ trả lời RR1 (%)")
    if has_previous:
        header += ["Năm trước (%)", "Thay đổi"]
    rows = [header]
    for record in units.itertuples():
        flags = _flags(record)
        if pd.isna(record.rank):
            rank, group = STATUS_TEXT.get(record.status, "–"), ""
        else:
            rank = f"{int(record.rank)} ({int(record.rank_low)}–{int(record.rank_high)})"
            group = int(record.rank_group)
        index = _number(record.overall_index)
        if "single_respondent_stratum" in flags:
            index += f" {SINGLE_MARK}"
        if pd.isna(record.overall_index):
            interval = "–"
        elif "unreliable" in flags:
            interval = UNRELIABLE_TEXT
        else:
            interval = f"{_number(record.overall_ci_low)}–{_number(record.overall_ci_high)}"
        size = f"{_count(record.n_respondents)}"
        if not pd.isna(record.overall_n_eff):
            size += f" ({_number(record.overall_n_eff, 0)})"
        row = [
            rank,
            group,
            names.get(record.unit, record.unit),
            index,
            interval,
            size,
            f"{_number(record.points_total, 2)} / {_number(record.max_applicable, 2)}",
        ]
        if has_rate:
            row.append(_percent(record.rr1))
        if has_previous:
            change = record.change
            sign = "+" if not pd.isna(change) and change > 0 else ""
            row += [_number(record.previous_overall_index), f"{sign}{_number(change)}"]
        rows.append(row)
    widths = (
        [2.2, 1.3, 3.4, 1.7, 2.0, 1.8, 2.0]
        + ([1.6] if has_rate else [])
        + ([1.5, 1.4] if has_previous else [])
    )
    scale = 17.4 / sum(widths)
    return _table(rows, [w * scale * cm for w in widths], styles)


def _ranking_notes(result: ScoringResult) -> list[str]:
    s, units = result.settings, result.units
    basis = "cỡ mẫu hiệu dụng" if s.get("min_n_basis") == "n_eff" else "số phiếu hợp lệ"
    notes = [
        "Hạng trong ngoặc là khoảng hạng: các hạng đơn vị có thể nhận nếu những chênh lệch "
        "không có ý nghĩa thống kê (mức 5%) nghiêng về bên này hay bên kia. Các đơn vị cùng "
        "“Nhóm” không phân biệt được với đơn vị đứng đầu nhóm; thứ tự trong nhóm không được "
        "số liệu khẳng định. Số trong ngoặc ở cột số phiếu là cỡ mẫu hiệu dụng Kish.",
    ]
    unranked = units[units["rank"].isna()]
    if len(unranked):
        notes.append(
            f"Chỉ xếp hạng đơn vị mà mọi tiêu chí đều đạt ngưỡng tối thiểu ({s['min_n']} theo "
            f"{basis}). {len(unranked)} đơn vị trong mẫu không được xếp hạng và đứng cuối bảng "
            "với tình trạng của mình (chưa đủ số phiếu tối thiểu, không có phiếu trả lời hoặc "
            "không áp dụng); chỉ số của các đơn vị này, nếu có, chỉ để tham khảo. Các đơn vị "
            "này không có tổng điểm (“–”); điểm của từng tiêu chí đạt ngưỡng vẫn có trong bảng "
            "điểm (points.xlsx)."
        )
    flags = units["flags"].fillna("").astype(str)
    if flags.str.contains("unreliable").any():
        notes.append(
            f"“{UNRELIABLE_TEXT}”: số phiếu (hoặc cỡ mẫu hiệu dụng) dưới một nửa ngưỡng tối "
            "thiểu; khoảng tin cậy không được trình bày như một phép đo."
        )
    if flags.str.contains("single_respondent_stratum").any():
        notes.append(
            f"{SINGLE_MARK}: trong đơn vị có tầng chọn mẫu chỉ một người trả lời; sai số của chỉ "
            "số được tính theo cách nêu ở phụ lục."
        )
    return notes


def _rates_table(result: ScoringResult, names, styles):
    from reportlab.lib.units import cm

    rates = result.response_rates
    rows = [
        [
            "Cơ quan, đơn vị",
            "Nhóm đối tượng",
            "Số người trong mẫu",
            "Hoàn thành",
            "RR1 (%)",
            "RR3 (%)",
        ]
    ]
    completed = rates["I"] if "I" in rates else pd.Series(np.nan, index=rates.index)
    for unit in result.units.unit:
        mine = rates[rates.unit == unit]
        mine = mine.iloc[np.lexsort((mine.group.to_numpy(), mine.group.to_numpy() != ""))]
        for record, done in zip(mine.itertuples(), completed[mine.index], strict=True):
            rows.append(
                [
                    names.get(unit, unit) if record.group == "" else "",
                    group_name(record.group) if record.group else "Cả đơn vị",
                    _count(record.sampled) if not pd.isna(record.sampled) else "–",
                    _count(done) if not pd.isna(done) else "–",
                    _percent(record.rr1),
                    _percent(record.rr3),
                ]
            )
    widths = [5.4, 3.2, 2.4, 2.0, 2.2, 2.2]
    return _table(rows, [w * cm for w in widths], styles)


def _elements_table(result: ScoringResult, names, styles):
    from reportlab.lib.units import cm

    everyone = "+".join(result.settings["groups"])
    rows_of = result.indices[
        (result.indices.level == "element")
        & (result.indices.groups == everyone)
        & (result.indices.formula == "satisfaction_rate")
    ]
    codes = list(result.spec.element_codes)
    header = ["Cơ quan, đơn vị"] + [f"{e.code}. {e.name_vi}" for e in result.spec.elements]
    table = rows_of.set_index(["unit", "code"])
    rows = [header]
    for unit in result.units.unit:
        row = [names.get(unit, unit)]
        for code in codes:
            if (unit, code) in table.index:
                record = table.loc[(unit, code)]
                flags = set(str(record["flags"]).split(";"))
                mark = "*" if "unreliable" in flags else ""
                mark += SINGLE_MARK if "single_respondent_stratum" in flags else ""
                cell = f"{_number(record.estimate)}{mark} (n={int(record.n)})"
                row.append("–" if pd.isna(record.estimate) else cell)
            else:
                row.append("–")
        rows.append(row)
    first = 4.0
    rest = (17.4 - first) / max(len(codes), 1)
    return _table(rows, [first * cm] + [rest * cm] * len(codes), styles)


def _points_table(result: ScoringResult, names, styles):
    from reportlab.lib.units import cm

    criteria = list(result.criteria)
    header = ["Cơ quan, đơn vị"] + [
        f"{c.code} (tối đa {_number(c.max_points, 2)})" for c in criteria
    ]
    keyed = result.points.set_index(["unit", "criterion"])
    rows = [header]
    for unit in result.units.unit:
        row = [names.get(unit, unit)]
        for criterion in criteria:
            record = keyed.loc[(unit, criterion.code)]
            if record.status == "not_applicable":
                row.append(NOT_APPLICABLE_TEXT)
            elif record.status == "below_min_n":
                row.append(f"<n ({int(record.n)})")  # cells are escaped by _table
            elif record.status == "no_responses":
                row.append("KCP")
            else:
                row.append(_number(record.points, criterion.decimals))
        rows.append(row)
    first = 4.0
    rest = (17.4 - first) / max(len(criteria), 1)
    table = _table(rows, [first * cm] + [rest * cm] * len(criteria), styles)
    legend = markup("; ".join(f"{c.code}: {c.name_vi}" for c in criteria))
    from reportlab.platypus import KeepTogether, Paragraph

    return KeepTogether([table, Paragraph(legend, styles["cell"])])


def _methods(result: ScoringResult) -> list[str]:
    s = result.settings
    fpc = (
        "có hiệu chỉnh tổng thể hữu hạn (1 − n<sub>h</sub>/N<sub>h</sub>) theo cỡ tổng thể từng tầng"
        if s["finite_population_correction"]
        else "không hiệu chỉnh tổng thể hữu hạn, nên sai số có thể hơi lớn hơn thực tế"
    )
    weights = (
        "Mỗi phiếu mang trọng số thiết kế (nghịch đảo xác suất chọn trong tầng) đã điều chỉnh không "
        "trả lời theo tầng; các chỉ số là ước lượng tỷ số có trọng số Σw·y / Σw·v."
        if s["weighted"]
        else "Chạy không trọng số theo yêu cầu: mọi phiếu có trọng số 1."
    )
    selection = s.get("selection", "srswor")
    single = s.get("single_respondent_strata", "collapse")
    singles = s.get("single_respondent_strata_list") or []
    basis = (
        "cỡ mẫu hiệu dụng Kish n<sub>eff</sub>"
        if s.get("min_n_basis") == "n_eff"
        else "số phiếu hợp lệ n"
    )
    return [
        f"Công thức đầy đủ (tiếng Việt và tiếng Anh) ở tài liệu {METHODS_DOCUMENT} trong kho mã "
        "nguồn của hệ thống; phụ lục này tóm tắt các lựa chọn của lần tính này.",
        "<b>Thiết kế mẫu.</b> Mẫu phân tầng: mỗi tầng là một cơ quan, đơn vị × nhóm đối tượng "
        "(hoặc chi tiết hơn), chọn từ danh sách người đã nhận kết quả giải quyết thủ tục hành "
        f"chính hoặc danh sách cán bộ, công chức, viên chức của đơn vị; {SELECTION_TEXT[selection]}.",
        f"<b>Trọng số.</b> {weights}",
        "<b>Chỉ số.</b> Tỷ lệ hài lòng của một câu hỏi = (Hài lòng + Rất hài lòng) / số trả lời hợp "
        "lệ × 100; câu trả lời “Không biết / không áp dụng” và câu bỏ trống không tính vào mẫu số. "
        "Chỉ số yếu tố = trung bình các câu hỏi của yếu tố; chỉ số chung = trung bình các yếu tố. "
        "Điểm tiêu chí = điểm tối đa × chỉ số / 100, hoặc theo bảng khoảng điểm của Bộ chỉ số; làm "
        "tròn nửa lên.",
        "<b>Sai số chuẩn.</b> Tuyến tính hoá Taylor cho ước lượng tỷ số trong mẫu phân tầng "
        f"(Cochran 1977; Wolter 2007; Lohr 2019), {fpc}; bậc tự do của mỗi ô = số phiếu − số "
        "tầng có phiếu trong ô. Kết quả được đối chiếu với gói survey của R."
        + (
            f" Trọng số đã được điều chỉnh theo tổng số đã biết của Sở (raking) theo: "
            f"{markup(', '.join(s['raking']))}; sai số coi trọng số này là cố định."
            if s.get("raking")
            else ""
        ),
        f"<b>Tầng chỉ có một người trả lời.</b> Cách xử lý: {SINGLE_METHOD_TEXT[single]}. "
        + (
            f"Lần tính này có {len(singles)} tầng như vậy; mọi ô có phiếu thuộc các tầng này (hoặc "
            f"tầng được gộp với chúng) được đánh dấu {SINGLE_MARK} và “single_respondent_stratum” "
            "trong indices.csv và units.csv."
            if singles
            else "Lần tính này không có tầng nào như vậy."
        ),
        "<b>Hệ số thiết kế và cỡ mẫu hiệu dụng.</b> Hệ số thiết kế (deff) = phương sai theo thiết "
        "kế / phương sai nếu chọn ngẫu nhiên đơn giản cùng số phiếu; cỡ mẫu hiệu dụng Kish "
        "n<sub>eff</sub> = (Σw)² / Σw² cho biết mức mất mát do trọng số không đều. Cả hai có trong "
        "indices.csv bên cạnh n.",
        "<b>Khoảng tin cậy 95%.</b> Khoảng Korn–Graubard (phân phối beta, như svyciprop(method = "
        "“beta”) của R): với p là chỉ số quy về 0–1 và cỡ mẫu hiệu dụng n* = p(1 − p) / phương sai, "
        "hiệu chỉnh theo bậc tự do; khoảng luôn nằm trong thang đo nên không phải cắt. Ô mà mọi câu "
        "trả lời như nhau (phương sai 0) dùng n* = cỡ mẫu hiệu dụng Kish, nên không bao giờ có "
        "khoảng tin cậy độ rộng 0.",
        f"<b>Ngưỡng số phiếu.</b> Tiêu chí có {basis} dưới ngưỡng tối thiểu ({s['min_n']} hoặc "
        "ngưỡng riêng của tiêu chí) không được chấm điểm; dưới một nửa ngưỡng thì ô được ghi "
        f"“{UNRELIABLE_TEXT}” thay cho khoảng tin cậy. Tiêu chí không có phiếu hợp lệ ở một đơn vị "
        "được ghi “không áp dụng” để Sở Nội vụ quy đổi; đơn vị có trong mẫu mà không ai trả lời "
        "được ghi “không có phiếu trả lời”.",
        "<b>Xếp hạng.</b> Chỉ xếp hạng đơn vị mà mọi tiêu chí đạt ngưỡng, theo chỉ số hài lòng chung "
        "của mọi nhóm đối tượng. Hai đơn vị khác nhau có ý nghĩa khi chênh lệch chỉ số lớn hơn "
        "1,96 × √(s<sub>a</sub>² + s<sub>b</sub>²), với s = độ rộng khoảng tin cậy / (2 × 1,96); "
        "khoảng hạng và nhóm đơn vị suy ra từ các so sánh từng cặp này (không hiệu chỉnh so sánh "
        "bội).",
        "<b>Hạn chế.</b> Kết quả phản ánh ý kiến của người được khảo sát trong kỳ; sai số do không "
        "trả lời chỉ được giảm bớt nhờ điều chỉnh trọng số theo tầng; phiếu tự đến không thuộc mẫu "
        "xác suất"
        + (
            " nhưng đã được tính theo yêu cầu."
            if s["include_nonprobability"]
            else " nên không được tính."
        ),
        "<b>Bảo mật.</b> Dữ liệu công bố không chứa thông tin cá nhân; ô có ít phiếu được ẩn kèm "
        "ẩn bổ sung để không suy ngược được từ tổng.",
    ]


#: Vietnamese headers of the report workbook's columns (the Department reads it; the
#: machine names stay in indices.csv, points.csv and units.csv, which programs read).
REPORT_HEADERS = {
    "unit": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "status": "Tình trạng",
    "rank": "Hạng",
    "rank_low": "Hạng (cận trên khoảng)",
    "rank_high": "Hạng (cận dưới khoảng)",
    "rank_group": "Nhóm hạng",
    "points_total": "Tổng điểm",
    "max_applicable": "Điểm tối đa áp dụng",
    "criteria_scored": "Số tiêu chí được chấm",
    "criteria_not_applicable": "Số tiêu chí không áp dụng",
    "criteria_below_min_n": "Số tiêu chí dưới ngưỡng phiếu",
    "criteria_no_responses": "Số tiêu chí không có phiếu",
    "overall_index": "Chỉ số hài lòng chung",
    "overall_ci_low": "Chỉ số chung: cận dưới KTC 95%",
    "overall_ci_high": "Chỉ số chung: cận trên KTC 95%",
    "overall_se": "Chỉ số chung: sai số chuẩn",
    "overall_n": "Chỉ số chung: số phiếu",
    "overall_n_eff": "Chỉ số chung: cỡ mẫu hiệu dụng",
    "overall_deff": "Chỉ số chung: hệ số thiết kế",
    "n_respondents": "Số người trả lời",
    "responses": "Số phiếu trả lời",
    "walk_in": "Phiếu tự đến (ngoài mẫu)",
    "previous_overall_index": "Chỉ số chung năm trước",
    "change": "Thay đổi so với năm trước",
    "like_for_like": "So sánh cùng phạm vi",
    "previous_units": "Đơn vị năm trước",
    "previous_basis": "Cách ghép năm trước",
    "previous_note": "Ghi chú so sánh",
    "previous_note_en": "Ghi chú so sánh (tiếng Anh)",
    "flags": "Ghi chú",
    "criterion": "Mã tiêu chí",
    "criterion_name": "Tên tiêu chí",
    "points": "Điểm",
    "max_points": "Điểm tối đa",
    "index": "Chỉ số",
    "index_unweighted": "Chỉ số (không trọng số)",
    "n": "Số phiếu",
    "n_eff": "Cỡ mẫu hiệu dụng",
    "deff": "Hệ số thiết kế",
    "se": "Sai số chuẩn",
    "df": "Bậc tự do",
    "ci_low": "Cận dưới KTC 95%",
    "ci_high": "Cận trên KTC 95%",
    "groups": "Nhóm đối tượng",
    "group": "Nhóm đối tượng",
    "source": "Nguồn",
    "formula": "Công thức",
    "level": "Cấp chỉ số",
    "element": "Yếu tố",
    "code": "Mã",
    "estimate": "Ước lượng",
    "estimate_unweighted": "Ước lượng (không trọng số)",
    "sampled": "Số người trong mẫu",
    "rr1": "Tỷ lệ trả lời RR1",
    "rr3": "Tỷ lệ trả lời RR3",
}


def _with_headers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with Vietnamese column headers where known (codes of criteria and
    elements, columns of the pivoted sheets, stay as they are)."""
    return frame.rename(columns=lambda name: REPORT_HEADERS.get(name, name))


def write_report_xlsx(
    result: ScoringResult, path: Path, *, unit_names: dict[str, str] | None = None
) -> None:
    """The report's tables as a workbook (one sheet per section, methods as text), with
    Vietnamese column headers (:data:`REPORT_HEADERS`)."""
    names = unit_names or {}
    units = result.units.copy()
    units.insert(1, "unit_name", units.unit.map(lambda u: names.get(u, "")))
    everyone = "+".join(result.settings["groups"])
    elements = result.indices[
        (result.indices.level == "element")
        & (result.indices.groups == everyone)
        & (result.indices.formula == "satisfaction_rate")
    ].pivot(index="unit", columns="code", values="estimate")
    points = result.points.pivot(index="unit", columns="criterion", values="points")
    methods = pd.DataFrame({"Phương pháp": [_strip_markup(t) for t in _methods(result)]})
    sheets = {
        "Xếp hạng": units,
        "Yếu tố": elements.reset_index(),  # the unit column first, as to_excel writes it
        "Điểm tiêu chí": points.reset_index(),
        "Điểm (chi tiết)": result.points,
        "Chỉ số": result.indices,
    }
    if result.response_rates is not None:
        sheets["Tỷ lệ trả lời"] = result.response_rates
    sheets = {name: _with_headers(frame) for name, frame in sheets.items()}
    write_xlsx(path, {**sheets, "Phương pháp": methods})


def _strip_markup(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)


def write_codebook_pdf(codebook: pd.DataFrame, spec: SurveySpec, path: Path) -> None:
    """The codebook as a PDF table (Vietnamese labels, values, missing codes)."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = _styles()
    rows = [["Biến", "Nhãn", "Loại", "Yếu tố", "Giá trị", "Mã thiếu", "Số trả lời"]]
    for record in codebook.itertuples():
        rows.append(
            [
                record.variable,
                record.label_vi,
                record.type,
                record.element,
                record.values,
                record.missing_codes,
                record.answered,
            ]
        )
    story = [
        Paragraph(markup(f"SỔ TAY MÃ HOÁ DỮ LIỆU – {spec.title_vi}"), styles["title"]),
        _table(rows, [w * cm for w in (2.6, 7.6, 2.0, 1.5, 8.3, 1.5, 1.8)], styles),
    ]
    SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=1.2 * cm,
        rightMargin=1.2 * cm,
        topMargin=1.2 * cm,
        bottomMargin=1.2 * cm,
        title="Codebook",
        initialFontName=FONT,
    ).build(story)
