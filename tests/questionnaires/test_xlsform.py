"""XLSForm: exports that pyxform converts, lossless round trips, contractor forms, refusals."""

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires import (
    DefinitionError,
    DefinitionValidationError,
    QuestionType,
    XLSFormError,
    build_questionnaire,
    dump_questionnaire,
    export_xlsform,
    import_xlsform,
    load_builtin,
    parse_questionnaire,
)
from questionnaires.xlsform import _Importer, _Sheet, convert_with_pyxform


def workbook(path, survey, choices=(), settings=None):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in (("survey", survey), ("choices", choices)):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    if settings:
        sheet = book.create_sheet("settings")
        sheet.append(list(settings))
        sheet.append(list(settings.values()))
    book.save(path)
    return path


@pytest.mark.parametrize("qid", ["sipas-citizen", "par-officials"])
def test_builtins_export_convert_with_pyxform_and_round_trip(tmp_path, qid):
    original = load_builtin(qid)
    path = tmp_path / f"{qid}.xlsx"
    export_xlsform(original, path)
    xform = convert_with_pyxform(path)
    assert f'id="{qid}"' in xform and f'version="{original.version}"' in xform
    assert "Rất hài lòng" in xform or "Rất tốt" in xform
    assert "selected(" in xform or "= 1" in xform
    notes = []
    assert import_xlsform(path, notes) == original
    assert notes == []


def test_export_writes_languages_relevance_and_grids(tmp_path):
    path = tmp_path / "sipas.xlsx"
    export_xlsform(load_builtin("sipas-citizen"), path)
    rows = list(openpyxl.load_workbook(path)["survey"].iter_rows(values_only=True))
    header = rows[0]
    assert "label::Vietnamese (vi)" in header and "label::English (en)" in header
    by_name = {row[header.index("name")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_name["gf"]["type"] == "begin group" and by_name["gf"]["relevant"] == "${f1} = 1"
    assert by_name["f2"]["type"] == "select_one scale5_na"
    assert by_name["a5"]["constraint"] == ". >= 1 and . <= 12"
    assert by_name["k1"]["type"].startswith("select_multiple ")


CONTRACTOR_SURVEY = [
    (
        "type",
        "name",
        "label::English (en)",
        "label::Tiếng Việt",
        "required",
        "relevant",
        "appearance",
    ),
    ("start", "start", None, None, None, None, None),
    ("select_one yn", "visited", "Did you visit?", "Ông/Bà có đến không?", "yes", None, None),
    ("begin group", "visit", "Visit", "Lần đến", None, "${visited} = 'yes'", None),
    ("integer", "times", "How many times?", "Mấy lần?", "TRUE", None, None),
    ("begin_group", "detail", "Details", "Chi tiết", None, "${times} > 1", None),
    ("text", "why", "Why?", "Vì sao?", None, None, "multiline"),
    ("date", "when", "When?", "Khi nào?", None, None, None),
    ("end_group", None, None, None, None, None, None),
    ("end group", None, None, None, None, None, None),
    ("decimal", "cost", "Cost", "Chi phí", "no", "selected(${visited}, 'no')", None),
]
CONTRACTOR_CHOICES = [
    ("list_name", "name", "label::English (en)", "label::Tiếng Việt"),
    ("yn", "yes", "Yes", "Có"),
    ("yn", "no", "No", "Không"),
]


def test_a_contractor_form_imports_with_renumbered_choices(tmp_path):
    path = workbook(
        tmp_path / "kobo.xlsx",
        CONTRACTOR_SURVEY,
        CONTRACTOR_CHOICES,
        {"form_title": "Khảo sát", "form_id": "Kobo_Form_1", "version": "202401"},
    )
    notes = []
    q = import_xlsform(path, notes)
    assert q.id == "kobo-form-1" and q.version == "202401"
    assert q.languages == ("vi", "en")
    assert [s.code for s in q.sections] == ["S1", "visit", "S3"]
    visited = q.question("visited")
    assert visited.type is QuestionType.YESNO  # Có/Không coded 1/2 is the standard yes/no
    assert visited.text.get("en") == "Did you visit?" and visited.required
    assert q.question("times").relevant == "visited = 1"
    assert q.question("why").relevant == "visited = 1 and times > 1"  # inner group flattened
    assert q.question("why").multiline and not q.question("why").required
    assert q.question("when").type is QuestionType.DATE
    assert q.question("cost").relevant == "selected(visited, 2)"
    assert not q.question("cost").integer
    assert any("yes=1, no=2" in note for note in notes)
    assert parse_questionnaire(dump_questionnaire(q)) == q  # the YAML written by the CLI


def test_unsupported_features_are_listed_together_by_sheet_row_and_column(tmp_path):
    survey = [
        ("type", "name", "label", "calculation", "constraint", "choice_filter"),
        ("begin repeat", "people", "People", None, None, None),
        ("calculate", "total", None, "1 + 1", None, None),
        ("note", "hello", "Hello", None, None, None),
        ("integer", "age", "Age", None, ". > 17 and . < 99", None),
        ("select_one colours", "colour", "Colour", None, None, "x = 1"),
        ("select_one missing", "m", "M", None, None, None),
        ("text", "t", "T", None, None, None),
        ("end repeat", None, None, None, None, None),
    ]
    choices = [
        ("list_name", "name", "label", "image"),
        ("colours", "1", "Red", "red.png"),
        ("colours", "2", "Blue", None),
    ]
    path = workbook(tmp_path / "bad.xlsx", survey, choices)
    with pytest.raises(XLSFormError) as raised:
        import_xlsform(path)
    places = [(p.sheet, p.row, p.column) for p in raised.value.problems]
    assert ("choices", 1, "image") in places
    assert ("survey", 1, "calculation") in places
    assert ("survey", 1, "choice_filter") in places
    assert ("survey", 2, "type") in places  # begin repeat
    assert ("survey", 3, "type") in places  # calculate
    assert ("survey", 4, "type") in places  # note
    assert ("survey", 5, "constraint") in places
    assert ("survey", 7, "type") in places  # unknown choice list
    assert (
        "[sheet survey, row 5, column constraint] constraint «. > 17 and . < 99» is not supported"
        in raised.value.message_en
    )
    assert (
        "[trang survey, dòng 2, cột type] loại «begin repeat» chưa được hỗ trợ"
        in raised.value.message_vi
    )


def test_rules_of_the_definition_apply_after_conversion(tmp_path):
    survey = [
        ("type", "name", "label", "relevant"),
        ("text", "a", "A", "${b} != ''"),
        ("text", "b", "B", None),
        ("text", "b", "B again", None),
    ]
    path = workbook(tmp_path / "later.xlsx", survey)
    with pytest.raises(DefinitionValidationError) as raised:
        import_xlsform(path)
    messages = [p.text_en() for p in raised.value.problems]
    assert any("[question a] condition refers to «b», which comes later" in m for m in messages)
    assert any("[question b] code is used twice" in m for m in messages)


def test_not_a_workbook_and_missing_sheets_are_clear_errors(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    with pytest.raises(XLSFormError) as raised:
        import_xlsform(fake)
    assert "cannot open the Excel (.xlsx) file" in raised.value.message_en
    empty = tmp_path / "empty.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "other"
    book.active.append(["x"])
    book.save(empty)
    with pytest.raises(XLSFormError) as raised:
        import_xlsform(empty)
    assert "the survey sheet is missing" in raised.value.message_en


def test_bad_relevance_and_unknown_language_columns(tmp_path):
    survey = [
        ("type", "name", "label::Klingon", "relevant"),
        ("text", "a", "A", None),
        ("text", "b", "B", "${a} = "),
    ]
    with pytest.raises(XLSFormError) as raised:
        import_xlsform(workbook(tmp_path / "x.xlsx", survey))
    places = [(p.sheet, p.row, p.column) for p in raised.value.problems]
    assert ("survey", 1, "label::Klingon") in places
    assert ("survey", 3, "relevant") in places


def _sheet(name, rows):
    header = list(rows[0])
    return _Sheet(
        name,
        header,
        [(n, dict(zip(header, row, strict=True))) for n, row in enumerate(rows[1:], 2)],
    )


cell_junk = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "begin group",
            "end group",
            "select_one yn",
            "select_multiple yn",
            "integer",
            "note",
            "${visited} = 'yes'",
            "yes",
            "x y z",
            ". >= 3",
        ]
    ),
    st.text(max_size=6),
    st.integers(-2, 3),
)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_cell_corruption_gives_a_clear_error_or_a_questionnaire(data):
    survey = [list(row) for row in CONTRACTOR_SURVEY]
    choices = [list(row) for row in CONTRACTOR_CHOICES]
    for _ in range(data.draw(st.integers(1, 4))):
        table = data.draw(st.sampled_from([survey, choices]))
        row = data.draw(st.integers(1, len(table) - 1))
        column = data.draw(st.integers(0, len(table[0]) - 1))
        table[row][column] = data.draw(cell_junk)
    importer = _Importer(
        {"survey": _sheet("survey", survey), "choices": _sheet("choices", choices)}
    )
    raw = importer.definition()
    if importer.problems:
        assert all(p.message_en and p.message_vi for p in importer.problems)
        return
    try:
        build_questionnaire(raw)
    except DefinitionError as error:
        assert error.problems


def test_incomplete_translations_fall_back_to_the_default_language_with_warnings(tmp_path):
    """Labels and hints given in Vietnamese only (a hint column with no English one, an
    empty English label, an empty English choice label) import as ODK and KoboToolbox
    accept them: the English text is the Vietnamese one, and each row is named."""
    vi, en = "label::Vietnamese (vi)", "label::English (en)"
    path = workbook(
        tmp_path / "incomplete.xlsx",
        [
            ("type", "name", vi, en, "hint::Vietnamese (vi)", "required"),
            (
                "select_one kenh",
                "a6",
                "Ông/Bà nộp hồ sơ bằng cách nào?",
                "How did you apply?",
                "Chọn một",
                "yes",
            ),
            ("text", "g1", "Góp ý của Ông/Bà", None, None, "no"),
        ],
        [
            ("list_name", "name", vi, en),
            ("kenh", "1", "Trực tiếp", "In person"),
            ("kenh", "2", "Trực tuyến", None),
        ],
        settings={"form_id": "incomplete", "default_language": "Vietnamese (vi)"},
    )
    assert "Trực tuyến" in convert_with_pyxform(path)  # the reference accepts it too
    notes = []
    q = import_xlsform(path, notes)
    assert q.languages == ("vi", "en")
    assert q.question("a6").text["en"] == "How did you apply?"
    assert q.question("a6").hint["en"] == "Chọn một"
    assert q.question("g1").text["en"] == "Góp ý của Ông/Bà"
    assert q.question("a6").choices[1].label["en"] == "Trực tuyến"
    assert len(notes) == 3
    assert any("survey, row 2, column «hint::English (en)»" in n for n in notes)
    assert any("survey, row 3, column «label::English (en)»" in n for n in notes)
    assert any("choices, row 3, column «label::English (en)»" in n for n in notes)
    assert all("dòng" in n and "Vietnamese (vi)" in n for n in notes)


def test_a_row_with_no_label_in_any_language_is_still_refused(tmp_path):
    path = workbook(
        tmp_path / "nolabel.xlsx",
        [
            ("type", "name", "label::Vietnamese (vi)", "label::English (en)"),
            ("text", "g1", None, None),
        ],
    )
    with pytest.raises((XLSFormError, DefinitionError)):
        import_xlsform(path)
