"""Anonymous responses, and the ballot box they pass through.

Anonymity is enforced by the schema (as indico does for anonymous surveys: who took part
is recorded apart from what was answered) and by the way answers are written
(surveyapp/responses/ballots.py, SECURITY.md "Anonymity design"):

* no column refers to a respondent, a token or a user; no exact submission time, only
  ``submitted_week`` (the Monday of the week);
* ids are random UUIDs (version 4), drawn when the answer leaves the ballot box;
* the transaction that claims a token (the respondent's status) puts the answer in the
  ballot box (:class:`Ballot`, sealed with a key the database does not hold), never in
  ``responses``; answers leave the box in batches, in random order, in transactions of
  their own, and at closing every response of the campaign is rewritten in one
  transaction in random order, so neither transaction ids (``xmin``) nor the physical
  order of rows follow the claims.

CHECK constraints tie walk-in responses to the non-probability sample without weight,
and every probability response to a weight.
"""

import enum
import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import enum_column
from surveyapp.extensions import db


class ResponseMode(enum.StrEnum):
    WEB = "web"
    ENUMERATOR = "enumerator"
    PAPER = "paper"
    WALKIN = "walkin"


class Response(db.Model):
    __tablename__ = "responses"
    __table_args__ = (
        sa.CheckConstraint(
            "mode <> 'walkin' OR (NOT is_probability AND weight IS NULL)",
            name="walkin_not_probability",
        ),
        sa.CheckConstraint("NOT is_probability OR weight IS NOT NULL", name="probability_weighted"),
        sa.Index("ix_responses_campaign_unit", "campaign_id", "rated_unit_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    questionnaire_id: Mapped[str] = mapped_column(sa.String(120))
    questionnaire_version: Mapped[str] = mapped_column(sa.String(32))
    rated_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    respondent_group: Mapped[str] = mapped_column(sa.String(64))
    stratum: Mapped[str | None] = mapped_column(sa.Text)
    weight: Mapped[float | None]
    mode: Mapped[ResponseMode] = mapped_column(enum_column(ResponseMode, "response_mode"))
    is_probability: Mapped[bool]
    submitted_week: Mapped[date]  # Monday of the submission week (db.monday_of)
    answers: Mapped[dict] = mapped_column(sa.JSON)


class Ballot(db.Model):
    """An answer cast and not yet mixed into ``responses``: only its campaign (to mix each
    campaign's box on its own) and the sealed values (AES-GCM under a key derived from
    SECRET_KEY, padded so that its size says little about the answers). No time, no
    respondent, no order: the id is random."""

    __tablename__ = "ballots"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    sealed: Mapped[bytes] = mapped_column(sa.LargeBinary)
