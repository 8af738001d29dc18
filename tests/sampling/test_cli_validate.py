"""``surveyapp sample validate``: summary, report, exit codes, no tracebacks."""

import resource
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from surveyapp.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["sample", "validate", *map(str, args)])

    return invoke


@pytest.fixture
def clean_csv(tmp_path, build):
    rows = [build.header, ["Nguyễn Văn An", "0912345678", "", "H1", "UBND xã A", "05/03/2024"]]
    path = tmp_path / "sach.csv"
    path.write_text(build.csv_text(rows), encoding="utf-8-sig")
    return path


@pytest.fixture
def messy_csv(tmp_path, build, citizens_rows):
    path = tmp_path / "ban.csv"
    path.write_text(build.csv_text(citizens_rows, delimiter=";"), encoding="utf-8-sig")
    return path


def test_clean_file_exits_zero(run, clean_csv):
    result = run(clean_csv)
    assert result.exit_code == 0, result.output
    assert "Hợp lệ: 1" in result.output and "Valid: 1" in result.output


def test_errors_exit_one_and_report_is_written(run, messy_csv, tmp_path):
    report = tmp_path / "loi.csv"
    result = run(messy_csv, "--report", report)
    assert result.exit_code == 1
    assert "no_contact" in result.output
    assert "Dòng/row 6" in result.output
    assert f"Report written to {report}" in result.output
    issues = pd.read_csv(report, encoding="utf-8-sig")
    assert set(issues["code"]) == {"phone_invalid", "no_contact", "duplicate_person"}


def test_warnings_only_exit_zero(run, tmp_path, build):
    rows = [["Họ tên", "SĐT", "Địa chỉ", "Đơn vị"], ["A", "123", "Thôn 1", "X"]]
    path = tmp_path / "canh_bao.csv"
    path.write_text(build.csv_text(rows), encoding="utf-8")
    result = run(path)
    assert result.exit_code == 0
    assert "cảnh báo: 1" in result.output


def test_xlsx_frame_with_sheet_and_xlsx_report(run, tmp_path, build, citizens_rows):
    frame = tmp_path / "ds.xlsx"
    frame.write_bytes(build.xlsx_bytes({"Hướng dẫn": [["x"]], "Danh sách": citizens_rows}))
    report = tmp_path / "loi.xlsx"
    result = run(frame, "--sheet", "Danh sách", "--report", report)
    assert result.exit_code == 1, result.output
    sheet = openpyxl.load_workbook(report)["issues"]
    assert sheet.max_row == 4  # header + three issues


def test_period_options(run, tmp_path, build):
    rows = [
        ["Họ tên", "SĐT", "Đơn vị", "Ngày trả kết quả"],
        ["A", "0912345678", "X", "15/10/2024"],
        ["B", "0912345679", "X", "15/03/2024"],
    ]
    path = tmp_path / "ky.csv"
    path.write_text(build.csv_text(rows), encoding="utf-8")
    result = run(path, "--period-start", "01/01/2024", "--period-end", "2024-09-30")
    assert result.exit_code == 1
    assert "date_outside_period" in result.output
    assert run(path, "--period-start", "01/01/2024", "--period-end", "31/12/2024").exit_code == 0


@pytest.mark.parametrize(
    "options",
    [
        ["--period-start", "01/01/2024"],
        ["--period-start", "32/01/2024", "--period-end", "01/02/2024"],
        ["--report", "loi.pdf"],
        ["--kind", "students"],
    ],
)
def test_bad_options_exit_two(run, clean_csv, options):
    result = run(clean_csv, *options)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_rejected_file_has_a_bilingual_message_and_no_traceback(run, tmp_path):
    path = tmp_path / "anh.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    result = run(path)
    assert result.exit_code == 1
    assert "không phải CSV hoặc Excel" in result.output
    assert "is not CSV or Excel" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_missing_columns_message(run, tmp_path):
    path = tmp_path / "thieu.csv"
    path.write_text("Tên,Ghi chú\nA,x\n", encoding="utf-8")
    result = run(path)
    assert result.exit_code == 1
    assert "Required columns missing" in result.output and "«Tên»" in result.output


def test_no_valid_rows_prints_summary_and_writes_report(run, tmp_path, build):
    rows = [["Họ tên", "SĐT", "Đơn vị"], ["A", "123", "X"]]
    path = tmp_path / "hong.csv"
    path.write_text(build.csv_text(rows), encoding="utf-8")
    report = tmp_path / "loi.csv"
    result = run(path, "--report", report)
    assert result.exit_code == 1
    assert "Valid: 0" in result.output
    assert "No valid rows remain" in result.output
    assert report.exists()


def test_unknown_sheet(run, tmp_path, build, citizens_rows):
    frame = tmp_path / "ds.xlsx"
    frame.write_bytes(build.xlsx_bytes({"Danh sách": citizens_rows}))
    result = run(frame, "--sheet", "Sheet9")
    assert result.exit_code == 1
    assert "«Danh sách»" in result.output


def test_officials_kind(run, tmp_path, build):
    rows = [["Họ và tên", "Cơ quan", "Chức vụ"], ["Trần Văn Hùng", "Sở Nội vụ", "Chuyên viên"]]
    path = tmp_path / "can_bo.csv"
    path.write_text(build.csv_text(rows), encoding="utf-8")
    # As a citizens' list it has no contact column; a list with positions and no procedure
    # data is taken for an officials' list, as `sample draw` does.
    assert run(path, "--kind", "citizens").exit_code == 1
    assert run(path, "--kind", "officials").exit_code == 0
    assert run(path).exit_code == 0


@pytest.mark.parametrize(
    ("builder", "fragment"),
    [
        ("far_cell_xlsx", "Ctrl+End"),
        ("entity_bomb_xlsx", "DOCTYPE"),
        ("wide_row_csv", "1,000,001 columns"),
    ],
)
def test_hostile_files_are_refused_by_the_real_command_within_a_gigabyte(
    hostile, tmp_path, builder, fragment
):
    """The installed command in its own process, with its address space limited: it
    prints the reason and exits 1, instead of aborting on a 512 GB allocation."""
    path = tmp_path / f"{builder}.bin"
    path.write_bytes(getattr(hostile, builder)())
    command = Path(sys.executable).with_name("surveyapp")

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    process = subprocess.run(
        [str(command), "sample", "validate", str(path)],
        capture_output=True,
        text=True,
        preexec_fn=limit_memory,
        timeout=120,
    )
    assert process.returncode == 1, process.stderr[-2000:]
    assert fragment in process.stderr and "Traceback" not in process.stderr
