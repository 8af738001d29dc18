"""A server-rendered SVG bar chart of response rates per unit (no JavaScript, no CDN).

The SVG uses presentation attributes only (the Content-Security-Policy forbids inline
styles) and is described by ``<title>``/``<desc>``; the page shows the same figures in a
table for screen readers and for copying.
"""

from dataclasses import dataclass

from markupsafe import Markup, escape
from reportlab.pdfbase.pdfmetrics import stringWidth

from scoring_bridge.report import FONT, register_fonts
from surveyapp.i18n import format_percent

BAR_HEIGHT = 14
BAR_GAP = 4
ROW_GAP = 12
LABEL_FONT_SIZE = 12
LABEL_PADDING = 12  # between the label's end and the bars
MIN_LABEL_WIDTH = 80
MAX_LABEL_CHARS = 40  # longer labels end with "…"; the full text is in the <title>
PLOT_WIDTH = 420
RIGHT_MARGIN = 56
TOP = 28
COLOURS = {"rr1": "#0b4f9c", "rr3": "#c75b12"}  # contrast ≥ 4.5:1 on white


@dataclass(frozen=True)
class Bar:
    label: str
    rr1: float | None
    rr3: float | None


def shorten(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_width(text: str, font_size: float = LABEL_FONT_SIZE) -> float:
    """Width of ``text`` set in DejaVu Sans (the chart's font), from the font's metrics."""

    register_fonts()
    return stringWidth(text, FONT, font_size)


def label_width(labels: list[str]) -> float:
    """Width of the label column: room for the widest (shortened) label, right-aligned."""
    widest = max((text_width(shorten(label)) for label in labels), default=0.0)
    return max(MIN_LABEL_WIDTH, widest + LABEL_PADDING)


def _bar(x0: float, y: float, value: float | None, colour: str, legend: str) -> str:
    if value is None:
        return (
            f'<text x="{x0 + 4:.1f}" y="{y + BAR_HEIGHT - 3}" font-size="11" '
            f'fill="#4a4a4a">—</text>'
        )
    width = max(value * PLOT_WIDTH, 0.5)
    percent = format_percent(value, 1)
    return (
        f'<rect x="{x0:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
        f'fill="{colour}"><title>{escape(legend)} {percent}</title></rect>'
        f'<text x="{x0 + width + 4:.1f}" y="{y + BAR_HEIGHT - 3}" font-size="11" '
        f'fill="#1a1a1a">{percent}</text>'
    )


def response_rate_svg(bars: list[Bar], title: str, description: str, legends: dict) -> Markup:
    """SVG markup: for each unit two bars (RR1, RR3) on a 0–100% axis."""
    row_height = 2 * BAR_HEIGHT + BAR_GAP + ROW_GAP
    height = TOP + len(bars) * row_height + 24
    x0 = label_width([bar.label for bar in bars])
    width = round(x0 + PLOT_WIDTH + RIGHT_MARGIN)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="rr-chart-title rr-chart-desc" '
        f'font-family="DejaVu Sans, sans-serif" class="chart">',
        f'<title id="rr-chart-title">{escape(title)}</title>',
        f'<desc id="rr-chart-desc">{escape(description)}</desc>',
    ]
    legend_x = x0
    for key in ("rr1", "rr3"):
        parts.append(
            f'<rect x="{legend_x}" y="6" width="12" height="12" fill="{COLOURS[key]}"/>'
            f'<text x="{legend_x + 16}" y="16" font-size="12">{escape(legends[key])}</text>'
        )
        legend_x += 150
    axis_bottom = height - 20
    for tick in range(0, 101, 25):
        x = x0 + tick / 100 * PLOT_WIDTH
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{axis_bottom}" stroke="#cccccc"/>'
            f'<text x="{x:.1f}" y="{axis_bottom + 14}" font-size="11" text-anchor="middle">'
            f"{tick}%</text>"
        )
    for index, bar in enumerate(bars):
        y = TOP + index * row_height
        parts.append(
            f'<text x="{x0 - 8:.1f}" y="{y + BAR_HEIGHT + 3}" font-size="{LABEL_FONT_SIZE}" '
            f'text-anchor="end">{escape(shorten(bar.label))}<title>{escape(bar.label)}</title>'
            f"</text>"
        )
        parts.append(_bar(x0, y, bar.rr1, COLOURS["rr1"], legends["rr1"]))
        parts.append(_bar(x0, y + BAR_HEIGHT + BAR_GAP, bar.rr3, COLOURS["rr3"], legends["rr3"]))
    parts.append("</svg>")
    return Markup("".join(parts))
