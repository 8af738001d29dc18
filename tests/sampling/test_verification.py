"""Verification compares the people, not only the design: the tamper cases, each reported
with the sample file's row and column."""

import numpy as np
import pandas as pd
import pytest

from sampling import SampleDesign, draw_sample, verify_sample

DESIGN = SampleDesign(strata=("unit",), n=4, reserve=1)


@pytest.fixture
def frame():
    """Twelve people in two units; the dossier codes look like formulas to a spreadsheet."""
    return pd.DataFrame(
        {
            "source_row": np.arange(2, 14),
            "full_name": [f"Nguyễn Thị {chr(65 + i)}" for i in range(12)],
            "phone": [f"09{i:08d}" for i in range(12)],
            "dossier_code": [f"=H{i:03d}" for i in range(12)],
            "unit": pd.Categorical(["Sở Tư pháp"] * 7 + ["UBND xã An Bình"] * 5),
            "completed_on": pd.to_datetime(["2024-03-15"] * 12),
        }
    )


@pytest.fixture
def drawn(frame):
    return draw_sample(frame, DESIGN, seed=2024)


def as_file(table: pd.DataFrame) -> pd.DataFrame:
    """The sample as a CSV file carries it: text cells, the formula quote, empty ranks."""
    text = table.astype(object).where(table.notna(), "").astype(str)
    text["dossier_code"] = "'" + text["dossier_code"]
    text["completed_on"] = table["completed_on"].dt.strftime("%Y-%m-%d")
    return text.reset_index(drop=True)


def test_the_untouched_file_verifies_and_says_what_it_compared(frame, drawn):
    result = verify_sample(frame, as_file(drawn.table), drawn.manifest)
    assert result.ok, result.differences
    assert result.checked_columns == [
        "full_name", "phone", "dossier_code", "unit", "completed_on",
    ]  # fmt: skip
    assert result.unchecked_columns == []


def test_an_edited_phone_is_reported_with_its_row_and_column(frame, drawn):
    tampered = as_file(drawn.table)
    original = tampered.loc[2, "phone"]
    tampered.loc[2, "phone"] = "0999999999"
    result = verify_sample(frame, tampered, drawn.manifest)
    [difference] = result.differences
    assert difference.code == "changed_values"
    assert (difference.row, difference.column) == ("4", "phone")  # file row 2 + header
    assert difference.row_id == tampered.loc[2, "source_row"]
    assert (
        f"Sample file, row 4, column phone (source_row {difference.row_id}): «0999999999» "
        f"differs from the frame's «{original}»." == difference.message_en
    )
    assert difference.message_vi.startswith("Tệp mẫu, dòng 4, cột phone")


def test_an_edited_name_and_dossier_code_are_both_reported(frame, drawn):
    tampered = as_file(drawn.table)
    tampered.loc[0, "full_name"] = "Trần Văn Giả"
    tampered.loc[5, "dossier_code"] = "'=H999"
    result = verify_sample(frame, tampered, drawn.manifest)
    assert {(d.row, d.column) for d in result.differences} == {
        ("2", "full_name"),
        ("7", "dossier_code"),
    }
    assert result.codes == {"changed_values"}


def test_a_row_swapped_for_someone_not_drawn(frame, drawn):
    tampered = as_file(drawn.table)
    dropped = tampered.loc[1, "source_row"]
    outsider = frame[~frame["source_row"].isin(drawn.table["source_row"])].iloc[0]
    for column in ("source_row", "full_name", "phone", "dossier_code"):
        value = str(outsider[column])
        tampered.loc[1, column] = "'" + value if value.startswith("=") else value
    result = verify_sample(frame, tampered, drawn.manifest)
    assert result.codes == {"missing_rows", "extra_rows"}
    missing = next(d for d in result.differences if d.code == "missing_rows")
    extra = next(d for d in result.differences if d.code == "extra_rows")
    assert missing.row_id == dropped and "was drawn but is missing" in missing.message_en
    assert (extra.row, extra.row_id) == ("3", str(outsider["source_row"]))
    assert extra.message_en == (
        f"Sample file, row 3: source_row {outsider['source_row']} is in the frame but was "
        "not drawn."
    )


def test_primary_and_reserve_swapped(frame, drawn):
    tampered = as_file(drawn.table)
    primary = tampered.index[(tampered["selection"] == "primary")][0]
    stratum = tampered.loc[primary, "stratum"]
    reserve = tampered.index[
        (tampered["selection"] == "reserve") & (tampered["stratum"] == stratum)
    ][0]
    for column in ("selection", "reserve_rank"):
        tampered.loc[[primary, reserve], column] = tampered.loc[[reserve, primary], column].values
    result = verify_sample(frame, tampered, drawn.manifest)
    assert result.codes == {"moved_rows"}
    assert sorted(d.row for d in result.differences) == sorted([str(primary + 2), str(reserve + 2)])
    promoted = next(d for d in result.differences if d.row == str(reserve + 2))
    assert promoted.message_en.endswith(
        f"the file says stratum {stratum}, primary; it was drawn in stratum {stratum}, reserve 1."
    )


def test_a_deleted_reserve(frame, drawn):
    tampered = as_file(drawn.table)
    reserve = tampered.index[tampered["selection"] == "reserve"][-1]
    removed = tampered.loc[reserve]
    result = verify_sample(frame, tampered.drop(index=reserve), drawn.manifest)
    [difference] = result.differences
    assert difference.code == "missing_rows" and difference.row_id == removed["source_row"]
    assert difference.message_en == (
        f"source_row {removed['source_row']} (stratum {removed['stratum']}, reserve 1) was "
        "drawn but is missing from the sample file."
    )


def test_a_changed_seed(frame, drawn):
    forged = dict(drawn.manifest, seed="2025")
    result = verify_sample(frame, as_file(drawn.table), forged)
    assert "manifest_mismatch" in result.codes
    mismatch = next(d for d in result.differences if d.code == "manifest_mismatch")
    assert "seed 2025" in mismatch.message_en and "hạt giống 2025" in mismatch.message_vi
    # The file's rows are the ones seed 2024 drew: they no longer match a re-draw.
    assert {"missing_rows", "extra_rows"} & result.codes


def test_columns_left_out_of_the_file_are_named_not_compared(frame, drawn):
    published = as_file(drawn.table).drop(columns=["full_name", "phone"])
    result = verify_sample(frame, published, drawn.manifest)
    assert result.ok
    assert result.unchecked_columns == ["full_name", "phone"]


def test_numbers_and_dates_as_a_spreadsheet_writes_them(frame, drawn):
    """XLSX read back as text gives 2024-03-15 00:00:00 for a date: not a change."""
    table = as_file(drawn.table)
    table["completed_on"] = "2024-03-15 00:00:00"
    assert verify_sample(frame, table, drawn.manifest).ok
    table.loc[0, "completed_on"] = "2024-03-16 00:00:00"
    [difference] = verify_sample(frame, table, drawn.manifest).differences
    assert (difference.row, difference.column) == ("2", "completed_on")


def test_many_differences_are_listed_then_counted(frame):
    many = pd.concat([frame] * 3, ignore_index=True).assign(source_row=lambda f: f.index + 2)
    sample = draw_sample(many, SampleDesign(n=30), seed=1)
    tampered = as_file(sample.table)
    tampered["phone"] = "0999999999"
    result = verify_sample(many, tampered, sample.manifest)
    assert len(result.differences) == 21
    assert result.differences[-1].message_en.startswith("… and 10 more: cells differ")
