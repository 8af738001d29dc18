"""Low-cardinality columns (unit, group, ...) come back as categoricals: same values,
same validation, same draw and a verifiable manifest as with plain text columns."""

import unicodedata

import numpy as np
import pandas as pd
import pytest

import sampling
from sampling import SampleDesign, draw_sample, frame_content_hash, verify_sample

HEADER = ["Họ và tên", "Số điện thoại", "Mã hồ sơ", "Đơn vị", "Đối tượng", "Lĩnh vực"]
UNITS = ["UBND xã Hòa Bình", "Sở Y tế", "UBND phường Thắng Tam"]


def _rows(count: int = 60) -> list[list[str]]:
    rng = np.random.default_rng(5)
    rows = []
    for i in range(count):
        unit = UNITS[rng.integers(0, len(UNITS))]
        if i % 7 == 0:
            unit = unicodedata.normalize("NFD", unit)  # the same unit typed on a Mac
        if i % 11 == 0:
            unit = f"  {unit} "
        group = ["Cá nhân", "Tổ chức"][rng.integers(0, 2)]
        rows.append([f"Nguyễn Văn {i}", f"09{i:08d}", f"H23-{i:05d}", unit, group, "Đất đai"])
    rows[3][4] = ""  # a missing group cell
    rows[9] = list(rows[8])  # a duplicate dossier and person
    return rows


def _csv(rows, build) -> bytes:
    return build.csv_text([HEADER, *rows]).encode("utf-8-sig")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype(dict.fromkeys(categorical, "str"))


def test_unit_group_and_field_are_categoricals_with_clean_text(build):
    frame = sampling.read_frame(_csv(_rows(), build), filename="list.csv")
    for name in ("unit", "group", "field"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert frame["full_name"].dtype == "str"
    assert sorted(frame["unit"].cat.categories) == sorted(UNITS)  # NFD and padded merged
    assert all(unicodedata.is_normalized("NFC", u) for u in frame["unit"].cat.categories)
    assert pd.isna(frame.loc[3, "group"])
    assert frame.loc[0, "unit"] == unicodedata.normalize("NFC", _rows()[0][3].strip())


@pytest.mark.parametrize("variant", ["ragged", "xlsx", "newline"])
def test_every_reader_path_gives_the_same_categorical_frame(build, variant):
    rows = _rows()
    reference = sampling.read_frame(_csv(rows, build), filename="list.csv")
    if variant == "ragged":  # a short row sends the file to the Python CSV reader
        data = _csv(rows, build).replace(b"\r\n", b",\r\n", 1)
        data = data.rstrip(b"\r\n") + b"\r\nA,0912345678\r\n"
        expected = reference
    elif variant == "xlsx":
        data = build.xlsx_bytes({"Danh sách": [HEADER, *rows]})
        expected = reference
    else:  # a quoted line break in a cell: pyarrow's single-block parse
        rows[5][0] = "Trần Thị\nBình"
        data = _csv(rows, build)
        expected = sampling.read_frame(data, filename="list.csv")
        assert expected.loc[5, "full_name"] == "Trần Thị\nBình"
    frame = sampling.read_frame(data, filename="list.csv")
    frame = frame.iloc[: len(expected)]
    if variant == "ragged":
        frame = frame.drop(columns=[c for c in frame.columns if c not in expected.columns])
    for name in ("unit", "group", "field"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(
        _as_text(frame).astype(object), _as_text(expected).astype(object), check_dtype=False
    )


def test_validation_of_categoricals_matches_validation_of_text(build):
    frame = sampling.read_frame(_csv(_rows(), build), filename="list.csv")
    text = _as_text(frame)
    assert text.attrs == frame.attrs
    ours = sampling.validate_frame(frame, required=("group",))
    plain = sampling.validate_frame(text, required=("group",))
    assert isinstance(ours.valid["unit"].dtype, pd.CategoricalDtype)
    assert ours.summary == plain.summary
    assert ours.summary["duplicates"] == 1
    pd.testing.assert_frame_equal(ours.issues, plain.issues)
    pd.testing.assert_frame_equal(_as_text(ours.valid).astype(object), plain.valid.astype(object))


def test_draw_is_the_same_from_categoricals_and_from_text(build):
    frame = sampling.validate_frame(
        sampling.read_frame(_csv(_rows(), build), filename="list.csv"), required=("group",)
    ).valid
    design = SampleDesign(strata=("unit", "group"), n=20, reserve=0.5)
    ours = draw_sample(frame, design, seed=31)
    plain = draw_sample(_as_text(frame), design, seed=31)
    columns = ["source_row", "stratum", "selection", "reserve_rank", "inclusion_prob", "weight"]
    pd.testing.assert_frame_equal(
        ours.table[columns].astype(object), plain.table[columns].astype(object)
    )
    assert ours.manifest["strata"] == plain.manifest["strata"]


def test_manifest_of_a_text_frame_verifies_against_the_categorical_frame(build):
    frame = sampling.validate_frame(
        sampling.read_frame(_csv(_rows(), build), filename="list.csv"), required=("group",)
    ).valid
    design = SampleDesign(strata=("unit", "group"), n=20, reserve=0.5)
    recorded = draw_sample(_as_text(frame), design, seed=8)  # as drawn before categoricals
    assert frame_content_hash(frame) != frame_content_hash(_as_text(frame))
    assert verify_sample(frame, recorded.table, recorded.manifest).ok
    tampered = frame.copy()
    other = next(u for u in tampered["unit"].cat.categories if u != tampered.loc[0, "unit"])
    tampered.loc[0, "unit"] = other
    codes = {d.code for d in verify_sample(tampered, recorded.table, recorded.manifest).differences}
    assert "frame_changed" in codes


def test_any_changed_categorical_cell_changes_the_frame_hash():
    frame = pd.DataFrame({"unit": pd.Categorical(["a", "b", "a", None]), "x": [1, 2, 3, 4]})
    base = frame_content_hash(frame)
    for row, value in [(0, "b"), (3, "a"), (1, None)]:
        changed = frame.copy()
        changed.loc[row, "unit"] = value
        assert frame_content_hash(changed) != base, (row, value)
    renamed = frame.copy()
    renamed["unit"] = renamed["unit"].cat.rename_categories({"a": "c"})
    assert frame_content_hash(renamed) != base
