"""One call from responses to indices, points and unit summary (what the CLI and app use)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scoring_bridge.errors import ScoringError
from scoring_bridge.estimators import ProgressCallback, compute_indices
from scoring_bridge.inputs import prepare_responses
from scoring_bridge.mapping import Criterion, ScoringMapping, load_mapping
from scoring_bridge.points import criterion_points, unit_summary
from scoring_bridge.raking import rake_weights
from scoring_bridge.spec import SurveySpec, load_spec, spec_from_questionnaire

INTERVAL_METHOD = "korn-graubard"


@dataclass
class ScoringResult:
    """Everything a scoring run produces; the writers in :mod:`scoring_bridge.outputs` use it.

    ``responses`` is the validated frame (all rows, walk-ins included, ``is_probability``
    telling them apart); ``indices`` the long table of :func:`compute_indices`; ``points``
    the table of :mod:`scoring_bridge.points`; ``units`` the per-unit summary, with
    response rates and the previous year's overall index when they were given.
    """

    spec: SurveySpec
    mapping: ScoringMapping
    criteria: tuple[Criterion, ...]
    responses: pd.DataFrame
    indices: pd.DataFrame
    points: pd.DataFrame
    units: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    response_rates: pd.DataFrame | None = None
    #: the variance options (selection, single, population) the microdata's design
    #: columns and replicate weights follow
    design: dict[str, Any] = field(default_factory=dict)


def score(
    responses: pd.DataFrame | str | Path,
    spec: SurveySpec | str | Any,
    mapping: ScoringMapping | str | Path | Mapping[str, Any],
    *,
    min_n: int | None = None,
    include_nonprobability: bool = False,
    unweighted: bool = False,
    stratum_population: Mapping[str, float] | None = None,
    selection: str = "srswor",
    single_respondent_strata: str | None = None,
    min_n_basis: str | None = None,
    response_rates: pd.DataFrame | None = None,
    raking_totals: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    units: list[str] | None = None,
    progress: ProgressCallback | None = None,
) -> ScoringResult:
    """Validate the responses, compute every index and the criteria's points.

    ``spec`` may also be a built-in questionnaire id or a
    :class:`questionnaires.model.Questionnaire`; ``mapping`` a path, a built-in mapping name
    or a parsed dict. ``min_n`` overrides the criteria's ``min_responses`` (and flags small
    index cells; a unit with fewer respondents in all gets no rank); ``min_n_basis``
    (``n`` or ``n_eff``) and ``single_respondent_strata`` override the mapping's
    ``min_responses_basis`` and ``single_respondent_strata``; ``selection`` is the draw's
    method (``srswor``, ``systematic``, ``pps``; see :mod:`scoring_bridge.design`).
    ``response_rates`` holds AAPOR response rates computed by the caller (the service's
    one function for them): columns ``unit``, ``group`` (empty for the unit's total over
    the questionnaire's groups), ``sampled``, ``rr1``, ``rr3`` (fractions) and optionally
    the disposition counts; units sampled there are reported even without responses, and
    a criterion whose groups were sampled but not answered is ``no_responses``.
    ``raking_totals`` (columns unit, variable, category, total) rakes the weights to
    totals the Department knows (:mod:`scoring_bridge.raking`).
    ``previous`` (columns ``unit`` and ``overall_index``) the previous year's results;
    ``units`` lists units to report even if none of their respondents answered.
    """
    if isinstance(spec, str):
        spec = load_spec(spec)
    elif not isinstance(spec, SurveySpec):
        spec = spec_from_questionnaire(spec)  # a questionnaires.model.Questionnaire
    if not isinstance(mapping, ScoringMapping):
        mapping = load_mapping(mapping, spec)
    criteria = mapping.for_questionnaire(spec.questionnaire_id)
    if not criteria:
        raise ScoringError(
            f"Ánh xạ {mapping.id} không có tiêu chí nào cho bảng hỏi {spec.questionnaire_id}.",
            f"Mapping {mapping.id} has no criteria for questionnaire {spec.questionnaire_id}.",
            key="criteria",
        )
    prepared = prepare_responses(responses, spec, unweighted=unweighted)
    if raking_totals is not None:
        prepared["weight"] = rake_weights(prepared, raking_totals)
    rates = _checked_rates(response_rates)
    index_min_n = min_n if min_n is not None else min(c.min_responses for c in criteria)
    basis = min_n_basis or mapping.min_responses_basis
    single = single_respondent_strata or mapping.single_respondent_strata
    indices = compute_indices(
        prepared,
        spec,
        formulas=[c.formula for c in criteria] + ["satisfaction_rate", "mean_score"],
        composite_formulas=["satisfaction_rate"]
        + [c.formula for c in criteria if c.source_kind != "item"],
        group_sets=[c.groups for c in criteria if c.groups],
        item_sets={c.item_set_name: c.source_codes for c in criteria if c.source_kind == "items"},
        stratum_population=stratum_population,
        min_n=index_min_n,
        min_n_basis=basis,
        selection=selection,
        single_respondent_strata=single,
        include_nonprobability=include_nonprobability,
        progress=progress,
    )
    counted = prepared if include_nonprobability else prepared[prepared.is_probability]
    present_groups = sorted(str(g) for g in counted["group"].unique())
    sampled = _sampled_pairs(rates)
    unit_list = sorted(
        {*map(str, prepared["unit"].unique()), *(units or []), *(u for u, _ in sampled or ())}
    )
    points = criterion_points(
        indices, criteria, unit_list, present_groups, min_n, basis, sampled=sampled
    )
    summary = unit_summary(
        points,
        indices,
        "+".join(present_groups),
        {c.code: c.decimals for c in criteria},
        min_n=index_min_n,
        basis=basis,
    )
    summary = _with_response_counts(summary, prepared, rates)
    summary = _with_previous(summary, previous)
    settings = {
        "questionnaire": spec.questionnaire_id,
        "mapping": mapping.id,
        "min_n": index_min_n,
        "min_n_override": min_n,
        "include_nonprobability": include_nonprobability,
        "weighted": not unweighted,
        "finite_population_correction": bool(stratum_population) and selection != "pps",
        "min_n_basis": basis,
        "raking": sorted(set(raking_totals["variable"])) if raking_totals is not None else [],
        "interval_method": INTERVAL_METHOD,
        **indices.attrs.get("design", {}),
        "responses": int(len(prepared)),
        "responses_used": int(len(counted)),
        "walk_in_excluded": 0 if include_nonprobability else int((~prepared.is_probability).sum()),
        "groups": present_groups,
        "strata": int(counted["stratum"].nunique()),
    }
    design = {
        "selection": selection,
        "single": single,
        "population": dict(stratum_population) if stratum_population else None,
    }
    return ScoringResult(
        spec, mapping, criteria, prepared, indices, points, summary, settings, rates, design
    )


RATE_COLUMNS = ("unit", "group", "sampled", "rr1", "rr3")


def _checked_rates(rates: pd.DataFrame | None) -> pd.DataFrame | None:
    if rates is None:
        return None
    missing = [c for c in RATE_COLUMNS if c not in rates.columns]
    if missing:
        raise ScoringError(
            f"Bảng tỷ lệ trả lời thiếu cột {', '.join(missing)}.",
            f"The response-rate table lacks the column(s) {', '.join(missing)}.",
            column=missing[0],
        )
    rates = rates.copy()
    rates["unit"] = rates["unit"].astype(str)
    rates["group"] = rates["group"].fillna("").astype(str)
    return rates.reset_index(drop=True)


def _sampled_pairs(rates: pd.DataFrame | None) -> set[tuple[str, str]] | None:
    if rates is None:
        return None
    rows = rates[pd.to_numeric(rates.sampled, errors="coerce") > 0]
    return set(zip(rows.unit, rows.group, strict=True))


def _with_response_counts(summary, prepared, rates):
    counts = prepared[prepared.is_probability].groupby("unit").size()
    walk_in = prepared[~prepared.is_probability].groupby("unit").size()
    summary["responses"] = summary.unit.map(counts).fillna(0).astype("int64")
    summary["walk_in"] = summary.unit.map(walk_in).fillna(0).astype("int64")
    if rates is not None:
        totals = rates[rates.group == ""].drop_duplicates("unit").set_index("unit")
        for column in ("sampled", "rr1", "rr3"):
            summary[column] = summary.unit.map(totals[column])
    return summary


def _with_previous(summary, previous):
    if previous is None:
        return summary
    if not {"unit", "overall_index"} <= set(previous.columns):
        raise ScoringError(
            "Kết quả năm trước cần các cột 'unit' và 'overall_index'.",
            "The previous year's results need the columns 'unit' and 'overall_index'.",
            column="overall_index",
        )
    rows = previous.assign(unit=previous["unit"].astype(str)).set_index("unit")
    before = rows["overall_index"]
    summary["previous_overall_index"] = summary.unit.map(pd.to_numeric(before, errors="coerce"))
    summary["change"] = summary["overall_index"] - summary["previous_overall_index"]
    # Across a reorganisation (scoring_bridge.comparison): how each figure was made.
    for column in ("previous_units", "previous_basis", "previous_note", "previous_note_en"):
        if column in rows:
            summary[column] = summary.unit.map(rows[column]).fillna("")
    if "like_for_like" in rows:
        like = rows["like_for_like"].astype(str).str.lower().isin(("true", "1"))
        summary["like_for_like"] = summary.unit.map(like).fillna(False).astype(bool)
    return summary
