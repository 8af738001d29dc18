"""The built-in questionnaires: complete, bilingual, well-formed Vietnamese, sensible routing."""

import unicodedata

import pytest

from questionnaires import (
    QuestionnaireNotFoundError,
    QuestionType,
    dump_questionnaire,
    list_builtin,
    load_builtin,
    parse_questionnaire,
)
from questionnaires.loader import LIBRARY
from questionnaires.model import Text


def all_texts(q):
    yield q.title
    yield q.description
    for element in q.index_elements:
        yield element.title
    for section in q.sections:
        yield section.title
        yield section.intro
        for question in section.questions:
            yield question.text
            yield question.hint
            for choice in question.all_choices():
                yield choice.label
            for item in question.items:
                yield item.text


@pytest.fixture(scope="module", params=["sipas-citizen", "par-officials"])
def builtin(request):
    return load_builtin(request.param)


def test_both_builtins_are_listed_and_load():
    keys = [q.key for q in list_builtin()]
    assert "sipas-citizen@2024" in keys and "par-officials@2024" in keys
    assert load_builtin("sipas-citizen", "2024").version == "2024"


def test_unknown_builtin_names_what_exists():
    with pytest.raises(QuestionnaireNotFoundError) as raised:
        load_builtin("sipas-citizen", "1999")
    assert "sipas-citizen v2024" in raised.value.message_en


def test_every_text_is_bilingual(builtin):
    assert builtin.languages == ("vi", "en")
    for text in all_texts(builtin):
        if text is None:
            continue
        assert isinstance(text, Text)
        assert set(text) == {"vi", "en"}, text
        assert all(value.strip() for value in text.values())


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.yaml")), ids=lambda p: p.name)
def test_library_files_are_stored_nfc(path):
    # Text() normalises on load; the files themselves must be NFC for diffs and greps.
    assert unicodedata.is_normalized("NFC", path.read_text(encoding="utf-8"))


def test_yaml_round_trip_is_lossless(builtin):
    assert parse_questionnaire(dump_questionnaire(builtin)) == builtin


def test_every_scale_item_belongs_to_an_element_except_the_overall_rating(builtin):
    in_elements = {code for element in builtin.elements() for code in element.variables}
    scale_codes = {
        v.name for v in builtin.variables() if v.type in (QuestionType.SCALE5, QuestionType.GRID)
    }
    overall = {"sipas-citizen": {"g1"}, "par-officials": {"k1"}}[builtin.id]
    assert scale_codes - in_elements == overall  # the overall rating stands apart
    for element in builtin.elements():
        assert len(element.variables) >= 3, element.code


def test_sipas_has_the_five_elements_screening_profile_and_suggestions():
    q = load_builtin("sipas-citizen")
    assert [e.title.get("en") for e in q.elements()] == [
        "Access to services",
        "Administrative procedures",
        "Civil servants handling the case",
        "Results of the procedure",
        "Receiving and handling feedback",
    ]
    texts = {code: q.question(code).text.get("vi") for code in ("a6", "a7", "h1", "h2", "h3", "h4")}
    assert "hình thức" in texts["a6"] and "tư cách" in texts["a7"]
    assert texts["h1"] == "Giới tính" and texts["h2"] == "Độ tuổi"
    assert q.question("g1").type is QuestionType.SCALE5 and q.question("g1").element is None
    assert q.question("k2").type is QuestionType.TEXT and q.question("k2").multiline
    for code in ("c1", "d1", "e1"):
        assert q.question(code).not_applicable.code == 9


def test_sipas_routing_follows_channel_and_feedback():
    q = load_builtin("sipas-citizen")
    in_person, online = {"a6": 1}, {"a6": 2}
    assert q.question("b1").is_relevant(in_person) and not q.question("b1").is_relevant(online)
    assert q.question("b5").is_relevant(online) and not q.question("b5").is_relevant(in_person)
    assert q.question("a8").is_relevant(in_person) and not q.question("a8").is_relevant(online)
    assert q.question("f2").is_relevant({"f1": 1}) and not q.question("f2").is_relevant({"f1": 2})


def test_par_officials_covers_every_reform_field_and_groups():
    q = load_builtin("par-officials")
    assert len(q.elements()) == 7
    assert [c.label.get("vi") for c in q.question("a1").choices] == [
        "Lãnh đạo, quản lý",
        "Công chức",
        "Viên chức",
    ]
    assert q.question("d4").is_relevant({"a4": 1}) and not q.question("d4").is_relevant({"a4": 2})
    assert [c.label.get("vi") for c in q.question("b1").choices][-1] == "Rất tốt"


def test_builtins_are_parsed_once_and_shared():
    assert load_builtin("sipas-citizen") is load_builtin("sipas-citizen", "2025")  # the newest
    assert load_builtin("sipas-citizen", "2024") is load_builtin("sipas-citizen", "2024")
    assert load_builtin("par-officials") in list_builtin()
