"""Fieldwork: assignments, record checks, contact attempts, interviews, paper entry,
back-checks."""

import datetime as dt

import pytest
import sqlalchemy as sa

from questionnaires import build_form_class, load_builtin
from surveyapp.fieldwork import operations as ops
from surveyapp.models import (
    ContactAttempt,
    ContactOutcome,
    Draw,
    Respondent,
    RespondentStatus,
    Response,
    Selection,
)
from surveyapp.models.users import Role


def make_sample(factory, campaign, unit, stratum="S1", primaries=3, reserves=2, **kw):
    """A draw's respondents for one stratum (names and phones made up)."""
    draw = kw.pop("draw", None) or factory.add(Draw(campaign_id=campaign.id, design={}))
    rows = [
        Respondent(
            draw_id=draw.id,
            campaign_id=campaign.id,
            source_unit_id=unit.id,
            respondent_group="citizen",
            stratum=stratum,
            selection=Selection.PRIMARY if i < primaries else Selection.RESERVE,
            reserve_rank=None if i < primaries else i - primaries + 1,
            inclusion_prob=0.1,
            weight=10.0,
            full_name=f"Trần Thị {stratum} {i}",
            phone=f"0912{unit.id:03d}{i:03d}",
            address=f"{i} Lê Lợi, Vũng Tàu",
            **kw,
        )
        for i in range(primaries + reserves)
    ]
    return list(factory.add(*rows)) if len(rows) > 1 else [factory.add(*rows)]


def valid_answers(questionnaire) -> dict:
    """First choice of every question (a complete, valid SIPAS form)."""
    form = build_form_class(questionnaire, "vi")()
    answers = {}
    for names in type(form).answer_fields.values():
        for name in names:
            field = form[name]
            if type(field).__name__ == "CodeRadioField":
                answers[name] = str(field.choices[0].value)
    answers["a5"] = "1"
    return answers


@pytest.fixture
def fieldwork(factory):
    unit = factory.unit(code="XA01", name="UBND phường 1")
    campaign = factory.campaign(code="2024", status="fieldwork")
    factory.instrument(campaign)
    return campaign, unit, make_sample(factory, campaign, unit)


def assign_to(db_session, respondent_ids, user):
    with db_session() as s:
        s.execute(
            sa.update(Respondent)
            .where(Respondent.id.in_(respondent_ids))
            .values(assigned_enumerator_id=user.id)
        )


def reload(db_session, respondent_id):
    with db_session() as s:
        r = s.get(Respondent, respondent_id)
        s.expunge(r)
        return r


# --- record checks -----------------------------------------------------------------------------


def test_enumerator_sees_only_their_assignments(client, login, factory, fieldwork, db_session):
    _, _, people = fieldwork
    other = factory.user(role="enumerator")
    me = login(Role.ENUMERATOR)
    assign_to(db_session, [people[0].id], me)
    assign_to(db_session, [people[1].id], other)

    page = client.get("/fieldwork/mine").get_data(as_text=True)
    assert people[0].full_name in page and people[0].phone in page
    assert people[1].full_name not in page and people[2].full_name not in page

    assert client.get(f"/fieldwork/respondents/{people[0].id}").status_code == 200
    for path in (
        f"/fieldwork/respondents/{people[1].id}",
        f"/fieldwork/respondents/{people[2].id}",
    ):
        assert client.get(path).status_code == 403
        assert client.get(path + "/interview").status_code == 403
    refused = client.post(
        f"/fieldwork/respondents/{people[1].id}/attempts",
        data={"attempt-mode": "phone", "attempt-disposition": "refusal"},
    )
    assert refused.status_code == 403
    assert reload(db_session, people[1].id).status == RespondentStatus.PENDING


@pytest.mark.parametrize("role", [Role.FOCAL_POINT, Role.CLERK])
def test_focal_points_and_clerks_see_no_respondent(client, login, fieldwork, role):
    campaign, unit, people = fieldwork
    login(role)
    for path in (
        "/fieldwork/",
        f"/fieldwork/campaigns/{campaign.id}",
        f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}",
        f"/fieldwork/respondents/{people[0].id}",
        f"/fieldwork/campaigns/{campaign.id}/backchecks",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert people[0].full_name not in response.get_data(as_text=True)


# --- assignments ---------------------------------------------------------------------------------


def test_bulk_assign_takes_the_next_pending_primaries(
    client, login, factory, fieldwork, db_session
):
    campaign, unit, people = fieldwork
    enumerator = factory.user(role="enumerator", full_name="Lê Văn Điều")
    with db_session() as s:  # a letter was sent: still to be assigned
        s.get(Respondent, people[1].id).status = RespondentStatus.INVITED
    login(Role.SUPERVISOR)
    form = {"next-unit_id": unit.id, "next-stratum": "", "next-enumerator_id": enumerator.id}
    response = client.post(
        f"/fieldwork/campaigns/{campaign.id}/assign-next", data={**form, "next-count": 2}
    )
    assert response.status_code == 302
    assigned = [reload(db_session, p.id).assigned_enumerator_id for p in people]
    assert assigned == [enumerator.id, enumerator.id, None, None, None]

    # Next call: the third primary; unreleased reserves are never assigned.
    client.post(f"/fieldwork/campaigns/{campaign.id}/assign-next", data={**form, "next-count": 5})
    assigned = [reload(db_session, p.id).assigned_enumerator_id for p in people]
    assert assigned == [enumerator.id] * 3 + [None, None]

    response = client.post(
        f"/fieldwork/campaigns/{campaign.id}/assign-next",
        data={**form, "next-count": 1},
        follow_redirects=True,
    )
    assert "Không còn ai chờ giao" in response.get_data(as_text=True)


def test_bulk_assign_form_errors_are_reshown(client, login, factory, fieldwork):
    campaign, unit, _ = fieldwork
    enumerator = factory.user(role="enumerator")
    login(Role.SUPERVISOR)
    response = client.post(
        f"/fieldwork/campaigns/{campaign.id}/assign-next",
        data={"next-unit_id": unit.id, "next-count": "0", "next-enumerator_id": enumerator.id},
    )
    assert response.status_code == 422
    assert "Từ 1 đến 10000" in response.get_data(as_text=True)


def test_assign_and_reassign_individually(client, login, factory, fieldwork, db_session):
    campaign, unit, people = fieldwork
    first, second = factory.user(role="enumerator"), factory.user(role="enumerator")
    login(Role.SUPERVISOR)
    url = f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}/assign"
    client.post(url, data={"sel-respondent_ids": [people[0].id], "sel-enumerator_id": first.id})
    assert reload(db_session, people[0].id).assigned_enumerator_id == first.id
    client.post(url, data={"sel-respondent_ids": [people[0].id], "sel-enumerator_id": second.id})
    assert reload(db_session, people[0].id).assigned_enumerator_id == second.id
    client.post(url, data={"sel-respondent_ids": [people[0].id], "sel-enumerator_id": 0})
    assert reload(db_session, people[0].id).assigned_enumerator_id is None
    # Nobody selected: re-shown with a message.
    response = client.post(url, data={"sel-enumerator_id": first.id})
    assert response.status_code == 422
    # Only enumerators can receive work.
    clerk = factory.user(role="clerk")
    response = client.post(
        url, data={"sel-respondent_ids": [people[0].id], "sel-enumerator_id": clerk.id}
    )
    assert response.status_code == 422
    assert reload(db_session, people[0].id).assigned_enumerator_id is None


def test_admin_sees_fieldwork_but_cannot_assign(client, login, factory, fieldwork):
    campaign, unit, people = fieldwork
    login(Role.ADMIN)
    page = client.get(f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}")
    assert page.status_code == 200 and people[0].full_name in page.get_data(as_text=True)
    response = client.post(f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}/assign")
    assert response.status_code == 403


# --- contact attempts ------------------------------------------------------------------------------


def post_attempt(client, respondent, disposition, mode="phone", note=""):
    return client.post(
        f"/fieldwork/respondents/{respondent.id}/attempts",
        data={
            "attempt-mode": mode,
            "attempt-disposition": disposition,
            "attempt-note": note,
        },
    )


@pytest.mark.app_config(FIELDWORK_MAX_NONCONTACTS=3)
def test_three_non_contacts_make_a_noncontact(client, login, fieldwork, db_session):
    _, _, people = fieldwork
    me = login(Role.ENUMERATOR)
    assign_to(db_session, [people[0].id], me)
    for expected in ("contacted", "contacted", "noncontact"):
        assert post_attempt(client, people[0], "no_answer").status_code == 302
        assert reload(db_session, people[0].id).status == expected
    # A finalised case takes no more attempts.
    assert post_attempt(client, people[0], "no_answer").status_code == 409
    with db_session() as s:
        attempts = s.scalars(
            sa.select(ContactAttempt).where(ContactAttempt.respondent_id == people[0].id)
        ).all()
        assert [a.outcome for a in attempts] == [ContactOutcome.NONCONTACT] * 3
        assert all(a.by_user_id == me.id for a in attempts)


@pytest.mark.app_config(FIELDWORK_MAX_NONCONTACTS=2)
def test_max_attempts_is_configurable_and_callbacks_do_not_count(
    client, login, fieldwork, db_session
):
    _, _, people = fieldwork
    me = login(Role.ENUMERATOR)
    assign_to(db_session, [people[0].id], me)
    post_attempt(client, people[0], "appointment")
    post_attempt(client, people[0], "wrong_number")
    assert reload(db_session, people[0].id).status == RespondentStatus.CONTACTED
    post_attempt(client, people[0], "moved", mode="visit")
    person = reload(db_session, people[0].id)
    assert person.status == RespondentStatus.NONCONTACT
    # Reached once (appointment): an eligible non-contact, not unknown eligibility.
    assert person.disposition == "appointment"


@pytest.mark.parametrize(
    ("disposition", "status"),
    [("refusal", "refused"), ("breakoff", "refused"), ("ineligible", "ineligible")],
)
def test_final_outcomes(client, login, fieldwork, db_session, disposition, status):
    _, _, people = fieldwork
    login(Role.SUPERVISOR)  # supervisors may record attempts too
    assert post_attempt(client, people[0], disposition, note="=HYPERLINK()").status_code == 302
    assert reload(db_session, people[0].id).status == status
    page = client.get(f"/fieldwork/respondents/{people[0].id}").get_data(as_text=True)
    assert "=HYPERLINK()" in page


def test_completed_is_not_a_hand_recorded_result(client, login, fieldwork, db_session):
    _, _, people = fieldwork
    login(Role.SUPERVISOR)
    assert post_attempt(client, people[0], "complete").status_code == 422
    assert post_attempt(client, people[0], "bogus").status_code == 422
    unchosen = post_attempt(client, people[0], "")
    assert unchosen.status_code == 422
    assert "Chọn kết quả lần liên hệ" in unchosen.get_data(as_text=True)
    assert reload(db_session, people[0].id).status == RespondentStatus.PENDING


def test_no_attempts_once_the_campaign_is_closed(app, factory, db_session):
    unit = factory.unit()
    campaign = factory.campaign(status="closed")
    person = make_sample(factory, campaign, unit, primaries=1, reserves=0)[0]
    with db_session() as s:
        respondent = s.get(Respondent, person.id)
        with pytest.raises(ops.FieldworkError, match="closed"):
            ops.record_attempt(respondent, mode="phone", disposition="refusal", by_user=None)


# --- interviews and paper forms ----------------------------------------------------------------------


def test_enumerator_interview_completes_the_case(client, login, fieldwork, db_session):
    _, unit, people = fieldwork
    me = login(Role.ENUMERATOR)
    assign_to(db_session, [people[0].id], me)
    url = f"/fieldwork/respondents/{people[0].id}/interview"
    page = client.get(url)
    assert page.status_code == 200
    assert "<fieldset" in page.get_data(as_text=True)

    incomplete = client.post(url, data={"a1": "1"})
    assert incomplete.status_code == 422
    assert "Vui lòng trả lời câu hỏi này" in incomplete.get_data(as_text=True)
    assert reload(db_session, people[0].id).status == RespondentStatus.PENDING

    answers = valid_answers(load_builtin("sipas-citizen", "2024"))
    assert client.post(url, data=answers).status_code == 302
    person = reload(db_session, people[0].id)
    assert person.status == RespondentStatus.COMPLETED
    assert person.disposition == "complete"
    with db_session() as s:
        response = s.scalars(sa.select(Response)).one()
        assert response.mode == "enumerator" and response.rated_unit_id == unit.id
        assert response.weight == 10.0 and response.answers["a1"] == 1
        completing = s.scalars(
            sa.select(ContactAttempt).where(ContactAttempt.outcome == ContactOutcome.COMPLETED)
        ).one()
        assert completing.by_user_id == me.id
        # No more precise than the response's week (Monday, midnight).
        assert completing.attempted_at.date() == response.submitted_week
        assert completing.attempted_at.time() == dt.time(0, 0)
    # Entering it again is refused: one response per respondent.
    assert client.get(url).status_code == 409
    with db_session() as s:
        assert s.scalar(sa.select(sa.func.count(Response.id))) == 1


def test_clerk_keys_in_a_paper_form_by_its_code(app, client, login, fieldwork, db_session):
    from surveyapp.core.codes import format_code, generate_code, hash_code

    _, _, people = fieldwork
    with app.app_context():
        code = generate_code()
        code_hash = hash_code(code)
    with db_session() as s:
        s.get(Respondent, people[1].id).short_code_hash = code_hash
    login(Role.CLERK)

    wrong = client.post("/fieldwork/paper", data={"code": "ABCDE-FGHJK"})
    assert wrong.status_code == 422
    # The form is reached only through the code, never by address.
    assert client.get("/fieldwork/paper/form").status_code == 302

    found = client.post("/fieldwork/paper", data={"code": format_code(code).lower()})
    assert found.status_code == 302 and found.headers["Location"].endswith("/fieldwork/paper/form")
    page = client.get("/fieldwork/paper/form").get_data(as_text=True)
    assert people[1].full_name not in page and people[1].phone not in page
    assert people[1].address not in page

    answers = valid_answers(load_builtin("sipas-citizen", "2024"))
    assert client.post("/fieldwork/paper/form", data=answers).status_code == 302
    assert reload(db_session, people[1].id).status == RespondentStatus.COMPLETED
    with db_session() as s:
        assert s.scalars(sa.select(Response.mode)).all() == ["paper"]
    # Done: the next form needs its own code.
    assert client.get("/fieldwork/paper/form").status_code == 302


# --- back-checks ------------------------------------------------------------------------------------


def complete_interviews(db_session, people, enumerator):
    with db_session() as s:
        for p in people:
            s.get(Respondent, p.id).status = RespondentStatus.COMPLETED
            s.add(
                ContactAttempt(
                    respondent_id=p.id,
                    mode="visit",
                    outcome=ContactOutcome.COMPLETED,
                    disposition="complete",
                    by_user_id=enumerator.id,
                )
            )


def test_backcheck_draws_a_share_per_enumerator_reproducibly(client, login, factory, db_session):
    unit = factory.unit()
    campaign = factory.campaign(status="fieldwork")
    people = make_sample(factory, campaign, unit, primaries=13, reserves=0)
    first, second = factory.user(role="enumerator"), factory.user(role="enumerator")
    complete_interviews(db_session, people[:10], first)
    complete_interviews(db_session, people[10:], second)
    login(Role.SUPERVISOR)
    url = f"/fieldwork/campaigns/{campaign.id}/backchecks"
    assert client.post(url, data={"percent": "20", "seed": "2024"}).status_code == 302
    assert client.post(url, data={"percent": "20", "seed": "2024"}).status_code == 302
    with db_session() as s:
        from surveyapp.models.respondents import BackcheckDraw

        draws = s.scalars(sa.select(BackcheckDraw).order_by(BackcheckDraw.id)).all()
        chosen = draws[0].respondent_ids
        assert draws[1].respondent_ids == chosen  # same seed, same list
        by_first = [i for i in chosen if i in {p.id for p in people[:10]}]
        by_second = [i for i in chosen if i in {p.id for p in people[10:]}]
        assert len(by_first) == 2 and len(by_second) == 1  # ceil(20% of 10), ceil(20% of 3)
    page = client.get(url).get_data(as_text=True)
    named = [p for p in people if p.id in chosen]
    assert all(p.full_name in page for p in named)
    assert client.post(url, data={"percent": "0"}).status_code == 422


def test_backcheck_sample_differs_with_the_seed():
    import numpy as np

    interviews = {7: list(range(100)), 9: list(range(100, 140))}
    a = ops.backcheck_sample(interviews, 0.1, np.random.default_rng(1))
    b = ops.backcheck_sample(interviews, 0.1, np.random.default_rng(2))
    assert len(a) == len(b) == 14 and a != b
    assert len(set(a)) == 14
    assert sum(1 for i in a if i >= 100) == 4


def test_attempt_time_is_typed_in_local_time(client, login, fieldwork, db_session):
    _, _, people = fieldwork
    login(Role.SUPERVISOR)
    url = f"/fieldwork/respondents/{people[0].id}/attempts"
    data = {"attempt-mode": "visit", "attempt-disposition": "appointment"}
    response = client.post(url, data={**data, "attempt-attempted_at": "2024-09-10T09:30"})
    assert response.status_code == 302
    with db_session() as s:
        attempt = s.scalars(sa.select(ContactAttempt)).one()
        assert attempt.attempted_at == dt.datetime(2024, 9, 10, 2, 30)  # UTC+7 → UTC
    page = client.get(f"/fieldwork/respondents/{people[0].id}").get_data(as_text=True)
    assert "10/09/2024 09:30 (UTC+7)" in page
    future = client.post(url, data={**data, "attempt-attempted_at": "2999-01-01T08:00"})
    assert future.status_code == 422
    assert "tương lai" in future.get_data(as_text=True)


def test_guessing_paper_codes_is_throttled(app, client, login, fieldwork):
    login(Role.CLERK)
    limit = app.config["PAPER_CODE_LIMIT"]
    statuses = [
        client.post("/fieldwork/paper", data={"code": "ABCDE-FGHJK"}).status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:-1] == [422] * limit
    assert statuses[-1] == 429


# --- a long unit list is paged ---------------------------------------------------------------


def test_unit_page_is_paged_and_pages_keep_the_filters(client, login, factory):
    import html
    import re

    from surveyapp.fieldwork.routes import PER_PAGE

    unit = factory.unit(code="VT", name="Thành phố Vũng Tàu")
    campaign = factory.campaign(status="fieldwork")
    people = make_sample(factory, campaign, unit, stratum="S1", primaries=PER_PAGE + 10, reserves=0)
    make_sample(factory, campaign, unit, stratum="S2", primaries=4, reserves=0)
    login(Role.SUPERVISOR)
    url = f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}"

    def shown(page):
        return re.findall(r'href="/fieldwork/respondents/(\d+)"', page)

    first = client.get(url).get_data(as_text=True)
    assert len(shown(first)) == PER_PAGE
    assert f"1–{PER_PAGE} / {PER_PAGE + 14}" in first
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert len(shown(second)) == 14
    assert not set(shown(first)) & set(shown(second))
    assert shown(client.get(url + "?page=99").get_data(as_text=True)) == shown(second)

    filtered = client.get(url + "?status=pending&stratum=S1").get_data(as_text=True)
    assert len(shown(filtered)) == PER_PAGE
    links = {html.unescape(h) for h in re.findall(r'href="([^"]*page=2[^"]*)"', filtered)}
    assert links and all("status=pending" in h and "stratum=S1" in h for h in links)
    last = client.get(next(iter(links))).get_data(as_text=True)
    assert len(shown(last)) == 10 and "S2" not in "".join(re.findall(r"<td>S\d</td>", last))
    assert {str(p.id) for p in people[PER_PAGE:]} == set(shown(last))

    only_s2 = client.get(url + "?stratum=S2").get_data(as_text=True)
    assert len(shown(only_s2)) == 4 and "page=2" not in only_s2


def test_strata_are_shown_by_unit_name_and_group_label(client, login, factory):
    """A stratum's key ("VT | citizen") never reaches a page raw: its unit's name and its
    group's label in the visitor's language, on the unit's fieldwork and letters pages."""
    unit = factory.unit(code="VT", name="Thành phố Vũng Tàu")
    campaign = factory.campaign(status="fieldwork")
    make_sample(factory, campaign, unit, stratum="VT | citizen", primaries=2, reserves=1)
    make_sample(factory, campaign, unit, stratum="VT | organisation", primaries=1, reserves=1)
    login(Role.SUPERVISOR)
    for url in (
        f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}",
        f"/tokens/{campaign.id}/units/{unit.id}",
        f"/fieldwork/campaigns/{campaign.id}",  # the batch assignment's stratum list
    ):
        page = client.get(url).get_data(as_text=True)
        assert "Thành phố Vũng Tàu · Người dân" in page, url
        assert "VT | citizen</" not in page and "VT | citizen /" not in page, url
        assert ": 1</span>" not in page or "Thành phố Vũng Tàu · Tổ chức: 1</span>" in page
    client.get("/lang/en")
    page = client.get(f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}").get_data(as_text=True)
    assert "Thành phố Vũng Tàu · Citizens" in page and "Thành phố Vũng Tàu · Organisations" in page
