import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for

from surveyapp.auth import bp
from surveyapp.auth.forms import LoginForm
from surveyapp.auth.models import User
from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.security import (
    Throttle,
    current_user,
    end_all_sessions,
    login_required,
    login_user,
    logout_user,
    public,
    safe_next_url,
    verify_password,
    verify_unknown_user,
)


def login_throttle() -> Throttle:
    config = current_app.config
    return Throttle("login", config["LOGIN_MAX_FAILURES"], config["LOGIN_WINDOW_SECONDS"])


def _throttle_key(username: str) -> str:
    return f"{username.strip().lower()}|{request.remote_addr or '-'}"


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
