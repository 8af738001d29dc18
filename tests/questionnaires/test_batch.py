"""Batch rendering: N personalised copies in one PDF or a ZIP of N PDFs, each copy's QR
decoding to its own URL; the CSV of URLs and codes checked row by row."""

import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

import questionnaires
from questionnaires import QuestionnaireError, load_builtin
from questionnaires.batch import BatchInputError, CopyEntry, read_codes_csv, render_batch
from questionnaires.pdf import render_questionnaire_pdf

ENTRIES = [
    CopyEntry(f"https://khaosat.sonoivu.example.gov.vn/s/K7QM-{n:04d}", f"K7QM-{n:04d}")
    for n in (1, 22, 333)
]


@pytest.fixture(scope="module")
def sipas():
    return load_builtin("sipas-citizen")


@pytest.fixture(scope="module")
def booklet_pages(sipas):
    return render_questionnaire_pdf(sipas, io.BytesIO())


def test_one_pdf_holds_every_copy_with_its_own_qr_and_code(
    sipas, booklet_pages, tmp_path, pdfcheck
):
    path = tmp_path / "batch.pdf"
    calls = []
    result = render_batch(sipas, ENTRIES, path, progress=lambda d, t: calls.append((d, t)))
    assert result.copies == 3 and result.files == 1
    assert result.pages == 3 * booklet_pages == len(PdfReader(path).pages)
    assert calls[-1] == (3, 3)
    for index, entry in enumerate(ENTRIES):
        first = index * booklet_pages + 1
        assert pdfcheck.qr_codes(path, first, tmp_path) == [entry.url]
        copy_text = pdfcheck.text(path, first, first + booklet_pages - 1)
        assert copy_text.count(f"Mã phiếu: {entry.code}") == booklet_pages
        assert f"Trang {booklet_pages}/{booklet_pages}" in copy_text


def test_zip_holds_one_complete_pdf_per_copy_identical_to_a_single_render(
    sipas, booklet_pages, tmp_path, pdfcheck
):
    path = tmp_path / "batch.zip"
    result = render_batch(sipas, [(e.url, e.code) for e in ENTRIES], path, fmt="zip", workers=1)
    assert result.files == 3 and result.pages == 3 * booklet_pages
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == ["1-K7QM-0001.pdf", "2-K7QM-0022.pdf", "3-K7QM-0333.pdf"]
        archive.extractall(tmp_path)
    for name, entry in zip(names, ENTRIES, strict=True):
        copy = tmp_path / name
        assert len(PdfReader(copy, strict=True).pages) == booklet_pages
        single = tmp_path / f"single-{entry.code}.pdf"
        render_questionnaire_pdf(sipas, single, url=entry.url, code=entry.code)
        # the byte-level template gives exactly the text of a directly rendered copy
        assert pdfcheck.text(copy) == pdfcheck.text(single)
    assert pdfcheck.qr_codes(tmp_path / names[2], 1, tmp_path) == [ENTRIES[2].url]


def test_zip_in_two_processes_gives_the_same_files(sipas, tmp_path, pdfcheck):
    entries = [(f"https://k.example.vn/s/C{n:03d}", f"C{n:03d}") for n in range(120)]
    calls = []
    path = tmp_path / "two.zip"
    result = render_batch(
        sipas, entries, path, fmt="zip", workers=2, progress=lambda d, t: calls.append((d, t))
    )
    assert result.files == 120 and calls[-1] == (120, 120)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [f"{n + 1:03d}-C{n:03d}.pdf" for n in range(120)]
        copy = tmp_path / "copy.pdf"
        copy.write_bytes(archive.read(names[77]))
    assert "C077" in pdfcheck.text(copy, 1, 1)
    assert pdfcheck.qr_codes(copy, 1, tmp_path) == ["https://k.example.vn/s/C077"]


def test_codes_csv_is_read_with_optional_columns(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "\ufeffURL,Code,addressee\nhttps://k.vn/s/A1, A1 ,Ông Trần Văn Bình\nhttps://k.vn/s/B2,B2,\n",
        encoding="utf-8",
    )
    assert read_codes_csv(path) == [
        CopyEntry("https://k.vn/s/A1", "A1", "Ông Trần Văn Bình"),
        CopyEntry("https://k.vn/s/B2", "B2"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("url,codes\nhttps://k.vn/s/A,A\n", "Missing column(s) code"),
        ("url,code\n", "has no rows"),
        ("url,code\nhttps://k.vn/s/A,A\n,B\n", "[row 3, column url] empty"),
        (
            "url,code\nhttps://k.vn/s/A,A\nhttps://k.vn/s/B,A\n",
            "[row 3, column code] code 'A' repeats row 2",
        ),
        ("url,code\nk.vn/s/A,A\n", "[row 2, column url] 'k.vn/s/A' is not an http(s) address"),
    ],
)
def test_bad_codes_csv_names_row_and_column(content, message):
    with pytest.raises(BatchInputError) as error:
        read_codes_csv(io.StringIO(content))
    assert message in str(error.value)


def test_bad_batch_arguments_are_clear_errors(sipas):
    with pytest.raises(QuestionnaireError, match="Unsupported format"):
        render_batch(sipas, ENTRIES, io.BytesIO(), fmt="docx")
    with pytest.raises(QuestionnaireError, match="No copies"):
        render_batch(sipas, [], io.BytesIO())
    with pytest.raises(QuestionnaireError, match="URL or code missing"):
        render_batch(sipas, [("https://k.vn/s/A", "")], io.BytesIO())


def test_no_pdf_is_assembled_byte_by_byte():
    # Copies are stamped by pypdf: no module of the library parses or writes cross-reference
    # tables or object syntax itself.
    sources = Path(questionnaires.__file__).parent.glob("*.py")
    offending = [
        path.name
        for path in sources
        if any(
            marker in path.read_text(encoding="utf-8")
            for marker in ("startxref", "endobj", "xref\\n")
        )
    ]
    assert offending == []
