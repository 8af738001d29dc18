"""record_response(): the one write path of the web form, interviews, paper and walk-ins.

The tests' ``BALLOT_BOX_SIZE`` is 0: every answer cast is mixed into ``responses`` right
after the commit (the batches themselves are tested in test_anonymity.py).
"""

import pytest
import sqlalchemy as sa

from questionnaires import AnswerError, load_builtin
from surveyapp.core.codes import hash_token
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import Respondent, RespondentTarget
from surveyapp.models.responses import Ballot, Response
from surveyapp.responses.operations import (
    AlreadyRecorded,
    NotAccepting,
    ResponseError,
    record_response,
)

COMPLETE = {
    "a1": 1, "a3": 2, "a5": 1, "a6": 3, "a7": 1, "b9": 5, "f1": 2, "g1": 4,
    **{f"{s}{i}": 4 for s, n in (("c", 4), ("d", 6), ("e", 4)) for i in range(1, n + 1)},
    "k1": [2, 3], "a2": "Hộ tịch",
}  # fmt: skip


def _counts() -> tuple[int, int, int]:
    """Responses, ballots still in the box, drafts."""
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Response, Ballot, FormDraft)
    )


def _draft(factory, person, unit_id, token_hash) -> int:
    return factory.add(
        FormDraft(
            key_hash=f"{person.id:064d}{unit_id}"[-64:],
            campaign_id=person.campaign_id,
            respondent_id=person.id,
            token_hash=token_hash,
            rated_unit_id=unit_id,
            respondent_group=person.respondent_group,
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
            step=0,
            answers={},
        )
    ).id


def test_enumerator_response_then_already_recorded(app, survey):
    s = survey()
    person = s.respondents[0]
    with app.app_context():
        with transaction():
            recorded = record_response(
                respondent=person.id, unit=s.unit.id, answers={**COMPLETE, "a2": " Hộ tịch "},
                mode="enumerator",
            )  # fmt: skip
            assert recorded.completed
            assert _counts() == (0, 1, 0)  # in the box until the commit
        row = db.session.scalars(sa.select(Response)).one()
        assert row.mode == "enumerator" and row.is_probability and row.weight == 4.0
        assert row.stratum == person.stratum and row.respondent_group == "citizen"
        assert row.answers["k1"] == [2, 3] and row.answers["a2"] == "Hộ tịch"
        assert row.submitted_week.weekday() == 0
        with pytest.raises(AlreadyRecorded), transaction():
            record_response(respondent=person.id, unit=s.unit.id, answers=COMPLETE, mode="paper")
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 1


def test_invalid_answers_are_refused_and_nothing_is_claimed(app, survey):
    s = survey()
    with app.app_context():
        with pytest.raises(AnswerError) as caught, transaction():
            record_response(
                respondent=s.respondents[0].id,
                unit=s.unit.id,
                answers={**COMPLETE, "g1": 7, "a1": None},
                mode="paper",
            )
        assert set(caught.value.problems) == {"g1", "a1"}
        assert db.session.get(Respondent, s.respondents[0].id).status.value == "pending"


def test_web_mode_needs_the_current_token(app, survey, issue):
    s = survey()
    (item,) = issue(s.respondents)
    with app.app_context():
        with pytest.raises(AlreadyRecorded), transaction():
            record_response(
                respondent=s.respondents[0].id,
                token="not-the-token",
                unit=s.unit.id,
                answers=COMPLETE,
                mode="web",
            )
        with transaction():
            record_response(
                respondent=s.respondents[0].id,
                token=item.token,
                unit=s.unit.id,
                answers=COMPLETE,
                mode="web",
            )


def test_closed_campaign_and_wrong_unit(app, survey, factory):
    s = survey(status="closed")
    with app.app_context():
        with pytest.raises(NotAccepting) as caught, transaction():
            record_response(
                respondent=s.respondents[0].id, unit=s.unit.id, answers=COMPLETE, mode="paper"
            )
        # A paper form on a closed campaign without data entry open (issue 10.5).
        assert caught.value.reason == "entry_closed"
    open_survey = survey()
    elsewhere = factory.unit()
    with app.app_context(), pytest.raises(ResponseError), transaction():
        record_response(
            respondent=open_survey.respondents[0].id,
            unit=elsewhere.id,
            answers=COMPLETE,
            mode="enumerator",
        )


def test_targets_complete_the_respondent_when_all_are_answered(app, survey, factory):
    first, second = factory.unit(), factory.unit()
    s = survey(targets=(first, second))
    person = s.respondents[0].id
    with app.app_context():
        with transaction():
            record_response(respondent=person, unit=first.id, answers=COMPLETE, mode="paper")
        assert db.session.get(Respondent, person).status.value == "pending"
        with transaction():
            record_response(respondent=person, unit=second.id, answers=COMPLETE, mode="paper")
        assert db.session.get(Respondent, person).status.value == "completed"
        statuses = db.session.scalars(sa.select(RespondentTarget.status)).all()
        assert {s.value for s in statuses} == {"completed"}


def test_walkin_mode(app, survey):
    s = survey(respondents=0)
    with app.app_context():
        with pytest.raises(ResponseError), transaction():
            record_response(unit=s.unit.id, answers=COMPLETE, mode="walkin")
        with transaction():
            record_response(
                unit=s.unit.id,
                answers=COMPLETE,
                mode="walkin",
                campaign=s.campaign.id,
                respondent_group="citizen",
            )
        row = db.session.scalars(sa.select(Response)).one()
        assert (row.is_probability, row.weight, row.stratum) == (False, None, None)
        assert row.mode == "walkin"


def test_target_rows_that_include_the_own_unit(app, survey, factory):
    from surveyapp.models.respondents import RespondentTarget as Target

    other = factory.unit()
    s = survey(targets=(other,))
    person = s.respondents[0].id
    factory.add(Target(respondent_id=person, rated_unit_id=s.unit.id))
    with app.app_context():
        with transaction():
            record_response(respondent=person, unit=s.unit.id, answers=COMPLETE, mode="paper")
        with pytest.raises(AlreadyRecorded), transaction():
            record_response(respondent=person, unit=s.unit.id, answers=COMPLETE, mode="paper")
        with transaction():
            record_response(respondent=person, unit=other.id, answers=COMPLETE, mode="paper")
        assert db.session.get(Respondent, person).status.value == "completed"
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 2


# --- the citizen form's submit: the same path with the token's hash and the draft -----------


def _submit(person_id, token, unit_id, draft_id, answers=COMPLETE):
    return record_response(
        respondent=person_id,
        token_hash=hash_token(token),
        unit=unit_id,
        answers=answers,
        mode="web",
        questionnaire=load_builtin("sipas-citizen", "2024"),
        draft_id=draft_id,
    )


def test_web_submit_deletes_the_draft_with_the_claim(app, survey, issue, factory):
    s = survey()
    (item,) = issue(s.respondents)
    person = s.respondents[0]
    with app.app_context():
        draft_id = _draft(factory, person, s.unit.id, hash_token(item.token))
        with pytest.raises(AlreadyRecorded), transaction():
            _submit(person.id, "not-the-token", s.unit.id, draft_id)
        assert _counts() == (0, 0, 1)
        with transaction():
            assert _submit(person.id, item.token, s.unit.id, draft_id).completed
        assert _counts() == (1, 0, 0)
        with pytest.raises(AlreadyRecorded), transaction():
            _submit(person.id, item.token, s.unit.id, None)
        assert _counts() == (1, 0, 0)


def test_errors_come_in_order_campaign_then_answers(app, survey, issue):
    closed = survey(status="closed")
    (item,) = issue(closed.respondents)
    with app.app_context():
        # Invalid answers to a closed campaign: "closed" first.
        with pytest.raises(NotAccepting) as caught, transaction():
            _submit(closed.respondents[0].id, item.token, closed.unit.id, None, {"g1": 7})
        assert caught.value.reason == "closed"
    open_survey = survey()
    (item,) = issue(open_survey.respondents)
    with app.app_context():
        person = open_survey.respondents[0]
        with pytest.raises(AnswerError) as caught, transaction():
            _submit(person.id, item.token, open_survey.unit.id, None, {**COMPLETE, "g1": 7})
        assert set(caught.value.problems) == {"g1"}
        assert _counts() == (0, 0, 0)
        assert db.session.get(Respondent, person.id).status.value == "invited"


def test_web_rated_units_one_after_the_other(app, survey, issue, factory):
    first, second = factory.unit(), factory.unit()
    s = survey(targets=(first, second))
    (item,) = issue(s.respondents)
    person = s.respondents[0]
    with app.app_context():
        token_hash = hash_token(item.token)
        with transaction():
            assert not _submit(person.id, item.token, first.id, None).completed
        assert _counts() == (1, 0, 0)
        assert db.session.get(Respondent, person.id).status.value == "invited"
        with pytest.raises(AlreadyRecorded), transaction():
            _submit(person.id, item.token, first.id, None)
        draft_id = _draft(factory, person, second.id, token_hash)
        with transaction():
            assert _submit(person.id, item.token, second.id, draft_id).completed
        assert _counts() == (2, 0, 0)
        assert db.session.get(Respondent, person.id).status.value == "completed"


def test_a_failure_after_the_claim_rolls_the_claim_back(app, survey, issue, monkeypatch):
    """No lost answer: if casting the ballot fails, the token is still unused."""
    from surveyapp.responses import operations

    s = survey()
    (item,) = issue(s.respondents)
    person = s.respondents[0]

    def broken_cast(*args, **kwargs):
        raise OSError("disk full")

    with app.app_context():
        monkeypatch.setattr(operations, "cast", broken_cast)
        with pytest.raises(OSError), transaction():
            _submit(person.id, item.token, s.unit.id, None)
        assert db.session.get(Respondent, person.id).status.value == "invited"
        monkeypatch.undo()
        with transaction():
            _submit(person.id, item.token, s.unit.id, None)
        assert _counts() == (1, 0, 0)
