"""Sample draws: the design, the allocation and the manifest that makes a draw reproducible;
the commitments published before drawing (:mod:`sampling.commitment`)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import utcnow
from surveyapp.extensions import db


class DrawCommitment(db.Model):
    """A commitment published before a draw: frame hash, design, the future public random
    value (source and date). Never changed once published; the public value is entered
    once, on or after its date. Every commitment stays listed on the public page."""

    __tablename__ = "draw_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    content: Mapped[dict] = mapped_column(sa.JSON)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    public_value: Mapped[str | None] = mapped_column(sa.String(200))
    value_entered_at: Mapped[datetime | None]
    value_entered_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class CommitmentImmutable(Exception):
    """An attempt to change a published commitment."""


_FROZEN = ("campaign_id", "content", "sha256", "published_at", "published_by")
_ONCE = ("public_value", "value_entered_at", "value_entered_by")


@event.listens_for(DrawCommitment, "before_update")
def _refuse_changes(mapper, connection, target: DrawCommitment) -> None:
    state = sa.inspect(target)
    for name in _FROZEN:
        if state.attrs[name].history.has_changes():
            raise CommitmentImmutable(f"A published commitment cannot change ({name}).")
    for name in _ONCE:
        history = state.attrs[name].history
        if history.has_changes() and any(value is not None for value in history.deleted):
            raise CommitmentImmutable(f"The public value is entered once ({name}).")


@event.listens_for(DrawCommitment, "before_delete")
def _refuse_delete(mapper, connection, target: DrawCommitment) -> None:
    raise CommitmentImmutable("A published commitment cannot be deleted.")


class Draw(db.Model):
    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    design: Mapped[dict] = mapped_column(sa.JSON)
    manifest: Mapped[dict | None] = mapped_column(sa.JSON)  # seed, frame digests, versions
    allocation: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    locked: Mapped[bool] = mapped_column(default=False)
    # The commitment the draw was made from (None: a draw with a seed of someone's choosing).
    commitment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw_commitments.id"))
    # The last full check (steps, differences) and when it ran: shown on the public page.
    verification: Mapped[dict | None] = mapped_column(sa.JSON)
    verified_at: Mapped[datetime | None]
