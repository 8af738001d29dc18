"""The citizen web form: links, short codes, friendly pages, pages, relevance, language."""

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.respondents import Respondent, RespondentStatus
from surveyapp.models.responses import Response

REDIS_URL = "redis://127.0.0.1:6379/15"


def responses(app):
    with app.app_context():
        return db.session.scalars(sa.select(Response)).all()


def test_personal_link_redirects_to_a_tokenless_form(client, survey, issue, section_of):
    s = survey()
    (issued,) = issue(s.respondents)
    response = client.get(f"/s/{issued.token}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/s/form"
    assert issued.token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/s/form")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert issued.token not in page.get_data(as_text=True)
    assert section_of(page.get_data(as_text=True)) == "A"


def test_whole_form_records_one_anonymous_weighted_response(app, client, survey, issue, fill_form):
    s = survey()
    (issued,) = issue(s.respondents)
    client.get(f"/s/{issued.token}")
    final = fill_form(client)
    assert final.headers["Location"].endswith("/s/thanks")
    assert "Cảm ơn" in client.get("/s/thanks").get_data(as_text=True)
    (stored,) = responses(app)
    assert stored.mode == "web" and stored.is_probability and stored.weight == 4.0
    assert stored.rated_unit_id == s.unit.id and stored.stratum == s.respondents[0].stratum
    assert stored.questionnaire_id == "sipas-citizen" and stored.questionnaire_version == "2024"
    assert stored.submitted_week.weekday() == 0
    assert stored.answers["a1"] == 1 and stored.answers["b1"] == 4
    # a6 = 1 makes gb1 relevant and gb2 (b5..b8 items) not: nothing stored for them.
    assert not {"b9"} & set(stored.answers)
    with app.app_context():
        person = db.session.get(Respondent, s.respondents[0].id)
        assert person.status == RespondentStatus.COMPLETED
    again = client.get(f"/s/{issued.token}", follow_redirects=True)
    assert again.status_code == 409
    assert "đã được trả lời" in again.get_data(as_text=True)


def test_short_code_is_normalised_and_opens_the_form(client, survey, issue):
    s = survey()
    (issued,) = issue(s.respondents)
    typed = " " + issued.code.lower().replace("-", " - ") + " "
    response = client.post("/s", data={"code": typed})
    assert response.status_code == 302 and response.headers["Location"] == "/s/form"


def test_mistyped_code_says_so_and_links_the_field(client, survey, issue):
    s = survey()
    (issued,) = issue(s.respondents)
    code = issued.code.replace("-", "")
    swapped = code[0] + code[2] + code[1] + code[3:] if code[1] != code[2] else code[:-1] + "2"
    response = client.post("/s", data={"code": swapped})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "gõ nhầm" in page and 'href="#code"' in page and 'aria-invalid="true"' in page


def test_unknown_token_and_unknown_code_get_the_invalid_page(client, survey, issue):
    s = survey()
    issue(s.respondents)
    redirected = client.get("/s/AAAAAAAAAAAAAAAAAAAAAA")
    assert redirected.status_code == 302
    assert redirected.headers["Location"] == "/s/notice/invalid"  # the token leaves the bar
    response = client.get("/s/AAAAAAAAAAAAAAAAAAAAAA", follow_redirects=True)
    assert response.status_code == 404
    assert "không hợp lệ" in response.get_data(as_text=True)
    from surveyapp.core.codes import generate_code

    response = client.post("/s", data={"code": generate_code()})
    assert response.status_code == 404


def test_reissued_letter_invalidates_the_old_link(client, survey, issue):
    s = survey()
    (old,) = issue(s.respondents)
    (new,) = issue(s.respondents)
    assert client.get(f"/s/{old.token}", follow_redirects=True).status_code == 404
    assert client.get(f"/s/{new.token}").status_code == 302


@pytest.mark.parametrize(
    ("kind", "status", "text"),
    [
        ("draft", 409, "chưa bắt đầu"),
        ("closed", 410, "đã kết thúc"),
        ("expired", 410, "hết hạn"),
    ],
)
def test_campaign_state_pages(client, survey, issue, kind, status, text):
    if kind == "expired":
        s = survey(token_expires_on=date.today() - timedelta(days=2))
    else:
        s = survey(status=kind)
    (issued,) = issue(s.respondents)
    response = client.get(f"/s/{issued.token}", follow_redirects=True)
    assert response.status_code == status
    assert text in response.get_data(as_text=True)


def test_unreleased_reserve_cannot_answer(client, survey, issue):
    s = survey(selection="reserve", released=False)
    (issued,) = issue(s.respondents)
    assert client.get(f"/s/{issued.token}", follow_redirects=True).status_code == 404


@pytest.mark.app_config(TOKEN_LOOKUP_LIMIT=3, TOKEN_LOOKUP_OVERFLOW_LIMIT=0)
def test_failed_lookups_are_rate_limited_per_ip(client, survey, issue):
    s = survey()
    (issued,) = issue(s.respondents)
    for n in range(3):
        assert client.get(f"/s/wrongtoken{n}", follow_redirects=True).status_code == 404
    blocked = client.get(f"/s/{issued.token}", follow_redirects=True)
    assert blocked.status_code == 429
    assert "Quá nhiều" in blocked.get_data(as_text=True)
    other_ip = client.get(f"/s/{issued.token}", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other_ip.status_code == 302


@pytest.mark.app_config(TOKEN_LOOKUP_LIMIT=5, TOKEN_LOOKUP_OVERFLOW_LIMIT=4)
def test_a_valid_code_opens_through_a_burst_of_typos_behind_one_address(client, survey, issue):
    """A carrier's address: others' wrong codes use up its limit; a valid code still opens
    while the shared budget lasts, and guessing on past it is refused."""
    s = survey(respondents=2)
    first, second = issue(s.respondents)
    carrier = {"REMOTE_ADDR": "100.64.0.1"}
    for n in range(5):
        wrong = client.get(f"/s/typo{n}", environ_base=carrier, follow_redirects=True)
        assert wrong.status_code == 404
    citizen = client.application.test_client()
    opened = citizen.get(f"/s/{first.token}", environ_base=carrier)
    assert opened.status_code == 302 and opened.headers["Location"] == "/s/form"
    # The shared budget (4) now holds 1 lookup; 3 more wrong codes use it up.
    for n in range(3):
        wrong = client.get(f"/s/guess{n}", environ_base=carrier, follow_redirects=True)
        assert wrong.status_code == 404
    refused = client.application.test_client().get(
        f"/s/{second.token}", environ_base=carrier, follow_redirects=True
    )
    assert refused.status_code == 429 and "Quá nhiều lần thử" in refused.get_data(as_text=True)
    # Another address has its own limit.
    other = client.application.test_client().get(
        f"/s/{second.token}", environ_base={"REMOTE_ADDR": "100.64.0.2"}
    )
    assert other.status_code == 302


def _concurrent_lookups(app, count, threads=12):
    def lookup(n):
        client = app.test_client()
        response = client.get(f"/s/concurrent{n}", environ_base={"REMOTE_ADDR": "100.64.9.9"})
        return response.headers["Location"].rsplit("/", 1)[-1]  # the notice shown

    with ThreadPoolExecutor(threads) as pool:
        return Counter(pool.map(lookup, range(count)))


@pytest.mark.app_config(REDIS_URL=REDIS_URL, TOKEN_LOOKUP_LIMIT=20, TOKEN_LOOKUP_OVERFLOW_LIMIT=0)
def test_concurrent_lookups_never_pass_the_limit_in_redis(app):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable: {error}")
    notices = _concurrent_lookups(app, 120)
    # Exactly the limit was looked up (and found invalid); every other lookup was refused.
    assert notices == Counter({"invalid": 20, "throttled": 100})


def test_notice_pages_in_english(client):
    client.get("/lang/en?next=/s")
    page = client.get("/s/notice/expired")
    assert page.status_code == 410 and "The link has expired" in page.get_data(as_text=True)
    assert client.get("/s/notice/whatever").status_code == 404


def test_missing_session_gets_a_friendly_page(client):
    response = client.get("/s/form")
    assert response.status_code == 410
    assert "mở lại đường dẫn" in response.get_data(as_text=True)


def test_answers_are_kept_across_pages_and_back(
    app, client, survey, issue, page_answers, section_of
):
    s = survey()
    (issued,) = issue(s.respondents)
    client.get(f"/s/{issued.token}")
    data = {**page_answers("A", {"a5": "3", "a2": "Cấp giấy phép"}), "action": "next"}
    assert client.post("/s/form", data=data).status_code == 302
    page_b = client.get("/s/form").get_data(as_text=True)
    assert section_of(page_b) == "B"
    client.post("/s/form", data={"action": "back"})
    page_a = client.get("/s/form").get_data(as_text=True)
    assert section_of(page_a) == "A"
    assert 'value="Cấp giấy phép"' in page_a and 'value="3"' in page_a
    (a1_first,) = re.findall(r'<input[^>]*id="a1-0"[^>]*>', page_a)
    assert "checked" in a1_first


def test_errors_are_summarised_and_linked(app, client, survey, issue):
    s = survey()
    (issued,) = issue(s.respondents)
    client.get(f"/s/{issued.token}")
    response = client.post("/s/form", data={"action": "next", "a1": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in page and 'href="#a3-0"' in page
    assert 'aria-describedby="a3-error"' in page
    assert "<legend>" in page and '<label for="a1-0">' in page


def test_relevance_is_decided_on_the_server(app, client, survey, issue, fill_form):
    s = survey()
    (issued,) = issue(s.respondents)
    client.get(f"/s/{issued.token}")
    # a6 = 3 (none of the two services): B shows only b9; gb1 items posted by hand are dropped.
    fill_form(client, overrides={"a6": "3", "b9": "5", "b1": "1"})
    (stored,) = responses(app)
    assert stored.answers["b9"] == 5
    assert "b1" not in stored.answers and "a8" not in stored.answers


def test_non_relevant_section_is_skipped(app, client, survey, issue, page_answers, section_of):
    s = survey()
    (issued,) = issue(s.respondents)
    client.get(f"/s/{issued.token}")
    seen = []
    response = client.get("/s/form")
    while response.status_code == 200:
        section = section_of(response.get_data(as_text=True))
        seen.append(section)
        if section == "C":
            break
        client.post("/s/form", data={**page_answers(section, {}), "action": "next"})
        response = client.get("/s/form")
    assert seen == ["A", "B", "C"]


def test_language_switch_keeps_this_pages_answers(app, client, survey, issue):
    s = survey()
    (issued,) = issue(s.respondents)
    client.get(f"/s/{issued.token}")
    response = client.post("/s/form", data={"a1": "2", "a2": "Hộ tịch", "action": "lang-en"})
    assert response.status_code == 302
    page = client.get("/s/form").get_data(as_text=True)
    assert 'lang="en"' in page and "Next" in page
    assert 'value="Hộ tịch"' in page
    client.post("/s/form", data={"action": "lang-vi"})
    assert 'lang="vi"' in client.get("/s/form").get_data(as_text=True)


def test_several_rated_units_are_answered_in_turn(app, client, survey, issue, factory, fill_form):
    other = factory.unit(name="Sở Tư pháp")
    third = factory.unit(name="Sở Xây dựng")
    s = survey(targets=(other, third))
    (issued,) = issue(s.respondents)
    client.get(f"/s/{issued.token}")
    first = fill_form(client)
    assert first.headers["Location"] == "/s/form"  # the next unit
    page = client.get("/s/form").get_data(as_text=True)
    assert "Sở Xây dựng" in page
    assert fill_form(client).headers["Location"].endswith("/s/thanks")
    assert sorted(r.rated_unit_id for r in responses(app)) == sorted([other.id, third.id])
    assert client.get(f"/s/{issued.token}", follow_redirects=True).status_code == 409


def test_letter_reprinted_while_answering_ends_the_old_form(app, client, survey, issue, fill_form):
    s = survey()
    (old,) = issue(s.respondents)
    client.get(f"/s/{old.token}")
    issue(s.respondents)
    final = fill_form(client)
    assert final.status_code == 404
    assert "thư mới nhất" in final.get_data(as_text=True)
    assert responses(app) == []


def test_drafts_of_a_campaign_can_be_deleted(app, client, survey, issue):
    from surveyapp.citizen.drafts import delete_drafts
    from surveyapp.models.drafts import FormDraft

    s = survey(respondents=2)
    for item in issue(s.respondents):
        app.test_client().get(f"/s/{item.token}")
    with app.app_context():
        assert delete_drafts(s.campaign.id) == 2
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(FormDraft.id))) == 0


@pytest.mark.app_config(REDIS_URL=REDIS_URL, TOKEN_LOOKUP_LIMIT=2, TOKEN_LOOKUP_OVERFLOW_LIMIT=0)
def test_rate_limit_uses_redis_when_configured(app, client, survey, issue):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable: {error}")
    s = survey()
    (issued,) = issue(s.respondents)
    address = {"REMOTE_ADDR": "10.1.2.7"}
    for n in range(2):
        assert (
            client.get(f"/s/bad{n}", environ_base=address, follow_redirects=True).status_code == 404
        )
    assert (
        client.get(f"/s/{issued.token}", environ_base=address, follow_redirects=True).status_code
        == 429
    )
    # Counted in Redis under this app's prefix (the same counters for every process).
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    assert redis.Redis.from_url(REDIS_URL).keys(f"{prefix}:*")
