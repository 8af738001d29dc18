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
items. Under stratified sampling with strata h, n_h respondents and N_h population units

    v(R̂) = Σ_h (1 − f_h) · n_h / (n_h − 1) · Σ_{i∈h} (u_i − ū_h)²,   u_i = w_i z_i,

with ``f_h = n_h / N_h`` when stratum sizes are given (finite population correction,
Cochran 1977, §5A.2) and 0 otherwise. Domains are handled by setting ``u_i = 0`` outside
the domain while keeping n_h as the whole stratum (Cochran 1977, §5A.14; Lohr 2019,
§4.3), so strata need not nest in units. Strata with a single respondent contribute
nothing (no within-stratum variance can be estimated; see the methods annex).
95% intervals are R̂ ± 1.96·SE, clipped to the formula's range.

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

from scoring_bridge.errors import ResponsesError, ScoringError
from scoring_bridge.spec import ScaleItem, SurveySpec

Z_95 = 1.959963984540054
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
    "n_respondents",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "estimate_unweighted",
    "flags",
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
    """Row-to-atom coding of the responses that enter the estimates."""

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
    stratum_factor: np.ndarray  # (1 − f_h)·n_h/(n_h − 1), 0 for single-respondent strata
    stratum_n: np.ndarray


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
    stratum → population size N_h for the finite population correction. Cells whose
    base is below ``min_n`` are flagged ``below_min_n``. Walk-in (non-probability) rows are
    left out unless ``include_nonprobability``.

    Returns a long DataFrame with :data:`INDEX_COLUMNS`; ``level`` is ``item``,
    ``element``, ``item_set`` or ``overall``; ``groups`` the '+'-joined sorted group
    codes; ``flags`` holds ``no_data``, ``below_min_n`` and ``partial`` (';'-joined).
    """
    report = progress or (lambda stage, done, total: None)
    formulas = _unique_formulas([*formulas, *composite_formulas])
    composite = _unique_formulas(composite_formulas)
    design = _design(responses, include_nonprobability, stratum_population)
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
                _item_frame(spec, formula, items, design, domain_unit, domain_label, min_n)
            )
            if formula in composite and groups:
                combos.append(
                    _Composite(
                        spec, groups, formula, items, domain_of_atom, domain_unit, domain_label
                    )
                )
    if groups:
        sums = _linearised_sums(design, spec, groups, bins, codes, combos, report)
        for combo, (group_sums, overall_sums) in zip(combos, sums, strict=True):
            tables.append(
                _composite_frames(design, spec, groups, combo, group_sums, overall_sums, min_n)
            )
    result = pd.concat(tables, ignore_index=True)
    return result.loc[:, list(INDEX_COLUMNS)]


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
    unit, units = _codes_of(frame["unit"])
    group, groups = _codes_of(frame["group"])
    stratum, strata = _codes_of(frame["stratum"])
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
    mean_weight = np.bincount(atom, weights=weight, minlength=atom_keys.size) / atom_count
    constant = np.allclose(np.take(mean_weight, atom), weight, rtol=1e-12, atol=0.0)
    stratum_n = np.bincount(atom_stratum, weights=atom_count, minlength=len(strata))
    fpc = _finite_population_correction(strata, stratum_n, stratum_population)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(stratum_n > 1, fpc * stratum_n / (stratum_n - 1), 0.0)
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
        stratum_factor=factor,
        stratum_n=stratum_n,
    )


def _finite_population_correction(
    strata: np.ndarray, stratum_n: np.ndarray, population: Mapping[str, float] | None
) -> np.ndarray:
    if not population:
        return np.ones(len(strata))
    sizes = np.empty(len(strata))
    for position, stratum in enumerate(strata):
        size = population.get(str(stratum))
        if size is None:
            raise ScoringError(
                f"Thiếu cỡ tổng thể N_h của tầng '{stratum}'.",
                f"Population size N_h of stratum '{stratum}' is missing.",
                key="stratum_population",
                value=str(stratum),
            )
        if size < stratum_n[position]:
            raise ScoringError(
                f"Tầng '{stratum}': {int(stratum_n[position])} phiếu nhưng N_h = {size}.",
                f"Stratum '{stratum}': {int(stratum_n[position])} responses but N_h = {size}.",
                key="stratum_population",
                value=str(stratum),
            )
        sizes[position] = size
    return 1.0 - stratum_n / sizes


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
    n_valid: np.ndarray  # D × K
    unweighted: np.ndarray  # D × K
    respondents: np.ndarray  # D
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
    n_valid = _sum_by(domain_of_atom, np.einsum("akb,kb->ak", counts, valid), ndomains)
    y_unw = _sum_by(domain_of_atom, np.einsum("akb,kb->ak", counts, scores), ndomains)
    with np.errstate(divide="ignore", invalid="ignore"):
        unweighted = y_unw / n_valid
    respondents = _sum_by(domain_of_atom, design.atom_count, ndomains)
    return _ItemEstimates(ratio, x_dom, variance, n_valid, unweighted, respondents, scores, valid)


def _stratified_variance(design, domain_of_atom, s1, s2, ndomains):
    """Σ_h factor_h · (Σ u² − (Σ u)²/n_h) over the (domain, stratum) cells of the atoms."""
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
    spread = sum_u2 - sum_u**2 / n_h.reshape(shape)
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


def _item_frame(spec, formula, est: _ItemEstimates, design, domain_unit, domain_label, min_n):
    ndomains, nitems = est.ratio.shape
    lows, highs = zip(*(formula.bounds(item) for item in spec.items), strict=True)
    se = _standard_error(est.variance, np.array(lows), np.array(highs))
    estimate = est.ratio
    n = est.n_valid
    flags = np.where(n == 0, "no_data", np.where(n < min_n, "below_min_n", ""))
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
            "estimate": estimate.ravel(),
            "se": np.where(n > 0, se, np.nan).ravel(),
            "ci_low": np.clip(estimate - Z_95 * se, np.array(lows), np.array(highs)).ravel(),
            "ci_high": np.clip(estimate + Z_95 * se, np.array(lows), np.array(highs)).ravel(),
            "estimate_unweighted": est.unweighted.ravel(),
            "flags": flags.ravel(),
        }
    )
    return frame


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
    combination are alive. Returns, per combination, a list of (Σu, Σu²) per group and
    the (Σu, Σu²) of the overall index (the mean of the elements).
    """
    nrows, natoms = design.atom.size, design.atom_count.size
    position = {code: k for k, code in enumerate(spec.item_codes)}
    offset = design.atom * bins
    index = np.empty_like(offset)
    group_z = np.empty((len(combos), nrows))
    overall_z = np.zeros((len(combos), nrows))

    def atom_sums(values):
        if design.atom_weight is not None:  # weights constant within atoms: factor them out
            s1 = np.bincount(design.atom, values, natoms) * design.atom_weight
            s2 = np.bincount(design.atom, values * values, natoms) * design.atom_weight**2
            return s1, s2
        u = values * design.weight
        return np.bincount(design.atom, u, natoms), np.bincount(design.atom, u * u, natoms)

    group_sums: list[list] = [[] for _ in combos]
    total = sum(len(g.items) for g in groups)
    done = 0
    for g, group in enumerate(groups):
        group_z.fill(0.0)
        for code in group.items:
            k = position[code]
            np.add(offset, codes[k], out=index)
            for c, combo in enumerate(combos):
                group_z[c] += np.take(combo.answer_table(g, k), index)
            done += 1
            report("composites", done, total)
        for c in range(len(combos)):
            group_sums[c].append(atom_sums(group_z[c]))
        if group.level == "element":
            overall_z += group_z
    results = []
    for c, combo in enumerate(combos):
        overall = overall_z[c] * np.take(combo.overall_factor_of_atom(), design.atom)
        results.append((group_sums[c], atom_sums(overall)))
    return results


def _composite_frames(design, spec, groups, combo: _Composite, group_sums, overall_sums, min_n):
    est, ndomains = combo.est, combo.est.ratio.shape[0]
    members = combo.members

    def variance(sums):
        s1, s2 = sums
        return _stratified_variance(design, combo.domain_of_atom, s1, s2, ndomains)

    group_n = np.stack(
        [np.where(combo.has_data[:, m], est.n_valid[:, m], np.inf).min(axis=1) for m in members],
        axis=1,
    )
    group_n = np.where(np.isinf(group_n), 0, group_n)
    group_unweighted = _nanmean_groups(est.unweighted, combo.has_data, members)
    sizes = np.array([len(m) for m in members])
    partial = combo.group_has & (combo.items_with_data < sizes)
    units = design.units[combo.domain_unit].astype(str)
    low, high = _formula_range(spec, combo.formula)
    common = {
        "units": units,
        "labels": combo.domain_label,
        "formula": combo.formula,
        "low": low,
        "high": high,
        "min_n": min_n,
        "respondents": est.respondents,
    }
    frames = [
        _composite_frame(
            level=group.level,
            element=group.code if group.level == "element" else "",
            code=group.code,
            n=group_n[:, g],
            estimate=combo.group_estimate[:, g],
            variance=variance(group_sums[g]),
            unweighted=group_unweighted[:, g],
            partial=partial[:, g],
            **common,
        )
        for g, group in enumerate(groups)
    ]
    elements = combo.is_element
    if elements.any():
        element_has = combo.group_has[:, elements]
        overall_n = np.where(element_has, group_n[:, elements], np.inf).min(axis=1)
        overall_n = np.where(np.isinf(overall_n), 0, overall_n)
        partial_overall = (combo.elements_with_data < elements.sum()) | partial[:, elements].any(
            axis=1
        )
        frames.append(
            _composite_frame(
                level="overall",
                element="",
                code="overall",
                n=overall_n,
                estimate=combo.overall_estimate,
                variance=variance(overall_sums),
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
    respondents,
    estimate,
    variance,
    unweighted,
    partial,
    low,
    high,
    min_n,
):
    se = _standard_error(variance, low, high)
    no_data = np.isnan(estimate)
    flags = np.where(no_data, "no_data", np.where(n < min_n, "below_min_n", ""))
    flags = np.where(
        partial & ~no_data,
        np.char.add(flags.astype(str), np.where(flags == "", "partial", ";partial")),
        flags,
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
            "se": np.where(no_data, np.nan, se),
            "ci_low": np.clip(estimate - Z_95 * se, low, high),
            "ci_high": np.clip(estimate + Z_95 * se, low, high),
            "estimate_unweighted": unweighted,
            "flags": flags,
        }
    )
