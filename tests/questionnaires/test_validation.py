"""The error catalogue: every problem found at once, each naming its place (and line)."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires import (
    DefinitionError,
    DefinitionSyntaxError,
    DefinitionValidationError,
    QuestionnaireError,
    build_questionnaire,
    load_questionnaire,
    parse_questionnaire,
)
from questionnaires.loader import read_definition

VALID = """\
id: demo
version: "1"
languages: [vi, en]
title: {vi: "Thử nghiệm", en: "Trial"}
elements:
  - {code: E1, title: {vi: "Tiếp cận", en: "Access"}}
sections:
  - code: A
    title: {vi: "Phần A", en: "Part A"}
    questions:
      - code: q1
        type: yesno
        text: {vi: "Có góp ý không?", en: "Any feedback?"}
      - code: q2
        type: single
        text: {vi: "Kênh", en: "Channel"}
        choices:
          - {code: 1, label: {vi: "Trực tiếp", en: "In person"}}
          - {code: 2, label: {vi: "Trực tuyến", en: "Online"}}
      - code: g
        type: grid
        text: {vi: "Lưới", en: "Grid"}
        relevant: "q1 = 1"
        element: E1
        items:
          - {code: g1, text: {vi: "Mục 1", en: "Item 1"}}
      - code: q3
        type: multiple
        text: {vi: "Chọn", en: "Pick"}
        required: false
        choices:
          - {code: 1, label: {vi: "Một", en: "One"}}
          - {code: 2, label: {vi: "Hai", en: "Two"}}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(DefinitionValidationError) as raised:
        parse_questionnaire(text)
    return [p.text_en() for p in raised.value.problems]


def test_the_valid_definition_loads():
    assert parse_questionnaire(VALID).id == "demo"


def test_malformed_yaml_names_line_and_column():
    with pytest.raises(DefinitionSyntaxError) as raised:
        parse_questionnaire(
            VALID.replace(
                'title: {vi: "Phần A", en: "Part A"}', 'title: {vi: "Phần A", en: "Part A"'
            )
        )
    problem = raised.value.problems[0]
    assert problem.line == 10
    assert "malformed YAML" in problem.message_en
    assert "YAML không hợp lệ" in problem.message_vi
    assert isinstance(raised.value, QuestionnaireError)


def test_a_key_given_twice_is_reported_with_its_line():
    with pytest.raises(DefinitionSyntaxError) as raised:
        parse_questionnaire(
            VALID.replace("        type: yesno\n", "        type: yesno\n        type: text\n")
        )
    assert raised.value.problems[0].line == 13
    assert "«type» appears twice" in raised.value.problems[0].message_en


def test_unknown_type_lists_the_allowed_ones():
    [problem] = problems_of(VALID.replace("type: yesno", "type: yesnoo"))
    assert problem.startswith(
        "[question q1] unknown question type «yesnoo» (allowed: scale5, single"
    )
    assert problem.endswith("(line 11)")


def test_duplicate_question_item_choice_section_and_element_codes():
    text = (
        VALID.replace("code: g1", "code: q1")
        .replace('{code: 2, label: {vi: "Trực tuyến"', '{code: 1, label: {vi: "Trực tuyến"')
        .replace(
            "  - {code: E1, title", "  - {code: E1, title: {vi: x, en: x}}\n  - {code: E1, title"
        )
        + '  - code: A\n    title: {vi: "B", en: "B"}\n    questions:\n'
        + '      - {code: q2, type: text, text: {vi: "T", en: "T"}}\n'
    )
    problems = problems_of(text)
    assert "[element E1] element code is used twice" in problems[0]
    assert "[question q2] choice code 1 is used twice (line 20)" in problems
    assert "[item q1] code is used twice (already used by a question) (line 27)" in problems
    assert "[section A] section code is used twice (line 35)" in problems
    assert any(p.startswith("[question q2] code is used twice") for p in problems)


def test_relevance_to_later_unknown_self_and_grid_are_each_reported():
    text = VALID.replace(
        'relevant: "q1 = 1"', 'relevant: "q3 = 1 and q9 = 1 and g = 1 and selected(q2, 7)"'
    )
    text = text.replace(
        "        type: yesno\n", '        type: yesno\n        relevant: "q1 = 1"\n'
    )
    problems = problems_of(text)
    assert problems == [
        "[question q1] condition refers to the question itself «q1» (line 11)",
        "[question g] condition refers to «q3», which comes later; only earlier questions may be used (line 21)",
        "[question g] condition refers to unknown code «q9» (line 21)",
        "[question g] condition refers to grid «g»; refer to one of its items instead (line 21)",
        "[question g] «q2» has no choice code 7 (valid: 1, 2) (line 21)",
    ]


def test_relevance_syntax_error_and_multiple_choice_comparison():
    later = VALID + '      - {code: q4, type: text, text: {vi: "T", en: "T"}, relevant: "q3 = 1"}\n'
    later += '      - {code: q5, type: text, text: {vi: "T", en: "T"}, relevant: "q1 = = 1"}\n'
    problems = problems_of(later)
    assert problems[0].startswith("[question q4] «q3» is multiple choice: use selected(q3, code)")
    assert problems[1].startswith("[question q5] bad «relevant» condition: expected a number")


def test_grid_without_items_and_scale_item_without_element():
    text = VALID.replace(
        '        element: E1\n        items:\n          - {code: g1, text: {vi: "Mục 1", en: "Item 1"}}\n',
        "",
    )
    text += '      - {code: q4, type: scale5, text: {vi: "S", en: "S"}}\n'
    problems = problems_of(text)
    assert "[question g] grid has no items (line 20)" in problems
    assert any(p.startswith("[question q4] scale item has no «element»") for p in problems)


def test_text_translations_keys_and_type_options():
    text = VALID.replace('text: {vi: "Kênh", en: "Channel"}', 'text: {vi: "Kênh"}')
    text = text.replace(
        "        required: false\n",
        "        required: maybe\n        min: 3\n        colour: red\n",
    )
    problems = problems_of(text)
    assert "[question q2] «text» lacks the «en» translation (line 14)" in problems
    assert any("[question q3] unknown key «colour»" in p for p in problems)
    assert any("[question q3] «required» must be true or false" in p for p in problems)
    assert any("[question q3] «min» does not apply to type multiple" in p for p in problems)


def test_single_choice_needs_choices_and_unknown_elements_are_caught():
    text = VALID.replace(
        '        choices:\n          - {code: 1, label: {vi: "Trực tiếp"',
        '        choices:\n          - {code: x, label: {vi: "Trực tiếp"',
        1,
    )
    text = text.replace("element: E1\n        items", "element: E7\n        items")
    problems = problems_of(text)
    assert any("[question q2] choice code «x» must be a whole number" in p for p in problems)
    assert any("[question q2] needs at least two choices" in p for p in problems)
    assert any("[question g] element «E7» is not declared in elements" in p for p in problems)


def test_messages_exist_in_vietnamese_too():
    with pytest.raises(DefinitionValidationError) as raised:
        parse_questionnaire(VALID.replace("type: yesno", "type: yesnoo"))
    assert "[câu hỏi q1] loại câu hỏi không hợp lệ «yesnoo»" in raised.value.message_vi
    assert "(dòng 11)" in raised.value.message_vi


def test_yaml_booleans_as_labels_are_caught():
    # YAML 1.1 reads an unquoted Yes as true: the label must be quoted.
    problems = problems_of(VALID.replace('en: "Any feedback?"', "en: Yes"))
    assert problems[0].startswith("[question q1] «text» (en) must be a string (quote it")
    for empty in ("null", '"  "'):
        problems = problems_of(VALID.replace('en: "Any feedback?"', f"en: {empty}"))
        assert problems == ["[question q1] «text» (en) is empty (line 11)"]


def test_not_a_mapping_and_unreadable_files(tmp_path):
    with pytest.raises(DefinitionValidationError):
        parse_questionnaire("- just\n- a list\n")
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Hà".encode("cp1258"))
    with pytest.raises(DefinitionSyntaxError) as raised:
        load_questionnaire(path)
    assert "cannot read the file" in raised.value.message_en


def test_selected_needs_a_choice_question_and_ordering_is_free():
    text = VALID + '      - {code: q4, type: text, text: {vi: "T", en: "T"}, required: false}\n'
    text += (
        '      - {code: q5, type: text, text: {vi: "T", en: "T"}, relevant: "selected(q4, 1)"}\n'
    )
    text += '      - {code: q6, type: text, text: {vi: "T", en: "T"}, relevant: "selected(q1, 1) and q2 >= 2"}\n'
    problems = problems_of(text)
    assert problems == ["[question q5] selected() needs a choice question, «q4» is text (line 35)"]


# ----------------------------------------------------------------- no traceback, whatever the input

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.text(max_size=5),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(
        st.sampled_from(["vi", "en", "code", "label", "x"]), st.text(max_size=3), max_size=2
    ),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_corruption_gives_a_definition_error_or_a_tree(data):
    raw = copy.deepcopy(read_definition(VALID))
    paths = [p for p in _paths(raw) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = raw
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = data.draw(junk)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier corruption removed this path
    try:
        build_questionnaire(raw)
    except DefinitionError as error:
        assert error.problems and all(p.message_en and p.message_vi for p in error.problems)
