"""`surveyapp sample plan | draw | verify` through click's CliRunner."""

import json
import unicodedata

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from surveyapp.cli import cli
from surveyapp.commands import sample_draw

UNITS = ["Sở Tư pháp", "UBND xã An Bình", "UBND xã Tân Phú"]


@pytest.fixture
def frame_csv(tmp_path):
    rng = np.random.default_rng(8)
    rows = 900
    frame = pd.DataFrame(
        {
            "Họ và tên": [f"Nguyễn Văn {i}" for i in range(rows)],
            "Số điện thoại": [f"09{i:08d}" for i in range(rows)],
            "Đơn vị": rng.choice(UNITS, rows, p=[0.5, 0.3, 0.2]),
            "Đối tượng": rng.choice(["Cá nhân", "Tổ chức"], rows),
            "Ngày trả kết quả": "15/03/2024",
        }
    )
    path = tmp_path / "frame.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def run(*args):
    return CliRunner().invoke(cli, ["sample", *map(str, args)])


def test_plan_prints_the_allocation_table(frame_csv):
    result = run("plan", frame_csv, "--strata", "unit,group", "--n", 90, "--min-per-stratum", 10)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["stratum", "N_h", "n_h", "reserve_h", "fraction"]
    assert len(lines) == 1 + 6 + 1  # header, 3 units x 2 groups, total
    assert lines[-1].split()[-4:-1] == ["900", "90", "0"]


def test_plan_with_margin_uses_cochran(frame_csv):
    result = run("plan", frame_csv, "--strata", "unit", "--margin", 0.05)
    assert result.exit_code == 0, result.output
    # 384.146 / (1 + 383.146 / 900) = 269.5 -> 270
    assert result.output.splitlines()[-1].split()[-3] == "270"


def test_draw_csv_writes_sample_and_manifest_and_verifies(frame_csv, tmp_path):
    out = tmp_path / "sample.csv"
    result = run("draw", frame_csv, "--strata", "unit,group", "--n", 60, "--reserve", 0.5,
                 "--seed", 77, "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for column in ["full_name", "phone", "unit", "group", "source_row", "stratum", "selection",
                   "reserve_rank", "inclusion_prob", "weight"]:  # fmt: skip
        assert column in table.columns
    assert (table["selection"] == "primary").sum() == 60
    assert (table.loc[table["selection"] == "primary", "reserve_rank"] == "").all()
    assert set(table.loc[table["selection"] == "reserve", "reserve_rank"]) >= {"1", "2"}
    manifest = json.loads((tmp_path / "sample.manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == "77"
    assert manifest["source"]["kind"] == "citizens"
    assert manifest["design"]["reserve"] == 0.5
    result = run("verify", frame_csv, out)
    assert result.exit_code == 0, result.output


def test_draw_xlsx_one_sheet_per_unit_and_verifies(frame_csv, tmp_path):
    out = tmp_path / "sample.xlsx"
    result = run(
        "draw", frame_csv, "--strata", "unit,group", "--n", 40, "--reserve", 2, "--out", out
    )
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(out, sheet_name=None, dtype=str, engine="calamine")
    assert sorted(sheets) == sorted(UNITS)
    for name, rows in sheets.items():
        assert (rows["unit"] == name).all()
    manifest = json.loads((tmp_path / "sample.manifest.json").read_text(encoding="utf-8"))
    assert int(manifest["seed"]) > 0  # fresh seed recorded
    result = run("verify", frame_csv, out, "--manifest", tmp_path / "sample.manifest.json")
    assert result.exit_code == 0, result.output


def test_verify_fails_on_a_tampered_sample(frame_csv, tmp_path):
    out = tmp_path / "s.csv"
    assert run("draw", frame_csv, "--strata", "unit", "--n", 30, "--reserve", 3, "--seed", 5,
               "--out", out).exit_code == 0  # fmt: skip
    table = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.loc[0, "selection"] = "reserve"
    table.to_csv(out, index=False, encoding="utf-8-sig")
    result = run("verify", frame_csv, out)
    assert result.exit_code == 1
    # The first data row of the file (row 2 under the header) is named, with what changed.
    assert "Sample file, row 2 (source_row " in result.output
    assert "reserve (no rank); it was drawn in stratum" in result.output
    assert "Tệp mẫu, dòng 2 (source_row " in result.output


def test_verify_fails_on_a_changed_frame(frame_csv, tmp_path):
    out = tmp_path / "s.csv"
    assert run("draw", frame_csv, "--n", 30, "--seed", 5, "--out", out).exit_code == 0
    text = frame_csv.read_text(encoding="utf-8-sig").replace("Nguyễn Văn 17,", "Lê Thị 17,")
    frame_csv.write_text(text, encoding="utf-8-sig")
    result = run("verify", frame_csv, out)
    assert result.exit_code == 1
    assert "The frame has changed" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--strata", "district", "--n", 10], "The frame has no column: district"),
        (["--strata", "unit", "--n", 5000], "exceeds the number of units in the frame (900)"),
        (["--strata", "unit", "--n", 30, "--min-per-stratum", 20], "minimum per stratum"),
        (["--n", 10, "--method", "pps_systematic"], "size measure"),
    ],
)
def test_bad_options_give_bilingual_errors(frame_csv, tmp_path, args, expected):
    result = run("draw", frame_csv, *args, "--out", tmp_path / "s.csv")
    assert result.exit_code != 0
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--n", 10, "--margin", 0.05],
        ["--strata", "unit"],
        ["--n", 10, "--reserve", "many"],
        ["--n", -1],
        ["--n", 10, "--allocation", "optimal"],
    ],
)
def test_bad_option_values_are_usage_errors(frame_csv, tmp_path, args):
    result = run("draw", frame_csv, *args, "--out", tmp_path / "s.csv")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_output_must_be_csv_or_xlsx(frame_csv, tmp_path):
    result = run("draw", frame_csv, "--n", 10, "--out", tmp_path / "s.txt")
    assert result.exit_code == 2


def test_verify_without_manifest_is_a_clear_error(frame_csv, tmp_path):
    sample = tmp_path / "s.csv"
    sample.write_text("source_row\n2\n", encoding="utf-8")
    result = run("verify", frame_csv, sample)
    assert result.exit_code == 1
    assert "Manifest file not found" in result.output


def allocation_rows(output):
    """{stratum: (N_h, n_h)} from the printed allocation table."""
    rows = {}
    for line in output.splitlines()[1:-1]:
        label, size, n_h, _reserve, _fraction = line.strip().rsplit(maxsplit=4)
        rows[label] = (int(size), int(n_h))
    return rows


def test_neyman_from_a_standard_deviation_file(frame_csv, tmp_path):
    sd = tmp_path / "sd.csv"
    text = "stratum,sd\nSở Tư pháp,1\nUBND xã An Bình,2\nUBND xã Tân Phú,4\n"
    sd.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")  # decomposed labels
    result = run("plan", frame_csv, "--strata", "unit", "--n", 100, "--allocation", "neyman",
                 "--sd", sd)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = allocation_rows(result.output)
    weights = {unit: rows[unit][0] * s for unit, s in zip(UNITS, [1, 2, 4], strict=True)}
    for unit in UNITS:  # n_h ∝ N_h S_h, within rounding
        assert abs(rows[unit][1] - 100 * weights[unit] / sum(weights.values())) < 1
    missing = tmp_path / "missing.csv"
    missing.write_text("stratum,sd\nSở Tư pháp,1\n", encoding="utf-8")
    result = run("plan", frame_csv, "--strata", "unit", "--n", 100, "--allocation", "neyman",
                 "--sd", missing)  # fmt: skip
    assert result.exit_code == 1
    assert "Standard deviation missing" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--method", "systematic", "--sort-by", "group,completed_on"],
        ["--method", "pps_systematic", "--size-measure", "size_measure"],
    ],
)
def test_systematic_and_pps_draws_verify(tmp_path, args):
    rng = np.random.default_rng(4)
    rows = 400
    frame = pd.DataFrame(
        {
            "Họ và tên": [f"Trần Văn {i}" for i in range(rows)],
            "Số điện thoại": [f"09{i:08d}" for i in range(rows)],
            "Đơn vị": rng.choice(UNITS, rows),
            "Đối tượng": rng.choice(["Cá nhân", "Tổ chức"], rows),
            "Ngày trả kết quả": [f"{d:02d}/05/2024" for d in rng.integers(1, 29, rows)],
            "size_measure": rng.integers(1, 50, rows),
        }
    )
    path = tmp_path / "frame.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "s.csv"
    result = run("draw", path, "--strata", "unit", "--n", 30, "--reserve", 2, *args, "--out", out)
    assert result.exit_code == 0, result.output
    assert (pd.read_csv(out)["selection"] == "primary").sum() == 30
    assert run("verify", path, out).exit_code == 0


def test_sheet_names_are_valid_and_unique():
    long = "Ủy ban nhân dân xã Tân Phú Đông, huyện Châu Thành"
    names = sample_draw._sheet_names([long, long + " B", "Sở [Tư] pháp: a/b", "sở [tư] pháp: a/b"])
    assert all(len(name) <= 31 for name in names.values())
    assert not any(set(name) & set("[]:*?/\\") for name in names.values())
    assert len({name.lower() for name in names.values()}) == 4


def test_formula_looking_units_are_neutralised_in_the_sample(tmp_path):
    # unit and group are categoricals since read_frame returns them so: still neutralised.
    rows = 200
    frame = pd.DataFrame(
        {
            "Họ và tên": [f"Trần Thị {i}" for i in range(rows)],
            "Số điện thoại": [f"09{i:08d}" for i in range(rows)],
            "Đơn vị": ['=HYPERLINK("http://x")', "@SUM(A1)"] * (rows // 2),
            "Đối tượng": "Cá nhân",
        }
    )
    source = tmp_path / "frame.csv"
    frame.to_csv(source, index=False, encoding="utf-8-sig")
    out = tmp_path / "sample.csv"
    result = run("draw", source, "--strata", "unit", "--n", 20, "--seed", 5, "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(table["unit"]) == {'\'=HYPERLINK("http://x")', "'@SUM(A1)"}
