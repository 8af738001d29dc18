"""The typed tree: texts with language fallback, flattening, variables and elements."""

import unicodedata

import pytest

from questionnaires import QuestionType, Text, parse_questionnaire

DEFINITION = """
id: demo
version: "1"
languages: [vi, en]
title: {vi: "Thử nghiệm", en: "Trial"}
elements:
  - {code: E1, title: {vi: "Tiếp cận", en: "Access"}}
  - {code: E2, title: {vi: "Kết quả", en: "Results"}}
sections:
  - code: A
    title: {vi: "Phần A", en: "Part A"}
    questions:
      - code: q1
        type: multiple
        text: {vi: "Kênh", en: "Channel"}
        choices:
          - {code: 1, label: {vi: "Trực tiếp", en: "In person"}}
          - {code: 2, label: {vi: "Trực tuyến", en: "Online"}}
        not_applicable: true
      - code: g
        type: grid
        text: {vi: "Lưới", en: "Grid"}
        element: E1
        not_applicable: true
        items:
          - {code: g1, text: {vi: "Mục 1", en: "Item 1"}}
          - {code: g2, text: {vi: "Mục 2", en: "Item 2"}, element: E2}
      - code: q2
        type: scale5
        text: {vi: "Chung", en: "Overall"}
        element: null
      - code: q3
        type: number
        text: {vi: "Số lần", en: "Times"}
        min: 1
        max: 10
"""


@pytest.fixture(scope="module")
def demo():
    return parse_questionnaire(DEFINITION)


def test_text_falls_back_to_vietnamese_then_first_language():
    assert Text(vi="Có", en="Yes").get("en") == "Yes"
    assert Text(vi="Có").get("en") == "Có"
    assert Text(en="Yes").get("fr") == "Yes"
    assert str(Text(vi="Có", en="Yes")) == "Có"


def test_text_is_nfc_normalised_immutable_and_hashable():
    decomposed = unicodedata.normalize("NFD", "Hài lòng")
    text = Text(vi=decomposed)
    assert text["vi"] == unicodedata.normalize("NFC", "Hài lòng")
    assert text["vi"] != decomposed
    with pytest.raises(AttributeError):
        text.foo = 1
    assert {text: 1}[Text(vi="Hài lòng")] == 1


def test_questions_keep_grids_whole_and_answer_codes_expand_them(demo):
    assert [q.code for q in demo.questions()] == ["q1", "g", "q2", "q3"]
    assert demo.answer_codes() == ("q1", "g1", "g2", "q2", "q3")
    assert demo.question("g2").code == "g"


def test_multiple_choice_exports_one_dummy_per_choice(demo):
    names = [v.name for v in demo.variables()]
    assert names == ["q1_1", "q1_2", "q1_9", "g1", "g2", "q2", "q3"]
    dummy = demo.variables()[0]
    assert [c.code for c in dummy.value_labels] == [0, 1]
    assert dummy.label.get("en") == "Channel: In person"


def test_scale_variables_carry_value_labels_and_missing_code(demo):
    g1 = next(v for v in demo.variables() if v.name == "g1")
    # 98: «left blank on the form», a paper form's own missing code (issue 10.9)
    assert [c.code for c in g1.value_labels] == [1, 2, 3, 4, 5, 9, 98]
    assert g1.value_labels[-1].label["vi"] == "Để trống trên phiếu"
    assert g1.missing_codes == (9, 98)
    assert g1.measure == "ordinal"
    assert g1.element == "E1"
    q3 = next(v for v in demo.variables() if v.name == "q3")
    assert q3.measure == "scale" and q3.value_labels == ()


def test_elements_collect_items_and_respect_item_override(demo):
    elements = {e.code: e.variables for e in demo.elements()}
    assert elements == {"E1": ("g1",), "E2": ("g2",)}


def test_scale5_gets_the_standard_scale(demo):
    q2 = demo.question("q2")
    assert q2.type is QuestionType.SCALE5
    assert [c.label.get("vi") for c in q2.choices] == [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ]
    assert q2.not_applicable is None
    assert q2.valid_codes() == frozenset({1, 2, 3, 4, 5})


def test_relevance_is_evaluated_on_the_question():
    q = parse_questionnaire(
        DEFINITION.replace(
            "        min: 1\n", '        relevant: "selected(q1, 2)"\n        min: 1\n'
        )
    ).question("q3")
    assert q.is_relevant({"q1": (1, 2)})
    assert not q.is_relevant({"q1": (1,)})
    assert not q.is_relevant({})
