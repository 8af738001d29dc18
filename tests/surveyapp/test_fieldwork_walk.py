"""Fixes from the demo walk: the interview's mode and its place in the contact log, attempt
times typed as dd/mm/yyyy HH:MM, and the questionnaire PDF from the campaign page."""

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from questionnaires import load_builtin
from surveyapp.models import ContactAttempt, ContactOutcome
from surveyapp.models.users import Role
from tests.surveyapp.test_campaign_e2e import sign_in
from tests.surveyapp.test_fieldwork import assign_to, make_sample, post_attempt, valid_answers

from .conftest import CHROMIUM, browser_or_skip


@pytest.fixture
def fieldwork(factory):
    """A campaign in the field, its citizen questionnaire and one stratum's sample."""
    unit = factory.unit(code="XA01", name="UBND phường 1")
    campaign = factory.campaign(code="2024", status="fieldwork")
    factory.instrument(campaign)
    return campaign, unit, make_sample(factory, campaign, unit)


def attempt_rows(page: str) -> list[str]:
    """The contact log's rows, as text, top to bottom."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row.split("</tr>")[0] for row in body.split("<tr>")[1:]]


def test_a_phone_interview_is_logged_as_one_after_the_attempts(
    client,
    login,
    fieldwork,
    db_session,
):
    _, _, people = fieldwork
    me = login(Role.ENUMERATOR)
    assign_to(db_session, [people[0].id], me)
    # Two calls this week, the second reaching the person: the default mode is the phone.
    assert post_attempt(client, people[0], "no_answer").status_code == 302
    assert post_attempt(client, people[0], "appointment").status_code == 302
    url = f"/fieldwork/respondents/{people[0].id}/interview"
    form = client.get(url).get_data(as_text=True)
    assert 'name="interview-mode"' in form
    assert '<option selected value="phone">Điện thoại</option>' in form
    assert '<option value="visit">Đến gặp trực tiếp</option>' in form

    answers = valid_answers(load_builtin("sipas-citizen", "2024"))
    wrong = client.post(url, data={**answers, "interview-mode": "post"})
    assert wrong.status_code == 422
    assert client.post(url, data={**answers, "interview-mode": "phone"}).status_code == 302
    with db_session() as s:
        completing = s.scalars(
            sa.select(ContactAttempt).where(ContactAttempt.outcome == ContactOutcome.COMPLETED)
        ).one()
        assert completing.mode == "phone"

    rows = attempt_rows(client.get(f"/fieldwork/respondents/{people[0].id}").get_data(as_text=True))
    assert len(rows) == 3
    assert "Không trả lời máy" in rows[0] and "Hẹn" in rows[1]
    assert "Điện thoại" in rows[2] and "Phỏng vấn hoàn thành" in rows[2]
    assert "Đến gặp trực tiếp" not in "".join(rows)


def test_a_visit_interview_defaults_to_a_visit(client, login, fieldwork, db_session):
    _, _, people = fieldwork
    me = login(Role.ENUMERATOR)
    assign_to(db_session, [people[1].id], me)
    post_attempt(client, people[1], "appointment", mode="visit")
    form = client.get(f"/fieldwork/respondents/{people[1].id}/interview").get_data(as_text=True)
    assert '<option selected value="visit">Đến gặp trực tiếp</option>' in form


# --- attempt times -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["10/09/2024 09:30", " 10/09/2024  09:30 ", "10-09-2024 09:30", "2024-09-10 09:30"]
)
def test_attempt_time_is_typed_day_first_in_vietnam_time(
    client,
    login,
    fieldwork,
    db_session,
    typed,
):
    _, _, people = fieldwork
    login(Role.SUPERVISOR)
    page = client.get(f"/fieldwork/respondents/{people[0].id}").get_data(as_text=True)
    assert 'type="datetime-local"' not in page
    assert 'placeholder="dd/mm/yyyy hh:mm"' in page
    url = f"/fieldwork/respondents/{people[0].id}/attempts"
    data = {"attempt-mode": "visit", "attempt-disposition": "appointment"}
    assert client.post(url, data={**data, "attempt-attempted_at": typed}).status_code == 302
    with db_session() as s:
        attempt = s.scalars(sa.select(ContactAttempt)).one()
        assert attempt.attempted_at == dt.datetime(2024, 9, 10, 2, 30)  # UTC+7, stored UTC


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_wrong_attempt_time_names_what_was_typed(app, lang):
    from surveyapp.fieldwork.forms import AttemptForm

    with app.test_request_context():
        from flask import session

        session["lang"] = lang
        form = AttemptForm(
            MultiDict({"attempt-attempted_at": "09/31/2024 9:30 PM"}), prefix="attempt"
        )
        form.validate()
        (message,) = form.attempted_at.errors
        message = str(message)
    assert "«09/31/2024 9:30 PM»" in message
    if lang == "vi":
        assert "ngày/tháng/năm giờ:phút" in message
    else:
        assert "day/month/year hour:minute" in message


def test_attempt_time_in_an_english_us_browser(
    app,
    live_server,
    factory,
    fieldwork,
    db_session,
):
    """An English-US browser far from Vietnam: the box still asks for dd/mm/yyyy hh:mm and
    the time typed is Vietnam's."""
    sync_playwright = browser_or_skip()
    _, _, people = fieldwork
    factory.user(role="supervisor", username="gsv-walk")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            page = sign_in(
                browser, live_server, "gsv-walk", locale="en-US", timezone_id="America/New_York"
            )
            page.goto(f"{live_server}/fieldwork/respondents/{people[0].id}")
            box = page.locator("#attempt-attempted_at")
            assert box.get_attribute("type") == "text"
            assert box.get_attribute("placeholder") == "dd/mm/yyyy hh:mm"
            page.get_by_label("Cách thức").select_option("phone")
            page.get_by_label("Kết quả", exact=True).select_option("appointment")
            box.fill("10/09/2024 21:05")
            page.get_by_role("button", name="Lưu").click()
            assert "Đã ghi lần liên hệ." in page.locator(".flash, .alert").first.inner_text()
            assert "10/09/2024 21:05" in page.locator("table").inner_text()
        finally:
            browser.close()
    with db_session() as s:
        attempt = s.scalars(sa.select(ContactAttempt)).one()
        assert attempt.attempted_at == dt.datetime(2024, 9, 10, 14, 5)


# --- the questionnaire PDF -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR])
def test_questionnaire_pdf_is_downloaded_from_the_campaign_page(client, login, factory, role):
    campaign = factory.campaign(code="2024")
    instrument = factory.instrument(campaign)
    login(role)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    url = f"/campaigns/{campaign.id}/instruments/{instrument.id}/questionnaire.pdf"
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    reader = PdfReader(io.BytesIO(response.data))
    title = load_builtin("sipas-citizen", "2024").title.get("vi")
    text = " ".join((p.extract_text() or "") for p in reader.pages)
    assert " ".join(title.split()).lower() in " ".join(text.split()).lower()
    assert reader.metadata.title == title


@pytest.mark.parametrize("role", [Role.ENUMERATOR, Role.FOCAL_POINT])
def test_questionnaire_pdf_is_for_admins_and_supervisors(client, login, factory, role):
    campaign = factory.campaign()
    instrument = factory.instrument(campaign)
    login(role)
    url = f"/campaigns/{campaign.id}/instruments/{instrument.id}/questionnaire.pdf"
    assert client.get(url).status_code == 403


def test_questionnaire_pdf_of_another_campaign_is_not_found(client, login, factory):
    instrument = factory.instrument(factory.campaign())
    other = factory.campaign()
    login(Role.ADMIN)
    url = f"/campaigns/{other.id}/instruments/{instrument.id}/questionnaire.pdf"
    assert client.get(url).status_code == 404
