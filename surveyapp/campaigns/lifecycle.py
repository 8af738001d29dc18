"""Campaign status transitions: draft → fieldwork → closed, with checks, and the data entry
that goes on after closing.

Closing stops web and walk-in answers at once. Interviews and paper forms already in
hand can still be entered until the campaign's ``entry_deadline``; their answers wait in
the ballot box and leave it together when data entry ends (:func:`end_data_entry`: the
administrator ends it, or the deadline passes), so the closing's guarantees (one
transaction id, random order) hold again afterwards.

Other features add conditions for starting fieldwork (e.g. the draw feature requires a
locked draw) with :func:`fieldwork_check`::

    from surveyapp.campaigns.lifecycle import fieldwork_check

    @fieldwork_check
    def _needs_locked_draw(campaign) -> list[tuple[str, str]]:
        return [] if has_locked_draw(campaign) else [("Chưa khoá mẫu", "No locked draw")]

A check returns a list of (Vietnamese, English) problems; an empty list means ready.
"""

from collections.abc import Callable
from datetime import date, timedelta

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.i18n import format_date
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.responses.ballots import seal, waiting
from surveyapp.responses.operations import today as local_today

Problem = tuple[str, str]
FieldworkCheck = Callable[[Campaign], list[Problem]]

ALLOWED_TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.FIELDWORK},
    CampaignStatus.FIELDWORK: {CampaignStatus.CLOSED},
    CampaignStatus.CLOSED: set(),
}

_fieldwork_checks: list[FieldworkCheck] = []


class TransitionError(Exception):
    """A refused status change, with its reasons in Vietnamese and English."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(en for _, en in problems))
        self.problems = problems


def fieldwork_check(check: FieldworkCheck) -> FieldworkCheck:
    """Register a condition for draft → fieldwork (usable as a decorator)."""
    if check not in _fieldwork_checks:
        _fieldwork_checks.append(check)
    return check


def _built_in_checks(campaign: Campaign) -> list[Problem]:
    problems = []
    if not campaign.instruments:
        problems.append(
            (
                "Chưa chọn bảng hỏi cho nhóm đối tượng nào.",
                "No questionnaire has been chosen for any respondent group.",
            )
        )
    if campaign.period_start is None or campaign.period_end is None:
        problems.append(("Chưa đặt thời gian khảo sát.", "The survey period has not been set."))
    return problems


def can_start_fieldwork(campaign: Campaign) -> list[Problem]:
    """Problems preventing draft → fieldwork (empty when the campaign is ready)."""
    problems = _built_in_checks(campaign)
    for check in _fieldwork_checks:
        problems.extend(check(campaign))
    return problems


# Starting fieldwork this close to the survey's end (or after it) is allowed, with a warning:
# citizens would have days, not weeks, to answer.
END_WARNING_DAYS = 7


def start_warnings(campaign: Campaign, today: date | None = None) -> list[Problem]:
    """Warnings (not refusals) for draft → fieldwork: the survey's end, or the links'
    expiry, has passed or is only days away (dates in Vietnam's calendar)."""
    today = today or local_today()
    warnings = []
    end, links = campaign.period_end, campaign.links_expire_on
    if end is not None and end < today:
        warnings.append(
            (
                f"Ngày kết thúc khảo sát ({format_date(end)}) đã qua: hãy sửa thời gian "
                "khảo sát trước khi bắt đầu.",
                f"The survey's end date ({format_date(end)}) has passed: correct the survey "
                "period before starting.",
            )
        )
    elif end is not None and (end - today).days < END_WARNING_DAYS:
        days = (end - today).days
        warnings.append(
            (
                f"Khảo sát kết thúc ngày {format_date(end)}, chỉ còn {days} ngày để trả lời.",
                f"The survey ends on {format_date(end)}: only {days} day(s) left to answer.",
            )
        )
    if links is not None and links != end and links < today + timedelta(END_WARNING_DAYS):
        warnings.append(
            (
                f"Đường dẫn khảo sát hết hạn ngày {format_date(links)}.",
                f"Survey links expire on {format_date(links)}.",
            )
        )
    return warnings


def transition(campaign: Campaign, target: CampaignStatus) -> None:
    """Change the status or raise :class:`TransitionError` (the caller commits)."""
    target = CampaignStatus(target)
    if target not in ALLOWED_TRANSITIONS[campaign.status]:
        raise TransitionError(
            [
                (
                    f"Không thể chuyển từ '{campaign.status.value}' sang '{target.value}'.",
                    f"Cannot go from '{campaign.status.value}' to '{target.value}'.",
                )
            ]
        )
    if target == CampaignStatus.FIELDWORK:
        problems = can_start_fieldwork(campaign)
        if problems:
            raise TransitionError(problems)
    if target == CampaignStatus.CLOSED:
        # Every answer out of the ballot box, every response rewritten in random order.
        seal(campaign.id)
        deadline = campaign.entry_deadline
        if deadline is None or deadline < local_today():
            campaign.entry_closed_at = utcnow()  # no data entry after closing
    campaign.status = target


# --- data entry after closing ------------------------------------------------------------------


def entry_state(campaign: Campaign) -> str | None:
    """For a closed campaign: "open" (interviews and paper forms still entered), "due"
    (the deadline passed, or answers arrived after the end, and data entry has not been
    ended yet) or "ended"; None before closing."""
    if campaign.status != CampaignStatus.CLOSED:
        return None
    if campaign.entry_closed_at is None:
        deadline = campaign.entry_deadline
        return "open" if deadline is not None and deadline >= local_today() else "due"
    # A save that committed while data entry was being ended left its ballot behind.
    return "due" if waiting(campaign.id) else "ended"


def end_data_entry(campaign: Campaign) -> int:
    """End data entry after closing (the caller commits): the answers entered since the
    closing leave the ballot box, and every response of the campaign is rewritten in
    random order again (ballots.seal). Returns the number of answers that left the box."""
    if campaign.status != CampaignStatus.CLOSED:
        raise TransitionError(
            [("Đợt khảo sát chưa kết thúc.", "The campaign has not been closed.")]
        )
    if campaign.entry_closed_at is None:
        campaign.entry_closed_at = utcnow()
        db.session.flush()  # the claims of later saves see data entry ended
    return seal(campaign.id)


def end_data_entry_if_due(campaign: Campaign) -> bool:
    """End data entry when its deadline has passed (called where results are read and on
    the campaign's page, and by ``surveyapp campaign end-entry --due``); True if it did."""
    if entry_state(campaign) != "due":
        return False
    end_data_entry(campaign)
    return True
