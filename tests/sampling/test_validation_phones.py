"""Vietnamese phone numbers: one canonical form, old prefixes renumbered."""

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sampling.phones import (
    OLD_MOBILE_PREFIXES,
    PHONE_INVALID,
    PHONE_MISSING,
    PHONE_OK,
    PHONE_SCIENTIFIC,
    normalise_phone,
    normalise_phones,
)

# The 2018 conversion table, typed by hand from the issue (not copied from the module).
HAND_TABLE = """
0162 032  0163 033  0164 034  0165 035  0166 036  0167 037  0168 038  0169 039
0120 070  0121 079  0122 077  0126 076  0128 078
0123 083  0124 084  0125 085  0127 081  0129 082
0186 056  0188 058  0199 059
"""


def _hand_pairs() -> list[tuple[str, str]]:
    words = HAND_TABLE.split()
    return list(zip(words[::2], words[1::2], strict=True))


def test_module_table_is_the_hand_checked_table():
    assert dict(_hand_pairs()) == OLD_MOBILE_PREFIXES
    assert len(OLD_MOBILE_PREFIXES) == 21


@pytest.mark.parametrize(("old", "new"), _hand_pairs())
def test_old_eleven_digit_mobiles_are_renumbered(old, new):
    assert normalise_phone(f"{old}1234567") == f"{new}1234567"
    assert normalise_phone(f"+84 {old[1:]} 123 4567") == f"{new}1234567"
    assert normalise_phone(f"{old[1:]}1234567") == f"{new}1234567"  # leading zero lost


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("(091) 234-5678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("912345678", "0912345678"),  # Excel dropped the leading zero
        ("845123456", "0845123456"),  # ... of a number whose code is 84
        ("0912\u00a0345\u00a0678", "0912345678"),
        ("0325123456", "0325123456"),
        ("0562123456", "0562123456"),
        ("0592123456", "0592123456"),
        ("0702123456", "0702123456"),
        ("0812123456", "0812123456"),
        ("02439876543", "02439876543"),  # Hà Nội landline, 11 digits
        ("024 3987 6543", "02439876543"),
        ("+84 24 3987 6543", "02439876543"),
        ("0283123456", "0283123456"),  # 10-digit landline from an older list
        ("0912345678; 0987654321", "0912345678"),
        ("0912345678 hoặc 0987654321", "0912345678"),
        ("912345678.0", "0912345678"),  # went through a float column
        ("84912345678.0", "0912345678"),
    ],
)
def test_accepted_forms(written, canonical):
    assert normalise_phone(written) == canonical


@pytest.mark.parametrize(
    "written",
    [
        "12345",
        "091234567",  # 9 digits with the zero: one digit missing
        "09123456789",  # one digit too many
        "0112345678",  # no such network code
        "0512345678",
        "0612345678",
        "01012345678",  # 11 digits, not an old mobile code
        "0912abc678",
        "0912+345678",
        "+1 202 555 0143",
        "không có",
        "0",
    ],
)
def test_invalid_numbers(written):
    assert normalise_phone(written) is None


def test_statuses_and_several_numbers():
    values = pa.array(
        ["0912345678", None, "", "12345", "9.12345678E+08", "0912345678, 0987654321"],
        type=pa.large_string(),
    )
    canonical, status, several = normalise_phones(values)
    assert canonical.to_pylist() == ["0912345678", None, None, None, None, "0912345678"]
    assert status.tolist() == [
        PHONE_OK, PHONE_MISSING, PHONE_MISSING, PHONE_INVALID, PHONE_SCIENTIFIC, PHONE_OK,
    ]  # fmt: skip
    assert several.tolist() == [False, False, False, False, False, True]


def test_blocks_give_the_same_answer_as_single_values():
    # More rows than one processing block, with the irregular cells spread across blocks.
    written = ["+84 912 345 678", "01662345678", "x", "0987654321 / 0912345678", "024 3987 6543"]
    values = written * 30_000
    canonical, _, _ = normalise_phones(pa.array(values, type=pa.large_string()))
    expected = [normalise_phone(v) for v in written]
    assert canonical.to_pylist() == expected * 30_000


NETWORK_CODES = [
    "32",
    "39",
    "52",
    "55",
    "56",
    "58",
    "59",
    "70",
    "76",
    "79",
    "81",
    "86",
    "89",
    "90",
    "99",
]
WRITTEN_FORMS = {
    "national": lambda canonical, grouped: canonical,
    "national grouped": lambda canonical, grouped: "0" + grouped,
    "+84": lambda canonical, grouped: "+84 " + grouped,
    "84": lambda canonical, grouped: "84" + grouped,
    "0084": lambda canonical, grouped: "0084" + grouped,
    "leading zero lost": lambda canonical, grouped: grouped,
}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.sampled_from(NETWORK_CODES),
    subscriber=st.integers(0, 9_999_999),
    form=st.sampled_from(sorted(WRITTEN_FORMS)),
    separator=st.sampled_from(["", " ", ".", "-"]),
)
def test_every_written_form_of_a_mobile_gives_the_same_number(code, subscriber, form, separator):
    canonical = f"0{code}{subscriber:07d}"
    national = canonical[1:]
    grouped = separator.join([national[:2], national[2:5], national[5:]])
    assert normalise_phone(WRITTEN_FORMS[form](canonical, grouped)) == canonical
