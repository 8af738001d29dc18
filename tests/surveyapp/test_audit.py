"""The audit log (issue 12.11): what is recorded, what never is, and the admin's view."""

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import surveyapp
from surveyapp.audit import ACTION_LABELS, escape_controls
from surveyapp.models.audit import AuditEvent

from .conftest import PASSWORD
from .test_auth import sign_in
from .test_draws import CONFIRM, post_design
from .test_draws import setup as draws_setup
from .test_frames import citizens_csv, post_file
from .test_results_bundle import export
from .test_results_bundle import source as bundle_source


def events(db_session, action=None):
    with db_session() as s:
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        rows = s.scalars(query).all()
        s.expunge_all()
    return rows


def test_sign_in_failure_and_sign_out_are_recorded(client, factory, db_session):
    user = factory.user(role="supervisor", username="giamsat")
    assert sign_in(client, "giamsat", "wrong password!").status_code == 401
    assert sign_in(client, "nobody-here", "my secret password").status_code == 401
    assert sign_in(client, "giamsat").status_code == 302
    client.post("/auth/logout")
    rows = events(db_session)
    assert [(e.action, e.target_type, e.target_id) for e in rows] == [
        ("auth.login_failed", "user", str(user.id)),  # kept though the request rolled back
        ("auth.login_failed", "", ""),
        ("auth.login", "user", str(user.id)),
        ("auth.logout", "user", str(user.id)),
    ]
    assert rows[2].actor == "giamsat" and rows[2].actor_id == user.id
    # What was typed for an unknown account (often a password) is never stored.
    stored = " ".join(f"{e.actor} {e.target_id} {e.detail}" for e in rows)
    assert "nobody-here" not in stored and "secret" not in stored and PASSWORD not in stored


def test_access_denials_are_recorded(client, login, db_session):
    assert client.post("/auth/users/focal-points").status_code == 401  # anonymous
    user = login("clerk")
    assert client.get("/auth/users").status_code == 403
    rows = events(db_session, "access.denied")
    assert [(e.actor, e.target_id, e.detail) for e in rows] == [
        ("", "auth.create_focal_point_accounts", "POST 401"),
        (user.username, "auth.users", "GET 403"),
    ]


def test_account_changes_are_recorded_and_refused_ones_are_not(client, login, factory, db_session):
    admin = login("admin")
    target = factory.user(role="enumerator", username="dtv")
    client.post(f"/auth/users/{target.id}", data={"role": "focal_point", "unit_code": ""})
    assert events(db_session, "user.update") == []  # refused (422): nothing happened
    client.post(f"/auth/users/{target.id}", data={"role": "supervisor", "unit_code": ""})
    client.post(f"/auth/users/{target.id}/reset-password")
    client.post(f"/auth/users/{target.id}/active", data={"active": "0"})
    rows = [e for e in events(db_session) if e.action.startswith("user.")]
    assert [(e.action, e.target_id, e.actor) for e in rows] == [
        ("user.update", str(target.id), admin.username),
        ("user.password_reset", str(target.id), admin.username),
        ("user.disable", str(target.id), admin.username),
    ]
    assert rows[0].detail == "role: role=supervisor"


def test_commands_are_recorded_as_the_command_line(app, factory, db_session):
    factory.user(role="clerk", username="nhaplieu")
    assert app.test_cli_runner().invoke(args=["users", "disable", "nhaplieu"]).exit_code == 0
    (row,) = events(db_session, "user.disable")
    assert row.channel == "cli" and row.actor.startswith("cli:") and row.actor_id is None


def test_control_characters_are_escaped(client, login, db_session):
    login("admin", username="evil\x1b[2J\u202eadmin\x07")
    client.post("/auth/logout")
    (row,) = events(db_session, "auth.logout")
    assert row.actor == "evil\\x1b[2J\\u202eadmin\\x07"
    assert escape_controls("a\r\nb\tc") == "a\\x0d\\x0ab\\x09c"
    assert len(escape_controls("x" * 900)) == 500


def test_admin_reads_filters_pages_and_exports_the_log(client, login, factory, db_session):
    admin = login("admin", username="=HYPERLINK(1)")
    other = factory.user(role="clerk", username="khac")
    with db_session() as s:
        for n in range(105):
            s.add(AuditEvent(action="draw.lock", actor="x", target_type="draw", target_id=str(n)))
        s.add(
            AuditEvent(
                action="user.disable",
                actor=admin.username,
                target_type="user",
                target_id=str(other.id),
            )
        )
    page = client.get("/audit/")
    assert page.status_code == 200 and 'rel="next"' in page.text
    filtered = client.get("/audit/?action=user.disable")
    assert f"user:{other.id}" in filtered.text and "draw:3<" not in filtered.text
    assert "Khoá tài khoản" in filtered.text  # the action's label, not only its code
    by_target = client.get("/audit/?target=draw:7")
    assert "draw:7<" in by_target.text and "draw:8<" not in by_target.text
    bad = client.get("/audit/?date_from=31/02/2026")
    assert bad.status_code == 200 and "không hợp lệ" in bad.text
    export = client.get("/audit/export.csv?action=user.disable")
    assert export.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["nguoi_thuc_hien"] == "'=HYPERLINK(1)"  # csvsafe
    assert rows[0]["thoi_gian"].endswith("+07:00")
    assert events(db_session, "audit.export")[0].detail == "1 rows"


def test_only_admins_read_the_log(client, login):
    login("supervisor")
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


@pytest.fixture
def setup(factory, db_session):
    """test_draws' campaign with two units' lists."""
    return draws_setup.__wrapped__(factory, db_session)


def test_draws_locks_and_downloads_of_personal_data_are_recorded(client, login, setup, db_session):
    campaign, *_ = setup
    admin = login("admin")
    post_design(client, campaign, "draw", seed="1")
    assert client.post(f"/draws/{campaign.id}/lock", data=CONFIRM).status_code == 302
    assert client.get(f"/draws/{campaign.id}/frame.csv").status_code == 200
    assert client.get(f"/draws/{campaign.id}/lists.xlsx").status_code == 200
    rows = [e for e in events(db_session) if not e.action.startswith("auth.")]
    assert [(e.action, e.target_type, e.actor) for e in rows] == [
        ("draw.run", "campaign", admin.username),
        ("draw.lock", "draw", admin.username),
        ("download.frame", "campaign", admin.username),
        ("download.sample_lists", "campaign", admin.username),
    ]
    # Ids and counts only: no name, phone or dossier code of the lists.
    text = " ".join(f"{e.target_id} {e.detail}" for e in rows)
    assert "Dân" not in text and "09" not in text and "HS" not in text


def test_purges_are_recorded(client, login, factory, db_session):
    campaign = factory.campaign(code="2023", status="closed")
    login("admin")
    response = client.post(
        f"/fieldwork/campaigns/{campaign.id}/purge", data={"confirm_code": "2023"}
    )
    assert response.status_code == 302
    (row,) = events(db_session, "campaign.purge_pii")
    assert (row.target_type, row.target_id) == ("campaign", str(campaign.id))


def test_list_uploads_are_recorded_without_their_rows(client, login, factory, db_session):
    campaign = factory.campaign(period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 9, 30))
    unit = factory.unit(code="XA01")
    focal = login("focal_point", unit=unit)
    assert post_file(client, campaign, unit, citizens_csv(5)).status_code == 302
    replace = post_file(client, campaign, unit, citizens_csv(3, start=10), filename="b.csv")
    assert client.post(replace.headers["Location"]).status_code == 302  # confirmed
    rows = events(db_session, "list.upload")
    assert [(e.actor, e.target_type) for e in rows] == [(focal.username, "frame_upload")] * 2
    assert rows[0].detail == f"unit={unit.id} kind=citizens rows=5"
    assert rows[1].detail.startswith(f"unit={unit.id} v2")
    assert not any("Người" in e.detail or "HS-" in e.detail for e in rows)
    assert client.get(f"/frames/uploads/{rows[0].target_id}/report.csv").status_code == 200
    (report,) = events(db_session, "download.list_report")
    assert (report.target_id, report.detail) == (rows[0].target_id, "csv")


def test_campaign_set_up_is_recorded(client, login, factory, db_session):
    """Creating and editing a campaign, its questionnaires and rated units, its status."""
    import questionnaires
    from surveyapp.models import Draw

    admin = login("admin")
    period = {"period_start": "2024-07-01", "period_end": "2024-10-31"}
    assert (
        client.post("/campaigns/new", data={"code": "2024", "name": "A", **period}).status_code
        == 302
    )
    (created,) = events(db_session, "campaign.create")
    campaign_id = int(created.target_id)
    assert client.post(f"/campaigns/{campaign_id}/edit",
                       data={"code": "2024", "name": "B", **period}).status_code == 302  # fmt: skip
    builtin = questionnaires.list_builtin()[0]
    choice = f"{builtin.id}@{builtin.version}"
    instrument = {"instrument-respondent_group": "citizen", "instrument-questionnaire": choice}
    assert client.post(f"/campaigns/{campaign_id}/instruments", data=instrument).status_code == 302
    commune, department = factory.unit(), factory.unit(level_label="Sở, ban, ngành")
    target = {"target-respondent_group": "official", "target-source_unit_id": commune.id,
              "target-rated_unit_id": department.id}  # fmt: skip
    assert client.post(f"/campaigns/{campaign_id}/targets", data=target).status_code == 302
    with db_session() as s:
        from surveyapp.models import CampaignInstrument, RatingTarget

        target_id = s.scalar(sa.select(RatingTarget.id))
        instrument_id = s.scalar(sa.select(CampaignInstrument.id))
    assert client.post(f"/campaigns/{campaign_id}/targets/{target_id}/delete").status_code == 302
    assert (
        client.post(f"/campaigns/{campaign_id}/instruments/{instrument_id}/delete").status_code
        == 302
    )
    assert client.post(f"/campaigns/{campaign_id}/instruments", data=instrument).status_code == 302
    factory.add(Draw(campaign_id=campaign_id, design={}, locked=True))
    status = client.post(f"/campaigns/{campaign_id}/status", data={"status": "fieldwork"})
    assert status.status_code == 302
    rows = [e for e in events(db_session) if e.action.startswith("campaign.")]
    assert [(e.action, e.target_type, e.target_id, e.actor) for e in rows] == [
        (action, "campaign", str(campaign_id), admin.username)
        for action in (
            "campaign.create", "campaign.update", "campaign.instrument", "campaign.rating_target",
            "campaign.rating_target_delete", "campaign.instrument_delete", "campaign.instrument",
            "campaign.status",
        )
    ]  # fmt: skip
    assert rows[2].detail == f"group=citizen {choice}"
    assert rows[3].detail == f"group=official source={commune.id} rated={department.id}"
    assert rows[4].detail == f"id={target_id}"


def test_reserve_releases_are_recorded(client, login, factory, db_session):
    from .test_replacement import strata as strata_fixture

    strata = strata_fixture.__wrapped__(factory)
    supervisor = login("supervisor")
    primary = strata["rows"][6]  # stratum B's non-contact
    url = f"/fieldwork/respondents/{primary.id}/replace"
    assert client.post(url).status_code == 200  # the confirmation page: nothing released yet
    assert events(db_session, "fieldwork.reserve_release") == []
    assert client.post(url, data={"confirm_replace": "y"}).status_code == 302
    (row,) = events(db_session, "fieldwork.reserve_release")
    reserve_id = strata["rows"][7].id  # B's reserve of rank 1
    assert (row.actor, row.target_type, row.target_id) == (
        supervisor.username,
        "respondent",
        str(reserve_id),
    )
    assert row.detail == f"replaces={primary.id} rank=1"
    # A refused release (no reserve left for the reserve itself, still pending) is not.
    again = client.post(
        f"/fieldwork/respondents/{reserve_id}/replace", data={"confirm_replace": "y"}
    )
    assert again.status_code == 302
    assert len(events(db_session, "fieldwork.reserve_release")) == 1


@pytest.fixture
def source(factory):
    """test_results_bundle's campaign 2024 with responses."""
    return bundle_source.__wrapped__(factory)


def test_bundle_exports_from_the_command_line_are_recorded(app, source, tmp_path, db_session):
    export(app, tmp_path)
    (row,) = events(db_session, "download.bundle")
    assert (row.channel, row.target_type, row.detail) == ("cli", "campaign", "command line")


def test_every_recorded_action_has_a_label_in_both_languages():
    """The administrator reads what happened, not internal codes: every action the code
    records has a Vietnamese and an English label."""
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in Path(surveyapp.__file__).parent.rglob("*.py")
    )
    recorded = set(re.findall(r'(?:record\(|action=)\s*"([a-z_]+\.[a-z_.]+)"', source))
    recorded |= set(re.findall(r'"(user\.(?:en|dis)able)"', source))
    assert len(recorded) > 20
    assert recorded <= set(ACTION_LABELS)
    for vi, en in ACTION_LABELS.values():
        assert vi and en and vi != en
