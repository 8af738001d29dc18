"""The issue report as CSV (Excel-friendly UTF-8) and XLSX, safe against formula injection."""

import openpyxl
import pandas as pd
import pytest

import sampling

DANGEROUS = ['=HYPERLINK("http://x")', "+1+2", "-3+4", "@SUM(A1)", "=1+1\tx"]


@pytest.fixture
def result_with_formulas(build):
    rows = [["Họ tên", "SĐT", "Đơn vị"]]
    rows += [[f"Tên {i}", text, "Xã Ứng Hòa"] for i, text in enumerate(DANGEROUS)]
    rows.append(["Có số", "0912345678", "Xã Ứng Hòa"])
    frame = sampling.read_frame(build.csv_text(rows).encode(), filename="list.csv")
    return sampling.validate_frame(frame)


def test_csv_report_has_bom_vietnamese_and_neutralised_formulas(tmp_path, result_with_formulas):
    path = result_with_formulas.write_report(tmp_path / "loi.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    report = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(report.columns) == [
        "row", "column", "value", "severity", "action", "code", "reason_vi", "reason_en",
    ]  # fmt: skip
    assert report["column"].tolist() == ["SĐT"] * len(DANGEROUS)  # as the user wrote it
    assert report["value"].tolist() == ["'" + text for text in DANGEROUS]
    assert "không hợp lệ" in report["reason_vi"].iloc[0]


def test_xlsx_report_cells_are_text_not_formulas(tmp_path, result_with_formulas):
    path = result_with_formulas.write_report(tmp_path / "loi.xlsx")
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["issues"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["row", "column", "value"]
    values = [row[2].value for row in sheet.iter_rows(min_row=2)]
    kinds = [row[2].data_type for row in sheet.iter_rows(min_row=2)]
    assert all(value.startswith("'") for value in values)
    assert set(kinds) == {"s"}
    assert sheet.cell(row=2, column=7).value.startswith("Số điện thoại không hợp lệ")
    summary = {row[0].value: row[1].value for row in workbook["summary"].iter_rows(min_row=2)}
    assert summary["rows_read"] == len(DANGEROUS) + 1
    assert summary["excluded"] == len(DANGEROUS)


def test_report_strips_characters_xlsx_cannot_store(tmp_path, build):
    frame = pd.DataFrame(
        {"full_name": ["A", "B"], "phone": ["12\x0034\x07", "0912345678"], "unit": ["X", "X"]}
    )
    result = sampling.validate_frame(frame)
    path = result.write_report(tmp_path / "loi.xlsx")
    sheet = openpyxl.load_workbook(path)["issues"]
    assert sheet.cell(row=2, column=3).value == "1234"


def test_report_format_is_chosen_by_extension(tmp_path, result_with_formulas):
    with pytest.raises(sampling.ReportFormatError) as caught:
        result_with_formulas.write_report(tmp_path / "loi.pdf")
    assert ".csv" in caught.value.message_vi and ".xlsx" in caught.value.message_en


def test_empty_report_still_has_its_columns(tmp_path, build):
    rows = [["Họ tên", "SĐT", "Đơn vị"], ["A", "0912345678", "X"]]
    result = sampling.validate_frame(sampling.read_frame(build.csv_text(rows).encode()))
    assert result.issues.empty
    report = pd.read_csv(result.write_report(tmp_path / "loi.csv"), encoding="utf-8-sig")
    assert report.empty and list(report.columns)[:3] == ["row", "column", "value"]


def test_text_summary_is_bilingual_and_lists_first_issues(result_with_formulas):
    text = result_with_formulas.to_text(max_issues=2)
    assert "Đã đọc 6 dòng" in text and "Read 6 rows" in text
    assert "phone_invalid" in text
    assert text.count("Dòng/row") == 2
    assert "và 3 vấn đề khác" in text and "and 3 more" in text


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+84912345678", "'+84912345678"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Nguyễn = An", "Nguyễn = An"),
        ("a\x00b\x1fc", "abc"),
        (42, 42),
    ],
)
def test_spreadsheet_safe(cell, safe):
    assert sampling.spreadsheet_safe(cell) == safe


def test_formula_looking_headers_are_neutralised_in_the_report(tmp_path, build):
    # "=Họ tên" is still recognised as the name column; the report names it as written.
    rows = [
        ["=Họ tên", "SĐT", "Đơn vị"],
        ["", "0912345678", "Xã Ứng Hòa"],
        ["A", "0912345679", "X"],
    ]
    frame = sampling.read_frame(build.csv_text(rows).encode(), filename="list.csv")
    assert "full_name" in frame.columns
    result = sampling.validate_frame(frame)
    assert "=Họ tên" in set(result.issues["column"])
    path = result.write_report(tmp_path / "loi.csv")
    report = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert "'=Họ tên" in set(report["column"])
    assert not any(text.startswith("=") for text in report["column"])


def test_spreadsheet_safe_frame_neutralises_every_kind_of_text_column():
    from sampling.text import spreadsheet_safe_frame

    table = pd.DataFrame(
        {
            "text": pd.array(["=1+1", "ok", None, "\x01x", "-5"], dtype="str"),
            "category": pd.Categorical(["=c", "d", "=c", "e", None]),
            "mixed": [1, "=x", None, 2.5, "@y"],
            "number": [1, 2, 3, 4, 5],
        }
    )
    safe = spreadsheet_safe_frame(table)
    assert safe["text"].tolist()[:2] == ["'=1+1", "ok"] and pd.isna(safe["text"][2])
    assert safe["text"].tolist()[3:] == ["x", "'-5"]  # control character removed
    assert safe["category"].tolist()[:4] == ["'=c", "d", "'=c", "e"]
    assert isinstance(safe["category"].dtype, pd.CategoricalDtype)
    assert safe["mixed"].tolist()[:2] == [1, "'=x"] and safe["mixed"][3] == 2.5
    assert safe["number"].tolist() == [1, 2, 3, 4, 5]
    # CSV keeps control characters; the input is not changed.
    assert spreadsheet_safe_frame(table, strip_control=False)["text"][3] == "\x01x"
    assert table["text"][0] == "=1+1"
