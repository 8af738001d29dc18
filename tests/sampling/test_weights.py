"""Nonresponse adjustment within strata (weighting classes)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import SampleDesign, WeightingError, adjust_for_nonresponse, draw_sample


def hand_table():
    # Stratum A: N = 100, n = 4 (w = 25) and 2 spares; stratum B: N = 30, n = 3 (w = 10).
    return pd.DataFrame(
        {
            "stratum": ["A"] * 6 + ["B"] * 3,
            "selection": ["primary"] * 4 + ["reserve"] * 2 + ["primary"] * 3,
            "weight": [25.0] * 6 + [10.0] * 3,
        }
    )


def test_hand_worked_adjustment():
    outcomes = pd.Series(
        ["respondent", "respondent", "nonrespondent", "ineligible", "respondent", None]
        + ["respondent", "nonrespondent", "respondent"]
    )
    weights = adjust_for_nonresponse(hand_table(), outcomes)
    # A: 5 released (4 primary + reserve 1): base 25 * 100/125 = 20 each.
    #    Eligible released: 4 (20 * 4 = 80); respondents 3 (60): factor 4/3 -> 26.667.
    #    Ineligible keeps 20; nonrespondent and the unreleased spare get 0.
    # B: no spare released: base 10; eligible 30, respondents 20: factor 1.5 -> 15.
    expected = [80 / 3, 80 / 3, 0, 20, 80 / 3, 0, 15, 0, 15]
    assert np.allclose(weights, expected)
    assert weights.groupby(hand_table()["stratum"]).sum().to_dict() == pytest.approx(
        {"A": 100.0, "B": 30.0}
    )


def test_outcomes_from_a_column_and_unknown_outcome_rejected():
    table = hand_table().assign(outcome=["respondent"] * 9)
    assert np.allclose(adjust_for_nonresponse(table, "outcome").iloc[:6], 100 / 6)
    with pytest.raises(WeightingError):
        adjust_for_nonresponse(table.assign(outcome="refused"), "outcome")


def test_outcomes_as_list_follow_table_order_whatever_the_index():
    table = hand_table().set_index(pd.Index(range(100, 109)))
    outcomes = ["respondent"] * 6 + ["respondent", "nonrespondent", "respondent"]
    weights = adjust_for_nonresponse(table, outcomes)
    assert weights.index.equals(table.index)
    assert np.allclose(weights, [100 / 6] * 6 + [15, 0, 15])


def test_class_without_respondents_rejected():
    outcomes = ["nonrespondent"] * 4 + [None, None] + ["respondent"] * 3
    with pytest.raises(WeightingError, match="A"):
        adjust_for_nonresponse(hand_table(), pd.Series(outcomes))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.data())
def test_adjustment_preserves_stratum_weight_totals(seed, data):
    frame = pd.DataFrame({"source_row": range(400), "unit": np.repeat(list("abcd"), 100)})
    table = draw_sample(frame, SampleDesign(strata="unit", n=40, reserve=5), seed=seed).table
    outcomes = data.draw(
        st.lists(
            st.sampled_from(["respondent", "nonrespondent", "ineligible", None]),
            min_size=len(table),
            max_size=len(table),
        )
    )
    outcomes = pd.Series(outcomes, index=table.index)
    primary = table["selection"] == "primary"
    outcomes[primary & (table.groupby("stratum").cumcount() == 0)] = "respondent"
    weights = adjust_for_nonresponse(table, outcomes)
    assert weights.groupby(table["stratum"]).sum().tolist() == pytest.approx([100.0] * 4)
    assert (weights[outcomes.isin(["nonrespondent"]) | outcomes.isna()] == 0).all()
