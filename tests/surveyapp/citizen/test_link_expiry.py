"""Links expire on the day set, or at the survey's end when none is set (issue 10.6), in
Vietnam's calendar; a replaced respondent's link says so (issue 10.11)."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.respondents import Respondent, RespondentStatus, Selection
from surveyapp.models.responses import Ballot, Response
from surveyapp.responses.operations import NotAccepting, record_response, today


def _stored(app) -> int:
    with app.app_context():
        responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
        ballots = db.session.scalar(sa.select(sa.func.count()).select_from(Ballot))
        return responses + ballots


def test_today_is_vietnams_day(app):
    from zoneinfo import ZoneInfo

    with app.app_context():
        assert today() == datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def test_blank_expiry_means_the_end_date_and_is_enforced(app, client, survey, issue):
    with app.app_context():
        yesterday = today() - timedelta(days=1)
    s = survey(period_end=yesterday, token_expires_on=None)
    (issued,) = issue(s.respondents)
    page = client.get(f"/s/{issued.token}", follow_redirects=True)
    assert page.status_code == 410
    assert "Đường dẫn đã hết hạn" in page.get_data(as_text=True)
    client.get("/lang/en?next=/s")
    page = client.get(f"/s/{issued.token}", follow_redirects=True)
    assert "The link has expired" in page.get_data(as_text=True)
    # The write path refuses it too, not only the page.
    with app.app_context(), pytest.raises(NotAccepting) as refused:
        record_response(
            respondent=s.respondents[0].id,
            token=issued.token,
            unit=s.unit.id,
            answers={},
            mode="web",
        )
    assert refused.value.reason == "expired"
    assert _stored(app) == 0


def test_links_work_through_the_last_day(app, client, survey, issue):
    with app.app_context():
        last_day = today()
    s = survey(period_end=last_day)
    (issued,) = issue(s.respondents)
    assert client.get(f"/s/{issued.token}").headers["Location"] == "/s/form"


def test_a_set_expiry_day_overrides_the_end(app, client, survey, issue):
    with app.app_context():
        yesterday = today() - timedelta(days=1)
    s = survey(period_end=yesterday, token_expires_on=yesterday + timedelta(days=10))
    (issued,) = issue(s.respondents)
    assert client.get(f"/s/{issued.token}").status_code == 302


def test_a_form_open_when_the_link_expires_cannot_be_sent(app, client, survey, issue, fill_form):
    s = survey()
    (issued,) = issue(s.respondents)
    assert client.get(f"/s/{issued.token}").status_code == 302
    with app.app_context():
        campaign = db.session.get(Campaign, s.campaign.id)
        campaign.period_end = today() - timedelta(days=1)
        db.session.commit()
    final = fill_form(client)
    assert final.status_code == 410
    assert "hết hạn" in final.get_data(as_text=True)
    assert _stored(app) == 0


def _replace(app, s, factory):
    """The supervisor releases a reserve in place of the refused primary."""
    from surveyapp.fieldwork.operations import replace_with_reserve

    primary = s.respondents[0]
    factory.add(
        Respondent(
            draw_id=s.draw.id,
            campaign_id=s.campaign.id,
            source_unit_id=s.unit.id,
            respondent_group="citizen",
            stratum=primary.stratum,
            selection=Selection.RESERVE,
            reserve_rank=1,
            inclusion_prob=0.25,
            weight=4.0,
            full_name="Trần Thị Dự Phòng",
        )
    )
    with app.app_context():
        person = db.session.get(Respondent, primary.id)
        person.status = RespondentStatus.REFUSED
        db.session.flush()
        replace_with_reserve(person)
        db.session.commit()


def test_a_replaced_invitation_gets_its_own_page(app, client, factory, survey, issue):
    s = survey()
    (issued,) = issue(s.respondents)
    _replace(app, s, factory)
    page = client.get(f"/s/{issued.token}", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 410
    assert "Thư mời này đã được thay thế" in text and "không hợp lệ" not in text
    by_code = client.post("/s", data={"code": issued.code}, follow_redirects=True)
    assert "Thư mời này đã được thay thế" in by_code.get_data(as_text=True)
    client.get("/lang/en?next=/s")
    page = client.get(f"/s/{issued.token}", follow_redirects=True)
    assert "This invitation was replaced" in page.get_data(as_text=True)


def test_a_form_open_when_its_invitation_is_replaced_is_not_recorded(
    app, client, factory, survey, issue, fill_form
):
    s = survey()
    (issued,) = issue(s.respondents)
    assert client.get(f"/s/{issued.token}").status_code == 302
    _replace(app, s, factory)
    final = fill_form(client)
    assert final.status_code == 410
    assert "Thư mời này đã được thay thế" in final.get_data(as_text=True)
    assert _stored(app) == 0
