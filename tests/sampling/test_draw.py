"""draw_sample / plan: the sample table, allocation table and design checks."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import (
    AllocationError,
    DesignError,
    SampleDesign,
    SamplingError,
    cochran_sample_size,
    draw_sample,
    plan,
    yamane_sample_size,
)

UNITS = ["Sở Tư pháp", "UBND xã An Bình", "UBND xã Tân Phú"]


def make_frame(rows=600, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "source_row": np.arange(2, rows + 2),
            "full_name": [f"Nguyễn Văn {i}" for i in range(rows)],
            "unit": rng.choice(UNITS, rows, p=[0.6, 0.3, 0.1]),
            "group": rng.choice(["individual", "organisation"], rows),
            "completed_on": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 270, rows), unit="D"),
        }
    )


def test_table_has_frame_columns_and_design_columns():
    frame = make_frame()
    sample = draw_sample(frame, SampleDesign(strata=("unit", "group"), n=60, reserve=0.2), seed=1)
    table = sample.table
    assert list(table.columns) == [
        *frame.columns,
        "stratum",
        "selection",
        "reserve_rank",
        "inclusion_prob",
        "weight",
    ]
    merged = table.merge(frame, on="source_row", suffixes=("", "_frame"))
    assert (merged["full_name"] == merged["full_name_frame"]).all()
    assert (table["stratum"] == table["unit"] + " | " + table["group"]).all()


def test_counts_weights_and_reserve_ranks_follow_the_allocation():
    frame = make_frame()
    sample = draw_sample(frame, SampleDesign(strata=("unit", "group"), n=60, reserve=0.2), seed=5)
    table, allocation = sample.table, sample.allocation.set_index("stratum")
    assert allocation["n_h"].sum() == 60
    for stratum, rows in table.groupby("stratum"):
        row = allocation.loc[stratum]
        primary = rows[rows["selection"] == "primary"]
        reserve = rows[rows["selection"] == "reserve"]
        assert len(primary) == row["n_h"]
        # ratio 0.2 of n_h, rounded up, capped by N_h - n_h
        assert (
            len(reserve)
            == row["reserve_h"]
            == min(np.ceil(0.2 * row["n_h"]), row["N_h"] - row["n_h"])
        )
        assert primary["reserve_rank"].isna().all()
        assert reserve["reserve_rank"].tolist() == list(range(1, len(reserve) + 1))
        assert np.allclose(rows["weight"], row["N_h"] / row["n_h"])
        assert np.allclose(rows["inclusion_prob"], row["n_h"] / row["N_h"])
        assert primary["weight"].sum() == pytest.approx(row["N_h"])
    assert not table["source_row"].duplicated().any()  # primary and reserve disjoint


def test_reserve_count_capped_by_what_is_left():
    frame = pd.DataFrame({"source_row": range(10), "unit": ["a"] * 7 + ["b"] * 3})
    design = SampleDesign(strata="unit", n=5, reserve=4, min_per_domain=0)
    sample = draw_sample(frame, design, seed=2)
    allocation = sample.allocation.set_index("stratum")
    # n_h: 3.5 and 1.5 -> tie on .5 goes to the first stratum: a 4, b 1.
    assert allocation["n_h"].to_dict() == {"a": 4, "b": 1}
    assert allocation["reserve_h"].to_dict() == {"a": 3, "b": 2}


def test_plan_matches_the_draw_allocation():
    frame = make_frame()
    design = SampleDesign(strata=("unit",), n=90, allocation="equal", reserve=3)
    pd.testing.assert_frame_equal(
        plan(frame, design), draw_sample(frame, design, seed=1).allocation
    )


def test_margin_of_error_overall_then_allocated():
    frame = make_frame(rows=2000)
    design = SampleDesign(strata=("unit",), margin=0.05)
    assert plan(frame, design)["n_h"].sum() == cochran_sample_size(0.05, population=2000)


def test_margin_of_error_per_stratum_with_yamane():
    frame = make_frame(rows=2000)
    design = SampleDesign(
        strata=("unit",), margin=0.05, sample_size_rule="yamane", per_stratum_size=True
    )
    table = plan(frame, design)
    for row in table.itertuples():
        assert row.n_h == yamane_sample_size(row.N_h, 0.05)


def test_neyman_with_standard_deviations_by_label():
    frame = pd.DataFrame({"source_row": range(200), "unit": ["a"] * 100 + ["b"] * 100})
    design = SampleDesign(strata="unit", n=40, allocation="neyman", sd={"a": 1, "b": 3})
    assert plan(frame, design)["n_h"].tolist() == [10, 30]


def test_no_strata_means_one_stratum():
    frame = make_frame(rows=50)
    sample = draw_sample(frame, SampleDesign(n=10), seed=3)
    assert set(sample.table["stratum"]) == {"all"}
    assert np.allclose(sample.table["weight"], 5.0)


def test_fresh_seed_recorded_and_reproducible():
    frame = make_frame()
    design = SampleDesign(strata=("unit",), n=30, reserve=2)
    first = draw_sample(frame, design)
    seed = int(first.manifest["seed"])
    assert seed >= 2**64  # a 128-bit entropy value, not a small default
    pd.testing.assert_frame_equal(first.table, draw_sample(frame, design, seed=seed).table)


def test_systematic_with_sort_key_is_spread_over_dates():
    frame = make_frame(rows=300)
    design = SampleDesign(n=30, method="systematic", sort_by=("completed_on",))
    dates = np.sort(frame["completed_on"].to_numpy())
    table = draw_sample(frame, design, seed=4).table
    # one selected unit per block of 10 in date order (ties in date may swap blocks' ends)
    positions = np.searchsorted(dates, table["completed_on"].to_numpy())
    assert len(np.unique(positions // 10)) >= 25


def test_progress_reports_stages_in_order():
    seen = []
    draw_sample(make_frame(), SampleDesign(n=10), seed=1, progress=lambda s, f: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.parametrize(
    ("design", "error"),
    [
        (SampleDesign(strata=("district",), n=10), DesignError),
        (SampleDesign(strata=("unit",), n=100_000), AllocationError),
        (SampleDesign(n=10, method="systematic", sort_by=("nope",)), DesignError),
        (SampleDesign(n=10, method="pps", size_measure="full_name"), DesignError),
        (SampleDesign(strata=("unit",), n=10, allocation="neyman"), DesignError),
    ],
)
def test_bad_designs_give_clear_errors(design, error):
    with pytest.raises(error) as raised:
        draw_sample(make_frame(), design, seed=1)
    assert raised.value.message_vi and raised.value.message_en


def test_design_needs_exactly_one_of_n_and_margin_and_a_size_for_pps():
    with pytest.raises(DesignError):
        SampleDesign(n=10, margin=0.05)
    with pytest.raises(DesignError):
        SampleDesign()
    with pytest.raises(DesignError):
        SampleDesign(n=10, method="pps_systematic")
    with pytest.raises(SamplingError):
        SampleDesign(n=10, method="cluster")


def test_empty_stratum_value_reported():
    frame = make_frame(rows=20)
    frame.loc[3, "unit"] = None
    with pytest.raises(DesignError, match="unit"):
        draw_sample(frame, SampleDesign(strata=("unit",), n=5), seed=1)


def test_bad_seed_rejected():
    with pytest.raises(DesignError):
        draw_sample(make_frame(), SampleDesign(n=5), seed=-3)


def test_design_round_trips_through_dict():
    design = SampleDesign(
        strata=("unit", "group"), margin=0.05, allocation="neyman", sd={"a": 1.5}, reserve=0.2
    )
    assert SampleDesign.from_dict(design.to_dict()) == design


@st.composite
def frames_and_designs(draw):
    sizes = draw(st.lists(st.integers(1, 40), min_size=1, max_size=6))
    codes = np.repeat(np.arange(len(sizes)), sizes)
    order = np.random.default_rng(draw(st.integers(0, 1000))).permutation(len(codes))
    frame = pd.DataFrame({"source_row": np.arange(len(codes)), "unit": codes[order].astype(str)})
    minimum = draw(st.integers(0, 3))
    n = draw(st.integers(sum(min(size, minimum) for size in sizes), len(codes)))
    reserve = draw(st.one_of(st.integers(0, 5), st.floats(0, 1)))
    method = draw(st.sampled_from(["srswor", "systematic"]))
    return frame, SampleDesign(
        strata=("unit",), n=n, reserve=reserve, method=method, min_per_domain=minimum
    )


@settings(max_examples=60, deadline=None)
@given(frames_and_designs(), st.integers(0, 2**128 - 1))
def test_draw_invariants(case, seed):
    frame, design = case
    sample = draw_sample(frame, design, seed=seed)
    table, allocation = sample.table, sample.allocation.set_index("stratum")
    assert (table["selection"] == "primary").sum() == design.n
    assert not table["source_row"].duplicated().any()
    for stratum, rows in table.groupby("stratum"):
        reserve = rows.loc[rows["selection"] == "reserve", "reserve_rank"]
        assert reserve.tolist() == list(range(1, allocation.loc[stratum, "reserve_h"] + 1))
        assert (rows["unit"] == stratum).all()
    assert (allocation["n_h"] + allocation["reserve_h"] <= allocation["N_h"]).all()
    assert (allocation["n_h"] >= np.minimum(allocation["N_h"], design.min_per_domain)).all()
    again = draw_sample(frame, design, seed=seed)
    pd.testing.assert_frame_equal(table, again.table)


def test_categorical_strata_draw_the_same_sample_as_text():
    frame = make_frame()
    as_category = frame.astype(
        {"unit": pd.CategoricalDtype(UNITS[::-1] + ["unused unit"]), "group": "category"}
    )
    design = SampleDesign(strata=("unit", "group"), n=50, reserve=2)
    text = draw_sample(frame, design, seed=3)
    coded = draw_sample(as_category, design, seed=3)
    pd.testing.assert_frame_equal(text.allocation, coded.allocation)
    columns = ["source_row", "stratum", "selection", "reserve_rank", "weight"]
    assert text.table[columns].astype(str).equals(coded.table[columns].astype(str))
