"""Vietnamese telephone numbers in one canonical form, ``0xxxxxxxxx``.

Lists carry numbers as "0912 345 678", "+84 912.345.678", "84912345678", "0084-912-...",
"(091) 2345678", Excel numbers that lost their leading zero ("912345678"), and mobile
numbers from before the conversion of 11-digit mobile numbers to 10 digits in 2018
(Ministry of Information and Communications; 0162 -> 032, 0120 -> 070, ...). Landlines
have had a 02x area code since 2017: 10 or 11 digits in all.

A million cells are handled without a per-row Python loop or a regular expression over
every row: the digits are gathered with numpy, read as integers by pyarrow and classified
with integer arithmetic. Cells holding anything but digits, separators and a leading "+" (several
numbers, words, "9.1E+08") go through a slower path that only sees those cells.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sampling.text import large_string_column, large_strings, rows_with_bytes, string_buffers

#: Old 11-digit mobile prefix -> current 10-digit prefix (2018 conversion).
OLD_MOBILE_PREFIXES: dict[str, str] = {
    # Viettel
    "0162": "032", "0163": "033", "0164": "034", "0165": "035",
    "0166": "036", "0167": "037", "0168": "038", "0169": "039",
    # MobiFone
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    # VinaPhone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    # Vietnamobile
    "0186": "056", "0188": "058",
    # Gmobile
    "0199": "059",
}  # fmt: skip

#: Two-digit network codes of current 10-digit mobile numbers (0 + code + 7 digits).
MOBILE_NETWORK_CODES = frozenset(
    [*range(32, 40), 52, 55, 56, 58, 59, 70, *range(76, 80), *range(81, 90), *range(90, 100)]
)

# Status codes returned per row by normalise_phones.
PHONE_OK = 0
PHONE_MISSING = 1
PHONE_INVALID = 2
PHONE_SCIENTIFIC = 3  # "9.12345678E+08": Excel showed the number in scientific notation

_SEVERAL = r"\s*(?:[;,/|]|\s(?:hoặc|or)\s)"
_SCIENTIFIC = r"^[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+$"

_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True
_SEPARATOR = np.zeros(256, dtype=bool)
_SEPARATOR[[ord(c) for c in " .-()_\t"] + [0xC2, 0xA0]] = True  # 0xC2 0xA0: no-break space
_REGULAR = _DIGIT | _SEPARATOR
_REGULAR[ord("+")] = True

_MOBILE_CODE = np.zeros(100, dtype=bool)
_MOBILE_CODE[list(MOBILE_NETWORK_CODES)] = True
_NEW_PREFIX = np.zeros(1000, dtype=np.int64)  # old 3-digit code (without 0) -> new code
for _old, _new in OLD_MOBILE_PREFIXES.items():
    _NEW_PREFIX[int(_old)] = int(_new)
_POWERS = 10 ** np.arange(19, dtype=np.int64)


def _first_numbers(values: pa.Array, irregular: np.ndarray):
    """For the irregular cells: (scientific mask, several mask, cells cut to their first
    number)."""
    rows = pa.array(irregular)
    subset = values.filter(rows)
    scientific = np.zeros(len(values), dtype=bool)
    several = np.zeros(len(values), dtype=bool)
    scientific[irregular] = (
        pc.match_substring_regex(subset, _SCIENTIFIC).fill_null(False).to_numpy(False)
    )
    several[irregular] = pc.match_substring_regex(subset, _SEVERAL).fill_null(False).to_numpy(False)
    first = pc.utf8_trim_whitespace(
        pc.replace_substring_regex(subset, _SEVERAL + ".*$", "", max_replacements=1)
    )
    # "912345678.0": a number that went through a float column on its way to the CSV.
    first = pc.replace_substring_regex(first, r"^([0-9]+)\.0$", r"\1")
    return scientific, several, pc.replace_with_mask(values, rows, first.fill_null(""))


def _ends_with_point_zero(values: pa.Array) -> np.ndarray:
    offsets, data = string_buffers(values)
    ends = offsets[1:]
    long_enough = np.diff(offsets) >= 3
    last = data[np.maximum(ends - 1, 0)] if len(data) else np.zeros(len(ends), np.uint8)
    before = data[np.maximum(ends - 2, 0)] if len(data) else np.zeros(len(ends), np.uint8)
    return long_enough & (last == ord("0")) & (before == ord("."))


def _rows_of(positions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Row index of each byte position (positions relative to offsets[0])."""
    return np.searchsorted(offsets, positions + offsets[0], side="right") - 1


def _digits_as_integers(values: pa.Array, unusable: np.ndarray):
    """(value, digit count, starts with "+", unusable) per cell, digits read as int64."""
    offsets, data = string_buffers(values)
    n = len(values)
    region = data[offsets[0] : offsets[-1]]
    relative = offsets - offsets[0]
    unusable = unusable.copy()
    is_digit = _DIGIT[region]
    # Digits before each byte position (int32 counts: the int64 cumsum of bools is slow).
    digits_before = np.zeros(len(region) + 1, dtype=np.int32)
    np.cumsum(is_digit, dtype=np.int32, out=digits_before[1:])
    new_offsets = digits_before[relative].astype(np.int64)
    digit_lengths = np.diff(new_offsets)
    # "+" is rare: find its rows from its positions; it must be the first character.
    pluses = np.flatnonzero(region == ord("+"))
    plus_rows = _rows_of(pluses, offsets)
    at_start = pluses == relative[plus_rows]
    plus = np.zeros(n, dtype=bool)
    plus[plus_rows[at_start]] = True
    unusable[plus_rows[~at_start]] = True
    unusable |= (digit_lengths == 0) | (digit_lengths > 18)
    digits = large_strings(new_offsets, region[is_digit], ~unusable)
    numbers = pc.cast(digits, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return numbers, digit_lengths, plus, unusable


def _digit_count(numbers: np.ndarray) -> np.ndarray:
    return np.searchsorted(_POWERS, numbers, side="right")


def _national_numbers(numbers, lengths, plus, unusable):
    """The national significant number (no leading 0, no 84) per cell, or -1."""
    significant = _digit_count(numbers)
    leading_zeros = lengths - significant
    starts_84 = (significant >= 3) & (numbers // _POWERS[np.maximum(significant - 2, 0)] == 84)
    without_84 = numbers % _POWERS[np.maximum(significant - 2, 0)]
    international = starts_84 & (
        (plus & (leading_zeros == 0))
        | (~plus & (leading_zeros == 2))  # 0084...
        | (~plus & (leading_zeros == 0) & (significant >= 11))  # 84... without +
    )
    national = ~plus & (leading_zeros == 1)
    lost_zero = ~plus & (leading_zeros == 0) & ~international & np.isin(significant, (9, 10))
    result = np.full(len(numbers), -1, dtype=np.int64)
    result[international] = without_84[international]
    result[national | lost_zero] = numbers[national | lost_zero]
    result[unusable | (numbers == 0)] = -1
    return result


def _classify(national: np.ndarray) -> np.ndarray:
    """Current national number (old mobile codes renumbered), or -1 when invalid."""
    digits = _digit_count(np.maximum(national, 0))
    mobile = (digits == 9) & _MOBILE_CODE[np.clip(national // 10**7, 0, 99)]
    old_code = np.where(digits == 10, np.clip(national // 10**7, 0, 999), 0)
    old_mobile = (digits == 10) & (_NEW_PREFIX[old_code] > 0)
    landline = ((digits == 9) & (national // 10**8 == 2)) | (
        (digits == 10) & (national // 10**9 == 2)
    )
    result = np.full(len(national), -1, dtype=np.int64)
    result[mobile | landline] = national[mobile | landline]
    result[old_mobile] = _NEW_PREFIX[old_code[old_mobile]] * 10**7 + national[old_mobile] % 10**7
    return result


def normalise_phones(values) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Canonical numbers for a column of phone cells.

    Returns (canonical, status, several): canonical is a large_string chunked array of the
    ``0xxxxxxxxx`` form or null; status holds PHONE_OK, PHONE_MISSING, PHONE_INVALID or
    PHONE_SCIENTIFIC per row; several marks cells that listed more than one number (the
    first one is used).
    """
    national, status, several = phone_numbers(values)
    return canonical_text(national), status, several


def phone_numbers(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(national number, status, several) per cell: the canonical number without its
    leading 0 as int64 (-1 where status is not PHONE_OK), then as normalise_phones."""
    # Blocks of rows keep the temporaries small enough to be reused from cache instead of
    # freshly mapped (page faults cost more than the arithmetic here).
    parts = [
        _numbers_of_block(chunk.slice(start, _BLOCK_ROWS))
        for chunk in large_string_column(values).chunks
        for start in range(0, len(chunk), _BLOCK_ROWS)
    ] or [_numbers_of_block(pa.array([], pa.large_string()))]
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(3))


def canonical_text(national: np.ndarray) -> pa.ChunkedArray:
    """ "0" + each national number as large_string text, null for -1."""
    text = _with_leading_zero(national, national >= 0)
    return pa.chunked_array([text], type=pa.large_string())


_BLOCK_ROWS = 1 << 16


def _numbers_of_block(values: pa.Array):
    n = len(values)
    offsets, _ = string_buffers(values)
    present = values.is_valid().to_numpy(zero_copy_only=False) & (np.diff(offsets) > 0)
    irregular = (rows_with_bytes(values, ~_REGULAR) | _ends_with_point_zero(values)) & present
    scientific = several = np.zeros(n, dtype=bool)
    unusable = np.zeros(n, dtype=bool)
    if irregular.any():
        scientific, several, values = _first_numbers(values, irregular)
        # Cells still holding other characters once cut to their first number.
        unusable[irregular] = rows_with_bytes(values.filter(pa.array(irregular)), ~_REGULAR)
    national = _classify(_national_numbers(*_digits_as_integers(values, unusable)))
    valid = (national >= 0) & present & ~scientific
    status = np.full(n, PHONE_INVALID, dtype=np.int8)
    status[~present] = PHONE_MISSING
    status[valid] = PHONE_OK
    status[scientific] = PHONE_SCIENTIFIC
    return np.where(valid, national, -1), status, several & present


def _with_leading_zero(national: np.ndarray, valid: np.ndarray) -> pa.Array:
    """ "0" + the national number as text: the number plus 10**digits is written by Arrow
    ("1" and the digits), then its leading "1" is overwritten by "0" in the buffer."""
    marked = national + _POWERS[_digit_count(np.maximum(national, 0))]
    text = pc.cast(pa.array(marked, mask=~valid), pa.large_string())
    offsets, data = string_buffers(text)
    data = data.copy()
    starts = offsets[:-1][valid & (np.diff(offsets) > 0)]
    data[starts] = ord("0")
    return large_strings(offsets, data, valid)


def normalise_phone(text: str | None) -> str | None:
    """The canonical form of one number, or None when it is not a valid Vietnamese number."""
    canonical, _, _ = normalise_phones(pa.array([text], type=pa.large_string()))
    return canonical[0].as_py()
