"""record_web_response(): the citizen form's submit writes what record_response writes.

The fast path (own unit, no rated-unit rows) is one statement on PostgreSQL and two on
SQLite; every other case goes through record_response. Both backends (``app`` fixture).
"""

import pytest
import sqlalchemy as sa

from questionnaires import AnswerError, load_builtin
from surveyapp.core.codes import hash_token
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import Respondent
from surveyapp.models.responses import Response
from surveyapp.responses.operations import (
    AlreadyRecorded,
    NotAccepting,
    record_response,
    record_web_response,
)

COMPLETE = {
    "a1": 1, "a3": 2, "a5": 1, "a6": 3, "a7": 1, "b9": 5, "f1": 2, "g1": 4,
    **{f"{s}{i}": 4 for s, n in (("c", 4), ("d", 6), ("e", 4)) for i in range(1, n + 1)},
    "k1": [3, 2], "a2": " Hộ tịch ",
}  # fmt: skip
COLUMNS = [c.name for c in Response.__table__.columns if c.name != "id"]


def _draft(factory, person, unit_id, token_hash) -> int:
    return factory.add(
        FormDraft(
            key_hash=f"{person.id:064d}",
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


def _submit(person_id, token, unit_id, draft_id, answers=COMPLETE) -> bool:
    return record_web_response(
        respondent_id=person_id,
        token_hash=hash_token(token),
        unit_id=unit_id,
        answers=answers,
        questionnaire=load_builtin("sipas-citizen", "2024"),
        draft_id=draft_id,
    )


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count(Response.id))),
        db.session.scalar(sa.select(sa.func.count(FormDraft.id))),
    )


def test_same_row_as_record_response_and_the_draft_is_deleted(app, survey, issue, factory):
    s = survey(respondents=2)
    fast, slow = s.respondents
    tokens = [item.token for item in issue(s.respondents)]
    with app.app_context():
        draft_id = _draft(factory, fast, s.unit.id, hash_token(tokens[0]))
        with transaction():
            assert _submit(fast.id, tokens[0], s.unit.id, draft_id) is True
        with transaction():
            record_response(
                respondent=slow.id, token=tokens[1], unit=s.unit.id, answers=COMPLETE, mode="web"
            )
        rows = db.session.execute(sa.select(*Response.__table__.c[*COLUMNS])).all()
        assert len(rows) == 2 and rows[0] == rows[1]
        assert rows[0].answers["k1"] == [2, 3] and rows[0].answers["a2"] == "Hộ tịch"
        assert db.session.get(FormDraft, draft_id) is None
        assert db.session.get(Respondent, fast.id).status.value == "completed"


def test_wrong_token_writes_nothing(app, survey, issue, factory):
    s = survey()
    (item,) = issue(s.respondents)
    person = s.respondents[0]
    with app.app_context():
        draft_id = _draft(factory, person, s.unit.id, hash_token(item.token))
        with pytest.raises(AlreadyRecorded), transaction():
            _submit(person.id, "not-the-token", s.unit.id, draft_id)
        assert _counts() == (0, 1)
        with transaction():
            _submit(person.id, item.token, s.unit.id, draft_id)
        with pytest.raises(AlreadyRecorded), transaction():
            _submit(person.id, item.token, s.unit.id, None)
        assert _counts() == (1, 0)


def test_errors_come_in_record_response_order(app, survey, issue, factory):
    closed = survey(status="closed")
    (item,) = issue(closed.respondents)
    with app.app_context():
        person = closed.respondents[0]
        # Invalid answers to a closed campaign: "closed" first, as record_response says.
        with pytest.raises(NotAccepting) as caught, transaction():
            _submit(person.id, item.token, closed.unit.id, None, {**COMPLETE, "g1": 7})
        assert caught.value.reason == "closed"
    open_survey = survey()
    (item,) = issue(open_survey.respondents)
    with app.app_context():
        person = open_survey.respondents[0]
        with pytest.raises(AnswerError) as caught, transaction():
            _submit(person.id, item.token, open_survey.unit.id, None, {**COMPLETE, "g1": 7})
        assert set(caught.value.problems) == {"g1"}
        assert _counts() == (0, 0)


def test_rated_units_one_after_the_other(app, survey, issue, factory):
    first, second = factory.unit(), factory.unit()
    s = survey(targets=(first, second))
    (item,) = issue(s.respondents)
    person = s.respondents[0]
    with app.app_context():
        token_hash = hash_token(item.token)
        draft_id = _draft(factory, person, first.id, token_hash)
        with transaction():
            assert _submit(person.id, item.token, first.id, draft_id) is False
        assert _counts() == (1, 0)
        assert db.session.get(Respondent, person.id).status.value == "invited"
        draft_id = _draft(factory, person, second.id, token_hash)
        with transaction():
            assert _submit(person.id, item.token, second.id, draft_id) is True
        assert _counts() == (2, 0)
        assert db.session.get(Respondent, person.id).status.value == "completed"
