"""Account management shared by the ``surveyapp users`` commands and the admin pages."""

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.units import Unit
from surveyapp.models.users import Role, User
from surveyapp.security import end_all_sessions, hash_password

MIN_PASSWORD_LENGTH = 10


class UserInputError(ValueError):
    """Invalid account data: ``field`` and a message in Vietnamese and English."""

    def __init__(self, field: str, message_vi: str, message_en: str):
        super().__init__(message_en)
        self.field, self.message_vi, self.message_en = field, message_vi, message_en


def find_user(username: str) -> User | None:
    """The user with ``username`` (case-insensitive)."""
    return db.session.execute(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def create_user(
    username: str,
    role: Role,
    password: str,
    unit_code: str | None = None,
    full_name: str = "",
) -> User:
    """Validate and add a user to the session (the caller commits)."""
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise UserInputError(
            "username",
            "Tên đăng nhập không hợp lệ (không dấu cách, tối đa 80 ký tự)",
            "Invalid username (no spaces, at most 80 characters)",
        )
    if find_user(username) is not None:
        raise UserInputError(
            "username",
            f"Tên đăng nhập '{username}' đã tồn tại",
            f"Username '{username}' already exists",
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError(
            "password",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters",
        )
    unit = None
    if unit_code:
        unit = db.session.execute(
            sa.select(Unit).where(Unit.code == unit_code)
        ).scalar_one_or_none()
        if unit is None:
            raise UserInputError(
                "unit", f"Không có đơn vị mã '{unit_code}'", f"No unit with code '{unit_code}'"
            )
    if role == Role.FOCAL_POINT and unit is None:
        raise UserInputError(
            "unit",
            "Đầu mối đơn vị phải gắn với một đơn vị (--unit MÃ_ĐƠN_VỊ)",
            "A focal point needs a unit (--unit UNIT_CODE)",
        )
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        unit_id=unit.id if unit else None,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    return user


def set_active(user: User, active: bool) -> None:
    """Enable or disable ``user``; disabling ends every session at once."""
    user.active = active
    if not active:
        end_all_sessions(user)
