"""Reading frames: encodings, delimiters, headers, row numbers, workbooks."""

import codecs
import csv
import datetime as dt
import io
import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sampling
from sampling.columns import canonical_name, map_headers


def _read(data: bytes, **options) -> pd.DataFrame:
    return sampling.read_frame(data, filename="list.csv", **options)


# ------------------------------------------------------------------------------ CSV


def test_utf8_bom_csv_maps_vietnamese_headers_and_numbers_rows(build, citizens_rows):
    data = build.csv_text(citizens_rows).encode("utf-8-sig")
    frame = _read(data)
    assert list(frame.columns) == [
        "full_name", "phone", "address", "dossier_code", "unit", "completed_on", "source_row",
    ]  # fmt: skip
    assert frame["source_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert frame.attrs["source_columns"]["phone"] == "Số điện thoại"
    assert frame.loc[0, "phone"] == "+84 912.345.678"  # reading keeps the value as written


def test_text_is_nfc_and_trimmed(build, citizens_rows):
    frame = _read(build.csv_text(citizens_rows).encode())
    assert frame.loc[0, "full_name"] == "Nguyễn Văn An"
    assert unicodedata.is_normalized("NFC", frame.loc[0, "full_name"])
    assert frame.loc[1, "full_name"] == "Trần Thị Bình"
    assert pd.isna(frame.loc[1, "address"])  # an empty cell is missing, not ""


def test_no_break_spaces_and_tabs_around_cells_are_trimmed(build):
    rows = [["Họ tên", "SĐT", "Đơn vị"], ["\u00a0Lý Thị Hoa\u00a0", "\t0912345678 ", " X "]]
    frame = _read(build.csv_text(rows).encode())
    assert frame.iloc[0][["full_name", "phone", "unit"]].tolist() == [
        "Lý Thị Hoa", "0912345678", "X",
    ]  # fmt: skip


def test_headers_in_nfd_are_recognised(build):
    rows = [[build.nfd(h) for h in build.header], ["A", "0912345678", "", "", "X", ""]]
    frame = _read(build.csv_text(rows).encode())
    assert {"full_name", "phone", "unit", "completed_on"} <= set(frame.columns)


def test_utf16_tab_separated_as_excel_unicode_text(build, citizens_rows):
    data = build.csv_text(citizens_rows, delimiter="\t").encode("utf-16")
    assert data[:2] == b"\xff\xfe"
    frame = _read(data)
    assert frame.loc[2, "full_name"] == "Lê Văn Cường"
    assert frame["source_row"].tolist() == [2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiter_is_sniffed(build, citizens_rows, delimiter):
    # Addresses with commas must not fool the semicolon sniffing.
    rows = [row[:] for row in citizens_rows]
    rows[1][2] = "Số 1, Lê Lợi, phường 2"
    frame = _read(build.csv_text(rows, delimiter=delimiter).encode())
    assert len(frame.columns) == 7
    assert frame.loc[0, "address"] == "Số 1, Lê Lợi, phường 2"


def test_windows_vietnamese_code_page(build):
    text = build.csv_text(
        [["Họ và tên", "Điện thoại", "Đơn vị"], ["Nguyễn Thị Ánh", "0912345678", "Xã Ứng Hòa"]]
    )
    frame = _read(build.cp1258_bytes(text))
    assert frame.loc[0, "full_name"] == "Nguyễn Thị Ánh"
    assert frame.loc[0, "unit"] == "Xã Ứng Hòa"


def test_title_rows_above_header_keep_row_numbers(build, citizens_rows):
    rows = [["DANH SÁCH CÔNG DÂN ĐÃ GIẢI QUYẾT TTHC NĂM 2024"], [], *citizens_rows]
    frame = _read(build.csv_text(rows).encode())
    assert frame.loc[0, "full_name"] == "Nguyễn Văn An"
    assert frame["source_row"].tolist() == [4, 5, 6, 7, 8, 9]


def test_blank_rows_are_skipped_but_counted_in_row_numbers(build, citizens_rows):
    rows = [citizens_rows[0], citizens_rows[1], ["", "", "", "", "", ""], citizens_rows[2]]
    text = build.csv_text(rows) + "\r\n" + build.csv_text([citizens_rows[3]])
    frame = _read(text.encode())
    assert frame["source_row"].tolist() == [2, 4, 6]
    assert frame.attrs["blank_rows"] == 2


def test_quoted_line_breaks_stay_in_their_cell(build):
    rows = [["Họ tên", "Địa chỉ", "Đơn vị"], ["A", "Thôn 1\nXã B", "X"], ["C", "Thôn 3", "X"]]
    frame = _read(build.csv_text(rows).encode())
    assert frame["address"].tolist() == ["Thôn 1\nXã B", "Thôn 3"]
    assert frame["source_row"].tolist() == [2, 3]


def test_short_rows_are_padded_and_keep_their_numbers():
    data = "Họ tên,SĐT,Đơn vị,Ghi chú\nA,0912345678,X\nB,0987654321,Y,ok\n".encode()
    frame = _read(data)
    assert frame["unit"].tolist() == ["X", "Y"]
    assert pd.isna(frame.loc[0, "Ghi chú"])
    assert frame["source_row"].tolist() == [2, 3]


def test_unknown_columns_kept_and_odd_headers_made_unique():
    data = "STT,Họ tên,Ghi chú,,Ghi chú,SĐT,Điện thoại,Đơn vị\n1,A,x,y,z,0912345678,0987654321,U\n"
    frame = _read(data.encode())
    assert list(frame.columns) == [
        "STT", "full_name", "Ghi chú", "column_4", "Ghi chú (2)", "phone", "Điện thoại",
        "unit", "source_row",
    ]  # fmt: skip
    assert frame.loc[0, "Điện thoại"] == "0987654321"  # the second phone column is kept


def test_all_cells_are_text_whatever_they_look_like():
    frame = _read("Họ tên,Mã hồ sơ,Đơn vị\nA,000123,5\n".encode())
    assert frame.loc[0, "dossier_code"] == "000123"  # leading zeros kept
    assert frame.loc[0, "unit"] == "5"


def test_formula_and_html_cells_are_kept_verbatim_as_text():
    data = 'Họ tên,Đơn vị\n"=HYPERLINK(""http://x"",""y"")",<b>UBND</b>\n'.encode()
    frame = _read(data)
    assert frame.loc[0, "full_name"] == '=HYPERLINK("http://x","y")'
    assert frame.loc[0, "unit"] == "<b>UBND</b>"


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("HỌ VÀ TÊN", "full_name"),
        ("ho ten", "full_name"),
        ("Full Name", "full_name"),
        ("SĐT", "phone"),
        ("so_dien_thoai", "phone"),
        ("Mã hồ sơ", "dossier_code"),
        ("Đơn vị", "unit"),
        ("Đối tượng", "group"),
        ("Ngày trả kết quả", "completed_on"),
        ("Chức vụ", "position"),
        ("Lĩnh vực", "field"),
        ("Thủ tục hành chính", "procedure"),
        ("E-mail", "email"),
        ("Quy mô", "size_measure"),
        ("Ghi chú", None),
    ],
)
def test_header_aliases(header, canonical):
    assert canonical_name(header) == canonical


def test_first_column_claiming_a_canonical_name_wins():
    names, originals = map_headers(["Số điện thoại", "SĐT"])
    assert names == ["phone", "SĐT"]
    assert originals == {"phone": "Số điện thoại", "SĐT": "SĐT"}


# ----------------------------------------------------------------------- sources


def test_path_bytes_and_file_objects_read_the_same(tmp_path, build, citizens_rows):
    data = build.csv_text(citizens_rows).encode("utf-8-sig")
    path = tmp_path / "danh sách.csv"
    path.write_bytes(data)

    class Upload(io.BytesIO):  # what a web framework hands over
        filename = "upload.csv"

    frames = [
        sampling.read_frame(path),
        sampling.read_frame(data),
        sampling.read_frame(io.BytesIO(data)),
        sampling.read_frame(Upload(data)),
    ]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
    assert frames[0].attrs["source_name"] == "danh sách.csv"
    assert frames[3].attrs["source_name"] == "upload.csv"


def test_extension_does_not_decide_the_format(tmp_path, build, citizens_rows):
    path = tmp_path / "list.xlsx"  # a CSV saved under the wrong name
    path.write_bytes(build.csv_text(citizens_rows).encode())
    assert len(sampling.read_frame(path)) == 6


# --------------------------------------------------------------------------- XLSX


def test_xlsx_numbers_dates_and_row_numbers(build):
    rows = [
        ["Danh sách người dân"],
        [],
        build.header,
        ["Nguyễn Văn An", 912345678, None, 1234, "UBND xã A", dt.datetime(2024, 3, 5)],
        [None, None, None, None, None, None],
        ["Trần Thị Bình", "0987 654 321", "Thôn 1", "H2", "UBND xã A", 45356],
        ["Lê Văn Cường", 84912345678, None, "H3", "UBND xã A", dt.date(2024, 3, 7)],
    ]
    frame = sampling.read_frame(build.xlsx_bytes({"DS": rows}), filename="ds.xlsx")
    assert frame["source_row"].tolist() == [4, 6, 7]
    assert frame["phone"].tolist() == ["912345678", "0987 654 321", "84912345678"]
    assert frame.loc[0, "dossier_code"] == "1234"
    assert frame["completed_on"].tolist() == ["2024-03-05", "45356", "2024-03-07"]
    assert frame.attrs["blank_rows"] == 1
    assert frame.attrs["sheet"] == "DS"


def test_xlsx_named_sheet_and_default_first_sheet(build):
    data = build.xlsx_bytes(
        {
            "Hướng dẫn": [["Họ tên", "Đơn vị", "SĐT"], ["Mẫu", "X", "0912345678"]],
            "Danh sách": [["Họ tên", "Đơn vị", "SĐT"], ["Thật", "Y", "0987654321"]],
        }
    )
    assert sampling.read_frame(data).loc[0, "full_name"] == "Mẫu"
    assert sampling.read_frame(data, sheet="Danh sách").loc[0, "full_name"] == "Thật"


def test_xlsx_nfd_text_is_normalised(build):
    rows = [["Họ tên", "Đơn vị", "SĐT"], [build.nfd(" Nguyễn Thị Ánh "), "X", "0912345678"]]
    frame = sampling.read_frame(build.xlsx_bytes({"S": rows}))
    assert frame.loc[0, "full_name"] == "Nguyễn Thị Ánh"


@pytest.mark.parametrize("name", ["Trần Thị Ánh", "Tran Thi Anh"])
def test_code_page_bytes_after_the_sniffed_part_are_read_as_cp1258(build, name):
    """Found in a text column or only in a categorical one (the unit)."""
    rows = [["Ho ten", "SDT", "Don vi"]] + [[f"Nguoi {i}", "0912345678", "X"] for i in range(5000)]
    head = build.csv_text(rows).encode("ascii")
    assert len(head) > 64 * 1024  # beyond what read_frame sniffs
    tail = build.cp1258_bytes(build.csv_text([[name, "0987654321", "Xã Ứng Hòa"]]))
    frame = sampling.read_frame(head + tail)
    assert frame.iloc[-1][["full_name", "unit"]].tolist() == [name, "Xã Ứng Hòa"]
    assert frame["source_row"].iloc[-1] == 5002


def _messy_list(build, middle_cell: str) -> bytes:
    """A title row above the header, BOM, CRLF, quoted delimiters and doubled quotes,
    empty cells, NFD text, semicolons; ``middle_cell`` in the row halfway down."""
    rows = [
        ["DANH SÁCH NGƯỜI DÂN", "", "", ""],
        ["Họ và tên", "Số điện thoại", "Địa chỉ", "Đơn vị"],
    ]
    for i in range(400):
        address = ["Số 1, đường Lê Lợi", 'Xóm "Bến"', "", build.nfd("Thôn Ứng Hòa")][i % 4]
        rows.append(
            [f"Người {i}", f"0912 345 {i:03d}" if i % 9 else "", address, f"UBND xã {i % 3}"]
        )
    rows[len(rows) // 2][2] = middle_cell
    return codecs.BOM_UTF8 + build.csv_text(rows, delimiter=";").encode()


def _reference_rows(content: bytes, delimiter: str, skip: int) -> list[list[str | None]]:
    """What the list holds by Python's csv module: rows after the header (and the title
    rows above it), cells NFC and trimmed, empty cells missing, blank rows dropped."""
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[skip:]
    cleaned = [[unicodedata.normalize("NFC", cell).strip() or None for cell in row] for row in rows]
    return [row for row in cleaned if any(cell is not None for cell in row)]


@pytest.mark.parametrize("middle_cell", ["Ấp 3;\r\n Xã Đông", "dòng\n" * 200, '"', ""])
def test_reading_equals_pythons_csv_module_and_pandas(build, middle_cell):
    content = _messy_list(build, middle_cell)
    frame = _read(content)
    columns = ["full_name", "phone", "address", "unit"]
    got = frame[columns].astype(object).where(frame[columns].notna(), None).values.tolist()
    assert got == _reference_rows(content, ";", 2)
    expected = pd.read_csv(
        io.BytesIO(content), sep=";", skiprows=1, dtype=str, encoding="utf-8-sig"
    )
    expected = expected.apply(lambda c: c.str.normalize("NFC").str.strip())
    assert frame["address"].tolist() == expected["Địa chỉ"].tolist()


TEXT_CELLS = st.lists(
    st.sampled_from([*"aĂđỨ ,;\"'\n\r\t0+", "\u0301", "\u00a0", "Nguyễn"]), max_size=8
).map("".join)


@settings(max_examples=80, deadline=None)
@given(
    cells=st.lists(st.lists(TEXT_CELLS, min_size=3, max_size=3), min_size=1, max_size=15),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_any_quoted_list_reads_as_pythons_csv_module_reads_it(build, cells, delimiter):
    header = ["Họ và tên", "Số điện thoại", "Đơn vị"]
    content = build.csv_text([header, *cells], delimiter=delimiter).encode()
    expected = _reference_rows(content, delimiter, 1)
    if not expected:
        with pytest.raises(sampling.EmptyFrameError):
            _read(content)
        return
    frame = _read(content)
    columns = ["full_name", "phone", "unit"]
    got = frame[columns].astype(object).where(frame[columns].notna(), None).values.tolist()
    assert got == expected
