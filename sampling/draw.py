"""A stratified sample design, its allocation table, and the draw.

``draw_sample(frame, design, seed=...)`` factorizes the strata once, sizes and allocates
the sample, selects primary and reserve units in every stratum with one
``numpy.random.Generator(PCG64(seed))``, and returns a :class:`Sample` holding the
selected rows (every frame column plus ``stratum``, ``selection``, ``reserve_rank``,
``inclusion_prob``, ``weight``), the allocation table and the audit manifest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sampling.allocation import (
    Allocation,
    AllocationError,
    allocate_array,
    parse_allocation,
    reserve_sizes,
)
from sampling.errors import SamplingError
from sampling.manifest import BIT_GENERATOR, build_manifest, frame_content_hash
from sampling.selection import (
    SelectionMethod,
    parse_method,
    select_pps_systematic,
    select_srswor,
    select_systematic,
)
from sampling.size import SampleSizeError, cochran_sample_size, yamane_sample_size

ALL_STRATUM = "all"
LABEL_SEPARATOR = " | "
DEFAULT_ID_COLUMN = "source_row"
# Every reporting domain gets at least this many units (unless its list is smaller): with
# fewer, its index has no standard error.
MIN_PER_DOMAIN = 2
# Stratum codes up to this many strata fit int16, so numpy's stable sort is a radix sort.
_INT16_STRATA = np.iinfo(np.int16).max

Progress = Callable[[str, float], None]


class DesignError(SamplingError):
    """The sample design does not fit the frame (unknown column, missing sizes, ...)."""


@dataclass(frozen=True)
class SampleDesign:
    """Everything that defines a draw except the frame and the seed.

    Give either ``n`` (total sample size) or ``margin`` (margin of error for a
    proportion, with ``confidence``, ``p``, ``response_rate`` and ``sample_size_rule``
    ``"cochran"`` or ``"yamane"``). With ``per_stratum_size=True`` the rule is applied
    to every stratum's ``N_h`` instead of the total, and ``allocation`` is not used.
    With ``n`` and ``per_stratum_size=True`` every stratum gets ``min(n, N_h)``.
    ``sd`` maps stratum labels to ``S_h`` for Neyman allocation. Every stratum that is a
    reporting domain gets at least ``min_per_domain`` units (unless its list is smaller);
    ``domains`` names the stratification columns whose combinations are the reporting
    domains (default: every stratum is one); a domain made of several strata gets its
    minimum spread over them in proportion to ``N_h``. ``reserve`` is a count
    per stratum (int) or a ratio of ``n_h`` (float). ``method`` is ``srswor``,
    ``systematic`` (sorted by ``sort_by`` within strata) or ``pps_systematic`` (needs
    ``size_measure``). ``id_column`` identifies rows in manifests and checks; when it is
    not in the frame, the frame's row position is used.
    """

    strata: tuple[str, ...] = ()
    n: int | None = None
    margin: float | None = None
    confidence: float = 0.95
    p: float = 0.5
    response_rate: float | None = None
    sample_size_rule: str = "cochran"
    per_stratum_size: bool = False
    allocation: Allocation | str = Allocation.PROPORTIONAL
    sd: Mapping[str, float] | None = None
    min_per_stratum: int = 0
    max_per_stratum: int | None = None
    min_per_domain: int = MIN_PER_DOMAIN
    domains: tuple[str, ...] | None = None
    reserve: int | float = 0
    method: SelectionMethod | str = SelectionMethod.SRSWOR
    sort_by: tuple[str, ...] = ()
    size_measure: str | None = None
    id_column: str | None = DEFAULT_ID_COLUMN

    def __post_init__(self) -> None:
        # Normalise so that equal designs compare equal and serialise the same way.
        object.__setattr__(self, "strata", _as_tuple(self.strata))
        object.__setattr__(self, "sort_by", _as_tuple(self.sort_by))
        if self.domains is not None:
            object.__setattr__(self, "domains", _as_tuple(self.domains))
            outside = [name for name in self.domains if name not in self.strata]
            if outside:
                raise DesignError(
                    f"Miền báo cáo phải là cột phân tầng; không phải: {', '.join(outside)}.",
                    f"Reporting domains must be stratification columns; these are not: "
                    f"{', '.join(outside)}.",
                )
        if (
            isinstance(self.min_per_domain, bool)
            or not isinstance(self.min_per_domain, int)
            or self.min_per_domain < 0
        ):
            raise DesignError(
                f"Số tối thiểu mỗi miền báo cáo phải là số nguyên không âm: {self.min_per_domain!r}.",
                f"The minimum per reporting domain must be a non-negative integer: "
                f"{self.min_per_domain!r}.",
            )
        object.__setattr__(self, "allocation", parse_allocation(self.allocation))
        object.__setattr__(self, "method", parse_method(self.method))
        if self.sd is not None:
            object.__setattr__(self, "sd", {str(k): float(v) for k, v in self.sd.items()})
        if self.sample_size_rule not in ("cochran", "yamane"):
            raise DesignError(
                f"Công thức cỡ mẫu không hợp lệ: {self.sample_size_rule!r} (cochran, yamane).",
                f"Unknown sample size rule {self.sample_size_rule!r} (cochran, yamane).",
            )
        if (self.n is None) == (self.margin is None):
            raise DesignError(
                "Cần cho đúng một trong hai: cỡ mẫu n hoặc sai số cho phép.",
                "Give exactly one of: the sample size n or the margin of error.",
            )
        if self.method is SelectionMethod.PPS_SYSTEMATIC and not self.size_measure:
            raise DesignError(
                "Chọn PPS cần cột quy mô (size_measure).",
                "PPS selection needs a size measure column (size_measure).",
            )

    def to_dict(self) -> dict:
        """JSON-ready parameters (enums as their names, tuples as lists)."""
        out = dataclasses.asdict(self)
        out["strata"] = list(self.strata)
        out["sort_by"] = list(self.sort_by)
        out["allocation"] = str(self.allocation)
        out["method"] = str(self.method)
        return out

    @classmethod
    def from_dict(cls, values: Mapping) -> SampleDesign:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def from_manifest(cls, values: Mapping) -> SampleDesign:
        """The design recorded in a manifest. Manifests written before the reporting-domain
        minimum existed drew without it: they are reproduced with ``min_per_domain = 0``."""
        return cls.from_dict({"min_per_domain": 0, **values})


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


@dataclass
class Strata:
    """Strata of a frame: a code per row and, per stratum, its label and values."""

    codes: np.ndarray
    sizes: np.ndarray
    labels: list[str]
    values: pd.DataFrame = field(repr=False)


@dataclass
class Sample:
    """A drawn sample: ``table`` (selected rows), ``allocation`` table, ``manifest`` and
    the allocation's ``warnings`` (see :func:`allocation_warnings`)."""

    table: pd.DataFrame
    allocation: pd.DataFrame
    manifest: dict
    warnings: list[AllocationWarning] = field(default_factory=list)


@dataclass(frozen=True)
class AllocationWarning:
    """A stratum allocated 0 or 1 unit although its list is not empty."""

    stratum: str
    N_h: int
    n_h: int
    message_vi: str
    message_en: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def allocation_warnings(table: pd.DataFrame) -> list[AllocationWarning]:
    """Strata of an allocation table with ``n_h`` of 0 or 1 (and ``N_h > 0``): a stratum
    allocated nothing is not in the sample at all, and one allocated a single unit has no
    within-stratum variance, so its estimates carry no standard error."""
    warnings = []
    for stratum, size, n_h in zip(table["stratum"], table["N_h"], table["n_h"], strict=True):
        size, n_h = int(size), int(n_h)
        if size == 0 or n_h > 1:
            continue
        if n_h == 0:
            vi = f"không được phân bổ người nào (danh sách có {size:,} người): tầng không có trong mẫu"
            en = f"is allocated nobody (its list has {size:,} people): it is not in the sample"
        elif size == 1:
            vi = "chỉ có 1 người trong danh sách: không tính được sai số chuẩn của tầng"
            en = "has only 1 person in its list: no standard error can be computed for it"
        else:
            vi = (
                f"chỉ được phân bổ 1 người (danh sách có {size:,} người): không tính được "
                "sai số chuẩn của tầng; nên tăng lên ít nhất 2"
            )
            en = (
                f"is allocated only 1 person (its list has {size:,}): no standard error can "
                "be computed for it; give it at least 2"
            )
        warnings.append(
            AllocationWarning(
                str(stratum), size, n_h, f"Tầng {stratum} {vi}.", f"Stratum {stratum} {en}."
            )
        )
    return warnings


def _check_columns(frame: pd.DataFrame, design: SampleDesign) -> None:
    wanted = [*design.strata, *design.sort_by]
    if design.size_measure:
        wanted.append(design.size_measure)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        available = ", ".join(map(str, frame.columns))
        raise DesignError(
            f"Khung mẫu không có cột: {', '.join(missing)}. Các cột hiện có: {available}.",
            f"The frame has no column: {', '.join(missing)}. Columns available: {available}.",
        )


def _sorted_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes whose order follows the sorted distinct values; -1 for missing."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        # A categorical already carries codes: only its (small) categories need sorting.
        categories = column.cat.categories
        try:  # the categories' own order (numbers as numbers), as factorize would sort them
            order = categories.argsort()
        except TypeError:  # mixed types: compare as text
            order = np.argsort(np.asarray(categories, dtype=object).astype(str), kind="stable")
        codes = column.cat.codes.to_numpy()
        if (order == np.arange(len(order))).all():
            return codes, categories
        rank = np.empty(len(categories) + 1, dtype=np.int32)
        rank[order] = np.arange(len(categories))
        rank[-1] = -1  # code -1 (missing) indexes the last slot
        return rank[codes], categories.take(order)
    return pd.factorize(column, sort=True)


def _row_name(frame: pd.DataFrame, position: int) -> str:
    """How a user finds a row: its spreadsheet row when known, else its position."""
    if DEFAULT_ID_COLUMN in frame.columns:
        return str(frame[DEFAULT_ID_COLUMN].iloc[position])
    return str(position + 1)


def _factorize_column(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = _sorted_codes(frame[name])
    if (codes < 0).any():
        empty = int((codes < 0).sum())
        row = _row_name(frame, int(np.flatnonzero(codes < 0)[0]))
        raise DesignError(
            f"Cột phân tầng '{name}' bị trống ở {empty} dòng (dòng đầu tiên: {row}).",
            f"Stratification column '{name}' is empty in {empty} rows (first: row {row}).",
        )
    return codes, pd.Index(uniques)


def _dense_codes(combined: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map combined codes to 0..H-1 keeping their order.

    Returns (codes, kept combined values, stratum sizes). When every combination occurs
    (e.g. every unit has both groups) the codes are already dense and are kept as they are.
    """
    if space <= 4 * len(combined) + 1024:
        counts = np.bincount(combined, minlength=space)
        present = counts > 0
        if present.all():
            return combined, np.arange(space), counts
        remap = (np.cumsum(present) - 1).astype(combined.dtype)
        return remap[combined], np.flatnonzero(present), counts[present]
    kept, inverse = np.unique(combined, return_inverse=True)
    return inverse, kept, np.bincount(inverse, minlength=len(kept))


def stratify(frame: pd.DataFrame, columns: tuple[str, ...]) -> Strata:
    """Factorize the stratification columns once; strata are ordered by their values."""
    rows = len(frame)
    if not columns:
        values = pd.DataFrame(index=range(1))
        return Strata(np.zeros(rows, np.int16), np.array([rows]), [ALL_STRATUM], values)
    factorized = [_factorize_column(frame, name) for name in columns]
    space = int(np.prod([max(len(levels), 1) for _, levels in factorized], dtype=np.float64))
    dtype = np.int32 if space < np.iinfo(np.int32).max else np.int64
    combined = None
    for codes, levels in factorized:
        codes = codes.astype(dtype, copy=False)
        combined = codes if combined is None else combined * len(levels) + codes
    codes, kept, sizes = _dense_codes(combined, space)
    count = len(kept)
    codes = codes.astype(np.int16 if count <= _INT16_STRATA else np.int32, copy=False)
    # Decode each stratum's values from its mixed-radix combined code.
    values, remainder = {}, kept
    for name, (_, levels) in zip(reversed(columns), reversed(factorized), strict=True):
        values[name] = levels.take(remainder % len(levels))
        remainder = remainder // len(levels)
    lists = [[str(value) for value in values[name].tolist()] for name in columns]
    table = pd.DataFrame({name: np.asarray(values[name], dtype=object) for name in columns})
    labels = [LABEL_SEPARATOR.join(parts) for parts in zip(*lists, strict=True)]
    return Strata(codes, sizes.astype(np.int64), labels, table)


def _size_rule(design: SampleDesign, population: int) -> int:
    if design.sample_size_rule == "yamane":
        return yamane_sample_size(population, design.margin, design.response_rate)
    return cochran_sample_size(
        design.margin, design.confidence, design.p, population, design.response_rate
    )


def _per_stratum_sizes(design: SampleDesign, strata: Strata) -> np.ndarray:
    sizes = strata.sizes
    if design.n is not None:
        wanted = np.full(len(sizes), design.n, np.int64)
    else:
        wanted = np.array([_size_rule(design, int(s)) if s > 0 else 0 for s in sizes], np.int64)
    upper = sizes if design.max_per_stratum is None else np.minimum(sizes, design.max_per_stratum)
    lower = np.maximum(np.minimum(sizes, design.min_per_stratum), domain_floors(design, strata))
    return np.clip(wanted, np.minimum(lower, upper), upper)


def domain_floors(design: SampleDesign, strata: Strata) -> np.ndarray:
    """The reporting-domain minimum of every stratum.

    When every stratum is a domain: ``min(min_per_domain, N_h)``. When a domain holds
    several strata (e.g. unit × group split further by procedure field), its minimum
    ``m_d = min(min_per_domain, N_d)`` is spread over its strata in proportion to ``N_h``
    by largest remainder, so the domain as a whole gets at least ``m_d``. Example: a
    domain with strata of 10 and 3 people and a minimum of 2: 2·10/13 = 1.54 and 0.46,
    floors 1 and 0, the unit left goes to the larger remainder: 2 and 0.
    """
    sizes = strata.sizes
    floor = design.min_per_domain
    if floor == 0 or not len(sizes):
        return np.zeros(len(sizes), np.int64)
    if design.domains is None or set(design.domains) == set(design.strata):
        return np.minimum(sizes, floor)
    if design.domains:
        domain, _ = pd.MultiIndex.from_frame(strata.values[list(design.domains)]).factorize()
    else:  # the whole frame is the one domain
        domain = np.zeros(len(sizes), np.intp)
    domain_size = np.bincount(domain, weights=sizes).astype(np.int64)
    wanted = np.minimum(domain_size, floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(domain_size[domain] > 0, wanted[domain] * sizes / domain_size[domain], 0)
    share = np.round(share, 9)
    base = np.floor(share).astype(np.int64)
    left = wanted - np.bincount(domain, weights=base, minlength=len(wanted)).astype(np.int64)
    order = np.lexsort((-(share - base), domain))  # by domain, largest remainder first
    rank = np.arange(len(order)) - np.searchsorted(domain[order], domain[order])
    give = np.zeros(len(sizes), bool)
    give[order] = rank < left[domain[order]]
    return base + give


def _sd_values(design: SampleDesign, strata: Strata) -> np.ndarray | None:
    if design.allocation is not Allocation.NEYMAN:
        return None
    if not design.sd:
        raise DesignError(
            "Phân bổ Neyman cần độ lệch chuẩn S_h của từng tầng.",
            "Neyman allocation needs the standard deviation S_h of every stratum.",
        )
    missing = [label for label in strata.labels if label not in design.sd]
    if missing:
        raise DesignError(
            f"Thiếu độ lệch chuẩn cho {len(missing)} tầng, ví dụ: {missing[:3]}.",
            f"Standard deviation missing for {len(missing)} strata, e.g. {missing[:3]}.",
        )
    return np.array([design.sd[label] for label in strata.labels], dtype=float)


def sample_sizes(design: SampleDesign, strata: Strata) -> np.ndarray:
    """``n_h`` per stratum (in stratum order) for a design."""
    sizes = strata.sizes
    try:
        if design.per_stratum_size:
            return _per_stratum_sizes(design, strata)
        total = int(sizes.sum())
        n = design.n if design.n is not None else _size_rule(design, max(total, 1))
        return allocate_array(
            sizes,
            n,
            design.allocation,
            sd_values=_sd_values(design, strata),
            min_per_stratum=design.min_per_stratum,
            max_per_stratum=design.max_per_stratum,
            floors=domain_floors(design, strata),
            labels=strata.labels,
        )
    except (AllocationError, SampleSizeError):
        raise
    except (TypeError, ValueError) as error:
        raise DesignError(
            f"Tham số thiết kế mẫu không hợp lệ: {error}.", f"Invalid design parameter: {error}."
        ) from error


def allocation_table(
    strata: Strata, n_h: np.ndarray, reserve_h: np.ndarray, method: SelectionMethod
) -> pd.DataFrame:
    """One row per stratum: its values, label, N_h, n_h, reserve_h, fraction, inclusion prob."""
    sizes = strata.sizes
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(sizes > 0, n_h / np.maximum(sizes, 1), 0.0)
    table = strata.values.copy()
    table["stratum"] = strata.labels
    table["N_h"] = sizes.astype(np.int64)
    table["n_h"] = n_h.astype(np.int64)
    table["reserve_h"] = reserve_h.astype(np.int64)
    table["fraction"] = fraction
    # Under PPS the probability differs from unit to unit; the fraction is its mean.
    table["inclusion_prob"] = np.nan if method is SelectionMethod.PPS_SYSTEMATIC else fraction
    return table


def plan(frame: pd.DataFrame, design: SampleDesign) -> pd.DataFrame:
    """The allocation table of a design on a frame, without drawing."""
    _check_columns(frame, design)
    strata = stratify(frame, design.strata)
    n_h = sample_sizes(design, strata)
    return allocation_table(
        strata, n_h, reserve_sizes(design.reserve, n_h, strata.sizes), design.method
    )


def fresh_seed() -> int:
    """A new 128-bit seed from the operating system's entropy."""
    return int(np.random.SeedSequence().entropy)


def make_generator(seed: int) -> np.random.Generator:
    """The only source of randomness for a draw: ``Generator(PCG64(seed))``."""
    return np.random.Generator(np.random.PCG64(seed))


def _parse_seed(seed) -> int:
    if seed is None:
        return fresh_seed()
    try:
        value = int(seed)
    except (TypeError, ValueError):
        value = -1
    if value < 0 or (isinstance(seed, float) and not float(seed).is_integer()):
        raise DesignError(
            f"Hạt giống ngẫu nhiên phải là số nguyên không âm, nhận được {seed!r}.",
            f"The random seed must be a non-negative integer, got {seed!r}.",
        )
    return value


def _sort_codes(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[np.ndarray]:
    keys = []
    for name in columns:
        codes, uniques = pd.factorize(frame[name], sort=True)
        # Missing values sort last.
        keys.append(np.where(codes < 0, len(uniques), codes))
    return keys


def _size_measure(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        row, value = _row_name(frame, first), frame[column].iloc[first]
        raise DesignError(
            f"Cột quy mô '{column}' phải là số không âm; {int(bad.sum())} dòng không hợp lệ "
            f"(đầu tiên: dòng {row}, giá trị {value!r}).",
            f"Size measure column '{column}' must hold non-negative numbers; {int(bad.sum())} "
            f"rows are invalid (first: row {row}, value {value!r}).",
        )
    return values


def _select(frame, design, strata, n_h, take, rng):
    method = design.method
    if method is SelectionMethod.SRSWOR:
        return select_srswor(strata.codes, strata.sizes, n_h, take, rng)
    if design.sort_by:
        keys = _sort_codes(frame, design.sort_by)
    else:
        # PPS without a sort key uses a random order (then every pair can be drawn together);
        # systematic without one follows the frame order.
        keys = [rng.permutation(len(frame))] if method is SelectionMethod.PPS_SYSTEMATIC else []
    order = (
        np.lexsort((*reversed(keys), strata.codes))
        if keys
        else np.argsort(strata.codes, kind="stable")
    )
    if method is SelectionMethod.SYSTEMATIC:
        return select_systematic(order, strata.sizes, n_h, take, rng)
    size_measure = _size_measure(frame, design.size_measure)
    return select_pps_systematic(order, strata.sizes, size_measure, n_h, take, rng, strata.labels)


def _sample_table(frame: pd.DataFrame, strata: Strata, selected, n_h: np.ndarray) -> pd.DataFrame:
    primary = selected.rank < n_h[selected.stratum]
    reserve_rank = pd.arrays.IntegerArray(selected.rank - n_h[selected.stratum] + 1, primary)
    # Categoricals: building 50,000 Python strings per column would cost more than the draw.
    added = {
        "stratum": pd.Categorical.from_codes(selected.stratum, categories=strata.labels),
        "selection": pd.Categorical.from_codes(
            (~primary).astype(np.int8), categories=["primary", "reserve"]
        ),
        "reserve_rank": reserve_rank,
        "inclusion_prob": selected.inclusion_prob,
        "weight": 1.0 / selected.inclusion_prob,
    }
    table = frame.take(selected.rows)
    return pd.concat([table, pd.DataFrame(added, index=table.index)], axis=1)


def draw_sample(
    frame: pd.DataFrame,
    design: SampleDesign,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Sample:
    """Draw a stratified sample with reserves; reproducible from ``seed`` and the frame.

    ``seed=None`` draws a fresh 128-bit seed (recorded in the manifest). The generator is
    ``numpy.random.Generator(PCG64(seed))``; numpy's global random state is neither used
    nor changed. ``progress(stage, fraction)`` is called as the draw advances.
    """
    report = progress or (lambda stage, fraction: None)
    _check_columns(frame, design)
    seed = _parse_seed(seed)
    report("strata", 0.0)
    strata = stratify(frame, design.strata)
    n_h = sample_sizes(design, strata)
    reserve_h = reserve_sizes(design.reserve, n_h, strata.sizes)
    report("select", 0.2)
    selected = _select(frame, design, strata, n_h, n_h + reserve_h, make_generator(seed))
    report("table", 0.6)
    table = _sample_table(frame, strata, selected, n_h)
    allocation = allocation_table(strata, n_h, reserve_h, design.method)
    report("hash", 0.7)
    content_hash = frame_content_hash(frame)
    manifest = build_manifest(frame, design, seed, content_hash, allocation, table)
    warnings = allocation_warnings(allocation)
    manifest["allocation_warnings"] = [warning.to_dict() for warning in warnings]
    report("done", 1.0)
    return Sample(table=table, allocation=allocation, manifest=manifest, warnings=warnings)


__all__ = [
    "BIT_GENERATOR",
    "MIN_PER_DOMAIN",
    "AllocationWarning",
    "DesignError",
    "Sample",
    "SampleDesign",
    "allocation_warnings",
    "domain_floors",
    "draw_sample",
    "fresh_seed",
    "make_generator",
    "plan",
    "stratify",
]
