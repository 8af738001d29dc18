"""Issuing tokens and producing invitation letters.

Because only hashes are stored, a token can be printed only at the moment it is made:
:func:`issue_tokens` makes new ones (replacing, and so invalidating, any earlier token
and code of those respondents) and returns the plaintext to the caller, which puts it
into letters (:func:`produce_letters`) or a links file and then forgets it.

Demo / scripts::

    with app.app_context(), transaction():
        issued = issue_tokens(respondents)      # [IssuedToken(respondent_id, token, code, url)]
"""

import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from questionnaires import InvitationEntry, render_invitations
from surveyapp import jobs
from surveyapp.core.codes import format_code, generate_code, generate_token, hash_code, hash_token
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.i18n import DAY_FORMAT, timezone
from surveyapp.models.campaigns import Campaign
from surveyapp.models.respondents import (
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
)
from surveyapp.models.units import Unit
from surveyapp.responses.operations import ResponseError, instrument_for, questionnaire_for

# Respondents who get no letter: already answered, out of scope, or replaced by a reserve.
NOT_INVITED = (RespondentStatus.COMPLETED, RespondentStatus.INELIGIBLE, RespondentStatus.REPLACED)
LETTERS_DIR = "letters"


class LettersError(ResponseError):
    """Nothing to print, or a bad selection (message in Vietnamese and English)."""


@dataclass(frozen=True)
class IssuedToken:
    respondent_id: int
    token: str
    code: str  # printed form, ABCDE-FGHJK
    url: str


def citizen_url(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/s/{token}"


def invitable(campaign_id: int, unit_id: int | None = None, respondent_ids=None, only_new=False):
    """A query of the respondents a letter may go to: primaries and released reserves
    who have not answered, of one unit and/or an explicit list."""
    query = sa.select(Respondent).where(
        Respondent.campaign_id == campaign_id,
        sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True)),
        Respondent.status.not_in(NOT_INVITED),
    )
    if unit_id is not None:
        query = query.where(Respondent.source_unit_id == unit_id)
    if respondent_ids is not None:
        query = query.where(Respondent.id.in_([int(i) for i in respondent_ids]))
    if only_new:
        query = query.where(Respondent.token_hash.is_(None))
    return query.order_by(Respondent.source_unit_id, Respondent.id)


def _unused_codes(count: int) -> list[str]:
    """``count`` new short codes whose hashes are in no respondent row (nor repeated)."""
    codes: dict[str, str] = {}
    while len(codes) < count:
        fresh = {}
        while len(fresh) + len(codes) < count:
            code = generate_code()
            fresh[hash_code(code)] = code
        taken = set(
            db.session.scalars(
                sa.select(Respondent.short_code_hash).where(
                    Respondent.short_code_hash.in_(list(fresh))
                )
            )
        )
        codes.update({h: c for h, c in fresh.items() if h not in taken and h not in codes})
    return list(codes.values())


def issue_tokens(respondents: Sequence[Respondent]) -> list[IssuedToken]:
    """New token and short code for each respondent (earlier ones stop working).

    Stores only the keyed hashes, the issue time and the expiry date; moves pending
    respondents to ``invited``. Returns the plaintext for the letters, in order.
    """
    issued = []
    now = utcnow()
    campaigns: dict[int, Campaign] = {}
    for respondent, code in zip(respondents, _unused_codes(len(respondents)), strict=True):
        campaign = campaigns.setdefault(
            respondent.campaign_id, db.session.get(Campaign, respondent.campaign_id)
        )
        token = generate_token()
        respondent.token_hash = hash_token(token)
        respondent.short_code_hash = hash_code(code)
        respondent.token_issued_at = now
        respondent.token_expires_on = campaign.token_expires_on
        if respondent.status == RespondentStatus.PENDING:
            respondent.status = RespondentStatus.INVITED
        issued.append(IssuedToken(respondent.id, token, format_code(code), citizen_url(token)))
    db.session.flush()
    return issued


Progress = Callable[[int, int], None]


def letter_deadline(campaign: Campaign, today: dt.date | None = None) -> dt.date | None:
    """The answer-by date a letter prints: the link expiry (or the campaign's end), never
    a day that has already passed (then the letter prints no date at all)."""
    deadline = campaign.token_expires_on or campaign.period_end
    if deadline is None or deadline < (today or local_today()):
        return None
    return deadline


def local_today() -> dt.date:
    """Today in the staff's zone (Asia/Ho_Chi_Minh), not the server's UTC date."""
    return dt.datetime.now(timezone()).date()


def _entries(
    campaign: Campaign, respondents: Sequence[Respondent], issued: Sequence[IssuedToken]
) -> list[InvitationEntry]:
    """One letter per respondent: their group's questionnaire (so its own letter texts),
    their unit, the units an official rates, and their postal address when the list has one."""
    unit_ids = {r.source_unit_id for r in respondents}
    rated: dict[int, list[int]] = {}
    for respondent_id, unit_id in db.session.execute(
        sa.select(RespondentTarget.respondent_id, RespondentTarget.rated_unit_id)
        .where(RespondentTarget.respondent_id.in_([r.id for r in respondents]))
        .order_by(RespondentTarget.id)
    ):
        rated.setdefault(respondent_id, []).append(unit_id)
        unit_ids.add(unit_id)
    unit_names = dict(
        db.session.execute(sa.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()
    )
    questionnaires = {}
    for group in {r.respondent_group for r in respondents}:
        if instrument_for(campaign.id, group) is not None:
            questionnaires[group] = questionnaire_for(campaign.id, group)
    return [
        InvitationEntry(
            url=item.url,
            code=item.code,
            addressee=respondent.full_name or None,
            unit=unit_names.get(respondent.source_unit_id),
            address=respondent.address or None,
            rated_units=tuple(unit_names[u] for u in rated.get(respondent.id, ())),
            questionnaire=questionnaires.get(respondent.respondent_group),
        )
        for respondent, item in zip(respondents, issued, strict=True)
    ]


def produce_letters(
    campaign: Campaign,
    respondents: Sequence[Respondent],
    out,
    *,
    lang: str = "vi",
    progress: Progress | None = None,
) -> list[IssuedToken]:
    """Issue tokens for ``respondents`` and write their letters (one PDF) to ``out``.

    Each respondent gets their own group's letter (an official never gets the citizens'
    SIPAS letter); the deadline is printed only while it has not passed.
    """
    if not respondents:
        raise LettersError(
            "Không có người nào cần gửi thư (đã trả lời, hoặc chưa có mẫu).",
            "Nobody to write to (all have answered, or there is no sample yet).",
        )
    issued = issue_tokens(respondents)
    deadline = letter_deadline(campaign)
    render_invitations(
        _entries(campaign, respondents, issued),
        out,
        province=current_app.config.get("PROVINCE_NAME"),
        year=campaign.code if campaign.code.isdigit() else None,
        deadline=deadline.strftime(DAY_FORMAT) if deadline else None,
        lang=lang,
        progress=progress,
    )
    return issued


def letters_folder(campaign_id: int) -> Path:
    """A campaign's letters (they carry names): ``purge-pii`` removes the whole folder."""
    return Path(current_app.instance_path) / LETTERS_DIR / f"campaign-{campaign_id}"


def letters_path(campaign_id: int) -> Path:
    folder = letters_folder(campaign_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{uuid.uuid4().hex}.pdf"


def render_letters_job(
    campaign_id: int,
    unit_id: int | None,
    respondent_ids: list[int] | None,
    only_new: bool,
    lang: str,
) -> str:
    """Background job: issue tokens and render the letters; returns the PDF's path."""
    campaign = db.session.get(Campaign, campaign_id)
    respondents = db.session.scalars(
        invitable(campaign_id, unit_id, respondent_ids, only_new)
    ).all()
    path = letters_path(campaign_id)
    step = max(1, len(respondents) // 50)

    def report(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            jobs.progress(done, total)

    jobs.progress(0, len(respondents))
    try:
        produce_letters(campaign, respondents, path, lang=lang, progress=report)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return str(path)


def delete_letters_file(path: str | None) -> None:
    """Remove a letters PDF, only inside the instance's letters folder (or a campaign's)."""
    if not path:
        return
    root = (Path(current_app.instance_path) / LETTERS_DIR).resolve()
    target = Path(path).resolve()
    if root in (target.parent, target.parent.parent):  # older files lie in the root itself
        target.unlink(missing_ok=True)


def delete_campaign_letters(campaign_id: int) -> int:
    """Remove every letters file of the campaign; return how many there were."""
    folder = letters_folder(campaign_id)
    if not folder.is_dir():
        return 0
    count = sum(1 for path in folder.iterdir() if path.is_file())
    shutil.rmtree(folder)
    return count
