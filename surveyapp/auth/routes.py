import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from surveyapp.auth.forms import LoginForm, UserForm
from surveyapp.auth.users import UserInputError, create_user, set_active
from surveyapp.extensions import db
from surveyapp.i18n import label, t
from surveyapp.models.units import Unit
from surveyapp.models.users import Role, User
from surveyapp.security import (
    current_user,
    end_all_sessions,
    login_required,
    login_user,
    logout_user,
    public,
    roles_required,
    safe_next_url,
    verify_password,
    verify_unknown_user,
)
from surveyapp.throttles import Throttle, client_address
from surveyapp.units.importer import tree_order

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")


def login_throttle() -> Throttle:
    config = current_app.config
    return Throttle("login", config["LOGIN_MAX_FAILURES"], config["LOGIN_WINDOW_SECONDS"])


def _throttle_key(username: str) -> str:
    return f"{username.strip().lower()}|{client_address()}"


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    next_url = safe_next_url(request.values.get("next"), url_for("core.index"))
    if current_user() is not None and request.method == "GET":
        return redirect(next_url)
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/login.html", form=form, next_url=next_url), status

    throttle = login_throttle()
    key = _throttle_key(form.username.data)
    if throttle.blocked(key):
        minutes = max(1, throttle.window // 60)
        form.form_errors.append(
            t(
                f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
                f"Too many failed sign-ins. Please try again in {minutes} minutes.",
            )
        )
        return render_template("auth/login.html", form=form, next_url=next_url), 429

    username = form.username.data.strip()
    user = db.session.execute(
        sa.select(User).where(sa.func.lower(User.username) == username.lower())
    ).scalar_one_or_none()
    if user is None:
        verify_unknown_user(form.password.data)  # same time whether the user exists or not
        valid = False
    else:
        valid = user.active and verify_password(user.password_hash, form.password.data)
    if not valid:
        throttle.hit(key)
        form.form_errors.append(
            t(
                "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khoá.",
                "Wrong username or password, or the account is disabled.",
            )
        )
        return render_template("auth/login.html", form=form, next_url=next_url), 401

    throttle.reset(key)
    login_user(user)
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(t("Bạn đã đăng xuất.", "You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of this account, on every device."""
    end_all_sessions(current_user())
    logout_user()
    flash(t("Đã đăng xuất trên mọi thiết bị.", "You have been signed out on every device."), "info")
    return redirect(url_for("auth.login"))


# --- account pages (DOHA administrators) -----------------------------------------------


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    rows = db.session.execute(
        sa.select(User, Unit.code, Unit.name)
        .outerjoin(Unit, User.unit_id == Unit.id)
        .order_by(User.username)
    ).all()
    return render_template("auth/users.html", rows=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_account():
    form = UserForm()
    form.role.choices = [SelectChoice(r.value, label(r)) for r in Role]
    units = tree_order(list(db.session.scalars(sa.select(Unit).where(Unit.active))))
    none = SelectChoice("", t("— Không gắn đơn vị —", "— No unit —"))
    form.unit_code.choices = [none] + [SelectChoice(u.code, f"{u.code} — {u.name}") for u in units]
    if form.validate_on_submit():
        try:
            create_user(
                form.username.data,
                Role(form.role.data),
                form.password.data,
                form.unit_code.data or None,
                form.full_name.data or "",
            )
        except UserInputError as exc:
            field = form.unit_code if exc.field == "unit" else getattr(form, exc.field)
            field.errors.append(t(exc.message_vi, exc.message_en))
        else:
            flash(t("Đã tạo tài khoản.", "Account created."), "info")
            return redirect(url_for("auth.users"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/user_new.html", form=form), status


def _other_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user().id:
        abort(409)  # use "sign out everywhere" for yourself; never lock yourself out
    return user


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.ADMIN)
def set_account_active(user_id: int):
    user = _other_user_or_404(user_id)
    set_active(user, request.form.get("active") == "1")
    flash(t("Đã cập nhật tài khoản.", "Account updated."), "info")
    return redirect(url_for("auth.users"))


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@roles_required(Role.ADMIN)
def end_account_sessions(user_id: int):
    end_all_sessions(_other_user_or_404(user_id))
    flash(t("Đã kết thúc mọi phiên của tài khoản.", "Every session of the account ended."), "info")
    return redirect(url_for("auth.users"))
