"""Responses cannot be linked to a person: schema, ids, stored values, drafts."""

import json
import uuid

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
