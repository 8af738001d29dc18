"""Selection within strata: exact inclusion probabilities, checked over many seeded draws.

The chi-square statistic used here treats each unit's selection count over R draws as
binomial(R, pi_i): X = Σ (O_i - R pi_i)^2 / (R pi_i (1 - pi_i)). Counts within a stratum add
up to R n_h, so the statistic has Σ (N_h - 1) degrees of freedom (approximately; the
without-replacement covariance makes it slightly conservative). Seeds are fixed, so each
test is deterministic; the thresholds fail biased selectors by orders of magnitude.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from sampling import SampleDesign, SelectionError, SelectionMethod, draw_sample, selection
from sampling.draw import make_generator
from sampling.selection import (
    parse_method,
    pps_certainties,
    pps_systematic_one,
    select_pps_systematic,
    select_srswor,
    select_systematic,
)

DRAWS = 2000


def chi_square_p_value(counts, probabilities, draws, groups):
    counts, probabilities = np.asarray(counts, float), np.asarray(probabilities, float)
    random = (probabilities > 0) & (probabilities < 1)
    expected = draws * probabilities[random]
    statistic = np.sum((counts[random] - expected) ** 2 / (expected * (1 - probabilities[random])))
    degrees = random.sum() - groups
    return chi2.sf(statistic, degrees)


def test_parse_method_accepts_aliases():
    assert parse_method("SYS") is SelectionMethod.SYSTEMATIC
    assert parse_method("pps") is SelectionMethod.PPS_SYSTEMATIC
    with pytest.raises(SelectionError):
        parse_method("cluster")


def test_srswor_stratum_with_zero_sample_does_not_crash():
    # samplics 0.6.1 regression: a stratum with n_h = 0 crashed SRSWOR.
    codes = np.array([0, 0, 0, 1, 1, 2, 2, 2], dtype=np.int16)
    sizes = np.bincount(codes)
    n_h = np.array([2, 0, 1])
    selected = select_srswor(codes, sizes, n_h, n_h, make_generator(3))
    assert sorted(codes[selected.rows].tolist()) == [0, 0, 2]
    assert np.allclose(selected.inclusion_prob, [2 / 3, 2 / 3, 1 / 3])


def smallest_keys_by_brute_force(codes, take, seed):
    keys = selection.uniform_keys(len(codes), make_generator(seed))
    rows = []
    for h, m in enumerate(take):
        members = np.flatnonzero(codes == h)
        rows.extend(members[np.argsort(keys[members])][:m])
    return np.array(rows)


@pytest.mark.parametrize("squeeze", [False, True])
def test_srswor_takes_exactly_the_smallest_keys(monkeypatch, squeeze):
    # The screening bound is a shortcut: with it, or squeezed so low that every stratum
    # falls short and is screened again, the result is the brute-force answer.
    if squeeze:
        monkeypatch.setattr(selection, "_key_bounds", lambda sizes, take: take * 0.0 + 1e-3)
    codes = make_generator(5).integers(0, 4, 5000).astype(np.int16)
    sizes = np.bincount(codes)
    take = np.array([0, 7, 300, 1])
    selected = select_srswor(codes, sizes, take, take, make_generator(11))
    assert selected.rows.tolist() == smallest_keys_by_brute_force(codes, take, 11).tolist()


def test_srswor_inclusion_frequencies_match_n_over_N():
    codes = np.repeat(np.arange(3, dtype=np.int16), [20, 30, 50])
    codes = codes[make_generator(0).permutation(len(codes))]  # strata interleaved
    sizes = np.bincount(codes)
    n_h, reserve_h = np.array([4, 6, 10]), np.array([2, 3, 5])
    primary, any_selected = np.zeros(100), np.zeros(100)
    for seed in range(DRAWS):
        selected = select_srswor(codes, sizes, n_h, n_h + reserve_h, make_generator(seed))
        primary[selected.rows[selected.rank < n_h[selected.stratum]]] += 1
        any_selected[selected.rows] += 1
    assert chi_square_p_value(primary, (n_h / sizes)[codes], DRAWS, 3) > 1e-3
    # Primary + reserve is itself an SRS of n_h + r_h.
    assert chi_square_p_value(any_selected, ((n_h + reserve_h) / sizes)[codes], DRAWS, 3) > 1e-3


def test_systematic_n10_n3_gives_every_unit_probability_03():
    # samplics 0.6.1 regression: interval int(10/3) = 3 never selects unit 10 (0-based 9).
    # With the fractional interval 10/3 every unit has probability 0.3.
    order, sizes, n_h = np.arange(10), np.array([10]), np.array([3])
    counts = np.zeros(10)
    for seed in range(DRAWS):
        selected = select_systematic(order, sizes, n_h, n_h, make_generator(seed))
        assert len(np.unique(selected.rows)) == 3
        counts[selected.rows] += 1
    assert counts.min() > 0
    assert chi_square_p_value(counts, np.full(10, 0.3), DRAWS, 1) > 1e-3


def test_chi_square_detects_the_integer_interval_defect():
    # The same statistic on samplics' integer-interval scheme (start in 0..2, step 3).
    rng = np.random.default_rng(1)
    counts = np.zeros(10)
    for _ in range(DRAWS):
        counts[rng.integers(0, 3) + 3 * np.arange(3)] += 1
    assert chi_square_p_value(counts, np.full(10, 0.3), DRAWS, 1) < 1e-12


def test_systematic_spreads_the_sample_over_the_sort_order():
    # N = 100 sorted rows, n = 10: interval 10, so exactly one unit per block of 10.
    order, sizes, n_h = np.arange(100), np.array([100]), np.array([10])
    for seed in range(50):
        selected = select_systematic(order, sizes, n_h, n_h, make_generator(seed))
        assert sorted(selected.rows // 10) == list(range(10))


def test_systematic_strata_and_reserve_frequencies():
    # Two strata of 7 and 13 rows, n_h = 2 and 5 plus 1 and 2 spares.
    sizes, n_h, reserve_h = np.array([7, 13]), np.array([2, 5]), np.array([1, 2])
    order = np.arange(20)
    stratum_of = np.repeat([0, 1], sizes)
    primary = np.zeros(20)
    for seed in range(DRAWS):
        selected = select_systematic(order, sizes, n_h, n_h + reserve_h, make_generator(seed))
        primary[selected.rows[selected.rank < n_h[selected.stratum]]] += 1
        assert (stratum_of[selected.rows] == selected.stratum).all()
    assert chi_square_p_value(primary, (n_h / sizes)[stratum_of], DRAWS, 2) > 1e-3


def test_pps_certainty_units_recomputed():
    # X = 50, m = 2: interval 25 -> size 30 is certain; on the rest X' = 20, m' = 1,
    # interval 20 > 10: no more certainties.
    x = np.array([1.0, 2, 3, 4, 10, 30])
    assert pps_certainties(x, 2).tolist() == [False] * 5 + [True]
    # Recursion: X = 100, m = 3: 60 >= 33.3 certain; then X' = 40, m' = 2, 20 >= 20 certain.
    assert pps_certainties(np.array([60.0, 20, 10, 5, 5]), 3).tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_pps_inclusion_probabilities_hand_worked_and_observed():
    # pi = 1 for the certainty; the rest m' x_i / X' = x_i / 20.
    x = np.array([1.0, 2, 3, 4, 10, 30])
    expected = np.array([1, 2, 3, 4, 10, 20]) / 20
    counts = np.zeros(6)
    for seed in range(DRAWS):
        chosen, probabilities = pps_systematic_one(x, 2, make_generator(seed))
        assert np.allclose(probabilities, expected)
        assert len(set(chosen.tolist())) == 2
        counts[chosen] += 1
    assert counts[5] == DRAWS
    assert chi_square_p_value(counts, expected, DRAWS, 1) > 1e-3


def test_pps_with_reserve_frequencies_and_weights():
    # One stratum, sizes 1..12, n = 3 with 1 spare: m = 4 drawn with PPS, X = 78,
    # interval 19.5 (no certainty), pi(4) = 4 x / 78 and pi(primary) = 3 x / 78.
    x = np.arange(1.0, 13)
    sizes, n_h, take = np.array([12]), np.array([3]), np.array([4])
    counts, either = np.zeros(12), np.zeros(12)
    for seed in range(DRAWS):
        selected = select_pps_systematic(
            np.arange(12), sizes, x, n_h, take, make_generator(seed), ["all"]
        )
        primary = selected.rank < 3
        counts[selected.rows[primary]] += 1
        either[selected.rows] += 1
        assert np.allclose(selected.inclusion_prob, 3 * x[selected.rows] / 78)
    assert chi_square_p_value(counts, 3 * x / 78, DRAWS, 1) > 1e-3
    assert chi_square_p_value(either, 4 * x / 78, DRAWS, 1) > 1e-3
    frame = pd.DataFrame({"source_row": range(12), "size": x})
    design = SampleDesign(n=3, reserve=1, method="pps_systematic", size_measure="size")
    table = draw_sample(frame, design, seed=7).table
    assert np.allclose(table["weight"], 78 / (3 * table["size"]))


def test_pps_zero_size_units_never_drawn_and_too_few_sizes_rejected():
    frame = pd.DataFrame({"source_row": range(6), "size": [0, 5, 0, 1, 2, 0]})
    design = SampleDesign(n=2, method="pps_systematic", size_measure="size")
    for seed in range(100):
        drawn = draw_sample(frame, design, seed=seed).table["size"]
        assert (drawn > 0).all()
    with pytest.raises(SelectionError):
        draw_sample(frame, SampleDesign(n=4, method="pps", size_measure="size"), seed=1)


@pytest.mark.parametrize("method", ["srswor", "systematic", "pps_systematic"])
def test_no_global_random_state_used_or_changed(method):
    # samplics 0.6.1 regression: it drew from numpy's global state.
    frame = pd.DataFrame(
        {"source_row": range(200), "unit": np.repeat(["a", "b"], 100), "size": range(1, 201)}
    )
    design = SampleDesign(strata=("unit",), n=20, reserve=3, method=method, size_measure="size")
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = draw_sample(frame, design, seed=99).table
    assert (np.random.get_state()[1] == before).all()
    np.random.seed(456)
    np.random.random(10)
    second = draw_sample(frame, design, seed=99).table
    pd.testing.assert_frame_equal(first, second)
