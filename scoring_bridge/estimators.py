"""Design-weighted satisfaction indices with linearised standard errors.

Every index is a ratio of weighted totals over a *domain* (unit × respondent groups):

    R̂ = Σ_i w_i y_i / Σ_i w_i v_i

where ``v_i`` is 1 when the answer is valid (on the scale; "not applicable / don't know"
and no answer leave the denominator) and ``y_i = s(answer)·v_i`` is the answer's score
under the formula: satisfaction rate ``s = 100·[answer ∈ {4, 5}]``; mean score ``s =``
position on the scale (1..m); rescaled mean ``s = 100·(position − 1)/(m − 1)``; answer
table ``s = table[answer]``. An element index is the mean of its items' indices and the
overall index the mean of the elements' (items or elements without valid answers in the
domain are left out of the mean and the cell is flagged ``partial``).

Variance: Taylor linearisation (Woodruff 1971; Wolter 2007, ch. 6; Lohr 2019, §4.1 and
§9.1 for the ratio estimator). For a ratio the linearised variable is
``z_i = (y_i − R̂ v_i) / X̂`` with ``X̂ = Σ w v``; for a mean of K ratios it is
``z_i = (1/K) Σ_k (y_ik − R̂_k v_ik) / X̂_k``, which carries the covariances between
items. With variance strata g (:mod:`scoring_bridge.design`: sampling strata, certainty
units of a PPS draw apart, single-respondent strata collapsed or adjusted) holding n_g
respondents

    v(R̂) = Σ_g a_g · (Σ_{i∈g} u_i² − c_g (Σ_{i∈g} u_i)² / n_g),   u_i = w_i z_i,

with ``a_g = (1 − f_g) n_g/(n_g − 1)`` and ``c_g = 1`` in the ordinary case
(``f_g = n_g / N_g`` when stratum sizes are given: finite population correction,
Cochran 1977, §5A.2). Domains are handled by setting ``u_i = 0`` outside the domain while
keeping n_g as the whole stratum (Cochran 1977, §5A.14; Lohr 2019, §4.3), so strata need
not nest in units. Degrees of freedom of a cell: its respondents (valid answers, for an
item) minus the variance strata they fall in, as R's ``degf`` of the domain.

Design effect of a cell: ``deff = v(R̂) / v_srs`` where v_srs is the variance of the
same estimate from a simple random sample of the same size n drawn from the domain:
``v_srs = Ŵ · Σ w z² / (n − 1)`` (Ŵ the domain's weight total; for an item this is the
weighted element variance of the valid answers over n), times ``(1 − n/Ŵ)`` when the
finite population correction is in use (R's ``svymean(deff = TRUE)``; without it R's
``deff = "replace"``). Kish's effective sample size ``n_eff = (Σw)²/Σw²`` of the valid
answers shows the loss from unequal weights alone. The n of an element, item set or overall
index counts the respondents who gave a valid answer to at least one of its items, and its
n_eff is Kish's over the same respondents: items asked only of some respondents (online
services, postal delivery) are each estimated on their own base and do not shrink the
composite's n to that of its rarest item. The minimum-responses rule uses n or n_eff
(``min_n_basis``); a cell whose basis is below half the minimum is flagged
``unreliable``. 95% intervals: Korn–Graubard (:mod:`scoring_bridge.intervals`).

Speed: everything per row is numpy ``bincount``/``take`` over a combined code
``atom × B + answer`` where an *atom* is a (unit, group, stratum) combination. Per atom
and answer code we count rows and sum w and w² once; every item-level figure for every
formula and domain then comes from these small tables (sufficient statistics). Element
and overall indices need one more pass per row: the linearised value of each answer is
looked up from a small table and summed across the element's items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring_bridge.design import DEFAULT_SINGLE, VarianceStrata, check_method, variance_strata
from scoring_bridge.errors import ResponsesError, ScoringError
from scoring_bridge.intervals import korn_graubard
from scoring_bridge.spec import ScaleItem, SurveySpec

#: A cell whose base (n or n_eff) is below this share of the minimum is "unreliable".
UNRELIABLE_SHARE = 0.5
MIN_N_BASES = ("n", "n_eff")
#: Relative size below which a difference of sums of squares is rounding noise.
_ROUNDING = 1e-10
_SE_FLOOR = 1e-9  # standard errors below this share of the scale's span are rounding
ProgressCallback = Callable[[str, int, int], None]

INDEX_COLUMNS = (
    "unit",
    "groups",
    "level",
    "element",
    "code",
    "formula",
    "n",
    "n_eff",
    "n_respondents",
    "estimate",
    "se",
    "deff",
    "df",
    "ci_low",
    "ci_high",
    "estimate_unweighted",
    "flags",
)
#: Cell flags, in the order they are written (';'-joined in the ``flags`` column).
FLAGS = (
    "no_data",
    "below_min_n",
    "unreliable",
    "partial",
    "single_respondent_stratum",
    "no_variation",
)


@dataclass(frozen=True)
class Formula:
    """How an answer becomes a number; see the module docstring.

    ``kind`` is ``satisfaction_rate`` (default), ``mean_score``, ``rescaled_mean`` or
    ``answer_table`` (``table`` maps each scale code to a value, e.g. {5: 100, 4: 75}).
    """

    kind: str = "satisfaction_rate"
    table: tuple[tuple[int, float], ...] = ()

    KINDS = ("satisfaction_rate", "mean_score", "rescaled_mean", "answer_table")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ScoringError(
                f"Công thức '{self.kind}' không tồn tại; dùng một trong {', '.join(self.KINDS)}.",
                f"Unknown formula '{self.kind}'; use one of {', '.join(self.KINDS)}.",
                key="formula",
                value=self.kind,
            )

    @classmethod
    def parse(cls, value: Formula | str) -> Formula:
        return value if isinstance(value, Formula) else cls(value)

    @property
    def name(self) -> str:
        if self.kind != "answer_table":
            return self.kind
        pairs = ",".join(f"{code}={value:g}" for code, value in sorted(self.table, reverse=True))
        return f"answer_table[{pairs}]"

    def scores(self, item: ScaleItem) -> dict[int, float]:
        """The score of each valid answer code of ``item``."""
        scale = item.scale
        if self.kind == "satisfaction_rate":
            satisfied = set(item.satisfied_codes())
            return {code: 100.0 * (code in satisfied) for code in scale}
        if self.kind == "mean_score":
            return {code: float(position) for position, code in enumerate(scale, start=1)}
        if self.kind == "rescaled_mean":
            top = max(len(scale) - 1, 1)
            return {code: 100.0 * position / top for position, code in enumerate(scale)}
        table = dict(self.table)
        return {code: float(table[code]) for code in scale}

    def bounds(self, item: ScaleItem) -> tuple[float, float]:
        values = self.scores(item).values()
        return min(values), max(values)


@dataclass(frozen=True)
class _Design:
    """Row-to-atom coding of the responses that enter the estimates.

    An atom is a (unit, group, variance stratum) combination; ``strata`` are the variance
    strata of :func:`scoring_bridge.design.variance_strata`.
    """

    rows: np.ndarray | None  # which rows of the responses enter (None: all)
    atom: np.ndarray  # per row: atom id (intp)
    weight: np.ndarray  # per row
    atom_unit: np.ndarray
    atom_group: np.ndarray
    atom_stratum: np.ndarray
    units: np.ndarray
    groups: np.ndarray
    strata: np.ndarray
    atom_count: np.ndarray  # rows per atom
    atom_weight: np.ndarray | None  # the common weight of each atom, when weights are constant
    atom_wsum: np.ndarray  # Σw per atom
    stratum_factor: np.ndarray  # a_g (see the module docstring)
    stratum_centre: np.ndarray  # c_g
    stratum_n: np.ndarray
    stratum_single: np.ndarray  # holds a single-respondent sampling stratum
    fpc: bool  # a finite population correction is in use (design effects against SRSWOR)
    variance: VarianceStrata


@dataclass(frozen=True)
class _CellRules:
    """How cells are judged: the minimum, its basis (n or n_eff) and the interval level."""

    min_n: int
    basis: str = "n"


def compute_indices(
    responses: pd.DataFrame,
    spec: SurveySpec,
    *,
    formulas: Sequence[Formula | str] = ("satisfaction_rate", "mean_score"),
    composite_formulas: Sequence[Formula | str] = ("satisfaction_rate",),
    group_sets: Sequence[Sequence[str]] | None = None,
    item_sets: Mapping[str, Sequence[str]] | None = None,
    stratum_population: Mapping[str, float] | None = None,
    min_n: int = 30,
    min_n_basis: str = "n",
    selection: str = "srswor",
    single_respondent_strata: str = DEFAULT_SINGLE,
    include_nonprobability: bool = False,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """All indices per unit × respondent groups × element × item, with SEs and 95% CIs.

    ``responses`` is the frame of :func:`scoring_bridge.inputs.prepare_responses`.
    ``formulas`` are computed for every item; ``composite_formulas`` also for elements and
    the overall index. Domains: every single respondent group, all groups pooled, and each
    extra set in ``group_sets`` (a criterion's respondents). ``item_sets`` names extra
    lists of items whose mean is wanted (level ``item_set``, e.g. a criterion built from a
    few items); they do not enter the overall index. ``stratum_population`` maps
    stratum → population size N_h for the finite population correction. ``selection``
    (``srswor``, ``systematic``, ``pps``: the draw's method) and
    ``single_respondent_strata`` (``collapse``, ``adjust``, ``certainty``, ``refuse``)
    choose the variance strata (:mod:`scoring_bridge.design`). Cells whose base (``n``,
    or Kish's ``n_eff`` with ``min_n_basis="n_eff"``) is below ``min_n`` are flagged
    ``below_min_n``, and ``unreliable`` below half of it. Walk-in (non-probability) rows
    are left out unless ``include_nonprobability``.

    Returns a long DataFrame with :data:`INDEX_COLUMNS`; ``level`` is ``item``,
    ``element``, ``item_set`` or ``overall``; ``groups`` the '+'-joined sorted group
    codes; ``flags`` holds the :data:`FLAGS` that apply (';'-joined). ``attrs["design"]``
    describes the variance strata (collapsed and adjusted strata, certainty units).
    """
    report = progress or (lambda stage, done, total: None)
    rules = _CellRules(min_n, check_method(min_n_basis, MIN_N_BASES, "min_n_basis"))
    formulas = _unique_formulas([*formulas, *composite_formulas])
    composite = _unique_formulas(composite_formulas)
    design = _design(
        responses,
        include_nonprobability,
        stratum_population,
        selection,
        single_respondent_strata,
    )
    families = _families(design.groups, group_sets)
    codes = [_answer_codes(responses, item, design) for item in spec.items]
    bins = _bins(spec)

    report("counts", 0, len(spec.items))
    counts, wsum, w2sum = _sufficient_statistics(design, codes, bins, report)

    tables = []
    groups = _composite_groups(spec, item_sets)
    combos = []
    for family in families:
        domain_of_atom, domain_unit, domain_label = _domains(design, family)
        for formula in formulas:
            items = _item_estimates(
                design, spec, formula, bins, counts, wsum, w2sum, domain_of_atom
            )
            tables.append(
                _item_frame(spec, formula, items, design, domain_unit, domain_label, rules)
            )
            if formula in composite and groups:
                combos.append(
                    _Composite(
                        spec, groups, formula, items, domain_of_atom, domain_unit, domain_label
                    )
                )
    if groups:
        sums = _linearised_sums(design, spec, groups, bins, codes, combos, report)
        for combo, combo_sums in zip(combos, sums, strict=True):
            tables.append(_composite_frames(design, spec, groups, combo, *combo_sums, rules))
    result = pd.concat(tables, ignore_index=True).loc[:, list(INDEX_COLUMNS)]
    result.attrs["design"] = _design_summary(design, selection, single_respondent_strata)
    return result


def _design_summary(design: _Design, selection: str, single: str) -> dict:
    strata = design.variance
    return {
        "selection": check_method(selection, ("srswor", "systematic", "pps"), "selection"),
        "single_respondent_strata": single,
        "single_respondent_strata_list": list(strata.single_strata),
        "collapsed_strata": dict(strata.collapsed),
        "adjusted_strata": list(strata.adjusted),
        "certainty_respondents": strata.certainty_rows,
        "variance_strata": int(len(design.strata)),
    }


def _composite_groups(spec: SurveySpec, item_sets) -> list[_Group]:
    groups = [_Group("element", e.code, e.items) for e in spec.elements if e.items]
    for name, codes in (item_sets or {}).items():
        unknown = [c for c in codes if c not in spec.item_codes]
        if unknown or not codes:
            raise ScoringError(
                f"Nhóm mục '{name}' có mục không phải thang đo: {unknown}.",
                f"Item set '{name}' lists items that are not scale items: {unknown}.",
                key=name,
                value=unknown,
            )
        groups.append(_Group("item_set", name, tuple(codes)))
    return groups


def _unique_formulas(values: Sequence[Formula | str]) -> list[Formula]:
    seen: dict[str, Formula] = {}
    for value in values:
        formula = Formula.parse(value)
        seen.setdefault(formula.name, formula)
    return list(seen.values())


def _bins(spec: SurveySpec) -> int:
    """Bins per atom: a power of two above the largest answer code (codes index bins)."""
    largest = max(max(item.allowed_codes()) for item in spec.items)
    return 1 << int(largest).bit_length()


def _codes_of(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        used = np.flatnonzero(np.bincount(codes, minlength=len(column.cat.categories)))
        remap = np.full(len(column.cat.categories), -1, dtype=np.intp)
        remap[used] = np.arange(used.size)
        return remap[codes], column.cat.categories.to_numpy()[used]
    codes, labels = pd.factorize(column, sort=True)
    return codes.astype(np.intp), np.asarray(labels)


def _design(
    responses: pd.DataFrame,
    include_nonprobability: bool,
    stratum_population: Mapping[str, float] | None,
    selection: str,
    single: str,
) -> _Design:
    frame, rows = responses, None
    if not include_nonprobability and "is_probability" in frame:
        keep = frame["is_probability"].to_numpy(dtype=bool)
        if not keep.all():
            frame, rows = frame.loc[keep], keep
    if len(frame) == 0:
        raise ResponsesError(
            "Không có phiếu trả lời nào (theo mẫu xác suất) để tính chỉ số.",
            "No (probability-sample) responses to score.",
        )
    weight = frame["weight"].to_numpy(dtype=np.float64)
    if np.isnan(weight).any():
        position = int(np.flatnonzero(np.isnan(weight))[0])
        raise ResponsesError(
            f"Dòng {position + 2}: thiếu trọng số (phiếu ngoài mẫu cũng cần trọng số khi được tính).",
            f"Row {position + 2}: weight missing (walk-in rows need weights when included).",
            row=position + 2,
            column="weight",
        )
    strata_of = variance_strata(
        frame, selection=selection, single=single, population=stratum_population
    )
    unit, units = _codes_of(frame["unit"])
    group, groups = _codes_of(frame["group"])
    stratum, strata = strata_of.codes, strata_of.labels
    combined = (unit * len(groups) + group) * len(strata) + stratum
    span = len(units) * len(groups) * len(strata)
    if span <= 50_000_000:
        present = np.bincount(combined, minlength=span) > 0
        compact = np.cumsum(present) - 1
        atom = compact[combined]
        atom_keys = np.flatnonzero(present)
    else:
        atom_keys, atom = np.unique(combined, return_inverse=True)
    atom = atom.astype(np.intp)
    atom_unit = atom_keys // (len(groups) * len(strata))
    atom_group = (atom_keys // len(strata)) % len(groups)
    atom_stratum = atom_keys % len(strata)
    atom_count = np.bincount(atom, minlength=atom_keys.size).astype(np.float64)
    atom_wsum = np.bincount(atom, weights=weight, minlength=atom_keys.size)
    mean_weight = atom_wsum / atom_count
    constant = np.allclose(np.take(mean_weight, atom), weight, rtol=1e-12, atol=0.0)
    return _Design(
        rows=rows,
        atom=atom,
        weight=weight,
        atom_unit=atom_unit,
        atom_group=atom_group,
        atom_stratum=atom_stratum,
        units=units,
        groups=groups,
        strata=strata,
        atom_count=atom_count,
        atom_weight=mean_weight if constant else None,
        atom_wsum=atom_wsum,
        stratum_factor=strata_of.factor,
        stratum_centre=strata_of.centre,
        stratum_n=strata_of.n,
        stratum_single=strata_of.single,
        fpc=bool(stratum_population) and selection != "pps",
        variance=strata_of,
    )


def _families(
    groups: np.ndarray, group_sets: Sequence[Sequence[str]] | None
) -> list[list[list[int]]]:
    """Partitions of the group codes into domains: singletons, all pooled, extra sets."""
    index = {str(g): i for i, g in enumerate(groups)}
    families: list[list[list[int]]] = [[[i] for i in range(len(groups))]]
    wanted = [sorted(index)] if len(groups) > 1 else []
    for group_set in group_sets or ():
        codes = sorted({str(g) for g in group_set if str(g) in index})
        if len(codes) > 1 and codes not in wanted:
            wanted.append(codes)
    families.extend([[index[g] for g in codes]] for codes in wanted)
    return families


def _domains(design: _Design, family: list[list[int]]):
    """Domain id per atom (−1 when its group is not in the family), unit and label per domain."""
    group_to_set = np.full(len(design.groups), -1, dtype=np.intp)
    for position, members in enumerate(family):
        group_to_set[members] = position
    atom_set = group_to_set[design.atom_group]
    key = np.where(atom_set >= 0, design.atom_unit * len(family) + atom_set, -1)
    used, domain_of_atom = np.unique(key, return_inverse=True)
    domain_of_atom = domain_of_atom.astype(np.intp)
    if used[0] == -1:
        domain_of_atom -= 1
        used = used[1:]
    labels = ["+".join(sorted(str(design.groups[g]) for g in members)) for members in family]
    domain_unit = used // len(family)
    domain_label = np.array([labels[s] for s in used % len(family)], dtype=object)
    return domain_of_atom, domain_unit, domain_label


def _answer_codes(responses: pd.DataFrame, item: ScaleItem, design: _Design) -> np.ndarray:
    codes = responses[item.code].to_numpy(dtype=np.int8)
    return codes if design.rows is None else codes[design.rows]


def _sufficient_statistics(design: _Design, codes, bins: int, report: ProgressCallback):
    """Per atom × item × answer code: row counts and sums of w and w² (shape A × K × B).

    Items go through ``bincount`` two at a time on the joint code (atom, answer₁,
    answer₂), A·B² bins that still fit in cache; the two items' tables are the margins.
    That halves the passes over the rows.
    """
    natoms = design.atom_count.size
    shape = (natoms, len(codes), bins)
    counts = np.empty(shape)
    weighted = design.atom_weight is None
    wsum = np.empty(shape) if weighted else None
    w2sum = np.empty(shape) if weighted else None
    w2 = design.weight * design.weight if weighted else None
    paired = natoms * bins * bins <= 1 << 17  # joint table ≤ 1 MiB of float64
    width = bins * bins if paired else bins
    offset = design.atom * width
    index = np.empty_like(offset)
    step = 2 if paired else 1
    for first in range(0, len(codes), step):
        ks = list(range(first, min(first + step, len(codes))))
        if len(ks) == 2:
            np.multiply(codes[ks[0]], bins, out=index, dtype=np.intp, casting="unsafe")
            index += codes[ks[1]]
            index += offset
        else:
            np.multiply(
                codes[ks[0]], bins if paired else 1, out=index, dtype=np.intp, casting="unsafe"
            )
            index += offset

        def margins(table, ks=ks):
            joint = table.reshape(natoms, bins, bins) if paired else table.reshape(natoms, 1, bins)
            if len(ks) == 2:
                return [joint.sum(axis=2), joint.sum(axis=1)]
            return [joint.sum(axis=1 if not paired else 2)]

        tables = [(counts, None)] + ([(wsum, design.weight), (w2sum, w2)] if weighted else [])
        for target, weights in tables:
            total = np.bincount(index, weights, natoms * width)
            for k, margin in zip(ks, margins(total), strict=True):
                target[:, k, :] = margin
        report("counts", ks[-1] + 1, len(codes))
    if not weighted:
        # Weights are constant within every atom, so the weighted sums follow exactly.
        wsum = counts * design.atom_weight[:, None, None]
        w2sum = counts * (design.atom_weight**2)[:, None, None]
    return counts, wsum, w2sum


def _score_tables(spec: SurveySpec, formula: Formula, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Score s and validity v of every answer code, per item (K × B)."""
    scores = np.zeros((len(spec.items), bins))
    valid = np.zeros((len(spec.items), bins))
    for k, item in enumerate(spec.items):
        for code, value in formula.scores(item).items():
            scores[k, code] = value
            valid[k, code] = 1.0
    return scores, valid


@dataclass
class _ItemEstimates:
    ratio: np.ndarray  # D × K
    total_x: np.ndarray  # D × K  (Σ w v)
    variance: np.ndarray  # D × K
    srs_variance: np.ndarray  # D × K: the same n by simple random sampling
    n_valid: np.ndarray  # D × K
    kish: np.ndarray  # D × K: (Σ w v)² / Σ w² v
    df: np.ndarray  # D × K
    unweighted: np.ndarray  # D × K
    respondents: np.ndarray  # D
    single: np.ndarray  # D: a single-respondent stratum contributes
    scores: np.ndarray  # K × B
    valid: np.ndarray  # K × B


def _sum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum the rows of a small per-atom table into ``size`` groups (index −1: dropped).

    Sort-and-``reduceat`` over atoms (hundreds of rows), never over responses.
    """
    out = np.zeros((size, *values.shape[1:]))
    keep = np.flatnonzero(index >= 0)
    if keep.size == 0:
        return out
    order = keep[np.argsort(index[keep], kind="stable")]
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
    out[sorted_index[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


def _item_estimates(design, spec, formula, bins, counts, wsum, w2sum, domain_of_atom):
    scores, valid = _score_tables(spec, formula, bins)
    ndomains = int(domain_of_atom.max()) + 1 if domain_of_atom.size else 0
    y_atom = np.einsum("akb,kb->ak", wsum, scores)
    x_atom = np.einsum("akb,kb->ak", wsum, valid)
    q_yy = np.einsum("akb,kb->ak", w2sum, scores * scores)
    q_yv = np.einsum("akb,kb->ak", w2sum, scores * valid)
    q_vv = np.einsum("akb,kb->ak", w2sum, valid)
    y_dom = _sum_by(domain_of_atom, y_atom, ndomains)
    x_dom = _sum_by(domain_of_atom, x_atom, ndomains)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = y_dom / x_dom
    inside = domain_of_atom >= 0
    d = np.where(inside, domain_of_atom, 0)
    r_atom = np.nan_to_num(ratio[d])
    x_of = np.where(x_dom[d] > 0, x_dom[d], np.inf)
    # Sums over the atom of u = w·z and u², with z = (y − R v)/X (see module docstring).
    s1 = np.where(inside[:, None], (y_atom - r_atom * x_atom) / x_of, 0.0)
    expanded = q_yy - 2 * r_atom * q_yv + r_atom**2 * q_vv
    # The expansion cancels when every answer equals the ratio (e.g. all satisfied):
    # treat what is left at rounding level as the exact zero it is.
    expanded = np.where(expanded <= _ROUNDING * (q_yy + r_atom**2 * q_vv), 0.0, expanded)
    s2 = np.where(inside[:, None], expanded / x_of**2, 0.0)
    variance = _stratified_variance(design, domain_of_atom, s1, s2, ndomains)
    valid_atom = np.einsum("akb,kb->ak", counts, valid)
    n_valid = _sum_by(domain_of_atom, valid_atom, ndomains)
    y_unw = _sum_by(domain_of_atom, np.einsum("akb,kb->ak", counts, scores), ndomains)
    with np.errstate(divide="ignore", invalid="ignore"):
        unweighted = y_unw / n_valid
        # Σ_valid w (y − R)² = Σ w y² − R Σ w y: the weighted spread of the valid answers.
        wyy = _sum_by(domain_of_atom, np.einsum("akb,kb->ak", wsum, scores * scores), ndomains)
        spread = wyy - ratio * y_dom
        spread = np.where(spread <= _ROUNDING * wyy, 0.0, spread)
        srs = spread / (x_dom * (n_valid - 1))
        if design.fpc:
            srs = srs * np.clip(1.0 - n_valid / x_dom, 0.0, 1.0)
        kish = x_dom**2 / _sum_by(domain_of_atom, q_vv, ndomains)
    strata = _strata_in_domains(design, domain_of_atom, valid_atom, ndomains)
    respondents = _sum_by(domain_of_atom, design.atom_count, ndomains)
    return _ItemEstimates(
        ratio=ratio,
        total_x=x_dom,
        variance=variance,
        srs_variance=srs,
        n_valid=n_valid,
        kish=kish,
        df=n_valid - strata,
        unweighted=unweighted,
        respondents=respondents,
        single=_single_in_domains(design, domain_of_atom, ndomains),
        scores=scores,
        valid=valid,
    )


def _strata_in_domains(design, domain_of_atom, atom_values, ndomains):
    """Per domain (× column): the number of variance strata where ``atom_values`` > 0."""
    inside = domain_of_atom >= 0
    cell_key = np.where(inside, domain_of_atom * len(design.strata) + design.atom_stratum, -1)
    cells, cell_of_atom = np.unique(cell_key, return_inverse=True)
    cell_of_atom = np.where(inside, cell_of_atom - (cells[0] == -1), -1)
    cells = cells[cells >= 0]
    present = _sum_by(cell_of_atom, atom_values, cells.size) > 0
    return _sum_by(cells // len(design.strata), present.astype(float), ndomains)


def _single_in_domains(design, domain_of_atom, ndomains):
    marked = design.stratum_single[design.atom_stratum].astype(float)
    return _sum_by(domain_of_atom, marked, ndomains) > 0


def _stratified_variance(design, domain_of_atom, s1, s2, ndomains):
    """Σ_g a_g · (Σ u² − c_g (Σ u)²/n_g) over the (domain, stratum) cells of the atoms."""
    inside = domain_of_atom >= 0
    cell_key = domain_of_atom * len(design.strata) + design.atom_stratum
    cells, cell_of_atom = np.unique(np.where(inside, cell_key, -1), return_inverse=True)
    cell_of_atom = np.where(inside, cell_of_atom - (cells[0] == -1), -1)
    cells = cells[cells >= 0]
    sum_u = _sum_by(cell_of_atom, s1, cells.size)
    sum_u2 = _sum_by(cell_of_atom, s2, cells.size)
    stratum = cells % len(design.strata)
    n_h = design.stratum_n[stratum]
    shape = (-1,) + (1,) * (s1.ndim - 1)
    centre = design.stratum_centre[stratum].reshape(shape)
    spread = sum_u2 - centre * sum_u**2 / n_h.reshape(shape)
    spread = np.where(spread <= _ROUNDING * sum_u2, 0.0, spread)  # cancellation noise
    contribution = design.stratum_factor[stratum].reshape(shape) * spread
    return np.maximum(_sum_by(cells // len(design.strata), contribution, ndomains), 0.0)


def _standard_error(variance, low, high):
    """√variance, with values below 1e-9 of the scale's span set to exactly 0.

    A domain whose answers are all alike (everyone satisfied) has a variance of zero; in
    floating point its linearised values are only zero up to rounding, and that noise
    must not depend on how the weights happen to be scaled or the rows ordered.
    """
    se = np.sqrt(variance)
    span = np.broadcast_to(np.asarray(high, dtype=float) - np.asarray(low, dtype=float), se.shape)
    return np.where(se < _SE_FLOOR * span, 0.0, se)


def _item_frame(spec, formula, est: _ItemEstimates, design, domain_unit, domain_label, rules):
    ndomains, nitems = est.ratio.shape
    lows, highs = zip(*(formula.bounds(item) for item in spec.items), strict=True)
    n = est.n_valid
    cells = _cell_columns(
        estimate=est.ratio,
        variance=est.variance,
        srs_variance=est.srs_variance,
        low=np.array(lows),
        high=np.array(highs),
        n=n,
        n_interval=n,
        df=est.df,
        kish=est.kish,
        single=np.repeat(est.single[:, None], nitems, axis=1),
        partial=np.zeros(n.shape, dtype=bool),
        no_data=n == 0,
        rules=rules,
    )
    frame = pd.DataFrame(
        {
            "unit": np.repeat(design.units[domain_unit].astype(str), nitems),
            "groups": np.repeat(domain_label, nitems),
            "level": "item",
            "element": np.tile([item.element or "" for item in spec.items], ndomains),
            "code": np.tile(list(spec.item_codes), ndomains),
            "formula": formula.name,
            "n": n.ravel().astype(np.int64),
            "n_respondents": np.repeat(est.respondents, nitems).astype(np.int64),
            "estimate": est.ratio.ravel(),
            "estimate_unweighted": est.unweighted.ravel(),
            **{name: values.ravel() for name, values in cells.items()},
        }
    )
    return frame


def _cell_columns(
    *,
    estimate,
    variance,
    srs_variance,
    low,
    high,
    n,
    n_interval,
    df,
    kish,
    single,
    partial,
    no_data,
    rules: _CellRules,
) -> dict[str, np.ndarray]:
    """SE, design effect, df, Korn–Graubard interval, n_eff and flags of a block of cells."""
    se = _standard_error(variance, low, high)
    variance = np.where(se == 0, 0.0, variance)
    ci_low, ci_high, _ = korn_graubard(estimate, variance, low, high, n_interval, df, kish)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(srs_variance > 0, variance / srs_variance, np.nan)
    basis = n if rules.basis == "n" else np.nan_to_num(kish)
    has = ~no_data
    flags = _join_flags(
        [
            no_data,
            has & (basis < rules.min_n),
            has & (basis < UNRELIABLE_SHARE * rules.min_n),
            has & partial,
            has & single,
            has & (n > 0) & (se == 0),
        ]
    )
    return {
        "n_eff": np.where(no_data, np.nan, kish),
        "se": np.where(no_data, np.nan, se),
        "deff": np.where(no_data, np.nan, deff),
        "df": np.where(no_data, 0, np.maximum(df, 0)).astype(np.int64),
        "ci_low": ci_low,
        "ci_high": ci_high,
        "flags": flags,
    }


def _join_flags(masks: list[np.ndarray]) -> np.ndarray:
    """';'-joined names of :data:`FLAGS` whose mask is set, per cell."""
    shape = np.broadcast_shapes(*(m.shape for m in masks))
    out = np.full(shape, "", dtype=object)
    for name, mask in zip(FLAGS, masks, strict=True):
        mask = np.broadcast_to(mask, shape)
        out = np.where(mask, np.where(out == "", name, out + ";" + name), out)
    return out


@dataclass(frozen=True)
class _Group:
    """An element (enters the overall index) or an extra item set (a criterion's items)."""

    level: str  # "element" or "item_set"
    code: str
    items: tuple[str, ...]


class _Composite:
    """Element, item-set and overall indices of one formula over one family of domains.

    An element index is the mean of the ratios of its items with data in the domain, the
    overall index the mean of the elements with data; the linearised value of a response
    is the same mean of the items' linearised values (module docstring).
    """

    def __init__(self, spec, groups, formula, est: _ItemEstimates, domain_of_atom, unit, label):
        self.formula = formula
        self.est = est
        self.domain_of_atom = domain_of_atom
        self.domain_unit = unit
        self.domain_label = label
        position = {code: k for k, code in enumerate(spec.item_codes)}
        self.members = [[position[c] for c in g.items] for g in groups]
        self.is_element = np.array([g.level == "element" for g in groups], dtype=bool)
        self.has_data = est.total_x > 0  # D × K
        self.ratio = np.where(self.has_data, est.ratio, 0.0)
        self.items_with_data = np.stack(
            [self.has_data[:, m].sum(axis=1) for m in self.members], axis=1
        )  # D × G
        with np.errstate(divide="ignore", invalid="ignore"):
            self.group_estimate = np.stack(
                [self.ratio[:, m].sum(axis=1) for m in self.members], axis=1
            ) / np.where(self.items_with_data > 0, self.items_with_data, np.nan)
        self.group_has = self.items_with_data > 0
        element_has = self.group_has[:, self.is_element]
        self.elements_with_data = element_has.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.overall_estimate = np.where(
                element_has, self.group_estimate[:, self.is_element], 0.0
            ).sum(axis=1) / np.where(self.elements_with_data > 0, self.elements_with_data, np.nan)
            self.overall_share = np.where(
                self.elements_with_data > 0, 1.0 / self.elements_with_data, 0.0
            )
        self.inside = domain_of_atom >= 0
        self.domain = np.where(self.inside, domain_of_atom, 0)

    def answer_table(self, g: int, k: int) -> np.ndarray:
        """Linearised contribution of each (atom, answer code) to group g's z (flat A·B).

        z gets (s(answer) − R̂_k v(answer)) / (K_g(d) · X̂_k) for items with data.
        """
        d = self.domain
        usable = self.inside & self.has_data[d, k]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(
                usable, 1.0 / (self.items_with_data[d, g] * self.est.total_x[d, k]), 0.0
            )
        ratio = self.ratio[d, k]
        return (factor[:, None] * (self.est.scores[k] - ratio[:, None] * self.est.valid[k])).ravel()

    def overall_factor_of_atom(self) -> np.ndarray:
        return np.where(self.inside, self.overall_share[self.domain], 0.0)


def _linearised_sums(design, spec, groups, bins, codes, combos, report):
    """One pass over the rows: per combination, group and overall sums of u and u² per atom.

    ``u = w·z`` where z is looked up per (atom, answer) and summed over a group's items.
    Groups are processed one at a time so that only two row-length arrays per
    combination are alive. Returns, per combination, a list of (Σu, Σu², Σw·z²) per group and
    the (Σu, Σu², Σw·z²) of the overall index (the mean of the elements).
    """
    nrows, natoms = design.atom.size, design.atom_count.size
    position = {code: k for k, code in enumerate(spec.item_codes)}
    offset = design.atom * bins
    index = np.empty_like(offset)
    group_z = np.empty((len(combos), nrows))
    overall_z = np.zeros((len(combos), nrows))

    def atom_sums(values):
        """Per atom: Σu, Σu² and Σw·z² (the last for the design effect)."""
        if design.atom_weight is not None:  # weights constant within atoms: factor them out
            s1 = np.bincount(design.atom, values, natoms) * design.atom_weight
            zz = np.bincount(design.atom, values * values, natoms)
            return s1, zz * design.atom_weight**2, zz * design.atom_weight
        u = values * design.weight
        return (
            np.bincount(design.atom, u, natoms),
            np.bincount(design.atom, u * u, natoms),
            np.bincount(design.atom, u * values, natoms),
        )

    def atom_base(answered):
        """Per atom: respondents with a valid answer, and their Σw and Σw² (n and n_eff)."""
        w = answered * design.weight
        return (
            np.bincount(design.atom, answered, natoms),
            np.bincount(design.atom, w, natoms),
            np.bincount(design.atom, w * design.weight, natoms),
        )

    group_sums: list[list] = [[] for _ in combos]
    group_bases: list[list] = [[] for _ in combos]
    group_answered = np.empty((len(combos), nrows), dtype=bool)
    overall_answered = np.zeros((len(combos), nrows), dtype=bool)
    total = sum(len(g.items) for g in groups)
    done = 0
    for g, group in enumerate(groups):
        group_z.fill(0.0)
        group_answered.fill(False)
        for code in group.items:
            k = position[code]
            np.add(offset, codes[k], out=index)
            for c, combo in enumerate(combos):
                group_z[c] += np.take(combo.answer_table(g, k), index)
                # A respondent counts towards a composite's n when they gave a valid answer
                # to at least one of its items (an item asked only of some is on its own base).
                group_answered[c] |= np.take(combo.est.valid[k], codes[k]) > 0
            done += 1
            report("composites", done, total)
        for c in range(len(combos)):
            group_sums[c].append(atom_sums(group_z[c]))
            group_bases[c].append(atom_base(group_answered[c].astype(np.float64)))
        if group.level == "element":
            overall_z += group_z
            overall_answered |= group_answered
    results = []
    for c, combo in enumerate(combos):
        overall = overall_z[c] * np.take(combo.overall_factor_of_atom(), design.atom)
        overall_base = atom_base(overall_answered[c].astype(np.float64))
        results.append((group_sums[c], atom_sums(overall), group_bases[c], overall_base))
    return results


def _composite_frames(
    design,
    spec,
    groups,
    combo: _Composite,
    group_sums,
    overall_sums,
    group_bases,
    overall_base,
    rules,
):
    est, ndomains = combo.est, combo.est.ratio.shape[0]
    members = combo.members
    domain_of_atom = combo.domain_of_atom
    weight_total = _sum_by(domain_of_atom, design.atom_wsum, ndomains)
    respondents = est.respondents
    strata = _strata_in_domains(design, domain_of_atom, design.atom_count, ndomains)

    def variances(sums):
        s1, s2, s3 = sums
        variance = _stratified_variance(design, domain_of_atom, s1, s2, ndomains)
        with np.errstate(divide="ignore", invalid="ignore"):
            srs = weight_total * _sum_by(domain_of_atom, s3, ndomains) / (respondents - 1)
            if design.fpc:
                srs = srs * np.clip(1.0 - respondents / weight_total, 0.0, 1.0)
        return variance, srs

    def base(atom_values):
        """n (respondents with a valid answer to any item) and Kish's n_eff of a domain."""
        count, wsum, w2sum = (_sum_by(domain_of_atom, v, ndomains) for v in atom_values)
        with np.errstate(divide="ignore", invalid="ignore"):
            return count, np.where(count > 0, wsum**2 / w2sum, 0.0)

    group_n, group_kish = (np.stack(v, 1) for v in zip(*map(base, group_bases), strict=True))
    group_unweighted = _nanmean_groups(est.unweighted, combo.has_data, members)
    sizes = np.array([len(m) for m in members])
    partial = combo.group_has & (combo.items_with_data < sizes)
    low, high = _formula_range(spec, combo.formula)
    common = {
        "units": design.units[combo.domain_unit].astype(str),
        "labels": combo.domain_label,
        "formula": combo.formula,
        "low": low,
        "high": high,
        "rules": rules,
        "respondents": respondents,
        "df": respondents - strata,
        "single": est.single,
    }
    frames = [
        _composite_frame(
            level=group.level,
            element=group.code if group.level == "element" else "",
            code=group.code,
            n=group_n[:, g],
            kish=group_kish[:, g],
            estimate=combo.group_estimate[:, g],
            variances=variances(group_sums[g]),
            unweighted=group_unweighted[:, g],
            partial=partial[:, g],
            **common,
        )
        for g, group in enumerate(groups)
    ]
    elements = combo.is_element
    if elements.any():
        overall_n, overall_kish = base(overall_base)
        partial_overall = (combo.elements_with_data < elements.sum()) | partial[:, elements].any(
            axis=1
        )
        frames.append(
            _composite_frame(
                level="overall",
                element="",
                code="overall",
                n=overall_n,
                kish=overall_kish,
                estimate=combo.overall_estimate,
                variances=variances(overall_sums),
                unweighted=_nanmean_rows(group_unweighted[:, elements]),
                partial=partial_overall & (combo.elements_with_data > 0),
                **common,
            )
        )
    return pd.concat(frames, ignore_index=True)


def _nanmean_groups(values, has_data, members):
    out = np.full((values.shape[0], len(members)), np.nan)
    for e, m in enumerate(members):
        picked = np.where(has_data[:, m], values[:, m], 0.0)
        count = has_data[:, m].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, e] = np.where(count > 0, picked.sum(axis=1) / count, np.nan)
    return out


def _nanmean_rows(values):
    have = ~np.isnan(values)
    count = have.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, np.where(have, values, 0.0).sum(axis=1) / count, np.nan)


def _formula_range(spec, formula):
    bounds = [formula.bounds(item) for item in spec.items]
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def _composite_frame(
    *,
    units,
    labels,
    level,
    element,
    code,
    formula,
    n,
    kish,
    respondents,
    df,
    single,
    estimate,
    variances,
    unweighted,
    partial,
    low,
    high,
    rules,
):
    variance, srs_variance = variances
    no_data = np.isnan(estimate)
    cells = _cell_columns(
        estimate=estimate,
        variance=variance,
        srs_variance=srs_variance,
        low=low,
        high=high,
        n=n,
        n_interval=respondents,
        df=df,
        kish=np.where(no_data, np.nan, kish),
        single=single,
        partial=partial,
        no_data=no_data,
        rules=rules,
    )
    return pd.DataFrame(
        {
            "unit": units,
            "groups": labels,
            "level": level,
            "element": element,
            "code": code,
            "formula": formula.name,
            "n": n.astype(np.int64),
            "n_respondents": respondents.astype(np.int64),
            "estimate": estimate,
            "estimate_unweighted": unweighted,
            **cells,
        }
    )
