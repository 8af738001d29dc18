"""``surveyapp users create|edit|disable|enable|reset-password|focal-points|list``."""

import os
import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from surveyapp.audit import record
from surveyapp.auth.users import (
    FOCAL_POINT_CSV_HEADER,
    UserInputError,
    create_focal_points,
    create_user,
    find_user,
    reset_password,
    set_active,
    update_user,
)
from surveyapp.csvsafe import write_csv
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.i18n import both
from surveyapp.models.units import Unit
from surveyapp.models.users import Role, User

group = AppGroup("users", help="Tài khoản người dùng / User accounts.")


@group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_code", help="Mã đơn vị (bắt buộc với focal_point) / unit code")
@click.option("--full-name", default="", help="Họ tên / full name")
@click.option(
    "--password-stdin", is_flag=True, help="Đọc mật khẩu từ stdin / read the password from stdin"
)
def create_command(username, role, unit_code, full_name, password_stdin):
    """Tạo người dùng / Create a user."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Mật khẩu / Password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction():
            user = create_user(username, Role(role), password, unit_code, full_name)
            db.session.flush()
            record("user.create", user, f"role={role} unit={unit_code or '-'}")
    except UserInputError as exc:
        raise click.ClickException(both(exc.message_vi, exc.message_en)) from None
    click.echo(both(f"Đã tạo người dùng {username}", f"Created user {username}"))


def _user_or_fail(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise click.ClickException(
            both(f"Không có người dùng '{username}'", f"No user '{username}'")
        )
    return user


@group.command("edit")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="Vai trò mới / new role")
@click.option("--unit", "unit_code", help="Mã đơn vị ('' để bỏ) / unit code ('' for none)")
@click.option("--full-name", help="Họ tên / full name")
def edit_command(username, role, unit_code, full_name):
    """Đổi vai trò, đơn vị, họ tên / Change a user's role, unit or name.

    Đổi vai trò hoặc đơn vị kết thúc các phiên / a new role or unit ends their sessions.
    """
    try:
        with transaction():
            user = _user_or_fail(username)
            current_unit = user.unit.code if user.unit else None
            changed = update_user(
                user,
                Role(role) if role else user.role,
                current_unit if unit_code is None else (unit_code or None),
                user.full_name if full_name is None else full_name,
            )
            record("user.update", user, f"{','.join(changed) or '-'}: role={user.role.value}")
    except UserInputError as exc:
        raise click.ClickException(both(exc.message_vi, exc.message_en)) from None
    click.echo(
        both(f"Đã cập nhật {username}", f"Updated {username}") + f": {', '.join(changed) or '-'}"
    )


@group.command("disable")
@click.argument("username")
def disable_command(username):
    """Khoá tài khoản và kết thúc mọi phiên / Disable an account and end its sessions."""
    with transaction():
        set_active(user := _user_or_fail(username), False)
        record("user.disable", user)
    click.echo(both(f"Đã khoá {username}", f"Disabled {username}"))


@group.command("enable")
@click.argument("username")
def enable_command(username):
    """Mở khoá tài khoản / Enable a disabled account."""
    with transaction():
        set_active(user := _user_or_fail(username), True)
        record("user.enable", user)
    click.echo(both(f"Đã mở khoá {username}", f"Enabled {username}"))


@group.command("reset-password")
@click.argument("username")
def reset_password_command(username):
    """Mật khẩu một lần, phải đổi khi đăng nhập / One-time password, changed at next sign-in.

    Prints the password once (last line); it is stored nowhere.
    """
    with transaction():
        password = reset_password(user := _user_or_fail(username))
        record("user.password_reset", user)
    click.echo(
        both(
            f"Mật khẩu một lần của {username} (chỉ hiện lần này):",
            f"One-time password of {username} (shown this once):",
        )
    )
    click.echo(password)


@group.command("focal-points")
@click.option(
    "--out",
    required=True,
    help="Tệp CSV tên đăng nhập + mật khẩu một lần ('-': màn hình) / CSV of logins ('-': stdout)",
)
@click.option("--unit", "unit_codes", multiple=True, help="Chỉ các đơn vị này / only these units")
def focal_points_command(out, unit_codes):
    """Tạo đầu mối cho mọi đơn vị chưa có / Create focal points for units that have none.

    The CSV (never overwritten, readable by its owner only) is the only copy of the
    one-time passwords.
    """
    if out != "-" and os.path.exists(out):
        raise click.ClickException(both(f"Tệp {out} đã tồn tại", f"{out} already exists"))
    try:
        with transaction():
            created = create_focal_points(list(unit_codes) or None)
            record("user.focal_points_created", None, f"{len(created)} accounts")
            rows = [(a.username, a.password, a.unit_code, a.unit_name) for a in created]
            text = write_csv(rows, FOCAL_POINT_CSV_HEADER, bom=out != "-")
            if out == "-":
                click.echo(text, nl=False)
            else:
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
    except UserInputError as exc:
        raise click.ClickException(both(exc.message_vi, exc.message_en)) from None
    click.echo(
        both(f"Đã tạo {len(created)} tài khoản đầu mối", f"Created {len(created)} focal points"),
        err=True,
    )


@group.command("list")
def list_command():
    """Liệt kê người dùng / List users (tab-separated)."""
    rows = db.session.execute(
        sa.select(User, Unit.code).outerjoin(Unit, User.unit_id == Unit.id).order_by(User.username)
    ).all()
    for user, unit_code in rows:
        state = "active" if user.active else "disabled"
        if user.must_change_password:
            state += ",must-change-password"
        click.echo(
            f"{user.username}\t{user.role.value}\t{unit_code or '-'}\t{state}\t{user.full_name}"
        )
