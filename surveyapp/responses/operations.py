"""Recording a response: the one write path shared by the web form, walk-ins and data entry.

:func:`record_response` claims the respondent (or the respondent's rated unit) with a
conditional UPDATE and inserts the anonymous :class:`Response` in the same transaction,
so a token, an interview or a paper form yields at most one response per rated unit even
when it is submitted many times at once: on PostgreSQL the second UPDATE waits for the
first one's row lock and then finds the row no longer matches; on SQLite writers are
serialised. Zero rows updated raises :class:`AlreadyRecorded`.

The caller owns the transaction (the request hook commits it; CLI and jobs use
``with transaction():``). Nothing written here links the response to the respondent,
the token, the user or the time of day (see models/responses.py).
"""

import datetime as dt
import decimal
import functools
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from questionnaires import AnswerError, Questionnaire, clean_answers, load_builtin
from surveyapp.core.codes import hash_token
from surveyapp.db import monday_of, utcnow
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, CampaignInstrument, CampaignStatus
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import (
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
    TargetStatus,
)
from surveyapp.models.responses import Response, ResponseMode
from surveyapp.models.units import Unit


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
    """The campaign does not take responses now; ``reason`` is not_open|closed|expired."""

    def __init__(self, reason: str):
        self.reason = reason
        texts = {
            "not_open": ("Đợt khảo sát chưa bắt đầu.", "The survey has not started yet."),
            "closed": ("Đợt khảo sát đã kết thúc.", "The survey has ended."),
            "expired": ("Đường dẫn đã hết hạn.", "The link has expired."),
        }
        super().__init__(*texts[reason])


# --- helpers shared with the citizen form ----------------------------------------------------


def today() -> dt.date:
    return utcnow().date()


def campaign_state(campaign: Campaign, *, token: bool = False) -> str | None:
    """None when ``campaign`` takes responses now, else not_open | closed | expired."""
    if campaign.status == CampaignStatus.DRAFT:
        return "not_open"
    if campaign.status == CampaignStatus.CLOSED:
        return "closed"
    if token and campaign.token_expires_on is not None and campaign.token_expires_on < today():
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
) -> Response:
    """Validate ``answers`` and store one anonymous response about ``unit``.

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

    Raises :class:`AlreadyRecorded` when the claim updates no row (already answered,
    token re-issued), :class:`NotAccepting` when the campaign is not in fieldwork (or the
    token expired) and :class:`ResponseError` for inconsistent arguments. Returns the
    flushed :class:`Response`; the caller's transaction commits it.
    """
    mode = ResponseMode(mode)
    unit_id = unit.id if isinstance(unit, Unit) else int(unit)
    if mode is ResponseMode.WALKIN:
        return _record_walkin(campaign, unit_id, answers, questionnaire, respondent_group)
    if respondent is None:
        raise ResponseError(
            "Thiếu người trả lời được chọn mẫu.", f"A {mode.value} response needs a respondent."
        )
    respondent, campaign_row = _respondent_and_campaign(respondent)
    if mode is ResponseMode.WEB and token_hash is None:
        if token is None:
            raise ResponseError("Thiếu mã truy cập.", "A web response needs the token.")

        token_hash = hash_token(token)
    reason = campaign_state(campaign_row, token=mode is ResponseMode.WEB)
    if reason:
        raise NotAccepting(reason)
    if questionnaire is None:
        questionnaire = questionnaire_for(respondent.campaign_id, respondent.respondent_group)
    cleaned = clean_answers(questionnaire, answers)
    _claim(respondent, unit_id, token_hash if mode is ResponseMode.WEB else None)
    return _insert(
        campaign_id=respondent.campaign_id,
        questionnaire=questionnaire,
        rated_unit_id=unit_id,
        respondent_group=respondent.respondent_group,
        stratum=respondent.stratum,
        weight=respondent.weight,
        mode=mode,
        is_probability=True,
        answers=cleaned,
    )


def record_web_response(
    *,
    respondent_id: int,
    token_hash: str,
    unit_id: int,
    answers: Mapping[str, Any],
    questionnaire: Questionnaire,
    draft_id: int | None = None,
) -> bool:
    """The citizen form's submit: :func:`record_response` in web mode, in fewer statements.

    Same rules, same exceptions, same rows written. The common case (a respondent rating
    their own unit, no rated-unit rows) is one ``UPDATE ... RETURNING`` that claims the
    token and returns what the response copies (no SELECT of the respondent and campaign
    first), then one Core INSERT; on PostgreSQL both are one statement (the UPDATE in a
    CTE), so one round trip. Anything else (invalid answers, a respondent with
    rated-unit rows, a claim that matched no row: already answered, token re-issued,
    campaign closed or expired) goes through :func:`record_response`, which finds the
    reason; the fast UPDATE wrote nothing in that case, so the outcome is the same.

    ``draft_id``: the form draft holding these answers, deleted with the claim when the
    response is recorded (in the same statement on PostgreSQL), so no answer stays
    linked to the person. Returns True when the respondent has no rated unit left (completed).
    """
    try:
        cleaned = clean_answers(questionnaire, answers)
    except AnswerError:
        cleaned = None  # record_response raises it, after the campaign checks it does first
    claimed = cleaned is not None and _claim_and_insert(
        respondent_id, token_hash, unit_id, questionnaire, cleaned, draft_id
    )
    if claimed:
        return True
    record_response(
        respondent=respondent_id,
        token_hash=token_hash,
        unit=unit_id,
        answers=answers,
        mode=ResponseMode.WEB,
        questionnaire=questionnaire,
    )
    _delete_draft(db.session.connection(), draft_id)
    return not pending_units(db.session.get(Respondent, respondent_id))


# The response's columns that do not come from the respondent row.
_RESPONSE_VALUES = (
    "id", "questionnaire_id", "questionnaire_version", "rated_unit_id", "mode",
    "is_probability", "submitted_week", "answers",
)  # fmt: skip
_FROM_RESPONDENT = ("campaign_id", "respondent_group", "stratum", "weight")


def _claim_and_insert(respondent_id, token_hash, unit_id, questionnaire, cleaned, draft_id):
    """Claim a respondent rating their own unit, insert the response and delete the draft;
    False when the claim matched no row (nothing written then)."""
    connection = db.session.connection()
    claim = {
        "claim_respondent_id": respondent_id,
        "claim_token_hash": token_hash,
        "claim_unit_id": unit_id,
        "claim_today": today(),
    }
    values = {
        "id": uuid.uuid4(),
        "questionnaire_id": questionnaire.id,
        "questionnaire_version": str(questionnaire.version),
        "rated_unit_id": unit_id,
        "mode": ResponseMode.WEB,
        "is_probability": True,
        "submitted_week": monday_of(today()),
        "answers": json_safe(cleaned),
    }
    if connection.dialect.name == "postgresql":
        # One statement, one round trip: the UPDATE and the draft DELETE in CTEs, the
        # INSERT fed by the UPDATE's RETURNING.
        inserted = connection.execute(
            _claim_and_insert_statement(),
            {
                **claim,
                **{f"response_{name}": value for name, value in values.items()},
                "dropped_draft_id": draft_id,
            },
        )
        return inserted.first() is not None
    claimed = connection.execute(_claim_own_unit_statement(), claim).first()
    if claimed is None:
        return False
    connection.execute(_insert_statement(), {**values, **claimed._asdict()})
    _delete_draft(connection, draft_id)
    return True


def _delete_draft(connection: sa.Connection, draft_id: int | None) -> None:
    if draft_id is not None:
        drafts = FormDraft.__table__
        connection.execute(sa.delete(drafts).where(drafts.c.id == draft_id))


@functools.cache
def _claim_own_unit_statement() -> sa.Update:
    """:func:`_claim`'s one-UPDATE case as a reusable Core statement (built once: building
    the expression tree costs more than running it)."""
    respondents, targets = Respondent.__table__, RespondentTarget.__table__
    return (
        sa.update(respondents)
        .where(
            respondents.c.id == sa.bindparam("claim_respondent_id"),
            respondents.c.source_unit_id == sa.bindparam("claim_unit_id"),
            respondents.c.token_hash == sa.bindparam("claim_token_hash"),
            respondents.c.status != RespondentStatus.COMPLETED,
            sa.or_(
                respondents.c.selection == Selection.PRIMARY,
                respondents.c.released.is_(True),
            ),
            respondents.c.campaign_id.in_(
                sa.select(Campaign.__table__.c.id).where(
                    Campaign.__table__.c.status == CampaignStatus.FIELDWORK,
                    sa.or_(
                        Campaign.__table__.c.token_expires_on.is_(None),
                        Campaign.__table__.c.token_expires_on >= sa.bindparam("claim_today"),
                    ),
                )
            ),
            ~sa.exists(sa.select(targets.c.id).where(targets.c.respondent_id == respondents.c.id)),
        )
        .values(status=RespondentStatus.COMPLETED)
        .returning(
            respondents.c.campaign_id,
            respondents.c.respondent_group,
            respondents.c.stratum,
            respondents.c.weight,
        )
    )


@functools.cache
def _insert_statement() -> sa.Insert:
    return sa.insert(Response.__table__)


@functools.cache
def _claim_and_insert_statement() -> sa.Insert:
    """PostgreSQL: ``WITH claimed AS (UPDATE ... RETURNING ...) INSERT INTO responses
    SELECT ... FROM claimed RETURNING id``. The UPDATE locks and re-checks the respondent
    row exactly as on its own; no row claimed, no row inserted."""
    responses = Response.__table__
    claimed = _claim_own_unit_statement().cte("claimed")
    given = [
        sa.cast(
            sa.bindparam(f"response_{name}", type_=responses.c[name].type),
            responses.c[name].type,
        ).label(name)
        for name in _RESPONSE_VALUES
    ]
    copied = [claimed.c[name] for name in _FROM_RESPONDENT]
    drafts = FormDraft.__table__
    dropped = (
        sa.delete(drafts)
        .where(
            drafts.c.id == sa.bindparam("dropped_draft_id"),
            sa.exists(sa.select(claimed.c.campaign_id)),
        )
        .cte("dropped")
    )
    return (
        sa.insert(responses)
        .from_select([*_RESPONSE_VALUES, *_FROM_RESPONDENT], sa.select(*given, *copied))
        .returning(responses.c.id)
        .add_cte(dropped)
    )


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


def _record_walkin(campaign, unit_id, answers, questionnaire, respondent_group) -> Response:
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
    return _insert(
        campaign_id=campaign_row.id,
        questionnaire=questionnaire,
        rated_unit_id=unit_id,
        respondent_group=respondent_group,
        stratum=None,
        weight=None,
        mode=ResponseMode.WALKIN,
        is_probability=False,
        answers=cleaned,
    )


def _claim_conditions(respondent_id: int, token_hash: str | None) -> list:
    """The conditions for the respondent row to be claimable now, in SQL.

    They must be on the updated row itself (not in a sub-query on the same table): a
    PostgreSQL UPDATE that waited for a concurrent one re-checks its conditions on the
    new row version, but a sub-query keeps the statement's old snapshot.
    """
    conditions = [
        Respondent.id == respondent_id,
        Respondent.status != RespondentStatus.COMPLETED,
        sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True)),
    ]
    open_campaigns = sa.select(Campaign.id).where(Campaign.status == CampaignStatus.FIELDWORK)
    if token_hash is not None:
        conditions.append(Respondent.token_hash == token_hash)
        open_campaigns = open_campaigns.where(
            sa.or_(Campaign.token_expires_on.is_(None), Campaign.token_expires_on >= today())
        )
    conditions.append(Respondent.campaign_id.in_(open_campaigns))
    return conditions


def _claim(respondent: Respondent, unit_id: int, token_hash: str | None) -> None:
    """Mark the (respondent, rated unit) answered, or raise AlreadyRecorded."""
    targets_of_row = sa.select(RespondentTarget.id).where(
        RespondentTarget.respondent_id == Respondent.id
    )
    if unit_id == respondent.source_unit_id:
        # Most respondents rate their own unit and have no target rows: one UPDATE.
        claimed = db.session.execute(
            sa.update(Respondent)
            .where(*_claim_conditions(respondent.id, token_hash), ~sa.exists(targets_of_row))
            .values(status=RespondentStatus.COMPLETED)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            set_committed_value(respondent, "status", RespondentStatus.COMPLETED)
            return
    target_id = db.session.scalar(
        sa.select(RespondentTarget.id).where(
            RespondentTarget.respondent_id == respondent.id,
            RespondentTarget.rated_unit_id == unit_id,
        )
    )
    if target_id is None:
        has_targets = db.session.scalar(
            sa.select(sa.exists().where(RespondentTarget.respondent_id == respondent.id))
        )
        if unit_id == respondent.source_unit_id and not has_targets:
            raise AlreadyRecorded()
        raise _not_a_target()
    claimed = db.session.execute(
        sa.update(RespondentTarget)
        .where(
            RespondentTarget.id == target_id,
            # The status test on the target row is what concurrent claims re-check.
            RespondentTarget.status == TargetStatus.PENDING,
            RespondentTarget.respondent_id.in_(
                sa.select(Respondent.id).where(*_claim_conditions(respondent.id, token_hash))
            ),
        )
        .values(status=TargetStatus.COMPLETED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise AlreadyRecorded()
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


def _not_a_target() -> ResponseError:
    return ResponseError(
        "Người trả lời không được mời đánh giá đơn vị này.",
        "The respondent is not asked to rate this unit.",
    )


def _insert(*, questionnaire: Questionnaire, answers: Mapping[str, Any], **values) -> Response:
    response = Response(
        questionnaire_id=questionnaire.id,
        questionnaire_version=str(questionnaire.version),
        submitted_week=monday_of(today()),
        answers=json_safe(answers),
        **values,
    )
    db.session.add(response)
    db.session.flush()
    return response
