"""Campaigns: create and edit, instruments, who rates whom, status transitions."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from surveyapp.campaigns import lifecycle
from surveyapp.models import Campaign, CampaignInstrument, CampaignStatus, Draw, RatingTarget
from surveyapp.models.users import Role

PERIOD = {"period_start": "2024-07-01", "period_end": "2024-10-31"}


@pytest.fixture
def admin(login):
    return login(Role.ADMIN)


def campaign_row(db_session, code):
    with db_session() as session:
        campaign = session.scalar(sa.select(Campaign).where(Campaign.code == code))
        if campaign is not None:
            session.expunge(campaign)
        return campaign


def test_create_and_edit(client, admin, db_session):
    response = client.post(
        "/campaigns/new", data={"code": "2024", "name": "Khảo sát CCHC 2024", **PERIOD}
    )
    assert response.status_code == 302
    campaign = campaign_row(db_session, "2024")
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.period_start == dt.date(2024, 7, 1)
    response = client.post(
        f"/campaigns/{campaign.id}/edit",
        data={"code": "2024", "name": "Tên mới", **PERIOD, "token_expires_on": "2024-11-15"},
    )
    assert response.status_code == 302
    campaign = campaign_row(db_session, "2024")
    assert campaign.name == "Tên mới" and campaign.token_expires_on == dt.date(2024, 11, 15)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Tên mới" in page and "Bản nháp" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "", "name": "x"}, "Nhập mã đợt khảo sát"),
        ({"code": "20 24", "name": "x"}, "Mã chỉ gồm"),
        (
            {"code": "2025", "name": "x", "period_start": "2025-10-01", "period_end": "2025-01-01"},
            "Ngày kết thúc phải sau ngày bắt đầu",
        ),
        (
            {"code": "2025", "name": "x", "period_start": "31/31/2025"},
            "Ngày «31/31/2025» không hợp lệ: nhập theo dạng ngày/tháng/năm",
        ),
    ],
)
def test_invalid_campaign_forms_are_reshown(client, admin, db_session, data, message):
    response = client.post("/campaigns/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(Campaign.id))) == 0


def test_duplicate_code(client, admin, factory):
    factory.campaign(code="2024")
    response = client.post("/campaigns/new", data={"code": "2024", "name": "again"})
    assert response.status_code == 422
    assert "Mã này đã được dùng" in response.get_data(as_text=True)


def test_instruments_choose_among_builtin_questionnaires(client, admin, factory, db_session):
    import questionnaires

    builtin = questionnaires.list_builtin()[0]
    campaign = factory.campaign()
    choice = f"{builtin.id}@{builtin.version}"
    response = client.post(
        f"/campaigns/{campaign.id}/instruments",
        data={"instrument-respondent_group": "citizen", "instrument-questionnaire": choice},
    )
    assert response.status_code == 302
    # Saving the same group again replaces its questionnaire (one per group).
    client.post(
        f"/campaigns/{campaign.id}/instruments",
        data={"instrument-respondent_group": "citizen", "instrument-questionnaire": choice},
    )
    with db_session() as session:
        rows = session.execute(
            sa.select(
                CampaignInstrument.respondent_group,
                CampaignInstrument.questionnaire_id,
                CampaignInstrument.questionnaire_version,
            )
        ).all()
    assert rows == [("citizen", builtin.id, builtin.version)]
    bad = client.post(
        f"/campaigns/{campaign.id}/instruments",
        data={"instrument-respondent_group": "official", "instrument-questionnaire": "nope@1"},
    )
    assert bad.status_code == 422
    assert "Not a valid choice" in bad.get_data(as_text=True)


def test_respondent_groups_are_chosen_from_a_list(client, admin, factory, db_session):
    campaign = factory.campaign()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="instrument-respondent_group".*?</select>', page, re.S)
    assert select, "the group is a select, not a text box"
    options = dict(re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]+)</option>', select[0]))
    assert options == {
        "citizen": "Người dân",
        "organisation": "Tổ chức",
        "official": "Cán bộ, công chức, viên chức",
    }
    target = re.search(r'<select[^>]*name="target-respondent_group".*?</select>', page, re.S)
    assert target and 'value="official"' in target[0]
    client.get("/lang/en")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert ">Officials</option>" in page and ">Citizens</option>" in page
    # A typed code (an old bookmark, a crafted request) is refused in both languages.
    typed = client.post(
        f"/campaigns/{campaign.id}/instruments",
        data={"instrument-respondent_group": "Citizen", "instrument-questionnaire": "x@1"},
    )
    assert typed.status_code == 422
    assert "Choose a respondent group from the list" in typed.get_data(as_text=True)
    client.get("/lang/vi")
    typed = client.post(
        f"/campaigns/{campaign.id}/targets", data={"target-respondent_group": "leaders"}
    )
    assert typed.status_code == 422
    assert "Chọn một nhóm đối tượng trong danh sách" in typed.get_data(as_text=True)
    with db_session() as session:
        assert session.scalars(sa.select(CampaignInstrument)).all() == []
        assert session.scalars(sa.select(RatingTarget)).all() == []


def test_rating_targets(client, admin, factory, db_session):
    campaign = factory.campaign()
    commune, department = factory.unit(), factory.unit(level_label="Sở, ban, ngành")
    data = {
        "target-respondent_group": "official",
        "target-source_unit_id": commune.id,
        "target-rated_unit_id": department.id,
    }
    assert client.post(f"/campaigns/{campaign.id}/targets", data=data).status_code == 302
    again = client.post(f"/campaigns/{campaign.id}/targets", data=data)
    assert again.status_code == 422 and "Đã có dòng này" in again.get_data(as_text=True)
    same = client.post(
        f"/campaigns/{campaign.id}/targets", data={**data, "target-rated_unit_id": commune.id}
    )
    assert same.status_code == 422
    with db_session() as session:
        targets = session.execute(
            sa.select(RatingTarget.source_unit_id, RatingTarget.rated_unit_id)
        ).all()
    assert targets == [(commune.id, department.id)]


def _ready_campaign(factory, **kw):
    campaign = factory.campaign(
        period_start=dt.date(2024, 7, 1), period_end=dt.date(2024, 10, 31), **kw
    )
    factory.instrument(campaign)
    # Fieldwork also needs a locked draw (registered by surveyapp.draws).
    factory.add(Draw(campaign_id=campaign.id, design={}, locked=True))
    return campaign


def test_fieldwork_needs_instruments_and_a_period(client, admin, factory, db_session):
    campaign = factory.campaign()
    response = client.post(f"/campaigns/{campaign.id}/status", data={"status": "fieldwork"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Chưa chọn bảng hỏi" in body and "Chưa đặt thời gian khảo sát" in body
    assert campaign_row(db_session, campaign.code).status == CampaignStatus.DRAFT


def test_draft_fieldwork_closed(client, admin, factory, db_session):
    campaign = _ready_campaign(factory)
    assert (
        client.post(f"/campaigns/{campaign.id}/status", data={"status": "fieldwork"}).status_code
        == 302
    )
    assert campaign_row(db_session, campaign.code).status == CampaignStatus.FIELDWORK
    # Instruments and targets are frozen once fieldwork starts.
    frozen = client.post(
        f"/campaigns/{campaign.id}/instruments",
        data={"instrument-respondent_group": "x", "instrument-questionnaire": "sipas-citizen@2024"},
    )
    assert frozen.status_code == 409
    # Closing cannot be undone: without the confirmation box ticked nothing changes.
    unconfirmed = client.post(f"/campaigns/{campaign.id}/status", data={"status": "closed"})
    assert unconfirmed.status_code == 422
    assert "không thể mở lại" in unconfirmed.get_data(as_text=True)
    assert campaign_row(db_session, campaign.code).status == CampaignStatus.FIELDWORK
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'name="confirm_close"' in page
    closing = {"status": "closed", "confirm_close": "y"}
    assert client.post(f"/campaigns/{campaign.id}/status", data=closing).status_code == 302
    assert campaign_row(db_session, campaign.code).status == CampaignStatus.CLOSED
    back = client.post(f"/campaigns/{campaign.id}/status", data={"status": "fieldwork"})
    assert back.status_code == 409
    assert client.get(f"/campaigns/{campaign.id}/edit").status_code == 409


def test_other_features_can_add_fieldwork_checks(client, admin, factory, db_session, monkeypatch):
    monkeypatch.setattr(lifecycle, "_fieldwork_checks", [])

    @lifecycle.fieldwork_check
    def needs_locked_draw(campaign):
        return [("Chưa khoá mẫu", "No locked draw")]

    campaign = _ready_campaign(factory)
    response = client.post(f"/campaigns/{campaign.id}/status", data={"status": "fieldwork"})
    assert response.status_code == 409
    assert "Chưa khoá mẫu" in response.get_data(as_text=True)
    assert campaign_row(db_session, campaign.code).status == CampaignStatus.DRAFT


def test_supervisor_sees_but_cannot_change(client, login, factory):
    login(Role.SUPERVISOR)
    campaign = _ready_campaign(factory, name="Đợt <b>2024</b>")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Đợt &lt;b&gt;2024&lt;/b&gt;" in page
    assert "Bắt đầu khảo sát" not in page
    assert (
        client.post(f"/campaigns/{campaign.id}/status", data={"status": "fieldwork"}).status_code
        == 403
    )


def test_walkin_and_weight_rules_are_in_the_schema(app, factory):
    """Walk-in responses are non-probability without weight; probability ones are weighted."""
    from surveyapp.extensions import db
    from surveyapp.models import Response, ResponseMode

    campaign, unit = factory.campaign(), factory.unit()
    base = {
        "campaign_id": campaign.id,
        "questionnaire_id": "q",
        "questionnaire_version": "1",
        "rated_unit_id": unit.id,
        "respondent_group": "citizen",
        "submitted_week": dt.date(2024, 7, 1),
        "answers": {},
    }
    refused = [
        Response(**base, mode=ResponseMode.WALKIN, is_probability=True, weight=1.0),
        Response(**base, mode=ResponseMode.WALKIN, is_probability=False, weight=1.0),
        Response(**base, mode=ResponseMode.WEB, is_probability=True, weight=None),
    ]
    accepted = [
        Response(**base, mode=ResponseMode.WALKIN, is_probability=False, weight=None),
        Response(**base, mode=ResponseMode.WEB, is_probability=True, weight=12.5),
    ]
    with app.app_context():
        for response in refused:
            with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
                db.session.add(response)
        db.session.add_all(accepted)
        db.session.commit()
        ids = db.session.scalars(sa.select(Response.id)).all()
    assert len(ids) == 2 and all(i.version == 4 for i in ids)
    assert not {"respondent_id", "token_hash", "user_id", "created_at"} & set(
        Response.__table__.columns.keys()
    )


@pytest.mark.parametrize("typed", ["01/07/2024", "1/7/2024", "01-07-2024", "01.07.2024"])
def test_dates_are_typed_day_first_whatever_the_browser(client, admin, db_session, typed):
    """dd/mm/yyyy as written in Vietnam: a text box, not the browser's date box, whose
    format follows the browser's language."""
    data = {"code": "2024", "name": "x", "period_start": typed, "period_end": "31/10/2024"}
    assert client.post("/campaigns/new", data=data).status_code == 302
    campaign = campaign_row(db_session, "2024")
    assert (campaign.period_start, campaign.period_end) == (
        dt.date(2024, 7, 1),
        dt.date(2024, 10, 31),
    )
    page = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="period_start"[^>]*>', page).group(0)
    assert 'type="text"' in field and 'value="01/07/2024"' in field
    assert 'placeholder="dd/mm/yyyy"' in field


def test_a_wrong_date_is_named_in_the_visitors_language(client, admin):
    client.get("/lang/en")
    response = client.post(
        "/campaigns/new", data={"code": "2025", "name": "x", "period_end": "07/31/2025"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "«07/31/2025» is not a valid date: type day/month/year, e.g. 15/07/2024" in page
    assert 'value="07/31/2025"' in page  # what was typed stays, to be corrected


def test_a_campaign_names_its_previous_year_and_the_rule(client, admin, db_session):
    assert (
        client.post("/campaigns/new", data={"code": "2024", "name": "Năm 2024"}).status_code == 302
    )
    previous = campaign_row(db_session, "2024")
    response = client.post(
        "/campaigns/new",
        data={"code": "2026", "name": "Năm 2026", "previous_campaign_id": previous.id,
              "comparison_rule": "population"},
    )  # fmt: skip
    assert response.status_code == 302
    current = campaign_row(db_session, "2026")
    assert (current.previous_campaign_id, current.comparison_rule) == (previous.id, "population")
    page = client.get(f"/campaigns/{current.id}").get_data(as_text=True)
    assert "So sánh với năm trước" in page and "bình quân theo dân số" in page
    bad = client.post(f"/campaigns/{current.id}/edit",
                      data={"code": "2026", "name": "x", "comparison_rule": "median"})  # fmt: skip
    assert bad.status_code == 422


def test_starting_fieldwork_near_or_after_the_end_warns(client, admin, factory, db_session):
    from surveyapp.responses.operations import today

    with client.application.app_context():
        now = today()
    late = _ready_campaign(factory)  # its survey ended on 31/10/2024
    page = client.get(f"/campaigns/{late.id}").get_data(as_text=True)
    assert "Ngày kết thúc khảo sát (31/10/2024) đã qua" in page
    started = client.post(
        f"/campaigns/{late.id}/status", data={"status": "fieldwork"}, follow_redirects=True
    )
    assert started.status_code == 200  # a warning, not a refusal
    assert "flash-warning" in started.get_data(as_text=True)
    assert "(31/10/2024) đã qua" in started.get_data(as_text=True)

    soon = factory.campaign(period_start=now, period_end=now + dt.timedelta(days=3))
    client.get("/lang/en")
    page = client.get(f"/campaigns/{soon.id}").get_data(as_text=True)
    assert "only 3 day(s) left to answer" in page

    ample = factory.campaign(period_start=now, period_end=now + dt.timedelta(days=40))
    assert "Mind the dates" not in client.get(f"/campaigns/{ample.id}").get_data(as_text=True)
    early_links = factory.campaign(
        period_start=now,
        period_end=now + dt.timedelta(days=40),
        token_expires_on=now + dt.timedelta(days=2),
    )
    page = client.get(f"/campaigns/{early_links.id}").get_data(as_text=True)
    assert f"Survey links expire on {(now + dt.timedelta(days=2)):%d/%m/%Y}" in page
