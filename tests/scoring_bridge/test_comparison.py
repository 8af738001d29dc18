"""Year on year across a reorganisation: hand-worked examples of merged and split units."""

import math

import numpy as np
import pandas as pd
import pytest

from scoring_bridge import ScoringError
from scoring_bridge.comparison import combine_previous

# Last year: A (80.0 %, 50 responses) and B (90.0 %, 150) merged wholly into X; C
# (70.0 %, 100) was split: 40 % of it went to X, 60 % to Y. D had no result.
PREVIOUS = pd.DataFrame(
    {"unit": ["A", "B", "C", "D"], "overall_index": [80.0, 90.0, 70.0, None],
     "responses": [50, 150, 100, 0]}
)  # fmt: skip
LINKS = pd.DataFrame(
    {
        "old": ["A", "B", "C", "C", "D"],
        "new": ["X", "X", "X", "Y", "Z"],
        "share": [None, None, 0.4, 0.6, None],
        "population": [20_000, 30_000, 8_000, 12_000, 5_000],
    }
)
NAMES = {"A": "Phường A", "B": "Phường B", "C": "Xã C", "D": "Xã D"}


def by_unit(frame):
    return frame.set_index("unit")


def test_weighted_by_responses_by_hand():
    result = by_unit(combine_previous(PREVIOUS, LINKS, "responses", names=NAMES))
    # X: weights 50, 150 and 0.4 x 100 = 40 -> (50·80 + 150·90 + 40·70) / 240 = 20300 / 240
    assert result.loc["X", "overall_index"] == pytest.approx(84.583333, abs=1e-6)
    assert result.loc["X", "overall_index"] == pytest.approx(
        np.average([80, 90, 70], weights=[50, 150, 40])
    )
    assert not result.loc["X", "like_for_like"]
    assert result.loc["X", "previous_units"] == "A; B; C"
    assert result.loc["X", "previous_note"].startswith("Gộp từ 3 đơn vị: Phường A, Phường B, Xã C")
    assert "một phần của Xã C (tỷ lệ 0.4)" in result.loc["X", "previous_note"]
    assert "weighted by responses" in result.loc["X", "previous_note_en"]
    # Y: only the 60 % part of C: C's whole index, said to be a part.
    assert result.loc["Y", "overall_index"] == 70.0
    assert "Part of Xã C (share 0.6)" in result.loc["Y", "previous_note_en"]
    # Z: its only predecessor had no result.
    assert math.isnan(result.loc["Z", "overall_index"])
    assert "no previous result: Xã D" in result.loc["Z", "previous_note_en"]


def test_weighted_by_population_by_hand():
    result = by_unit(combine_previous(PREVIOUS, LINKS, "population", names=NAMES))
    # X: (20000·80 + 30000·90 + 8000·70) / 58000 = 4 860 000 / 58 000
    assert result.loc["X", "overall_index"] == pytest.approx(83.793103, abs=1e-6)
    assert result.loc["X", "previous_basis"] == "population"
    missing = LINKS.assign(population=[20_000, None, 8_000, 12_000, 5_000])
    result = by_unit(combine_previous(PREVIOUS, missing, "population", names=NAMES))
    assert math.isnan(result.loc["X", "overall_index"])
    assert "no population for Phường B" in result.loc["X", "previous_note_en"]
    assert result.loc["Y", "overall_index"] == 70.0


def test_like_for_like_and_new_units():
    previous = pd.DataFrame({"unit": ["P"], "overall_index": [88.0], "responses": [40]})
    links = pd.DataFrame({"old": ["P"], "new": ["Q"], "share": [None], "population": [None]})
    result = by_unit(combine_previous(previous, links, current_units=["Q", "NEW"]))
    assert result.loc["Q", "overall_index"] == 88.0 and result.loc["Q", "like_for_like"]
    assert result.loc["Q", "previous_note"] == ""
    assert math.isnan(result.loc["NEW", "overall_index"])
    assert result.loc["NEW", "previous_note_en"] == "A new unit with no predecessor."


def test_split_without_known_shares_takes_equal_parts():
    previous = pd.DataFrame({"unit": ["S", "T"], "overall_index": [60.0, 90.0],
                             "responses": [100, 100]})  # fmt: skip
    links = pd.DataFrame({"old": ["S", "S", "T"], "new": ["U", "V", "U"],
                          "share": [None, None, None], "population": [None] * 3})  # fmt: skip
    result = by_unit(combine_previous(previous, links))
    # U: S counts for half its respondents: (50·60 + 100·90) / 150 = 80
    assert result.loc["U", "overall_index"] == pytest.approx(80.0)
    assert "equal parts, shares unknown" in result.loc["U", "previous_note_en"]


def test_not_comparable_rule_and_bad_rule():
    result = by_unit(combine_previous(PREVIOUS, LINKS, "not_comparable"))
    assert result["overall_index"].isna().all()
    assert result.loc["X", "previous_note_en"].startswith("Not compared")
    with pytest.raises(ScoringError):
        combine_previous(PREVIOUS, LINKS, "median")
    with pytest.raises(ScoringError, match="responses"):
        combine_previous(PREVIOUS.drop(columns="responses"), LINKS, "responses")
