"""Skip logic across a questionnaire: answers kept, questions a page leaves out, rules as
data for the page script, witnesses for generated tests."""

import pytest

from questionnaires import (
    decided_irrelevant,
    expression_data,
    irrelevant_questions,
    list_builtin,
    load_builtin,
    parse_expression,
    relevance_rules,
    relevant_answers,
    rule_witnesses,
)


@pytest.fixture(scope="module")
def sipas():
    return load_builtin("sipas-citizen", "2025")


def test_in_person_drops_the_portal_grid_and_the_postal_item(sipas):
    answers = {"a6": 1, "a8": 2, "b1": 4, "b5": 5, "b9": 3, "f1": 2, "f2": 4}
    kept = relevant_answers(sipas, answers)
    assert kept == {"a6": 1, "a8": 2, "b1": 4, "f1": 2}
    assert {"gb2", "b9", "gf"} <= irrelevant_questions(sipas, answers)
    section_b = [s.code for s in sipas.sections].index("B")
    assert decided_irrelevant(sipas, section_b, {"a6": 1}) == {"gb2", "b9"}
    assert decided_irrelevant(sipas, section_b, {"a6": 2}) == {"gb1", "b9"}


def test_a_filter_left_blank_on_paper_leaves_its_dependents_open(sipas):
    """«Left blank on the form» (98) is unknown: every rule reading it holds, nothing
    written under it is dropped."""
    answers = {"a6": 98, "b5": 5, "b6": 4, "b9": 3, "f1": 98, "f2": 4}
    assert relevant_answers(sipas, answers) == answers
    assert not {"a8", "gb1", "gb2", "b9", "gf"} & irrelevant_questions(sipas, answers)
    section_b = [s.code for s in sipas.sections].index("B")
    assert decided_irrelevant(sipas, section_b, {"a6": 98}) == frozenset()


def test_a_rule_read_on_its_own_page_is_not_decided_by_earlier_pages(sipas):
    section_f = [s.code for s in sipas.sections].index("F")
    assert decided_irrelevant(sipas, section_f, {"a6": 1}) == frozenset()


def test_expression_data_nests_every_node():
    expression = parse_expression("a = 1 and (b in (2, 3) or not answered(c)) or selected(d, 4)")
    assert expression_data(expression) == [
        "or",
        ["and", ["=", "a", 1], ["or", ["in", "b", [2, 3]], ["not", ["answered", "c"]]]],
        ["selected", "d", 4],
    ]


def test_every_builtin_rule_has_answers_that_make_it_hold_and_fail():
    for questionnaire in list_builtin():
        for rule in relevance_rules(questionnaire):
            witnesses = rule_witnesses(questionnaire, rule)
            assert set(witnesses) == {True, False}, (questionnaire.key, rule.question.code)
            for holds, answers in witnesses.items():
                assert answers, "a required question the rule reads is answered"
                assert rule.expression.evaluate(answers) is holds
