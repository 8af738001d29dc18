"""AAPOR response rates RR1 and RR3 (pure functions, no database).

Reference: The American Association for Public Opinion Research (2023), *Standard
Definitions: Final Dispositions of Case Codes and Outcome Rates for Surveys*, 10th
edition, section "Response rates". With the final disposition classes

* I  complete interview,             P  partial interview,
* R  refusal and break-off,          NC non-contact,      O other (eligible),
* UH unknown if household/occupied,  UO unknown eligibility, other,
* NE not eligible (left out of every rate),

the rates are::

    RR1 = I / ((I + P) + (R + NC + O) + (UH + UO))
    RR3 = I / ((I + P) + (R + NC + O) + e (UH + UO))

where ``e`` is the estimated proportion of cases of unknown eligibility that are
eligible. AAPOR leaves the estimate to the researcher but asks that its basis be stated;
the default here is the proportional allocation AAPOR describes ("CASRO" method): the
share of eligible cases among those whose eligibility was determined,
``e = (I + P + R + NC + O) / (I + P + R + NC + O + NE)``.

Example (checked by hand in tests/surveyapp/test_response_rates.py): I=40, R=10, NC=5,
O=5, UO=20, NE=20 gives e = 60/80 = 0.75, RR1 = 40/80 = 0.5 and
RR3 = 40/(60 + 15) = 0.5333.
"""

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class DispositionCounts:
    """Counts of released cases by AAPOR final disposition class."""

    I: int = 0  # noqa: E741  (AAPOR's own letter)
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741
    UH: int = 0
    UO: int = 0
    NE: int = 0

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{f.name} must be a non-negative integer, got {value!r}")

    def __add__(self, other: "DispositionCounts") -> "DispositionCounts":
        return DispositionCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def eligible(self) -> int:
        return self.I + self.P + self.R + self.NC + self.O

    @property
    def unknown(self) -> int:
        return self.UH + self.UO

    @classmethod
    def from_classes(cls, classes) -> "DispositionCounts":
        """Counts from an iterable of class letters (e.g. one per case)."""
        tally = {f.name: 0 for f in fields(cls)}
        for letter in classes:
            if letter not in tally:
                raise ValueError(f"unknown disposition class {letter!r}")
            tally[letter] += 1
        return cls(**tally)


def estimated_eligibility(counts: DispositionCounts) -> float | None:
    """``e`` by proportional allocation; None when no case's eligibility is known."""
    determined = counts.eligible + counts.NE
    if determined == 0:
        return None
    return counts.eligible / determined


def rr1(counts: DispositionCounts) -> float | None:
    """AAPOR Response Rate 1 (minimum response rate); None when there are no cases."""
    denominator = counts.eligible + counts.unknown
    return counts.I / denominator if denominator else None


def rr3(counts: DispositionCounts, e: float | None = None) -> float | None:
    """AAPOR Response Rate 3: unknown-eligibility cases weighted by ``e``.

    ``e`` defaults to :func:`estimated_eligibility`; with no case of known eligibility
    and no ``e`` given, every unknown case is counted (RR3 = RR1, the conservative
    choice) so the rate never looks better than the data support.
    """
    if e is None:
        e = estimated_eligibility(counts)
        if e is None:
            e = 1.0
    if not 0.0 <= e <= 1.0:
        raise ValueError(f"e must be between 0 and 1, got {e!r}")
    denominator = counts.eligible + e * counts.unknown
    return counts.I / denominator if denominator else None
