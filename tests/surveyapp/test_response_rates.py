"""AAPOR RR1/RR3 against hand-worked examples (AAPOR Standard Definitions, 2023)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveyapp.dashboard.rates import DispositionCounts, estimated_eligibility, rr1, rr3
from surveyapp.fieldwork.dispositions import merged_disposition, rate_class
from surveyapp.models.respondents import Disposition

# Worked by hand: 100 released cases.
#   I=40 completes, P=0, R=10 refusals, NC=5 non-contacts, O=5 other,
#   UO=20 unknown eligibility, NE=20 not eligible.
#   Eligible = 40+10+5+5 = 60; determined = 60+20 = 80; e = 60/80 = 0.75.
#   RR1 = 40 / (60 + 20) = 0.5
#   RR3 = 40 / (60 + 0.75*20) = 40 / 75 = 0.53333...
EXAMPLE = DispositionCounts(I=40, R=10, NC=5, O=5, UO=20, NE=20)


def test_hand_worked_example():
    assert estimated_eligibility(EXAMPLE) == pytest.approx(0.75)
    assert rr1(EXAMPLE) == pytest.approx(0.5)
    assert rr3(EXAMPLE) == pytest.approx(40 / 75)


def test_partials_count_in_the_denominator_but_not_the_numerator():
    # I=8, P=2, R=5, NC=3, O=0, UH=1, UO=1, NE=0: RR1 = 8 / (10 + 8 + 2) = 0.4;
    # e = 18/18 = 1, so RR3 = RR1.
    counts = DispositionCounts(I=8, P=2, R=5, NC=3, UH=1, UO=1)
    assert rr1(counts) == pytest.approx(0.4)
    assert rr3(counts) == pytest.approx(0.4)


def test_given_eligibility_rate():
    # e = 0.5: RR3 = 40 / (60 + 10) = 0.571428...
    assert rr3(EXAMPLE, e=0.5) == pytest.approx(40 / 70)
    assert rr3(EXAMPLE, e=1.0) == pytest.approx(rr1(EXAMPLE))
    assert rr3(EXAMPLE, e=0.0) == pytest.approx(40 / 60)


def test_no_cases_gives_no_rate():
    empty = DispositionCounts()
    assert rr1(empty) is None and rr3(empty) is None
    assert estimated_eligibility(empty) is None
    assert rr1(DispositionCounts(NE=4)) is None


def test_only_unknown_cases_count_fully_in_rr3():
    # Nobody's eligibility is known: e cannot be estimated, every unknown counts.
    counts = DispositionCounts(UO=10)
    assert rr1(counts) == 0.0
    assert rr3(counts) == 0.0


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_counts_must_be_non_negative_integers(bad):
    with pytest.raises(ValueError):
        DispositionCounts(I=bad)


def test_e_outside_unit_interval_is_refused():
    with pytest.raises(ValueError):
        rr3(EXAMPLE, e=1.2)


def test_counts_from_classes_and_sum():
    counts = DispositionCounts.from_classes(["I", "I", "R", "UO", "NE"])
    assert counts == DispositionCounts(I=2, R=1, UO=1, NE=1)
    assert counts + counts == DispositionCounts(I=4, R=2, UO=2, NE=2)
    with pytest.raises(ValueError):
        DispositionCounts.from_classes(["X"])


counts_strategy = st.builds(
    DispositionCounts,
    **{k: st.integers(0, 500) for k in ("I", "P", "R", "NC", "O", "UH", "UO", "NE")},
)


@given(counts_strategy, st.floats(0, 1))
def test_rr3_is_between_rr1_and_the_rate_without_unknowns(counts, e):
    low, high = rr1(counts), rr3(counts, e=0.0)
    value = rr3(counts, e=e)
    if low is None:
        return
    assert value is not None
    assert low - 1e-12 <= value <= high + 1e-12
    assert 0.0 <= value <= 1.0


def test_rate_class_of_cases():
    assert rate_class("completed", None) == "I"  # a web completion has no attempt
    assert rate_class("pending", None) == "UO"  # AAPOR 3.11 not attempted
    assert rate_class("refused", Disposition.REFUSAL) == "R"
    assert rate_class("noncontact", Disposition.NO_ANSWER) == "UO"
    assert rate_class("noncontact", Disposition.UNAVAILABLE) == "NC"
    assert rate_class("ineligible", Disposition.INELIGIBLE) == "NE"
    assert rate_class("contacted", Disposition.APPOINTMENT) == "NC"


def test_no_answer_after_a_contact_keeps_the_case_eligible():
    assert merged_disposition(None, Disposition.NO_ANSWER) == Disposition.NO_ANSWER
    assert merged_disposition(Disposition.APPOINTMENT, Disposition.NO_ANSWER) == (
        Disposition.APPOINTMENT
    )
    assert merged_disposition(Disposition.NO_ANSWER, Disposition.UNAVAILABLE) == (
        Disposition.UNAVAILABLE
    )
    assert merged_disposition(Disposition.APPOINTMENT, Disposition.REFUSAL) == Disposition.REFUSAL
