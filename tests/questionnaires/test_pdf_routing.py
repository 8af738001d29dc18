"""Routing instructions derived from relevance: jumps where they are exact, words elsewhere."""

from questionnaires.model import (
    SCALE5_CHOICES,
    YESNO_CHOICES,
    Choice,
    GridItem,
    Question,
    Questionnaire,
    QuestionType,
    Section,
    Text,
)
from questionnaires.pdf_routing import (
    Jump,
    describe_condition,
    jump_text,
    only_if_text,
    plan_routing,
)


def yesno(code, relevant=None):
    return Question(
        code,
        QuestionType.YESNO,
        Text(vi=f"Câu {code}?", en=f"{code}?"),
        choices=YESNO_CHOICES,
        relevant=relevant,
    )


def single(code, relevant=None, n=3):
    choices = tuple(Choice(i, Text(vi=f"Lựa chọn {i}", en=f"Option {i}")) for i in range(1, n + 1))
    return Question(code, QuestionType.SINGLE, Text(vi=code), choices=choices, relevant=relevant)


def number(code, relevant=None):
    return Question(code, QuestionType.NUMBER, Text(vi=code), relevant=relevant)


def build(*questions, grid=None):
    sections = [Section("A", Text(vi="Phần A"), questions=tuple(questions))]
    if grid is not None:
        sections.append(Section("B", Text(vi="Phần B"), questions=(grid,)))
    return Questionnaire("t", "1", Text(vi="T"), sections=tuple(sections))


def test_contiguous_skip_becomes_a_jump_and_needs_no_condition():
    q = build(yesno("q1"), single("q2", "q1 = 1"), single("q3", "q1 in (1)"), single("q4"))
    routing = plan_routing(q)
    assert routing.jumps == {"q1": [Jump((2,), "4")]}
    assert routing.conditions == {}


def test_skip_to_the_end_is_a_jump_without_target():
    q = build(yesno("q1"), single("q2", "q1 != 2"))
    routing = plan_routing(q)
    assert routing.jumps["q1"] == [Jump((2,), None)]
    assert jump_text(routing.jumps["q1"][0], q.question("q1"), "vi") == (
        "Nếu trả lời “Không”, kết thúc phiếu tại đây."
    )


def test_answers_with_the_same_target_are_listed_together():
    q = build(single("q1", n=3), single("q2", "q1 = 1"), single("q3"))
    routing = plan_routing(q)
    assert routing.jumps["q1"] == [Jump((2, 3), "3")]
    text = jump_text(routing.jumps["q1"][0], q.question("q1"), "en")
    assert text == "If “Option 2” or “Option 3”, go to question 3."


def test_a_gap_in_the_skipped_questions_prints_conditions_instead_of_a_jump():
    # q3 is asked whatever q1 is, so "go to question 4" after q1 = 2 would skip it wrongly.
    q = build(
        yesno("q1"), single("q2", "q1 = 1"), single("q3"), single("q4", "q1 = 1"), single("q5")
    )
    routing = plan_routing(q)
    assert "q1" not in routing.jumps
    assert set(routing.conditions) == {"q2", "q4"}


def test_condition_on_several_questions_is_printed_in_words():
    q = build(yesno("q1"), number("q2"), single("q3", "q1 = 1 and (q2 > 3 or not answered(q2))"))
    routing = plan_routing(q)
    assert "q3" not in sum((list(j) for j in routing.jumps.values()), [])
    text = only_if_text(routing.conditions["q3"], q, routing.numbers, "vi")
    assert text == (
        "Chỉ trả lời nếu câu 1 trả lời “Có” và "
        "(câu trả lời câu 2 lớn hơn 3 hoặc chưa trả lời câu 2)."
    )
    english = only_if_text(routing.conditions["q3"], q, routing.numbers, "en")
    assert english == (
        "Answer only if the answer to question 1 is “Yes” and "
        "(the answer to question 2 is greater than 3 or question 2 is not answered)."
    )


def test_multiple_choice_source_is_described_not_jumped():
    multiple = Question(
        "q1",
        QuestionType.MULTIPLE,
        Text(vi="Kênh?"),
        choices=(Choice(1, Text(vi="Điện thoại")), Choice(2, Text(vi="Cổng dịch vụ công"))),
    )
    q = build(multiple, single("q2", "selected(q1, 2)"))
    routing = plan_routing(q)
    assert routing.jumps == {}
    assert describe_condition(routing.conditions["q2"], q, routing.numbers, "vi") == (
        "ở câu 1 có chọn “Cổng dịch vụ công”"
    )


def test_grid_items_are_numbered_and_referred_to_by_number():
    grid = Question(
        "g",
        QuestionType.GRID,
        Text(vi="Lưới"),
        choices=SCALE5_CHOICES,
        items=(GridItem("g1", Text(vi="a")), GridItem("g2", Text(vi="b"))),
    )
    follow = single("q3", "g2 in (1, 2)")
    q = Questionnaire(
        "t",
        "1",
        Text(vi="T"),
        sections=(Section("A", Text(vi="A"), questions=(yesno("q1"), grid, follow)),),
    )
    routing = plan_routing(q)
    assert routing.numbers["g1"] == "2.1" and routing.numbers["g2"] == "2.2"
    assert routing.numbers["q3"] == "3"
    words = describe_condition(routing.conditions["q3"], q, routing.numbers, "en")
    assert words == "the answer to question 2.2 is “Very dissatisfied” or “Dissatisfied”"
