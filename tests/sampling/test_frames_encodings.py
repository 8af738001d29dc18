"""Lists in the encodings Vietnamese offices save them in (issue 10.7): decoded correctly,
or refused with a message naming the problem; never stored garbled."""

import codecs

import pytest

import sampling

NAMES = [
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Đức Em",
    "Đặng Thị Hương", "Bùi Quang Huy", "Võ Thị Thủy", "Ngô Đức Thắng", "Dương Thị Ánh Nguyệt",
    "Huỳnh Ngọc Ẩn", "Phan Thị Ửng", "Vũ Trọng Ưng", "Đỗ Thị Yến", "Lý Văn Ổn",
]  # fmt: skip
HEADER = ["Họ và tên", "Số điện thoại", "Địa chỉ", "Đơn vị"]


def _rows() -> list[list[str]]:
    return [HEADER] + [
        [name, f"09123456{i:02d}", f"Số {i} đường Lê Lợi, phường Phước Trung", "UBND xã Hòa Long"]
        for i, name in enumerate(NAMES)
    ]


def _expect_names(data: bytes) -> None:
    frame = sampling.read_frame(data, filename="ds.csv")
    assert frame["full_name"].tolist() == NAMES
    assert set(frame["unit"]) == {"UBND xã Hòa Long"}
    assert frame["address"].iloc[0] == "Số 0 đường Lê Lợi, phường Phước Trung"


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),  # with a byte order mark, as Excel's "Unicode text"
        lambda text: text.encode("utf-16-le"),
        lambda text: text.encode("utf-16-be"),
    ],
    ids=[
        "utf-8",
        "utf-8 with BOM",
        "utf-16 with BOM",
        "utf-16-le without BOM",
        "utf-16-be without BOM",
    ],
)
def test_unicode_encodings_are_decoded(build, encode):
    _expect_names(encode(build.csv_text(_rows(), delimiter="\t")))


def test_windows_vietnamese_code_page_is_decoded(build):
    _expect_names(build.cp1258_bytes(build.csv_text(_rows())))


def test_tcvn3_is_refused_with_a_message_naming_it(build):
    data = build.tcvn3_bytes(build.csv_text(_rows()))
    with pytest.raises(sampling.UnreadableEncodingError) as caught:
        sampling.read_frame(data, filename="ds.csv")
    assert "TCVN3" in caught.value.message_vi and "CSV UTF-8" in caught.value.message_en
    assert "row 1" in caught.value.message_en


def test_utf8_mixed_with_the_code_page_is_refused_naming_the_row(build):
    """A list pasted together from two files: decoding it all as cp1258 would garble the
    UTF-8 part (Nguyá»…n), so it is refused."""
    rows = _rows()
    head = build.csv_text(rows[:12]).encode("utf-8")
    tail = build.cp1258_bytes(build.csv_text(rows[12:]))
    with pytest.raises(sampling.UnreadableEncodingError) as caught:
        sampling.read_frame(head + tail, filename="ds.csv")
    assert "row 13" in caught.value.message_en


def test_utf8_mixed_far_into_a_large_file_is_refused(build):
    rows = [HEADER] + [[f"Nguyễn Văn {i}", "0912345678", "", "X"] for i in range(4000)]
    head = build.csv_text(rows).encode("utf-8")
    assert len(head) > 64 * 1024  # beyond what the reader sniffs
    tail = build.cp1258_bytes(build.csv_text([["Trần Thị Ánh", "0987654321", "", "X"]]))
    with pytest.raises(sampling.UnreadableEncodingError) as caught:
        sampling.read_frame(head + tail)
    assert "row 4,002" in caught.value.message_en


def test_bytes_of_no_known_encoding_are_refused(build):
    text = build.csv_text(_rows())
    with pytest.raises(sampling.SamplingError):
        sampling.read_frame(text.encode("shift_jis", errors="replace") + bytes(range(128, 256)))


# ------------------------------------------------------------------- names tidied


def test_names_are_tidied_on_import_and_reported_as_written(build):
    rows = [
        ["Họ và tên", "Số điện thoại", "Đơn vị"],
        ["NGUYỄN VĂN AN", "0912345601", "X"],
        ["  trần  thị\u00a0bình ", "0912345602", "X"],
        [build.nfd("lê văn cường"), "0912345603", "X"],
        ["Phạm văn DŨNG", "0912345604", "X"],
        ["CÔNG TY TNHH XÂY DỰNG ABC", "0912345605", "X"],
        ["Hộ kinh doanh Lê Thị Hoa", "0912345606", "X"],
        ["Nguyễn Xuân Trường", "0912345607", "X"],
        ["John McDonald", "0912345608", "X"],
        ["Trần Văn B (con)", "0912345609", "X"],
        ["NGUYỄN VĂN AN", "12345", "X"],  # excluded: its name stays as written in the report
    ]
    result = sampling.validate_frame(sampling.read_frame(build.csv_text(rows).encode()))
    assert result.valid["full_name"].tolist() == [
        "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Văn Dũng",
        "CÔNG TY TNHH XÂY DỰNG ABC", "Hộ kinh doanh Lê Thị Hoa", "Nguyễn Xuân Trường",
        "John McDonald", "Trần Văn B (con)",
    ]  # fmt: skip
    assert result.issues["value"].tolist() == ["12345"]
    assert result.issues["row"].tolist() == [11]


def test_tidied_names_are_one_person_for_the_duplicate_search(build):
    rows = [
        ["Họ và tên", "Số điện thoại", "Đơn vị"],
        ["NGUYỄN VĂN AN", "0912345601", "X"],
        ["Nguyễn  Văn An", "0912345601", "X"],
    ]
    result = sampling.validate_frame(sampling.read_frame(build.csv_text(rows).encode()))
    assert result.valid["full_name"].tolist() == ["Nguyễn Văn An"]
    assert result.issues["code"].tolist() == ["duplicate_person"]
