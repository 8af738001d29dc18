"""Manifest content, frame hashing and verification of a sample against frame + manifest."""

import json

import numpy as np
import pandas as pd
import pytest

from sampling import (
    ManifestError,
    SampleDesign,
    frame_content_hash,
    read_manifest,
    verify_sample,
    write_manifest,
)
from sampling import draw_sample as draw

DESIGN = SampleDesign(strata=("unit", "group"), n=40, reserve=0.25)


def make_frame(rows=400):
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "source_row": np.arange(2, rows + 2),
            "full_name": [f"Trần Thị {i}" for i in range(rows)],
            "phone": [f"09{i:08d}" for i in range(rows)],
            "unit": rng.choice(["Sở Y tế", "UBND xã Hòa Bình"], rows),
            "group": rng.choice(["individual", "organisation"], rows),
            "score": rng.normal(size=rows),
            "completed_on": pd.Timestamp("2024-03-01")
            + pd.to_timedelta(rng.integers(0, 100, rows), unit="D"),
        }
    )


def codes(result):
    return {d.code for d in result.differences}


def test_manifest_records_seed_generator_versions_design_and_strata():
    frame = make_frame()
    manifest = draw(frame, DESIGN, seed=2024).manifest
    assert manifest["seed"] == "2024"
    assert manifest["bit_generator"] == "PCG64"
    assert manifest["numpy_version"] == np.__version__
    assert manifest["frame"]["rows"] == 400
    assert manifest["frame"]["content_sha256"] == frame_content_hash(frame)
    assert manifest["design"]["strata"] == ["unit", "group"]
    assert manifest["design"]["reserve"] == 0.25
    strata = pd.DataFrame({k: v for k, v in manifest["strata"].items() if k != "values"})
    assert strata["n_h"].sum() == 40
    assert strata["N_h"].sum() == 400
    assert np.allclose(strata["inclusion_prob"], strata["n_h"] / strata["N_h"])
    values = manifest["strata"]["values"]
    labels = [f"{u} | {g}" for u, g in zip(values["unit"], values["group"], strict=True)]
    assert strata["stratum"].tolist() == labels
    json.dumps(manifest)  # JSON-ready


def test_frame_hash_tracks_content_and_row_order_not_column_order():
    frame = make_frame()
    base = frame_content_hash(frame)
    assert frame_content_hash(frame.copy()) == base
    assert frame_content_hash(frame[frame.columns[::-1]]) == base
    changed = frame.copy()
    changed.loc[7, "phone"] = "0912345678"
    assert frame_content_hash(changed) != base
    swapped = frame.iloc[[1, 0, *range(2, len(frame))]]
    assert frame_content_hash(swapped) != base
    assert frame_content_hash(frame.iloc[:-1]) != base


def test_frame_hash_same_for_object_and_arrow_strings_and_handles_missing_values():
    frame = make_frame(rows=20)
    frame.loc[3, "full_name"] = None
    frame.loc[4, "score"] = np.nan
    as_object = frame.astype({"full_name": object, "phone": object})
    assert frame_content_hash(as_object) == frame_content_hash(frame)
    other = frame.copy()
    other.loc[3, "full_name"] = ""
    assert frame_content_hash(other) != frame_content_hash(frame)
    as_category = frame.astype({"unit": "category"})
    assert frame_content_hash(as_category) == frame_content_hash(as_category.copy())


def test_verify_accepts_the_untouched_sample():
    frame = make_frame()
    sample = draw(frame, DESIGN, seed=7)
    result = verify_sample(frame, sample.table, sample.manifest)
    assert result.ok, result.differences


def test_verify_accepts_a_csv_round_trip(tmp_path):
    frame = make_frame()
    sample = draw(frame, DESIGN, seed=8)
    sample.table.to_csv(tmp_path / "s.csv", index=False)
    write_manifest(sample.manifest, tmp_path / "s.manifest.json")
    table = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    assert verify_sample(frame, table, read_manifest(tmp_path / "s.manifest.json")).ok


def test_verify_detects_a_swapped_row():
    frame = make_frame()
    sample = draw(frame, DESIGN, seed=9)
    tampered = sample.table.copy()
    outsider = frame.loc[~frame["source_row"].isin(tampered["source_row"]), "source_row"].iloc[0]
    tampered.iloc[0, tampered.columns.get_loc("source_row")] = outsider
    result = verify_sample(frame, tampered, sample.manifest)
    assert not result.ok
    assert {"missing_rows", "extra_rows"} <= codes(result)
    assert any(str(outsider) in d.message_en for d in result.differences)


def test_verify_detects_ranks_selection_weights_and_duplicates():
    frame = make_frame()
    sample = draw(frame, DESIGN, seed=10)
    table = sample.table.reset_index(drop=True)
    reserves = table.index[table["selection"] == "reserve"]
    ranks = table.copy()
    ranks.loc[reserves[0], "reserve_rank"], ranks.loc[reserves[1], "reserve_rank"] = (
        table.loc[reserves[1], "reserve_rank"],
        table.loc[reserves[0], "reserve_rank"],
    )
    assert "wrong_reserve_rank" in codes(verify_sample(frame, ranks, sample.manifest))
    moved = table.copy()
    moved.loc[0, "selection"] = "reserve"
    assert "moved_rows" in codes(verify_sample(frame, moved, sample.manifest))
    weights = table.copy()
    weights.loc[2, "weight"] *= 1.01
    assert codes(verify_sample(frame, weights, sample.manifest)) == {"wrong_weight"}
    doubled = pd.concat([table, table.iloc[[0]]])
    assert "duplicate_rows" in codes(verify_sample(frame, doubled, sample.manifest))


def test_verify_detects_a_changed_frame_and_a_changed_seed():
    frame = make_frame()
    sample = draw(frame, DESIGN, seed=12)
    changed = frame.copy()
    changed.loc[0, "full_name"] = "Lê Văn Tám"
    result = verify_sample(changed, sample.table, sample.manifest)
    assert "frame_changed" in codes(result)
    forged = dict(sample.manifest, seed="13")
    result = verify_sample(frame, sample.table, forged)
    assert {"manifest_mismatch", "missing_rows", "extra_rows"} <= codes(result)
    assert all(d.message_vi and d.message_en for d in result.differences)


def test_read_manifest_errors(tmp_path):
    with pytest.raises(ManifestError):
        read_manifest(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ManifestError):
        read_manifest(tmp_path / "bad.json")
    (tmp_path / "partial.json").write_text('{"seed": "1"}', encoding="utf-8")
    with pytest.raises(ManifestError):
        read_manifest(tmp_path / "partial.json")


def test_frame_hash_does_not_depend_on_arrow_chunking():
    import pyarrow as pa

    def column(chunks):
        arrow = pa.chunked_array(chunks, type=pa.large_string())
        return pd.DataFrame({"x": pd.Series(pd.arrays.ArrowStringArray(arrow))})

    first = column([["a", "bb", None], ["ccc", "", None, "đ"]])
    second = column([["a", "bb", None, "ccc"], ["", None, "đ"]])
    as_object = pd.DataFrame(
        {"x": pd.Series(["a", "bb", None, "ccc", "", None, "đ"], dtype=object)}
    )
    assert frame_content_hash(first) == frame_content_hash(second) == frame_content_hash(as_object)
    moved_null = column([["a", "bb", ""], ["ccc", None, None, "đ"]])
    assert frame_content_hash(moved_null) != frame_content_hash(first)
