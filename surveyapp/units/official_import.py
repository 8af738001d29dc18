"""A province's current registry from the official list (``units import-official``).

The province's commune-level units come from the dataset with their official codes (the
unit's ``code`` is that same code); the registry records the dataset's edition. The
departments and agencies are not in any official list: the first import adds a starting
list (``data/departments-2025.csv`` or the file given), which the Department then edits
like any unit; later imports refresh the communes and leave the departments alone.

All-or-nothing: every problem is collected first, and nothing is written when there is
one. The caller commits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.units import Registry, Unit
from surveyapp.units import official
from surveyapp.units.importer import RowError, clean, decode

DEPARTMENTS_TEMPLATE = Path(__file__).parent / "data" / "departments-2025.csv"
DEPARTMENT_LEVEL = "Sở, ban, ngành"
TWO_TIER_SINCE = dt.date(2025, 7, 1)


@dataclass
class OfficialImport:
    registry: Registry | None = None
    province: official.Province | None = None
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    retired: int = 0  # units of the registry no longer in the official list (made inactive)
    departments: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def registry_code(province: official.Province) -> str:
    return f"{province.code}-2025"


def _province_word(province: official.Province) -> str:
    return "Thành phố" if province.name.startswith("Thành phố") else "tỉnh"


def read_departments(data: bytes, province: official.Province) -> tuple[list, list[RowError]]:
    """(code, name) rows of a departments CSV (columns code, name); ``{tỉnh}`` in a name
    becomes "tỉnh" or "Thành phố" as the province is one or the other."""
    try:
        text = decode(data)
    except ValueError as exc:
        return [], [RowError(0, "", "", *exc.args)]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [clean(h).lower() for h in next(reader, [])]
    if "code" not in header or "name" not in header:
        return [], [
            RowError(
                1,
                "code, name",
                ", ".join(header),
                "Tệp danh sách sở, ngành phải có các cột code, name.",
                "The departments file must have the columns code, name.",
            )
        ]
    rows, errors, seen = [], [], {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = dict(zip(header, (clean(c) for c in cells), strict=False))
        code, name = values.get("code", ""), values.get("name", "")
        if not code or not name:
            errors.append(
                RowError(number, "code" if not code else "name", "", "Ô trống.", "Empty cell.")
            )
            continue
        if code in seen:
            errors.append(
                RowError(
                    number,
                    "code",
                    code,
                    f"Mã trùng với dòng {seen[code]}.",
                    f"The code repeats row {seen[code]}.",
                )
            )
            continue
        seen[code] = number
        rows.append((f"{province.code}-{code}", name.replace("{tỉnh}", _province_word(province))))
    return rows, errors


def import_official(query: str, departments: bytes | None = None) -> OfficialImport:
    """Create or refresh the current registry of the province named by ``query``."""
    result = OfficialImport()
    try:
        province = official.find_province(query)
    except official.UnknownProvince as exc:
        result.errors.append(
            RowError(
                0,
                "province",
                query,
                f"Không có tỉnh, thành phố «{query}» trong danh mục 34 đơn vị cấp tỉnh. "
                f"Hãy dùng mã hoặc tên, ví dụ: {', '.join(exc.choices[:3])}…",
                f"No province «{query}» among the 34 provincial units. Use a code or a "
                f"name, e.g. {', '.join(exc.choices[:3])}…",
            )
        )
        return result
    result.province = province
    registry = db.session.scalar(
        sa.select(Registry).where(Registry.code == registry_code(province))
    )
    existing = {u.official_code: u for u in registry.units if u.official_code} if registry else {}
    has_departments = bool(
        registry and any(u.level_label == DEPARTMENT_LEVEL for u in registry.units)
    )
    department_rows = []
    if not has_departments:
        data = departments if departments is not None else DEPARTMENTS_TEMPLATE.read_bytes()
        department_rows, errors = read_departments(data, province)
        result.errors += errors
    communes = official.communes(province.code)
    wanted = [c.code for c in communes if c.code not in existing] + [c for c, _ in department_rows]
    taken = dict(
        db.session.execute(
            sa.select(Unit.code, Unit.registry_id).where(Unit.code.in_(wanted))
        ).all()
    )
    for code in wanted:
        if code in taken:
            result.errors.append(
                RowError(
                    0,
                    "code",
                    code,
                    f"Mã {code} đã được một đơn vị khác dùng (ngoài danh mục {province.name}); "
                    "hãy đổi mã đơn vị đó trước.",
                    f"The code {code} is used by another unit (outside {province.name}'s "
                    "registry); change that unit's code first.",
                )
            )
    if result.errors:
        return result

    if registry is None:
        registry = Registry(code=registry_code(province))
        db.session.add(registry)
    registry.name = province.name
    registry.province_code = province.code
    registry.structure = "two-tier"
    registry.edition = official.edition()
    registry.valid_from = TWO_TIER_SINCE
    registry.imported_at = utcnow()
    current = {c.code for c in communes}
    for commune in communes:
        unit = existing.get(commune.code)
        if unit is None:
            unit = Unit(code=commune.code, official_code=commune.code, unit_registry=registry)
            db.session.add(unit)
            result.created += 1
        else:
            result.updated += 1
        unit.name, unit.level_label, unit.active = commune.name, official.COMMUNE_LEVEL, True
    for code, unit in existing.items():
        if code not in current and unit.active:
            unit.active = False
            result.retired += 1
    for code, name in department_rows:
        db.session.add(
            Unit(code=code, name=name, level_label=DEPARTMENT_LEVEL, unit_registry=registry)
        )
        result.departments += 1
    db.session.flush()
    result.registry = registry
    return result
