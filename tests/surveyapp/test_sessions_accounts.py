"""Server-side sessions (issue 12.5) and account administration (issue 10.10).

A "copied cookie" is the session cookie of one browser put into another client: the
attacker's copy must stop working when the owner logs out, changes the password, or
the account is disabled or reset.
"""

import csv
import io

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, extract_parameters

from surveyapp.models.audit import AuditEvent
from surveyapp.models.users import Role, User, UserSession

from .conftest import PASSWORD
from .test_auth import sign_in, signed_in

NEW_PASSWORD = "a brand new passphrase"


def copy_cookie(app, client):
    """A second client holding the same session cookie (as a thief would)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_copied_cookie_stops_working_after_logout(app, client, factory):
    factory.user(username="owner")
    sign_in(client, "owner")
    thief = copy_cookie(app, client)
    assert signed_in(thief)  # the copy works while the session lives
    client.post("/auth/logout")
    assert not signed_in(client)
    assert not signed_in(thief)


def test_a_copied_cookie_stops_working_after_a_password_change(app, client, factory):
    factory.user(username="changer")
    sign_in(client, "changer")
    thief = copy_cookie(app, client)
    other_device = app.test_client()
    sign_in(other_device, "changer")
    response = client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert signed_in(client)  # the changer's own session is renewed
    assert not signed_in(thief)
    assert not signed_in(other_device)
    assert sign_in(app.test_client(), "changer").status_code == 401  # old password
    assert sign_in(app.test_client(), "changer", NEW_PASSWORD).status_code == 302


def test_a_copied_cookie_stops_working_when_the_account_is_disabled(app, client, factory):
    factory.user(username="admin-x")
    target = factory.user(role="supervisor", username="disabled-soon")
    victim = app.test_client()
    sign_in(victim, "disabled-soon")
    thief = copy_cookie(app, victim)
    sign_in(client, "admin-x")
    assert client.post(f"/auth/users/{target.id}/active", data={"active": "0"}).status_code == 302
    assert not signed_in(thief) and not signed_in(victim)
    # Re-enabling does not bring the old session back.
    client.post(f"/auth/users/{target.id}/active", data={"active": "1"})
    assert not signed_in(thief)
    assert sign_in(victim, "disabled-soon").status_code == 302


def test_the_database_holds_only_keyed_hashes_of_session_ids(app, client, factory, db_session):
    factory.user(username="hashed")
    sign_in(client, "hashed")
    with client.session_transaction() as session:
        session_id = session["sid"]
    with db_session() as s:
        stored = s.scalars(sa.select(UserSession.id_hash)).all()
    assert len(stored) == 1 and session_id not in stored[0] and len(stored[0]) == 64


def test_password_change_refuses_bad_input_with_field_messages(client, login):
    login("enumerator")
    response = client.post(
        "/auth/password",
        data={"current_password": "wrong one!!", "new_password": "x", "confirm_password": "x"},
    )
    assert response.status_code == 422
    assert "Mật khẩu hiện tại không đúng" in response.text
    response = client.post(
        "/auth/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert response.status_code == 422 and "ít nhất 10 ký tự" in response.text
    response = client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD + "x",
        },
    )
    assert response.status_code == 422 and "không khớp" in response.text


def test_admin_resets_a_password_and_the_user_must_change_it(app, client, login, factory):
    target = factory.user(role="clerk", username="forgetful")
    victim = app.test_client()
    sign_in(victim, "forgetful")
    login("admin")
    response = client.post(f"/auth/users/{target.id}/reset-password")
    assert response.status_code == 200
    one_time = response.text.split("<code>")[1].split("</code>")[0]
    assert len(one_time) == 19 and response.headers["Cache-Control"] == "no-store"
    assert not signed_in(victim)  # the old session ended
    assert sign_in(victim, "forgetful").status_code == 401  # the old password is gone
    assert sign_in(victim, "forgetful", one_time).status_code == 302
    # Every page leads to the change form until the password is changed.
    response = victim.get("/fieldwork/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/password")
    page = victim.get("/auth/password")
    assert "mật khẩu một lần" in page.text
    response = victim.post(
        "/auth/password",
        data={
            "current_password": one_time,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert signed_in(victim)
    assert sign_in(app.test_client(), "forgetful", one_time).status_code == 401


def test_admin_edits_role_and_unit(app, client, login, factory, db_session):
    unit = factory.unit(code="XA01")
    target = factory.user(role="enumerator", username="mover")
    mover = app.test_client()
    sign_in(mover, "mover")
    login("admin")
    page = client.get(f"/auth/users/{target.id}")
    assert page.status_code == 200 and "mover" in page.text
    # A focal point needs a unit: refused with the field's message.
    response = client.post(
        f"/auth/users/{target.id}", data={"role": "focal_point", "unit_code": "", "full_name": ""}
    )
    assert response.status_code == 422 and "phải gắn với một đơn vị" in response.text
    response = client.post(
        f"/auth/users/{target.id}",
        data={"role": "focal_point", "unit_code": "XA01", "full_name": "Lê Văn B"},
    )
    assert response.status_code == 302
    with db_session() as s:
        user = s.get(User, target.id)
        assert (user.role, user.unit_id, user.full_name) == (Role.FOCAL_POINT, unit.id, "Lê Văn B")
    assert not signed_in(mover)  # what they may see changed: sign in again


def test_admin_cannot_drop_their_own_admin_role(client, login):
    admin = login("admin")
    response = client.post(f"/auth/users/{admin.id}", data={"role": "clerk", "unit_code": ""})
    assert response.status_code == 422


def test_only_admins_manage_accounts(client, login, factory):
    target = factory.user(role="clerk")
    login("supervisor")
    assert client.get(f"/auth/users/{target.id}").status_code == 403
    assert client.post(f"/auth/users/{target.id}/reset-password").status_code == 403
    assert client.post("/auth/users/focal-points").status_code == 403


def test_users_list_is_paged_and_filtered(client, login, factory):
    login("admin", username="boss")
    for n in range(55):
        factory.user(role="enumerator", username=f"dtv{n:02d}")
    page1 = client.get("/auth/users")
    assert "dtv00" in page1.text and "dtv54" not in page1.text and 'rel="next"' in page1.text
    page2 = client.get("/auth/users?page=2")
    assert "dtv54" in page2.text
    filtered = client.get("/auth/users?q=dtv1")
    assert "dtv10" in filtered.text and "dtv20" not in filtered.text
    assert "boss" not in client.get("/auth/users?role=enumerator").text.split("<tbody>")[1]


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_focal_points_in_bulk_from_the_registry(app, client, login, factory):
    covered = factory.unit(code="SO-NV", name="Sở Nội vụ")
    factory.user(role="focal_point", unit=covered)
    factory.unit(code="26734", name="Phường Sài Gòn")
    factory.unit(code="26737", name="Phường Tân Định")
    factory.unit(code="OLD", name="Đã giải thể", active=False)
    login("admin")
    page = client.get("/auth/users/focal-points")
    assert page.status_code == 200 and "<strong>2</strong>" in page.text
    response = client.post("/auth/users/focal-points", data={"unit_codes": ""})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert [(r["ten_dang_nhap"], r["ma_don_vi"]) for r in rows] == [
        ("dm.26734", "26734"),
        ("dm.26737", "26737"),
    ]
    assert rows[0]["ten_don_vi"] == "Phường Sài Gòn"
    # Downloaded once: a second run creates nothing and gives no passwords.
    again = client.post("/auth/users/focal-points", data={"unit_codes": ""})
    assert again.status_code == 422 and "đều đã có đầu mối" in again.text
    # Each login works with its one-time password, which must then be changed.
    focal = app.test_client()
    assert sign_in(focal, "dm.26734", rows[0]["mat_khau_mot_lan"]).status_code == 302
    assert focal.get("/").headers["Location"].endswith("/auth/password")


def test_focal_points_for_unknown_codes_are_refused(client, login, factory):
    factory.unit(code="A1")
    login("admin")
    response = client.post("/auth/users/focal-points", data={"unit_codes": "A1, NOPE"})
    assert response.status_code == 422 and "NOPE" in response.text


def test_users_commands_edit_reset_enable_and_focal_points(app, factory, db_session):
    factory.unit(code="X9")
    factory.user(role="enumerator", username="cli-user")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "edit", "cli-user", "--role", "supervisor"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "edit", "cli-user", "--role", "focal_point"])
    assert result.exit_code != 0 and "focal point needs a unit" in result.output
    result = runner.invoke(args=["users", "reset-password", "cli-user"])
    assert result.exit_code == 0, result.output
    one_time = result.output.strip().splitlines()[-1]
    assert sign_in(app.test_client(), "cli-user", one_time).status_code == 302
    assert runner.invoke(args=["users", "disable", "cli-user"]).exit_code == 0
    assert runner.invoke(args=["users", "enable", "cli-user"]).exit_code == 0
    result = runner.invoke(args=["users", "focal-points", "--out", "-"])
    assert result.exit_code == 0, result.output
    assert "dm.x9" in result.output
    with db_session() as s:
        user = s.scalar(sa.select(User).where(User.username == "cli-user"))
        assert user.role == Role.SUPERVISOR and user.active and user.must_change_password


@pytest.mark.app_config(ARGON2_MEMORY_COST=2048)
def test_a_pending_one_time_password_takes_as_long_to_check_as_any(
    app, client, login, factory, monkeypatch
):
    """One-time passwords have a light hash (random, 79 bits); checking one also runs a
    full-cost check, so the time of a refused sign-in does not tell which accounts wait
    for their first sign-in."""
    target = factory.user(role="clerk", username="waiting")
    login("admin")
    client.post(f"/auth/users/{target.id}/reset-password")
    seen = []
    original = PasswordHasher.verify

    def verify(self, hash, password):
        seen.append(hash)
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    assert sign_in(app.test_client(), "waiting", "wrong password").status_code == 401
    costs = sorted(PasswordHasher.from_parameters(extract_parameters(h)).memory_cost for h in seen)
    assert costs == [1024, 2048]  # the one-time hash, then one at the configured cost


def test_guessing_the_current_password_is_limited_and_recorded(client, login, db_session):
    user = login("supervisor")
    wrong = {"current_password": "guess guess", "new_password": NEW_PASSWORD,
             "confirm_password": NEW_PASSWORD}  # fmt: skip
    statuses = [client.post("/auth/password", data=wrong).status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    right = {**wrong, "current_password": PASSWORD}
    assert client.post("/auth/password", data=right).status_code == 429  # still waiting
    with db_session() as s:
        actions = s.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.actor_id == user.id)
        ).all()
    assert actions.count("auth.password_change_failed") == 5
    assert actions.count("auth.password_change_throttled") == 2
