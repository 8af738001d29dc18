"""The audit log: who did what to which record, and when (issue 12.11).

Rows name the actor, the action and the record (type and id), with a short detail that
never holds answers, personal data or tokens. Written only through
``surveyapp.audit.record``; never updated.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import utcnow
from surveyapp.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_action_time", "action", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The account that acted (None: anonymous or the command line), and its username at
    # the time, kept even if the account is renamed.
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(sa.String(80), default="")
    action: Mapped[str] = mapped_column(sa.String(64))  # "auth.login", "draw.lock", ...
    target_type: Mapped[str] = mapped_column(sa.String(32), default="")  # "user", "campaign"
    target_id: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
    # "web" or "cli", so that the commands run on the server are told apart.
    channel: Mapped[str] = mapped_column(sa.String(8), default="web")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.target_type}:{self.target_id}>"
