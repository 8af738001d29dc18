"""``surveyapp users create|disable|list``."""

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from surveyapp.auth.users import UserInputError, create_user, find_user, set_active
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
            create_user(username, Role(role), password, unit_code, full_name)
    except UserInputError as exc:
        raise click.ClickException(both(exc.message_vi, exc.message_en)) from None
    click.echo(both(f"Đã tạo người dùng {username}", f"Created user {username}"))


@group.command("disable")
@click.argument("username")
def disable_command(username):
    """Khoá tài khoản và kết thúc mọi phiên / Disable an account and end its sessions."""
    with transaction():
        user = find_user(username)
        if user is None:
            raise click.ClickException(
                both(f"Không có người dùng '{username}'", f"No user '{username}'")
            )
        set_active(user, False)
    click.echo(both(f"Đã khoá {username}", f"Disabled {username}"))


@group.command("list")
def list_command():
    """Liệt kê người dùng / List users (tab-separated)."""
    rows = db.session.execute(
        sa.select(User, Unit.code).outerjoin(Unit, User.unit_id == Unit.id).order_by(User.username)
    ).all()
    for user, unit_code in rows:
        state = "active" if user.active else "disabled"
        click.echo(
            f"{user.username}\t{user.role.value}\t{unit_code or '-'}\t{state}\t{user.full_name}"
        )
