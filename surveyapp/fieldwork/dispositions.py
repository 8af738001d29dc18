"""Contact-attempt results as AAPOR-style final disposition codes.

The sample is a list of named people (not telephone numbers or addresses), so the
AAPOR tables for "specifically named persons" are the model (AAPOR, *Standard
Definitions: Final Dispositions of Case Codes and Outcome Rates for Surveys*, 10th
edition, 2023, tables for mail and internet surveys of specifically named persons):

* a wrong number, an unanswered phone or a person who moved leaves it unknown whether
  the person is in the target population (they may not have used the unit's service in
  the period): *unknown eligibility* (3.x), class UO;
* a person identified (e.g. family says they are away) but never available is an
  eligible non-contact (2.2x), class NC; an appointment not kept also ends there;
* a refusal or a break-off is R (2.1x); a person found outside the population is NE (4.x).

The rate classes are those of :mod:`surveyapp.dashboard.rates`.
"""

from dataclasses import dataclass

from surveyapp.models.respondents import ContactOutcome, Disposition


@dataclass(frozen=True)
class DispositionInfo:
    aapor_code: str
    rate_class: str  # I, P, R, NC, O, UH, UO, NE (surveyapp.dashboard.rates)
    outcome: ContactOutcome
    label_vi: str
    label_en: str


DISPOSITIONS: dict[Disposition, DispositionInfo] = {
    Disposition.COMPLETE: DispositionInfo(
        "1.1", "I", ContactOutcome.COMPLETED, "Phỏng vấn hoàn thành", "Completed interview"
    ),
    Disposition.REFUSAL: DispositionInfo("2.11", "R", ContactOutcome.REFUSED, "Từ chối", "Refusal"),
    Disposition.BREAKOFF: DispositionInfo(
        "2.12", "R", ContactOutcome.REFUSED, "Bỏ dở giữa chừng", "Break-off"
    ),
    Disposition.UNAVAILABLE: DispositionInfo(
        "2.21",
        "NC",
        ContactOutcome.NONCONTACT,
        "Đúng người nhưng vắng / không gặp được",
        "Right person, never available",
    ),
    Disposition.APPOINTMENT: DispositionInfo(
        "2.21", "NC", ContactOutcome.CALLBACK, "Hẹn gọi lại / hẹn gặp", "Appointment / call back"
    ),
    Disposition.NO_ANSWER: DispositionInfo(
        "3.13", "UO", ContactOutcome.NONCONTACT, "Không trả lời máy", "No answer"
    ),
    Disposition.WRONG_NUMBER: DispositionInfo(
        "3.30", "UO", ContactOutcome.NONCONTACT, "Sai số điện thoại / địa chỉ", "Wrong number"
    ),
    Disposition.MOVED: DispositionInfo(
        "3.30", "UO", ContactOutcome.NONCONTACT, "Đã chuyển đi", "Moved away"
    ),
    Disposition.INELIGIBLE: DispositionInfo(
        "4.10",
        "NE",
        ContactOutcome.INELIGIBLE,
        "Không thuộc đối tượng (không giao dịch tại đơn vị)",
        "Not eligible (did not use the unit's service)",
    ),
    Disposition.OTHER: DispositionInfo("3.90", "UO", ContactOutcome.OTHER, "Khác", "Other"),
}

# Results an enumerator records by hand (a completed interview is recorded by entering it).
RECORDABLE = tuple(d for d in Disposition if d is not Disposition.COMPLETE)

# Classes saying the person was reached or identified: later "no answer" results do not
# make the case's eligibility unknown again.
KNOWN_ELIGIBLE = frozenset({"I", "P", "R", "NC", "O"})


def info(disposition: Disposition | str) -> DispositionInfo:
    return DISPOSITIONS[Disposition(disposition)]


def merged_disposition(current: Disposition | None, new: Disposition) -> Disposition:
    """The case's disposition after an attempt with result ``new``.

    The latest result wins, except that an unknown-eligibility result (no answer, wrong
    number, ...) never replaces one that established the person is eligible: AAPOR asks
    for the most informative final code, and "reached once, then never again" is a
    non-contact (2.21), not a case of unknown eligibility.
    """
    if current is None:
        return new
    if info(current).rate_class in KNOWN_ELIGIBLE and info(new).rate_class in {"UH", "UO"}:
        return current
    return new


def rate_class(status: str, disposition: Disposition | str | None) -> str:
    """Rate class of a released case from its (pre-replacement) status and disposition.

    Completed cases (whatever the mode, web included) are I; cases never attempted are
    unknown eligibility (AAPOR 3.11, "not attempted or worked"), class UO.
    """
    if status == "completed":
        return "I"
    if status == "ineligible":
        return "NE"
    if status == "refused":
        return "R"
    if disposition is None:
        return "UO"
    return info(disposition).rate_class
