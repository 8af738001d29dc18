"""Design columns and jackknife replicate weights for the microdata, so that anyone can
reproduce the published figures and their standard errors with survey software.

Columns added to the microdata (probability rows; walk-ins get empty values):

``variance_stratum``  the variance stratum of :mod:`scoring_bridge.design` (sampling
                      strata, certainty units of a PPS draw apart, single-respondent
                      strata merged when ``collapse`` was chosen)
``fpc``               its population size N_g for the finite population correction (its
                      respondents' count for strata with no sampling variance: certainty
                      units, a census), ``inf`` where no correction applies

and, in ``replicate_weights.csv.gz`` (one row per probability respondent, joined to the
microdata by ``respondent``; R reads the compressed file directly), the replicate weights
``rep_1`` … ``rep_R``. They are a file of their own because there are as many as the
largest unit has respondents: in the microdata they would multiply its size many times.

**Taylor linearisation**, exactly as published (R)::

    options(survey.lonely.psu = "adjust")  # strata left alone by 'collapse', or 'adjust'
    d <- svydesign(ids = ~1, strata = ~variance_stratum, weights = ~weight, fpc = ~fpc,
                   data = subset(micro, is_probability == 1))

(Stata: ``svyset [pw = weight], strata(variance_stratum) fpc(fpc)``; SPSS Complex
Samples: a plan with the same stratum, weight and population size.)

**Replicate weights**: a delete-one jackknife within variance strata, with its factors
folded into the weights so that the variance is the plain sum of squares
Σ_r (θ_r − θ̂)². In replicate r the r-th respondent j of each block (see below) in a
stratum g with n_g respondents and factor a_g (:mod:`scoring_bridge.design`) is
down-weighted and the rest of g up-weighted:

    w_j(r) = w_j (1 − α_g),   w_k(r) = w_k (1 + α_g/(n_g − 1)) for the others k of g,
    α_g = √a_g · (n_g − 1)/n_g

so that for a linear statistic Σ_r (θ_r − θ̂)² = a_g Σ_{i∈g} (u_i − ū_g)², the linearised
variance term of g, exactly. A single respondent treated by ``adjust`` is up-weighted,
w_j(r) = w_j (1 + √a_g) (its term a_g u_j²); strata with a_g = 0 are never perturbed.
For the ratios and means of ratios published, the jackknife differs from the
linearisation by terms of order 1/n: a few per cent for the cells the report scores.

Replicates are shared across *blocks*: sets of units linked by strata (normally each
unit is its own block, since strata lie within units). Respondent number r of every block
is perturbed in replicate r, so R is the largest block's number of respondents, and a
published figure (which never mixes blocks) sees one perturbed stratum per replicate. In
R::

    reps <- read.csv("replicate_weights.csv.gz")
    data <- merge(subset(micro, is_probability == 1), reps, by = "respondent")
    svrepdesign(weights = ~weight, repweights = "rep_[0-9]+", type = "other", scale = 1,
                rscales = 1, mse = TRUE, data = data)

(Stata: ``svyset [pw = weight], vce(jackknife) jkrweight(rep_*, multiplier(1)) mse``.)
Above :data:`MAX_REPLICATES` replicates (a unit with more respondents than that) no
replicate weights are written; the Taylor columns still reproduce everything.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from scoring_bridge.design import DEFAULT_SINGLE, variance_strata

MAX_REPLICATES = 2000


REPLICATE_FILE = "replicate_weights.csv.gz"
_CHUNK = 4096  # rows of replicate weights built and written at a time


def design_columns(
    frame: pd.DataFrame,
    *,
    selection: str = "srswor",
    single: str = DEFAULT_SINGLE,
    population: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``variance_stratum`` and ``fpc`` for the rows of ``frame`` (in its order).

    ``frame`` has the prepared responses' columns (unit, group, stratum, weight,
    is_probability and, for PPS, inclusion_prob). Walk-in rows get empty values.
    """
    probability = frame["is_probability"].to_numpy(dtype=bool)
    rows = frame.loc[probability]
    out = pd.DataFrame(index=frame.index)
    out["variance_stratum"] = pd.Series("", index=frame.index, dtype=object)
    out["fpc"] = np.nan
    if rows.empty:
        return out
    strata = variance_strata(rows, selection=selection, single=single, population=population)
    codes = strata.codes
    out.loc[probability, "variance_stratum"] = strata.labels[codes]
    out.loc[probability, "fpc"] = _population_sizes(strata, rows, population, selection)[codes]
    return out


class ReplicateWeights:
    """The jackknife replicate weights of the probability rows of a frame (module docstring),
    built a chunk of rows at a time."""

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        selection: str = "srswor",
        single: str = DEFAULT_SINGLE,
        population: Mapping[str, float] | None = None,
    ):
        probability = frame["is_probability"].to_numpy(dtype=bool)
        self.rows = np.flatnonzero(probability)  # positions in frame
        rows = frame.iloc[self.rows]
        self.count = 0
        if rows.empty:
            return
        strata = variance_strata(rows, selection=selection, single=single, population=population)
        codes = strata.codes
        self.weight = rows["weight"].to_numpy(dtype=float)
        block = _blocks(rows, codes)
        # number the respondents of each block 0, 1, ... in stratum order (stable)
        order = np.lexsort((np.arange(len(rows)), codes, block))
        starts = np.r_[0, np.flatnonzero(np.diff(block[order])) + 1]
        lengths = np.diff(np.r_[starts, len(rows)])
        self.position = np.empty(len(rows), dtype=np.int64)
        self.position[order] = np.arange(len(rows)) - np.repeat(starts, lengths)
        self.count = int(lengths.max())
        factor, centre, n = strata.factor[codes], strata.centre[codes], strata.n[codes]
        perturbed = factor > 0
        self.alone = perturbed & (centre == 0)  # R's "adjust": up-weight the lone respondent
        self.boost = np.where(self.alone, 1.0 + np.sqrt(factor), 1.0)
        self.ordinary = perturbed & (centre == 1) & (n > 1)
        self.alpha = np.where(self.ordinary, np.sqrt(factor) * (n - 1) / np.maximum(n, 1), 0.0)
        self.mates_up = np.where(self.ordinary, 1.0 + self.alpha / np.maximum(n - 1, 1), 1.0)
        self.codes = codes
        by_stratum = np.argsort(codes, kind="stable")
        bounds = np.r_[0, np.flatnonzero(np.diff(codes[by_stratum])) + 1, len(codes)]
        self.members = {
            int(codes[by_stratum[a]]): by_stratum[a:b]
            for a, b in zip(bounds, bounds[1:], strict=False)
        }

    @property
    def available(self) -> bool:
        return 0 < self.count <= MAX_REPLICATES

    def chunks(self):
        """(row positions in frame, weights chunk × R) for the probability rows, in order."""
        for start in range(0, len(self.rows), _CHUNK):
            local = np.arange(start, min(start + _CHUNK, len(self.rows)))
            multiplier = np.ones((local.size, self.count))
            alone = local[self.alone[local]]
            multiplier[alone - start, self.position[alone]] = self.boost[alone]
            ordinary = local[self.ordinary[local]]
            for code in np.unique(self.codes[ordinary]):
                mine = ordinary[self.codes[ordinary] == code]
                mates = self.position[self.members[int(code)]]
                multiplier[np.ix_(mine - start, mates)] = self.mates_up[mine][:, None]
                multiplier[mine - start, self.position[mine]] = 1.0 - self.alpha[mine]
            yield self.rows[local], self.weight[local, None] * multiplier


def replicate_matrix(frame: pd.DataFrame, **options) -> np.ndarray:
    """All replicate weights of ``frame``'s rows (NaN for walk-ins): small frames, tests."""
    weights = ReplicateWeights(frame, **options)
    out = np.full((len(frame), weights.count), np.nan)
    for rows, chunk in weights.chunks():
        out[rows] = chunk
    return out


def write_replicate_weights(
    frame: pd.DataFrame, respondent: np.ndarray, path, **options
) -> int | None:
    """Write ``respondent, rep_1 … rep_R`` of the probability rows as gzip CSV; return R
    (None, and no file, when there would be more than :data:`MAX_REPLICATES`)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    weights = ReplicateWeights(frame, **options)
    if not weights.available:
        return None
    names = ["respondent", *(f"rep_{r + 1}" for r in range(weights.count))]
    schema = pa.schema(
        [pa.field("respondent", pa.int64())] + [pa.field(n, pa.float64()) for n in names[1:]]
    )
    with (
        pa.CompressedOutputStream(str(path), "gzip") as stream,
        pacsv.CSVWriter(stream, schema) as writer,
    ):
        for rows, chunk in weights.chunks():
            arrays = [pa.array(np.asarray(respondent)[rows], pa.int64())]
            arrays += [pa.array(chunk[:, r]) for r in range(weights.count)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    return weights.count


def _population_sizes(strata, rows, population, selection) -> np.ndarray:
    """N_g per variance stratum, as R's ``fpc`` reads it."""
    sizes = np.full(len(strata.labels), np.inf)
    if population and selection != "pps":
        for g, label in enumerate(strata.labels):
            parts = str(label).split("+")
            if all(p in population for p in parts):
                sizes[g] = float(sum(population[p] for p in parts))
    # no sampling variance (certainty units, a census, a lone respondent under 'certainty'):
    # N = n, which every survey program reads as a census
    no_variance = strata.factor == 0
    sizes[no_variance] = strata.n[no_variance]
    return sizes


def _blocks(rows: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
    """Block id per row: units linked by shared variance strata (union–find)."""
    unit_codes, _ = pd.factorize(rows["unit"].astype(str))
    parent = list(range(unit_codes.max() + 1))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_unit: dict[int, int] = {}
    for unit, stratum in zip(unit_codes, codes, strict=True):
        other = first_unit.setdefault(int(stratum), int(unit))
        a, b = root(int(unit)), root(other)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return np.array([root(int(u)) for u in unit_codes])
