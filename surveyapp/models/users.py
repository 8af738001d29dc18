"""Users and roles."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import enum_column, utcnow
from surveyapp.extensions import db
from surveyapp.i18n import enum_labels


class Role(enum.StrEnum):
    ADMIN = "admin"  # Department of Home Affairs (DOHA) staff
    SUPERVISOR = "supervisor"  # survey contractor's supervisor
    ENUMERATOR = "enumerator"  # contractor's interviewer
    FOCAL_POINT = "focal_point"  # a unit's focal point, scoped to that unit
    CLERK = "clerk"  # contractor's data-entry clerk


ROLE_LABELS = enum_labels(
    Role,
    {
        Role.ADMIN: ("Quản trị (Sở Nội vụ)", "Administrator (DOHA)"),
        Role.SUPERVISOR: ("Giám sát (đơn vị khảo sát)", "Supervisor (contractor)"),
        Role.ENUMERATOR: ("Điều tra viên", "Enumerator"),
        Role.FOCAL_POINT: ("Đầu mối đơn vị", "Unit focal point"),
        Role.CLERK: ("Nhập liệu", "Data-entry clerk"),
    },
)


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'focal_point' OR unit_id IS NOT NULL", name="focal_point_has_unit"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Set by an administrator's password reset: the one-time password only opens the
    # page that changes it.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    unit = relationship("Unit")

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(db.Model):
    """A signed-in session, kept on the server so that logout, a password change and
    disabling the account end it everywhere (several hosts share the database).

    The browser holds the session id (in Flask's signed cookie); the table holds only a
    keyed hash of it (security.session_id_hash), so reading the database does not give
    anyone a session.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
