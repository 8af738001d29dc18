"""The printable booklet: exact Vietnamese text, embedded fonts, headers and page numbers on
every page, QR round trip, long texts over several pages, escaped markup, printed routing."""

import io
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from questionnaires import QuestionnaireError, load_builtin
from questionnaires import fonts as pdf_fonts
from questionnaires.model import (
    SCALE5_CHOICES,
    YESNO_CHOICES,
    Choice,
    GridItem,
    Question,
    Questionnaire,
    QuestionType,
    Section,
    Text,
)
from questionnaires.pdf import render_questionnaire_pdf
from questionnaires.pdf_layout import MARGIN_LEFT, MARGIN_RIGHT, PAGE_HEIGHT, PAGE_WIDTH

URL = "https://khaosat.sonoivu.example.gov.vn/s/K7QM-4XP2?src=qr&n=1"
CODE = "K7QM-4XP2"


# ----------------------------------------------------------------------------- helpers


def flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def word_boxes(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    boxes = []
    for page_number, page in enumerate(html.split("<page ")[1:], 1):
        for match in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            page,
        ):
            x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
            boxes.append((page_number, x0, y0, x1, y1, match.group(5)))
    return boxes


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sipas():
    return load_builtin("sipas-citizen")


@pytest.fixture(scope="module")
def personalised(sipas, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "sipas-personal.pdf"
    render_questionnaire_pdf(sipas, path, url=URL, code=CODE)
    return path


@pytest.fixture(scope="module")
def personalised_texts(personalised, pdfcheck) -> list[str]:
    return pdfcheck.page_texts(personalised)


def built_in_texts(questionnaire, lang):
    """Every question text, grid item and choice label of a questionnaire."""
    for question in questionnaire.questions():
        yield question.text.get(lang)
        for item in question.items:
            yield item.text.get(lang)
        for choice in question.all_choices():
            yield choice.label.get(lang)


# ----------------------------------------------------------------------------- tests


def test_every_vietnamese_question_text_appears_exactly(sipas, personalised_texts):
    text = flat(" ".join(personalised_texts))
    assert unicodedata.is_normalized("NFC", text)
    missing = [t for t in built_in_texts(sipas, "vi") if flat(t) not in text]
    assert missing == []


def test_english_copy_has_the_english_texts(sipas, tmp_path, pdfcheck):
    path = tmp_path / "en.pdf"
    pages = render_questionnaire_pdf(sipas, path, lang="en")
    texts = pdfcheck.page_texts(path)
    text = flat(" ".join(texts))
    assert [t for t in built_in_texts(sipas, "en") if flat(t) not in text] == []
    assert f"Page {pages}/{pages}" in texts[-1]
    assert "Dissatisfied (2)" in text  # grid headers: smaller type rather than a cut word


def test_fonts_are_embedded_dejavu_truetype(personalised, pdfcheck):
    fonts = pdfcheck.embedded_fonts(personalised)
    assert fonts and all(fonts.values()), fonts
    assert all("DejaVuSans" in name for name in fonts)


def test_fonts_ship_with_the_package_and_their_licence(tmp_path, pdfcheck):
    # matplotlib made unimportable: the PDFs must not depend on its data folder.
    out = tmp_path / "booklet.pdf"
    script = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from questionnaires import load_builtin, render_questionnaire_pdf\n"
        f"render_questionnaire_pdf(load_builtin('sipas-citizen'), {str(out)!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert set(pdfcheck.embedded_fonts(out)) and all(pdfcheck.embedded_fonts(out).values())
    licence = (pdf_fonts.DIRECTORY / "LICENSE_DEJAVU").read_text(encoding="utf-8")
    assert "Bitstream Vera" in licence and "public domain" in licence
    assert Path(pdf_fonts.__file__).parent == pdf_fonts.DIRECTORY


def test_no_character_falls_back_to_a_missing_glyph_box(personalised_texts):
    pdf_fonts.register_fonts()
    faces = [
        pdfmetrics.getFont(name).face.charToGlyph for name in (pdf_fonts.REGULAR, pdf_fonts.BOLD)
    ]
    characters = set("".join(personalised_texts)) - set(" \n\f")
    assert [c for c in characters if not any(ord(c) in face for face in faces)] == []


def test_header_code_and_page_number_on_every_page(sipas, personalised_texts):
    pages = len(personalised_texts)
    assert pages >= 2
    for number, text in enumerate(personalised_texts, 1):
        assert f"{sipas.id} · phiên bản {sipas.version}" in text
        assert f"Trang {number}/{pages}" in text
        assert f"Mã phiếu: {CODE}" in text


def test_personalised_qr_decodes_to_exactly_the_url(
    personalised, personalised_texts, tmp_path, pdfcheck
):
    assert pdfcheck.qr_codes(personalised, 1, tmp_path) == [URL]
    assert CODE in personalised_texts[0].split()  # the large letter-spaced code stays one word
    assert pdfcheck.qr_codes(personalised, 2, tmp_path) == []


def test_unpersonalised_copy_has_no_qr_and_a_form_code_box(sipas, tmp_path, pdfcheck):
    path = tmp_path / "plain.pdf"
    render_questionnaire_pdf(sipas, path)
    texts = pdfcheck.page_texts(path)
    assert pdfcheck.qr_codes(path, 1, tmp_path) == []
    assert "DÀNH CHO NHÓM KHẢO SÁT" in texts[0]
    assert "Mã phiếu:" not in " ".join(texts)


def test_writes_to_a_file_object(sipas):
    buffer = io.BytesIO()
    pages = render_questionnaire_pdf(sipas, buffer)
    assert buffer.getvalue().startswith(b"%PDF") and len(PdfReader(buffer).pages) == pages


@pytest.mark.parametrize(
    ("url", "code"), [(URL, None), (None, CODE), ("", CODE)], ids=["no-code", "no-url", "empty-url"]
)
def test_personalisation_needs_both_url_and_code(sipas, url, code):
    with pytest.raises(QuestionnaireError, match="both a URL and a code"):
        render_questionnaire_pdf(sipas, io.BytesIO(), url=url, code=code)


def test_unknown_language_is_refused(sipas):
    with pytest.raises(QuestionnaireError, match="Unsupported language"):
        render_questionnaire_pdf(sipas, io.BytesIO(), lang="fr")


# ----------------------------------------------------------------------- stress layout

LONG_WORDS = [f"từ{n:04d}" for n in range(1, 300)]  # ~2,000 characters, each word unique
LONG_LABEL = " ".join(LONG_WORDS)
MARKUP_TEXT = 'Tỷ lệ <50% & "đúng" > 10 <b>không đậm</b> &amp; hết'


def stress_questionnaire() -> Questionnaire:
    many = tuple(
        Choice(n, Text(vi=f"Lựa chọn thứ {n:02d} của danh sách dài")) for n in range(1, 61)
    )
    long_grid = tuple(
        GridItem(f"g{n}", Text(vi=f"Nội dung đánh giá số {n:02d}")) for n in range(1, 41)
    )
    questions = (
        Question("q1", QuestionType.TEXT, Text(vi=LONG_LABEL)),
        Question("q2", QuestionType.SINGLE, Text(vi="Chọn một trong sáu mươi"), choices=many),
        Question("q3", QuestionType.YESNO, Text(vi=MARKUP_TEXT), choices=YESNO_CHOICES),
        Question(
            "q4",
            QuestionType.SINGLE,
            Text(vi="Câu có nhãn dài"),
            choices=(Choice(1, Text(vi=LONG_LABEL)), Choice(2, Text(vi="<ngắn>"))),
        ),
        Question(
            "q5",
            QuestionType.GRID,
            Text(vi="Lưới bốn mươi dòng"),
            choices=SCALE5_CHOICES,
            items=long_grid,
        ),
        Question("q6", QuestionType.DATE, Text(vi="Ngày")),
    )
    return Questionnaire(
        "stress",
        "1",
        Text(vi="Phiếu <thử> & kiểm tra"),
        sections=(Section("A", Text(vi="A & B"), questions=questions),),
    )


@pytest.fixture(scope="module")
def stress_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stress") / "stress.pdf"
    render_questionnaire_pdf(stress_questionnaire(), path)
    return path


def test_long_label_flows_over_pages_with_every_word_in_order(stress_pdf, pdfcheck):
    words = " ".join(pdfcheck.page_texts(stress_pdf)).split()
    positions = [words.index(word) for word in LONG_WORDS]
    assert positions == sorted(positions)


def test_sixty_choices_and_forty_grid_rows_all_printed_over_several_pages(stress_pdf, pdfcheck):
    texts = pdfcheck.page_texts(stress_pdf)
    text = flat(" ".join(texts))
    assert len(texts) >= 4
    for n in range(1, 61):
        assert f"Lựa chọn thứ {n:02d} của danh sách dài" in text
    for n in range(1, 41):
        assert f"Nội dung đánh giá số {n:02d}" in text
    grid_pages = [i for i, t in enumerate(texts) if "Nội dung đánh giá số" in t]
    # the scale header is repeated on every page the grid spans
    assert len(grid_pages) >= 2 and all("Rất hài lòng" in flat(texts[i]) for i in grid_pages)


def test_nothing_runs_off_the_page(stress_pdf):
    boxes = word_boxes(stress_pdf)
    assert boxes
    outside = [
        box
        for box in boxes
        if box[1] < MARGIN_LEFT - 1
        or box[3] > PAGE_WIDTH - MARGIN_RIGHT + 1
        or box[2] < 0
        or box[4] > PAGE_HEIGHT
    ]
    assert outside == []


def test_markup_characters_in_user_text_print_literally(stress_pdf, pdfcheck):
    text = flat(" ".join(pdfcheck.page_texts(stress_pdf)))
    assert flat(MARKUP_TEXT) in text
    assert "<ngắn>" in text and "Phiếu <thử> & kiểm tra" in text


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet="<>&;/\"'=ab đăơưáàảãạệ", min_size=1, max_size=40).filter(str.strip))
def test_any_user_text_prints_literally(tmp_path, pdfcheck, label):
    question = Question("q1", QuestionType.YESNO, Text(vi=f"[{label}]"), choices=YESNO_CHOICES)
    questionnaire = Questionnaire(
        "markup", "1", Text(vi="M"), sections=(Section("A", Text(vi="A"), questions=(question,)),)
    )
    path = tmp_path / "markup.pdf"
    render_questionnaire_pdf(questionnaire, path)
    assert flat(f"[{label}]") in flat(" ".join(pdfcheck.page_texts(path)))


def test_routing_instructions_are_printed(tmp_path, pdfcheck):
    questions = (
        Question(
            "q1",
            QuestionType.YESNO,
            Text(vi="Ông/Bà có nộp hồ sơ trực tuyến không?"),
            choices=YESNO_CHOICES,
        ),
        Question(
            "q2",
            QuestionType.SCALE5,
            Text(vi="Mức độ hài lòng?"),
            choices=SCALE5_CHOICES,
            relevant="q1 = 1",
        ),
        Question("q3", QuestionType.NUMBER, Text(vi="Số lần đến cơ quan?")),
        Question("q4", QuestionType.TEXT, Text(vi="Lý do?"), relevant="q1 = 1 and q3 > 2"),
    )
    questionnaire = Questionnaire(
        "routing", "1", Text(vi="R"), sections=(Section("A", Text(vi="A"), questions=questions),)
    )
    path = tmp_path / "routing.pdf"
    render_questionnaire_pdf(questionnaire, path)
    text = flat(" ".join(pdfcheck.page_texts(path)))
    assert "Nếu trả lời “Không”, chuyển đến câu 3." in text
    assert "Chỉ trả lời nếu câu 1 trả lời “Có” và câu trả lời câu 3 lớn hơn 3" not in text
    assert "Chỉ trả lời nếu câu 1 trả lời “Có” và câu trả lời câu 3 lớn hơn 2." in text
    render_questionnaire_pdf(questionnaire, path, lang="en")
    assert "If “No”, go to question 3." in flat(" ".join(pdfcheck.page_texts(path)))
