"""Registries shipped with the service (CSV files in ``data/``), imported by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.units import Registry
from surveyapp.units.importer import ImportResult, import_units

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class BuiltinRegistry:
    path: Path
    name: str
    province_code: str
    structure: str
    edition: str


BUILTIN_REGISTRIES = {
    "brvt-2024": BuiltinRegistry(
        DATA / "brvt-2024.csv",
        "Tỉnh Bà Rịa - Vũng Tàu (2024)",
        "77",
        "three-tier",
        "Kế hoạch xác định Chỉ số CCHC 2024 của tỉnh; mã chính thức theo danh mục ĐVHC "
        "trước 01/07/2025 (5 xã và phường Phước Hiệp, sáp nhập từ 01/01/2025, không có mã)",
    ),
}


def import_builtin(name: str) -> ImportResult:
    """Import a shipped registry into its own :class:`Registry` (created on first use)."""
    spec = BUILTIN_REGISTRIES[name]
    registry = db.session.scalar(sa.select(Registry).where(Registry.code == name))
    if registry is None:
        registry = Registry(code=name)  # added with its units, only if they import
    registry.name, registry.province_code = spec.name, spec.province_code
    registry.structure, registry.edition = spec.structure, spec.edition
    registry.imported_at = utcnow()
    result = import_units(spec.path.read_bytes(), registry=registry)
    if result.ok:
        db.session.add(registry)
        db.session.flush()
    return result
