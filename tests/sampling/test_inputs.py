"""One parser per input: the reserve and the standard-deviation table, as typed."""

import unicodedata

import pytest

from sampling import DesignError
from sampling.inputs import parse_reserve, parse_sd_table


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("2", 2), (" 3 ", 3), ("0", 0), ("", 0), (None, 0),
        ("0.2", 0.2), ("0,2", 0.2), ("20%", 0.2), ("12,5 %", 0.125), ("1.0", 1.0), (4, 4),
    ],
)  # fmt: skip
def test_reserve_counts_and_ratios(typed, value):
    parsed = parse_reserve(typed)
    assert parsed == pytest.approx(value) and type(parsed) is type(value)


@pytest.mark.parametrize("typed", ["many", "-1", "-0.2", "nan", "inf", "2 people", "%"])
def test_reserve_refused_with_both_languages(typed):
    with pytest.raises(DesignError) as caught:
        parse_reserve(typed)
    assert "e.g. 0.2 or 20%" in caught.value.message_en
    assert "ví dụ 0.2 hay 20%" in caught.value.message_vi


def test_sd_table_as_a_csv_file_or_a_text_box():
    csv_file = '\ufeffstratum,sd\r\nXA01 | citizen,0.4\r\n"Sở A, B | official",1.2\r\n'
    assert parse_sd_table(csv_file) == {"XA01 | citizen": 0.4, "Sở A, B | official": 1.2}
    typed = "XA01 | citizen, 0.4\n\n  Sở A, B | official,1.2  \n"
    assert parse_sd_table(typed) == {"XA01 | citizen": 0.4, "Sở A, B | official": 1.2}


def test_sd_table_from_a_spreadsheet_with_decimal_commas():
    pasted = "XA01 | citizen\t0,4\nXA02 | citizen\t1,25\n"
    assert parse_sd_table(pasted) == {"XA01 | citizen": 0.4, "XA02 | citizen": 1.25}
    semicolons = "stratum;sd\nXA01;0,4\nXA02;2\n"
    assert parse_sd_table(semicolons) == {"XA01": 0.4, "XA02": 2.0}


def test_sd_labels_are_nfc_as_the_frame_labels():
    decomposed = unicodedata.normalize("NFD", "Sở Tư pháp,1.5")
    assert parse_sd_table(decomposed) == {"Sở Tư pháp": 1.5}


def test_every_bad_line_is_named_at_once():
    with pytest.raises(DesignError) as caught:
        parse_sd_table("A,1\nB,abc\n,2\nC,-1\nA,3\nD,0\n")
    message = caught.value.message_en
    for part in ("line 2 «B,abc»", "line 3 «,2»", "line 4 «C,-1»", "line 5: stratum A already"):
        assert part in message
    assert "dòng 2 «B,abc»" in caught.value.message_vi
    assert parse_sd_table("") == {} and parse_sd_table(None) == {}
