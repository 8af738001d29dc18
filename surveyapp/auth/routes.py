import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import contains_eager
from wtforms.fields.choices import SelectChoice

from surveyapp.audit import record
from surveyapp.auth.forms import (
    ChangePasswordForm,
    FocalPointsForm,
    LoginForm,
    UserEditForm,
    UserForm,
)
from surveyapp.auth.users import (
    FOCAL_POINT_CSV_HEADER,
    UserInputError,
    change_password,
    create_focal_points,
    create_user,
    reset_password,
    set_active,
    update_user,
)
from surveyapp.csvsafe import csv_response
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
from surveyapp.throttles import LoginAttempt, Throttle
from surveyapp.units.importer import tree_order

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")


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

    attempt = LoginAttempt(form.username.data)
    if not attempt.allowed():
        minutes = max(1, attempt.window // 60)
        form.form_errors.append(
            t(
                f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
                f"Too many failed sign-ins. Please try again in {minutes} minutes.",
            )
        )
        record("auth.login_throttled", None, always=True)
        return render_template("auth/login.html", form=form, next_url=next_url), 429

    username = form.username.data.strip()
    user = db.session.execute(
        sa.select(User).where(sa.func.lower(User.username) == username.lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        # The same work whether the account exists, is disabled or not.
        valid = verify_unknown_user(form.password.data)
    else:
        valid = verify_password(user.password_hash, form.password.data)
    if not valid:
        record("auth.login_failed", user, "" if user else "unknown username", always=True)
        form.form_errors.append(
            t(
                "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khoá.",
                "Wrong username or password, or the account is disabled.",
            )
        )
        return render_template("auth/login.html", form=form, next_url=next_url), 401

    login_user(user)
    record("auth.login", user)
    return attempt.succeeded(redirect(next_url))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    record("auth.logout", current_user())
    logout_user()
    flash(t("Bạn đã đăng xuất.", "You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of this account, on every device."""
    end_all_sessions(current_user())
    record("auth.logout_everywhere", current_user())
    logout_user()
    flash(t("Đã đăng xuất trên mọi thiết bị.", "You have been signed out on every device."), "info")
    return redirect(url_for("auth.login"))


# --- account pages (DOHA administrators) -----------------------------------------------


def _password_change_throttle() -> Throttle:
    """Attempts to change the password, per account: a stolen session cannot guess the
    current password at leisure (the sign-in's limits, counted apart)."""
    config = current_app.config
    return Throttle("password-change", config["LOGIN_MAX_FAILURES"], config["LOGIN_WINDOW_SECONDS"])


@bp.route("/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_password_page():
    """Every user changes their own password (and must, after a reset)."""
    form = ChangePasswordForm()
    user = current_user()
    if form.validate_on_submit():
        if not _password_change_throttle().hit(str(user.id)):
            record("auth.password_change_throttled", user, always=True)
            form.form_errors.append(
                t(
                    "Nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.",
                    "Too many attempts. Please try again in a few minutes.",
                )
            )
            return render_template("auth/password.html", form=form), 429
        try:
            change_password(
                user,
                form.current_password.data,
                form.new_password.data,
                form.confirm_password.data,
            )
        except UserInputError as exc:
            getattr(form, exc.field).errors.append(t(exc.message_vi, exc.message_en))
            if exc.field == "current_password":
                record("auth.password_change_failed", user, always=True)
        else:
            record("auth.password_changed", user)
            flash(
                t(
                    "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.",
                    "Password changed. Every other session has ended.",
                ),
                "info",
            )
            return redirect(url_for("core.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


# --- account pages (DOHA administrators) -----------------------------------------------

USERS_PER_PAGE = 50


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    query = (
        sa.select(User)
        .outerjoin(User.unit)
        .options(contains_eager(User.unit))
        .order_by(User.username)
    )
    search = request.args.get("q", "").strip()
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.username).like(pattern),
                sa.func.lower(User.full_name).like(pattern),
                sa.func.lower(Unit.code).like(pattern),
            )
        )
    if request.args.get("role") in {r.value for r in Role}:
        query = query.where(User.role == Role(request.args["role"]))
    page = db.paginate(query, per_page=USERS_PER_PAGE, error_out=False, count=True)
    return render_template("auth/users.html", page=page, search=search, roles=list(Role))


def _role_and_unit_choices(form) -> None:
    form.role.choices = [SelectChoice(r.value, label(r)) for r in Role]
    units = tree_order(list(db.session.scalars(sa.select(Unit).where(Unit.active))))
    none = SelectChoice("", t("— Không gắn đơn vị —", "— No unit —"))
    form.unit_code.choices = [none] + [SelectChoice(u.code, f"{u.code} — {u.name}") for u in units]


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_account():
    form = UserForm()
    _role_and_unit_choices(form)
    if form.validate_on_submit():
        try:
            user = create_user(
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
            db.session.flush()  # the new account's id, for the log
            record("user.create", user, f"role={user.role.value} unit={form.unit_code.data or '-'}")
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
    record("user.enable" if user.active else "user.disable", user)
    flash(t("Đã cập nhật tài khoản.", "Account updated."), "info")
    return redirect(url_for("auth.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_account(user_id: int):
    """Role, unit and name; disabling and the password reset are buttons on this page."""
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    _role_and_unit_choices(form)
    if request.method == "GET":
        form.role.data = user.role.value
        form.unit_code.data = user.unit.code if user.unit else ""
    elif form.validate_on_submit():
        if user.id == current_user().id and form.role.data != Role.ADMIN.value:
            form.role.errors.append(
                t(
                    "Bạn không thể tự bỏ quyền quản trị của mình.",
                    "You cannot remove your own administrator role.",
                )
            )
        else:
            try:
                changed = update_user(
                    user, Role(form.role.data), form.unit_code.data or None, form.full_name.data
                )
            except UserInputError as exc:
                field = form.unit_code if exc.field == "unit" else getattr(form, exc.field)
                field.errors.append(t(exc.message_vi, exc.message_en))
            else:
                record("user.update", user, f"{','.join(changed) or '-'}: role={user.role.value}")
                flash(t("Đã cập nhật tài khoản.", "Account updated."), "info")
                return redirect(url_for("auth.users"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/user_edit.html", form=form, user=user), status


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles_required(Role.ADMIN)
def reset_account_password(user_id: int):
    """A one-time password, shown once on this response, to be changed at next sign-in."""
    user = _other_user_or_404(user_id)
    password = reset_password(user)
    record("user.password_reset", user)
    return render_template("auth/one_time_password.html", user=user, password=password)


@bp.route("/users/focal-points", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_focal_point_accounts():
    """Focal points for the registry's units that have none, as a CSV of logins and
    one-time passwords: the response is the only copy (never stored, never cached)."""
    form = FocalPointsForm()
    if form.validate_on_submit():
        codes = [c for c in form.unit_codes.data.replace(",", "\n").split() if c.strip()]
        try:
            created = create_focal_points(codes or None)
        except UserInputError as exc:
            form.unit_codes.errors.append(t(exc.message_vi, exc.message_en))
        else:
            record("user.focal_points_created", None, f"{len(created)} accounts")
            if created:
                rows = [(a.username, a.password, a.unit_code, a.unit_name) for a in created]
                response = csv_response(rows, FOCAL_POINT_CSV_HEADER, "dau-moi-mat-khau.csv")
                response.headers["Cache-Control"] = "no-store"
                return response
            form.unit_codes.errors.append(
                t(
                    "Mọi đơn vị đã chọn đều đã có đầu mối: không tạo tài khoản nào.",
                    "Every chosen unit already has a focal point: no account was created.",
                )
            )
    without = db.session.scalar(
        sa.select(sa.func.count(Unit.id)).where(
            Unit.active,
            ~sa.exists().where(User.unit_id == Unit.id, User.role == Role.FOCAL_POINT),
        )
    )
    status = 422 if form.is_submitted() else 200
    return render_template("auth/focal_points.html", form=form, without=without), status


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@roles_required(Role.ADMIN)
def end_account_sessions(user_id: int):
    end_all_sessions(user := _other_user_or_404(user_id))
    record("user.end_sessions", user)
    flash(t("Đã kết thúc mọi phiên của tài khoản.", "Every session of the account ended."), "info")
    return redirect(url_for("auth.users"))
