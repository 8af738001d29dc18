"""Skip logic across pages on the citizen form, for every relevance rule of every built-in
questionnaire (cases generated from the questionnaires, not listed by hand).

For each rule and each outcome (holds / fails), a respondent answers the form through
HTTP with answers that make the rule hold or fail: a question whose rule reads earlier
pages is on its page only when it applies; a rule read on the same page is marked for the
script; the stored response has the question's answers only when it applies; the counter
"Phần x / y" goes up by one per page and y never grows. Going back and changing the
answer a rule reads removes the answers it made irrelevant from the draft.
"""

import re

import pytest
import sqlalchemy as sa

from questionnaires import list_builtin, relevance_rules, rule_witnesses
from questionnaires.model import QuestionType
from questionnaires.relevance import section_of
from surveyapp.models import CampaignInstrument
from surveyapp.models.drafts import FormDraft
from surveyapp.models.responses import Response

SECTION_RE = re.compile(r'data-section="([^"]+)"')
COUNTER_RE = re.compile(r"Phần (\d+) / (\d+)")


def _cases():
    for questionnaire in list_builtin():
        for rule in relevance_rules(questionnaire):
            for holds, answers in sorted(rule_witnesses(questionnaire, rule).items()):
                label = "shown" if holds else "skipped"
                yield pytest.param(
                    questionnaire,
                    rule,
                    holds,
                    answers,
                    id=f"{questionnaire.key}-{rule.question.code}-{label}",
                )


CASES = list(_cases())


def _back_cases():
    """Rules that read an answer given on an earlier page (going back can change it)."""
    for param in CASES:
        questionnaire, rule, holds, _ = param.values
        where = section_of(questionnaire)
        if holds and all(where[code] < rule.section_index for code in rule.references):
            yield param


def test_every_builtin_rule_has_both_outcomes():
    rules = [(q.key, r.question.code) for q in list_builtin() for r in relevance_rules(q)]
    assert ("sipas-citizen@2025", "gb2") in rules and ("par-officials@2024", "k2") in rules
    outcomes = {(p.values[0].key, p.values[1].question.code, p.values[2]) for p in CASES}
    assert outcomes == {(key, code, holds) for key, code in rules for holds in (True, False)}


def _value(question, code, overrides):
    if code in overrides:
        value = overrides[code]
        return [str(v) for v in value] if isinstance(value, tuple) else str(value)
    if question.type is QuestionType.MULTIPLE:
        return [str(question.choices[0].code)]
    if question.type.has_choices:
        return str(question.choices[0].code)
    if question.type is QuestionType.NUMBER:
        return str(int(question.minimum if question.minimum is not None else 1))
    if question.type is QuestionType.DATE:
        return "2024-05-02"
    return "Ý kiến"


def _page_data(questionnaire, section_code, page, overrides):
    """Answers to every question the page shows (rules' answers from ``overrides``)."""
    section = next(s for s in questionnaire.sections if s.code == section_code)
    data = {}
    for q in section.questions:
        for code in q.answer_codes():
            if f'name="{code}"' in page:
                data[code] = _value(q, code, overrides)
    return data


def _use(survey, issue, db_session, questionnaire):
    made = survey(respondents=1)
    with db_session() as session:
        instrument = session.scalar(
            sa.select(CampaignInstrument).where(CampaignInstrument.campaign_id == made.campaign.id)
        )
        instrument.questionnaire_id = questionnaire.id
        instrument.questionnaire_version = questionnaire.version
    (item,) = issue(made.respondents)
    return made, item


def _draft_answers(db_session, respondent_id):
    with db_session() as session:
        draft = session.scalar(sa.select(FormDraft).where(FormDraft.respondent_id == respondent_id))
        return dict(draft.answers)


def _stored_answers(db_session):
    with db_session() as session:
        (row,) = session.scalars(sa.select(Response)).all()
        return dict(row.answers)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("questionnaire", "rule", "holds", "witness"), CASES)
def test_rule_on_the_citizen_form(
    client, survey, issue, db_session, questionnaire, rule, holds, witness
):
    _, item = _use(survey, issue, db_session, questionnaire)
    where = section_of(questionnaire)
    reads_earlier = all(where[code] < rule.section_index for code in rule.references)
    target = questionnaire.sections[rule.section_index].code
    codes = rule.question.answer_codes()

    response = client.get(f"/s/{item.token}", follow_redirects=True)
    counters, seen_target = [], False
    for _ in range(len(questionnaire.sections) + 1):
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page[:300]
        section = SECTION_RE.search(page).group(1)
        counters.append(tuple(int(n) for n in COUNTER_RE.search(page).groups()))
        if section == target:
            seen_target = True
            present = [f'name="{code}"' in page for code in codes]
            if reads_earlier:
                # Decided by earlier pages: on the page exactly when it applies.
                assert present == [holds] * len(codes)
            else:
                # Read on this page: shown with its rule for the script (and its note).
                assert all(present) and "data-relevant=" in page
        action = "submit" if 'value="submit"' in page else "next"
        data = {**_page_data(questionnaire, section, page, witness), "action": action}
        response = client.post("/s/form", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if action == "submit":
            break
        response = client.get(response.headers["Location"])
    assert response.headers["Location"].endswith("/s/thanks")
    assert seen_target or (reads_earlier and not holds)
    assert [x for x, _ in counters] == list(range(1, len(counters) + 1))
    totals = [y for _, y in counters]
    assert totals == sorted(totals, reverse=True) and totals[-1] == len(counters)
    stored = _stored_answers(db_session)
    assert all((code in stored) == holds for code in codes), (codes, stored)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("questionnaire", "rule", "holds", "witness"), list(_back_cases()))
def test_changing_an_earlier_answer_removes_what_it_made_irrelevant(
    client, survey, issue, db_session, questionnaire, rule, holds, witness
):
    made, item = _use(survey, issue, db_session, questionnaire)
    respondent_id = made.respondents[0].id
    where = section_of(questionnaire)
    target = questionnaire.sections[rule.section_index].code
    source = questionnaire.sections[min(where[code] for code in rule.references)].code
    (failing,) = [a for h, a in rule_witnesses(questionnaire, rule).items() if not h]
    codes = rule.question.answer_codes()

    # Forward to the rule's page and answer it while the rule holds.
    response = client.get(f"/s/{item.token}", follow_redirects=True)
    while True:
        page = response.get_data(as_text=True)
        section = SECTION_RE.search(page).group(1)
        data = {**_page_data(questionnaire, section, page, witness), "action": "next"}
        response = client.post("/s/form", data=data)
        assert response.status_code == 302
        response = client.get(response.headers["Location"])
        if section == target:
            break
    assert set(codes) <= set(_draft_answers(db_session, respondent_id))

    # Back to the page whose answer the rule reads; change it so the rule fails.
    while section != source:
        response = client.post("/s/form", data={"action": "back"})
        response = client.get(response.headers["Location"])
        page = response.get_data(as_text=True)
        section = SECTION_RE.search(page).group(1)
    data = {**_page_data(questionnaire, section, page, failing), "action": "next"}
    assert client.post("/s/form", data=data).status_code == 302
    assert not set(codes) & set(_draft_answers(db_session, respondent_id))

    # On to the end: the question is not shown again and its answers are never stored.
    response = client.get("/s/form")
    for _ in range(len(questionnaire.sections)):
        page = response.get_data(as_text=True)
        assert not any(f'name="{code}"' in page for code in codes)
        section = SECTION_RE.search(page).group(1)
        action = "submit" if 'value="submit"' in page else "next"
        data = {**_page_data(questionnaire, section, page, failing), "action": action}
        response = client.post("/s/form", data=data)
        assert response.status_code == 302
        if action == "submit":
            break
        response = client.get(response.headers["Location"])
    stored = _stored_answers(db_session)
    assert not set(codes) & set(stored)
    assert all(stored[code] == value for code, value in failing.items())
