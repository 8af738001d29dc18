"""Downloads carrying personal data or live tokens are never stored by a cache (12.10).

Results, bundles and the other spreadsheet downloads are walked in
test_spreadsheet_safe.py (every download route, each checked for ``no-store``).
"""

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.jobs import Job


def test_letters_and_posters_are_sent_no_store(app, client, login, survey):
    s = survey(respondents=2)
    login("supervisor")
    started = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "new", "lang": "vi"}
    )
    assert started.status_code == 302
    with app.app_context():
        job_id = db.session.scalars(sa.select(Job.id)).one()
    downloads = [f"/tokens/jobs/{job_id}/letters.pdf", f"/posters/{s.campaign.id}/{s.unit.id}.pdf"]
    for url in downloads:
        response = client.get(url)
        assert response.status_code == 200 and response.data.startswith(b"%PDF"), url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "attachment" in response.headers["Content-Disposition"], url
