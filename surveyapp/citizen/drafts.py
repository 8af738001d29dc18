"""Form drafts: opening one for a respondent or a walk-in, finding the current one.

The signed session holds only ``session["form"]``, a random key; the draft row keeps
its keyed hash. Opening a personal link again (another device, another day) takes over
the respondent's draft with a new key, so answers given so far are kept.
"""

import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import session

from surveyapp.citizen.models import FormDraft
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.fieldwork.models import Respondent
from surveyapp.responses.operations import instrument_for
from surveyapp.security import derive_key

SESSION_KEY = "form"
# Drafts nobody touched for this long are deleted when new drafts are opened.
STALE_AFTER = timedelta(days=30)


def _key_hash(key: str) -> str:
    return hmac.new(derive_key("form-draft"), key.encode(), hashlib.sha256).hexdigest()


def _attach(draft: FormDraft) -> None:
    key = secrets.token_urlsafe(24)
    draft.key_hash = _key_hash(key)
    draft.updated_at = utcnow()
    session[SESSION_KEY] = key


def current_draft() -> FormDraft | None:
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        return None
    return db.session.scalar(_draft_by_key(), {"key_hash": _key_hash(key)})


# Built once: building the statement costs more than running it.
@functools.cache
def _draft_by_key() -> sa.Select:
    return sa.select(FormDraft).where(FormDraft.key_hash == sa.bindparam("key_hash"))


def forget_draft() -> None:
    session.pop(SESSION_KEY, None)


def _purge_stale() -> None:
    db.session.execute(sa.delete(FormDraft).where(FormDraft.updated_at < utcnow() - STALE_AFTER))


def delete_drafts(campaign_id: int) -> int:
    """Delete a campaign's drafts (answers in progress); for closing and PII purges."""
    result = db.session.execute(sa.delete(FormDraft).where(FormDraft.campaign_id == campaign_id))
    return result.rowcount


def open_for_respondent(respondent: Respondent, rated_unit_id: int) -> FormDraft:
    """The respondent's draft for ``rated_unit_id`` (kept if it matches), under a new key."""
    draft = db.session.scalar(sa.select(FormDraft).where(FormDraft.respondent_id == respondent.id))
    instrument = instrument_for(respondent.campaign_id, respondent.respondent_group)
    if draft is not None and (
        draft.token_hash != respondent.token_hash
        or draft.rated_unit_id != rated_unit_id
        or draft.questionnaire_version != instrument.questionnaire_version
    ):
        db.session.delete(draft)
        db.session.flush()
        draft = None
    if draft is None:
        _purge_stale()
        draft = FormDraft(
            campaign_id=respondent.campaign_id,
            respondent_id=respondent.id,
            token_hash=respondent.token_hash,
            rated_unit_id=rated_unit_id,
            respondent_group=respondent.respondent_group,
            questionnaire_id=instrument.questionnaire_id,
            questionnaire_version=instrument.questionnaire_version,
            step=0,
            answers={},
        )
        db.session.add(draft)
    _attach(draft)
    db.session.flush()
    return draft


def open_for_walkin(link, instrument) -> FormDraft:
    """A fresh anonymous draft for a walk-in visitor of ``link``'s unit."""
    _purge_stale()
    draft = FormDraft(
        campaign_id=link.campaign_id,
        walkin_link_id=link.id,
        rated_unit_id=link.unit_id,
        respondent_group=link.respondent_group,
        questionnaire_id=instrument.questionnaire_id,
        questionnaire_version=instrument.questionnaire_version,
        step=0,
        answers={},
    )
    db.session.add(draft)
    _attach(draft)
    db.session.flush()
    return draft
