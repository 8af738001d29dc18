"""Responses cannot be linked to a person: schema, ids, stored values, drafts."""

import json
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import Respondent
from surveyapp.models.responses import Response

PERSON_TABLES = {"respondents", "respondent_targets", "users", "contact_attempts", "form_drafts"}


def test_responses_table_references_no_person_token_or_time(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        columns = {c["name"]: c for c in inspector.get_columns("responses")}
        foreign = inspector.get_foreign_keys("responses")
    assert {fk["referred_table"] for fk in foreign} <= {"campaigns", "units"}
    assert not {fk["referred_table"] for fk in foreign} & PERSON_TABLES
    for name in columns:
        assert not any(
            word in name for word in ("respondent_id", "token", "user", "ip", "agent", "_at")
        ), name
    # Only a week, never a time of day.
    assert "submitted_week" in columns
    assert not [c for c in columns.values() if isinstance(c["type"], sa.DateTime)]


def test_response_ids_are_random_not_sequential(app, client, survey, issue, fill_form):
    s = survey(respondents=4)
    for item in issue(s.respondents):
        citizen = app.test_client()
        citizen.get(f"/s/{item.token}")
        fill_form(citizen)
    with app.app_context():
        ids = db.session.scalars(sa.select(Response.id)).all()
    assert len(ids) == 4
    assert all(isinstance(i, uuid.UUID) and i.version == 4 for i in ids)
    as_ints = sorted(i.int for i in ids)
    steps = {b - a for a, b in zip(as_ints, as_ints[1:], strict=False)}
    assert 1 not in steps


def test_stored_response_holds_nothing_personal(app, client, survey, issue, fill_form):
    s = survey()
    (item,) = issue(s.respondents)
    client.get(f"/s/{item.token}")
    fill_form(client)
    with app.app_context():
        (row,) = db.session.execute(sa.select(Response.__table__)).mappings().all()
        person = db.session.get(Respondent, s.respondents[0].id)
        text = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
        for secret in (item.token, person.token_hash, person.full_name, person.phone, "127.0.0.1"):
            assert secret not in text
        assert set(row) == {
            "id",
            "campaign_id",
            "questionnaire_id",
            "questionnaire_version",
            "rated_unit_id",
            "respondent_group",
            "stratum",
            "weight",
            "mode",
            "is_probability",
            "submitted_week",
            "answers",
        }
        # The draft (which did reference the respondent) is gone with the submit.
        assert db.session.scalar(sa.select(sa.func.count(FormDraft.id))) == 0
        # The respondent keeps a status, nothing pointing to the response.
        assert person.status.value == "completed"
        respondent_columns = {c["name"] for c in sa.inspect(db.engine).get_columns("respondents")}
        assert not [c for c in respondent_columns if "response" in c]


# --- the database itself: transaction ids and row order (PostgreSQL) --------------------------

CLAIMS = 200
BOX = 10
COMPLETE = {
    "a1": 1, "a3": 2, "a5": 1, "a6": 3, "a7": 1, "b9": 5, "f1": 2, "g1": 4,
    **{f"{s}{i}": 4 for s, n in (("c", 4), ("d", 6), ("e", 4)) for i in range(1, n + 1)},
}  # fmt: skip
# Spearman's rho of two independent orders of n items has mean 0 and standard deviation
# 1/sqrt(n - 1) (0.071 for n = 200); 4 standard deviations are crossed by chance about
# once in 16,000 runs. The shuffles use the operating system's random source (a fixed
# seed would make them guessable), so the bound, not a seed, keeps the test stable.
RHO_BOUND = 4 / (CLAIMS - 1) ** 0.5


def _postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("transaction ids (xmin) and row positions (ctid) are PostgreSQL's")


def _claim_numbers(order_by: str) -> list[int]:
    """The claim number each response carries in its free text, in the given row order."""
    rows = db.session.execute(sa.text(f"SELECT answers FROM responses ORDER BY {order_by}"))
    answers = [json.loads(a) if isinstance(a, str) else a for (a,) in rows]
    return [int(a["k2"].split()[-1]) for a in answers]


def _xmins(table: str) -> list[int]:
    return [int(x) for (x,) in db.session.execute(sa.text(f"SELECT xmin::text FROM {table}"))]


@pytest.mark.app_config(BALLOT_BOX_SIZE=BOX)
def test_no_transaction_id_or_row_order_links_a_response_to_its_respondent(
    app, backend, survey, issue
):
    from scipy.stats import spearmanr

    from surveyapp.campaigns.lifecycle import transition
    from surveyapp.db import transaction
    from surveyapp.models import Ballot, Campaign, CampaignStatus
    from surveyapp.responses.operations import record_response

    _postgres_only(backend)
    s = survey(respondents=CLAIMS)
    issued = issue(s.respondents)
    with app.app_context():
        for number, item in enumerate(issued):  # one transaction per submit, as a request
            with transaction():
                record_response(
                    respondent=item.respondent_id, token=item.token, unit=s.unit.id,
                    answers={**COMPLETE, "k2": f"claim {number}"}, mode="web",
                )  # fmt: skip
        # During fieldwork: every response shares its transaction id with its whole batch
        # and with no respondent; fewer than two batches wait in the box, sealed.
        respondents, responses = set(_xmins("respondents")), _xmins("responses")
        assert len(respondents) == CLAIMS  # each claim is a transaction of its own
        assert not respondents & set(responses)
        batches = Counter(responses)
        assert min(batches.values()) >= BOX, batches
        waiting = db.session.scalar(sa.select(sa.func.count(Ballot.id)))
        assert waiting + len(responses) == CLAIMS and waiting < 2 * BOX
        sealed = db.session.scalars(sa.select(Ballot.sealed)).all()
        assert all(b"claim" not in ballot for ballot in sealed)
        assert len({len(ballot) for ballot in sealed}) == 1  # padded: sizes alike

        with transaction():
            transition(db.session.get(Campaign, s.campaign.id), CampaignStatus.CLOSED)
        # Closed: every answer is out of the box, all rows carry one transaction id, and
        # neither the physical order nor the id order follows the order of the claims.
        assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0
        assert len(set(_xmins("responses"))) == 1
        physical = _claim_numbers("ctid")
        assert sorted(physical) == list(range(CLAIMS))
        rho_physical = spearmanr(physical, range(CLAIMS)).statistic
        rho_ids = spearmanr(_claim_numbers("id"), range(CLAIMS)).statistic
    assert abs(rho_physical) < RHO_BOUND, rho_physical
    assert abs(rho_ids) < RHO_BOUND, rho_ids


@pytest.mark.app_config(BALLOT_BOX_SIZE=2)
def test_interviews_and_paper_forms_leave_no_link_either(app, backend, survey, factory):
    """Entered by a named enumerator or clerk: the case's contact attempt says who and when,
    the response is in a batch of its own (its transaction id is no respondent's and no
    attempt's)."""
    from surveyapp.db import transaction
    from surveyapp.fieldwork.operations import note_interview
    from surveyapp.models import ContactMode, Respondent, User
    from surveyapp.responses.operations import record_response

    _postgres_only(backend)
    s = survey(respondents=8)
    staff = {"enumerator": factory.user(role="enumerator"), "paper": factory.user(role="clerk")}
    with app.app_context():
        for number, person in enumerate(s.respondents):
            mode = "enumerator" if number % 2 else "paper"
            with transaction():
                respondent = db.session.get(Respondent, person.id)
                record_response(respondent=respondent, unit=s.unit.id, answers=COMPLETE, mode=mode)
                note_interview(respondent, db.session.get(User, staff[mode].id), ContactMode.VISIT)
        assert db.session.scalar(sa.text("SELECT count(*) FROM contact_attempts")) == 4
        people = set(_xmins("respondents")) | set(_xmins("contact_attempts"))
        responses = _xmins("responses")
        assert len(responses) >= 4 and not people & set(responses)
        assert min(Counter(responses).values()) >= 2


@pytest.mark.app_config(BALLOT_BOX_SIZE=BOX)
def test_answers_wait_in_the_box_until_a_batch_is_full_or_the_campaign_closes(app, survey, issue):
    from surveyapp.campaigns.lifecycle import transition
    from surveyapp.db import transaction
    from surveyapp.models import Ballot, Campaign, CampaignStatus, Response
    from surveyapp.responses.operations import record_response
    from surveyapp.results.operations import ResultsError, scoring_inputs

    s = survey(respondents=3)
    with app.app_context():
        for item in issue(s.respondents):
            with transaction():
                record_response(
                    respondent=item.respondent_id, token=item.token, unit=s.unit.id,
                    answers={**COMPLETE, "k2": "Tốt"}, mode="web",
                )  # fmt: skip
        assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 3
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 0
        with pytest.raises(ResultsError, match="besides 3 still in the ballot box"):
            scoring_inputs(db.session.get(Campaign, s.campaign.id))
        with transaction():
            transition(db.session.get(Campaign, s.campaign.id), CampaignStatus.CLOSED)
        assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 0
        answers = db.session.scalars(sa.select(Response.answers)).all()
        assert len(answers) == 3 and all(a["k2"] == "Tốt" for a in answers)


@pytest.mark.app_config(BALLOT_BOX_SIZE=2)
def test_interim_results_say_how_many_answers_wait_in_the_box(app, survey, issue, client, login):
    """Five answers, box of 2: one batch of 2 is out, 3 wait. A scoring run counts the 2 and
    its page (and the command line) says that 3 answers received are not counted yet."""
    from surveyapp.db import transaction
    from surveyapp.models import Ballot, Campaign
    from surveyapp.responses.operations import record_response
    from surveyapp.results.runs import start_run

    s = survey(respondents=5)
    with app.app_context():
        for item in issue(s.respondents):
            with transaction():
                record_response(
                    respondent=item.respondent_id, token=item.token, unit=s.unit.id,
                    answers=COMPLETE, mode="web",
                )  # fmt: skip
        assert db.session.scalar(sa.select(sa.func.count(Ballot.id))) == 3
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 2
        with transaction():
            run = start_run(db.session.get(Campaign, s.campaign.id), min_n=1)
        run_id, code = run.id, s.campaign.code
    login("admin")
    page = client.get(f"/results/{s.campaign.id}/runs/{run_id}")
    assert page.status_code == 200
    assert "3 phiếu đã nhận còn trong hòm phiếu chưa được tính" in page.text
    out = app.test_cli_runner().invoke(
        args=["results", "score", "--campaign", code, "--out", str(app.instance_path) + "/x"]
    )
    assert out.exit_code == 0, out.output
    assert "3 phiếu còn trong hòm phiếu chưa được tính" in out.output
