"""The WTForms builder: good answers in, bad ones out, non-relevant answers never stored."""

import datetime as dt
import subprocess
import sys

import pytest
from werkzeug.datastructures import MultiDict

from questionnaires import (
    AnswerError,
    build_form_class,
    clean_answers,
    load_builtin,
    parse_questionnaire,
)
from questionnaires.webform import WebFormError

DEFINITION = """
id: web
version: "1"
languages: [vi, en]
title: {vi: "Web", en: "Web"}
sections:
  - code: A
    title: {vi: "Phần A", en: "Part A"}
    questions:
      - code: q1
        type: yesno
        text: {vi: "Có góp ý không? <script>alert(1)</script>", en: "Feedback? <b>bold</b>"}
        hint: {vi: "Chọn một <i>ô</i>", en: "Pick <i>one</i>"}
      - code: q2
        type: scale5
        text: {vi: "Hài lòng với xử lý góp ý?", en: "Satisfied with handling?"}
        relevant: "q1 = 1"
        not_applicable: true
      - code: q3
        type: multiple
        text: {vi: "Kênh", en: "Channel"}
        required: false
        not_applicable: true
        choices:
          - {code: 1, label: {vi: "Trực tiếp & <b>nhanh</b>", en: "In person"}}
          - {code: 2, label: {vi: "Trực tuyến", en: "Online"}}
  - code: B
    title: {vi: "Phần B", en: "Part B"}
    questions:
      - code: g
        type: grid
        text: {vi: "Lưới", en: "Grid"}
        relevant: "q1 = 1"
        items:
          - {code: g1, text: {vi: "Mục 1", en: "Item 1"}}
          - {code: g2, text: {vi: "Mục 2", en: "Item 2"}}
      - code: n
        type: number
        text: {vi: "Số lần", en: "Times"}
        min: 1
        max: 12
      - code: d
        type: date
        text: {vi: "Ngày", en: "Date"}
        required: false
      - code: t
        type: text
        text: {vi: "Góp ý", en: "Suggestions"}
        required: false
        max_length: 20
"""


@pytest.fixture(scope="module")
def questionnaire():
    return parse_questionnaire(DEFINITION)


@pytest.fixture(scope="module")
def form_class(questionnaire):
    return build_form_class(questionnaire)


def choice_pairs(field):
    return [(c.value, c.label) if hasattr(c, "value") else tuple(c) for c in field.choices]


def submit(form_class, pairs):
    form = form_class(MultiDict(pairs))
    return form, form.validate()


GOOD = [
    ("q1", "1"),
    ("q2", "4"),
    ("q3", "2"),
    ("q3", "1"),
    ("g1", "5"),
    ("g2", "3"),
    ("n", "3"),
    ("d", "2024-08-01"),
    ("t", "  Tốt  "),
]


def test_good_answers_are_accepted_and_typed(form_class):
    form, ok = submit(form_class, GOOD)
    assert ok, form.errors
    assert form.answers == {
        "q1": 1,
        "q2": 4,
        "q3": (1, 2),
        "g1": 5,
        "g2": 3,
        "n": 3,
        "d": dt.date(2024, 8, 1),
        "t": "Tốt",
    }


def test_fields_are_named_by_code_with_labels_descriptions_and_choices(form_class, questionnaire):
    form = form_class()
    assert list(form._fields) == ["q1", "q2", "q3", "g1", "g2", "n", "d", "t"]
    assert choice_pairs(form.q2)[-1] == (9, "Không biết / không áp dụng")
    assert form.g1.label.text == "Mục 1"
    assert form.g1.description == "Lưới"
    assert form.q1.description == "Chọn một <i>ô</i>"
    assert form_class.answer_fields["g"] == ("g1", "g2")
    english = build_form_class(questionnaire, "en")()
    assert english.q2.label.text == "Satisfied with handling?"
    assert choice_pairs(english.q2)[0] == (1, "Very dissatisfied")


def test_only_always_shown_single_answer_questions_are_required_in_html(form_class):
    form = form_class()
    assert form.q1.flags.required and "required" in str(form.q1())
    assert form.n.flags.required
    assert not form.q2.flags.required  # relevant only if q1 = 1
    assert not form.g1.flags.required and not form.t.flags.required
    assert "required" not in str(form.q3())


def test_html_in_labels_is_escaped_never_markup(form_class):
    form = form_class()
    label_html = str(form.q1.label())
    assert "<script>" not in label_html and "&lt;script&gt;" in label_html
    radios = str(form.q3())
    assert "<b>nhanh</b>" not in radios and "&lt;b&gt;nhanh&lt;/b&gt;" in radios
    assert not hasattr(form.q1.description, "__html__")
    assert not hasattr(form.q1.label.text, "__html__")


@pytest.mark.parametrize(
    ("pairs", "field", "message"),
    [
        ([("q2", "7")], "q2", "7 is not a choice of this question"),
        ([("q2", "abc")], "q2", "not a valid answer code"),
        ([("q3", "5")], "q3", "5 is not a choice of this question"),
        ([("q3", "1"), ("q3", "9")], "q3", "cannot be combined"),
        ([("g1", "0")], "g1", "0 is not a choice"),
        ([("n", "13")], "n", "must be at most 12"),
        ([("n", "0")], "n", "must be at least 1"),
        ([("n", "2.5")], "n", "not a number"),
        ([("d", "2024-13-01")], "d", "not a valid date"),
        ([("t", "x" * 21)], "t", "longer than 20 characters"),
    ],
)
def test_bad_values_are_rejected_with_messages_in_the_forms_language(
    questionnaire, pairs, field, message
):
    overrides = {name for name, _ in pairs}
    kept = [(k, v) for k, v in GOOD if k not in overrides]
    form, ok = submit(build_form_class(questionnaire, "en"), kept + pairs)
    assert not ok
    assert set(form.errors) == {field}  # only the bad value, the rest of GOOD passes
    [error] = form.errors[field]
    assert message in error and "không" not in error  # English only, not half Vietnamese


def test_missing_required_answers_are_reported(form_class):
    form, ok = submit(form_class, [("q1", "1")])
    assert not ok
    assert set(form.errors) == {"q2", "g1", "g2", "n"}
    assert form.errors["n"] == ["Vui lòng trả lời câu hỏi này"]


def test_not_relevant_questions_are_not_required_and_their_answers_are_dropped(form_class):
    form, ok = submit(form_class, [("q1", "2"), ("q2", "7"), ("g1", "99"), ("n", "2")])
    assert ok, form.errors
    assert form.answers == {"q1": 2, "n": 2}
    assert form.q2.data is None and form.g1.data is None


def test_english_form_speaks_english_only(questionnaire):
    form = build_form_class(questionnaire, "en")(MultiDict([("q1", "1")]))
    assert not form.validate()
    assert form.errors["n"] == ["Please answer this question"]
    pairs = [(k, v) for k, v in GOOD if k != "n"] + [("n", "13")]
    form = build_form_class(questionnaire)(MultiDict(pairs))
    assert not form.validate() and form.errors["n"] == ["phải không quá 12"]


def test_section_form_uses_earlier_answers_for_relevance(questionnaire):
    section_b = build_form_class(questionnaire, section="B")
    assert list(section_b()._fields) == ["g1", "g2", "n", "d", "t"]
    form = section_b(MultiDict([("g1", "4"), ("g2", "4"), ("n", "1")]))
    form.earlier_answers = {"q1": 2}
    assert form.validate() and form.answers == {"n": 1}
    form = section_b(MultiDict([("n", "1")]))
    form.earlier_answers = {"q1": 1}
    assert not form.validate() and set(form.errors) == {"g1", "g2"}
    with pytest.raises(WebFormError):
        build_form_class(questionnaire, section="Z")


def test_clean_answers_applies_the_same_rules(questionnaire):
    stored = clean_answers(
        questionnaire,
        {"q1": "2", "q2": "5", "g1": 3, "n": "4", "csrf_token": "x", "q3": ["2"], "t": ""},
    )
    assert stored == {"q1": 2, "n": 4, "q3": (2,)}
    with pytest.raises(AnswerError) as raised:
        clean_answers(questionnaire, {"q1": "1", "q2": "6", "n": 4})
    assert set(raised.value.problems) == {"q2", "g1", "g2"}
    assert "[q2] 6 is not a choice of this question" in raised.value.message_en


def test_a_code_clashing_with_a_form_attribute_is_refused():
    clash = DEFINITION.replace("code: n\n", "code: data\n")
    with pytest.raises(WebFormError):
        build_form_class(parse_questionnaire(clash))


def test_builtin_forms_build_and_accept_a_complete_sipas_answer():
    q = load_builtin("sipas-citizen")
    pairs = [
        ("a1", "4"),
        ("a3", "3"),
        ("a5", "7"),
        ("a6", "1"),
        ("a7", "1"),
        ("a8", "2"),
        ("f1", "2"),
        ("g1", "4"),
    ]
    pairs += [(code, "4") for code in ("b1", "b2", "b3", "b4", "c1", "c2", "c3", "c4")]
    pairs += [(f"d{i}", "5") for i in range(1, 7)] + [(f"e{i}", "9") for i in range(1, 5)]
    pairs += [("b5", "3")]  # an online item sent by an in-person respondent: dropped
    form = build_form_class(q)(MultiDict(pairs))
    assert form.validate(), form.errors
    assert "b5" not in form.answers and form.answers["e1"] == 9
    officials = build_form_class(load_builtin("par-officials"), "en")()
    assert choice_pairs(officials.a1)[0] == (1, "Leader or manager")


def test_flask_wtf_base_adds_csrf_protection(questionnaire):
    flask = pytest.importorskip("flask")
    flask_wtf = pytest.importorskip("flask_wtf")
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=True)
    form_class = build_form_class(questionnaire, base=flask_wtf.FlaskForm)
    with app.test_request_context(method="POST", data=dict(GOOD)):
        form = form_class()
        assert not form.validate()
        assert "csrf_token" in form.errors
        assert form.answers["n"] == 3  # the questionnaire rules ran too


def test_the_library_does_not_import_flask():
    code = "import sys, questionnaires, questionnaires.webform; print('flask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_form_classes_are_shared_per_questionnaire_language_and_section(questionnaire):
    assert build_form_class(questionnaire) is build_form_class(questionnaire, "vi")
    assert build_form_class(questionnaire, "en") is not build_form_class(questionnaire)
    assert build_form_class(questionnaire, section="B") is not build_form_class(questionnaire)
