"""``surveyapp users create|disable|list``."""

import sys

import click
import sqlalchemy as sa

from surveyapp.auth import bp
from surveyapp.auth.models import Role, User
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.i18n import both
from surveyapp.security import end_all_sessions, hash_password
from surveyapp.units.models import Unit

MIN_PASSWORD_LENGTH = 10


def _fail(vi: str, en: str) -> None:
    raise click.ClickException(both(vi, en))


def _user_by_name(username: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(sa.func.lower(User.username) == username.lower())
    ).scalar_one_or_none()


def create_user(
    username: str, role: Role, password: str, unit_code: str | None = None, full_name: str = ""
) -> User:
    """Validate and add a user to the session (the caller commits)."""
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        _fail(
            "Tên đăng nhập không hợp lệ (không dấu cách, tối đa 80 ký tự)",
            "Invalid username (no spaces, at most 80 characters)",
        )
    if _user_by_name(username) is not None:
        _fail(f"Tên đăng nhập '{username}' đã tồn tại", f"Username '{username}' already exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        _fail(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters",
        )
    unit = None
    if unit_code:
        unit = db.session.execute(
            sa.select(Unit).where(Unit.code == unit_code)
        ).scalar_one_or_none()
        if unit is None:
            _fail(f"Không có đơn vị mã '{unit_code}'", f"No unit with code '{unit_code}'")
    if role == Role.FOCAL_POINT and unit is None:
        _fail("Đầu mối đơn vị cần --unit MÃ_ĐƠN_VỊ", "A focal point needs --unit UNIT_CODE")
    user = User(
        username=username,
        full_name=full_name,
        role=role,
        unit_id=unit.id if unit else None,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    return user


@bp.cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_code", help="Mã đơn vị (bắt buộc với focal_point) / unit code")
@click.option("--full-name", default="", help="Họ tên / full name")
@click.option(
    "--password-stdin", is_flag=True, help="Đọc mật khẩu từ stdin / read password from stdin"
)
def create_command(username, role, unit_code, full_name, password_stdin):
    """Tạo người dùng / Create a user."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Mật khẩu / Password", hide_input=True, confirmation_prompt=True)
    with transaction():
        create_user(username, Role(role), password, unit_code, full_name)
    click.echo(both(f"Đã tạo người dùng {username}", f"Created user {username}"))


@bp.cli.command("disable")
@click.argument("username")
def disable_command(username):
    """Khoá tài khoản và kết thúc mọi phiên / Disable an account and end its sessions."""
    with transaction():
        user = _user_by_name(username)
        if user is None:
            _fail(f"Không có người dùng '{username}'", f"No user '{username}'")
        user.active = False
        end_all_sessions(user)
    click.echo(both(f"Đã khoá {username}", f"Disabled {username}"))


@bp.cli.command("list")
def list_command():
    """Liệt kê người dùng / List users."""
    rows = db.session.execute(
        sa.select(User, Unit.code).outerjoin(Unit, User.unit_id == Unit.id).order_by(User.username)
    ).all()
    for user, unit_code in rows:
        state = "active" if user.active else "disabled"
        click.echo(
            f"{user.username}\t{user.role.value}\t{unit_code or '-'}\t{state}\t{user.full_name}"
        )
