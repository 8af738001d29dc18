"""Allocation guards: a minimum per reporting domain, warnings for strata allocated 0 or 1,
and a Neyman error that names its real cause. Hand-worked examples."""

import numpy as np
import pandas as pd
import pytest

from sampling import (
    AllocationError,
    SampleDesign,
    allocation_warnings,
    draw_sample,
    plan,
)


def frame_of(sizes: dict, column: str = "unit") -> pd.DataFrame:
    labels = np.repeat(list(sizes), list(sizes.values()))
    return pd.DataFrame({"source_row": np.arange(2, len(labels) + 2), column: labels})


def n_h(table: pd.DataFrame) -> dict:
    return dict(zip(table["stratum"], table["n_h"].astype(int), strict=True))


SIZES = {"A": 500, "B": 300, "C": 150, "D": 10}


def test_every_domain_gets_two_by_default():
    """n = 20 proportional: D (10 of 960) would get 0.21 -> 0. With the minimum of 2 it is
    fixed at 2 and 18 go to A, B, C in ratio 500:300:150: 9.47, 5.68, 2.84; floors 9, 5,
    2 (+2) = 18; the 2 left go to the largest remainders, C (.84) and B (.68)."""
    assert n_h(plan(frame_of(SIZES), SampleDesign(strata="unit", n=20))) == {
        "A": 9, "B": 6, "C": 3, "D": 2,
    }  # fmt: skip
    unguarded = SampleDesign(strata="unit", n=20, min_per_domain=0)
    assert n_h(plan(frame_of(SIZES), unguarded))["D"] == 0


def test_the_minimum_is_configurable_and_a_smaller_list_is_taken_whole():
    """Minimum 3; E has one person: taken whole (1); D fixed at 3. 16 over A, B, C would
    give C 2.53 < 3: C is fixed at 3 too, and A, B share 13 in ratio 500:300: 8.125,
    4.875; floors 8 + 4 + 3 + 3 + 1 = 19, the last unit to B (.875)."""
    sizes = {**SIZES, "E": 1}
    table = plan(frame_of(sizes), SampleDesign(strata="unit", n=20, min_per_domain=3))
    assert n_h(table) == {"A": 8, "B": 5, "C": 3, "D": 3, "E": 1}
    [warning] = allocation_warnings(table)
    assert (warning.stratum, warning.N_h, warning.n_h) == ("E", 1, 1)
    assert warning.message_en == (
        "Stratum E has only 1 person in its list: no standard error can be computed for it."
    )


def test_a_domain_of_several_strata_gets_its_minimum_spread_over_them():
    """Strata unit × field, domains by unit. Unit X has fields a (10) and b (3), unit Y one
    field (100); n = 10. X's minimum 2 is spread 2·10/13 = 1.54 and 0.46 -> 2 and 0; Y's
    stratum gets 2. Then X|a is fixed at 2 (10λ < 2) and λ·103 = 8: X|b 0.23, Y 7.77;
    floors 2 + 0 + 7 = 9, the last unit to Y (.77 > .23)."""
    frame = pd.DataFrame(
        {
            "unit": ["X"] * 13 + ["Y"] * 100,
            "field": ["a"] * 10 + ["b"] * 3 + ["c"] * 100,
        }
    )
    design = SampleDesign(strata=("unit", "field"), domains=("unit",), n=10)
    table = plan(frame, design)
    assert n_h(table) == {"X | a": 2, "X | b": 0, "Y | c": 8}
    [warning] = allocation_warnings(table)
    assert warning.stratum == "X | b" and "is allocated nobody" in warning.message_en
    with pytest.raises(Exception, match="Reporting domains must be stratification columns"):
        SampleDesign(strata=("unit",), domains=("field",), n=10)


def test_fixed_size_per_stratum():
    """n = 5 in every stratum, a stratum smaller than that taken whole."""
    design = SampleDesign(strata="unit", n=5, per_stratum_size=True)
    assert n_h(plan(frame_of({"A": 30, "B": 8, "C": 1}), design)) == {"A": 5, "B": 5, "C": 1}


def test_strata_allocated_zero_or_one_are_warned_about():
    """Without the guard, n = 6 over 500, 300, 150, 10: 3.13, 1.88, 0.94, 0.06 -> 3, 1, 0, 0
    plus the 2 left to the largest remainders (.94, .88): A 3, B 2, C 1, D 0."""
    design = SampleDesign(strata="unit", n=6, min_per_domain=0)
    table = plan(frame_of(SIZES), design)
    assert n_h(table) == {"A": 3, "B": 2, "C": 1, "D": 0}
    warnings = allocation_warnings(table)
    assert [(w.stratum, w.n_h) for w in warnings] == [("C", 1), ("D", 0)]
    assert warnings[0].message_vi.startswith("Tầng C chỉ được phân bổ 1 người")
    assert warnings[1].message_en == (
        "Stratum D is allocated nobody (its list has 10 people): it is not in the sample."
    )
    sample = draw_sample(frame_of(SIZES), design, seed=1)
    assert sample.warnings == warnings
    assert [w["stratum"] for w in sample.manifest["allocation_warnings"]] == ["C", "D"]


def test_neyman_gives_a_zero_sd_domain_its_minimum():
    """N_h S_h = 30·1, 8·0, 12·1 with n = 10: B is held at 2, 8 go to A and C in ratio
    30:12 -> 5.71, 2.29; floors 5, 2 (+2) = 9; the last unit to A (.71 > .29)."""
    design = SampleDesign(strata="unit", n=10, allocation="neyman", sd={"A": 1, "B": 0, "C": 1})
    assert n_h(plan(frame_of({"A": 30, "B": 8, "C": 12}), design)) == {"A": 6, "B": 2, "C": 2}


def test_neyman_error_names_the_strata_with_zero_standard_deviation():
    """n = 120 but B (S_h = 0) gets only its minimum 2 and A holds 100: 102 < 120."""
    design = SampleDesign(strata="unit", n=120, allocation="neyman", sd={"A": 1.0, "B": 0.0})
    with pytest.raises(AllocationError) as caught:
        plan(frame_of({"A": 100, "B": 50}), design)
    error = caught.value
    assert "maximum" not in error.message_en
    assert error.message_en.startswith(
        "Neyman allocation: 1 strata have standard deviation S_h = 0 (B), so they get "
        "nothing beyond their minimum; the other strata hold only 102 units"
    )
    assert "độ lệch chuẩn S_h = 0 (B)" in error.message_vi


def test_a_real_maximum_is_still_named():
    design = SampleDesign(strata="unit", n=100, max_per_stratum=20)
    with pytest.raises(AllocationError, match="With the maximum per stratum only 40 units"):
        plan(frame_of({"A": 100, "B": 50}), design)


def test_old_manifests_reproduce_without_the_minimum():
    """A manifest written before the guard existed has no min_per_domain: it drew without
    it, and verification re-draws it so."""
    design = SampleDesign(strata="unit", n=6, min_per_domain=0)
    recorded = design.to_dict()
    del recorded["min_per_domain"], recorded["domains"]
    assert SampleDesign.from_manifest(recorded) == design
    assert SampleDesign.from_dict(recorded).min_per_domain == 2
