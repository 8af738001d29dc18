"""Fieldwork progress figures and response rates (aggregates only, never personal data).

Cases counted are those fielded: every primary and every reserve once released. A case
replaced by a reserve keeps its final disposition (refusal, non-contact, ineligible),
as AAPOR asks when substitution is used. Completions count whatever the mode (web form,
interview, paper form). One eligibility rate ``e`` is estimated from the whole campaign
(more stable than per stratum; one class per sampled person) unless given.

:func:`response_rates` is *the* function for response rates per unit × respondent group:
the dashboard, the results files and the report all show its figures. A case is a
released person and a unit they rate (their own unit, or each unit of their rating
targets); its rate class is the person's (:func:`case_class`), except that a target
rated is I and a target left unrated by someone who completed the form is P (a partial
interview for that unit). Each unit × group is rated against its own sample: the cases
released in that group for that unit.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from surveyapp.dashboard.rates import DispositionCounts, estimated_eligibility, rr1, rr3
from surveyapp.extensions import db
from surveyapp.fieldwork.dispositions import rate_class
from surveyapp.models.respondents import (
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
    TargetStatus,
)
from surveyapp.models.units import Unit

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
    letter = case_class(status, replaced_status, disposition)
    progress.classes = progress.classes + DispositionCounts.from_classes([letter] * n)


def case_class(status, replaced_status, disposition) -> str:
    """AAPOR rate class of a released person from their final status and disposition."""
    final = replaced_status if status == RespondentStatus.REPLACED else status
    return rate_class(final.value if final else "", disposition)


def campaign_progress(
    campaign_id: int, unit_ids: set[int] | None = None, e: float | None = None
) -> CampaignProgress:
    """Progress of ``campaign_id`` per source unit and stratum, for ``unit_ids`` only when
    given (a focal point). RR3 uses the campaign's ``e`` (:func:`campaign_eligibility`)."""
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
        e = campaign_eligibility(campaign_id)
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


# --- response rates per unit × respondent group (the one function) ----------------------------


def _released(campaign_id: int):
    return sa.and_(
        Respondent.campaign_id == campaign_id,
        sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True)),
    )


def campaign_eligibility(campaign_id: int) -> float | None:
    """``e`` of the whole campaign: one class per released person (AAPOR's proportional
    allocation, :func:`surveyapp.dashboard.rates.estimated_eligibility`)."""
    grouped = db.session.execute(
        sa.select(
            Respondent.status,
            Respondent.replaced_status,
            Respondent.disposition,
            sa.func.count(Respondent.id),
        )
        .where(_released(campaign_id))
        .group_by(Respondent.status, Respondent.replaced_status, Respondent.disposition)
    ).all()
    classes = DispositionCounts()
    for status, replaced_status, disposition, n in grouped:
        letter = case_class(status, replaced_status, disposition)
        classes = classes + DispositionCounts.from_classes([letter] * n)
    return estimated_eligibility(classes)


@dataclass
class RateRow:
    """AAPOR counts and rates of one unit × group (``group`` empty: the unit's total)."""

    unit_id: int | None
    unit_code: str
    unit_name: str
    group: str
    classes: DispositionCounts = field(default_factory=DispositionCounts)
    rr1: float | None = None
    rr3: float | None = None

    @property
    def sampled(self) -> int:
        """Cases released (the denominator before eligibility is known), NE included."""
        c = self.classes
        return c.eligible + c.unknown + c.NE


@dataclass
class ResponseRates:
    rows: list[RateRow]  # unit × group, by unit code then group
    units: list[RateRow]  # per unit over the groups asked for
    total: RateRow
    e: float | None
    e_estimated: bool

    def frame(self):
        """The rows and unit totals as a DataFrame (the scoring library's layout)."""
        import pandas as pd

        records = []
        for row in [*self.rows, *self.units]:
            c = row.classes
            records.append(
                {
                    "unit": row.unit_code,
                    "group": row.group,
                    "sampled": row.sampled,
                    **{name: getattr(c, name) for name in CLASS_FIELDS},
                    "e": self.e,
                    "rr1": row.rr1,
                    "rr3": row.rr3,
                }
            )
        columns = ["unit", "group", "sampled", *CLASS_FIELDS, "e", "rr1", "rr3"]
        frame = pd.DataFrame(records, columns=columns)
        return frame.sort_values(["unit", "group"], kind="stable").reset_index(drop=True)


def response_rates(
    campaign_id: int,
    *,
    unit_ids: set[int] | None = None,
    groups: set[str] | None = None,
    e: float | None = None,
) -> ResponseRates:
    """AAPOR RR1 and RR3 per rated unit × respondent group (module docstring).

    ``unit_ids`` keeps the cases of those rated units (a focal point's own), ``groups`` the
    respondent groups of one questionnaire; unit totals add up the groups kept. ``e``
    defaults to the campaign's (:func:`campaign_eligibility`), the same for every filter.
    """
    people = db.session.execute(
        sa.select(
            Respondent.id,
            Respondent.source_unit_id,
            Respondent.respondent_group,
            Respondent.status,
            Respondent.replaced_status,
            Respondent.disposition,
        ).where(_released(campaign_id))
    ).all()
    targets: dict[int, list[tuple[int, TargetStatus]]] = {}
    for respondent_id, unit_id, status in db.session.execute(
        sa.select(
            RespondentTarget.respondent_id, RespondentTarget.rated_unit_id, RespondentTarget.status
        )
        .join(Respondent, Respondent.id == RespondentTarget.respondent_id)
        .where(_released(campaign_id))
    ):
        targets.setdefault(respondent_id, []).append((unit_id, TargetStatus(status)))
    tally: dict[tuple[int, str], dict[str, int]] = {}
    for person in people:
        if groups is not None and person.respondent_group not in groups:
            continue
        letter = case_class(person.status, person.replaced_status, person.disposition)
        for unit_id, target_status in targets.get(person.id) or [(person.source_unit_id, None)]:
            if unit_ids is not None and unit_id not in unit_ids:
                continue
            case = letter
            if target_status is TargetStatus.COMPLETED:
                case = "I"
            elif target_status is not None and letter == "I":
                case = "P"  # answered the form, but not about this unit
            cell = tally.setdefault((unit_id, person.respondent_group), {})
            cell[case] = cell.get(case, 0) + 1
    names = {
        u.id: (u.code, u.name)
        for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_({k[0] for k in tally})))
    }
    rows = sorted(
        (
            RateRow(unit_id, *names[unit_id], group, DispositionCounts(**counts))
            for (unit_id, group), counts in tally.items()
        ),
        key=lambda r: (r.unit_code, r.group),
    )
    per_unit: dict[int, RateRow] = {}
    total = RateRow(None, "", "", "")
    for row in rows:
        unit_total = per_unit.setdefault(
            row.unit_id, RateRow(row.unit_id, row.unit_code, row.unit_name, "")
        )
        unit_total.classes = unit_total.classes + row.classes
        total.classes = total.classes + row.classes
    e_estimated = e is None
    if e is None:
        e = campaign_eligibility(campaign_id)
    units = list(per_unit.values())
    for row in [*rows, *units, total]:
        row.rr1 = rr1(row.classes)
        row.rr3 = rr3(row.classes, e)
    return ResponseRates(rows, units, total, e, e_estimated)


RATES_CSV_HEADER = ("unit_code", "unit_name", "group", "sampled", *CLASS_FIELDS, "rr1", "rr3")


def rates_csv_rows(rates: ResponseRates) -> list[list]:
    """Every unit × group, then each unit's total (group empty), then a TOTAL line."""

    def line(row: RateRow, code: str) -> list:
        c = row.classes
        return [
            code,
            row.unit_name,
            row.group,
            row.sampled,
            *(getattr(c, f) for f in CLASS_FIELDS),
            "" if row.rr1 is None else round(row.rr1, 4),
            "" if row.rr3 is None else round(row.rr3, 4),
        ]

    by_unit = {row.unit_id: row for row in rates.units}
    out = []
    for unit_id, total in by_unit.items():
        out += [line(row, row.unit_code) for row in rates.rows if row.unit_id == unit_id]
        out.append(line(total, total.unit_code))
    out.append(line(rates.total, "TOTAL"))
    return out
