"""``surveyapp questionnaire pdf | batch | invitations`` end to end, errors without tracebacks."""

import subprocess
import zipfile

from click.testing import CliRunner
from pypdf import PdfReader

from surveyapp.cli import cli


def run(*args):
    return CliRunner().invoke(cli, ["questionnaire", *args], catch_exceptions=False)


def text(pdf):
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_pdf_personalised_copy(tmp_path):
    out = tmp_path / "copy.pdf"
    url = "https://khaosat.example.gov.vn/s/AB12-CD34"
    result = run(
        "pdf",
        "sipas-citizen",
        "--lang",
        "vi",
        "--url",
        url,
        "--code",
        "AB12-CD34",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    pages = len(PdfReader(out).pages)
    assert f"{pages} trang/pages" in result.output
    assert text(out).count("Mã phiếu: AB12-CD34") == pages


def test_pdf_needs_url_and_code_together(tmp_path):
    result = run(
        "pdf", "sipas-citizen", "--url", "https://k.vn/s/A", "--out", str(tmp_path / "x.pdf")
    )
    assert result.exit_code == 1
    assert "Cần cả --url và --code" in result.output and "Traceback" not in result.output


def test_pdf_unknown_questionnaire(tmp_path):
    result = run("pdf", "no-such-form", "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1 and "no-such-form" in result.output


def write_codes(path, count):
    rows = [f"https://khaosat.example.gov.vn/s/C{n:03d},C{n:03d}" for n in range(count)]
    path.write_text("url,code\n" + "\n".join(rows) + "\n", encoding="utf-8")


def test_batch_to_zip_and_pdf(tmp_path):
    codes = tmp_path / "codes.csv"
    write_codes(codes, 3)
    result = run(
        "batch",
        "sipas-citizen",
        "--codes",
        str(codes),
        "--out",
        str(tmp_path / "b.zip"),
        "--workers",
        "1",
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        assert len(archive.namelist()) == 3
    result = run(
        "batch",
        "sipas-citizen",
        "--codes",
        str(codes),
        "--out",
        str(tmp_path / "b.pdf"),
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.output
    assert "3 bản/copies" in result.output
    assert "Form code: C002" in text(tmp_path / "b.pdf")


def test_batch_reports_bad_csv_rows(tmp_path):
    codes = tmp_path / "codes.csv"
    codes.write_text("url,code\nhttps://k.vn/s/A,A\nhttps://k.vn/s/B,A\n", encoding="utf-8")
    result = run("batch", "sipas-citizen", "--codes", str(codes), "--out", str(tmp_path / "b.pdf"))
    assert result.exit_code == 1
    assert "[dòng 3, cột code]" in result.output and "[row 3, column code]" in result.output


def test_invitations(tmp_path):
    codes = tmp_path / "codes.csv"
    write_codes(codes, 2)
    out = tmp_path / "letters.pdf"
    result = run(
        "invitations",
        "--codes",
        str(codes),
        "--out",
        str(out),
        "--province",
        "Bà Rịa - Vũng Tàu",
        "--deadline",
        "15/10/2026",
    )
    assert result.exit_code == 0, result.output
    assert len(PdfReader(out).pages) == 2
    assert "C001" in text(out) and "15/10/2026" in text(out)
