"""Small files that once killed workers (issue 12.1): refused with a clear message before
anything large is allocated, or read with row-level messages.

Memory is checked where it matters, in a fresh process under an address-space limit
(``RLIMIT_AS``): without the checks, the XLSX reader asks for 512 GB and aborts.
"""

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sampling

REFUSED = [
    ("far_cell_xlsx", sampling.TooManyRowsError, "Ctrl+End"),
    ("declared_xlsx", sampling.TooManyRowsError, "Ctrl+End"),
    ("far_cell_in_near_row_xlsx", sampling.TooManyRowsError, "1,048,576"),
    ("entity_bomb_xlsx", sampling.ZipBombError, "DOCTYPE"),
    ("zip_bomb_xlsx", sampling.ZipBombError, "compression ratio"),
    ("wide_row_csv", sampling.TooManyColumnsError, "row 3"),
    ("wide_header_csv", sampling.MalformedCsvError, "first line is longer"),
]


def _refusal(data: bytes, **limits) -> sampling.SamplingError:
    with pytest.raises(sampling.SamplingError) as caught:
        sampling.read_frame(data, filename="danh_sach", **limits)
    return caught.value


@pytest.mark.parametrize(("builder", "error", "fragment"), REFUSED)
def test_hostile_files_are_refused_with_a_clear_message(hostile, builder, error, fragment):
    refusal = _refusal(getattr(hostile, builder)(), max_rows=200_000)
    assert isinstance(refusal, error)
    assert "danh_sach" in refusal.message_vi and "danh_sach" in refusal.message_en
    assert fragment in refusal.message_en


def test_a_column_far_to_the_right_is_refused(hostile):
    data = hostile.xlsx(hostile.sheet(hostile.row() + '<row r="3"><c r="XFD3"><v>1</v></c></row>'))
    refusal = _refusal(data)
    assert isinstance(refusal, sampling.SheetTooLargeError)
    assert "16,384" in refusal.message_en and "256" in refusal.message_en


def test_cells_without_references_count_as_columns(hostile):
    values = "".join(f"<c><v>{random.random()}</v></c>" for _ in range(1000))
    refusal = _refusal(hostile.xlsx(hostile.sheet(hostile.row() + f'<row r="3">{values}</row>')))
    assert isinstance(refusal, sampling.SheetTooLargeError)
    assert "1,000" in refusal.message_en


def test_a_sheet_rectangle_of_too_many_cells_is_refused(hostile):
    far = '<row r="5000"><c r="CV5000"><v>1</v></c></row>'  # 5,000 rows x 100 columns
    refusal = _refusal(hostile.xlsx(hostile.sheet(hostile.row() + far)), max_cells=400_000)
    assert isinstance(refusal, sampling.SheetTooLargeError)
    assert "500,000 cells" in refusal.message_en


def test_rows_out_of_order_still_count_the_farthest(hostile):
    rows = '<row r="250000"><c r="A250000"><v>1</v></c></row>' + hostile.row(3)
    refusal = _refusal(hostile.xlsx(hostile.sheet(hostile.row() + rows)), max_rows=200_000)
    assert isinstance(refusal, sampling.TooManyRowsError)


def test_a_normal_minimal_workbook_still_reads(hostile):
    frame = sampling.read_frame(hostile.good_xlsx())
    assert frame[["full_name", "phone", "unit"]].values.tolist() == [
        ["Nguyễn Văn An", "0912345678", "UBND xã A"]
    ]


def test_a_15_mb_line_gives_a_row_level_message(hostile):
    frame = sampling.read_frame(hostile.long_line_csv())
    result = sampling.validate_frame(frame)
    issue = result.issues.iloc[0]
    assert (issue["row"], issue["code"], issue["action"]) == (3, "cell_too_long", "excluded")
    assert len(issue["value"]) == 61 and issue["value"].endswith("…")
    assert "15,728,640" in issue["reason_en"] or "15728640" in issue["reason_en"]
    assert result.summary["valid"] == 1


def test_a_15_mb_line_with_an_extra_field_names_its_row(hostile):
    refusal = _refusal(hostile.long_line_csv(ragged=True))
    assert isinstance(refusal, sampling.MalformedCsvError)
    assert "row 3" in refusal.message_en and "longer than" in refusal.message_en


def test_over_long_cells_exclude_their_row(build):
    rows = [
        ["Họ và tên", "Số điện thoại", "Đơn vị", "Mã hồ sơ", "Ghi chú"],
        ["An", "0912345678", "X", "H1", "ok"],
        ["B" * 256, "0912345679", "X", "H2", "ok"],
        ["Chi", "0912345670", "X", "H" * 121, "ok"],
        ["Dũng", "0912345671", "X", "H4", "ư" * 32_768],
    ]
    result = sampling.validate_frame(sampling.read_frame(build.csv_text(rows).encode()))
    issues = result.issues
    assert issues["code"].tolist() == ["cell_too_long"] * 3
    assert issues["row"].tolist() == [3, 4, 5]
    assert issues["column"].tolist() == ["Họ và tên", "Mã hồ sơ", "Ghi chú"]
    assert "256 ký tự, vượt giới hạn 255" in issues["reason_vi"].iloc[0]
    assert "32768 characters, more than 32,767" in issues["reason_en"].iloc[2]
    assert result.valid["full_name"].tolist() == ["An"]


def test_a_nul_in_a_file_name_is_dropped_from_the_name(build):
    data = build.csv_text([["Họ tên", "SĐT", "Đơn vị"], ["A", "0912345678", "X"]]).encode()
    frame = sampling.read_frame(data, filename="ds\x00.csv\x00")
    assert frame.attrs["source_name"] == "ds.csv"
    assert sampling.clean_filename("C:\\Users\\a\\Danh\x07 sách.xlsx") == "Danh sách.xlsx"
    assert len(sampling.clean_filename("x" * 400 + ".xlsx")) <= 255


# ------------------------------------------------- memory, in a process with a limit

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (BYTES, BYTES))
    import sampling
    outcome = {}
    for path in sys.argv[1:]:
        try:
            frame = sampling.read_frame(path, max_rows=200_000)
            sampling.validate_frame(frame)
            outcome[path] = "read"
        except sampling.SamplingError as error:
            outcome[path] = type(error).__name__
    outcome["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(outcome))
    """
)
MEMORY_LIMIT = 1 << 30  # a GB of address space: imports and a 15 MB list fit in it


def read_under_limit(paths: list[Path], limit: int = MEMORY_LIMIT) -> dict:
    """Read each file in a fresh interpreter whose address space is limited: a reader
    that tried to allocate more would die (SIGABRT) or fail, not return."""
    process = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("BYTES", str(limit)), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    return json.loads(process.stdout)


def test_every_hostile_file_is_read_within_a_gigabyte(hostile, tmp_path):
    paths = []
    for builder in [name for name, _, _ in REFUSED] + ["long_line_csv", "good_xlsx"]:
        path = tmp_path / builder
        path.write_bytes(getattr(hostile, builder)())
        paths.append(path)
    outcome = read_under_limit(paths)
    expected = {name: error.__name__ for name, error, _ in REFUSED}
    expected.update(long_line_csv="read", good_xlsx="read")
    assert {Path(p).name: v for p, v in outcome.items() if p != "peak_mb"} == expected
    assert outcome["peak_mb"] < MEMORY_LIMIT >> 20


def test_without_the_checks_the_far_cell_would_kill_the_reader(hostile, tmp_path):
    """The limit in the test above is real: calamine alone, under it, dies."""
    path = tmp_path / "far.xlsx"
    path.write_bytes(hostile.far_cell_xlsx())
    code = (
        f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, "
        f"{MEMORY_LIMIT}))\nimport python_calamine\n"
        f"python_calamine.CalamineWorkbook.from_path({str(path)!r}).get_sheet_by_index(0)"
        ".to_python()"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert process.returncode != 0
