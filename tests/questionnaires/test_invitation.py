"""Invitation letters: one A4 page per person with the code, the web address and a QR code
that decodes to the personal URL; user text escaped; bilingual errors."""

import io

import pytest
from pypdf import PdfReader

from questionnaires import QuestionnaireError, load_builtin
from questionnaires.invitation import InvitationEntry, render_invitations

ENTRIES = [
    (
        "https://khaosat.sonoivu.example.gov.vn/s/K7QM-4XP2",
        "K7QM-4XP2",
        "Bà Nguyễn Thị <Hằng> & Co",
        "UBND phường Hòa Khánh",
    ),
    ("https://khaosat.sonoivu.example.gov.vn/s/A2B3-C4D5", "A2B3-C4D5"),
]


def flat(text):
    return " ".join(text.split())


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    path = tmp_path_factory.mktemp("letters") / "letters.pdf"
    calls = []
    pages = render_invitations(
        ENTRIES,
        path,
        questionnaire=load_builtin("sipas-citizen"),
        unit_name="Sở Tư pháp",
        province="Đà Nẵng",
        year=2026,
        deadline="30/9/2026",
        progress=lambda done, total: calls.append((done, total)),
    )
    return path, pages, calls


def test_one_page_per_letter_and_progress_reported(letters):
    path, pages, calls = letters
    assert pages == 2 == len(PdfReader(path).pages)
    assert calls == [(1, 2), (2, 2)]


def test_each_letter_shows_its_code_address_and_explanation(letters, pdfcheck):
    path, _, _ = letters
    first, second = flat(pdfcheck.text(path, 1)), flat(pdfcheck.text(path, 2))
    assert "K7QM-4XP2" in first and "A2B3-C4D5" in second
    assert "K7QM-4XP2" not in second
    for text in (first, second):
        assert "khaosat.sonoivu.example.gov.vn/s" in text
        assert "SỞ NỘI VỤ" in text and "UBND TỈNH ĐÀ NẴNG" in text
        assert "Chỉ số CCHC" in text and "SIPAS" in text
        assert "Luật Thống kê" in text and "không ghi tên" in text
        assert "30/9/2026" in text
    assert "Bà Nguyễn Thị <Hằng> & Co" in first  # escaped, printed literally
    assert "UBND phường Hòa Khánh" in first  # the entry's unit wins over unit_name
    assert "Sở Tư pháp" in second and "Kính gửi: Ông/Bà" in second


def test_each_qr_decodes_to_its_url(letters, tmp_path, pdfcheck):
    path, _, _ = letters
    assert pdfcheck.qr_codes(path, 1, tmp_path) == [ENTRIES[0][0]]
    assert pdfcheck.qr_codes(path, 2, tmp_path) == [ENTRIES[1][0]]


def test_english_letters(tmp_path, pdfcheck):
    buffer = io.BytesIO()
    render_invitations([InvitationEntry(ENTRIES[1][0], ENTRIES[1][1])], buffer, lang="en")
    path = tmp_path / "en.pdf"
    path.write_bytes(buffer.getvalue())
    text = flat(pdfcheck.text(path, 1))
    assert "HOW TO ANSWER" in text and "A2B3-C4D5" in text and "Statistics Law" in text


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "No invitations"),
        ([("https://x.vn/s/A",)], "expected"),
        ([("https://x.vn/s/A", "")], "URL or code missing"),
    ],
)
def test_bad_entries_are_refused_with_a_clear_message(entries, message):
    with pytest.raises(QuestionnaireError, match=message):
        render_invitations(entries, io.BytesIO())


def test_text_too_long_for_the_letter_is_a_clear_error_not_an_overlap():
    with pytest.raises(QuestionnaireError, match="too long to leave room for the QR code"):
        render_invitations([ENTRIES[1]], io.BytesIO(), unit_name="Ủy ban nhân dân " * 60)


@pytest.mark.parametrize(
    ("province", "lang", "expected", "unexpected"),
    [
        ("Đà Nẵng", "vi", "Sở Nội vụ tỉnh Đà Nẵng", None),
        ("Thành phố Hồ Chí Minh", "vi", "Sở Nội vụ thành phố Hồ Chí Minh", "tỉnh Thành phố"),
        ("Thành phố Hồ Chí Minh", "en", "Affairs of Thành phố Hồ Chí Minh is", "Minh province"),
        ("Đà Nẵng", "en", "Affairs of Đà Nẵng province", None),
    ],
)
def test_the_province_is_named_as_given(tmp_path, pdfcheck, province, lang, expected, unexpected):
    path = tmp_path / "p.pdf"
    render_invitations([ENTRIES[1]], path, province=province, lang=lang)
    text = flat(pdfcheck.text(path))
    assert expected in text
    assert unexpected is None or unexpected not in text
