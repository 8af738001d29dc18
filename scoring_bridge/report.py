"""The Department's report (PDF in Vietnamese, and XLSX) and the codebook PDF.

PDFs embed DejaVu Sans (shipped with matplotlib) so that Vietnamese diacritics render
everywhere; charts are drawn with matplotlib (Agg) and embedded as PNG.

Report sections: overview; ranking of units by overall index (chart with 95% CIs, table
with points, response rates and the change since last year when given); element
breakdown per unit; criteria points; methods annex (sample design, weights, confidence
intervals, limitations).
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
    "elements": "3. Chỉ số theo từng yếu tố",
    "points": "4. Điểm các tiêu chí thành phần của Chỉ số CCHC",
    "methods": "Phụ lục: Phương pháp tính",
}
NOT_APPLICABLE_TEXT = "KAD"  # không áp dụng
UNITS_PER_CHART = 25


@functools.cache
def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab under this module's names."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    directory = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, filename in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        path = directory / filename
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
        [Paragraph(str(v), styles["cell_bold"] if r < header_rows else styles["cell"]) for v in row]
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
        labels = [names.get(u, u) for u in chunk.unit]
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


def write_report_pdf(
    result: ScoringResult, path: Path, *, unit_names: dict[str, str] | None = None
) -> None:
    """The Vietnamese PDF report (see the module docstring)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
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
    story = [
        Paragraph(TITLE, styles["title"]),
        Paragraph(
            f"Phục vụ xác định Chỉ số cải cách hành chính – {result.mapping.name_vi}",
            styles["subtitle"],
        ),
        Paragraph(result.spec.title_vi, styles["subtitle"]),
        Paragraph(f"Ngày lập: {date.today().strftime('%d/%m/%Y')}", styles["subtitle"]),
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
    if result.units["rank"].isna().any():
        story.append(
            Paragraph(
                f"Cơ quan, đơn vị có ít hơn {result.settings['min_n']} phiếu hợp lệ không được xếp "
                "hạng (cuối bảng, hạng “–”): chỉ số của các đơn vị này chỉ để tham khảo.",
                styles["body"],
            )
        )
    story += [PageBreak(), Paragraph(HEADINGS["elements"], styles["h1"])]
    story.append(
        Paragraph(
            "Chỉ số hài lòng (%) của từng yếu tố, gộp các nhóm đối tượng; mỗi ô ghi chỉ số và "
            "số phiếu hợp lệ nhỏ nhất của các câu hỏi trong yếu tố.",
            styles["body"],
        )
    )
    story.append(_elements_table(result, names, styles))
    story += [CondPageBreak(7 * cm), Paragraph(HEADINGS["points"], styles["h1"])]
    story.append(
        Paragraph(
            f"{NOT_APPLICABLE_TEXT}: không áp dụng (đơn vị không có phiếu hợp lệ cho tiêu chí, Sở Nội "
            "vụ quy đổi lại thang điểm); “&lt;n”: chưa đủ số phiếu tối thiểu, không chấm điểm.",
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
        canvas.drawString(
            1.8 * cm, 1.0 * cm, f"{result.mapping.name_vi} – {result.spec.questionnaire_id}"
        )
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=TITLE,
        author="scoring_bridge",
        initialFontName=FONT,  # otherwise every page references an unembedded Helvetica
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)


def _overview(result: ScoringResult) -> list[str]:
    s = result.settings
    groups = ", ".join(s["groups"])
    lines = [
        f"Số phiếu hợp lệ đưa vào tính toán: <b>{_count(s['responses_used'])}</b> phiếu của "
        f"<b>{len(result.units)}</b> cơ quan, đơn vị; nhóm đối tượng: {groups}; "
        f"số tầng chọn mẫu: {s['strata']}.",
    ]
    if s["walk_in_excluded"]:
        lines.append(
            f"{_count(s['walk_in_excluded'])} phiếu tự đến (không thuộc mẫu xác suất) không được "
            "đưa vào chỉ số."
        )
    elif s["include_nonprobability"]:
        lines.append("Theo yêu cầu, phiếu tự đến (ngoài mẫu xác suất) được tính cùng mẫu xác suất.")
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
    has_rate = "response_rate" in units
    has_previous = "previous_overall_index" in units
    header = ["Hạng", "Cơ quan, đơn vị", "Chỉ số chung (%)", "KTC 95%", "Số phiếu", "Điểm / tối đa"]
    if has_rate:
        header.append("Tỷ lệ phản hồi (%)")
    if has_previous:
        header += ["Năm trước (%)", "Thay đổi"]
    rows = [header]
    for record in units.itertuples():
        row = [
            "–" if pd.isna(record.rank) else int(record.rank),
            names.get(record.unit, record.unit),
            _number(record.overall_index),
            f"{_number(record.overall_ci_low)}–{_number(record.overall_ci_high)}",
            record.n_respondents,
            f"{_number(record.points_total, 2)} / {_number(record.max_applicable, 2)}",
        ]
        if has_rate:
            row.append(_number(record.response_rate))
        if has_previous:
            change = record.change
            sign = "+" if not pd.isna(change) and change > 0 else ""
            row += [_number(record.previous_overall_index), f"{sign}{_number(change)}"]
        rows.append(row)
    widths = (
        [1.5, 4.1, 2.0, 2.4, 1.5, 2.4]
        + ([1.8] if has_rate else [])
        + ([1.7, 1.5] if has_previous else [])
    )
    scale = 17.4 / sum(widths)
    return _table(rows, [w * scale * cm for w in widths], styles)


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
                cell = f"{_number(record.estimate)} (n={int(record.n)})"
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
                row.append(f"&lt;n ({int(record.n)})")
            else:
                row.append(_number(record.points, criterion.decimals))
        rows.append(row)
    first = 4.0
    rest = (17.4 - first) / max(len(criteria), 1)
    table = _table(rows, [first * cm] + [rest * cm] * len(criteria), styles)
    legend = "; ".join(f"{c.code}: {c.name_vi}" for c in criteria)
    from reportlab.platypus import KeepTogether, Paragraph

    return KeepTogether([table, Paragraph(legend, styles["cell"])])


def _methods(result: ScoringResult) -> list[str]:
    s = result.settings
    fpc = (
        "có hiệu chỉnh tổng thể hữu hạn (1 − n<sub>h</sub>/N<sub>h</sub>) theo cỡ tổng thể từng tầng"
        if s["finite_population_correction"]
        else "không hiệu chỉnh tổng thể hữu hạn (chưa có cỡ tổng thể từng tầng), nên sai số có thể hơi lớn hơn thực tế"
    )
    weights = (
        "Mỗi phiếu mang trọng số thiết kế (nghịch đảo xác suất chọn trong tầng) đã điều chỉnh không "
        "trả lời theo tầng; các chỉ số là ước lượng tỷ số có trọng số Σw·y / Σw·v."
        if s["weighted"]
        else "Chạy không trọng số theo yêu cầu: mọi phiếu có trọng số 1."
    )
    return [
        "<b>Thiết kế mẫu.</b> Mẫu phân tầng: mỗi tầng là một cơ quan, đơn vị × nhóm đối tượng "
        "(hoặc chi tiết hơn), chọn ngẫu nhiên từ danh sách người đã nhận kết quả giải quyết thủ "
        "tục hành chính hoặc danh sách cán bộ, công chức, viên chức của đơn vị.",
        f"<b>Trọng số.</b> {weights}",
        "<b>Chỉ số.</b> Tỷ lệ hài lòng của một câu hỏi = (Hài lòng + Rất hài lòng) / số trả lời hợp "
        "lệ × 100; câu trả lời “Không biết / không áp dụng” và câu bỏ trống không tính vào mẫu số. "
        "Chỉ số yếu tố = trung bình các câu hỏi của yếu tố; chỉ số chung = trung bình các yếu tố. "
        "Điểm tiêu chí = điểm tối đa × chỉ số / 100, hoặc theo bảng khoảng điểm của Bộ chỉ số; làm "
        "tròn nửa lên.",
        "<b>Khoảng tin cậy.</b> Sai số chuẩn tính theo phương pháp tuyến tính hoá Taylor cho ước lượng "
        f"tỷ số trong mẫu phân tầng (Cochran 1977; Wolter 2007; Lohr 2019), {fpc}. Khoảng tin cậy "
        "95% = chỉ số ± 1,96 × sai số chuẩn, giới hạn trong thang đo.",
        f"<b>Ngưỡng số phiếu.</b> Ô có ít hơn {s['min_n']} phiếu hợp lệ được đánh dấu và không chấm "
        "điểm tự động; tiêu chí không có phiếu hợp lệ ở một đơn vị được ghi “không áp dụng” để Sở "
        "Nội vụ quy đổi.",
        "<b>Hạn chế.</b> Kết quả phản ánh ý kiến của người được khảo sát trong kỳ; sai số do không "
        "trả lời chỉ được giảm bớt nhờ điều chỉnh trọng số theo tầng; tầng chỉ có một phiếu không "
        "ước lượng được phương sai (tính bằng 0); khoảng tin cậy xấp xỉ chuẩn kém chính xác khi số "
        "phiếu nhỏ hoặc tỷ lệ gần 0% hay 100%; phiếu tự đến không thuộc mẫu xác suất"
        + (
            " nhưng đã được tính theo yêu cầu."
            if s["include_nonprobability"]
            else " nên không được tính."
        ),
        "<b>Bảo mật.</b> Dữ liệu công bố không chứa thông tin cá nhân; ô có ít phiếu được ẩn kèm "
        "ẩn bổ sung để không suy ngược được từ tổng.",
    ]


def write_report_xlsx(
    result: ScoringResult, path: Path, *, unit_names: dict[str, str] | None = None
) -> None:
    """The report's tables as a workbook (one sheet per section, methods as text)."""
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
    write_xlsx(
        path,
        {
            "Xếp hạng": units,
            "Yếu tố": elements.reset_index(),  # the unit column first, as to_excel writes it
            "Điểm tiêu chí": points.reset_index(),
            "Điểm (chi tiết)": result.points,
            "Chỉ số": result.indices,
            "Phương pháp": methods,
        },
    )


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
        Paragraph(f"SỔ TAY MÃ HOÁ DỮ LIỆU – {spec.title_vi}", styles["title"]),
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
