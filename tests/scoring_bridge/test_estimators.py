"""Indices, standard errors and CIs: a hand-worked example and an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scoring_bridge.estimators import Formula, compute_indices
from scoring_bridge.inputs import prepare_responses

# Hand-worked example (fixture hand_responses): unit U1, one group, two strata.
#   stratum A: weight 2, q1 = 5, 4, 2        stratum B: weight 4, q1 = 4, 1
# Satisfaction rate of q1 (satisfied = 4 or 5):
#   Σwy = 2+2+0+4+0 = 8, X = Σwv = 6+8 = 14, R = 8/14 = 4/7 = 57.142857 %
# Linearised u_i = w_i (y_i − R v_i) / X:
#   A: 3/49, 3/49, −4/49  → Σu = 2/49, Σu² = 34/2401, Σ(u−ū)² = (34 − 4/3)/2401 = 2/147
#      × n/(n−1) = 3/2 → 1/49
#   B: 6/49, −8/49        → Σ(u−ū)² = (100 − 2)/2401 = 2/49, × 2/1 → 4/49
#   v(R) = 5/49 → SE = √5/7 = 0.3194 → 31.94 percentage points.
# With N_A = 6 and N_B = 4 both sampling fractions are 1/2: v(R) = 5/98.
# Mean score of q1: Σwy = 2·11 + 4·5 = 42 → 42/14 = 3.0;
#   u·14 = A: 4, 2, −2 (Σ 4, Σu² 24 → (24 − 16/3)·3/2 = 28) B: 4, −8 (Σ −4, Σu² 80 → 72·2 = 144)
#   v = (28 + 144)/196 = 43/49 → SE = √43/7.
# q2 has "don't know" (9) for r2, which leaves the denominator: 3 of 4 valid satisfied
#   with weights: (2+2+4)/(2+2+4+4) = 2/3.
# Element E1 = (4/7 + 2/3)/2 = 13/21 = 61.9048 %; with
#   z_i = ½[(y1 − R1 v1)/14 + (y2 − R2 v2)/12], u = w z:
#   A: 103/1764, 3/98, −23/1764 → 247/63504;  B: −22/441, −23/882 → 1/1764
#   v(E1) = 283/63504 → SE = 6.675636 points.
# Korn–Graubard interval of q1: p = 4/7, v_p = 5/49, n = 5 valid answers in 2 strata → df 3;
#   n* = p(1 − p)/v_p · (t₄/t₃)² = 2.4 · (2.776445/3.182446)²;
#   ends Beta⁻¹(0.025; n*p, n*(1 − p) + 1) and Beta⁻¹(0.975; n*p + 1, n*(1 − p)).
# Design effect of q1 (no fpc): v_srs = Σw(y − R)²/(X (n − 1)); Σw(y − R)² = 8 − R·8 = 24/7,
#   v_srs = (24/7)/(14·4) = 3/49 → deff = (5/49)/(3/49) = 5/3. Kish n_eff = 14²/(3·4 + 2·16) = 196/44.


def _row(table, code, formula="satisfaction_rate", groups="individual"):
    hit = table[(table.code == code) & (table.formula == formula) & (table.groups == groups)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_hand_worked_satisfaction_rate_mean_score_and_element(small_spec, hand_responses):
    table = compute_indices(prepare_responses(hand_responses, small_spec), small_spec, min_n=1)
    q1 = _row(table, "q1")
    assert q1.estimate == pytest.approx(100 * 4 / 7)
    assert q1.se == pytest.approx(100 * math.sqrt(5) / 7)
    assert q1.n == 5
    assert q1.estimate_unweighted == pytest.approx(60.0)
    assert q1.deff == pytest.approx(5 / 3)
    assert q1.n_eff == pytest.approx(196 / 44)
    assert q1.df == 3
    mean = _row(table, "q1", "mean_score")
    assert mean.estimate == pytest.approx(3.0)
    assert mean.se == pytest.approx(math.sqrt(43) / 7)
    q2 = _row(table, "q2")
    assert q2.estimate == pytest.approx(100 * 2 / 3)
    assert q2.n == 4
    element = _row(table, "E1")
    assert element.level == "element"
    assert element.estimate == pytest.approx(100 * 13 / 21)
    assert element.se == pytest.approx(100 * math.sqrt(283 / 63504))
    assert element.ci_low < element.estimate < element.ci_high


def test_korn_graubard_interval_of_the_hand_worked_example(small_spec, hand_responses):
    from scipy import stats

    table = compute_indices(prepare_responses(hand_responses, small_spec), small_spec, min_n=1)
    q1 = _row(table, "q1")
    p = 4 / 7
    n_star = 2.4 * (stats.t.ppf(0.975, 4) / stats.t.ppf(0.975, 3)) ** 2
    assert n_star == pytest.approx(2.4 * (2.776445 / 3.182446) ** 2, rel=1e-6)
    low = stats.beta.ppf(0.025, n_star * p, n_star * (1 - p) + 1)
    high = stats.beta.ppf(0.975, n_star * p + 1, n_star * (1 - p))
    assert q1.ci_low == pytest.approx(100 * low)
    assert q1.ci_high == pytest.approx(100 * high)
    # the interval lies inside the scale without clipping, and is not symmetric
    assert 0 < q1.ci_low < q1.estimate < q1.ci_high < 100
    assert q1.ci_high - q1.estimate != pytest.approx(q1.estimate - q1.ci_low)


def test_finite_population_correction_scales_variance(small_spec, hand_responses):
    prepared = prepare_responses(hand_responses, small_spec)
    table = compute_indices(prepared, small_spec, min_n=1, stratum_population={"A": 6, "B": 4})
    assert _row(table, "q1").se == pytest.approx(100 * math.sqrt(5 / 98))


def test_a_cell_without_variation_gets_an_interval_from_its_effective_size(
    small_spec, hand_responses
):
    # Everyone satisfied with q1: the design variance is 0, but 5 answers do not measure
    # 100% exactly. The interval uses Kish's n_eff = 14²/44 and is one-sided at 100.
    frame = hand_responses.assign(q1=[5, 4, 5, 4, 5])
    table = compute_indices(prepare_responses(frame, small_spec), small_spec, min_n=1)
    q1 = _row(table, "q1")
    assert q1.estimate == 100.0 and q1.se == 0.0
    assert q1.ci_high == 100.0
    assert q1.ci_low == pytest.approx(100 * 0.025 ** (1 / (196 / 44)))  # Beta(n*, 1) quantile
    assert "no_variation" in q1["flags"].split(";")


def _reference(frame, spec, unit, groups, codes, score):
    """Textbook computation written with per-domain and per-stratum loops."""
    domain = (frame.unit == unit) & frame.group.isin(groups)
    ratios, z = [], pd.Series(0.0, index=frame.index)
    usable = []
    for code in codes:
        answers = frame[code]
        valid = answers.isin([1, 2, 3, 4, 5]) & domain
        y = answers.where(valid, 0).map(score).where(valid, 0.0)
        total_x = (frame.weight * valid).sum()
        if total_x == 0:
            continue
        ratio = (frame.weight * y).sum() / total_x
        ratios.append(ratio)
        usable.append((y, valid, ratio, total_x))
    for y, valid, ratio, total_x in usable:
        z += (y - ratio * valid) / total_x / len(usable)
    return float(np.mean(ratios)), z


def _variance(frame, z):
    u = frame.weight * z
    variance = 0.0
    for _, rows in u.groupby(frame.stratum):
        n_h = len(rows)
        if n_h > 1:
            variance += n_h / (n_h - 1) * float(((rows - rows.mean()) ** 2).sum())
    return variance


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_independent_loop_computation(small_spec, make_responses, seed):
    raw = make_responses(small_spec, seed)
    table = compute_indices(prepare_responses(raw, small_spec), small_spec, min_n=1)
    frame = raw[raw.is_probability].reset_index(drop=True)
    satisfied = {c: 100.0 * (c >= 4) for c in range(10)}
    for unit in ("U1", "U3"):
        for groups in (["organisation"], ["individual", "organisation"]):
            label = "+".join(groups)
            mine = table[(table.unit == unit) & (table.groups == label)]
            mine = mine[mine.formula == "satisfaction_rate"].set_index("code")
            est, z = _reference(frame, small_spec, unit, groups, ["q2"], satisfied)
            assert mine.loc["q2", "estimate"] == pytest.approx(est)
            assert mine.loc["q2", "se"] == pytest.approx(math.sqrt(_variance(frame, z)))
            e1, z1 = _reference(frame, small_spec, unit, groups, ["q1", "q2"], satisfied)
            e2, z2 = _reference(frame, small_spec, unit, groups, ["q3"], satisfied)
            assert mine.loc["E1", "estimate"] == pytest.approx(e1)
            assert mine.loc["E1", "se"] == pytest.approx(math.sqrt(_variance(frame, z1)))
            assert mine.loc["overall", "estimate"] == pytest.approx((e1 + e2) / 2)
            overall_se = math.sqrt(_variance(frame, (z1 + z2) / 2))
            assert mine.loc["overall", "se"] == pytest.approx(overall_se)


def test_mean_score_and_answer_table_match_reference(small_spec, make_responses):
    raw = make_responses(small_spec, 7)
    table = compute_indices(
        prepare_responses(raw, small_spec),
        small_spec,
        formulas=("mean_score",),
        composite_formulas=(Formula("answer_table", ((5, 100), (4, 75), (3, 50), (2, 0), (1, 0))),),
        min_n=1,
    )
    frame = raw[raw.is_probability].reset_index(drop=True)
    rows = table[(table.unit == "U2") & (table.groups == "individual")].set_index(
        ["formula", "code"]
    )
    est, z = _reference(
        frame, small_spec, "U2", ["individual"], ["q3"], {c: float(c) for c in range(10)}
    )
    assert rows.loc[("mean_score", "q3"), "estimate"] == pytest.approx(est)
    assert rows.loc[("mean_score", "q3"), "se"] == pytest.approx(math.sqrt(_variance(frame, z)))
    table_scores = {5: 100.0, 4: 75.0, 3: 50.0, 2: 0.0, 1: 0.0, 0: 0.0, 9: 0.0}
    est, z = _reference(frame, small_spec, "U2", ["individual"], ["q1", "q2"], table_scores)
    name = "answer_table[5=100,4=75,3=50,2=0,1=0]"
    assert rows.loc[(name, "E1"), "estimate"] == pytest.approx(est)
    assert rows.loc[(name, "E1"), "se"] == pytest.approx(math.sqrt(_variance(frame, z)))


def test_walk_in_responses_are_left_out_unless_asked(small_spec, hand_responses):
    walk_in = hand_responses.copy()
    walk_in["is_probability"] = [True, True, True, True, False]
    walk_in.loc[4, "weight"] = np.nan  # walk-ins need no weight when they are left out
    prepared = prepare_responses(walk_in, small_spec)
    without = _row(compute_indices(prepared, small_spec, min_n=1), "q1")
    assert without.n == 4
    # r5 answered q1 = 1 (not satisfied): without it Σwy = 8 over X = 10
    assert without.estimate == pytest.approx(80.0)
    walk_in.loc[4, "weight"] = 4.0
    included = compute_indices(
        prepare_responses(walk_in, small_spec), small_spec, min_n=1, include_nonprobability=True
    )
    assert _row(included, "q1").estimate == pytest.approx(100 * 4 / 7)


def test_small_cells_are_flagged_and_empty_cells_have_no_estimate(small_spec, hand_responses):
    frame = hand_responses.copy()
    frame["q3"] = [9, 9, None, 9, 9]
    table = compute_indices(prepare_responses(frame, small_spec), small_spec, min_n=5)
    assert _row(table, "q1")["flags"] == ""
    assert _row(table, "q2")["flags"] == "below_min_n"  # 4 valid answers
    q3 = _row(table, "q3")
    assert q3["flags"] == "no_data" and np.isnan(q3.estimate) and q3.n == 0
    assert _row(table, "E2")["flags"] == "no_data"
    overall = _row(table, "overall")
    assert overall.estimate == pytest.approx(_row(table, "E1").estimate)
    assert "partial" in overall["flags"]


def test_item_set_is_the_mean_of_its_items(small_spec, make_responses):
    raw = make_responses(small_spec, 3)
    table = compute_indices(
        prepare_responses(raw, small_spec), small_spec, item_sets={"c1": ["q1", "q3"]}, min_n=1
    )
    rows = table[(table.unit == "U1") & (table.groups == "individual")]
    rows = rows[rows.formula == "satisfaction_rate"].set_index("code")
    assert rows.loc["c1", "level"] == "item_set"
    assert rows.loc["c1", "estimate"] == pytest.approx(
        (rows.loc["q1", "estimate"] + rows.loc["q3", "estimate"]) / 2
    )
    # the item set does not change the overall index (mean of elements E1, E2)
    assert rows.loc["overall", "estimate"] == pytest.approx(
        (rows.loc["E1", "estimate"] + rows.loc["E2", "estimate"]) / 2
    )


def test_constant_and_varying_weight_paths_agree(small_spec, make_responses):
    raw = make_responses(small_spec, 5)
    # weights constant within strata use the count-based shortcut; nudging one weight by a
    # negligible amount forces the general path: the figures must agree.
    raw["weight"] = raw.groupby("stratum")["weight"].transform("first")
    constant = compute_indices(prepare_responses(raw, small_spec), small_spec, min_n=1)
    raw.loc[0, "weight"] *= 1 + 1e-9
    varying = compute_indices(prepare_responses(raw, small_spec), small_spec, min_n=1)
    np.testing.assert_allclose(constant.se, varying.se, rtol=1e-6)
    np.testing.assert_allclose(constant.estimate, varying.estimate, rtol=1e-6)


def test_categorical_columns_give_the_same_result(small_spec, make_responses):
    prepared = prepare_responses(make_responses(small_spec, 9), small_spec)
    as_categories = prepared.astype(
        {"unit": "category", "group": "category", "stratum": "category"}
    )
    pd.testing.assert_frame_equal(
        compute_indices(prepared, small_spec), compute_indices(as_categories, small_spec)
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), factor=st.floats(0.01, 100.0))
@example(seed=353, factor=5.0)  # a unit whose answers are all alike: SE exactly 0 both ways
def test_scaling_weights_or_shuffling_rows_changes_nothing(
    small_spec, make_responses, seed, factor
):
    # A ratio estimator and its linearised variance are invariant to a common weight
    # factor, and nothing may depend on row order.
    raw = make_responses(small_spec, seed, rows=120)
    base = compute_indices(prepare_responses(raw, small_spec), small_spec, min_n=1)
    scaled = raw.assign(weight=raw.weight * factor).sample(frac=1.0, random_state=seed)
    other = compute_indices(prepare_responses(scaled, small_spec), small_spec, min_n=1)
    np.testing.assert_allclose(other.estimate, base.estimate, rtol=1e-9)
    np.testing.assert_allclose(other.se, base.se, rtol=1e-7)


def test_questionnaire_without_elements_gives_item_indices_only(hand_responses):
    from scoring_bridge.spec import ScaleItem, SurveySpec

    spec = SurveySpec("flat", "Phẳng", "Flat", (ScaleItem("q1", None, "Q1", "Q1"),), ())
    table = compute_indices(prepare_responses(hand_responses, spec), spec, min_n=1)
    assert set(table.level) == {"item"}
    assert _row(table, "q1").estimate == pytest.approx(100 * 4 / 7)


def test_element_n_counts_respondents_with_any_valid_answer(small_spec):
    # Hand-worked: E1 = (q1, q2) where q1 is asked only in person and q2 only online (like
    # b1-b4 and b5-b8), E2 = q3. Weights 2 (r1-r3) and 4 (r4-r6).
    #   r1-r3: q1 = 5, 4, 2 (in person)   r4: q2 = 4 (online)   r5: q1 = q2 = 9, q3 = 3
    #   r6: no answer at all.
    # E1's n = respondents with a valid answer to q1 or q2 = r1..r4 = 4 (not q2's 1);
    #   n_eff = (2+2+2+4)² / (4+4+4+16) = 100/28.
    # Overall n = valid answer to any of q1, q2, q3 = r1..r5 = 5; n_eff = 14²/44.
    # E1 = mean(q1 = 4/6, q2 = 1) = 83.33 %.
    frame = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(1, 7)],
            "unit": "U1",
            "group": "individual",
            "stratum": ["A", "A", "A", "B", "B", "B"],
            "weight": [2.0, 2.0, 2.0, 4.0, 4.0, 4.0],
            "q1": [5, 4, 2, None, 9, None],
            "q2": [None, None, None, 4, 9, None],
            "q3": [None, None, None, None, 3, None],
        }
    )
    table = compute_indices(prepare_responses(frame, small_spec), small_spec, min_n=4)
    assert _row(table, "q1").n == 3 and _row(table, "q2").n == 1  # items on their own base
    element = _row(table, "E1")
    assert element.n == 4
    assert element.n_eff == pytest.approx(100 / 28)
    assert element.estimate == pytest.approx(100 * (4 / 6 + 1) / 2)
    assert "below_min_n" not in element["flags"]  # 4 respondents reach a minimum of 4
    overall = _row(table, "overall")
    assert overall.n == 5 and overall.n_respondents == 6
    assert overall.n_eff == pytest.approx(196 / 44)
