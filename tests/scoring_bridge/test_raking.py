"""Raking to known totals: R's ``rake`` gives the same weights and the same indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring_bridge.errors import ScoringError
from scoring_bridge.inputs import prepare_responses
from scoring_bridge.raking import rake_weights
from scoring_bridge.scoring import score

MAPPING = {
    "id": "test",
    "name": "Thử",
    "min_responses": 5,
    "criteria": [{"code": "A", "name": "Tiếp cận", "max_points": 1.0, "source": {"element": "E1"}}],
}

R_SCRIPT = r"""
suppressMessages(library(survey))
options(warn = -1)
d <- read.csv("raking.csv", stringsAsFactors = FALSE)
t <- read.csv("totals.csv", stringsAsFactors = FALSE)
d$ug <- paste(d$unit, d$gender); d$ugr <- paste(d$unit, d$group)
des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = d)
margin <- function(v) {
  rows <- t[t$variable == v, ]
  data.frame(key = paste(rows$unit, rows$category), Freq = rows$total)
}
pg <- margin("gender"); names(pg)[1] <- "ug"
pr <- margin("group"); names(pr)[1] <- "ugr"
raked <- rake(des, list(~ug, ~ugr), list(pg, pr), control = list(maxit = 200, epsilon = 1e-9))
write.csv(data.frame(response_id = d$response_id, weight = weights(raked)), "raked.csv",
          row.names = FALSE)
d$v <- as.numeric(d$q1 %in% 1:5); d$y <- 100 * as.numeric(d$q1 %in% 4:5)
raked <- update(raked, v = d$v, y = d$y)
rows <- lapply(sort(unique(d$unit)), function(u) {
  r <- svyratio(~y, ~v, subset(raked, unit == u))
  data.frame(unit = u, estimate = coef(r)[[1]])
})
write.csv(do.call(rbind, rows), "raked_estimates.csv", row.names = FALSE)
"""


def sample(seed=5):
    rng = np.random.default_rng(seed)
    n = 160
    unit = rng.choice(["U1", "U2"], n)
    group = rng.choice(["individual", "organisation"], n, p=[0.7, 0.3])
    frame = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(n)],
            "unit": unit,
            "group": group,
            "stratum": [f"{u}-{g}" for u, g in zip(unit, group, strict=True)],
            "weight": rng.uniform(2, 6, n),
            "gender": rng.choice([1, 2], n, p=[0.35, 0.65]),
        }
    )
    for item in ("q1", "q2", "q3"):
        frame[item] = rng.choice([1, 2, 3, 4, 5, 9], n, p=[0.05, 0.1, 0.2, 0.35, 0.25, 0.05])
    totals = pd.DataFrame(
        [
            ("U1", "gender", "1", 240.0),
            ("U1", "gender", "2", 260.0),
            ("U1", "group", "individual", 380.0),
            ("U1", "group", "organisation", 120.0),
            ("U2", "gender", "1", 150.0),
            ("U2", "gender", "2", 250.0),
            ("U2", "group", "individual", 300.0),
            ("U2", "group", "organisation", 100.0),
        ],
        columns=["unit", "variable", "category", "total"],
    )
    return frame, totals


def test_raked_weights_and_indices_are_rs(rscript, small_spec, tmp_path):
    frame, totals = sample()
    frame.to_csv(tmp_path / "raking.csv", index=False)
    totals.to_csv(tmp_path / "totals.csv", index=False)
    rscript.run(R_SCRIPT, tmp_path)
    prepared = prepare_responses(frame, small_spec)
    mine = rake_weights(prepared, totals)
    theirs = pd.read_csv(tmp_path / "raked.csv")
    np.testing.assert_allclose(mine, theirs.weight.to_numpy(), rtol=1e-8)
    # every margin met in every unit
    raked = prepared.assign(weight=mine)
    by_gender = raked.groupby(["unit", prepared.gender.astype(int).astype(str)]).weight.sum()
    assert by_gender[("U1", "1")] == pytest.approx(240.0)
    result = score(frame, small_spec, MAPPING, min_n=5, raking_totals=totals)
    assert result.settings["raking"] == ["gender", "group"]
    estimates = pd.read_csv(tmp_path / "raked_estimates.csv").set_index("unit")
    q1 = result.indices[
        (result.indices.code == "q1")
        & (result.indices.formula == "satisfaction_rate")
        & (result.indices.groups == "individual+organisation")
    ].set_index("unit")
    for unit in ("U1", "U2"):
        assert q1.at[unit, "estimate"] == pytest.approx(estimates.at[unit, "estimate"], rel=1e-8)


def test_every_problem_with_the_totals_is_named_at_once(small_spec):
    frame, totals = sample()
    prepared = prepare_responses(frame, small_spec)
    bad = pd.concat(
        [
            totals[~((totals.unit == "U1") & (totals.category == "2"))],  # a code without total
            pd.DataFrame(
                [("U2", "gender", "3", 10.0), ("U2", "district", "7", 5.0)], columns=totals.columns
            ),
        ],
        ignore_index=True,
    )
    with pytest.raises(ScoringError) as caught:
        rake_weights(prepared, bad)
    message = caught.value.message_en
    assert "unit U1, variable 'gender': no total for code(s) 2" in message
    assert "unit U2, variable 'gender': nobody answered code(s) 3" in message
    assert "unit U2: variable 'district' is not in the responses" in message
    with pytest.raises(ScoringError, match="total must hold positive numbers"):
        rake_weights(prepared, totals.assign(total=["x", *totals.total[1:]]))
