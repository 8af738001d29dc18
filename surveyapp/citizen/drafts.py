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

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import Respondent
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


def current_draft() -> sa.Row | None:
    """The session's draft as a read-only row (the draft's columns as attributes), or None.

    A Core row, not an ORM object: this runs on every form request and loading an entity
    costs several times more; changes go through :func:`save_draft`.
    """
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        return None
    found = db.session.connection().execute(_draft_by_key(), {"key_hash": _key_hash(key)})
    return found.first()


def save_draft(draft_id: int, answers: dict, step: int | None = None) -> None:
    """Store the answers given so far (and the page to show next, when given)."""
    values = {"answers": answers, "updated_at": utcnow()}
    if step is not None:
        values["step"] = step
    drafts = FormDraft.__table__
    db.session.execute(sa.update(drafts).where(drafts.c.id == draft_id).values(**values))


# Built once: building the statement costs more than running it.
@functools.cache
def _draft_by_key() -> sa.Select:
    drafts = FormDraft.__table__
    return sa.select(drafts).where(drafts.c.key_hash == sa.bindparam("key_hash"))


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
