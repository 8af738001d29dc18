"""Closing stops web answers; interviews and paper forms in hand are entered until the
data-entry deadline, wait in the ballot box, and join the results when data entry ends;
a refused save keeps what was typed (issue 10.5)."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from questionnaires import load_builtin
from questionnaires.model import QuestionType
from surveyapp.core.codes import generate_code, hash_code
from surveyapp.models import Campaign, Draw, Respondent, RespondentStatus, Response
from surveyapp.models.audit import AuditEvent
from surveyapp.models.drafts import FormDraft
from surveyapp.models.responses import Ballot
from surveyapp.models.users import Role
from surveyapp.responses.operations import today

SIPAS = ("sipas-citizen", "2025")


def typed_answers(overrides=None) -> dict:
    """A valid answer to every question of SIPAS 2025 (a6 = 1: in person)."""
    questionnaire = load_builtin(*SIPAS)
    overrides = {"a6": "1", "k2": "Cán bộ hướng dẫn tận tình", **(overrides or {})}
    data = {}
    for q in questionnaire.questions():
        for code in q.answer_codes():
            if code in overrides:
                data[code] = overrides[code]
            elif q.type is QuestionType.MULTIPLE:
                data[code] = [str(q.choices[0].code)]
            elif q.type.has_choices:
                data[code] = str(q.choices[-1].code)
            elif q.type is QuestionType.NUMBER:
                data[code] = str(int(q.minimum if q.minimum is not None else 1))
            elif q.type is QuestionType.DATE:
                data[code] = "2026-05-02"
            else:
                data[code] = "Góp ý"
    return data


@pytest.fixture
def campaign_in_fieldwork(app, factory):
    """A campaign in fieldwork with four sampled citizens, each with a paper-form code."""
    unit = factory.unit(code="XA01", name="UBND phường Bến Thành")
    with app.app_context():
        now = today()
    campaign = factory.campaign(
        code="2026",
        status="fieldwork",
        period_start=now - dt.timedelta(days=60),
        period_end=now,
    )
    factory.instrument(campaign, "citizen", *SIPAS)
    draw = factory.add(Draw(campaign_id=campaign.id, design={}, locked=True))
    people, codes = [], []
    with app.app_context():
        codes = [generate_code() for _ in range(4)]
        hashes = [hash_code(code) for code in codes]
    for n, code_hash in enumerate(hashes):
        people.append(
            factory.add(
                Respondent(
                    draw_id=draw.id,
                    campaign_id=campaign.id,
                    source_unit_id=unit.id,
                    respondent_group="citizen",
                    stratum="XA01/citizen",
                    selection="primary",
                    inclusion_prob=0.5,
                    weight=2.0,
                    status="invited",
                    full_name=f"Lê Thị {chr(65 + n)}",
                    short_code_hash=code_hash,
                )
            )
        )
    return campaign, people, codes


def counts(db_session) -> tuple[int, int]:
    with db_session() as s:
        responses = s.scalar(sa.select(sa.func.count()).select_from(Response))
        ballots = s.scalar(sa.select(sa.func.count()).select_from(Ballot))
    return responses, ballots


def close(client, login, campaign, entry_deadline=None):
    login(Role.ADMIN)
    data = {"status": "closed", "confirm_close": "y"}
    if entry_deadline is not None:
        data["entry_deadline"] = entry_deadline.strftime("%d/%m/%Y")
    response = client.post(f"/campaigns/{campaign.id}/status", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def key_paper_form(client, code, data):
    assert client.post("/fieldwork/paper", data={"code": code}).status_code == 302
    return client.post("/fieldwork/paper/form", data=data)


def test_paper_forms_are_entered_until_the_deadline_and_wait_in_the_box(
    app, client, login, db_session, campaign_in_fieldwork
):
    campaign, people, codes = campaign_in_fieldwork
    with app.app_context():
        deadline = today() + dt.timedelta(days=5)
    close(client, login, campaign, entry_deadline=deadline)
    before = counts(db_session)
    assert before[1] == 0  # closing emptied the box

    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Phiếu phỏng vấn và phiếu giấy đã có trong tay vẫn được nhập đến hết ngày" in page
    assert deadline.strftime("%d/%m/%Y") in page

    login(Role.CLERK)
    for code in codes[:2]:
        saved = key_paper_form(client, code, typed_answers())
        assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with db_session() as s:
        statuses = [s.get(Respondent, p.id).status for p in people[:2]]
    assert statuses == [RespondentStatus.COMPLETED] * 2
    # Recorded, but not mixed in batches after closing: both wait in the box.
    assert counts(db_session) == (before[0], 2)

    login(Role.ADMIN)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert re.search(r"<strong>2</strong> phiếu đang chờ", page)
    ended = client.post(f"/campaigns/{campaign.id}/entry", data={"action": "end"})
    assert ended.status_code == 302
    assert counts(db_session) == (before[0] + 2, 0)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Đã kết thúc nhập phiếu lúc" in page
    with db_session() as s:
        actions = s.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["campaign.status", "campaign.end_entry"]
    past = client.post(
        f"/campaigns/{campaign.id}/entry",
        data={"action": "save", "entry_deadline": "01/01/2020"},
    )
    assert past.status_code == 422
    assert "Hạn nhập phiếu phải từ hôm nay trở đi" in past.get_data(as_text=True)

    # After the end, a save is refused, says why, and keeps what was typed.
    login(Role.CLERK)
    refused = key_paper_form(client, codes[2], typed_answers())
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    with app.app_context():
        ended_on = today()
    assert f"Đã hết hạn nhập phiếu (ngày {ended_on:%d/%m/%Y})" in text
    assert "giữ lại làm bản nháp" in text
    assert "Cán bộ hướng dẫn tận tình" in text
    assert counts(db_session) == (before[0] + 2, 0)


def test_a_save_after_the_deadline_is_refused_and_its_draft_comes_back(
    app, client, login, db_session, campaign_in_fieldwork
):
    campaign, people, codes = campaign_in_fieldwork
    with app.app_context():
        deadline = today() + dt.timedelta(days=2)
    close(client, login, campaign, entry_deadline=deadline)
    with db_session() as s:  # the deadline has passed
        s.get(Campaign, campaign.id).entry_deadline = today() - dt.timedelta(days=1)
        passed = s.get(Campaign, campaign.id).entry_deadline
    before = counts(db_session)

    login(Role.CLERK)
    data = typed_answers({"k2": "Thủ tục nhanh gọn, rõ ràng"})
    refused = key_paper_form(client, codes[0], data)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert f"Đã hết hạn nhập phiếu (ngày {passed:%d/%m/%Y})" in text
    assert "Thủ tục nhanh gọn, rõ ràng" in text  # the page keeps every value
    with db_session() as s:
        draft = s.scalars(sa.select(FormDraft)).one()
        assert draft.respondent_id == people[0].id and draft.token_hash is None
        assert draft.answers["k2"] == ["Thủ tục nhanh gọn, rõ ràng"]
        assert s.get(Respondent, people[0].id).status == RespondentStatus.INVITED
    assert counts(db_session) == before

    # In English too.
    client.get("/lang/en")
    refused = client.post("/fieldwork/paper/form", data=data)
    assert refused.status_code == 409
    assert f"Data entry ended on {passed:%d/%m/%Y}" in refused.get_data(as_text=True)

    # The administrator extends data entry; the clerk opens the form again: it is filled in.
    login(Role.ADMIN)
    with app.app_context():
        extended = today() + dt.timedelta(days=3)
    moved = client.post(
        f"/campaigns/{campaign.id}/entry",
        data={"action": "save", "entry_deadline": extended.strftime("%d/%m/%Y")},
    )
    assert moved.status_code == 302
    login(Role.CLERK)
    assert client.post("/fieldwork/paper", data={"code": codes[0]}).status_code == 302
    page = client.get("/fieldwork/paper/form").get_data(as_text=True)
    assert "Thủ tục nhanh gọn, rõ ràng" in page
    assert "bản nháp lúc" in page
    saved = client.post("/fieldwork/paper/form", data=data)
    assert saved.status_code == 302
    with db_session() as s:
        assert s.scalars(sa.select(FormDraft)).all() == []  # deleted with the claim
        assert s.get(Respondent, people[0].id).status == RespondentStatus.COMPLETED
    assert counts(db_session) == (before[0], 1)


def test_an_invalid_form_is_kept_as_a_draft(app, client, login, db_session, campaign_in_fieldwork):
    campaign, people, codes = campaign_in_fieldwork
    login(Role.CLERK)
    data = typed_answers({"k2": "Một góp ý dài đã gõ"})
    del data["c2"]
    refused = key_paper_form(client, codes[1], data)
    assert refused.status_code == 422
    client.get("/fieldwork/paper")  # the clerk leaves the page
    assert client.post("/fieldwork/paper", data={"code": codes[1]}).status_code == 302
    assert "Một góp ý dài đã gõ" in client.get("/fieldwork/paper/form").get_data(as_text=True)


def test_closing_without_a_deadline_ends_data_entry(
    app, client, login, db_session, campaign_in_fieldwork
):
    campaign, people, codes = campaign_in_fieldwork
    close(client, login, campaign)
    with db_session() as s:
        assert s.get(Campaign, campaign.id).entry_closed_at is not None
    login(Role.CLERK)
    refused = key_paper_form(client, codes[0], typed_answers())
    assert refused.status_code == 409
    assert "Đã hết hạn nhập phiếu" in refused.get_data(as_text=True)
    # The administrator reopens data entry: the refused form is entered after all.
    login(Role.ADMIN)
    with app.app_context():
        reopened_until = today() + dt.timedelta(days=1)
    reopened = client.post(
        f"/campaigns/{campaign.id}/entry",
        data={"action": "save", "entry_deadline": reopened_until.strftime("%d/%m/%Y")},
    )
    assert reopened.status_code == 302
    login(Role.CLERK)
    assert client.post("/fieldwork/paper", data={"code": codes[0]}).status_code == 302
    assert client.post("/fieldwork/paper/form", data=typed_answers()).status_code == 302
    assert counts(db_session)[1] == 1


def test_web_and_walkin_stop_at_closing_even_with_data_entry_open(
    app, client, login, db_session, campaign_in_fieldwork
):
    from surveyapp.responses.operations import NotAccepting, record_response

    campaign, people, codes = campaign_in_fieldwork
    with app.app_context():
        deadline = today() + dt.timedelta(days=5)
    close(client, login, campaign, entry_deadline=deadline)
    with app.app_context():
        for mode, kwargs in (
            ("web", {"respondent": people[3].id, "token": "x"}),
            ("walkin", {"campaign": campaign.id, "respondent_group": "citizen"}),
        ):
            with pytest.raises(NotAccepting) as refused:
                record_response(unit=people[3].source_unit_id, answers={}, mode=mode, **kwargs)
            assert refused.value.reason == "closed"


def test_a_past_deadline_ends_data_entry_on_the_next_visit(
    app, client, login, db_session, campaign_in_fieldwork, backend
):
    campaign, people, codes = campaign_in_fieldwork
    with app.app_context():
        deadline = today() + dt.timedelta(days=1)
    close(client, login, campaign, entry_deadline=deadline)
    login(Role.CLERK)
    for code in codes:
        assert key_paper_form(client, code, typed_answers()).status_code == 302
    responses, ballots = counts(db_session)
    assert ballots == 4
    with db_session() as s:
        s.get(Campaign, campaign.id).entry_deadline = today() - dt.timedelta(days=1)
    login(Role.SUPERVISOR)
    assert client.get(f"/campaigns/{campaign.id}").status_code == 200
    assert counts(db_session) == (responses + 4, 0)
    if backend == "postgresql":
        # Every response rewritten by the one transaction that ended data entry.
        with db_session() as s:
            xmins = s.scalars(sa.text("SELECT DISTINCT xmin::text FROM responses")).all()
        assert len(xmins) == 1


def test_end_entry_command(app, client, login, db_session, campaign_in_fieldwork):
    campaign, people, codes = campaign_in_fieldwork
    with app.app_context():
        deadline = today() + dt.timedelta(days=1)
    close(client, login, campaign, entry_deadline=deadline)
    login(Role.CLERK)
    assert key_paper_form(client, codes[0], typed_answers()).status_code == 302
    runner = app.test_cli_runner()
    due = runner.invoke(args=["campaign", "end-entry", "--due"])
    assert due.exit_code == 0 and "no campaign" in due.output
    assert counts(db_session)[1] == 1
    ended = runner.invoke(args=["campaign", "end-entry", "2026"])
    assert ended.exit_code == 0, ended.output
    assert "1 answers joined the results" in ended.output
    assert counts(db_session)[1] == 0


def test_a_scoring_run_after_the_deadline_takes_the_late_answers(
    app, client, login, db_session, campaign_in_fieldwork
):
    campaign, people, codes = campaign_in_fieldwork
    with app.app_context():
        deadline = today() + dt.timedelta(days=1)
    close(client, login, campaign, entry_deadline=deadline)
    login(Role.CLERK)
    assert key_paper_form(client, codes[0], typed_answers()).status_code == 302
    responses, ballots = counts(db_session)
    assert ballots == 1
    with db_session() as s:
        s.get(Campaign, campaign.id).entry_deadline = today() - dt.timedelta(days=1)
    login(Role.ADMIN)
    client.post(
        f"/results/{campaign.id}/run",
        data={"mapping": "hcm-2026", "min_n": "3", "k": "5"},
        content_type="multipart/form-data",
    )
    assert counts(db_session) == (responses + 1, 0)


def test_personal_data_is_not_purged_while_data_entry_is_open(
    app, client, login, db_session, campaign_in_fieldwork
):
    campaign, people, codes = campaign_in_fieldwork
    with app.app_context():
        deadline = today() + dt.timedelta(days=3)
    close(client, login, campaign, entry_deadline=deadline)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["campaign", "purge-pii", "2026", "--yes"])
    assert refused.exit_code != 0
    assert f"takes data entry until {deadline:%d/%m/%Y}" in refused.output
    with db_session() as s:
        assert s.get(Respondent, people[0].id).full_name == "Lê Thị A"
    assert runner.invoke(args=["campaign", "end-entry", "2026"]).exit_code == 0
    purged = runner.invoke(args=["campaign", "purge-pii", "2026", "--yes"])
    assert purged.exit_code == 0, purged.output
    with db_session() as s:
        assert s.get(Respondent, people[0].id).full_name is None
