"""Validation rules: every problem reported with row, column, value and both languages."""

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

import sampling
from sampling.dates import parse_date


def _frame(build, rows) -> pd.DataFrame:
    return sampling.read_frame(build.csv_text(rows).encode(), filename="list.csv")


def _values(series: pd.Series) -> list:
    return [None if pd.isna(value) else value for value in series]


def _issues(result, code) -> pd.DataFrame:
    return result.issues[result.issues["code"] == code]


def test_messy_list_end_to_end(build, citizens_rows, period):
    result = sampling.validate_frame(_frame(build, citizens_rows), period=period)
    valid = result.valid
    # Row 5: invalid phone but an address -> kept; row 6: no contact -> excluded;
    # row 7: same person as row 2 (NFD vs NFC name, spacing, case, phone format) -> merged.
    assert valid["source_row"].tolist() == [2, 3, 4, 5]
    assert _values(valid["phone"]) == ["0912345678", "0987654321", "0362345678", None]
    assert valid["completed_on"].tolist() == [pd.Timestamp(2024, 3, d) for d in (5, 6, 7, 8)]
    assert valid.loc[0, "full_name"] == "Nguyễn Văn An"
    assert result.summary == {
        "rows_read": 6,
        "blank_rows": 0,
        "valid": 4,
        "excluded": 1,
        "duplicates": 1,
        "errors": 1,
        "warnings": 2,
    }
    issues = result.issues
    assert list(issues.columns) == [
        "row", "column", "value", "severity", "action", "code", "reason_vi", "reason_en",
    ]  # fmt: skip
    shown = issues[["row", "column", "value", "severity", "action", "code"]].fillna("")
    assert shown.values.tolist() == [
        [5, "Số điện thoại", "12345", "warning", "kept", "phone_invalid"],
        [6, "Số điện thoại", "", "error", "excluded", "no_contact"],
        [7, "Họ và tên", "Nguyễn  văn AN", "warning", "merged", "duplicate_person"],
    ]
    assert "dòng 2" in issues.iloc[2]["reason_vi"] and "row 2" in issues.iloc[2]["reason_en"]


def test_summary_adds_up(build, citizens_rows):
    result = sampling.validate_frame(_frame(build, citizens_rows))
    s = result.summary
    assert s["valid"] + s["excluded"] + s["duplicates"] == s["rows_read"]
    assert s["valid"] == len(result.valid)
    assert s["errors"] + s["warnings"] == len(result.issues)


def test_invalid_phone_without_other_contact_excludes_the_row(build):
    rows = [
        ["Họ tên", "SĐT", "Email", "Đơn vị"],
        ["A", "0912", "", "X"],
        ["B", "0912", "b@x.vn", "X"],
    ]
    result = sampling.validate_frame(_frame(build, rows))
    phone_issues = _issues(result, "phone_invalid")
    assert phone_issues[["row", "severity", "action"]].values.tolist() == [
        [2, "error", "excluded"],
        [3, "warning", "kept"],
    ]
    assert "không còn cách liên hệ" in phone_issues.iloc[0]["reason_vi"]
    assert "another way to contact" in phone_issues.iloc[1]["reason_en"]
    assert result.valid["email"].tolist() == ["b@x.vn"]


def test_invalid_email_and_scientific_phone(build):
    rows = [
        ["Họ tên", "SĐT", "Email", "Đơn vị"],
        ["A", "9.12345678E+08", "a@x.vn", "X"],
        ["B", "0912345678", "b at x", "X"],
        ["C", "", "C@Example.COM", "X"],
    ]
    result = sampling.validate_frame(_frame(build, rows))
    assert _issues(result, "phone_scientific")["row"].tolist() == [2]
    assert "Text" in _issues(result, "phone_scientific").iloc[0]["reason_en"]
    assert _issues(result, "email_invalid")[["row", "action"]].values.tolist() == [[3, "kept"]]
    assert _values(result.valid["email"]) == ["a@x.vn", None, "c@example.com"]


def test_rows_without_any_contact_are_excluded(build):
    rows = [["Họ tên", "SĐT", "Địa chỉ", "Đơn vị"], ["A", "", "", "X"], ["B", "", "Thôn 1", "X"]]
    result = sampling.validate_frame(_frame(build, rows))
    assert _issues(result, "no_contact")[["row", "severity", "action"]].values.tolist() == [
        [2, "error", "excluded"]
    ]
    assert result.valid["full_name"].tolist() == ["B"]


def test_missing_required_cells_are_each_reported(build):
    rows = [["Họ tên", "SĐT", "Đơn vị"], ["", "0912345678", ""], ["B", "0912345679", "X"]]
    result = sampling.validate_frame(_frame(build, rows))
    missing = _issues(result, "missing_value")
    assert missing[["row", "column"]].values.tolist() == [[2, "Họ tên"], [2, "Đơn vị"]]
    assert result.summary["excluded"] == 1


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("05/03/2024", dt.date(2024, 3, 5)),
        ("5/3/2024", dt.date(2024, 3, 5)),
        ("05-03-2024", dt.date(2024, 3, 5)),
        ("05.03.2024", dt.date(2024, 3, 5)),
        ("2024-03-05", dt.date(2024, 3, 5)),
        ("2024-03-05 00:00:00", dt.date(2024, 3, 5)),
        ("2024-03-05T14:30", dt.date(2024, 3, 5)),
        ("05/03/2024 14:30", dt.date(2024, 3, 5)),
        ("45356", dt.date(2024, 3, 5)),  # Excel serial day number
        ("45356.5", dt.date(2024, 3, 5)),
        ("12/31/2024", None),  # month first is not Vietnamese
        ("31/02/2024", None),
        ("2024", None),
        ("hôm qua", None),
    ],
)
def test_date_formats(written, expected):
    assert parse_date(written) == expected


def test_excel_serial_matches_excel(build):
    # openpyxl writes a real date cell; its serial is what a user sees when the format
    # is lost. Both must give the same date.
    workbook = openpyxl.Workbook()
    cell = workbook.active["A1"]
    cell.value = dt.datetime(2024, 9, 30)
    serial = openpyxl.utils.datetime.to_excel(cell.value)
    assert parse_date(str(int(serial))) == dt.date(2024, 9, 30)


def test_dates_unparseable_and_outside_the_period(build, period):
    rows = [
        ["Họ tên", "SĐT", "Đơn vị", "Ngày trả kết quả"],
        ["A", "0912345671", "X", "01/01/2024"],  # first day: inside
        ["B", "0912345672", "X", "30/09/2024"],  # last day: inside
        ["C", "0912345673", "X", "31/12/2023"],
        ["D", "0912345674", "X", "01/10/2024"],
        ["E", "0912345675", "X", "31/02/2024"],
        ["F", "0912345676", "X", ""],
    ]
    result = sampling.validate_frame(_frame(build, rows), period=period)
    assert _issues(result, "date_outside_period")[["row", "value", "action"]].values.tolist() == [
        [4, "31/12/2023", "excluded"],
        [5, "01/10/2024", "excluded"],
    ]
    assert "01/01/2024–30/09/2024" in _issues(result, "date_outside_period").iloc[0]["reason_vi"]
    assert _issues(result, "date_unparseable")[["row", "action"]].values.tolist() == [[6, "kept"]]
    assert _issues(result, "date_missing")[["row", "action"]].values.tolist() == [[7, "kept"]]
    assert result.valid["full_name"].tolist() == ["A", "B", "E", "F"]
    assert result.valid["completed_on"].isna().tolist() == [False, False, True, True]


def test_period_can_be_given_as_text(build, citizens_rows):
    frame = _frame(build, citizens_rows)
    as_text = sampling.validate_frame(frame, period=("01/01/2024", "2024-09-30"))
    as_dates = sampling.validate_frame(frame, period=(dt.date(2024, 1, 1), dt.date(2024, 9, 30)))
    pd.testing.assert_frame_equal(as_text.issues, as_dates.issues)


def test_duplicate_dossiers_within_a_unit_only(build):
    rows = [
        ["Họ tên", "SĐT", "Mã hồ sơ", "Đơn vị"],
        ["A", "0912345671", "000.00.12.H23-240305-0001", "X"],
        ["B", "0912345672", "000.00.12.h23-240305-0001 ", "X"],  # same code, case and space
        ["C", "0912345673", "000.00.12.H23-240305-0001", "Y"],  # other unit
        ["D", "0912345674", "000.00.12.H23-240305-0002", "X"],
        ["E", "0912345675", "000.00.12.H23 - 240305-0001", "X"],  # same code, inner spaces
    ]
    result = sampling.validate_frame(_frame(build, rows))
    duplicates = _issues(result, "duplicate_dossier")
    assert duplicates[["row", "severity", "action"]].values.tolist() == [
        [3, "warning", "merged"],
        [6, "warning", "merged"],
    ]
    assert all("dòng 2" in text for text in duplicates["reason_vi"])
    assert result.valid["full_name"].tolist() == ["A", "C", "D"]


def test_same_name_and_phone_is_one_person_but_family_members_are_not(build):
    rows = [
        ["Họ tên", "SĐT", "Đơn vị"],
        ["Nguyễn Văn An", "0912345678", "X"],
        [build.nfd("NGUYỄN  VĂN AN"), "+84 912 345 678", "X"],  # same person
        ["Nguyễn Thị Bình", "0912345678", "X"],  # same phone, another person
        ["Nguyễn Văn An", "0987654321", "X"],  # same name, another phone
        ["Nguyễn Văn An", "0912345678", "Y"],  # another unit
    ]
    result = sampling.validate_frame(_frame(build, rows))
    assert _issues(result, "duplicate_person")["row"].tolist() == [3]
    assert result.valid["source_row"].tolist() == [2, 4, 5, 6]


def test_excluded_rows_do_not_make_later_rows_duplicates(build, period):
    rows = [
        ["Họ tên", "SĐT", "Mã hồ sơ", "Đơn vị", "Ngày trả kết quả"],
        ["A", "0912345678", "H1", "X", "01/12/2024"],  # excluded: outside the period
        ["A", "0912345678", "H1", "X", "01/03/2024"],
    ]
    result = sampling.validate_frame(_frame(build, rows), period=period)
    assert result.valid["source_row"].tolist() == [3]
    assert result.summary["duplicates"] == 0


def test_html_and_formula_cells_stay_data(build):
    rows = [["Họ tên", "SĐT", "Đơn vị"], ["<script>alert(1)</script>", "0912345678", "=1+1"]]
    result = sampling.validate_frame(_frame(build, rows))
    assert result.valid.loc[0, "full_name"] == "<script>alert(1)</script>"
    assert result.valid.loc[0, "unit"] == "=1+1"


def test_missing_columns_are_named_with_the_columns_found(build):
    rows = [["Tên", "Ghi chú"], ["A", "x"]]
    with pytest.raises(sampling.MissingColumnsError) as caught:
        sampling.validate_frame(_frame(build, rows))
    error = caught.value
    assert "Họ và tên (full_name)" in error.message_vi
    assert "Đơn vị (unit)" in error.message_en
    assert "phone" in error.message_en and "address" in error.message_en
    assert "«Tên», «Ghi chú»" in error.message_en
    assert isinstance(error, sampling.SamplingError)


def test_a_period_requires_the_completion_date_column(build, period):
    rows = [["Họ tên", "SĐT", "Đơn vị"], ["A", "0912345678", "X"]]
    with pytest.raises(sampling.MissingColumnsError) as caught:
        sampling.validate_frame(_frame(build, rows), period=period)
    assert "completed_on" in caught.value.message_en


def test_required_adds_columns_and_cells(build):
    rows = [
        ["Họ tên", "SĐT", "Đơn vị", "Đối tượng"],
        ["A", "0912345678", "X", ""],
        ["B", "0912345679", "X", "Cá nhân"],
    ]
    frame = _frame(build, rows)
    result = sampling.validate_frame(frame, required=["group"])
    assert _issues(result, "missing_value")[["row", "column"]].values.tolist() == [[2, "Đối tượng"]]
    with pytest.raises(sampling.MissingColumnsError):
        sampling.validate_frame(frame, required=["field"])


def test_no_valid_rows_carries_the_report(build):
    rows = [["Họ tên", "SĐT", "Đơn vị"], ["A", "123", "X"], ["B", "", "X"]]
    with pytest.raises(sampling.NoValidRowsError) as caught:
        sampling.validate_frame(_frame(build, rows))
    result = caught.value.result
    assert result.summary["valid"] == 0
    assert set(result.issues["code"]) == {"phone_invalid", "no_contact"}
    assert "2" in caught.value.message_en


def test_officials_need_a_group_or_position_but_no_contact(build):
    rows = [
        ["Họ và tên", "Đơn vị công tác", "Chức vụ"],
        ["Trần Văn Hùng", "Sở Nội vụ", "Chuyên viên"],
        ["Lê Thị Mai", "Sở Nội vụ", ""],
    ]
    frame = _frame(build, rows)
    result = sampling.validate_frame(frame, kind="officials")
    assert result.valid["full_name"].tolist() == ["Trần Văn Hùng"]
    assert _issues(result, "missing_group")["row"].tolist() == [3]
    with pytest.raises(sampling.MissingColumnsError):
        sampling.validate_frame(frame.drop(columns="position"), kind="officials")


def test_plain_dataframes_are_normalised_too():
    frame = pd.DataFrame(
        {
            "full_name": ["Nguye\u0302\u0303n Văn An ", "Nguyễn Văn An", None],
            "phone": ["0912 345 678", 912345678, "0987654321"],
            "unit": ["X", "X", "X"],
        }
    )
    result = sampling.validate_frame(frame)
    assert result.valid["source_row"].tolist() == [2]
    assert result.summary["duplicates"] == 1
    assert result.summary["excluded"] == 1
    assert result.valid.loc[0, "full_name"] == "Nguyễn Văn An"


def test_bad_parameters(build, citizens_rows):
    frame = _frame(build, citizens_rows)
    with pytest.raises(sampling.InvalidParameterError):
        sampling.validate_frame(frame, kind="students")
    with pytest.raises(sampling.InvalidParameterError):
        sampling.validate_frame(frame, period=("30/09/2024", "01/01/2024"))


def test_large_frame_counts_match_a_row_by_row_check():
    # Several processing blocks, checked against plain Python row by row.
    rng = np.random.default_rng(7)
    n = 150_000
    subscriber = rng.integers(0, 10**6, n)  # few enough to repeat
    forms = rng.integers(0, 3, n)
    prefixes = {0: "091", 1: "+84 98 ", 2: "12"}  # "12xxxxxxx" is not a valid number
    phones = [f"{prefixes[f]}{x:07d}" for f, x in zip(forms, subscriber, strict=True)]
    names = [f"Người {i % 50}" for i in range(n)]
    frame = pd.DataFrame({"full_name": names, "phone": phones, "unit": "X"})
    result = sampling.validate_frame(frame)

    canonical = {0: "091", 1: "098"}
    people = {
        (name, canonical[f] + f"{x:07d}")
        for name, f, x in zip(names, forms, subscriber, strict=True)
        if f != 2
    }
    assert result.summary["excluded"] == int((forms == 2).sum())
    assert result.summary["valid"] == len(people)
    assert set(zip(result.valid["full_name"], result.valid["phone"], strict=True)) == people


def test_group_cells_in_the_words_units_write(build):
    rows = [
        ["Họ và tên", "Đơn vị", "Số điện thoại", "Đối tượng"],
        ["Công ty TNHH Một", "Sở Tư pháp", "0912345601", "Tổ chức"],
        ["Công ty Cổ phần Hai", "Sở Tư pháp", "0912345602", "DOANH  NGHIỆP"],
        ["Ông Ba", "Sở Tư pháp", "0912345603", "Người dân"],
        ["Hộ kinh doanh Bốn", "Sở Tư pháp", "0912345604", "Hộ kinh doanh"],
        ["Bà Năm", "Sở Tư pháp", "0912345605", ""],
    ]
    frame = _frame(build, rows)
    groups = ["citizen", "organisation"]
    result = sampling.validate_frame(frame, groups=groups)
    unknown = _issues(result, "unknown_group")
    assert unknown[["row", "value", "severity", "action"]].values.tolist() == [
        [5, "Hộ kinh doanh", "warning", "kept"]
    ]
    assert "citizen, organisation" in unknown["reason_en"].iloc[0]
    assert len(result.valid) == 5  # reported, not excluded
    cells = [v if isinstance(v, str) else "" for v in result.valid["group"]]
    assert [sampling.group_code(v, groups) for v in cells] == [
        "organisation", "organisation", "citizen", None, None,
    ]  # fmt: skip
    # Without the campaign's groups (the command line), nothing is said about the column.
    assert _issues(sampling.validate_frame(frame), "unknown_group").empty


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Cá nhân", "citizen"), ("người dân", "citizen"), ("CONG DAN", "citizen"),
        ("Tổ chức", "organisation"), ("Cơ quan,tổ chức", "organisation"),
        ("Doanh nghiệp", "organisation"), ("organisation", "organisation"),
        ("Cán bộ", "official"), ("công chức", "official"), ("Cán bộ, công chức", "official"),
        ("official", "official"), ("Giám đốc", None),
    ],
)  # fmt: skip
def test_group_names_table(text, code):
    everything = ["citizen", "organisation", "official"]
    assert sampling.group_code(text, everything) == code
    assert sampling.group_code(text, ["citizen"]) == (code if code == "citizen" else None)
