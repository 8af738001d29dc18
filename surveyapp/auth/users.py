"""Account management shared by the ``surveyapp users`` commands and the admin pages."""

import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher

from surveyapp.extensions import db
from surveyapp.models.units import Unit
from surveyapp.models.users import Role, User
from surveyapp.security import end_all_sessions, hash_password, login_user, verify_password

MIN_PASSWORD_LENGTH = 10
# One-time passwords: no look-alike characters (0/o, 1/l/i), read aloud or typed from
# paper; 16 of 31 symbols is about 79 bits, random, so a light argon2 cost (about a
# millisecond) protects them as well as the full cost protects chosen passwords, and
# a whole province's focal points (3,300 communes) are made in seconds.
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
FOCAL_POINT_PREFIX = "dm."  # đầu mối
ONE_TIME_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


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
    check_password_rules(password)
    unit = _role_unit(role, unit_code)
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        unit_id=unit.id if unit else None,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    return user


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError(
            field,
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters",
        )


def _role_unit(role: Role, unit_code: str | None) -> Unit | None:
    """The unit ``unit_code`` names (None for none), checked against ``role``."""
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
    return unit


def update_user(user: User, role: Role, unit_code: str | None, full_name: str) -> list[str]:
    """Change ``user``'s role, unit and name; the names of the fields that changed.

    A change of role or unit ends the user's sessions: what they may see has changed.
    """
    unit = _role_unit(role, unit_code)
    unit_id = unit.id if unit else None
    changed = [
        name
        for name, old, new in (
            ("role", user.role, role),
            ("unit", user.unit_id, unit_id),
            ("full_name", user.full_name, full_name.strip()),
        )
        if old != new
    ]
    user.role, user.unit_id, user.full_name = role, unit_id, full_name.strip()
    if "role" in changed or "unit" in changed:
        end_all_sessions(user)
    return changed


def one_time_password() -> str:
    """A random password to hand over once, e.g. ``k7pm-x3qa-wh9d-r2ct``."""
    chars = "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def _one_time_hash(password: str) -> str:
    return ONE_TIME_HASHER.hash(password)


def reset_password(user: User) -> str:
    """Give ``user`` a one-time password (returned, never stored in clear) that must be
    changed at the next sign-in; every session of the account ends."""
    password = one_time_password()
    user.password_hash = _one_time_hash(password)
    user.must_change_password = True
    end_all_sessions(user)
    return password


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """The user's own change: every other session ends, this one is renewed."""
    if not verify_password(user.password_hash, current):
        raise UserInputError(
            "current_password", "Mật khẩu hiện tại không đúng", "The current password is wrong"
        )
    check_password_rules(new, "new_password")
    if new != confirm:
        raise UserInputError(
            "confirm_password", "Hai mật khẩu mới không khớp", "The two new passwords differ"
        )
    if new == current:
        raise UserInputError(
            "new_password",
            "Mật khẩu mới phải khác mật khẩu hiện tại",
            "The new password must differ from the current one",
        )
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_all_sessions(user)
    login_user(user)


@dataclass(frozen=True)
class NewFocalPoint:
    username: str
    password: str
    unit_code: str
    unit_name: str


def focal_point_username(unit_code: str) -> str:
    """``dm.`` and the unit code in lower case, letters, digits, dots and dashes only."""
    return FOCAL_POINT_PREFIX + re.sub(r"[^a-z0-9.-]+", "-", unit_code.strip().lower())


def create_focal_points(unit_codes: list[str] | None = None) -> list[NewFocalPoint]:
    """One focal point, with a one-time password, for each active unit of the registry
    (or each of ``unit_codes``) that has none yet. The passwords are returned once,
    for the caller to hand over; only their hashes are stored."""
    units = db.session.scalars(sa.select(Unit).where(Unit.active).order_by(Unit.code)).all()
    if unit_codes is not None:
        wanted = {code.strip() for code in unit_codes}
        missing = sorted(wanted - {unit.code for unit in units})
        if missing:
            raise UserInputError(
                "unit",
                f"Không có đơn vị đang hoạt động mã: {', '.join(missing)}",
                f"No active unit with code: {', '.join(missing)}",
            )
        units = [unit for unit in units if unit.code in wanted]
    covered = set(db.session.scalars(sa.select(User.unit_id).where(User.role == Role.FOCAL_POINT)))
    taken = {name.lower() for name in db.session.scalars(sa.select(User.username))}
    created = []
    for unit in units:
        if unit.id in covered:
            continue
        username = focal_point_username(unit.code)
        suffix = 2
        while username.lower() in taken:
            username, suffix = f"{focal_point_username(unit.code)}-{suffix}", suffix + 1
        taken.add(username.lower())
        password = one_time_password()
        db.session.add(
            User(
                username=username,
                role=Role.FOCAL_POINT,
                unit_id=unit.id,
                password_hash=_one_time_hash(password),
                must_change_password=True,
            )
        )
        created.append(NewFocalPoint(username, password, unit.code, unit.name))
    return created


FOCAL_POINT_CSV_HEADER = ("ten_dang_nhap", "mat_khau_mot_lan", "ma_don_vi", "ten_don_vi")


def set_active(user: User, active: bool) -> None:
    """Enable or disable ``user``; disabling ends every session at once."""
    user.active = active
    if not active:
        end_all_sessions(user)
