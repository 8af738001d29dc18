"""Recording a response: the one write path of the web form, walk-ins, interviews and paper.

:func:`record_response` checks the campaign, cleans the answers, claims the respondent
(or the respondent's rated unit) with one conditional UPDATE whose conditions are
written once (:func:`_claimable`), deletes the form draft and casts the answer into the
ballot box (surveyapp/responses/ballots.py), all in the caller's transaction. A token,
an interview or a paper form thus yields at most one answer per rated unit even when it
is submitted many times at once: on PostgreSQL the second UPDATE waits for the first
one's row lock and then finds the row no longer matches; on SQLite writers are
serialised. Zero rows updated raises :class:`AlreadyRecorded`, and the ballot is not
cast. If anything after the claim fails, the claim rolls back with it: no answer is lost
and none is counted twice.

The caller owns the transaction (the request hook commits it; CLI and jobs use
``with transaction():``). The answer reaches ``responses`` later, in a batch of its own
(ballots.py): nothing written here links it to the respondent, the token, the user or
the time of day (see models/responses.py and SECURITY.md, "Anonymity design").
"""

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from questionnaires import Questionnaire, clean_answers, load_builtin
from surveyapp.core.codes import hash_token
from surveyapp.db import monday_of
from surveyapp.extensions import db
from surveyapp.i18n import format_date, local_day, local_today
from surveyapp.models.campaigns import Campaign, CampaignInstrument, CampaignStatus
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import (
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
    TargetStatus,
)
from surveyapp.models.responses import ResponseMode
from surveyapp.models.units import Unit
from surveyapp.responses.ballots import cast


class ResponseError(Exception):
    """A response that cannot be recorded, with the reason in Vietnamese and English."""

    def __init__(self, message_vi: str, message_en: str):
        self.message_vi, self.message_en = message_vi, message_en
        super().__init__(f"{message_vi} / {message_en}")


class AlreadyRecorded(ResponseError):
    """The respondent (for this rated unit) has already answered, or the token changed."""

    def __init__(self):
        super().__init__(
            "Phiếu này đã được trả lời trước đó.", "This questionnaire has already been answered."
        )


class NotAccepting(ResponseError):
    """The campaign does not take this response now; ``reason`` is not_open | closed |
    expired | entry_closed (an interview or paper form after data entry ended)."""

    def __init__(self, reason: str, entry_deadline: dt.date | None = None):
        self.reason = reason
        texts = {
            "not_open": ("Đợt khảo sát chưa bắt đầu.", "The survey has not started yet."),
            "closed": ("Đợt khảo sát đã kết thúc.", "The survey has ended."),
            "expired": ("Đường dẫn đã hết hạn.", "The link has expired."),
        }
        if reason == "entry_closed":
            super().__init__(*_entry_closed_texts(entry_deadline))
        else:
            super().__init__(*texts[reason])


def _entry_closed_texts(deadline: dt.date | None) -> tuple[str, str]:
    ended_vi = (
        f"Đã hết hạn nhập phiếu (ngày {format_date(deadline)})"
        if deadline
        else "Đợt khảo sát đã kết thúc và không nhận nhập thêm phiếu"
    )
    ended_en = (
        f"Data entry ended on {format_date(deadline)}"
        if deadline
        else "The campaign is closed and takes no more data entry"
    )
    return (
        f"{ended_vi}. Phiếu đang nhập chưa được lưu vào kết quả nhưng được giữ lại làm bản "
        "nháp; đề nghị quản trị viên gia hạn nhập phiếu rồi mở lại phiếu này.",
        f"{ended_en}. This form was not added to the results, but what you typed is kept as "
        "a draft; ask the administrator to extend data entry, then open this form again.",
    )


# --- helpers shared with the citizen form ----------------------------------------------------


def today() -> dt.date:
    """Today in the survey's zone (Asia/Ho_Chi_Minh): a link valid "until 31/10" works
    until midnight there, and the week of an answer is the local week."""
    return local_today()


def _entry_ended_on(campaign: Campaign) -> dt.date | None:
    """The day data entry ended (or ends): when it was ended, else its deadline."""
    if campaign.entry_closed_at is not None:
        return local_day(campaign.entry_closed_at)
    return campaign.entry_deadline


def entry_open(campaign: Campaign) -> bool:
    """Interviews and paper forms can be entered: in fieldwork, or once closed until the
    data-entry deadline (inclusive) unless the administrator ended data entry."""
    if campaign.status == CampaignStatus.FIELDWORK:
        return True
    return (
        campaign.status == CampaignStatus.CLOSED
        and campaign.entry_closed_at is None
        and campaign.entry_deadline is not None
        and campaign.entry_deadline >= today()
    )


def campaign_state(campaign: Campaign, *, token: bool = False, entry: bool = False) -> str | None:
    """None when ``campaign`` takes the response now, else not_open | closed | expired |
    entry_closed. ``token``: a citizen's link (it expires); ``entry``: an interview or a
    paper form, which a closed campaign takes until its data-entry deadline."""
    if campaign.status == CampaignStatus.DRAFT:
        return "not_open"
    if campaign.status == CampaignStatus.CLOSED:
        if not entry:
            return "closed"
        return None if entry_open(campaign) else "entry_closed"
    expires_on = campaign.links_expire_on
    if token and expires_on is not None and expires_on < today():
        return "expired"
    return None


def instrument_for(campaign_id: int, respondent_group: str) -> CampaignInstrument | None:
    return db.session.scalar(
        sa.select(CampaignInstrument).where(
            CampaignInstrument.campaign_id == campaign_id,
            CampaignInstrument.respondent_group == respondent_group,
        )
    )


def questionnaire_for(campaign_id: int, respondent_group: str) -> Questionnaire:
    """The questionnaire version the campaign uses for ``respondent_group``."""
    instrument = instrument_for(campaign_id, respondent_group)
    if instrument is None:
        raise ResponseError(
            f"Đợt khảo sát chưa chọn bảng hỏi cho nhóm «{respondent_group}».",
            f"The campaign has no questionnaire for the group «{respondent_group}».",
        )
    return load_builtin(instrument.questionnaire_id, instrument.questionnaire_version)


def pending_units(respondent: Respondent) -> list[int]:
    """Rated units still to be answered (empty once the respondent has completed)."""
    if respondent.status == RespondentStatus.COMPLETED:
        return []
    targets = db.session.execute(
        sa.select(RespondentTarget.rated_unit_id, RespondentTarget.status)
        .where(RespondentTarget.respondent_id == respondent.id)
        .order_by(RespondentTarget.id)
    ).all()
    if not targets:
        return [respondent.source_unit_id]
    return [unit for unit, status in targets if status == TargetStatus.PENDING]


def json_safe(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Cleaned answers as JSON values: tuples → lists, dates → ISO strings."""
    safe = {}
    for code, value in answers.items():
        if isinstance(value, (tuple, list, set, frozenset)):
            value = list(value)
        elif isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        elif isinstance(value, decimal.Decimal):
            value = float(value)
        safe[code] = value
    return safe


# --- the write path -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """An answer cast into the ballot box; ``completed`` when the respondent has no rated
    unit left to answer (always for a walk-in)."""

    completed: bool


def record_response(
    *,
    respondent: Respondent | int | None = None,
    token: str | None = None,
    token_hash: str | None = None,
    unit: Unit | int,
    answers: Mapping[str, Any],
    mode: ResponseMode | str,
    questionnaire: Questionnaire | None = None,
    campaign: Campaign | int | None = None,
    respondent_group: str | None = None,
    draft_id: int | None = None,
) -> Recorded:
    """Validate ``answers`` and cast one anonymous answer about ``unit``.

    Modes:

    * ``web``: ``respondent`` and its ``token`` (plaintext) or ``token_hash``; the claim
      also requires the hash to match and the token not to be expired.
    * ``enumerator`` / ``paper``: ``respondent`` (an interview or a keyed-in paper form).
    * ``walkin``: no respondent; ``campaign`` and ``respondent_group`` say which
      questionnaire; stored as a non-probability response without weight.

    ``unit`` is the rated unit: one of the respondent's targets, or the respondent's own
    unit when it has none. ``questionnaire`` defaults to the campaign's instrument for the
    respondent group. Answers are cleaned with :func:`questionnaires.clean_answers`
    (non-relevant answers dropped; :class:`questionnaires.AnswerError` when invalid).
    ``draft_id``: the form draft holding these answers, deleted with the claim, so that no
    answer stays linked to the person.

    Raises :class:`NotAccepting` when the campaign is not in fieldwork (or the token
    expired), :class:`AlreadyRecorded` when the claim updates no row (already answered,
    token re-issued) and :class:`ResponseError` for inconsistent arguments, in that order.
    """
    mode = ResponseMode(mode)
    unit_id = unit.id if isinstance(unit, Unit) else int(unit)
    if mode is ResponseMode.WALKIN:
        recorded = _record_walkin(campaign, unit_id, answers, questionnaire, respondent_group)
        _delete_draft(draft_id)
        return recorded
    if respondent is None:
        raise ResponseError(
            "Thiếu người trả lời được chọn mẫu.", f"A {mode.value} response needs a respondent."
        )
    respondent, campaign_row = _respondent_and_campaign(respondent)
    if mode is ResponseMode.WEB and token_hash is None:
        if token is None:
            raise ResponseError("Thiếu mã truy cập.", "A web response needs the token.")
        token_hash = hash_token(token)
    entry = mode in (ResponseMode.ENUMERATOR, ResponseMode.PAPER)
    reason = campaign_state(campaign_row, token=mode is ResponseMode.WEB, entry=entry)
    if reason:
        raise NotAccepting(reason, _entry_ended_on(campaign_row))
    if questionnaire is None:
        questionnaire = questionnaire_for(respondent.campaign_id, respondent.respondent_group)
    # A paper form keyed in may record «left blank on the form» (questionnaires.LEFT_BLANK).
    cleaned = clean_answers(questionnaire, answers, left_blank=mode is ResponseMode.PAPER)
    completed = _claim(respondent, unit_id, token_hash if mode is ResponseMode.WEB else None)
    _delete_draft(draft_id)
    cast(
        db.session.connection(),
        respondent.campaign_id,
        _values(
            questionnaire,
            cleaned,
            rated_unit_id=unit_id,
            respondent_group=respondent.respondent_group,
            stratum=respondent.stratum,
            weight=respondent.weight,
            mode=mode,
            is_probability=True,
        ),
    )
    return Recorded(completed)


def _delete_draft(draft_id: int | None) -> None:
    if draft_id is not None:
        drafts = FormDraft.__table__
        db.session.execute(sa.delete(drafts).where(drafts.c.id == draft_id))


def _values(questionnaire: Questionnaire, answers: Mapping[str, Any], **design) -> dict:
    """A response's values as the ballot carries them (JSON; the id is drawn at mixing)."""
    return {
        "questionnaire_id": questionnaire.id,
        "questionnaire_version": str(questionnaire.version),
        "submitted_week": monday_of(today()).isoformat(),
        "answers": json_safe(answers),
        **design,
        "mode": ResponseMode(design["mode"]).value,
    }


def _respondent_and_campaign(respondent: Respondent | int) -> tuple[Respondent, Campaign]:
    if isinstance(respondent, Respondent):
        return respondent, db.session.get(Campaign, respondent.campaign_id)
    row = db.session.execute(
        sa.select(Respondent, Campaign)
        .join(Campaign, Campaign.id == Respondent.campaign_id)
        .where(Respondent.id == int(respondent))
    ).first()
    if row is None:
        raise ResponseError("Không tìm thấy người trả lời.", "Respondent not found.")
    return row[0], row[1]


def _record_walkin(campaign, unit_id, answers, questionnaire, respondent_group) -> Recorded:
    if campaign is None or respondent_group is None:
        raise ResponseError(
            "Phiếu tại quầy cần đợt khảo sát và nhóm đối tượng.",
            "A walk-in response needs the campaign and the respondent group.",
        )
    campaign_row = (
        campaign if isinstance(campaign, Campaign) else db.session.get(Campaign, campaign)
    )
    reason = campaign_state(campaign_row)
    if reason:
        raise NotAccepting(reason)
    if questionnaire is None:
        questionnaire = questionnaire_for(campaign_row.id, respondent_group)
    cleaned = clean_answers(questionnaire, answers)
    values = _values(
        questionnaire,
        cleaned,
        rated_unit_id=unit_id,
        respondent_group=respondent_group,
        stratum=None,
        weight=None,
        mode=ResponseMode.WALKIN,
        is_probability=False,
    )
    cast(db.session.connection(), campaign_row.id, values)
    return Recorded(completed=True)


# --- the claim: the rules, once ---------------------------------------------------------------


def _claimable(respondent_id: int, token_hash: str | None) -> list:
    """The conditions for the respondent row to be claimable now, in SQL.

    Not answered yet, a primary or a released reserve, the campaign in fieldwork (for
    interviews and paper forms also closed within its data-entry deadline), and for the
    web not replaced, the token's hash and its expiry. They are on the updated row itself (not
    in a sub-query on the same table): a PostgreSQL UPDATE that waited for a concurrent
    one re-checks its conditions on the new row version, a sub-query keeps the
    statement's old snapshot.
    """
    conditions = [
        Respondent.id == respondent_id,
        Respondent.status != RespondentStatus.COMPLETED,
        sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True)),
    ]
    in_fieldwork = Campaign.status == CampaignStatus.FIELDWORK
    open_campaigns = sa.select(Campaign.id).where(in_fieldwork)
    if token_hash is None:
        # Interviews and paper forms: also a closed campaign until its data-entry deadline
        # (the same rule as entry_open).
        entering = sa.and_(
            Campaign.status == CampaignStatus.CLOSED,
            Campaign.entry_closed_at.is_(None),
            Campaign.entry_deadline >= today(),
        )
        open_campaigns = sa.select(Campaign.id).where(sa.or_(in_fieldwork, entering))
    else:
        # A replaced citizen's form, opened before the reserve was released, is refused.
        conditions.append(Respondent.status != RespondentStatus.REPLACED)
        conditions.append(Respondent.token_hash == token_hash)
        # A blank expiry date means the survey's end (Campaign.links_expire_on).
        expires_on = sa.func.coalesce(Campaign.token_expires_on, Campaign.period_end)
        open_campaigns = open_campaigns.where(sa.or_(expires_on.is_(None), expires_on >= today()))
    conditions.append(Respondent.campaign_id.in_(open_campaigns))
    return conditions


def _claim(respondent: Respondent, unit_id: int, token_hash: str | None) -> bool:
    """Mark (respondent, rated unit) answered or raise AlreadyRecorded; True when the
    respondent has nothing left to answer (completed)."""
    targets = sa.select(RespondentTarget.id).where(RespondentTarget.respondent_id == Respondent.id)
    if unit_id == respondent.source_unit_id:
        # Most respondents rate their own unit and have no target rows: one UPDATE.
        claimed = db.session.execute(
            sa.update(Respondent)
            .where(*_claimable(respondent.id, token_hash), ~sa.exists(targets))
            .values(status=RespondentStatus.COMPLETED)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            set_committed_value(respondent, "status", RespondentStatus.COMPLETED)
            return True
    claimed = db.session.execute(
        sa.update(RespondentTarget)
        .where(
            RespondentTarget.respondent_id == respondent.id,
            RespondentTarget.rated_unit_id == unit_id,
            # The status test on the target row is what concurrent claims re-check.
            RespondentTarget.status == TargetStatus.PENDING,
            RespondentTarget.respondent_id.in_(
                sa.select(Respondent.id).where(*_claimable(respondent.id, token_hash))
            ),
        )
        .values(status=TargetStatus.COMPLETED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise _why_not_claimed(respondent, unit_id)
    # The respondent is completed once no target is left (declined targets count as done).
    pending = sa.select(RespondentTarget.id).where(
        RespondentTarget.respondent_id == respondent.id,
        RespondentTarget.status == TargetStatus.PENDING,
    )
    completed = db.session.execute(
        sa.update(Respondent)
        .where(Respondent.id == respondent.id, ~sa.exists(pending))
        .values(status=RespondentStatus.COMPLETED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if completed:
        set_committed_value(respondent, "status", RespondentStatus.COMPLETED)
    return bool(completed)


def _why_not_claimed(respondent: Respondent, unit_id: int) -> ResponseError:
    """AlreadyRecorded, unless ``unit_id`` is not a unit the respondent rates."""
    targets = set(
        db.session.scalars(
            sa.select(RespondentTarget.rated_unit_id).where(
                RespondentTarget.respondent_id == respondent.id
            )
        )
    )
    if unit_id in targets or (not targets and unit_id == respondent.source_unit_id):
        return AlreadyRecorded()
    return ResponseError(
        "Người trả lời không được mời đánh giá đơn vị này.",
        "The respondent is not asked to rate this unit.",
    )
