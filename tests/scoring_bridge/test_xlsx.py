"""write_xlsx stores the cell values DataFrame.to_excel stores (read back by two readers)."""

from datetime import date, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest

from scoring_bridge.inputs import prepare_responses
from scoring_bridge.microdata import microdata_frame, write_microdata
from scoring_bridge.report import REPORT_HEADERS, write_report_xlsx
from scoring_bridge.scoring import score
from scoring_bridge.xlsx import column_letter, write_csv, write_xlsx


def cell_values(path) -> dict[str, list[list]]:
    workbook = openpyxl.load_workbook(path)
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "int": [1, -2, 3_000_000_000],
            "float": [0.1, np.nan, 1 / 3],
            "inf": [np.inf, -np.inf, 2.5],
            "flag": [True, False, True],
            "text": ["Nguyễn Thị Ánh", "  lề trái", 'a < b & "c" > d'],
            "empty": ["", None, "x"],
            "mixed": [7, "bảy", None],
            "when": pd.to_datetime(["2026-11-25 08:30:00", None, "2025-01-01 00:00:00"]),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "day": [date(2024, 9, 2), None, date(2026, 1, 31)],
        }
    )


def test_same_cells_as_pandas_in_every_sheet(tmp_path):
    sheets = {"Một": mixed_frame(), "two & three": mixed_frame().iloc[::-1]}
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "pandas.xlsx"
    write_xlsx(ours, sheets)
    with pd.ExcelWriter(theirs, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    assert cell_values(ours) == cell_values(theirs)
    for name in sheets:
        pd.testing.assert_frame_equal(
            pd.read_excel(ours, sheet_name=name, engine="calamine"),
            pd.read_excel(theirs, sheet_name=name, engine="calamine"),
        )


def test_header_is_bold_and_dates_are_formatted(tmp_path):
    write_xlsx(tmp_path / "out.xlsx", {"s": mixed_frame()})
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx")["s"]
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet["H2"].value == datetime(2026, 11, 25, 8, 30)
    assert sheet["H2"].is_date
    assert (
        sheet["J2"].value == datetime(2024, 9, 2) and sheet["J2"].number_format == "yyyy\\-mm\\-dd"
    )


def test_formula_like_text_is_neutralised_and_illegal_characters_are_dropped(tmp_path):
    frame = pd.DataFrame({"answer": ["=1+1", "bad\x07bell", "@A1"], "n": [-1.5, 2.0, -3.0]})
    write_xlsx(tmp_path / "out.xlsx", {"s": frame})
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx")["s"]
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "badbell" and sheet["A4"].value == "'@A1"
    assert sheet["B2"].value == -1.5 and sheet["B4"].value == -3.0  # numbers stay numbers


def test_csv_is_spreadsheet_safe_and_keeps_negative_numbers(tmp_path):
    frame = pd.DataFrame({"answer": ["=1+1", "-x", "ok"], "n": [-1.5, 2.0, -3.0]})
    write_csv(tmp_path / "out.csv", frame)
    got = pd.read_csv(tmp_path / "out.csv")
    assert got["answer"].tolist() == ["'=1+1", "'-x", "ok"]
    assert got["n"].tolist() == [-1.5, 2.0, -3.0]


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters(index, letters):
    assert column_letter(index) == letters


def test_microdata_xlsx_holds_the_exported_frame(citizen_spec, citizen_responses, tmp_path):
    clean = prepare_responses(citizen_responses, citizen_spec)
    write_microdata(clean, citizen_spec, tmp_path)
    expected = microdata_frame(clean, citizen_spec)
    got = pd.read_excel(tmp_path / "microdata.xlsx", sheet_name="microdata", engine="calamine")
    assert list(got.columns) == list(expected.columns)
    for name in expected.columns:
        if not pd.api.types.is_numeric_dtype(expected[name]):  # "" reads back as missing
            assert got[name].fillna("").astype(str).tolist() == expected[name].tolist(), name
        else:
            np.testing.assert_array_equal(got[name].to_numpy(float), expected[name].to_numpy(float))


def test_no_frames_gives_a_workbook_with_one_empty_sheet(tmp_path):
    write_xlsx(tmp_path / "out.xlsx", {})
    assert cell_values(tmp_path / "out.xlsx") == {"Sheet": []}


def test_report_workbook_holds_what_to_excel_wrote(citizen_spec, citizen_responses, tmp_path):
    result = score(citizen_responses, citizen_spec, "brvt-2024")
    write_report_xlsx(result, tmp_path / "report.xlsx")
    ours = cell_values(tmp_path / "report.xlsx")
    assert list(ours) == [
        "Xếp hạng",
        "Yếu tố",
        "Điểm tiêu chí",
        "Điểm (chi tiết)",
        "Chỉ số",
        "Phương pháp",
    ]
    with pd.ExcelWriter(tmp_path / "pandas.xlsx", engine="openpyxl") as writer:
        result.points.pivot(index="unit", columns="criterion", values="points").to_excel(
            writer, sheet_name="pivot"
        )
        result.points.to_excel(writer, sheet_name="points", index=False)
        result.indices.to_excel(writer, sheet_name="indices", index=False)
    theirs = cell_values(tmp_path / "pandas.xlsx")
    # Same cells; the headers are Vietnamese labels of the machine names (issue 10.11).
    for sheet, pandas_sheet in (("Điểm tiêu chí", "pivot"), ("Điểm (chi tiết)", "points"),
                                ("Chỉ số", "indices")):  # fmt: skip
        assert ours[sheet][1:] == theirs[pandas_sheet][1:]
        assert ours[sheet][0] == [REPORT_HEADERS.get(h, h) for h in theirs[pandas_sheet][0]]
    assert ours["Điểm (chi tiết)"][0][:4] == ["Mã đơn vị", "Mã tiêu chí", "Điểm", "Điểm tối đa"]
    unlabelled = [h for sheet in ("Xếp hạng", "Điểm (chi tiết)", "Chỉ số") for h in ours[sheet][0]
                  if h.isascii() and "_" in h]  # fmt: skip
    assert unlabelled == []
