"""What a clerk or an enumerator typed, kept when a save is refused.

A refused save (invalid answers, data entry ended, any refusal of the responses layer)
rolls its request back; the typed values are then kept as the respondent's form draft
(models/drafts.py) in a transaction of their own, so that nothing being keyed is lost
when the page is left, and the form comes back filled in when the case is opened again
(e.g. after the administrator extends data entry). The draft is deleted with the claim
of the answer that finally records it, like a citizen's (SECURITY.md: drafts are linked
to the respondent on purpose and never outlive the answer).

Staff drafts keep the raw form values (what was typed, even if invalid), have no token
hash and a key no browser session holds.
"""

import secrets
from datetime import datetime

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import Respondent

_NOT_KEPT = frozenset({"csrf_token"})
KEY_PREFIX = "entry-"  # staff drafts' keys: never a session's key hash (64 hex digits)


def kept_entry(respondent: Respondent, rated_unit_id: int, questionnaire) -> sa.Row | None:
    """The respondent's staff draft for this rated unit and questionnaire version."""
    drafts = FormDraft.__table__
    return db.session.execute(
        sa.select(drafts.c.id, drafts.c.answers, drafts.c.updated_at).where(
            drafts.c.respondent_id == respondent.id,
            drafts.c.key_hash.startswith(KEY_PREFIX),
            drafts.c.rated_unit_id == rated_unit_id,
            drafts.c.questionnaire_id == questionnaire.id,
            drafts.c.questionnaire_version == str(questionnaire.version),
        )
    ).first()


def as_formdata(draft: sa.Row) -> MultiDict:
    return MultiDict([(name, value) for name, values in draft.answers.items() for value in values])


def keep_entry(
    respondent: Respondent, rated_unit_id: int, questionnaire, typed: MultiDict
) -> datetime:
    """Keep ``typed`` (the posted form) as the respondent's draft, in its own transaction
    (the refused request rolls back). Replaces any earlier draft of the respondent."""
    values = {
        name: typed.getlist(name) for name in typed if name not in _NOT_KEPT and typed.getlist(name)
    }
    now = utcnow()
    row = {
        "key_hash": KEY_PREFIX + secrets.token_hex(29),
        "campaign_id": respondent.campaign_id,
        "respondent_id": respondent.id,
        "token_hash": None,
        "walkin_link_id": None,
        "rated_unit_id": rated_unit_id,
        "respondent_group": respondent.respondent_group,
        "questionnaire_id": questionnaire.id,
        "questionnaire_version": str(questionnaire.version),
        "step": 0,
        "answers": values,
        "updated_at": now,
    }
    drafts = FormDraft.__table__
    with db.engine.begin() as connection:
        connection.execute(sa.delete(drafts).where(drafts.c.respondent_id == respondent.id))
        connection.execute(sa.insert(drafts), row)
    return now
