"""A questionnaire with very long labels and long unbroken words prints, wrapped (12.10).

Before: a grid or 5-point scale whose answer labels were long made a header row taller
than a page (LayoutError), and a long unbroken word widened the grid's columns until the
items' column had a negative width (ValueError).
"""

import re
import subprocess
import unicodedata

import pytest

from questionnaires.model import Choice, GridItem, Question, Questionnaire, QuestionType, Section
from questionnaires.model import Text as T
from questionnaires.pdf import render_questionnaire_pdf
from questionnaires.pdf_layout import MARGIN_LEFT, MARGIN_RIGHT, PAGE_HEIGHT, PAGE_WIDTH

UNBROKEN = "Thủtụchànhchínhliênthôngđiệntửmứcđộbốnkhôngcókhoảngtrắng" * 5  # 300 chars
LONG = " ".join(f"mức{n:03d} đánh giá dài" for n in range(1, 120))  # ~2,400 characters


def _scale(text: str) -> tuple[Choice, ...]:
    return tuple(Choice(n, T(vi=f"{text} {n}")) for n in range(1, 6))


def long_questionnaire() -> Questionnaire:
    questions = (
        Question("q1", QuestionType.TEXT, T(vi=f"{UNBROKEN} ở đâu?"), hint=T(vi=UNBROKEN)),
        Question("q2", QuestionType.SINGLE, T(vi="Một"), choices=_scale(UNBROKEN)[:2]),
        Question(
            "q3",
            QuestionType.GRID,
            T(vi="Lưới có nhãn dài"),
            choices=_scale(LONG),
            items=(GridItem("g1", T(vi=UNBROKEN)), GridItem("g2", T(vi="Ngắn"))),
        ),
        Question(
            "q4",
            QuestionType.GRID,
            T(vi="Lưới có từ dài"),
            choices=_scale(UNBROKEN),
            items=(GridItem("h1", T(vi="Mục một")),),
        ),
        Question("q5", QuestionType.SCALE5, T(vi="Thang có nhãn dài"), choices=_scale(LONG)),
        Question("q6", QuestionType.SCALE5, T(vi="Thang có từ dài"), choices=_scale(UNBROKEN)),
    )
    return Questionnaire(
        "long-labels",
        "1",
        T(vi=UNBROKEN),
        sections=(Section("A", T(vi=UNBROKEN), questions=questions),),
    )


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "long.pdf"
    pages = render_questionnaire_pdf(long_questionnaire(), path)
    assert pages > 1
    return path


def _text(pdf) -> str:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    return unicodedata.normalize("NFC", text)


def test_every_long_text_is_printed(long_pdf):
    text = _text(long_pdf)
    joined = "".join(text.split())  # a split word comes back in pieces, one per line
    assert joined.count(UNBROKEN) >= 1 + 1 + 2 + 1 + 5 + 5 + 1  # each place it was given
    words = text.split()
    for n in (1, 60, 119):  # first, middle and last words of each long scale label
        assert words.count(f"mức{n:03d}") == 2 * 5, n  # grid and scale, five labels each


def test_long_words_wrap_inside_the_page(long_pdf):
    html = subprocess.run(
        ["pdftotext", "-bbox", str(long_pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    boxes = [
        tuple(float(v) for v in match.groups())
        for match in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', html
        )
    ]
    assert boxes
    outside = [
        box
        for box in boxes
        if box[0] < MARGIN_LEFT - 1
        or box[2] > PAGE_WIDTH - MARGIN_RIGHT + 1
        or box[1] < 0
        or box[3] > PAGE_HEIGHT
    ]
    assert outside == []
