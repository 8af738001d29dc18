"""Responses layout and validation: bad input is reported with row, column and value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring_bridge.errors import ResponsesError
from scoring_bridge.inputs import prepare_responses


def test_clean_frame_types_and_no_answer_as_zero(small_spec, hand_responses):
    clean = prepare_responses(hand_responses, small_spec)
    assert clean["q3"].dtype == np.int8
    assert clean["q3"].tolist() == [5, 5, 0, 1, 3]
    assert clean["weight"].dtype == np.float64
    assert clean["is_probability"].all()  # default when the column is absent


def test_value_out_of_scale_names_row_column_and_value(small_spec, hand_responses):
    bad = hand_responses.copy()
    bad.loc[3, "q2"] = 7
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(bad, small_spec)
    error = caught.value
    assert (error.row, error.column, error.value) == (5, "q2", 7)  # header is row 1
    assert "dòng 5" in error.message_vi and "response_id r4" in error.message_en
    assert "1, 2, 3, 4, 5, 9" in error.message_en


def test_text_in_a_numeric_column_is_reported(small_spec, hand_responses):
    bad = hand_responses.astype({"q1": object})
    bad.loc[0, "q1"] = "rất tốt"
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(bad, small_spec)
    assert (caught.value.row, caught.value.column) == (2, "q1")
    assert "not a number" in caught.value.message_en


def test_renamed_column_is_suggested(small_spec, hand_responses):
    renamed = hand_responses.rename(columns={"q2": "Q2 "})
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(renamed, small_spec)
    assert caught.value.column == "q2"
    assert "'Q2'" in caught.value.message_en  # headers are stripped, then matched


def test_missing_weight_column_and_missing_weights(small_spec, hand_responses):
    without = hand_responses.drop(columns="weight")
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(without, small_spec)
    assert caught.value.column == "weight"
    assert prepare_responses(without, small_spec, unweighted=True)["weight"].eq(1.0).all()
    gap = hand_responses.copy()
    gap.loc[2, "weight"] = np.nan
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(gap, small_spec)
    assert (caught.value.row, caught.value.column) == (4, "weight")
    gap.loc[2, "weight"] = -1.0
    with pytest.raises(ResponsesError, match="positive"):
        prepare_responses(gap, small_spec)


def test_duplicate_ids_and_empty_units_are_rejected(small_spec, hand_responses):
    twice = hand_responses.copy()
    twice.loc[4, "response_id"] = "r1"
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(twice, small_spec)
    assert caught.value.column == "response_id" and caught.value.row == 2
    blank = hand_responses.copy()
    blank.loc[1, "unit"] = ""
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(blank, small_spec)
    assert (caught.value.row, caught.value.column) == (3, "unit")


def test_unknown_choice_code_in_other_variable(small_spec, hand_responses):
    frame = hand_responses.assign(gender=[1, 2, 3, 1, 2])
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(frame, small_spec)
    assert (caught.value.row, caught.value.column, caught.value.value) == (4, "gender", 3)


def test_personal_data_columns_are_dropped(small_spec, hand_responses):
    frame = hand_responses.assign(phone="0912345678", Email="a@b.vn", comment="ok")
    clean = prepare_responses(frame, small_spec)
    assert "phone" not in clean and "Email" not in clean
    assert clean["comment"].tolist() == ["ok"] * 5


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_files_read_like_the_frame(small_spec, hand_responses, tmp_path, suffix):
    path = tmp_path / f"responses{suffix}"
    frame = hand_responses.assign(is_probability=[1, 1, 1, 1, 0])
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        import pyreadstat

        pyreadstat.write_sav(frame, str(path))
    from_file = prepare_responses(path, small_spec)
    from_frame = prepare_responses(frame, small_spec)
    pd.testing.assert_frame_equal(
        from_file[["unit", "stratum", "weight", "is_probability", "q1", "q2", "q3"]],
        from_frame[["unit", "stratum", "weight", "is_probability", "q1", "q2", "q3"]],
        check_dtype=False,
    )


def test_unsupported_file_type(small_spec, tmp_path):
    path = tmp_path / "responses.json"
    path.write_text("{}")
    with pytest.raises(ResponsesError, match="not supported"):
        prepare_responses(path, small_spec)


def test_every_problem_is_reported_at_once(small_spec, hand_responses):
    """Problems in several columns and rows (and a missing column) come in one error, each
    bad cell with its row, column and value."""
    bad = hand_responses.astype({"q1": object}).drop(columns="stratum")
    bad.loc[0, "q1"] = "rất tốt"
    bad.loc[3, "q2"] = 7
    bad.loc[4, "q2"] = 8
    bad.loc[1, "weight"] = -2.0
    bad.loc[2, "unit"] = ""
    with pytest.raises(ResponsesError) as caught:
        prepare_responses(bad, small_spec)
    error = caught.value
    cells = {(p.row, p.column, p.value) for p in error.problems}
    assert cells == {
        (2, "q1", "rất tốt"),
        (5, "q2", 7),
        (6, "q2", 8),
        (3, "weight", -2.0),
        (4, "unit", ""),
    }
    assert [p.row for p in error.problems] == sorted(p.row for p in error.problems)
    assert "'stratum'" in error.message_en and error.column == "stratum"
    for text in ("row 2", "row 5", "row 6", "row 3", "row 4", "not a number", "positive"):
        assert text in error.message_en
    assert "dòng 6" in error.message_vi and "response_id r5" in error.message_en
    full = error.full_message()
    assert len([line for line in full.splitlines() if line.startswith("  ")]) == 5
