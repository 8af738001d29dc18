"""`surveyapp sample plan | draw | verify` through click's CliRunner."""

import json
import math
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
    result = run("plan", frame_csv, "--strata", "unit,group", "--total", "--n", 90,
                 "--min-per-stratum", 10)  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["stratum", "N_h", "n_h", "reserve_h", "fraction"]
    assert len(lines) == 1 + 6 + 1  # header, 3 units x 2 groups, total
    assert lines[-1].split()[-4:-1] == ["900", "90", "0"]


def test_plan_with_margin_uses_cochran(frame_csv):
    result = run("plan", frame_csv, "--strata", "unit", "--total", "--margin", 0.05,
                 "--rule", "cochran")  # fmt: skip
    assert result.exit_code == 0, result.output
    # 384.146 / (1 + 383.146 / 900) = 269.5 -> 270
    assert result.output.splitlines()[-1].split()[-3] == "270"


def test_the_defaults_are_the_web_pages(frame_csv):
    """Yamane per stratum: n_h = N_h / (1 + N_h e²) rounded up, e = 10%."""
    result = run("plan", frame_csv, "--strata", "unit", "--margin", 0.1)
    assert result.exit_code == 0, result.output
    rows = allocation_rows(result.output)
    for size, n_h in rows.values():
        assert n_h == math.ceil(size / (1 + size * 0.01))


def test_draw_csv_writes_sample_and_manifest_and_verifies(frame_csv, tmp_path):
    out = tmp_path / "sample.csv"
    result = run("draw", frame_csv, "--strata", "unit,group", "--total", "--n", 60,
                 "--reserve", 0.5, "--seed", 77, "--out", out)  # fmt: skip
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
        (["--total", "--n", 5000], "exceeds the number of units in the frame (900)"),
        (
            ["--strata", "unit", "--total", "--n", 30, "--min-per-stratum", 20],
            "minimum per stratum",
        ),
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
    result = run("plan", frame_csv, "--strata", "unit", "--total", "--n", 100,
                 "--allocation", "neyman", "--sd", sd)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = allocation_rows(result.output)
    weights = {unit: rows[unit][0] * s for unit, s in zip(UNITS, [1, 2, 4], strict=True)}
    for unit in UNITS:  # n_h ∝ N_h S_h, within rounding
        assert abs(rows[unit][1] - 100 * weights[unit] / sum(weights.values())) < 1
    missing = tmp_path / "missing.csv"
    missing.write_text("stratum,sd\nSở Tư pháp,1\n", encoding="utf-8")
    result = run("plan", frame_csv, "--strata", "unit", "--total", "--n", 100,
                 "--allocation", "neyman", "--sd", missing)  # fmt: skip
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
    result = run("draw", path, "--strata", "unit", "--total", "--n", 30, "--reserve", 2, *args,
                 "--out", out)  # fmt: skip
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


def test_verify_names_the_row_and_column_of_an_edited_contact(frame_csv, tmp_path):
    out = tmp_path / "s.csv"
    assert run("draw", frame_csv, "--strata", "unit", "--n", 5, "--reserve", 1, "--seed", 9,
               "--out", out).exit_code == 0  # fmt: skip
    table = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    original = table.loc[3, "phone"]
    table.loc[3, "phone"] = "0987654321"
    table.to_csv(out, index=False, encoding="utf-8-sig")
    result = run("verify", frame_csv, out)
    assert result.exit_code == 1
    row_id = table.loc[3, "source_row"]
    assert (
        f"Sample file, row 5, column phone (source_row {row_id}): «0987654321» differs from "
        f"the frame's «{original}»." in result.output
    )
    assert "✗ Thông tin người được chọn / People's details" in result.output
    assert "✓ Các dòng của mẫu / Rows of the sample" in result.output


def test_verify_names_the_sheet_and_row_in_an_xlsx(frame_csv, tmp_path):
    import openpyxl

    out = tmp_path / "s.xlsx"
    assert run("draw", frame_csv, "--strata", "unit", "--n", 4, "--seed", 9,
               "--out", out).exit_code == 0  # fmt: skip
    book = openpyxl.load_workbook(out)
    sheet = book["UBND xã An Bình"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=3, column=header.index("full_name") + 1, value="Người Khác")
    book.save(out)
    result = run("verify", frame_csv, out)
    assert result.exit_code == 1
    assert "Sample file, row UBND xã An Bình!3, column full_name" in result.output


def test_plan_warns_about_strata_allocated_one(frame_csv):
    result = run("plan", frame_csv, "--strata", "unit", "--total", "--n", 4, "--min-per-domain", 0)
    assert result.exit_code == 0, result.output
    # 4 over 450, 270, 180 (roughly): 2.0, 1.2, 0.8 -> one unit gets 1.
    assert "Warning: Stratum" in result.output and "is allocated only 1 person" in result.output
    guarded = run("plan", frame_csv, "--strata", "unit", "--total", "--n", 6)
    assert "Warning" not in guarded.output
    assert sorted(n_h for _, n_h in allocation_rows(guarded.output).values()) == [2, 2, 2]


def test_one_unit_list_without_unit_column(tmp_path):
    frame = pd.DataFrame(
        {"Họ và tên": [f"Lý Văn {i}" for i in range(20)],
         "Số điện thoại": [f"09{i:08d}" for i in range(20)]}
    )  # fmt: skip
    path = tmp_path / "one.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "s.csv"
    refused = run("draw", path, "--n", 5, "--seed", 1, "--out", out)
    assert refused.exit_code == 1 and "unit" in refused.output
    result = run("draw", path, "--n", 5, "--seed", 1, "--unit", "XA01", "--out", out)
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out)["unit"]) == {"XA01"}
    manifest = json.loads((tmp_path / "s.manifest.json").read_text(encoding="utf-8"))
    assert manifest["source"]["unit"] == "XA01"
    assert run("verify", path, out).exit_code == 0
    assert run("validate", path).exit_code == 1
    assert run("validate", path, "--unit", "XA01").exit_code == 0


def test_period_options_are_the_web_dates(frame_csv, tmp_path):
    out = tmp_path / "s.csv"
    # Every row was completed on 15/03/2024: a period ending before excludes them all.
    result = run("draw", frame_csv, "--n", 5, "--period-start", "1/1/2024",
                 "--period-end", "29.02.2024", "--out", out)  # fmt: skip
    assert result.exit_code == 1 and "No valid rows" in result.output
    result = run("draw", frame_csv, "--n", 5, "--period-start", "01-01-2024",
                 "--period-end", "2024-09-30", "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s.manifest.json").read_text())["source"]["period"] == [
        "2024-01-01", "2024-09-30",
    ]  # fmt: skip
    assert run("verify", frame_csv, out).exit_code == 0
    wrong = run("plan", frame_csv, "--n", 5, "--period-start", "07/31/2024",
                "--period-end", "01/08/2024")  # fmt: skip
    assert wrong.exit_code == 2
    assert "«07/31/2024» is not a valid date: type day/month/year" in wrong.output
    assert "Ngày «07/31/2024» không hợp lệ" in wrong.output


def test_committed_draw_end_to_end(frame_csv, tmp_path):
    """A commitment published a week ago for yesterday's lottery; drawn today."""
    import datetime as dt

    import sampling
    from surveyapp.commands.sample import read_and_validate

    how = {"kind": None, "period": None, "sheet": None, "unit": None}
    _, result, _ = read_and_validate(frame_csv, how, ("unit",))
    design = sampling.SampleDesign(strata=("unit",), n=5, per_stratum_size=True, reserve=1)
    today = dt.datetime.now(dt.UTC)
    commitment = sampling.make_commitment(
        result.valid,
        design,
        value_source="Giải đặc biệt XSKT",
        value_date=(today - dt.timedelta(days=1)).date(),
        published_at=today - dt.timedelta(days=7),
    )
    commitment["source"] = how
    path = tmp_path / "commitment.json"
    path.write_text(json.dumps(commitment, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "s.csv"
    given_twice = run("draw", frame_csv, "--commitment", path, "--public-value", "482913",
                      "--n", 9, "--out", out)  # fmt: skip
    assert given_twice.exit_code == 2 and "drop --n" in given_twice.output
    result = run("draw", frame_csv, "--commitment", path, "--public-value", "482913", "--out", out)
    assert result.exit_code == 0, result.output
    seed = sampling.derive_seed(sampling.commitment_sha256(commitment), "482913")
    assert f"seed {seed}" in result.output
    checked = run("verify", frame_csv, out, "--commitment", path, "--public-value", "482913")
    assert checked.exit_code == 0, checked.output
    assert "✓ Hạt giống suy ra từ giá trị công khai / Seed derived from the public value" in (
        checked.output
    )
    wrong_value = run("verify", frame_csv, out, "--commitment", path, "--public-value", "111111")
    assert wrong_value.exit_code == 1 and "is not the published value" in wrong_value.output
    # Shopping: a plain re-draw with a seed of one's choosing does not verify against it.
    shopped = tmp_path / "shopped.csv"
    assert run("draw", frame_csv, "--strata", "unit", "--n", 5, "--reserve", 1, "--seed", 3,
               "--out", shopped).exit_code == 0  # fmt: skip
    result = run("verify", frame_csv, shopped, "--commitment", path)
    assert result.exit_code == 1 and "was not drawn as published" in result.output


def test_commit_command_and_an_early_draw(frame_csv, tmp_path):
    import datetime as dt

    path = tmp_path / "c.json"
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    result = run("commit", frame_csv, "--strata", "unit", "--n", 5, "--value-source",
                 "drand mainnet round 123", "--value-date", f"{tomorrow:%d/%m/%Y}",
                 "--out", path)  # fmt: skip
    assert result.exit_code == 0, result.output
    commitment = json.loads(path.read_text(encoding="utf-8"))
    assert commitment["public_value"] == {
        "source": "drand mainnet round 123", "date": tomorrow.isoformat(),
    }  # fmt: skip
    assert commitment["design"]["n"] == 5 and commitment["source"]["kind"] == "citizens"
    early = run("draw", frame_csv, "--commitment", path, "--public-value", "abc",
                "--out", tmp_path / "s.csv")  # fmt: skip
    assert early.exit_code == 1
    assert f"not due before {tomorrow:%d/%m/%Y}" in early.output
    today = run("commit", frame_csv, "--n", 5, "--value-source", "x",
                "--value-date", f"{dt.date.today():%d/%m/%Y}", "--out", path)  # fmt: skip
    assert today.exit_code == 1 and "must come after the day" in today.output
