"""Form drafts: the answers of a questionnaire in progress, kept on the server.

The browser holds only a random draft key in its signed session; the database keeps the
key's hash. A draft of a sampled respondent references the respondent and the token
hash it was opened with (so a re-issued letter ends it); the draft is deleted in the
transaction that records the response, so no answer stays linked to a person.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import utcnow
from surveyapp.extensions import db


class FormDraft(db.Model):
    __tablename__ = "form_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    respondent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("respondents.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str | None] = mapped_column(sa.String(64))
    walkin_link_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("walkin_links.id", ondelete="CASCADE"), index=True
    )
    rated_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    respondent_group: Mapped[str] = mapped_column(sa.String(64))
    questionnaire_id: Mapped[str] = mapped_column(sa.String(120))
    questionnaire_version: Mapped[str] = mapped_column(sa.String(32))
    step: Mapped[int] = mapped_column(default=0)
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
