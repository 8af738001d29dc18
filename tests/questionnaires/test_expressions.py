"""Relevance expressions: parsing, NaN-like unanswered semantics, XPath both ways."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires.expressions import (
    Answered,
    BoolOp,
    Compare,
    ExpressionError,
    InList,
    Not,
    Selected,
    evaluate,
    parse_expression,
    parse_xpath,
)


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ("q5 = 1", {"q5": 1}, True),
        ("q5 = 1", {"q5": 2}, False),
        ("q5 != 1", {"q5": 2}, True),
        ("q5 < 3", {"q5": 2}, True),
        ("q5 <= 2", {"q5": 2}, True),
        ("q5 > 2", {"q5": 2}, False),
        ("q5 >= 2", {"q5": 2}, True),
        ("q5 in (1, 2, 3)", {"q5": 3}, True),
        ("q5 in (1, 2, 3)", {"q5": 9}, False),
        ("selected(q7, 3)", {"q7": (1, 3)}, True),
        ("selected(q7, 2)", {"q7": (1, 3)}, False),
        ("selected(q7, 2)", {"q7": 2}, True),
        ("answered(q7)", {"q7": (1,)}, True),
        ("answered(q7)", {"q7": ()}, False),
        ("answered(q7)", {"q7": "  "}, True),
        ("q5 = 1 and (q6 != 2 or not answered(q7))", {"q5": 1, "q6": 2}, True),
        ("q5 = 1 and (q6 != 2 or not answered(q7))", {"q5": 1, "q6": 2, "q7": 4}, False),
        ("q5 = 1 or q6 = 1 and q7 = 1", {"q5": 1}, True),  # and binds tighter than or
        ("(q5 = 1 or q6 = 1) and q7 = 1", {"q5": 1}, False),
        ("not not q5 = 1", {"q5": 1}, True),
        ("name = 'Hà Nội'", {"name": "Hà Nội"}, True),
        ("when >= '2024-07-01'", {"when": dt.date(2024, 8, 1)}, True),
        ("q5 = 1.5", {"q5": 1.5}, True),
        ("q5 = 1", {"q5": "1"}, True),  # a raw form value compares as a number
        ("q5 = 1", {"q5": "abc"}, False),
    ],
)
def test_evaluation_table(source, answers, expected):
    assert evaluate(source, answers) is expected


@pytest.mark.parametrize("missing", [{}, {"q": None}, {"q": ""}, {"q": ()}, {"q": []}])
def test_unanswered_behaves_like_nan(missing):
    assert not evaluate("q = 1", missing)
    assert not evaluate("q < 1", missing)
    assert not evaluate("q >= 1", missing)
    assert not evaluate("q in (1, 2)", missing)
    assert not evaluate("selected(q, 1)", missing)
    assert not evaluate("answered(q)", missing)
    assert evaluate("q != 1", missing)
    assert evaluate("not q = 1", missing)


def test_parser_builds_the_expected_tree():
    tree = parse_expression("q5 = 1 and (q6 != 2 or not answered(q7))")
    assert tree == BoolOp(
        "and",
        (Compare("q5", "=", 1), BoolOp("or", (Compare("q6", "!=", 2), Not(Answered("q7"))))),
    )
    assert list(tree.references()) == ["q5", "q6", "q7"]


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("", 0),
        ("q5 =", 4),
        ("q5 = 1 and", 10),
        ("q5 == = 1", 6),
        ("q5 = 1)", 6),
        ("(q5 = 1", 7),
        ("q5 ~ 1", 3),
        ("__import__('os')", 10),
        ("q5 = x", 5),
        ("and = 1", 0),
        ("selected(q7)", 11),
    ],
)
def test_bad_expressions_name_the_position(source, position):
    with pytest.raises(ExpressionError) as raised:
        parse_expression(source)
    assert raised.value.position == position
    assert f"position {position + 1}" in raised.value.message_en
    assert f"vị trí {position + 1}" in raised.value.message_vi


def test_to_xpath_writes_xlsform_syntax():
    tree = parse_expression("q5 = 1 and (q6 in (1, 2) or not answered(q7)) and selected(q8, 3)")
    assert tree.to_xpath() == (
        "${q5} = 1 and ((${q6} = 1 or ${q6} = 2) or not(${q7} != '')) and selected(${q8}, '3')"
    )


def test_xpath_subset_reads_xlsform_spellings():
    assert parse_xpath("${q5} = '1'") == Compare("q5", "=", 1)
    assert parse_xpath("${q5}='1' or ${ q6 } != 2") == BoolOp(
        "or", (Compare("q5", "=", 1), Compare("q6", "!=", 2))
    )
    assert parse_xpath("selected(${q7}, '3')") == Selected("q7", 3)
    assert parse_xpath("${q7} != ''") == Answered("q7")
    assert parse_xpath("${q7} = ''") == Not(Answered("q7"))
    assert parse_xpath("not(${q5} = 1)") == Not(Compare("q5", "=", 1))
    with pytest.raises(ExpressionError):
        parse_xpath("count-selected(${q7}) > 1")
    with pytest.raises(ExpressionError):
        parse_xpath("q5 = 1")  # bare names are not XPath references


# ----------------------------------------------------------------- property-based round trips

codes = st.sampled_from(["q1", "q2", "q3"])
values = st.integers(min_value=0, max_value=4)
leaves = st.one_of(
    st.builds(Compare, codes, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), values),
    st.builds(InList, codes, st.lists(values, min_size=1, max_size=3).map(tuple)),
    st.builds(Selected, codes, values),
    st.builds(Answered, codes),
)
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.builds(
            BoolOp,
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=3).map(tuple),
        ),
    ),
    max_leaves=8,
)
answer_values = st.one_of(st.none(), values, st.lists(values, max_size=3).map(tuple))
answer_sets = st.fixed_dictionaries({"q1": answer_values, "q2": answer_values, "q3": answer_values})


@settings(max_examples=150, deadline=None)
@given(trees, answer_sets)
def test_source_round_trip_keeps_meaning(tree, answers):
    reparsed = parse_expression(tree.to_source())
    assert reparsed.evaluate(answers) == tree.evaluate(answers)


@settings(max_examples=150, deadline=None)
@given(trees, answer_sets)
def test_xpath_round_trip_keeps_meaning(tree, answers):
    reparsed = parse_xpath(tree.to_xpath())
    assert reparsed.evaluate(answers) == tree.evaluate(answers)
