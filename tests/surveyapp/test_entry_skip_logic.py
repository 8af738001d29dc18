"""Skip logic on the staff forms (enumerator interview, clerk's paper entry), for every
relevance rule of every built-in questionnaire (cases generated from the questionnaires),
and what a refused save shows (issues 10.2, 10.9).

The staff forms are one page: each conditional question carries its rule for the page
script and a note saying when to ask it; after answers are sent, the questions they rule
out are left out of the page; only answers that apply are stored.
"""

import re

import pandas as pd
import pytest
import sqlalchemy as sa

from questionnaires import list_builtin, relevance_rules, rule_witnesses
from questionnaires.model import QuestionType
from surveyapp.core.codes import generate_code, hash_code
from surveyapp.models import Draw, Respondent, RespondentStatus, Response
from surveyapp.models.users import Role

from .conftest import CHROMIUM, browser_or_skip

CASES = [
    pytest.param(q, rule, holds, answers, id=f"{q.key}-{rule.question.code}-{holds}")
    for q in list_builtin()
    for rule in relevance_rules(q)
    for holds, answers in sorted(rule_witnesses(q, rule).items())
]


def complete_answers(questionnaire, overrides) -> dict:
    """A valid answer to every question (the rule's answers from ``overrides``)."""
    data = {}
    for q in questionnaire.questions():
        for code in q.answer_codes():
            if code in overrides:
                value = overrides[code]
                data[code] = [str(v) for v in value] if isinstance(value, tuple) else str(value)
            elif q.type is QuestionType.MULTIPLE:
                data[code] = [str(q.choices[0].code)]
            elif q.type.has_choices:
                data[code] = str(q.choices[-1].code)
            elif q.type is QuestionType.NUMBER:
                data[code] = str(int(q.minimum if q.minimum is not None else 1))
            elif q.type is QuestionType.DATE:
                data[code] = "2024-05-02"
            else:
                data[code] = "Góp ý"
    return data


@pytest.fixture
def case_for(factory):
    def make(questionnaire, group="citizen"):
        unit = factory.unit(code="XA01", name="UBND phường 1")
        campaign = factory.campaign(code="2024", status="fieldwork")
        factory.instrument(campaign, group, questionnaire.id, questionnaire.version)
        draw = factory.add(Draw(campaign_id=campaign.id, design={}))
        return factory.add(
            Respondent(
                draw_id=draw.id,
                campaign_id=campaign.id,
                source_unit_id=unit.id,
                respondent_group=group,
                stratum="S1",
                selection="primary",
                inclusion_prob=0.1,
                weight=10.0,
                full_name="Trần Thị Mai",
                phone="0912000001",
            )
        )

    return make


def _stored(db_session):
    with db_session() as s:
        (row,) = s.scalars(sa.select(Response)).all()
        return dict(row.answers)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("questionnaire", "rule", "holds", "witness"), CASES)
def test_interview_stores_a_conditional_question_only_when_it_applies(
    client, login, db_session, case_for, questionnaire, rule, holds, witness
):
    person = case_for(questionnaire)
    me = login(Role.ENUMERATOR)
    with db_session() as s:
        s.get(Respondent, person.id).assigned_enumerator_id = me.id
    url = f"/fieldwork/respondents/{person.id}/interview"
    page = client.get(url).get_data(as_text=True)
    block = re.search(
        rf'<div class="question-block" id="question-{rule.question.code}"[^>]*>', page
    )
    assert block and "data-relevant=" in block.group(0)
    assert rule.question.relevant in page  # the note says when to ask it

    response = client.post(url, data=complete_answers(questionnaire, witness))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    stored = _stored(db_session)
    assert all((code in stored) == holds for code in rule.question.answer_codes())


def test_a_refused_paper_form_keeps_every_value_and_links_each_problem(
    app, client, login, db_session, case_for
):
    """a6 = 1 (in person) and two answers missing: the page comes back with everything
    typed, the portal grid and the postal item left out, and a summary linking each
    problem to its question."""
    from questionnaires import load_builtin

    sipas = load_builtin("sipas-citizen", "2025")
    person = case_for(sipas)
    with app.app_context():
        code = generate_code()
    with db_session() as s:
        s.get(Respondent, person.id).short_code_hash = hash_code(code)
    login(Role.CLERK)
    assert client.post("/fieldwork/paper", data={"code": code}).status_code == 302

    data = complete_answers(sipas, {"a6": 1, "a8": 3, "k2": "Hướng dẫn tận tình"})
    del data["c2"], data["e4"]
    refused = client.post("/fieldwork/paper/form", data=data)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    summary = page[
        page.index('id="error-summary"') : page.index("</div>", page.index('id="error-summary"'))
    ]
    assert summary.count("<li>") == 2
    assert 'href="#c2-0"' in summary and 'href="#e4-0"' in summary
    assert 'id="c2-0"' in page and 'id="e4-0"' in page  # the anchors exist
    # Everything typed is still there.
    assert re.search(r'<input[^>]*checked[^>]*id="a8-2"|<input[^>]*id="a8-2"[^>]*checked', page)
    assert "Hướng dẫn tận tình" in page
    # The answers given rule out the portal grid and the postal item.
    for ruled_out in ("b5", "b6", "b7", "b8", "b9"):
        assert f'name="{ruled_out}"' not in page
    assert 'name="b1"' in page

    data["c2"], data["e4"] = "4", "4"
    assert client.post("/fieldwork/paper/form", data=data).status_code == 302
    with db_session() as s:
        assert s.get(Respondent, person.id).status == RespondentStatus.COMPLETED
    stored = _stored(db_session)
    assert stored["a8"] == 3 and not {"b5", "b9"} & set(stored)


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("key", ["sipas-citizen@2025", "par-officials@2025"])
def test_the_interview_page_script_follows_every_rule(
    app, live_server, client, login, db_session, case_for, key
):
    """In chromium, choosing the answer a rule reads shows or hides its question, for
    every rule of the questionnaire and both outcomes."""
    sync_playwright = browser_or_skip()
    questionnaire = next(q for q in list_builtin() if q.key == key)
    person = case_for(questionnaire)
    me = login(Role.ENUMERATOR)
    with db_session() as s:
        s.get(Respondent, person.id).assigned_enumerator_id = me.id
    cookie = client.get_cookie("session")
    base = live_server
    checked = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context()
        context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
        page = context.new_page()
        page.goto(f"{base}/fieldwork/respondents/{person.id}/interview")
        for rule in relevance_rules(questionnaire):
            block = page.locator(f"#question-{rule.question.code}")
            for holds, answers in rule_witnesses(questionnaire, rule).items():
                for code, value in answers.items():
                    choices = [c.code for c in questionnaire.question(code).all_choices()]
                    page.locator(f"label[for={code}-{choices.index(value)}]").click()
                assert block.is_visible() is holds, (rule.question.code, answers)
                checked += 1
        browser.close()
    assert checked == 2 * len(relevance_rules(questionnaire))


def test_a_paper_form_records_left_blank_apart_from_dont_know(
    app, client, login, db_session, case_for
):
    """On paper entry every one-answer question offers «left blank on the form» (98), apart
    from «don't know / not applicable» (9); a required one left empty must be marked so;
    the interview form has no such option; 98 reaches the scoring spec as a missing code."""
    from questionnaires import LEFT_BLANK, load_builtin
    from scoring_bridge import spec_from_questionnaire

    sipas = load_builtin("sipas-citizen", "2025")
    person = case_for(sipas)
    with app.app_context():
        code = generate_code()
    with db_session() as s:
        s.get(Respondent, person.id).short_code_hash = hash_code(code)
    login(Role.CLERK)
    client.post("/fieldwork/paper", data={"code": code})
    page = client.get("/fieldwork/paper/form").get_data(as_text=True)
    assert page.count("Để trống trên phiếu") == sum(
        len(q.answer_codes()) for q in sipas.questions() if q.takes_left_blank
    )
    data = complete_answers(sipas, {"a6": 1})
    del data["c2"], data["a5"]  # c2 left empty without saying so; a5 (a number) left blank
    refused = client.post("/fieldwork/paper/form", data=data)
    assert refused.status_code == 422
    assert "«left blank on the form»" in refused.get_data(as_text=True) or (
        "«để trống trên phiếu»" in refused.get_data(as_text=True)
    )
    data |= {"c2": str(LEFT_BLANK.code), "c3": "9"}
    assert client.post("/fieldwork/paper/form", data=data).status_code == 302
    stored = _stored(db_session)
    assert stored["c2"] == 98 and stored["c3"] == 9 and "a5" not in stored

    spec = spec_from_questionnaire(sipas)
    c2 = spec.item("c2")
    assert 98 in c2.not_applicable and 9 in c2.not_applicable and 98 not in c2.scale
    assert c2.value_labels[98] == "Để trống trên phiếu"


def test_the_web_and_interview_forms_never_take_left_blank(client, login, db_session, case_for):
    from questionnaires import load_builtin

    sipas = load_builtin("sipas-citizen", "2025")
    person = case_for(sipas)
    me = login(Role.ENUMERATOR)
    with db_session() as s:
        s.get(Respondent, person.id).assigned_enumerator_id = me.id
    url = f"/fieldwork/respondents/{person.id}/interview"
    assert "Để trống trên phiếu" not in client.get(url).get_data(as_text=True)
    refused = client.post(url, data=complete_answers(sipas, {"a6": 1, "c2": 98}))
    assert refused.status_code == 422
    assert "98" in refused.get_data(as_text=True)


def test_a_filter_left_blank_on_paper_keeps_the_answers_written_under_it(
    app, client, login, db_session, case_for
):
    """a6 (how the application was submitted) left blank on the paper, b5-b8 (the online
    questions) answered: whether they apply is unknown, so they are kept, and the other
    questions that depend on a6 may stay empty; the scoring counts b5-b8 as given."""
    from questionnaires import LEFT_BLANK, load_builtin
    from scoring_bridge import prepare_responses, spec_from_questionnaire

    sipas = load_builtin("sipas-citizen", "2025")
    person = case_for(sipas)
    with app.app_context():
        code = generate_code()
    with db_session() as s:
        s.get(Respondent, person.id).short_code_hash = hash_code(code)
    login(Role.CLERK)
    client.post("/fieldwork/paper", data={"code": code})
    page = client.get("/fieldwork/paper/form").get_data(as_text=True)
    assert f'data-left-blank="{LEFT_BLANK.code}"' in page
    data = complete_answers(sipas, {"a6": LEFT_BLANK.code, "b5": 5, "b6": 4, "b7": 4, "b8": 2})
    online = ("b5", "b6", "b7", "b8")
    others = [
        code
        for q in sipas.questions()
        if q.relevant and "a6" in q.relevant
        for code in q.answer_codes()
        if code not in online
    ]
    assert others  # a8, b1-b4, b9: nothing on the paper under the other ways
    for code in others:
        data.pop(code, None)
    saved = client.post("/fieldwork/paper/form", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    stored = _stored(db_session)
    assert stored["a6"] == LEFT_BLANK.code
    assert [stored[code] for code in online] == [5, 4, 4, 2]
    assert not any(code in stored for code in others)
    spec = spec_from_questionnaire(sipas)
    row = {"response_id": "1", "unit": "XA01", "group": "citizen", "stratum": "S1"}
    row |= {"weight": 10.0} | {item: stored.get(item) for item in spec.item_codes}
    prepared = prepare_responses(pd.DataFrame([row]), spec)
    assert [prepared.loc[0, item] for item in ("b5", "b6", "b7", "b8")] == [5, 4, 4, 2]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_paper_page_keeps_showing_what_depends_on_a_blank_filter(
    app, live_server, client, login, db_session, case_for
):
    """In chromium, on paper entry: a6 marked «left blank» shows every question that
    depends on a6 (b5-b8 among them); a6 = 1 hides the online ones again."""
    from questionnaires import load_builtin

    sync_playwright = browser_or_skip()
    sipas = load_builtin("sipas-citizen", "2025")
    person = case_for(sipas)
    with app.app_context():
        code = generate_code()
    with db_session() as s:
        s.get(Respondent, person.id).short_code_hash = hash_code(code)
    login(Role.CLERK)
    assert client.post("/fieldwork/paper", data={"code": code}).status_code == 302
    cookie = client.get_cookie("session")
    base = live_server
    blank = len(sipas.question("a6").all_choices())  # «left blank» comes after the choices
    dependents = [q.code for q in sipas.questions() if q.relevant and "a6" in q.relevant]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context()
        context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
        page = context.new_page()
        page.goto(f"{base}/fieldwork/paper/form")
        page.locator("label[for=a6-0]").click()
        assert not page.locator("#question-gb2").is_visible()
        page.locator(f"label[for=a6-{blank}]").click()
        visible = {c: page.locator(f"#question-{c}").is_visible() for c in dependents}
        assert all(visible.values()) and "gb2" in visible, visible
        assert page.locator("input[name=b5]").first.is_enabled()
        browser.close()
