"""Standard errors, design effects, degrees of freedom and intervals against R's ``survey``.

One R run computes every reference figure of this module (R starts slowly): for
generated stratified samples with single-respondent strata (each method of
``single_respondent_strata`` against R's ``options(survey.lonely.psu = ...)``, and
``collapse`` against R on the collapsed strata), with and without the finite population
correction; and for a PPS draw made by :mod:`sampling` (Hansen–Hurwitz approximation,
certainty units apart, against ``svydesign(probs = ...)``; and no smaller than R's
Brewer approximation ``pps = "brewer"``). Items are compared through ``svymean`` on the
domain's valid answers (``deff = TRUE`` with the correction, ``"replace"`` without),
``svyciprop(method = "beta")`` and ``degf``; the overall index (a mean of element means)
through ``svytotal`` and ``svycontrast`` (the delta method, written independently of
ours).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sampling import SampleDesign, draw_sample
from scoring_bridge.design import CERTAINTY_SUFFIX
from scoring_bridge.estimators import compute_indices
from scoring_bridge.inputs import prepare_responses

ITEMS = ("q1", "q2", "q3")
# overall = mean of E1 = (q1 + q2)/2 and E2 = q3
OVERALL = "0.25*y_q1/v_q1 + 0.25*y_q2/v_q2 + 0.5*y_q3/v_q3"


def stratified_sample(seed: int = 20261201) -> pd.DataFrame:
    """Six units, strata unit × group × half, weights N_h/n_h, some strata of one respondent.

    U1: organisation-1 has one respondent (partner: organisation-0, same group);
    U2: organisation-0 has one and no other organisation stratum (partner: the individual
    stratum with the closest weight); U5 is small and everyone is satisfied with q1;
    U6 has a single stratum with a single respondent (no partner: 'adjust').
    """
    rng = np.random.default_rng(seed)
    plan = {
        ("U1", "individual", 0): 14,
        ("U1", "individual", 1): 9,
        ("U1", "organisation", 0): 5,
        ("U1", "organisation", 1): 1,
        ("U2", "individual", 0): 12,
        ("U2", "individual", 1): 6,
        ("U2", "organisation", 0): 1,
        ("U3", "individual", 0): 20,
        ("U3", "organisation", 0): 8,
        ("U4", "individual", 0): 9,
        ("U4", "individual", 1): 2,
        ("U5", "individual", 0): 6,
        ("U6", "individual", 0): 1,
    }
    rows = []
    for (unit, group, half), n in plan.items():
        population = int(n * rng.integers(2, 12)) + 1
        for _ in range(n):
            rows.append((unit, group, f"{unit}-{group}-{half}", population / n, population))
    frame = pd.DataFrame(rows, columns=["unit", "group", "stratum", "weight", "N_h"])
    frame.insert(0, "response_id", [f"r{i}" for i in range(len(frame))])
    quality = frame.unit.map({"U1": 0.3, "U2": -0.2, "U3": 0.6, "U4": 0.0, "U5": 1.0, "U6": 0})
    for item in ITEMS:
        level = rng.normal(3.6 + quality, 1.0)
        answers = np.clip(np.round(level), 1, 5)
        answers[rng.random(len(frame)) < 0.08] = 9
        frame[item] = answers
    frame.loc[frame.unit == "U5", "q1"] = rng.choice([4, 5], (frame.unit == "U5").sum())
    return frame


def pps_sample(seed: int = 7) -> pd.DataFrame:
    """A PPS systematic draw by :func:`sampling.draw_sample`, with certainty units."""
    rng = np.random.default_rng(seed)
    size = 900
    frame = pd.DataFrame(
        {
            "unit": rng.choice(["U1", "U2", "U3"], size),
            "group": rng.choice(["individual", "organisation"], size, p=[0.7, 0.3]),
            "size": rng.lognormal(0.0, 1.0, size),
        }
    )
    frame.loc[[3, 10, 50, 77, 200], "size"] = 400.0
    design = SampleDesign(
        strata=("unit", "group"), n=120, method="pps_systematic", size_measure="size"
    )
    table = draw_sample(frame, design, seed=11).table.reset_index(drop=True)
    sample = pd.DataFrame(
        {
            "response_id": [f"p{i}" for i in range(len(table))],
            "unit": table["unit"].astype(str),
            "group": table["group"].astype(str),
            "stratum": table["stratum"].astype(str),
            "weight": table["weight"].astype(float),
            "inclusion_prob": table["inclusion_prob"].astype(float),
        }
    )
    for item in ITEMS:
        level = rng.normal(3.4 + 0.3 * np.log(table["size"].to_numpy()), 1.0)
        answers = np.clip(np.round(level), 1, 5)
        answers[rng.random(len(sample)) < 0.05] = 9
        sample[item] = answers
    return sample


def r_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """What R reads: per item y (100 if satisfied), v (valid) and b (0/1 satisfied)."""
    out = frame.copy()
    for item in ITEMS:
        valid = out[item].between(1, 5)
        satisfied = out[item].isin([4, 5])
        out[f"v_{item}"] = valid.astype(int)
        out[f"b_{item}"] = satisfied.astype(int)
        out[f"y_{item}"] = 100 * (satisfied & valid).astype(int)
    return out


R_SCRIPT = r"""
suppressMessages(library(survey))
options(warn = -1)
items <- c("q1", "q2", "q3")
overall <- quote(OVERALL_EXPRESSION)

figures <- function(des, data, scenario, deff_kind) {
  rows <- list()
  for (u in sort(unique(data$unit))) {
    for (g in c("all", sort(unique(data$group[data$unit == u])))) {
      dom <- if (g == "all") data$unit == u else data$unit == u & data$group == g
      for (k in items) {
        valid <- dom & data[[paste0("v_", k)]] == 1
        if (sum(valid) == 0) next
        sub <- des[valid, ]
        m <- svymean(as.formula(paste0("~b_", k)), sub, deff = deff_kind)
        ci <- attr(svyciprop(as.formula(paste0("~b_", k)), sub, method = "beta"), "ci")
        rows[[length(rows) + 1]] <- data.frame(
          scenario = scenario, unit = u, group = g, code = k,
          estimate = 100 * coef(m)[[1]], se = 100 * SE(m)[[1]],
          deff = as.numeric(deff(m))[1], df = degf(sub),
          ci_low = 100 * ci[[1]], ci_high = 100 * ci[[2]])
      }
      have <- all(sapply(items, function(k) sum(dom & data[[paste0("v_", k)]] == 1) > 0))
      if (have) {
        sub <- des[dom, ]
        totals <- svytotal(~y_q1 + y_q2 + y_q3 + v_q1 + v_q2 + v_q3, sub)
        con <- svycontrast(totals, overall)
        rows[[length(rows) + 1]] <- data.frame(
          scenario = scenario, unit = u, group = g, code = "overall",
          estimate = coef(con)[[1]], se = SE(con)[[1]], deff = NA, df = degf(sub),
          ci_low = NA, ci_high = NA)
      }
    }
  }
  do.call(rbind, rows)
}

s <- read.csv("strata.csv", stringsAsFactors = FALSE)
results <- list()
for (method in c("adjust", "certainty")) {
  options(survey.lonely.psu = method)
  des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~N_h, data = s)
  results[[length(results) + 1]] <- figures(des, s, paste0(method, "-fpc"), TRUE)
}
options(survey.lonely.psu = "adjust")
des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = s)
results[[length(results) + 1]] <- figures(des, s, "adjust-nofpc", "replace")
# collapse: our merged strata given to R as the design's strata (N added up); a stratum
# left alone (no partner in its unit) is R's "adjust"
des <- svydesign(ids = ~1, strata = ~collapsed, weights = ~weight, fpc = ~collapsed_N, data = s)
results[[length(results) + 1]] <- figures(des, s, "collapse-fpc", TRUE)

p <- read.csv("pps.csv", stringsAsFactors = FALSE)
des <- svydesign(ids = ~1, strata = ~vstratum, probs = ~inclusion_prob, fpc = ~wr_fpc, data = p)
results[[length(results) + 1]] <- figures(des, p, "pps", "replace")
brewer <- svydesign(ids = ~1, strata = ~vstratum, probs = ~inclusion_prob,
                    fpc = ~inclusion_prob, pps = "brewer", data = p)
results[[length(results) + 1]] <- figures(brewer, p, "pps-brewer", "replace")
write.csv(do.call(rbind, results), "r_figures.csv", row.names = FALSE)
""".replace("OVERALL_EXPRESSION", OVERALL)


@pytest.fixture(scope="module")
def computed(rscript, small_spec, tmp_path_factory):
    """Our tables per scenario, and R's figures for the same data."""
    workdir = tmp_path_factory.mktemp("r-design")
    strata = stratified_sample()
    population = strata.groupby("stratum")["N_h"].first().to_dict()
    prepared = prepare_responses(strata, small_spec)
    ours = {}
    for method in ("adjust", "certainty", "collapse"):
        ours[f"{method}-fpc"] = compute_indices(
            prepared,
            small_spec,
            min_n=1,
            stratum_population=population,
            single_respondent_strata=method,
        )
    ours["adjust-nofpc"] = compute_indices(
        prepared, small_spec, min_n=1, single_respondent_strata="adjust"
    )
    merged = ours["collapse-fpc"].attrs["design"]["collapsed_strata"]
    strata["collapsed"] = strata.stratum.map(lambda s: merged.get(s, s))
    strata["collapsed_N"] = strata.groupby("collapsed")["stratum"].transform(
        lambda members: sum(population[m] for m in set(members))
    )
    r_columns(strata).to_csv(workdir / "strata.csv", index=False)

    pps = pps_sample()
    ours["pps"] = compute_indices(
        prepare_responses(pps, small_spec), small_spec, min_n=1, selection="pps"
    )
    certain = pps.inclusion_prob >= 1 - 1e-9
    pps["vstratum"] = np.where(certain, pps.stratum + CERTAINTY_SUFFIX, pps.stratum)
    pps["wr_fpc"] = np.where(certain, pps.groupby("vstratum")["unit"].transform("size"), np.inf)
    r_columns(pps).to_csv(workdir / "pps.csv", index=False)

    rscript.run(R_SCRIPT, workdir)
    reference = pd.read_csv(workdir / "r_figures.csv", dtype={"unit": str})
    return ours, reference, strata, pps


def _ours(table: pd.DataFrame, unit: str, group: str, code: str) -> pd.Series:
    groups = "individual+organisation" if group == "all" else group
    hit = table[
        (table.unit == unit)
        & (table.groups == groups)
        & (table.code == code)
        & (table.formula == "satisfaction_rate")
    ]
    if hit.empty and group == "all":  # a unit with one group: the pooled domain is that group
        hit = table[
            (table.unit == unit)
            & ~table.groups.str.contains("+", regex=False)
            & (table.code == code)
            & (table.formula == "satisfaction_rate")
        ]
    assert len(hit) == 1, (unit, group, code)
    return hit.iloc[0]


@pytest.mark.parametrize(
    "scenario", ["adjust-fpc", "certainty-fpc", "adjust-nofpc", "collapse-fpc", "pps"]
)
def test_estimates_standard_errors_and_degrees_of_freedom_match_r(computed, scenario):
    ours, reference, _, _ = computed
    rows = reference[reference.scenario == scenario]
    assert len(rows) > 20
    for ref in rows.itertuples():
        mine = _ours(ours[scenario], ref.unit, ref.group, ref.code)
        where = f"{scenario} {ref.unit}/{ref.group}/{ref.code}"
        assert mine.estimate == pytest.approx(ref.estimate, rel=1e-9, abs=1e-9), where
        assert mine.se == pytest.approx(ref.se, rel=1e-7, abs=1e-8), where
        assert mine.df == ref.df, where


@pytest.mark.parametrize("scenario", ["adjust-fpc", "adjust-nofpc", "collapse-fpc", "pps"])
def test_design_effects_match_r(computed, scenario):
    ours, reference, _, _ = computed
    rows = reference[(reference.scenario == scenario) & reference.deff.notna()]
    assert len(rows) > 20
    for ref in rows.itertuples():
        mine = _ours(ours[scenario], ref.unit, ref.group, ref.code)
        assert mine.deff == pytest.approx(ref.deff, rel=1e-7), (scenario, ref.unit, ref.code)


@pytest.mark.parametrize("scenario", ["adjust-fpc", "collapse-fpc", "pps"])
def test_korn_graubard_intervals_match_svyciprop_beta(computed, scenario):
    ours, reference, _, _ = computed
    rows = reference[(reference.scenario == scenario) & (reference.code != "overall")]
    compared = 0
    for ref in rows.itertuples():
        mine = _ours(ours[scenario], ref.unit, ref.group, ref.code)
        if np.isnan(ref.ci_low):
            # R gives no interval when every answer is alike (n* = 0/0); ours falls back
            # to Kish's effective size and is never a zero-width "measurement"
            assert mine.se == 0 and mine.ci_high - mine.ci_low > 1.0
            assert "no_variation" in mine["flags"]
            continue
        assert mine.ci_low == pytest.approx(ref.ci_low, rel=1e-6, abs=1e-6)
        assert mine.ci_high == pytest.approx(ref.ci_high, rel=1e-6, abs=1e-6)
        compared += 1
    assert compared > 20


def test_single_respondent_methods_differ_as_r_says(computed):
    ours, reference, _, _ = computed
    adjust = reference[(reference.scenario == "adjust-fpc") & (reference.unit == "U1")]
    certainty = reference[(reference.scenario == "certainty-fpc") & (reference.unit == "U1")]
    # the lone organisation respondent of U1 adds variance under "adjust", none under
    # "certainty": the earlier zero contribution understated the standard error
    assert (
        adjust.set_index(["group", "code"]).se >= certainty.set_index(["group", "code"]).se
    ).all()
    assert (adjust.se.to_numpy() > certainty.se.to_numpy() + 1e-9).any()


def test_affected_cells_are_flagged(computed):
    ours, _, _, _ = computed
    for method in ("adjust", "certainty", "collapse"):
        table = ours[f"{method}-fpc"]
        flagged = table[table["flags"].str.contains("single_respondent_stratum")]
        units = set(flagged.unit)
        # U1, U2 and U6 hold single-respondent strata; U3, U4, U5 do not
        assert {"U1", "U2", "U6"} <= units and not units & {"U3", "U4", "U5"}, method
    u1 = ours["collapse-fpc"]
    u1 = u1[(u1.unit == "U1") & (u1.groups == "individual")]
    assert not u1["flags"].str.contains("single_respondent_stratum").any()  # not merged


def test_collapse_partners_are_the_most_similar_strata_of_the_unit(computed):
    ours, _, strata, _ = computed
    design = ours["collapse-fpc"].attrs["design"]
    merged = design["collapsed_strata"]
    assert merged["U1-organisation-1"] == merged["U1-organisation-0"]  # same group first
    weights = strata.groupby("stratum").weight.first()
    partner = min(
        ("U2-individual-0", "U2-individual-1"),
        key=lambda s: abs(weights[s] - weights["U2-organisation-0"]),
    )
    assert merged["U2-organisation-0"] == merged[partner]
    assert design["adjusted_strata"] == ["U6-individual-0"]  # no other stratum in U6
    assert sorted(design["single_respondent_strata_list"]) == [
        "U1-organisation-1",
        "U2-organisation-0",
        "U6-individual-0",
    ]


def test_pps_certainty_units_carry_no_variance_and_the_approximation_is_conservative(
    computed,
):
    ours, reference, _, pps = computed
    assert (pps.inclusion_prob >= 1 - 1e-9).sum() >= 3
    assert ours["pps"].attrs["design"]["certainty_respondents"] >= 3
    wr = reference[reference.scenario == "pps"].set_index(["unit", "group", "code"])
    brewer = reference[reference.scenario == "pps-brewer"].set_index(["unit", "group", "code"])
    # Hansen–Hurwitz (with replacement) overstates a without-replacement PPS variance:
    # never below R's Brewer approximation, which uses each unit's probability
    assert (wr.se >= brewer.se.reindex(wr.index) - 1e-12).all()
