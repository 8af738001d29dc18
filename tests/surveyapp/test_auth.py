"""Sign-in, throttling, sessions, roles and the ``surveyapp users`` commands."""

import re
import uuid

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.users import Role, User
from surveyapp.security import can_see_respondent, can_see_unit

from .conftest import PASSWORD


def sign_in(client, username, password=PASSWORD, ip="10.0.0.1", next_url=None):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/auth/login", data=data, environ_base={"REMOTE_ADDR": ip})


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_sign_in_and_out(client, factory):
    factory.user(role="supervisor", username="giamsat")
    response = sign_in(client, "giamsat", next_url="/campaigns/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/campaigns/"
    assert signed_in(client)
    client.post("/auth/logout")
    assert not signed_in(client)


def test_last_login_is_recorded(client, factory, db_session):
    factory.user(username="an")
    sign_in(client, "an")
    with db_session() as session:
        user = session.scalar(sa.select(User).where(User.username == "an"))
        assert user.last_login_at is not None


def test_username_is_case_insensitive(client, factory):
    factory.user(username="NguyenVanA")
    assert sign_in(client, "nguyenvana").status_code == 302


@pytest.mark.parametrize("username", ["someone", "nobody-here"])
def test_wrong_credentials_are_refused_with_a_message(client, factory, username):
    factory.user(username="someone")
    response = sign_in(client, username, password="wrong password")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_disabled_account_cannot_sign_in(client, factory):
    factory.user(username="old", active=False)
    assert sign_in(client, "old").status_code == 401


def test_empty_form_is_reshown_with_field_messages(client):
    response = client.post("/auth/login", data={"username": "", "password": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Nhập tên đăng nhập" in body and "Nhập mật khẩu" in body
    assert 'aria-invalid="true"' in body


def test_passwords_are_stored_as_argon2id(factory, app):
    user = factory.user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_open_redirects_are_refused(client, factory):
    factory.user(username="u1")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = sign_in(client, "u1", next_url=target)
        assert response.headers["Location"] == "/"
        client.post("/auth/logout")


def _throttle_case(client, factory, username):
    factory.user(username=username)
    for _ in range(5):
        assert sign_in(client, username, password="nope").status_code == 401
    blocked = sign_in(client, username)  # even the right password is refused now
    assert blocked.status_code == 429
    assert "quá nhiều lần" in blocked.get_data(as_text=True)
    # Another address is not blocked by someone else's failures.
    assert sign_in(client, username, ip="10.0.0.2").status_code == 302


def test_login_throttling_in_the_database(client, factory):
    _throttle_case(client, factory, "throttled")


def test_a_success_clears_the_failures(client, factory):
    factory.user(username="forgetful")
    for _ in range(4):
        sign_in(client, "forgetful", password="nope")
    assert sign_in(client, "forgetful").status_code == 302
    client.post("/auth/logout")
    for _ in range(4):
        sign_in(client, "forgetful", password="nope")
    assert sign_in(client, "forgetful").status_code == 302


def _redis_or_skip(url):
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {url}: {exc}")


@pytest.mark.app_config(REDIS_URL="redis://127.0.0.1:6379/0")
def test_login_throttling_in_redis(app, client, factory):
    _redis_or_skip(app.config["REDIS_URL"])
    _throttle_case(client, factory, f"redis-{uuid.uuid4().hex[:8]}")
    import redis

    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    # The failures were counted in Redis, under this app's prefix, without the username.
    keys = redis.Redis.from_url(app.config["REDIS_URL"]).keys(f"{prefix}:*")
    assert keys and not any(b"redis-" in key for key in keys)


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_login_form_requires_the_csrf_token(client, factory):
    factory.user(username="csrf")
    response = sign_in(client, "csrf")
    assert response.status_code == 400
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/auth/login", data={"username": "csrf", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_session_is_renewed_on_login(client, factory):
    factory.user(username="fix")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    sign_in(client, "fix")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"  # the visitor's language survives


def test_disabling_an_account_ends_its_sessions(app, client, factory):
    factory.user(username="leaver")
    sign_in(client, "leaver")
    assert signed_in(client)
    result = app.test_cli_runner().invoke(args=["users", "disable", "leaver"])
    assert result.exit_code == 0, result.output
    response = client.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_log_out_everywhere_ends_other_sessions(app, factory):
    factory.user(username="two-devices")
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, "two-devices")
    sign_in(laptop, "two-devices")
    assert signed_in(phone) and signed_in(laptop)
    phone.post("/auth/logout-everywhere")
    assert not signed_in(laptop)
    assert not signed_in(phone)
    sign_in(laptop, "two-devices")  # a new sign-in works again
    assert signed_in(laptop)


def test_plain_logout_leaves_other_sessions(app, factory):
    factory.user(username="one-of-two")
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, "one-of-two")
    sign_in(laptop, "one-of-two")
    phone.post("/auth/logout")
    assert signed_in(laptop) and not signed_in(phone)


def test_nav_shows_only_what_the_role_may_see(client, login):
    login(Role.FOCAL_POINT)
    body = client.get("/").get_data(as_text=True)
    assert 'href="/units/"' in body
    assert 'href="/campaigns/"' not in body
    client.post("/auth/logout")
    login(Role.ADMIN)
    body = client.get("/").get_data(as_text=True)
    assert 'href="/units/"' in body and 'href="/campaigns/"' in body


def test_record_level_helpers(app, factory):
    from surveyapp.models import Draw, Respondent, Selection

    unit_a, unit_b = factory.unit(), factory.unit()
    focal = factory.user(role="focal_point", unit=unit_a)
    enumerator, other_enumerator = factory.user(role="enumerator"), factory.user(role="enumerator")
    admin, clerk = factory.user(role="admin"), factory.user(role="clerk")
    campaign = factory.campaign()
    draw = factory.add(Draw(campaign_id=campaign.id, design={}))
    respondent = factory.add(
        Respondent(
            draw_id=draw.id,
            campaign_id=campaign.id,
            source_unit_id=unit_b.id,
            respondent_group="citizen",
            stratum="s",
            selection=Selection.PRIMARY,
            inclusion_prob=0.5,
            weight=2.0,
            assigned_enumerator_id=enumerator.id,
        )
    )
    with app.app_context():
        assert can_see_unit(focal, unit_a.id) and not can_see_unit(focal, unit_b.id)
        assert can_see_unit(admin, unit_b.id) and can_see_unit(clerk, unit_b.id)
        assert can_see_unit(enumerator, unit_b.id)
        assert not can_see_unit(enumerator, unit_a.id)
        assert not can_see_unit(other_enumerator, unit_b.id)
        assert not can_see_unit(None, unit_a.id)
        assert can_see_respondent(enumerator, respondent)
        assert not can_see_respondent(other_enumerator, respondent)
        assert can_see_respondent(admin, respondent)
        assert not can_see_respondent(focal, respondent)
        assert not can_see_respondent(clerk, respondent)


# --- command line ------------------------------------------------------------------


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_users_create_list_disable(app, factory, db_session):
    factory.unit(code="SNV", name="Sở Nội vụ")
    result = run(
        app,
        "users",
        "create",
        "dauMoi",
        "--role",
        "focal_point",
        "--unit",
        "SNV",
        "--password-stdin",
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    result = run(
        app,
        "users",
        "create",
        "boss",
        "--role",
        "admin",
        "--password-stdin",
        input="another long one\n",
    )
    assert result.exit_code == 0, result.output
    listing = run(app, "users", "list").output.splitlines()
    assert listing == ["boss\tadmin\t-\tactive\t", "dauMoi\tfocal_point\tSNV\tactive\t"]
    assert run(app, "users", "disable", "boss").exit_code == 0
    assert "boss\tadmin\t-\tdisabled" in run(app, "users", "list").output
    with db_session() as session:
        user = session.scalar(sa.select(User).where(User.username == "dauMoi"))
        assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["x1", "--role", "focal_point"], "long enough pw\n", "focal point needs a unit"),
        (["x2", "--role", "admin", "--unit", "NOPE"], "long enough pw\n", "No unit with code"),
        (["x3", "--role", "admin"], "short\n", "at least 10 characters"),
        (["bad name", "--role", "admin"], "long enough pw\n", "Invalid username"),
    ],
)
def test_users_create_refuses_bad_input(app, args, stdin, message):
    result = run(app, "users", "create", *args, "--password-stdin", input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_users_create_refuses_duplicates(app, factory):
    factory.user(username="twice")
    result = run(
        app,
        "users",
        "create",
        "TWICE",
        "--role",
        "admin",
        "--password-stdin",
        input="long enough pw\n",
    )
    assert result.exit_code != 0 and "already exists" in result.output


def test_focal_point_without_unit_is_refused_by_the_schema(app):
    with app.app_context():
        db.session.add(User(username="x", role=Role.FOCAL_POINT, password_hash="x"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


# --- account pages -------------------------------------------------------------------


def test_admin_creates_accounts_with_field_messages(client, login, factory, db_session):
    login(Role.ADMIN)
    factory.unit(code="SNV", name="Sở Nội vụ")
    form = {
        "username": "daumoi",
        "full_name": "Trần Thị B",
        "role": "focal_point",
        "unit_code": "",
        "password": "a long password",
    }
    refused = client.post("/auth/users/new", data=form)
    assert refused.status_code == 422
    assert "Đầu mối đơn vị phải gắn với một đơn vị" in refused.get_data(as_text=True)
    short = client.post("/auth/users/new", data={**form, "unit_code": "SNV", "password": "short"})
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.get_data(as_text=True)
    assert client.post("/auth/users/new", data={**form, "unit_code": "SNV"}).status_code == 302
    page = client.get("/auth/users").get_data(as_text=True)
    assert "daumoi" in page and "Trần Thị B" in page and "SNV — Sở Nội vụ" in page
    with db_session() as session:
        user = session.scalar(sa.select(User).where(User.username == "daumoi"))
        assert user.role == Role.FOCAL_POINT and user.unit_id is not None


def test_admin_disables_an_account_and_its_session_ends(app, client, login, factory):
    login(Role.ADMIN)
    target = factory.user(role="clerk", username="clerk1")
    other = app.test_client()
    sign_in(other, "clerk1")
    assert signed_in(other)
    response = client.post(f"/auth/users/{target.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert not signed_in(other)
    assert sign_in(other, "clerk1").status_code == 401
    client.post(f"/auth/users/{target.id}/active", data={"active": "1"})
    assert sign_in(other, "clerk1").status_code == 302


def test_admin_ends_sessions_but_not_their_own_account(app, client, login, factory):
    admin = login(Role.ADMIN)
    target = factory.user(role="enumerator", username="dtv")
    other = app.test_client()
    sign_in(other, "dtv")
    client.post(f"/auth/users/{target.id}/end-sessions")
    assert not signed_in(other)
    assert client.post(f"/auth/users/{admin.id}/active", data={"active": "0"}).status_code == 409
    assert signed_in(client)


def test_form_fields_carry_aria_attributes_only_when_they_apply(client):
    """A screen reader is pointed at the error of a field that has one, and at nothing
    (not at an element named "None") otherwise."""
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'aria-describedby="None"' not in page and 'aria-invalid="None"' not in page
    assert "aria-describedby" not in page and "aria-invalid" not in page
    page = client.post("/auth/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert 'aria-describedby="username-error" aria-invalid="true"' in page
    assert 'id="username-error"' in page
