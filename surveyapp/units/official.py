"""Vietnam's official administrative units, from the ``vietnamadminunits`` dataset.

The dataset (MIT licence, pinned in pyproject.toml) holds the statistics office's list of
units in two editions: the current two-tier structure (34 provinces, 3,321 commune-level
units since 1 July 2025) and the structure before it (63 provinces, districts, 10,040
communes), with the conversion of every old commune to its successor(s). This module
reads it as plain data (no Flask, no database of ours); the registry and the crosswalk
are built from what it returns.

The dataset is read once per process, and only when asked (importing it costs half a
second), never at start-up.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import re
import unicodedata
from dataclasses import dataclass

DATASET = "vietnamadminunits"
# The statistics office's list the dataset was built from (its July 2025 export).
LIST_DATE = "07/2025"

COMMUNE_LEVEL = "UBND cấp xã"
DISTRICT_LEVEL = "UBND cấp huyện"


class UnknownProvince(LookupError):
    def __init__(self, query: str, choices: list[str]):
        super().__init__(query)
        self.query, self.choices = query, choices


@dataclass(frozen=True)
class Province:
    code: str  # "79"
    name: str  # "Thành phố Hồ Chí Minh"
    short_name: str  # "Hồ Chí Minh"


@dataclass(frozen=True)
class Commune:
    """A commune-level unit (xã, phường, đặc khu) of the current structure."""

    code: str  # the statistics office's five-digit code, e.g. "26506"
    name: str  # "Phường Vũng Tàu"
    kind: str  # "Phường" | "Xã" | "Đặc khu"
    province_code: str


@dataclass(frozen=True)
class LegacyCommune:
    """A commune-level unit of the structure before 1 July 2025."""

    code: str
    name: str
    district_code: str
    district_name: str
    province_code: str
    province_name: str


@dataclass(frozen=True)
class Successor:
    code: str  # current commune code
    default: bool  # for a split commune: the successor the dataset picks by default


def edition() -> str:
    """Which edition of the official list the dataset is, as the registry records it."""
    version = importlib.metadata.version(DATASET)
    return f"{DATASET} {version} (danh mục ĐVHC {LIST_DATE})"


def plain_key(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Thành phố Hồ Chí Minh" -> "thanhphohochiminh"."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]", "", ascii_text)


@functools.cache
def _tables():
    from vietnamadminunits.database import query

    current = query(
        "SELECT provinceCode, province, provinceShort, provinceKey, provinceKeywords,"
        " wardCode, ward, wardType, wardKey FROM admin_units"
    )
    legacy = query(
        "SELECT provinceCode, province, provinceKey, districtCode, district, districtKey,"
        " wardCode, ward, wardKey FROM admin_units_legacy"
    )
    return current, legacy


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", " ".join((text or "").split()))


def provinces() -> list[Province]:
    """The 34 provincial units, by code."""
    seen: dict[str, Province] = {}
    for row in _tables()[0]:
        seen.setdefault(
            row["provinceCode"],
            Province(row["provinceCode"], _nfc(row["province"]), _nfc(row["provinceShort"])),
        )
    return sorted(seen.values(), key=lambda p: p.code)


def find_province(query: str) -> Province:
    """A province by code ("79"), name ("Thành phố Hồ Chí Minh", "Hồ Chí Minh", "ho chi
    minh") or the dataset's usual abbreviations ("hcm"). Raises :class:`UnknownProvince`."""
    key = plain_key(query)
    if key.isdigit():
        key = key.zfill(2)
    for province in provinces():
        if key in {province.code, plain_key(province.name), plain_key(province.short_name)}:
            return province
    for row in _tables()[0]:
        if key and key in json.loads(row["provinceKeywords"] or "[]"):
            return next(p for p in provinces() if p.code == row["provinceCode"])
    raise UnknownProvince(query, [f"{p.code} {p.name}" for p in provinces()])


def communes(province_code: str) -> list[Commune]:
    """A province's current commune-level units, by code."""
    rows = [r for r in _tables()[0] if r["provinceCode"] == province_code]
    return sorted(
        (
            Commune(r["wardCode"], _nfc(r["ward"]), _nfc(r["wardType"]), r["provinceCode"])
            for r in rows
        ),
        key=lambda c: c.code,
    )


@functools.cache
def current_codes() -> dict[str, Commune]:
    """Every current commune-level unit of the country by code."""
    return {
        r["wardCode"]: Commune(
            r["wardCode"], _nfc(r["ward"]), _nfc(r["wardType"]), r["provinceCode"]
        )
        for r in _tables()[0]
    }


@functools.cache
def legacy_codes() -> dict[str, LegacyCommune]:
    """Every commune-level unit of the structure before 1 July 2025, by code."""
    return {
        r["wardCode"]: LegacyCommune(
            r["wardCode"],
            _nfc(r["ward"]),
            r["districtCode"],
            _nfc(r["district"]),
            r["provinceCode"],
            _nfc(r["province"]),
        )
        for r in _tables()[1]
        if r["wardCode"]
    }


@functools.cache
def legacy_district_codes() -> frozenset[str]:
    """Codes of the district-level units of the structure before 1 July 2025."""
    return frozenset(r["districtCode"] for r in _tables()[1] if r["districtCode"])


@functools.cache
def _successors() -> dict[str, tuple[Successor, ...]]:
    """Old commune code -> its current successor(s), from the dataset's conversion table
    (which is keyed by normalised names; here joined to both editions' codes)."""
    from vietnamadminunits.converter import converter_2025 as conversion

    current, legacy = _tables()
    new_code = {(r["provinceKey"], r["wardKey"]): r["wardCode"] for r in current}
    old_code = {
        f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": r["wardCode"]
        for r in legacy
        if r["wardCode"]
    }
    found: dict[str, list[Successor]] = {}
    for province_key, wards in conversion.DICT_PROVINCE_WARD_NO_DIVIDED.items():
        for ward_key, old_keys in wards.items():
            for old_key in old_keys:
                if old_key in old_code and (province_key, ward_key) in new_code:
                    found.setdefault(old_code[old_key], []).append(
                        Successor(new_code[(province_key, ward_key)], True)
                    )
    for province_key, divided in conversion.DICT_PROVINCE_WARD_DIVIDED.items():
        for old_key, parts in divided.items():
            if old_key not in old_code:
                continue
            for part in parts:
                code = new_code.get((province_key, part["newWardKey"]))
                if code:
                    found.setdefault(old_code[old_key], []).append(
                        Successor(code, bool(part["isDefaultNewWard"]))
                    )
    return {old: tuple(sorted(set(parts), key=lambda s: s.code)) for old, parts in found.items()}


def successors(old_code: str) -> tuple[Successor, ...]:
    """The current commune-level unit(s) that an old commune became (several when it was
    split between new units); empty when the dataset knows no successor."""
    return _successors().get(old_code, ())


def predecessors(new_code: str) -> list[str]:
    """Old commune codes whose territory went (wholly or partly) into ``new_code``."""
    return sorted(
        old for old, parts in _successors().items() if new_code in {p.code for p in parts}
    )
