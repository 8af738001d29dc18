"""Walk-in mode: counter posters, the public /w/ address, tagging, rate limit, duplicates."""

import subprocess
import time

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.responses import Response
from surveyapp.models.walkin import WalkinLink


def _poster_url(client, campaign, unit, tmp_path):
    response = client.get(f"/posters/{campaign.id}/{unit.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "p")], check=True)
    from PIL import Image
    from pyzbar.pyzbar import decode

    (png,) = sorted(tmp_path.glob("p*.png"))
    (symbol,) = decode(Image.open(png))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert unit.name in text
    return symbol.data.decode()


def test_poster_qr_opens_a_walkin_form_tagged_non_probability(
    app, client, login, survey, tmp_path, fill_form
):
    s = survey(respondents=0)
    login("admin")
    url = _poster_url(client, s.campaign, s.unit, tmp_path)
    assert "/w/" in url and s.unit.code not in url.rsplit("/", 1)[1]
    visitor = app.test_client()
    opened = visitor.get(url.split("127.0.0.1:5000", 1)[-1])
    assert opened.status_code == 302 and opened.headers["Location"] == "/s/form"
    assert fill_form(visitor).headers["Location"].endswith("/s/thanks")
    with app.app_context():
        (row,) = db.session.scalars(sa.select(Response)).all()
    assert row.mode == "walkin" and row.is_probability is False and row.weight is None
    assert row.stratum is None and row.rated_unit_id == s.unit.id
    # The same device again today: a friendly page, no second response.
    again = visitor.get(url.split("127.0.0.1:5000", 1)[-1])
    assert again.status_code == 409 and "hôm nay" in again.get_data(as_text=True)


def test_poster_link_is_stable_per_campaign_and_unit(app, client, login, survey, tmp_path):
    s = survey(respondents=0)
    login("supervisor")
    client.get(f"/posters/{s.campaign.id}/{s.unit.id}.pdf")
    client.get(f"/posters/{s.campaign.id}/{s.unit.id}.pdf")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WalkinLink.id))) == 1


def test_focal_point_gets_only_their_units_poster(client, login, survey, factory):
    s = survey(respondents=0)
    login("focal_point", unit=s.unit)
    assert client.get(f"/posters/{s.campaign.id}/{s.unit.id}.pdf").status_code == 200
    other = factory.unit()
    assert client.get(f"/posters/{s.campaign.id}/{other.id}.pdf").status_code == 403
    page = client.get("/posters/").get_data(as_text=True)
    assert s.unit.name in page and other.name not in page


@pytest.mark.parametrize("role", ["enumerator", "clerk"])
def test_posters_refused_to_other_roles(client, login, survey, role):
    s = survey(respondents=0)
    login(role)
    assert client.get(f"/posters/{s.campaign.id}/{s.unit.id}.pdf").status_code == 403


def test_unknown_or_closed_walkin_address(app, client, login, survey, factory):
    assert client.get("/w/nothing-here").status_code == 404
    s = survey(respondents=0)
    with app.app_context():
        db.session.add(
            WalkinLink(
                campaign_id=s.campaign.id, unit_id=s.unit.id, slug="x1", respondent_group="citizen"
            )
        )
        db.session.commit()
        from surveyapp.models.campaigns import Campaign, CampaignStatus

        db.session.get(Campaign, s.campaign.id).status = CampaignStatus.CLOSED
        db.session.commit()
    assert client.get("/w/x1").status_code == 410


@pytest.mark.app_config(WALKIN_LIMIT=2)
def test_walkin_opening_is_rate_limited(app, client, survey):
    s = survey(respondents=0)
    with app.app_context():
        db.session.add(
            WalkinLink(
                campaign_id=s.campaign.id, unit_id=s.unit.id, slug="x2", respondent_group="citizen"
            )
        )
        db.session.commit()
    assert client.get("/w/x2").status_code == 302
    assert client.get("/w/x2").status_code == 302
    assert client.get("/w/x2").status_code == 429


def test_walkin_schema_refuses_weights_and_probability(app, survey):
    from datetime import date

    s = survey(respondents=0)
    with app.app_context():
        row = Response(
            campaign_id=s.campaign.id,
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
            rated_unit_id=s.unit.id,
            respondent_group="citizen",
            mode="walkin",
            is_probability=True,
            weight=2.0,
            submitted_week=date(2024, 6, 3),
            answers={},
        )
        db.session.add(row)
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


def _walkin_link(app, survey, slug):
    s = survey(respondents=0)
    with app.app_context():
        db.session.add(
            WalkinLink(
                campaign_id=s.campaign.id, unit_id=s.unit.id, slug=slug, respondent_group="citizen"
            )
        )
        db.session.commit()
    return s


def _walkin_blocked_after_a_wrong_paper_code(app, client, login, survey, fill_form):
    _walkin_link(app, survey, "x3")
    limit = app.config["WALKIN_LIMIT"]
    for _ in range(limit):  # a busy counter: each visitor answers once
        visitor = app.test_client()
        assert visitor.get("/w/x3").status_code == 302
        assert fill_form(visitor).headers["Location"].endswith("/s/thanks")
    assert app.test_client().get("/w/x3").status_code == 429
    # The hand-written limiter deleted every scope's events older than the window of the
    # scope being hit: after a second, a wrong paper code (1 s window here) lifted the block.
    time.sleep(1.1)
    login("clerk")
    assert client.post("/fieldwork/paper", data={"code": "ABCDE-FGHJK"}).status_code == 422
    blocked = app.test_client().get("/w/x3")
    assert blocked.status_code == 429 and "Quá nhiều lần thử" in blocked.get_data(as_text=True)


@pytest.mark.app_config(PAPER_CODE_WINDOW=1)
def test_a_wrong_paper_code_does_not_lift_a_walkin_block(app, client, login, survey, fill_form):
    _walkin_blocked_after_a_wrong_paper_code(app, client, login, survey, fill_form)


@pytest.mark.app_config(PAPER_CODE_WINDOW=1, REDIS_URL="redis://127.0.0.1:6379/15")
def test_a_wrong_paper_code_does_not_lift_a_walkin_block_in_redis(
    app, client, login, survey, fill_form
):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(app.config["REDIS_URL"]).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable: {error}")
    _walkin_blocked_after_a_wrong_paper_code(app, client, login, survey, fill_form)
