"""The 2025 citizen questionnaire served as a web form: two-tier levels, no district."""

import sqlalchemy as sa

from surveyapp.models import CampaignInstrument


def test_citizen_form_of_a_2025_campaign(client, survey, issue, db_session):
    made = survey(respondents=1)
    with db_session() as session:
        instrument = session.scalar(
            sa.select(CampaignInstrument).where(CampaignInstrument.campaign_id == made.campaign.id)
        )
        instrument.questionnaire_version = "2025"
    (item,) = issue(made.respondents)
    page = client.get(f"/s/{item.token}", follow_redirects=True)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Chi nhánh Trung tâm Phục vụ hành chính công cấp tỉnh" in body
    assert "Ủy ban nhân dân cấp xã (xã, phường, đặc khu)" in body
    assert "cấp huyện" not in body
