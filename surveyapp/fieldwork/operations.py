"""Fieldwork operations: assignments, contact attempts, replacements, back-checks.

Every function works in the caller's transaction (the request hook or ``transaction()``
commits). State changes that two people could make at once (releasing a reserve,
replacing a case) are conditional UPDATEs that check how many rows they changed, so the
same reserve is never released twice and a case is never replaced twice.
"""

from collections.abc import Sequence
from datetime import datetime, time

import numpy as np
import sqlalchemy as sa

from surveyapp.db import monday_of, utcnow
from surveyapp.extensions import db
from surveyapp.fieldwork.dispositions import info, merged_disposition
from surveyapp.i18n import local_today
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.models.respondents import (
    BackcheckDraw,
    ContactAttempt,
    ContactMode,
    ContactOutcome,
    Disposition,
    Respondent,
    RespondentStatus,
    Selection,
)
from surveyapp.models.users import Role, User

# Cases still being worked: an attempt may be recorded, an interview entered.
ACTIVE_STATUSES = (RespondentStatus.PENDING, RespondentStatus.INVITED, RespondentStatus.CONTACTED)
# Not yet contacted by anyone (an invitation letter may have been sent).
UNTOUCHED_STATUSES = (RespondentStatus.PENDING, RespondentStatus.INVITED)
# Final non-interviews that may be replaced by the next reserve of the stratum.
REPLACEABLE_STATUSES = (
    RespondentStatus.REFUSED,
    RespondentStatus.NONCONTACT,
    RespondentStatus.INELIGIBLE,
)
DEFAULT_MAX_NONCONTACTS = 3


class FieldworkError(Exception):
    """A refused fieldwork action, with the reason in Vietnamese and English."""

    def __init__(self, message_vi: str, message_en: str):
        self.message_vi, self.message_en = message_vi, message_en
        super().__init__(f"{message_vi} / {message_en}")


class NoReserveLeft(FieldworkError):
    def __init__(self, stratum: str):
        self.stratum = stratum
        super().__init__(
            f"Tầng «{stratum}» đã hết người dự phòng: không thể thay thế.",
            f"No reserve left in stratum «{stratum}»: the case cannot be replaced.",
        )


# --- which cases are in the sample ---------------------------------------------------------


def in_sample():
    """SQL condition: a primary, or a reserve that has been released."""
    return sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True))


def _require_open(campaign_id: int) -> None:
    status = db.session.scalar(sa.select(Campaign.status).where(Campaign.id == campaign_id))
    if status == CampaignStatus.CLOSED:
        raise FieldworkError("Đợt khảo sát đã kết thúc.", "The campaign is closed.")


def _require_enumerator(user: User | None) -> None:
    if user is None or user.role != Role.ENUMERATOR or not user.active:
        raise FieldworkError(
            "Chỉ giao được cho điều tra viên đang hoạt động.",
            "Respondents can be assigned only to an active enumerator.",
        )


# --- assignments -----------------------------------------------------------------------------


def assign(respondents: Sequence[Respondent], enumerator: User | None) -> int:
    """Assign (or reassign, or with ``None`` unassign) ``respondents``; returns how many.

    Completed or replaced cases keep their enumerator (the interview is theirs).
    """
    if enumerator is not None:
        _require_enumerator(enumerator)
    changed = 0
    for respondent in respondents:
        _require_open(respondent.campaign_id)
        if respondent.selection == Selection.RESERVE and not respondent.released:
            raise FieldworkError(
                "Người dự phòng chưa được kích hoạt.", "This reserve has not been released."
            )
        if respondent.status not in ACTIVE_STATUSES:
            continue
        respondent.assigned_enumerator_id = enumerator.id if enumerator else None
        changed += 1
    return changed


def assign_next_pending(
    campaign_id: int,
    unit_id: int,
    enumerator: User,
    count: int,
    stratum: str | None = None,
) -> list[Respondent]:
    """Assign the next ``count`` unassigned, not yet contacted cases (pending or invited
    by letter) of ``unit_id`` to ``enumerator``.

    "Next" is a stable order: stratum, primaries before released reserves, reserve rank,
    id. Returns the cases assigned (fewer when fewer are left).
    """
    _require_enumerator(enumerator)
    _require_open(campaign_id)
    if count < 1:
        raise FieldworkError("Số lượng phải lớn hơn 0.", "The number must be at least 1.")
    query = (
        sa.select(Respondent)
        .where(
            Respondent.campaign_id == campaign_id,
            Respondent.source_unit_id == unit_id,
            Respondent.status.in_(UNTOUCHED_STATUSES),
            Respondent.assigned_enumerator_id.is_(None),
            in_sample(),
        )
        .order_by(
            Respondent.stratum,
            Respondent.selection,  # "primary" < "reserve"
            Respondent.reserve_rank,
            Respondent.id,
        )
        .limit(count)
    )
    if stratum:
        query = query.where(Respondent.stratum == stratum)
    chosen = list(db.session.scalars(query))
    for respondent in chosen:
        respondent.assigned_enumerator_id = enumerator.id
    return chosen


# --- contact attempts --------------------------------------------------------------------------


def record_attempt(
    respondent: Respondent,
    *,
    mode: ContactMode | str,
    disposition: Disposition | str,
    by_user: User | None,
    note: str | None = None,
    attempted_at: datetime | None = None,
    max_noncontacts: int = DEFAULT_MAX_NONCONTACTS,
    auto_replace: bool = False,
) -> ContactAttempt:
    """Record one attempt and move the case's status accordingly.

    Refusal/break-off → refused; not eligible → ineligible; a non-contact result →
    contacted, or noncontact once ``max_noncontacts`` non-contact attempts have been
    made; an appointment or other result → contacted. A completed interview is recorded
    by entering it (:func:`note_interview`), not here. With ``auto_replace``, a case that
    becomes a final non-interview is replaced by the next reserve at once (when one is
    left; otherwise the case simply stays for the supervisor to see).
    """
    disposition = Disposition(disposition)
    if disposition is Disposition.COMPLETE:
        raise FieldworkError(
            "Phỏng vấn hoàn thành được ghi nhận khi nhập phiếu.",
            "A completed interview is recorded by entering the questionnaire.",
        )
    _require_open(respondent.campaign_id)
    if respondent.status not in ACTIVE_STATUSES:
        raise FieldworkError(
            "Trường hợp này đã kết thúc, không ghi thêm lần liên hệ.",
            "This case is finalised: no further attempts can be recorded.",
        )
    outcome = info(disposition).outcome
    attempt = ContactAttempt(
        respondent_id=respondent.id,
        attempted_at=attempted_at or utcnow(),
        mode=ContactMode(mode),
        outcome=outcome,
        disposition=disposition,
        note=(note or "").strip() or None,
        by_user_id=by_user.id if by_user else None,
    )
    db.session.add(attempt)
    db.session.flush()
    respondent.disposition = merged_disposition(respondent.disposition, disposition)
    respondent.status = _status_after(respondent, outcome, max_noncontacts)
    if auto_replace and respondent.status in REPLACEABLE_STATUSES:
        try:
            with db.session.begin_nested():
                replace_with_reserve(respondent)
        except NoReserveLeft:
            pass
    return attempt


def _status_after(
    respondent: Respondent, outcome: ContactOutcome, max_noncontacts: int
) -> RespondentStatus:
    if outcome is ContactOutcome.REFUSED:
        return RespondentStatus.REFUSED
    if outcome is ContactOutcome.INELIGIBLE:
        return RespondentStatus.INELIGIBLE
    if outcome is ContactOutcome.NONCONTACT:
        noncontacts = db.session.scalar(
            sa.select(sa.func.count(ContactAttempt.id)).where(
                ContactAttempt.respondent_id == respondent.id,
                ContactAttempt.outcome == ContactOutcome.NONCONTACT,
            )
        )
        if noncontacts >= max_noncontacts:
            return RespondentStatus.NONCONTACT
    return RespondentStatus.CONTACTED


def note_interview(respondent: Respondent, by_user: User | None, mode: ContactMode) -> None:
    """After ``record_response`` completed the case: its disposition and, for an
    enumerator's interview, the completing attempt (so back-checks know who did it)."""
    respondent.disposition = Disposition.COMPLETE
    if by_user is not None and by_user.role == Role.ENUMERATOR:
        # Stamped with the Monday of the week, like the response itself: no page may
        # show when a case was completed more precisely than the response's week.
        week = datetime.combine(monday_of(local_today()), time())
        db.session.add(
            ContactAttempt(
                respondent_id=respondent.id,
                attempted_at=week,
                mode=mode,
                outcome=ContactOutcome.COMPLETED,
                disposition=Disposition.COMPLETE,
                by_user_id=by_user.id,
            )
        )


# --- replacement from the reserve -----------------------------------------------------------


def _unreleased_reserves(respondent: Respondent) -> tuple[sa.ColumnElement[bool], ...]:
    """Conditions for the unreleased reserves of ``respondent``'s stratum (same draw, unit
    and group)."""
    return (
        Respondent.draw_id == respondent.draw_id,
        Respondent.source_unit_id == respondent.source_unit_id,
        Respondent.respondent_group == respondent.respondent_group,
        Respondent.stratum == respondent.stratum,
        Respondent.selection == Selection.RESERVE,
        Respondent.released.is_(False),
    )


def next_reserve(respondent: Respondent) -> Respondent | None:
    """The lowest-ranked unreleased reserve of ``respondent``'s stratum, or None."""
    return db.session.scalar(
        sa.select(Respondent)
        .where(*_unreleased_reserves(respondent))
        .order_by(Respondent.reserve_rank, Respondent.id)
        .limit(1)
    )


def replace_with_reserve(respondent: Respondent) -> Respondent:
    """Release the next reserve of the stratum in place of a refused, non-contact or
    ineligible case, and return it.

    The released reserve becomes pending and goes to the same enumerator; the replaced
    case gets status ``replaced``, keeps its former status in ``replaced_status`` (for
    response rates) and points to its replacement. Ranks are never skipped: the reserve
    is always the lowest unreleased rank, claimed with a conditional UPDATE (a reserve
    taken by a concurrent release is passed over for the next one, which then has the
    lowest rank left). Raises :class:`NoReserveLeft` when the stratum has none.
    """
    _require_open(respondent.campaign_id)
    if respondent.status not in REPLACEABLE_STATUSES:
        raise FieldworkError(
            "Chỉ thay thế trường hợp từ chối, không liên hệ được hoặc không thuộc đối tượng.",
            "Only refused, non-contact or ineligible cases can be replaced.",
        )
    previous_status = respondent.status
    claimed = db.session.execute(
        sa.update(Respondent)
        .where(Respondent.id == respondent.id, Respondent.status == previous_status)
        .values(status=RespondentStatus.REPLACED, replaced_status=previous_status)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise FieldworkError("Trường hợp này vừa được thay thế.", "This case was just replaced.")
    while True:
        reserve = next_reserve(respondent)
        if reserve is None:
            raise NoReserveLeft(respondent.stratum)
        released = db.session.execute(
            sa.update(Respondent)
            .where(Respondent.id == reserve.id, Respondent.released.is_(False))
            .values(
                released=True,
                status=RespondentStatus.PENDING,
                assigned_enumerator_id=respondent.assigned_enumerator_id,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if released == 1:
            break
        db.session.expire(reserve)
    db.session.execute(
        sa.update(Respondent)
        .where(Respondent.id == respondent.id)
        .values(replaced_by_id=reserve.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(respondent)
    db.session.expire(reserve)
    return reserve


# --- back-checks (phúc tra) ------------------------------------------------------------------


def completed_interviews_by_enumerator(campaign_id: int) -> dict[int, list[int]]:
    """Respondent ids of completed interviews, per enumerator who completed them."""
    rows = db.session.execute(
        sa.select(ContactAttempt.by_user_id, Respondent.id)
        .join(Respondent, Respondent.id == ContactAttempt.respondent_id)
        .where(
            Respondent.campaign_id == campaign_id,
            Respondent.status == RespondentStatus.COMPLETED,
            ContactAttempt.outcome == ContactOutcome.COMPLETED,
            ContactAttempt.by_user_id.is_not(None),
        )
        .order_by(ContactAttempt.by_user_id, Respondent.id)
        .distinct()
    ).all()
    grouped: dict[int, list[int]] = {}
    for user_id, respondent_id in rows:
        grouped.setdefault(user_id, []).append(respondent_id)
    return grouped


def backcheck_sample(
    interviews: dict[int, list[int]], fraction: float, rng: np.random.Generator
) -> list[int]:
    """ceil(fraction × n) interviews per enumerator (at least one when they have any),
    chosen by simple random sampling without replacement. Enumerators are taken in id
    order and each list sorted, so the same seed always gives the same sample."""
    if not 0 < fraction <= 1:
        raise FieldworkError(
            "Tỷ lệ phúc tra phải trong khoảng (0, 1].", "The back-check share must be in (0, 1]."
        )
    chosen: list[int] = []
    for user_id in sorted(interviews):
        ids = sorted(interviews[user_id])
        size = min(len(ids), int(np.ceil(fraction * len(ids))))
        chosen.extend(int(i) for i in rng.choice(ids, size=size, replace=False))
    return sorted(chosen)


def draw_backcheck(
    campaign: Campaign, fraction: float, seed: int | None, by_user: User | None
) -> BackcheckDraw:
    """Draw and store a back-check sample; ``seed`` None draws a fresh recorded seed."""
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    rng = np.random.default_rng(seed)
    ids = backcheck_sample(completed_interviews_by_enumerator(campaign.id), fraction, rng)
    draw = BackcheckDraw(
        campaign_id=campaign.id,
        seed=seed,
        fraction=fraction,
        created_by=by_user.id if by_user else None,
        respondent_ids=ids,
    )
    db.session.add(draw)
    db.session.flush()
    return draw
