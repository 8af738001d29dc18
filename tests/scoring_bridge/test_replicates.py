"""The microdata let an analyst reproduce the published figures: R reads the exported file.

One R run: (1) the Taylor design from the exported columns (``variance_stratum``,
``weight``, ``fpc``) reproduces every published index and standard error exactly;
(2) ``svrepdesign`` on the exported jackknife replicate weights reproduces the indices
exactly and the standard errors to within a few per cent (the jackknife of a ratio
against its linearisation), for items and for the overall index (``withReplicates`` on
the same statistic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring_bridge.microdata import write_microdata
from scoring_bridge.replicates import design_columns, replicate_matrix
from scoring_bridge.scoring import score

MAPPING = {
    "id": "test",
    "name": "Thử",
    "min_responses": 5,
    "criteria": [
        {"code": "A", "name": "Tiếp cận", "max_points": 1.5, "source": {"element": "E1"}},
        {"code": "C", "name": "Chung", "max_points": 0.5, "source": "overall"},
    ],
}


def sample(seed: int = 99) -> tuple[pd.DataFrame, dict[str, float]]:
    """Four units, strata unit × group × half with N_h known; U1 has a lone respondent in
    one stratum (collapsed with its sibling), walk-ins are present and left out."""
    rng = np.random.default_rng(seed)
    rows, population = [], {}
    sizes = {"U1": (30, 12, 1), "U2": (25, 20, 9), "U3": (40, 8, 6), "U4": (18, 18, 5)}
    for unit, counts in sizes.items():
        for part, n in enumerate(counts):
            group = "individual" if part < 2 else "organisation"
            stratum = f"{unit}-{group}-{part}"
            population[stratum] = float(n * rng.integers(2, 9) + 1)
            for _ in range(n):
                rows.append((unit, group, stratum, population[stratum] / n, True))
    for unit in sizes:  # walk-ins: no weight, not in the estimates
        rows += [(unit, "individual", f"walkin:{unit}", np.nan, False)] * 3
    frame = pd.DataFrame(rows, columns=["unit", "group", "stratum", "weight", "is_probability"])
    frame.insert(0, "response_id", [f"r{i}" for i in range(len(frame))])
    quality = frame.unit.map({"U1": 0.4, "U2": 0.0, "U3": -0.3, "U4": 0.8})
    for item in ("q1", "q2", "q3"):
        answers = np.clip(np.round(rng.normal(3.5 + quality, 1.0)), 1, 5)
        answers[rng.random(len(frame)) < 0.07] = 9
        frame[item] = answers
    return frame, population


R_SCRIPT = r"""
suppressMessages(library(survey))
options(warn = -1, survey.lonely.psu = "adjust")
m <- read.csv("microdata.csv", stringsAsFactors = FALSE)
m <- merge(subset(m, is_probability == 1), read.csv("replicate_weights.csv.gz"), by = "respondent")
for (k in c("q1", "q2", "q3")) {
  m[[paste0("v_", k)]] <- as.numeric(!is.na(m[[k]]) & m[[k]] %in% 1:5)
  m[[paste0("y_", k)]] <- 100 * as.numeric(!is.na(m[[k]]) & m[[k]] %in% 4:5)
}
taylor <- svydesign(ids = ~1, strata = ~variance_stratum, weights = ~weight, fpc = ~fpc, data = m)
reps <- svrepdesign(data = m, weights = ~weight, repweights = "rep_[0-9]+", type = "other",
                    scale = 1, rscales = 1, mse = TRUE)
overall <- function(w, data) {
  r <- sapply(c("q1", "q2", "q3"), function(k)
    sum(w * data[[paste0("y_", k)]]) / sum(w * data[[paste0("v_", k)]]))
  0.25 * r[["q1"]] + 0.25 * r[["q2"]] + 0.5 * r[["q3"]]
}
rows <- list()
for (u in sort(unique(m$unit))) {
  for (k in c("q1", "q3")) {
    f <- as.formula(paste0("~y_", k)); g <- as.formula(paste0("~v_", k))
    a <- svyratio(f, g, subset(taylor, unit == u))
    b <- svyratio(f, g, subset(reps, unit == u))
    rows[[length(rows) + 1]] <- data.frame(unit = u, code = k,
      estimate = coef(a)[[1]], se_taylor = SE(a)[[1]],
      estimate_rep = coef(b)[[1]], se_rep = SE(b)[[1]])
  }
  sub <- subset(reps, unit == u)
  o <- withReplicates(sub, overall)
  t <- svycontrast(svytotal(~y_q1 + y_q2 + y_q3 + v_q1 + v_q2 + v_q3, subset(taylor, unit == u)),
                   quote(0.25 * y_q1 / v_q1 + 0.25 * y_q2 / v_q2 + 0.5 * y_q3 / v_q3))
  rows[[length(rows) + 1]] <- data.frame(unit = u, code = "overall",
    estimate = coef(t)[[1]], se_taylor = SE(t)[[1]],
    estimate_rep = coef(o)[[1]], se_rep = SE(o)[[1]])
}
write.csv(do.call(rbind, rows), "r_replicates.csv", row.names = FALSE)
cat(ncol(reps$repweights), "\n")
"""


@pytest.fixture(scope="module")
def exported(rscript, small_spec, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("replicates")
    frame, population = sample()
    result = score(frame, small_spec, MAPPING, min_n=5, stratum_population=population)
    write_microdata(result.responses, small_spec, workdir, result.design)
    output = rscript.run(R_SCRIPT, workdir)
    reference = pd.read_csv(workdir / "r_replicates.csv", dtype={"unit": str})
    micro = pd.read_csv(workdir / "microdata.csv", dtype={"unit": str})
    return result, reference, micro, int(output.split()[-1])


def _published(result, unit, code):
    table = result.indices
    hit = table[
        (table.unit == unit)
        & (table.groups == "individual+organisation")
        & (table.code == code)
        & (table.formula == "satisfaction_rate")
    ]
    assert len(hit) == 1
    return hit.iloc[0]


def test_taylor_design_from_the_exported_columns_reproduces_every_figure(exported):
    result, reference, _, _ = exported
    assert result.settings["single_respondent_strata_list"] == ["U1-organisation-2"]
    for ref in reference.itertuples():
        mine = _published(result, ref.unit, ref.code)
        assert mine.estimate == pytest.approx(ref.estimate, rel=1e-10), ref
        assert mine.se == pytest.approx(ref.se_taylor, rel=1e-8), ref


def test_svrepdesign_on_the_replicate_weights_reproduces_indices_and_standard_errors(exported):
    result, reference, micro, replicates = exported
    assert replicates == 54  # U3: 40 + 8 + 6 respondents, the largest unit
    for ref in reference.itertuples():
        mine = _published(result, ref.unit, ref.code)
        assert mine.estimate == pytest.approx(ref.estimate_rep, rel=1e-10), ref
        # the jackknife of a ratio agrees with its linearisation to O(1/n): here within 0.4%
        assert mine.se == pytest.approx(ref.se_rep, rel=0.01), ref
    assert (micro.is_probability == 0).sum() == 12  # walk-ins: in the microdata, no replicates


def test_replicate_weights_reproduce_the_linearised_variance_of_a_total_exactly():
    # For a linear statistic (a weighted total within one stratum) the folded jackknife
    # gives a_g Σ (u − ū)² exactly: hand-worked with N = 10, n = 4 (a = 0.6·4/3 = 0.8).
    frame = pd.DataFrame(
        {
            "unit": "U",
            "group": "g",
            "stratum": "h",
            "weight": 2.5,
            "is_probability": True,
            "y": [1.0, 3.0, 4.0, 8.0],
        }
    )
    columns = design_columns(frame, population={"h": 10.0})
    reps = replicate_matrix(frame, population={"h": 10.0})
    assert reps.shape == (4, 4)
    total = (frame.weight * frame.y).sum()
    replicate_totals = (reps * frame.y.to_numpy()[:, None]).sum(axis=0)
    u = (frame.weight * frame.y).to_numpy()
    expected = 0.6 * 4 / 3 * ((u - u.mean()) ** 2).sum()
    assert ((replicate_totals - total) ** 2).sum() == pytest.approx(expected)
    assert columns["fpc"].tolist() == [10.0] * 4
    assert columns["variance_stratum"].tolist() == ["h"] * 4
