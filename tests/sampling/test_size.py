"""Sample-size rules checked against hand-worked values and an independent scipy formula."""

import math

import pytest
from scipy.stats import norm

from sampling import SampleSizeError, SamplingError, cochran_sample_size, yamane_sample_size


def test_cochran_infinite_population():
    # n0 = 1.959964^2 * 0.5 * 0.5 / 0.05^2 = 384.146 -> 385
    assert cochran_sample_size(0.05) == 385


def test_cochran_with_finite_population_correction():
    # n = 384.146 / (1 + 383.146 / 1000) = 277.733 -> 278
    assert cochran_sample_size(0.05, population=1000) == 278


def test_cochran_inflated_for_response_rate():
    # 277.733 / 0.8 = 347.17 -> 348
    assert cochran_sample_size(0.05, population=1000, response_rate=0.8) == 348


def test_cochran_other_confidence_and_proportion():
    # z(0.99) = 2.575829; n0 = 6.634897 * 0.3 * 0.7 / 0.03^2 = 1548.14 -> 1549
    assert cochran_sample_size(0.03, confidence=0.99, p=0.3) == 1549


def test_cochran_never_exceeds_population():
    # 384.146 / (1 + 383.146 / 10) = 9.77 -> 10; inflation cannot push it past N = 10
    assert cochran_sample_size(0.05, population=10) == 10
    assert cochran_sample_size(0.05, population=10, response_rate=0.5) == 10


@pytest.mark.parametrize("margin", [0.01, 0.03, 0.05, 0.1])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("population", [50, 800, 12345])
def test_cochran_matches_independent_formula(margin, confidence, population):
    z = norm.ppf(1 - (1 - confidence) / 2)
    n0 = z**2 * 0.25 / margin**2
    expected = math.ceil(round(n0 / (1 + (n0 - 1) / population), 9))
    assert cochran_sample_size(margin, confidence, population=population) == expected


def test_yamane_hand_worked():
    assert yamane_sample_size(1000) == 286  # 1000 / 3.5 = 285.71
    assert yamane_sample_size(400) == 200  # 400 / 2 exactly: no spurious round-up
    assert yamane_sample_size(100, margin=0.1) == 50  # 100 / 2
    assert yamane_sample_size(1000, response_rate=0.5) == 572  # 285.71 / 0.5


def test_yamane_capped_at_population():
    assert yamane_sample_size(100, response_rate=0.5) == 100  # 80 / 0.5 = 160 > 100


@pytest.mark.parametrize(
    "call",
    [
        lambda: cochran_sample_size(0),
        lambda: cochran_sample_size(1.5),
        lambda: cochran_sample_size(0.05, confidence=1),
        lambda: cochran_sample_size(0.05, p=0),
        lambda: cochran_sample_size(0.05, population=0),
        lambda: cochran_sample_size(0.05, response_rate=0),
        lambda: yamane_sample_size(-5),
        lambda: yamane_sample_size(None),
        lambda: yamane_sample_size(100, margin=2),
    ],
)
def test_invalid_parameters_raise_bilingual_error(call):
    with pytest.raises(SampleSizeError) as error:
        call()
    assert isinstance(error.value, SamplingError)
    assert error.value.message_vi != error.value.message_en
