"""Fixtures for tokens, the citizen form, walk-ins and anonymity tests.

``survey(...)`` builds a campaign with the SIPAS citizen questionnaire, a unit, a draw
and sampled respondents directly through the models (the draw feature is tested
elsewhere); ``issue(respondents)`` issues tokens; ``fill_form(client, ...)`` answers
every shown page of the form through the HTTP interface and returns the final response.
"""

import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from surveyapp.db import transaction
from surveyapp.extensions import db

QUESTIONNAIRE = ("sipas-citizen", "2024")
SECTION_RE = re.compile(r'data-section="([^"]+)"')

# Valid answers for each answer code of sipas-citizen (first choices / sensible values).
ANSWERS = {
    "a1": "1",
    "a3": "1",
    "a5": "2",
    "a6": "1",
    "a7": "1",
    "a8": "1",
    "f1": "2",
    "g1": "4",
}


@pytest.fixture
def survey(app, factory):
    def make(
        respondents=1,
        status="fieldwork",
        group="citizen",
        token_expires_on=None,
        period_end=date(2030, 12, 31),
        selection="primary",
        released=False,
        targets=(),
    ):
        from surveyapp.models import CampaignInstrument, Draw, Respondent, RespondentTarget

        campaign = factory.campaign(
            status=status,
            period_start=date(2024, 1, 1),
            period_end=period_end,
            token_expires_on=token_expires_on,
        )
        unit = factory.unit(name="UBND phường Thắng Tam")
        factory.add(
            CampaignInstrument(
                campaign_id=campaign.id,
                respondent_group=group,
                questionnaire_id=QUESTIONNAIRE[0],
                questionnaire_version=QUESTIONNAIRE[1],
            )
        )
        draw = factory.add(Draw(campaign_id=campaign.id, design={}, locked=True))
        people = []
        for n in range(respondents):
            person = Respondent(
                draw_id=draw.id,
                campaign_id=campaign.id,
                source_unit_id=unit.id,
                respondent_group=group,
                stratum=f"{unit.code}/cá nhân",
                selection=selection,
                reserve_rank=1 if selection == "reserve" else None,
                released=released,
                inclusion_prob=0.25,
                weight=4.0,
                full_name=f"Nguyễn Văn {chr(65 + n)}",
                phone="0901234567",
            )
            people.append(person)
        factory.add(*people) if people else None
        for person in people:
            for target in targets:
                factory.add(RespondentTarget(respondent_id=person.id, rated_unit_id=target.id))
        return SimpleNamespace(campaign=campaign, unit=unit, respondents=people, draw=draw)

    return make


@pytest.fixture
def issue(app):
    def issue_for(respondents):
        from surveyapp.models.respondents import Respondent
        from surveyapp.tokens.service import issue_tokens

        with app.app_context(), transaction():
            rows = db.session.scalars(
                sa.select(Respondent)
                .where(Respondent.id.in_([r.id for r in respondents]))
                .order_by(Respondent.id)
            ).all()
            return issue_tokens(rows)

    return issue_for


def _section_of(page: str) -> str:
    match = SECTION_RE.search(page)
    assert match, "not a form page"
    return match.group(1)


def _page_answers(section_code: str, overrides: dict) -> dict:
    """Form data answering every question of a section (grids: 4 everywhere)."""
    from questionnaires import load_builtin

    questionnaire = load_builtin(*QUESTIONNAIRE)
    section = next(s for s in questionnaire.sections if s.code == section_code)
    data = {}
    for q in section.questions:
        for code in q.answer_codes():
            if code in overrides:
                value = overrides[code]
            elif q.type.value == "grid":
                value = "4"
            else:
                value = ANSWERS.get(code)
            if value is not None:
                data[code] = value
    return data


def _fill_form(client, overrides=None, max_pages=20):
    """Answer each page shown until the form is sent; returns the submit's response."""
    overrides = overrides or {}
    response = client.get("/s/form")
    for _ in range(max_pages):
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        page = response.get_data(as_text=True)
        section = _section_of(page)
        action = "submit" if 'value="submit"' in page else "next"
        data = {**_page_answers(section, overrides), "action": action}
        response = client.post("/s/form", data=data)
        if response.status_code != 302 or action == "submit":
            return response
        response = client.get(response.headers["Location"])
    raise AssertionError("the form did not end")


@pytest.fixture
def section_of():
    return _section_of


@pytest.fixture
def page_answers():
    return _page_answers


@pytest.fixture
def fill_form():
    return _fill_form
