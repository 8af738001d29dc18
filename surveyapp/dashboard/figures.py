"""Fieldwork progress figures per unit and stratum (aggregates only, never personal data).

Cases counted are those fielded: every primary and every reserve once released. A case
replaced by a reserve keeps its final disposition (refusal, non-contact, ineligible),
as AAPOR asks when substitution is used. Completions count whatever the mode (web form,
interview, paper form). One eligibility rate ``e`` is estimated from the whole campaign
(more stable than per stratum) unless given.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from surveyapp.dashboard.rates import DispositionCounts, estimated_eligibility, rr1, rr3
from surveyapp.extensions import db
from surveyapp.fieldwork.dispositions import rate_class
from surveyapp.fieldwork.models import Respondent, RespondentStatus, Selection
from surveyapp.units.models import Unit

ACTIVE = {RespondentStatus.PENDING, RespondentStatus.INVITED, RespondentStatus.CONTACTED}


@dataclass
class Progress:
    """Counts for one unit × stratum (or a total)."""

    unit_id: int | None
    unit_code: str
    unit_name: str
    stratum: str
    sample_size: int = 0  # primaries
    reserves_released: int = 0
    completed: int = 0
    refused: int = 0
    noncontact: int = 0
    ineligible: int = 0
    pending: int = 0
    replaced: int = 0
    classes: DispositionCounts = field(default_factory=DispositionCounts)
    rr1: float | None = None
    rr3: float | None = None

    def add(self, other: "Progress") -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.classes = self.classes + other.classes


COUNT_FIELDS = (
    "sample_size",
    "reserves_released",
    "completed",
    "refused",
    "noncontact",
    "ineligible",
    "pending",
    "replaced",
)


@dataclass
class CampaignProgress:
    rows: list[Progress]  # unit × stratum, in unit code then stratum order
    units: list[Progress]  # one per unit (all its strata)
    total: Progress
    e: float | None  # eligibility rate used for RR3
    e_estimated: bool


def _count_case(progress: Progress, selection, status, replaced_status, disposition, n) -> None:
    if selection == Selection.PRIMARY:
        progress.sample_size += n
    else:
        progress.reserves_released += n
    final = replaced_status if status == RespondentStatus.REPLACED else status
    if status == RespondentStatus.REPLACED:
        progress.replaced += n
    if final == RespondentStatus.COMPLETED:
        progress.completed += n
    elif final == RespondentStatus.REFUSED:
        progress.refused += n
    elif final == RespondentStatus.NONCONTACT:
        progress.noncontact += n
    elif final == RespondentStatus.INELIGIBLE:
        progress.ineligible += n
    elif final in ACTIVE:
        progress.pending += n
    letter = rate_class(final.value if final else "", disposition)
    progress.classes = progress.classes + DispositionCounts.from_classes([letter] * n)


def campaign_progress(
    campaign_id: int, unit_ids: set[int] | None = None, e: float | None = None
) -> CampaignProgress:
    """Progress of ``campaign_id``, for ``unit_ids`` only when given (a focal point)."""
    query = (
        sa.select(
            Respondent.source_unit_id,
            Respondent.stratum,
            Respondent.selection,
            Respondent.status,
            Respondent.replaced_status,
            Respondent.disposition,
            sa.func.count(Respondent.id),
        )
        .where(
            Respondent.campaign_id == campaign_id,
            sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True)),
        )
        .group_by(
            Respondent.source_unit_id,
            Respondent.stratum,
            Respondent.selection,
            Respondent.status,
            Respondent.replaced_status,
            Respondent.disposition,
        )
    )
    if unit_ids is not None:
        query = query.where(Respondent.source_unit_id.in_(unit_ids))
    grouped = db.session.execute(query).all()
    units = {
        u.id: u
        for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_({row[0] for row in grouped})))
    }
    cells: dict[tuple[int, str], Progress] = {}
    for unit_id, stratum, selection, status, replaced_status, disposition, n in grouped:
        unit = units[unit_id]
        cell = cells.setdefault(
            (unit_id, stratum), Progress(unit_id, unit.code, unit.name, stratum)
        )
        _count_case(cell, selection, status, replaced_status, disposition, n)
    rows = sorted(cells.values(), key=lambda p: (p.unit_code, p.stratum))
    per_unit: dict[int, Progress] = {}
    for row in rows:
        unit_total = per_unit.setdefault(
            row.unit_id, Progress(row.unit_id, row.unit_code, row.unit_name, "")
        )
        unit_total.add(row)
    unit_rows = list(per_unit.values())
    total = Progress(None, "", "", "")
    for row in rows:
        total.add(row)
    e_estimated = e is None
    if e is None:
        e = estimated_eligibility(total.classes)
    for progress in [*rows, *unit_rows, total]:
        progress.rr1 = rr1(progress.classes)
        progress.rr3 = rr3(progress.classes, e)
    return CampaignProgress(rows, unit_rows, total, e, e_estimated)


CLASS_FIELDS = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")  # AAPOR classes
CSV_HEADER = ("unit_code", "unit_name", "stratum", *COUNT_FIELDS, *CLASS_FIELDS, "rr1", "rr3")


def csv_rows(progress: CampaignProgress) -> list[list]:
    """Rows for the CSV export: every unit × stratum, then a TOTAL line."""

    def line(p: Progress, code: str, name: str, stratum: str) -> list:
        c = p.classes
        return [
            code,
            name,
            stratum,
            *(getattr(p, f) for f in COUNT_FIELDS),
            *(getattr(c, f) for f in CLASS_FIELDS),
            "" if p.rr1 is None else round(p.rr1, 4),
            "" if p.rr3 is None else round(p.rr3, 4),
        ]

    out = [line(p, p.unit_code, p.unit_name, p.stratum) for p in progress.rows]
    out.append(line(progress.total, "TOTAL", "", ""))
    return out
