"""Writing a scoring run to a directory, all or nothing.

Files (``DIR/``):

=============================  ===========================================================
``points.csv``, ``.xlsx``      criteria points per unit, layout in :mod:`scoring_bridge.points`
``points.json``                the same grouped per unit, with criteria and run settings
``units.csv``                  per unit (every unit of the sample, answered or not): status
                               (scored, below_min_n, no_responses, not_applicable), rank
                               with its interval and group, points total, applicable
                               maximum, overall index with SE, 95% CI, n, n_eff, design
                               effect and flags, responses, AAPOR RR1/RR3, previous year
``response_rates.csv``         when given: AAPOR RR1 and RR3 per unit × respondent group
                               (and the unit's total, group empty), the service's figures
``indices.csv``, ``.xlsx``     every index (item, element, item set, overall) per unit ×
                               respondent groups × formula, with SE, CI, n, flags
``published_tables.xlsx``      respondents and overall index by unit × group with
                               small-cell and complementary suppression
``microdata.csv/.xlsx/.sav``   anonymised microdata (:mod:`scoring_bridge.microdata`)
``codebook.xlsx``, ``.pdf``    the microdata's codebook
``report.pdf``, ``.xlsx``      the Department's report (:mod:`scoring_bridge.report`)
=============================  ===========================================================

Everything is written to a hidden temporary directory next to ``DIR`` and renamed into
place only when complete; on any failure the temporary directory is removed and ``DIR`` is
left as it was.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from scoring_bridge.errors import OutputError
from scoring_bridge.microdata import write_microdata
from scoring_bridge.report import write_report_pdf, write_report_xlsx
from scoring_bridge.scoring import ScoringResult
from scoring_bridge.suppression import published_tables
from scoring_bridge.xlsx import write_csv, write_xlsx

DEFAULT_K = 5


#: Sheet titles of published_tables.xlsx (its columns: the unit code, then the groups).
PUBLISHED_TITLES = {
    "respondents": "Số người trả lời",
    "overall_index": "Chỉ số hài lòng chung (%)",
}


def write_outputs(
    result: ScoringResult,
    directory: str | Path,
    *,
    k: int = DEFAULT_K,
    overwrite: bool = False,
    unit_names: dict[str, str] | None = None,
    microdata: bool = True,
    report: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write every output of ``result`` into ``directory`` atomically; return the paths."""
    target = Path(directory)
    step = progress or (lambda label: None)
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not overwrite)):
        raise OutputError(
            f"Thư mục {target} đã có dữ liệu; chọn thư mục khác hoặc cho phép ghi đè.",
            f"{target} already exists and is not empty; choose another or allow overwriting.",
            value=str(target),
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        step("points")
        _write_points(result, staging)
        if result.response_rates is not None:
            write_csv(staging / "response_rates.csv", result.response_rates)
        step("indices")
        write_csv(staging / "indices.csv", result.indices)
        write_xlsx(staging / "indices.xlsx", {"indices": result.indices})
        step("published tables")
        tables = published_tables(result.responses, result.indices, k)
        write_xlsx(
            staging / "published_tables.xlsx",
            {  # unit codes first; Vietnamese sheet and column titles (tables people publish)
                PUBLISHED_TITLES[name]: table.reset_index().rename(columns={"unit": "Mã đơn vị"})
                for name, table in tables.items()
            },
        )
        if microdata:
            step("microdata")
            write_microdata(result.responses, result.spec, staging, result.design)
        if report:
            step("report")
            write_report_pdf(result, staging / "report.pdf", unit_names=unit_names)
            write_report_xlsx(result, staging / "report.xlsx", unit_names=unit_names)
        written = sorted(p.name for p in staging.iterdir())
        _make_readable(staging)
        _move_into_place(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(
            f"Không ghi được kết quả vào {target}: {exc}",
            f"Cannot write outputs to {target}: {exc}",
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / name for name in written]


def _make_readable(directory: Path) -> None:
    """mkdtemp creates the directory for its owner only; give it the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    directory.chmod(0o777 & ~umask)


def _move_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    previous = target.with_name(f".{target.name}.previous-{os.getpid()}")
    os.replace(target, previous)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    if value is pd.NA:
        return None
    return value


def _write_points(result: ScoringResult, directory: Path) -> None:
    write_csv(directory / "points.csv", result.points)
    write_xlsx(directory / "points.xlsx", {"points": result.points, "units": result.units})
    write_csv(directory / "units.csv", result.units)
    (directory / "points.json").write_text(
        json.dumps(points_document(result), ensure_ascii=False, indent=1), encoding="utf-8"
    )


def points_document(result: ScoringResult) -> dict[str, Any]:
    """The JSON layout: mapping, settings, criteria, and per unit its criteria rows."""
    # not dict(groupby): GroupBy has a .keys attribute, so dict() would treat it as a mapping
    by_unit = {unit: rows for unit, rows in result.points.groupby("unit", sort=False)}  # noqa: C416
    units = []
    for summary in result.units.to_dict("records"):
        rows = by_unit.get(summary["unit"], pd.DataFrame(columns=result.points.columns))
        units.append(
            {
                **{key: _clean(value) for key, value in summary.items()},
                "criteria": [
                    {key: _clean(value) for key, value in row.items() if key != "unit"}
                    for row in rows.to_dict("records")
                ],
            }
        )
    return {
        "format": "scoring_bridge.points/1",
        "mapping": {
            "id": result.mapping.id,
            "name": result.mapping.name_vi,
            "year": result.mapping.year,
        },
        "questionnaire": result.spec.questionnaire_id,
        "settings": {key: _clean(value) for key, value in result.settings.items()},
        "criteria": [
            {
                "code": c.code,
                "name_vi": c.name_vi,
                "name_en": c.name_en,
                "max_points": c.max_points,
                "groups": list(c.groups),
                "source": c.source_label,
                "formula": c.formula.name,
                "points_rule": "bands" if c.bands else "proportional",
                "decimals": c.decimals,
                "min_responses": c.min_responses,
            }
            for c in result.criteria
        ],
        "units": units,
    }
