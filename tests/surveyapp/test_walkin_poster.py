"""The walk-in counter poster: every font embedded DejaVu, text and QR code read back."""

from surveyapp.walkin.poster import render_poster

URL = "https://khaosat.sonoivu.example.gov.vn/w/Zq3xK9"


def test_poster_embeds_only_dejavu_and_reads_back(tmp_path, pdfcheck):
    path = tmp_path / "poster.pdf"
    render_poster(path, url=URL, unit_name="UBND phường <Hòa> & Khánh", campaign_name="CCHC 2026")
    fonts = pdfcheck.embedded_fonts(path)
    assert fonts and all(fonts.values()), fonts  # no Helvetica left by the page preamble
    faces = {name.split("+", 1)[-1] for name in fonts}
    assert faces == {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSansMono-Bold"}
    text = " ".join(pdfcheck.text(path).split())
    assert "MỜI ÔNG/BÀ CHO Ý KIẾN" in text and "UBND phường <Hòa> & Khánh" in text
    assert "Phiếu không ghi tên." in text and "CCHC 2026" in text
    assert pdfcheck.qr_codes(path, 1, tmp_path) == [URL]
