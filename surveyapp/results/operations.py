"""From a campaign's database rows to the scoring library's inputs, and a scoring run.

What :func:`scoring_inputs` hands to :func:`scoring_bridge.score`, per questionnaire:

* **responses** (:func:`responses_frame`): the library's wide layout, one row per
  ``responses`` row: ``response_id`` (the random UUID), ``unit`` (rated unit's code),
  ``group``, ``stratum``, ``weight``, ``mode``, ``is_probability`` and one column per
  export variable of the questionnaire (:meth:`questionnaires.Questionnaire.variables`):
  grid items and single questions by their code, a multiple-choice question as one 0/1
  column per choice named ``<question>_<choice>`` (empty when the question was not
  answered). Only the ``responses`` and ``units`` tables are read: nothing from the
  respondents' table (names, phones, tokens) can reach a frame or an output.
  Walk-in rows have no stratum; they get ``walkin:<unit>:<group>`` so the layout stays
  valid, and the library leaves them out of the weighted figures unless asked.
* **weights**: the stored weight is the design weight ``1/π`` copied from the sampled
  respondent. It is adjusted for nonresponse within weighting classes (stratum × rated
  unit) with :func:`sampling.adjust_for_nonresponse` (Valliant, Dever & Kreuter 2013,
  §13.5.1): the cases are the released respondents' (respondent, rated unit) pairs with
  their final outcome from the fieldwork tables (completed target or respondent →
  respondent; ineligible → ineligible; everything else released, including a replaced
  case → nonrespondent; unreleased reserves → not released). All factors are constant
  within a class, so each response's weight is its design weight times its class's
  factor ``Σ eligible base weights / Σ respondents' base weights``. A class without any
  case (e.g. responses imported from another instance, whose weights are already final)
  keeps factor 1; a class with eligible cases but no respondent has no responses to
  weight and is left out (its share of the population is then not represented, as the
  run's settings record). Walk-ins have no design weight; when included they count as an
  average sampled respondent of their unit and group (:func:`with_walkin_weights`).
* **stratum population** ``N_h`` (finite population correction): the draw's manifest
  (``strata.stratum`` / ``strata.N_h`` as written by :mod:`sampling.manifest`); for a
  stratum missing there, the sum of its primary respondents' design weights (exactly
  ``N_h`` for SRSWOR, ``w = N_h / n_h``). Strata with no size at all (walk-ins, imported
  responses) get no correction (``N_h = ∞``).
* **strata rating several units** (rating targets): the responses about each rated unit
  get their own copy of the stratum, ``<stratum>#<unit>``, with the same ``N_h``
  (:func:`split_shared_strata`).
* **response rates** per rated unit × respondent group of the questionnaire: AAPOR RR1
  and RR3 from :func:`surveyapp.dashboard.figures.response_rates`, the function the
  dashboard shows; every unit sampled in those groups is reported, answered or not.
* **selection method** for the standard errors: the latest draw's manifest
  (:func:`scoring_bridge.design.selection_of_manifest`); each response's
  ``inclusion_prob`` is ``1/design weight`` (1 marks a PPS certainty unit).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import yaml

import questionnaires
from questionnaires.model import QuestionType
from sampling import adjust_for_nonresponse
from scoring_bridge import (
    ScoringMapping,
    builtin_mappings,
    load_mapping,
    score,
    spec_from_questionnaire,
    write_outputs,
)
from scoring_bridge.design import selection_of_manifest
from scoring_bridge.mapping import BUILTIN_DIRECTORY
from scoring_bridge.scrub import GENERIC, Scrubber
from surveyapp.dashboard.figures import response_rates
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.draws import Draw
from surveyapp.models.respondents import (
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
    TargetStatus,
)
from surveyapp.models.responses import Response, ResponseMode
from surveyapp.models.units import Unit
from surveyapp.responses.ballots import waiting
from surveyapp.responses.scrub import campaign_scrubber, scrub_answers, text_codes

DESIGN_COLUMNS = (
    "response_id",
    "unit",
    "group",
    "stratum",
    "weight",
    "inclusion_prob",
    "mode",
    "is_probability",
)
ScoringProgress = Callable[[int, int, str], None]


class ResultsError(Exception):
    """A campaign that cannot be scored or exported as asked, explained in vi and en."""

    def __init__(self, message_vi: str, message_en: str):
        self.message_vi, self.message_en = message_vi, message_en
        super().__init__(f"{message_vi} / {message_en}")


# --- responses → wide frame --------------------------------------------------------------------


def campaign_questionnaires(campaign_id: int) -> list[tuple[str, str]]:
    """(questionnaire id, version) pairs present in the campaign's responses, sorted."""
    rows = db.session.execute(
        sa.select(Response.questionnaire_id, Response.questionnaire_version)
        .where(Response.campaign_id == campaign_id)
        .distinct()
    ).all()
    pairs = sorted((str(q), str(v)) for q, v in rows)
    by_id = defaultdict(list)
    for questionnaire_id, version in pairs:
        by_id[questionnaire_id].append(version)
    mixed = {q: v for q, v in by_id.items() if len(v) > 1}
    if mixed:
        name, versions = next(iter(mixed.items()))
        raise ResultsError(
            f"Bảng hỏi {name} có phiếu trả lời của nhiều phiên bản ({', '.join(versions)}); "
            "không tính chung được.",
            f"Questionnaire {name} has responses from several versions ({', '.join(versions)});"
            " they cannot be scored together.",
        )
    return pairs


def load_questionnaire(questionnaire_id: str, version: str):
    try:
        return questionnaires.load_builtin(questionnaire_id, version)
    except (LookupError, questionnaires.QuestionnaireError) as exc:
        raise ResultsError(
            f"Không có bảng hỏi {questionnaire_id} phiên bản {version} trong hệ thống.",
            f"Questionnaire {questionnaire_id} version {version} is not installed here.",
        ) from exc


def answer_columns(questionnaire, answers: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Export-variable columns (see the module docstring) from stored answers dicts."""

    columns: dict[str, list[Any]] = {}
    for question in questionnaire.questions():
        if question.type is QuestionType.MULTIPLE:
            chosen = [_chosen_codes(a.get(question.code)) for a in answers]
            for choice in question.all_choices():
                columns[f"{question.code}_{choice.code}"] = [
                    None if codes is None else int(choice.code in codes) for codes in chosen
                ]
        else:
            for code in question.answer_codes():
                columns[code] = [a.get(code) for a in answers]
    return columns


def _chosen_codes(value: Any) -> set[int] | None:
    if value is None:
        return None
    values = value if isinstance(value, (list, tuple)) else [value]
    return {int(v) for v in values}


def responses_frame(
    campaign_id: int,
    questionnaire_id: str,
    version: str,
    *,
    weight_factors: dict[tuple[str, int], float] | None = None,
    scrubber: Scrubber | None = None,
) -> pd.DataFrame:
    """The wide frame of the campaign's responses to one questionnaire (module docstring).

    ``weight_factors`` maps (stratum, rated unit id) to the nonresponse factor
    (:func:`nonresponse_factors`); missing classes keep their stored weight. Free-text
    answers are scrubbed by ``scrubber`` (the campaign's names, dossier codes and
    addresses: :func:`surveyapp.responses.scrub.campaign_scrubber`), else of contact
    details and ID numbers only.
    """
    rows = db.session.execute(
        sa.select(
            Response.id,
            Unit.code,
            Response.rated_unit_id,
            Response.respondent_group,
            Response.stratum,
            Response.weight,
            Response.mode,
            Response.is_probability,
            Response.answers,
        )
        .join(Unit, Unit.id == Response.rated_unit_id)
        .where(
            Response.campaign_id == campaign_id,
            Response.questionnaire_id == questionnaire_id,
            Response.questionnaire_version == version,
        )
        .order_by(Response.id)
    ).all()
    factors = weight_factors or {}
    questionnaire = load_questionnaire(questionnaire_id, version)
    texts = text_codes(questionnaire_id, version)
    design = {name: [] for name in DESIGN_COLUMNS}
    answers = []
    for row in rows:
        mode = ResponseMode(row.mode)
        stratum = row.stratum or f"walkin:{row.code}:{row.respondent_group}"
        weight = probability = None
        if row.weight is not None:
            weight = float(row.weight) * factors.get((stratum, row.rated_unit_id), 1.0)
            probability = min(1.0 / float(row.weight), 1.0) if row.is_probability else None
        design["response_id"].append(str(row.id))
        design["unit"].append(row.code)
        design["group"].append(row.respondent_group)
        design["stratum"].append(stratum)
        design["weight"].append(weight)
        design["inclusion_prob"].append(probability)
        design["mode"].append(mode.value)
        design["is_probability"].append(bool(row.is_probability))
        answers.append(scrub_answers(row.answers or {}, texts, scrubber or GENERIC))
    frame = pd.DataFrame({**design, **answer_columns(questionnaire, answers)})
    frame["weight"] = frame["weight"].astype("float64")
    frame["inclusion_prob"] = frame["inclusion_prob"].astype("float64")
    frame["is_probability"] = frame["is_probability"].astype(bool)
    return frame


# --- fieldwork → nonresponse adjustment, N_h, sample sizes --------------------------------------


def fieldwork_cases(campaign_id: int) -> pd.DataFrame:
    """One row per released-or-not (respondent, rated unit) case with its final outcome.

    Columns: ``respondent_id``, ``stratum``, ``unit_id`` (rated), ``weight`` (design), ``selection``,
    ``outcome`` (respondent | nonrespondent | ineligible | None when not released).
    Reads statuses, strata and weights only: no personal column is selected.
    """
    respondents = db.session.execute(
        sa.select(
            Respondent.id,
            Respondent.stratum,
            Respondent.source_unit_id,
            Respondent.selection,
            Respondent.released,
            Respondent.weight,
            Respondent.status,
            Respondent.replaced_status,
        ).where(Respondent.campaign_id == campaign_id)
    ).all()
    targets = defaultdict(list)
    for respondent_id, unit_id, status in db.session.execute(
        sa.select(
            RespondentTarget.respondent_id, RespondentTarget.rated_unit_id, RespondentTarget.status
        )
        .join(Respondent, Respondent.id == RespondentTarget.respondent_id)
        .where(Respondent.campaign_id == campaign_id)
    ):
        targets[respondent_id].append((unit_id, TargetStatus(status)))
    records = []
    for r in respondents:
        selection = Selection(r.selection)
        released = selection is Selection.PRIMARY or bool(r.released)
        status = RespondentStatus(r.status)
        if status is RespondentStatus.REPLACED and r.replaced_status is not None:
            status = RespondentStatus(r.replaced_status)
        cases = targets.get(r.id) or [(r.source_unit_id, None)]
        for unit_id, target_status in cases:
            outcome = None
            if released:
                outcome = _outcome(status, target_status)
            records.append((r.id, r.stratum, unit_id, float(r.weight), selection.value, outcome))
    return pd.DataFrame(
        records, columns=["respondent_id", "stratum", "unit_id", "weight", "selection", "outcome"]
    ).astype({"weight": "float64"})


def _outcome(status: RespondentStatus, target_status: TargetStatus | None) -> str:
    if target_status is TargetStatus.COMPLETED or (
        target_status is None and status is RespondentStatus.COMPLETED
    ):
        return "respondent"
    if status is RespondentStatus.INELIGIBLE:
        return "ineligible"
    return "nonrespondent"


def nonresponse_factors(cases: pd.DataFrame) -> tuple[dict[tuple[str, int], float], list[str]]:
    """Factor per (stratum, rated unit id) turning design weights into adjusted weights.

    Returns the factors and the labels of classes left out for having no respondent.
    """

    if cases.empty:
        return {}, []
    classes = ["stratum", "unit_id"]
    has_respondent = cases.assign(r=cases.outcome.eq("respondent")).groupby(classes)["r"]
    keep = has_respondent.transform("any").to_numpy()
    dropped = cases.loc[~keep & cases.outcome.notna(), classes].drop_duplicates()
    kept = cases[keep].reset_index(drop=True)
    if kept.empty:
        return {}, [f"{s} / {u}" for s, u in dropped.itertuples(index=False)]
    adjusted = adjust_for_nonresponse(kept, "outcome", by=classes)
    responding = kept.outcome.eq("respondent").to_numpy()
    ratio = (adjusted / kept["weight"])[responding]
    factors = {
        (str(s), int(u)): float(f)
        for (s, u), f in ratio.groupby([kept.stratum[responding], kept.unit_id[responding]])
        .first()
        .items()
    }
    return factors, [f"{s} / {u}" for s, u in dropped.itertuples(index=False)]


def stratum_population(campaign_id: int, cases: pd.DataFrame) -> dict[str, float]:
    """``N_h`` per stratum label: the latest draw's manifest, else Σ primary design weights."""
    population: dict[str, float] = {}
    draw = latest_draw(campaign_id)
    if draw is not None:
        for source in (draw.manifest, draw.allocation):
            population.update(_strata_sizes(source))
            if population:
                break
    if not cases.empty:
        # A respondent rating several units has one case per unit: count it once.
        primary = cases[cases.selection == Selection.PRIMARY.value].drop_duplicates("respondent_id")
        sums = primary.groupby("stratum")["weight"].sum()
        for stratum, total in sums.items():
            population.setdefault(str(stratum), float(total))
    return population


def _strata_sizes(source: Any) -> dict[str, float]:
    """Strata sizes from a manifest (``strata`` columns) or an allocation (columns/records)."""
    if not isinstance(source, dict):
        return {}
    table = source.get("strata", source)
    if isinstance(table, dict) and isinstance(table.get("stratum"), list):
        sizes = table.get("N_h") or table.get("population") or []
        return {
            str(s): float(n) for s, n in zip(table["stratum"], sizes, strict=False) if n is not None
        }
    if isinstance(table, list):
        return {
            str(row["stratum"]): float(row.get("N_h", row.get("population")))
            for row in table
            if isinstance(row, dict) and "stratum" in row and row.get("N_h", row.get("population"))
        }
    return {}


def split_shared_strata(frame: pd.DataFrame, population: dict[str, float]) -> pd.DataFrame:
    """Give each rated unit its own copy of a stratum whose respondents rate several units.

    With rating targets every respondent of a stratum ``h`` (one source unit × group)
    answers once about each of the same rated units, so the responses about unit ``U``
    are a full sample of ``h``: the stratum of that domain is ``h#U``, with the same
    ``N_h`` (added to ``population``). Kept as ``h`` the stratum would count one person
    several times (and exceed ``N_h``). Strata that rate one unit keep their label.
    """
    units_per_stratum = frame.groupby("stratum")["unit"].nunique()
    shared = set(units_per_stratum.index[units_per_stratum > 1])
    if not shared:
        return frame
    rows = frame["stratum"].isin(shared).to_numpy()
    frame = frame.copy()
    original = frame.loc[rows, "stratum"]
    frame.loc[rows, "stratum"] = original + "#" + frame.loc[rows, "unit"]
    for old, new in set(zip(original, frame.loc[rows, "stratum"], strict=True)):
        if old in population:
            population[new] = population[old]
    return frame


# --- one scoring run ------------------------------------------------------------------------------


@dataclass
class ScoringInputs:
    """Everything read from the database for one campaign, ready for the library."""

    campaign: Campaign
    frames: dict[str, pd.DataFrame]  # questionnaire id → responses frame
    versions: dict[str, str]
    stratum_population: dict[str, float]
    unit_names: dict[str, str]
    selection: str = "srswor"
    classes_without_respondents: list[str] = field(default_factory=list)

    def groups_of(self, questionnaire_id: str) -> set[str]:
        """The respondent groups answering ``questionnaire_id`` (instruments and responses)."""
        groups = {
            i.respondent_group
            for i in self.campaign.instruments
            if i.questionnaire_id == questionnaire_id
        }
        frame = self.frames.get(questionnaire_id)
        return groups | ({str(g) for g in frame["group"].unique()} if frame is not None else set())


def scoring_inputs(campaign: Campaign) -> ScoringInputs:
    pairs = campaign_questionnaires(campaign.id)
    if not pairs:
        boxed = waiting(campaign.id)
        raise ResultsError(
            f"Đợt khảo sát {campaign.code} chưa có phiếu trả lời nào"
            + (
                f" ngoài {boxed} phiếu còn trong hòm phiếu (được trộn theo lô, hết khi kết "
                "thúc đợt, hoặc khi kết thúc nhập phiếu sau đợt)."
                if boxed
                else "."
            ),
            f"Campaign {campaign.code} has no responses yet"
            + (
                f" besides {boxed} still in the ballot box (mixed out in batches, all of them "
                "when the campaign closes, or when data entry after closing ends)."
                if boxed
                else "."
            ),
        )

    cases = fieldwork_cases(campaign.id)
    factors, dropped = nonresponse_factors(cases)
    population = stratum_population(campaign.id, cases)
    frames = {}
    scrubber = campaign_scrubber(campaign.id)
    for questionnaire_id, version in pairs:
        frame = responses_frame(
            campaign.id, questionnaire_id, version, weight_factors=factors, scrubber=scrubber
        )
        frames[questionnaire_id] = split_shared_strata(frame, population)
    draw = latest_draw(campaign.id)
    units = db.session.execute(sa.select(Unit.id, Unit.code, Unit.name)).all()
    return ScoringInputs(
        campaign=campaign,
        frames=frames,
        versions=dict(pairs),
        stratum_population=population,
        unit_names={u.code: u.name for u in units},
        selection=selection_of_manifest(draw.manifest if draw is not None else None),
        classes_without_respondents=dropped,
    )


def latest_draw(campaign_id: int) -> Draw | None:
    return db.session.scalar(
        sa.select(Draw).where(Draw.campaign_id == campaign_id).order_by(Draw.id.desc()).limit(1)
    )


def campaign_year(campaign: Campaign) -> int:
    """The year the campaign's survey is about: its period's start, else its creation."""
    day = campaign.period_start or campaign.period_end or campaign.created_at
    return day.year


@dataclass
class QuestionnaireOutcome:
    questionnaire_id: str
    directory: Path | None
    responses: int
    skipped_vi: str | None = None
    skipped_en: str | None = None


def default_mapping(campaign: Campaign | None) -> str:
    """The built-in criteria set of the campaign's year (the newest one not after it)."""
    names = builtin_mappings()
    year = None
    if campaign is not None:
        year = campaign.period_start.year if campaign.period_start else None
        if year is None and campaign.code[:4].isdigit():
            year = int(campaign.code[:4])
    if year is None:
        return names[0]
    years = {}
    for name in names:
        raw = yaml.safe_load((BUILTIN_DIRECTORY / f"{name}.yaml").read_text(encoding="utf-8"))
        years[name] = int(raw.get("year") or 0)
    fitting = [n for n in names if years[n] <= year]
    return max(fitting, key=lambda n: years[n]) if fitting else names[0]


def score_campaign(
    campaign: Campaign,
    out_dir: str | Path,
    *,
    mapping: Any,
    min_n: int | None = None,
    include_walkin: bool = False,
    previous: pd.DataFrame | None = None,
    k: int = 5,
    overwrite: bool = False,
    single_respondent_strata: str | None = None,
    min_n_basis: str | None = None,
    raking_totals: pd.DataFrame | None = None,
    progress: ScoringProgress | None = None,
) -> list[QuestionnaireOutcome]:
    """Score every questionnaire of ``campaign`` into ``out_dir/<questionnaire id>/``.

    A questionnaire for which ``mapping`` has no criteria is skipped (and reported); if no
    questionnaire can be scored a :class:`ResultsError` is raised. Library errors
    (:class:`scoring_bridge.ScoringError`) propagate with their vi/en messages.
    ``single_respondent_strata`` and ``min_n_basis`` override the mapping's choices;
    ``raking_totals`` rakes the weights to the Department's known totals.
    """

    report = progress or (lambda done, total, message: None)
    report(0, 100, "Đọc phiếu trả lời / Reading responses")
    inputs = scoring_inputs(campaign)
    out_dir = Path(out_dir)
    outcomes = []
    todo = list(inputs.frames.items())
    for position, (questionnaire_id, frame) in enumerate(todo):
        questionnaire = load_questionnaire(questionnaire_id, inputs.versions[questionnaire_id])
        spec = spec_from_questionnaire(questionnaire)
        parsed = mapping if isinstance(mapping, ScoringMapping) else load_mapping(mapping, spec)
        if not parsed.for_questionnaire(questionnaire_id):
            outcomes.append(
                QuestionnaireOutcome(
                    questionnaire_id,
                    None,
                    len(frame),
                    f"Ánh xạ {parsed.id} không có tiêu chí cho bảng hỏi {questionnaire_id}.",
                    f"Mapping {parsed.id} has no criteria for questionnaire {questionnaire_id}.",
                )
            )
            continue
        share = (position, len(todo))

        def step(stage, done, total, share=share, name=questionnaire_id):
            fraction = (share[0] + (0.5 * done / total if total else 0)) / share[1]
            report(5 + int(85 * fraction), 100, f"{name}: {stage}")

        if include_walkin:
            frame = with_walkin_weights(frame)
        rates = response_rates(campaign.id, groups=inputs.groups_of(questionnaire_id)).frame()
        result = score(
            frame,
            spec,
            parsed,
            min_n=min_n,
            include_nonprobability=include_walkin,
            stratum_population=population_for(frame, inputs.stratum_population),
            selection=inputs.selection,
            single_respondent_strata=single_respondent_strata,
            min_n_basis=min_n_basis,
            response_rates=rates,
            raking_totals=raking_totals,
            previous=_previous_for(previous, questionnaire_id),
            units=None,
            progress=step,
        )
        result.settings["campaign"] = campaign.code
        result.settings["campaign_name"] = campaign.name
        result.settings["year"] = campaign_year(campaign)
        result.settings["questionnaire_version"] = inputs.versions[questionnaire_id]
        result.settings["nonresponse_adjustment"] = "stratum x rated unit"
        result.settings["classes_without_respondents"] = len(inputs.classes_without_respondents)
        target = out_dir / questionnaire_id
        report(5 + int(85 * (position + 0.6) / len(todo)), 100, f"{questionnaire_id}: outputs")
        write_outputs(result, target, k=k, overwrite=overwrite, unit_names=inputs.unit_names)
        outcomes.append(QuestionnaireOutcome(questionnaire_id, target, len(frame)))
    if not any(o.directory for o in outcomes):
        first = outcomes[0]
        raise ResultsError(first.skipped_vi, first.skipped_en)
    report(100, 100, "Xong / Done")
    return outcomes


def with_walkin_weights(frame: pd.DataFrame) -> pd.DataFrame:
    """Walk-ins (no design weight) weighted as an average sampled respondent.

    When the Department includes walk-ins, each one counts like an average probability
    respondent of the same rated unit and group: the mean adjusted weight there, or 1
    where the unit has no probability response. The figures are then no longer purely
    design-based; the run's settings record that walk-ins were included.
    """
    missing = frame["weight"].isna() & ~frame["is_probability"]
    if not missing.any():
        return frame
    probability = frame[frame["is_probability"]]
    means = probability.groupby(["unit", "group"])["weight"].mean()
    keys = pd.MultiIndex.from_frame(frame.loc[missing, ["unit", "group"]])
    filled = frame.copy()
    filled.loc[missing, "weight"] = means.reindex(keys).fillna(1.0).to_numpy()
    return filled


def population_for(frame: pd.DataFrame, population: dict[str, float]) -> dict | None:
    """``N_h`` for every stratum of ``frame``; a stratum without one (walk-ins, responses
    imported without their sample) gets an infinite population: no correction."""
    if not population:
        return None
    return {str(s): population.get(str(s), math.inf) for s in frame["stratum"].unique()}


def _previous_for(previous: pd.DataFrame | None, questionnaire_id: str) -> pd.DataFrame | None:
    """The previous year's rows for one questionnaire (a ``questionnaire`` column is optional)."""
    if previous is None:
        return None
    if "questionnaire" in previous.columns:
        rows = previous[previous["questionnaire"].astype(str) == questionnaire_id]
        return rows if len(rows) else None
    return previous


def iter_chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
