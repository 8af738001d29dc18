"""QR codes: exact round trips through zbar, the batch plan, vector drawing in a PDF."""

import io
import subprocess

import pytest
import qrcode
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode
from reportlab.pdfgen.canvas import Canvas

from questionnaires.qr import (
    QUIET_ZONE_MODULES,
    QrCodeError,
    QrPlan,
    dark_runs,
    draw_qr,
    qr_matrix,
)

URLS = [
    "https://khaosat.sonoivu.example.gov.vn/s/K7QM-4XP2",
    "https://x.vn/s/A",
    "https://khaosat.example.gov.vn/s/AB12-CD34?src=qr&campaign=2026&unit=ubnd-xa-an-binh",
]


def matrix_image(matrix, scale=4) -> Image.Image:
    size = len(matrix) + 2 * QUIET_ZONE_MODULES
    image = Image.new("L", (size, size), 255)
    for row, line in enumerate(matrix):
        for column, dark in enumerate(line):
            if dark:
                image.putpixel((column + QUIET_ZONE_MODULES, row + QUIET_ZONE_MODULES), 0)
    return image.resize((size * scale, size * scale), Image.NEAREST)


def decoded(image: Image.Image) -> list[str]:
    return [symbol.data.decode("utf-8") for symbol in decode(image) if symbol.type == "QRCODE"]


@pytest.mark.parametrize("url", URLS)
def test_matrix_decodes_to_exactly_the_text(url):
    assert decoded(matrix_image(qr_matrix(url))) == [url]


def test_plan_takes_its_version_from_the_longest_url_and_every_code_decodes():
    plan = QrPlan.for_texts(URLS)
    longest = max(URLS, key=len)
    reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    reference.add_data(longest, optimize=0)
    reference.make(fit=True)
    assert plan.version == reference.version
    assert plan.mask_pattern in range(8)
    for url in URLS:
        matrix = plan.matrix(url)
        assert len(matrix) == 4 * plan.version + 17  # every code of the batch has the plan's size
        assert decoded(matrix_image(matrix)) == [url]


def test_plan_falls_back_to_automatic_fitting_for_a_text_longer_than_planned():
    plan = QrPlan.for_texts(["https://x.vn/s/A"])
    long_url = "https://khaosat.example.gov.vn/s/" + "K" * 150
    matrix = plan.matrix(long_url)
    assert len(matrix) > 4 * plan.version + 17
    assert decoded(matrix_image(matrix)) == [long_url]


def test_fixed_version_too_small_is_a_clear_error():
    with pytest.raises(QrCodeError, match="too long"):
        qr_matrix("https://x.vn/" + "a" * 100, version=1, mask_pattern=0)


@pytest.mark.parametrize("bad", ["", None])
def test_empty_text_is_refused(bad):
    with pytest.raises(QrCodeError):
        qr_matrix(bad or "")


def test_unknown_error_correction_level_is_refused():
    with pytest.raises(QrCodeError, match="L, M, Q"):
        qr_matrix("https://x.vn", error_correction="Z")


@given(st.lists(st.lists(st.booleans(), min_size=5, max_size=5), min_size=1, max_size=6))
def test_dark_runs_cover_exactly_the_dark_modules(matrix):
    rebuilt = [[False] * len(row) for row in matrix]
    for row, start, length in dark_runs(matrix):
        assert length >= 1
        for column in range(start, start + length):
            assert not rebuilt[row][column]  # runs never overlap
            rebuilt[row][column] = True
    assert rebuilt == matrix


def test_qr_drawn_in_a_pdf_is_vector_and_decodes(tmp_path):
    url = URLS[2]
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    draw_qr(canvas, QrPlan.for_texts([url]).matrix(url), 100, 500, 110)
    canvas.showPage()
    canvas.save()
    pdf = tmp_path / "qr.pdf"
    pdf.write_bytes(buffer.getvalue())
    resources = PdfReader(pdf).pages[0].get("/Resources") or {}
    assert "/XObject" not in resources  # no image: the modules are path rectangles
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "qr")], check=True
    )
    assert decoded(Image.open(tmp_path / "qr.png")) == [url]
