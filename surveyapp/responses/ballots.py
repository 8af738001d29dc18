"""The ballot box: how an answer travels from the claim of a token to ``responses``.

The transaction that records an answer claims the respondent (their status) and casts a
:class:`Ballot`: the response's values sealed with AES-GCM under a key derived from
SECRET_KEY (the database alone cannot open it), padded to whole blocks. Claim and ballot
commit together, so an answer is never lost and never counted twice. Nothing in that
transaction writes ``responses``.

Answers leave the box in batches, each in a transaction of its own and never in the
claim's (:func:`mix`, run after the commit that cast ballots): when the campaign's box
holds at least twice ``BALLOT_BOX_SIZE`` ballots, that many chosen at random are opened
and inserted in random order with fresh random ids, and the rest wait. A response then
shares its transaction id with its batch, not with one respondent, and the order of rows
follows the batches, not the claims. Closing the campaign (:func:`seal`) empties the box
and rewrites every response of the campaign in one transaction, in random order, so that
afterwards no transaction id and no row order says anything about who answered when.
Interviews and paper forms entered after closing (until the data-entry deadline) are not
mixed in batches: they wait in the box, and :func:`seal` runs again when data entry ends
(campaigns/lifecycle.py, ``end_data_entry``).
SECURITY.md ("Anonymity design") gives the reasoning and the limits.

``BALLOT_BOX_SIZE`` 0 mixes every ballot after each commit (the tests of other features
use it to see responses at once; the anonymity tests use the default).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.models.responses import Ballot, Response
from surveyapp.security import derive_key

log = logging.getLogger(__name__)

KEY_PURPOSE = "ballot-box"
BLOCK = 1024  # sealed values are padded to whole blocks: sizes tell little
_NONCE = 12
_MIX_AFTER_COMMIT = "surveyapp.mix_after_commit"
_random = secrets.SystemRandom()


def _key() -> bytes:
    return derive_key(KEY_PURPOSE)


def seal_values(values: Mapping[str, Any], campaign_id: int, key: bytes) -> bytes:
    """Nonce + AES-GCM of the values' JSON padded with spaces; the campaign is bound in."""
    plain = json.dumps(values, ensure_ascii=False, sort_keys=True).encode()
    plain += b" " * (-len(plain) % BLOCK)
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plain, str(campaign_id).encode())


def open_values(sealed: bytes, campaign_id: int, key: bytes) -> dict[str, Any]:
    """The values :func:`seal_values` sealed (InvalidTag when the key or campaign differ)."""
    plain = AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], str(campaign_id).encode())
    return json.loads(plain)


def cast(connection: sa.Connection, campaign_id: int, values: Mapping[str, Any]) -> None:
    """Put one response's values (JSON-safe, no id) in the campaign's box, in the caller's
    transaction, and mix the box once that transaction has committed."""
    sealed = seal_values(values, campaign_id, _key())
    connection.execute(
        sa.insert(Ballot.__table__),
        {"id": uuid.uuid4(), "campaign_id": campaign_id, "sealed": sealed},
    )
    _mix_after_commit(campaign_id)


def waiting(campaign_id: int) -> int:
    """Ballots of the campaign not yet mixed into ``responses``."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Ballot).where(Ballot.campaign_id == campaign_id)
    )


# --- mixing ---------------------------------------------------------------------------------


def mix(engine: sa.Engine, campaign_id: int, key: bytes, size: int) -> int:
    """Batches of ``size`` random ballots out of the box while it holds at least
    ``2 × size`` (everything when ``size`` is 0), each batch in its own transaction;
    returns the number of responses written."""
    written = 0
    with engine.connect() as connection:
        status = connection.scalar(
            sa.select(Campaign.__table__.c.status).where(Campaign.__table__.c.id == campaign_id)
        )
    if status != CampaignStatus.FIELDWORK:
        # Closed: interviews and paper forms entered until the data-entry deadline wait in
        # the box, and leave it all at once when data entry ends (seal).
        return written
    while True:
        with engine.connect() as connection:
            count = connection.scalar(
                sa.select(sa.func.count())
                .select_from(Ballot.__table__)
                .where(Ballot.__table__.c.campaign_id == campaign_id)
            )
        if not count or count < 2 * size:
            return written
        with engine.begin() as connection:
            batch = _open_batch(connection, campaign_id, key, size or count)
        if not batch:
            return written  # another process took them, or none can be opened
        written += batch


def _open_batch(connection: sa.Connection, campaign_id: int, key: bytes, limit: int | None) -> int:
    """Take up to ``limit`` random ballots (all with None) out of the box and insert their
    responses in random order; ballots that cannot be opened go back. The DELETE ...
    RETURNING is what makes each ballot leave once, however many mixers run."""
    ballots = Ballot.__table__
    chosen = sa.select(ballots.c.id).where(ballots.c.campaign_id == campaign_id)
    if limit is not None:
        chosen = chosen.order_by(sa.func.random()).limit(limit)
    taken = connection.execute(
        sa.delete(ballots).where(ballots.c.id.in_(chosen)).returning(ballots.c.sealed)
    ).scalars()
    rows, unopened = [], []
    for sealed in taken:
        try:
            values = open_values(sealed, campaign_id, key)
        except (InvalidTag, ValueError):
            unopened.append(sealed)
            continue
        rows.append(_response_row(values, campaign_id))
    if unopened:
        log.error(
            "%d ballot(s) of campaign %s cannot be opened with this SECRET_KEY; kept in the box",
            len(unopened),
            campaign_id,
        )
        connection.execute(
            sa.insert(ballots),
            [{"id": uuid.uuid4(), "campaign_id": campaign_id, "sealed": s} for s in unopened],
        )
    _insert_shuffled(connection, rows)
    return len(rows)


def _response_row(values: Mapping[str, Any], campaign_id: int) -> dict[str, Any]:
    return {
        **values,
        "id": uuid.uuid4(),
        "campaign_id": campaign_id,
        "submitted_week": date.fromisoformat(values["submitted_week"]),
    }


def _insert_shuffled(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        _random.shuffle(rows)
        connection.execute(sa.insert(Response.__table__), rows)


def seal(campaign_id: int) -> int:
    """At closing, in the caller's transaction: every ballot opened and every response of
    the campaign rewritten in random order, so that all of them carry this transaction's
    id and no order. Returns the number of ballots opened (unopenable ones stay)."""
    connection = db.session.connection()
    opened = _open_batch(connection, campaign_id, _key(), None)
    responses = Response.__table__
    mine = responses.c.campaign_id == campaign_id
    rows = [dict(row) for row in connection.execute(sa.select(responses).where(mine)).mappings()]
    connection.execute(sa.delete(responses).where(mine))
    _insert_shuffled(connection, rows)
    return opened


# --- after the commit that cast ballots -------------------------------------------------------


def _mix_after_commit(campaign_id: int) -> None:
    app = current_app._get_current_object()
    pending = db.session().info.setdefault(_MIX_AFTER_COMMIT, {})
    pending[campaign_id] = (app, db.engine, _key(), int(app.config["BALLOT_BOX_SIZE"]))


@event.listens_for(Session, "after_commit")
def _mix_committed(session: Session) -> None:
    """Mix the boxes the committed transaction cast ballots into. A failure is logged, never
    raised: the answers are safe in the box, and the next commit or the closing mixes them."""
    for campaign_id, (app, engine, key, size) in session.info.pop(_MIX_AFTER_COMMIT, {}).items():
        try:
            mix(engine, campaign_id, key, size)
        except Exception:  # the submit has succeeded; the answers wait in the box
            app.logger.exception("Mixing the ballot box of campaign %s failed", campaign_id)


@event.listens_for(Session, "after_rollback")
def _forget_mix(session: Session) -> None:
    session.info.pop(_MIX_AFTER_COMMIT, None)


def campaigns_with_ballots(campaign_ids: Iterable[int]) -> dict[int, int]:
    """Ballots waiting per campaign (campaigns without any left out)."""
    rows = db.session.execute(
        sa.select(Ballot.campaign_id, sa.func.count())
        .where(Ballot.campaign_id.in_(list(campaign_ids)))
        .group_by(Ballot.campaign_id)
    ).all()
    return dict(rows)
