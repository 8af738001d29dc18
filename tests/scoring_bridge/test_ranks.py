"""Rank intervals, groups of units that cannot be told apart, and who gets a rank at all."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from scoring_bridge.ranks import comparison_se, differ, rank_table
from scoring_bridge.scoring import score

Z = 1.959963984540054


def _intervals(estimates, ses):
    estimates, ses = np.array(estimates, float), np.array(ses, float)
    return estimates, estimates - Z * ses, estimates + Z * ses


def test_hand_worked_ranks_intervals_and_groups():
    # A 90 (SE 1), B 88 (SE 1), C 80 (SE 2), D 79 (SE 0.5), E 60 (SE 3).
    # Differences against 1.96·√(sa² + sb²):
    #   A–B 2 < 2.77 (same)   A–C 10 > 4.38   A–D 11 > 2.19   A–E 30 > 6.20
    #   B–C 8 > 4.38          B–D 9 > 2.19    B–E 28 > 6.20
    #   C–D 1 < 4.04 (same)   C–E 20 > 7.07   D–E 19 > 5.96
    estimates, low, high = _intervals([90, 88, 80, 79, 60], [1, 1, 2, 0.5, 3])
    table = rank_table(estimates, low, high)
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert table["rank_low"].tolist() == [1, 1, 3, 3, 5]
    assert table["rank_high"].tolist() == [2, 2, 4, 4, 5]
    assert table["rank_group"].tolist() == [1, 1, 2, 2, 3]


def test_groups_are_consecutive_and_opened_by_the_first_unit_that_differs():
    # A 90 (SE 1), B 87 (SE 2), C 83.5 (SE 1): A–B 3 < 4.38 (same), A–C 6.5 > 2.77
    # (differ), B–C 3.5 < 4.38 (same). B stays in A's group, C opens group 2, and B's rank
    # interval still reaches C's rank.
    estimates, low, high = _intervals([90, 87, 83.5], [1, 2, 1])
    table = rank_table(estimates, low, high)
    assert table["rank_group"].tolist() == [1, 1, 2]
    assert table["rank_high"].tolist() == [2, 3, 3]
    assert table["rank_low"].tolist() == [1, 1, 2]


def test_ties_share_the_better_rank_and_the_order_of_input_does_not_matter():
    estimates, low, high = _intervals([70, 80, 80, 50], [1, 1, 1, 1])
    table = rank_table(estimates, low, high)
    assert table["rank"].tolist() == [3, 1, 1, 4]
    shuffled = rank_table(estimates[::-1], low[::-1], high[::-1])
    assert shuffled["rank"].tolist()[::-1] == table["rank"].tolist()
    assert shuffled["rank_group"].tolist()[::-1] == table["rank_group"].tolist()


def test_comparisons_use_the_published_interval_not_a_zero_se():
    # Unit 2's answers were all alike: SE 0, but its published interval is 80–100.
    se = comparison_se([70.0, 80.0], [80.0, 100.0])
    assert se == pytest.approx([10 / (2 * Z), 20 / (2 * Z)])
    assert not differ([85.0, 95.0], se)[0, 1]  # 10 < 1.96·√(2.55² + 5.10²) = 11.2
    assert differ([85.0, 95.0], [se[0], 0.0])[0, 1]  # with SE 0 it would "differ"


def _mapping(min_responses=5):
    return {
        "id": "test",
        "name": "Test",
        "min_responses": min_responses,
        "criteria": [
            {"code": "A", "name": "A", "max_points": 1.5, "source": {"element": "E1"}},
            {"code": "B", "name": "B", "max_points": 1.0, "source": {"element": "E2"}},
        ],
    }


def test_only_units_whose_every_criterion_meets_its_minimum_are_ranked(small_spec, make_responses):
    raw = make_responses(small_spec, 21, rows=400)
    # U2: nobody could answer q3 validly but E1 is fine: B not applicable, still ranked.
    raw.loc[raw.unit == "U2", "q3"] = 9
    # U3: q3 answered by only a few, so criterion B is below its minimum of 20.
    u3 = raw.index[raw.unit == "U3"]
    raw.loc[u3[5:], "q3"] = np.nan
    mapping = copy.deepcopy(_mapping(min_responses=20))
    result = score(raw, small_spec, mapping, units=["U1", "U2", "U3", "U9"])
    units = result.units.set_index("unit")
    assert units.at["U3", "status"] == "below_min_n" and pd.isna(units.at["U3", "rank"])
    assert units.at["U3", "criteria_scored"] == 1  # A still scored, B below the minimum
    assert units.at["U2", "status"] == "scored" and not pd.isna(units.at["U2", "rank"])
    assert units.at["U9", "status"] == "no_responses" and pd.isna(units.at["U9", "rank"])
    ranked = units[units["rank"].notna()]
    assert set(ranked.index) == {"U1", "U2"}
    assert (ranked.rank_low <= ranked["rank"]).all() and (ranked["rank"] <= ranked.rank_high).all()
    assert result.units.unit.tolist()[-2:] == ["U3", "U9"]


def test_min_responses_on_the_effective_size(small_spec, make_responses):
    raw = make_responses(small_spec, 22, rows=400)
    # very unequal weights in U1: n stays, Kish's n_eff drops well below it
    raw.loc[raw.unit == "U1", "weight"] = np.where(
        np.arange((raw.unit == "U1").sum()) % 10 == 0, 400.0, 1.0
    )
    on_n = score(raw, small_spec, _mapping(min_responses=40))
    mapping = {**_mapping(min_responses=40), "min_responses_basis": "n_eff"}
    on_eff = score(raw, small_spec, mapping)
    a_n = on_n.points.set_index(["unit", "criterion"]).loc[("U1", "A")]
    a_eff = on_eff.points.set_index(["unit", "criterion"]).loc[("U1", "A")]
    assert a_n.n >= 40 and a_n.status == "scored"
    assert a_eff.n_eff < 20 and a_eff.status == "below_min_n"
    assert "unreliable" in a_eff["flags"].split(";")  # below half the minimum
    assert on_eff.settings["min_n_basis"] == "n_eff"
