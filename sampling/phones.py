"""Vietnamese telephone numbers in one canonical form, ``0xxxxxxxxx``.

Lists carry numbers as "0912 345 678", "+84 912.345.678", "84912345678", "0084-912-...",
"(091) 2345678", Excel numbers that lost their leading zero ("912345678"), and mobile
numbers from before the 2018 renumbering, when 11-digit mobile numbers moved to 10 digits
(Ministry of Information and Communications, Circular 22/2014/TT-BTTTT and Decision
798/QĐ-BTTTT of 2018 on the conversion of mobile subscriber codes). Landlines have 11
digits with a 02x area code since 2017 (10 digits accepted for older lists).
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sampling.text import as_large_string

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

#: Current mobile numbers: 10 digits with a network prefix in use.
MOBILE_PATTERN = r"^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9])[0-9]{7}$"
#: Landlines: 02 + area code + subscriber number, 10 or 11 digits in all.
LANDLINE_PATTERN = r"^02[0-9]{8,9}$"

# Status codes returned per row by normalise_phones.
PHONE_OK = 0
PHONE_MISSING = 1
PHONE_INVALID = 2
PHONE_SCIENTIFIC = 3  # "9.12345678E+08": Excel showed the number in scientific notation

_SEVERAL = r"\s*(?:[;,/|]|\s(?:hoặc|or)\s)"
_SEPARATORS = (" ", ".", "-", "(", ")", "\u00a0", "_")


def _strip_separators(values: pa.Array) -> pa.Array:
    # Literal replacement on the few rows that contain a separator is much faster than
    # one regular expression over every row.
    for separator in _SEPARATORS:
        has = pc.match_substring(values, separator)
        if pc.any(has).as_py():
            values = pc.replace_substring(values, separator, "")
    return values


def _first_number(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Keep the first of several numbers written in one cell ("0912..., 0987...")."""
    several = pc.match_substring_regex(values, _SEVERAL).fill_null(False)
    several_np = several.to_numpy(zero_copy_only=False)
    if several_np.any():
        values = pc.replace_substring_regex(values, _SEVERAL + ".*$", "", max_replacements=1)
    return values, several_np


def _national_form(digits: pa.Array) -> pa.Array:
    """International prefixes replaced by 0, a lost leading zero restored."""
    digits = pc.replace_substring_regex(digits, r"^(\+|00)840?", "0")
    length = pc.utf8_length(digits)
    with_country = pc.and_(pc.starts_with(digits, "84"), pc.greater_equal(length, 11))
    digits = pc.if_else(with_country, pc.replace_substring_regex(digits, r"^840?", "0"), digits)
    lost_zero = pc.and_(
        pc.invert(pc.starts_with(digits, "0")),
        pc.is_in(pc.utf8_length(digits), pa.array([9, 10])),
    )
    return pc.if_else(lost_zero, pc.binary_join_element_wise(_large("0"), digits, _large("")), digits)


def _renumber_old_mobiles(digits: pa.Array) -> pa.Array:
    old_prefixes = pa.array(list(OLD_MOBILE_PREFIXES), type=pa.large_string())
    new_prefixes = pa.array(list(OLD_MOBILE_PREFIXES.values()), type=pa.large_string())
    head = pc.utf8_slice_codeunits(digits, 0, 4)
    position = pc.index_in(head, value_set=old_prefixes)
    is_old = pc.and_(pc.is_valid(position), pc.equal(pc.utf8_length(digits), 11))
    if not pc.any(is_old).as_py():
        return digits
    renumbered = pc.binary_join_element_wise(
        pc.take(new_prefixes, position.fill_null(0)), pc.utf8_slice_codeunits(digits, 4), _large("")
    )
    return pc.if_else(is_old, renumbered, digits)


def normalise_phones(values) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Canonical numbers for a column of phone cells.

    Returns (canonical, status, several): canonical is a large_string array with the
    ``0xxxxxxxxx`` form or null; status holds PHONE_OK, PHONE_MISSING, PHONE_INVALID or
    PHONE_SCIENTIFIC per row; several marks cells that listed more than one number (the
    first one is used).
    """
    values = as_large_string(values)
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    scientific = (
        pc.match_substring_regex(values, r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")
        .fill_null(False)
        .to_numpy(zero_copy_only=False)
    )
    values, several = _first_number(values)
    digits = _national_form(_strip_separators(values))
    digits = _renumber_old_mobiles(digits)
    valid = pc.or_(
        pc.match_substring_regex(digits, MOBILE_PATTERN),
        pc.match_substring_regex(digits, LANDLINE_PATTERN),
    ).fill_null(False)
    valid_np = valid.to_numpy(zero_copy_only=False)
    canonical = pc.if_else(valid, digits, pa.scalar(None, pa.large_string()))
    status = np.full(len(values), PHONE_INVALID, dtype=np.int8)
    status[~present] = PHONE_MISSING
    status[valid_np] = PHONE_OK
    status[scientific] = PHONE_SCIENTIFIC
    return canonical, status, several & present


def normalise_phone(text: str | None) -> str | None:
    """The canonical form of one number, or None when it is not a valid Vietnamese number."""
    canonical, _, _ = normalise_phones(pa.array([text], type=pa.large_string()))
    return canonical[0].as_py()


def _large(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())
