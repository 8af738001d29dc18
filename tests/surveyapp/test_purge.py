"""`surveyapp campaign purge-pii`: no personal data left, responses and figures intact."""

import datetime as dt

import pytest
import sqlalchemy as sa

from surveyapp.dashboard.figures import campaign_progress
from surveyapp.extensions import db
from surveyapp.models import (
    ContactAttempt,
    Draw,
    FrameRecord,
    FrameUpload,
    Respondent,
    Response,
    Selection,
)
from surveyapp.models.drafts import FormDraft
from surveyapp.tokens.service import letters_path

NAMES = ["Hoàng Thị Purgeable", "Đỗ Văn Forgettable"]
PHONES = ["0977111222", "0977333444"]
SECRETS = [
    *NAMES,
    *PHONES,
    "12 Trần Phú",
    "HS-000123",
    "purge@example.vn",
    "hash-abc",
    "gọi lại",
    "draft-key",
    "Nháp chưa gửi",
]


@pytest.fixture
def closed_campaign(factory):
    unit = factory.unit()
    campaign = factory.campaign(code="2023", status="closed")
    upload = factory.add(
        FrameUpload(
            campaign_id=campaign.id,
            unit_id=unit.id,
            list_kind="citizens",
            filename="list.csv",
            rows_read=2,
            rows_valid=2,
            report={"summary": {"rows": 2}, "issues": [[3, "phone", PHONES[0], "bad"]]},
        )
    )
    factory.add(
        *[
            FrameRecord(upload_id=upload.id, source_row=i + 2, full_name=n, phone=p)
            for i, (n, p) in enumerate(zip(NAMES, PHONES, strict=True))
        ]
    )
    draw = factory.add(Draw(campaign_id=campaign.id, design={}))
    people = factory.add(
        *[
            Respondent(
                draw_id=draw.id,
                campaign_id=campaign.id,
                source_unit_id=unit.id,
                respondent_group="citizen",
                stratum="S",
                selection=Selection.PRIMARY,
                inclusion_prob=0.5,
                weight=2.0,
                status=status,
                disposition=disposition,
                full_name=name,
                phone=phone,
                email="purge@example.vn",
                address="12 Trần Phú",
                dossier_code="HS-000123",
                token_hash=f"hash-abc{i}",
                short_code_hash=f"hash-abc-code{i}",
            )
            for i, (name, phone, status, disposition) in enumerate(
                zip(NAMES, PHONES, ["completed", "refused"], [None, "refusal"], strict=True)
            )
        ]
    )
    factory.add(
        ContactAttempt(
            respondent_id=people[1].id,
            mode="phone",
            outcome="refused",
            disposition="refusal",
            note="gọi lại sau 5 giờ",
        ),
        Response(
            campaign_id=campaign.id,
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
            rated_unit_id=unit.id,
            respondent_group="citizen",
            stratum="S",
            weight=2.0,
            mode="web",
            is_probability=True,
            submitted_week=dt.date(2024, 9, 2),
            answers={"c1": 4, "k2": "Cán bộ nhiệt tình"},
        ),
        FormDraft(
            key_hash="draft-key",
            campaign_id=campaign.id,
            respondent_id=people[0].id,
            token_hash="hash-abc-draft",
            rated_unit_id=unit.id,
            respondent_group="citizen",
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
            answers={"k2": "Nháp chưa gửi"},
        ),
    )
    return campaign


def database_text() -> str:
    """Every value of every table, as one string (a dump of the database)."""
    parts = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def snapshot(campaign_id):
    progress = campaign_progress(campaign_id)
    responses = db.session.execute(
        sa.select(Response.id, Response.answers, Response.weight, Response.mode)
    ).all()
    statuses = db.session.execute(
        sa.select(Respondent.id, Respondent.status, Respondent.disposition).order_by(Respondent.id)
    ).all()
    return progress.rows, progress.total, sorted(map(repr, responses)), statuses


def test_purge_removes_personal_data_and_keeps_the_rest(app, closed_campaign):
    runner = app.test_cli_runner()
    with app.app_context():
        text = database_text()
        assert all(secret in text for secret in SECRETS)
        before = snapshot(closed_campaign.id)

    result = runner.invoke(args=["campaign", "purge-pii", "2023", "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 respondents" in result.output and "1 contact notes" in result.output
    assert "2 list rows" in result.output and "1 validation reports" in result.output
    assert "1 form drafts" in result.output

    with app.app_context():
        text = database_text()
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == []
        assert snapshot(closed_campaign.id) == before
        assert db.session.scalar(sa.select(FrameUpload.rows_valid)) == 2

    again = runner.invoke(args=["campaign", "purge-pii", "2023", "--yes"])
    assert again.exit_code == 0
    assert "0 respondents" in again.output and "0 list rows" in again.output


def test_purge_deletes_the_campaigns_letters_and_keeps_responses(app, factory, closed_campaign):
    other = factory.campaign(code="2024", status="fieldwork")
    with app.app_context():
        before = snapshot(closed_campaign.id)
        letters = letters_path(closed_campaign.id)
        letters.write_bytes(b"%PDF-1.4 " + NAMES[0].encode())
        kept = letters_path(other.id)
        kept.write_bytes(b"%PDF-1.4 another campaign")

    result = app.test_cli_runner().invoke(args=["campaign", "purge-pii", "2023", "--yes"])
    assert result.exit_code == 0, result.output
    assert "1 letter files" in result.output
    assert not letters.exists() and not letters.parent.exists()
    assert kept.exists()  # an open campaign's letters are still needed
    with app.app_context():
        assert snapshot(closed_campaign.id) == before


def test_purge_refuses_an_open_campaign(app, factory, closed_campaign):
    factory.campaign(code="2024", status="fieldwork")
    result = app.test_cli_runner().invoke(args=["campaign", "purge-pii", "2024", "--yes"])
    assert result.exit_code != 0
    assert "is not closed" in result.output and "chưa kết thúc" in result.output
    unknown = app.test_cli_runner().invoke(args=["campaign", "purge-pii", "1999", "--yes"])
    assert unknown.exit_code != 0 and "No campaign" in unknown.output


def test_purge_asks_first(app, closed_campaign):
    result = app.test_cli_runner().invoke(args=["campaign", "purge-pii", "2023"], input="n\n")
    assert result.exit_code != 0
    with app.app_context():
        assert NAMES[0] in database_text()


def test_admin_purges_from_the_web_after_typing_the_code(app, client, login, closed_campaign):
    from surveyapp.models.users import Role

    login(Role.ADMIN)
    url = f"/fieldwork/campaigns/{closed_campaign.id}/purge"
    assert "2023" in client.get(url).get_data(as_text=True)
    wrong = client.post(url, data={"confirm_code": "2024"})
    assert wrong.status_code == 422
    with app.app_context():
        assert NAMES[0] in database_text()
    done = client.post(url, data={"confirm_code": "2023"})
    assert done.status_code == 302
    with app.app_context():
        assert not any(secret in database_text() for secret in SECRETS)


def test_web_purge_refuses_an_open_campaign(app, client, login, factory):
    from surveyapp.models.users import Role

    campaign = factory.campaign(code="OPEN", status="fieldwork")
    login(Role.ADMIN)
    page = client.get(f"/fieldwork/campaigns/{campaign.id}/purge").get_data(as_text=True)
    assert "confirm_code" not in page
    assert (
        client.post(
            f"/fieldwork/campaigns/{campaign.id}/purge", data={"confirm_code": "OPEN"}
        ).status_code
        == 409
    )
    login(Role.SUPERVISOR)
    assert client.get(f"/fieldwork/campaigns/{campaign.id}/purge").status_code == 403
