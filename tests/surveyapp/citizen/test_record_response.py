"""record_response(): the write path shared by the web form, interviews, paper and walk-ins."""

import pytest
import sqlalchemy as sa

from questionnaires import AnswerError
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models.respondents import Respondent, RespondentTarget
from surveyapp.models.responses import Response
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


def test_enumerator_response_then_already_recorded(app, survey):
    s = survey()
    person = s.respondents[0]
    with app.app_context():
        with transaction():
            row = record_response(
                respondent=person.id, unit=s.unit.id, answers=COMPLETE, mode="enumerator"
            )
            assert row.mode == "enumerator" and row.is_probability and row.weight == 4.0
            assert row.answers["k1"] == [2, 3] and row.answers["a2"] == "Hộ tịch"
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
        assert caught.value.reason == "closed"
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
            row = record_response(
                unit=s.unit.id,
                answers=COMPLETE,
                mode="walkin",
                campaign=s.campaign.id,
                respondent_group="citizen",
            )
            assert (row.is_probability, row.weight, row.stratum) == (False, None, None)


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
