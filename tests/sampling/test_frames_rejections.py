"""Files that are not usable frames get one clear bilingual error, never a traceback."""

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sampling


def _assert_bilingual(error: sampling.SamplingError, *fragments: str) -> None:
    assert error.message_vi and error.message_en
    assert error.message_vi != error.message_en
    text = f"{error.message_vi} {error.message_en}"
    for fragment in fragments:
        assert fragment in text


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ".xls"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG"),
        (bytes(range(256)) * 20, "CSV"),
    ],
)
def test_not_csv_or_xlsx_is_rejected_by_content(data, fragment):
    with pytest.raises(sampling.UnsupportedFormatError) as caught:
        sampling.read_frame(data, filename="danh_sach.csv")
    _assert_bilingual(caught.value, fragment, "danh_sach.csv")


def test_zip_that_is_not_a_workbook_is_rejected():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(sampling.UnsupportedFormatError):
        sampling.read_frame(buffer.getvalue(), filename="x.xlsx")


def test_opendocument_spreadsheet_is_named_in_the_message():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(sampling.UnsupportedFormatError) as caught:
        sampling.read_frame(buffer.getvalue(), filename="x.ods")
    _assert_bilingual(caught.value, ".ods")


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf", b",,,\r\n,,,\r\n"])
def test_empty_files(data):
    with pytest.raises(sampling.EmptyFrameError) as caught:
        sampling.read_frame(data, filename="rong.csv")
    _assert_bilingual(caught.value, "rong.csv")


def test_header_without_data_rows(build):
    with pytest.raises(sampling.EmptyFrameError) as caught:
        sampling.read_frame(build.csv_text([build.header, [""] * 6]).encode())
    _assert_bilingual(caught.value, "header row but no data rows")


def test_too_large_file_is_refused_before_reading(tmp_path, build, citizens_rows):
    data = build.csv_text(citizens_rows).encode()
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    for source in (path, data, io.BytesIO(data)):
        with pytest.raises(sampling.FrameTooLargeError) as caught:
            sampling.read_frame(source, max_bytes=len(data) - 1)
        _assert_bilingual(caught.value, "MB")


def test_too_many_rows_csv_and_xlsx(build, citizens_rows):
    with pytest.raises(sampling.TooManyRowsError) as caught:
        sampling.read_frame(build.csv_text(citizens_rows).encode(), max_rows=5)
    _assert_bilingual(caught.value, "6", "5")
    workbook = build.xlsx_bytes({"S": [build.header, *[["A", "0912345678"]] * 40]})
    with pytest.raises(sampling.TooManyRowsError):
        sampling.read_frame(workbook, max_rows=5)


def test_missing_file():
    with pytest.raises(sampling.FrameNotFoundError):
        sampling.read_frame("/nonexistent/list.csv")


def test_truncated_workbook_is_damaged(build, citizens_rows):
    data = build.xlsx_bytes({"S": citizens_rows})
    with pytest.raises(sampling.DamagedWorkbookError) as caught:
        sampling.read_frame(data[: len(data) // 2], filename="hong.xlsx")
    _assert_bilingual(caught.value, "hong.xlsx", "damaged")


def test_workbook_with_corrupt_sheet_xml_is_damaged(build, citizens_rows):
    original = zipfile.ZipFile(io.BytesIO(build.xlsx_bytes({"S": citizens_rows})))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in original.infolist():
            content = original.read(member.filename)
            if member.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]  # XML cut in the middle
            archive.writestr(member, content)
    with pytest.raises(sampling.DamagedWorkbookError):
        sampling.read_frame(buffer.getvalue(), filename="hong.xlsx")


def _workbook_with_extra_member(build, name: str, content: bytes) -> bytes:
    original = zipfile.ZipFile(io.BytesIO(build.xlsx_bytes({"S": [build.header]})))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in original.infolist():
            archive.writestr(member, original.read(member.filename))
        archive.writestr(name, content)
    return buffer.getvalue()


def test_zip_bomb_is_refused_from_its_compression_ratio(build):
    # 20 MB of zeros deflate to ~20 KB: a ratio of about 1000 to 1.
    data = _workbook_with_extra_member(build, "xl/media/bomb.bin", bytes(20 * 1024 * 1024))
    assert len(data) < 200_000
    with pytest.raises(sampling.ZipBombError) as caught:
        sampling.read_frame(data, filename="bom.xlsx")
    _assert_bilingual(caught.value, "xl/media/bomb.bin", "compression ratio")


def test_workbook_declaring_too_much_uncompressed_data_is_refused(build, citizens_rows):
    data = build.xlsx_bytes({"S": citizens_rows})
    with pytest.raises(sampling.ZipBombError) as caught:
        sampling.read_frame(data, max_uncompressed_bytes=1000)
    _assert_bilingual(caught.value, "expand")


def test_unknown_sheet_lists_the_sheets(build, citizens_rows):
    data = build.xlsx_bytes({"Danh sách": citizens_rows, "Ghi chú": [["x"]]})
    with pytest.raises(sampling.UnknownSheetError) as caught:
        sampling.read_frame(data, sheet="Sheet1")
    _assert_bilingual(caught.value, "Sheet1", "Danh sách", "Ghi chú")


def test_every_reading_error_is_a_sampling_error():
    for error_class in (
        sampling.UnsupportedFormatError,
        sampling.EmptyFrameError,
        sampling.FrameTooLargeError,
        sampling.TooManyRowsError,
        sampling.DamagedWorkbookError,
        sampling.ZipBombError,
        sampling.UnknownSheetError,
        sampling.MalformedCsvError,
        sampling.FrameNotFoundError,
    ):
        assert issubclass(error_class, sampling.FrameReadError)
        assert issubclass(error_class, sampling.SamplingError)


def test_undecodable_bytes_far_into_a_text_file(build):
    rows = [["Ho ten", "SDT", "Don vi"]] + [[f"Nguoi {i}", "0912345678", "X"] for i in range(5000)]
    data = build.csv_text(rows).encode() + b"\x81\x8d\x8f\x90,0912345678,X\r\n"
    with pytest.raises(sampling.UnsupportedFormatError):
        sampling.read_frame(data, filename="hong.csv")


def test_workbook_with_unreadable_zip_headers_is_damaged(build, citizens_rows):
    # zipfile raises NotImplementedError (not BadZipFile) for an unknown "version needed
    # to extract" in the central directory; found by fuzzing.
    data = bytearray(build.xlsx_bytes({"S": citizens_rows}))
    entry = data.find(b"PK\x01\x02")
    data[entry + 6 : entry + 8] = (255).to_bytes(2, "little")
    with pytest.raises(sampling.DamagedWorkbookError):
        sampling.read_frame(bytes(data), filename="hong.xlsx")


CELLS = ["", " ", "0912345678", "+84 912 345 678", "12345", "=1+1", "Nguye\u0302\u0303n", "05/03/2024",
         "45356", "2024-13-45", "a@b.vn", "H1", "\x00", "\t", '"', "9.1E+08", "912345678.0",
         "<b>", "\r\n", "Đơn vị A"]  # fmt: skip
HEADERS = ["Họ tên", "SĐT", "Email", "Địa chỉ", "Mã hồ sơ", "Đơn vị", "Ngày trả kết quả", "Chức vụ"]


@settings(max_examples=60, deadline=None)
@given(
    columns=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8, unique=True),
    cells=st.lists(st.lists(st.sampled_from(CELLS), min_size=8, max_size=8), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    kind=st.sampled_from(["citizens", "officials"]),
)
def test_any_messy_list_gives_a_result_or_a_sampling_error(
    build, columns, cells, delimiter, encoding, kind
):
    rows = [columns, *[row[: len(columns)] for row in cells]]
    data = build.csv_text(rows, delimiter=delimiter).encode(encoding)
    try:
        frame = sampling.read_frame(data)
        result = sampling.validate_frame(frame, kind=kind, period=("01/01/2024", "31/12/2024"))
    except sampling.SamplingError as error:
        assert error.message_vi and error.message_en
        return
    summary = result.summary
    assert summary["valid"] + summary["excluded"] + summary["duplicates"] == summary["rows_read"]
    assert set(result.issues["row"]) <= set(frame["source_row"])
