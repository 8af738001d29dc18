"""Scrubber: a campaign's names, dossier codes and addresses out of free text."""

import pytest

from scoring_bridge.scrub import (
    ADDRESS_PLACEHOLDER,
    DOSSIER_PLACEHOLDER,
    NAME_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    Scrubber,
)

SCRUBBER = Scrubber(
    names=["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê", None],
    codes=["000.00.12.H57-240815-0001", "HS-2024-77"],
    addresses=["12 Lê Lợi, phường Thắng Tam, Vũng Tàu"],
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cán bộ nói với nguyen  van AN rất tốt", f"Cán bộ nói với {NAME_PLACEHOLDER} rất tốt"),
        ("NGUYỄN VĂN AN.", f"{NAME_PLACEHOLDER}."),
        ("Nguyễn Văn Anh là người khác", "Nguyễn Văn Anh là người khác"),  # whole words
        ("Trần Thị Bích Ngọc, Nguyễn Văn An", f"{NAME_PLACEHOLDER}, {NAME_PLACEHOLDER}"),
        ("hồ sơ hs-2024-77 chậm", f"hồ sơ {DOSSIER_PLACEHOLDER} chậm"),
        ("hồ sơ HS-2024-777 khác", "hồ sơ HS-2024-777 khác"),
        ("ở 12 le loi, gọi 0912345678", f"ở {ADDRESS_PLACEHOLDER}, gọi {PHONE_PLACEHOLDER}"),
        ("Lê Văn Tám", "Lê Văn Tám"),  # a one-word name is a word, not an identity
        ("Tốt", "Tốt"),
    ],
)
def test_terms_are_found_whole_case_and_diacritics_insensitive(text, expected):
    assert SCRUBBER(text) == expected


def test_tens_of_thousands_of_names_build_once_and_scrub_in_one_pass():
    family, middle, given = ["Nguyễn", "Trần", "Lê", "Phạm"], ["Văn", "Thị", "Hữu"], range(8000)
    names = [f"{f} {m} Tên{g}" for f in family for m in middle for g in given]  # 96,000
    scrubber = Scrubber(names=names)
    assert scrubber.terms == len(names)
    text = "Cảm ơn anh tran huu ten7777 và chị Phạm Thị Tên12 đã giúp. " * 20
    cleaned = scrubber(text)
    assert "ten7777" not in cleaned.lower() and "Tên12" not in cleaned
    assert cleaned.count(NAME_PLACEHOLDER) == 40
