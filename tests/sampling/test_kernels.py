"""The compiled inner loops (sampling/_kernels.c) give exactly the answers of the numpy
versions of the same rules, which the rest of the tests check against hand-worked cases."""

import csv
import io
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sampling
from sampling import kernels
from sampling.phones import canonical_text, normalise_phones
from sampling.text import hash_strings, normalise_strings, rows_with_bytes
from sampling.validation import _dossier_hashes, _shared_keys

needs_compiled = pytest.mark.skipif(
    not kernels.available(), reason="sampling._kernels was not built (no C compiler)"
)


def numpy_only(function, *args):
    with kernels.disabled():
        return function(*args)


def test_compiled_loops_are_built_where_ci_requires_them():
    if os.environ.get("REQUIRE_COMPILED") != "1":
        pytest.skip("REQUIRE_COMPILED=1 is set by .ci/run, where a C compiler is present")
    assert kernels.available()


# Pieces of what unit lists hold in phone cells: digits, every separator, "+", list
# characters, words, scientific notation, a no-break space, a trailing ".0".
PHONE_PIECES = st.sampled_from(
    [
        "0", "9", "12", "345", "84", "0084", "+84", "+", " ", ".", "-", "(", ")", "_", "\t",
        "\u00a0", ";", ",", "/", "|", " hoặc ", " or ", "e+08", "E", "x", "số", ".0", "0166",
        "091", "2345678", "\n",
    ]
)  # fmt: skip
PHONE_CELLS = st.one_of(
    st.none(),
    st.lists(PHONE_PIECES, max_size=8).map("".join),
    st.builds(
        lambda zero, code, sep, body, end: f"{zero}{code}{sep}{body}{end}",
        st.sampled_from(["0", "", "+84", "84", "+84 (0) ", "0084"]),
        st.sampled_from(["91", "32", "70", "162", "24", "99", "00"]),
        st.sampled_from(["", " ", ".", "-"]),
        st.integers(0, 10**8).map(str),
        st.sampled_from(["", ".0", ", 0912345678", ".0, 0912345678", " / +84 91", ";", "."]),
    ),
)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(PHONE_CELLS, max_size=40))
def test_compiled_phone_pass_equals_the_numpy_one(cells):
    values = pa.array(cells, pa.large_string())
    compiled = normalise_phones(values)
    reference = numpy_only(normalise_phones, values)
    assert compiled[0].to_pylist() == reference[0].to_pylist()
    assert compiled[1].tolist() == reference[1].tolist()
    assert compiled[2].tolist() == reference[2].tolist()


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.just(-1), st.integers(1, 10**10 - 1)), max_size=30))
def test_compiled_canonical_text_equals_the_numpy_one(numbers):
    """Every digit count, odd and even (the compiled loop writes digits in pairs). A
    national number has one to ten digits: 0 never reaches this step."""
    national = np.array(numbers, dtype=np.int64)
    expected = ["0" + str(n) if n >= 0 else None for n in numbers]
    assert canonical_text(national).to_pylist() == expected
    assert numpy_only(canonical_text, national).to_pylist() == expected


@needs_compiled
def test_compiled_phone_pass_on_sliced_chunks():
    cells = [
        "0912 345 678",
        None,
        "84912345678, 0987654321",
        "912345678.0",
        "12345",
        "912345678.0, 0987654321",
    ] * 25_000
    values = pa.chunked_array(
        [pa.array(cells[:70_001], pa.large_string()), pa.array(cells[70_001:], pa.large_string())]
    )
    compiled = normalise_phones(values)
    reference = numpy_only(normalise_phones, values)
    assert compiled[0].equals(reference[0])
    assert (compiled[1] == reference[1]).all() and (compiled[2] == reference[2]).all()
    assert compiled[0][2].as_py() == "0912345678" and compiled[2][2]


@needs_compiled
@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=50))
def test_compiled_string_hash_equals_the_numpy_one(texts):
    values = pa.array(texts, pa.large_string())
    assert (hash_strings(values) == numpy_only(hash_strings, values)).all()


def test_equal_strings_hash_alike_in_blocks_of_different_longest_string():
    # Blocks of 65,536 rows: a long string in the first block only must not change the
    # hash of "H-1" there (a dossier repeated across blocks was once missed).
    texts = ["H-1"] * 70_000
    texts[5] = "X" * 40
    for hashes in (hash_strings(pa.array(texts)), numpy_only(hash_strings, pa.array(texts))):
        assert hashes[0] == hashes[69_999] != hashes[5]


@needs_compiled
@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), max_size=200),
    st.lists(st.integers(0, 199)),
    st.randoms(use_true_random=False),
)
def test_compiled_repeated_keys_equal_pandas_duplicated(values, repeated, random):
    keys = np.array(values, dtype=np.uint64)
    if len(keys):
        keys = np.concatenate([keys, keys[[i % len(keys) for i in repeated]]])
    among = np.array([random.random() < 0.7 for _ in keys], dtype=bool)
    expected = np.zeros(len(keys), dtype=bool)
    expected[among] = pd.Series(keys[among]).duplicated(keep=False).to_numpy()
    assert (_shared_keys(keys) == pd.Series(keys).duplicated(keep=False).to_numpy()).all()
    assert (_shared_keys(keys, among) == expected).all()
    assert (numpy_only(_shared_keys, keys, among) == expected).all()


def test_validation_gives_the_same_result_either_way():
    rows = ["Họ và tên,Số điện thoại,Mã hồ sơ,Đơn vị"]
    for i in range(3_000):
        phone = [f"0912 345 {i % 700:03d}", f"+84 98 765 {i:04d}", f"0166{i:07d}, 0987",
                 "12345", "", "9.1E+08", f"{912345000 + i}.0"][i % 7]  # fmt: skip
        rows.append(f"Người {i % 1_500},{phone},HS-{i % 2_000:05d}{'X' * (i % 97 == 0)},U{i % 4}")
    frame = sampling.read_frame("\n".join(rows).encode(), filename="list.csv")
    compiled = sampling.validate_frame(frame)
    reference = numpy_only(sampling.validate_frame, frame)
    pd.testing.assert_frame_equal(compiled.valid, reference.valid)
    pd.testing.assert_frame_equal(compiled.issues, reference.issues)
    assert compiled.summary == reference.summary and compiled.summary["duplicates"] > 0


TEXTS = st.lists(
    st.one_of(
        st.none(),
        st.text(
            st.sampled_from(
                [*"aAz09 -.", "\t", "\u00a0", "\u2003", "\u3000", "\u0301", "\u0323", "ế", "Đ"]
            ),
            max_size=12,
        ),
        st.text(max_size=8),
    ),
    max_size=40,
)


@needs_compiled
@settings(max_examples=150, deadline=None)
@given(texts=TEXTS, members=st.sets(st.integers(0, 255), max_size=12), start=st.integers(0, 3))
def test_compiled_byte_search_equals_the_numpy_one(texts, members, start):
    byte_mask = np.zeros(256, dtype=bool)
    byte_mask[list(members)] = True
    values = pa.array(texts, pa.large_string())[start:]  # a slice: offsets not from 0
    assert (
        rows_with_bytes(values, byte_mask) == numpy_only(rows_with_bytes, values, byte_mask)
    ).all()


@needs_compiled
@settings(max_examples=150, deadline=None)
@given(texts=TEXTS, start=st.integers(0, 3))
def test_compiled_text_clean_up_equals_the_numpy_one(texts, start):
    values = pa.array(texts, pa.large_string())[start:]
    assert normalise_strings(values).equals(numpy_only(normalise_strings, values))


@needs_compiled
@settings(max_examples=150, deadline=None)
@given(
    codes=st.lists(
        st.one_of(
            st.none(),
            st.text(st.sampled_from([*"aZh09-. ", "đ", "Ồ", "\u00a0"]), max_size=30),
        ),
        max_size=40,
    )
)
def test_compiled_dossier_key_hashes_equal_the_numpy_ones(codes):
    values = pa.chunked_array([pa.array(codes, pa.large_string())])
    assert (_dossier_hashes(values) == numpy_only(_dossier_hashes, values)).all()


@needs_compiled
def test_compiled_loops_refuse_buffers_that_do_not_fit():
    compiled = kernels.compiled
    offsets = np.array([0, 5, 50], dtype=np.int64)  # the second string runs past the data
    data = np.frombuffer(b"09123", dtype=np.uint8)
    out = np.empty(2, dtype=np.uint64)
    with pytest.raises(ValueError, match="offsets"):
        compiled.hash_strings(offsets, data, out)
    with pytest.raises(ValueError, match="offsets"):
        compiled.rows_with_bytes(offsets, data, np.zeros(256, np.uint8), np.empty(2, np.uint8))
    with pytest.raises(ValueError, match="out"):
        compiled.repeated(np.zeros(4, np.uint64), None, np.empty(2, dtype=bool))
    good = np.array([0, 2, 5], dtype=np.int64)
    with pytest.raises(ValueError, match="replacements"):  # two rows marked, one given
        compiled.splice(
            good, data, np.array([1, 1], np.uint8), np.array([0, 1], np.int64),
            np.frombuffer(b"x", np.uint8), np.empty(3, np.int64), np.empty(10, np.uint8),
        )  # fmt: skip
    with pytest.raises(ValueError, match="too small"):
        compiled.zero_prefixed(np.array([912345678]), np.empty(2, np.int64), np.empty(3, np.uint8))


def decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def strings_buffers(strings: list[bytes]):
    offsets = np.cumsum([0, *(len(s) for s in strings)]).astype(np.int64)
    return offsets, np.frombuffer(b"".join(strings) or b"\0", dtype=np.uint8)


# Valid characters of every length and the byte patterns the validator must refuse:
# lone continuation bytes, truncated sequences, overlong forms, surrogates, > U+10FFFF.
UTF8_PIECES = st.sampled_from(
    [
        b"a", b" ", "é".encode(), "ệ".encode(), "Ư".encode(), "€".encode(), "𝄞".encode(),
        "\U0010ffff".encode(), b"\x80", b"\xbf", b"\xc3", b"\xe1\xbb", b"\xf0\x9f\x98",
        b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80",
        b"\xed\xbf\xbf", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
        b"\xff", b"\xfe",
    ]
)  # fmt: skip


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(st.lists(UTF8_PIECES, max_size=40).map(b"".join), st.binary(max_size=40)),
        min_size=1,
        max_size=12,
    )
)
def test_compiled_utf8_check_agrees_with_pythons_decoder(strings):
    """Both the vectorised check and the plain loop (other processors)."""
    expected = all(decodes(s) for s in strings)
    buffers = strings_buffers(strings)
    assert kernels.compiled.utf8_strings_valid(*buffers) == expected
    assert kernels.compiled.utf8_strings_valid(*buffers, False) == expected


@needs_compiled
@pytest.mark.parametrize("before", [0, 1, 13, 14, 15, 16, 17, 31, 65_534, 65_535, 65_536])
@pytest.mark.parametrize("character", ["ệ", "𝄞", "é"])
def test_compiled_utf8_check_across_vector_blocks(before, character):
    """A character straddling the 16-byte blocks (and the 64 KiB early exit) is whole or
    cut short, at every position."""
    whole = b"x" * before + character.encode() + b"y" * 5
    assert kernels.compiled.utf8_strings_valid(*strings_buffers([whole]))
    cut = b"x" * before + character.encode()[:-1]
    assert not kernels.compiled.utf8_strings_valid(*strings_buffers([cut]))
    assert not kernels.compiled.utf8_strings_valid(*strings_buffers([cut + b"y" * 40]))


@needs_compiled
def test_compiled_utf8_check_sees_a_character_split_between_two_cells():
    # Together the bytes are "é"; as two cells each is invalid.
    assert not kernels.compiled.utf8_strings_valid(*strings_buffers([b"ab\xc3", b"\xa9cd"]))
    assert kernels.compiled.utf8_strings_valid(*strings_buffers([b"ab\xc3\xa9", b"cd"]))
    assert kernels.compiled.utf8_strings_valid(*strings_buffers([b"", b"", b"\xc3\xa9"]))


def split_with_compiled_loop(text: str, columns: int, delimiter: str):
    """(status, rows as lists of cells) from sampling._kernels.csv_columns."""
    data = text.encode()
    outs = [np.empty(max(len(data), 1), np.uint8) for _ in range(columns)]
    ends = [np.empty(len(data) // columns + 2, np.int64) for _ in range(columns)]
    status, rows = kernels.compiled.csv_columns(data, ord(delimiter), outs, ends)
    if status:
        return status, None
    cells = [
        [bytes(outs[c][ends[c][r] : ends[c][r + 1]]).decode() for r in range(rows)]
        for c in range(columns)
    ]
    return status, [list(row) for row in zip(*cells, strict=True)]


CSV_PIECES = st.sampled_from(["a", "é", "ệ", ",", ";", "\t", '"', '""', "\n", "\r\n", "\r", " "])


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda columns: st.tuples(
            st.just(columns),
            st.lists(
                st.lists(st.lists(CSV_PIECES, max_size=3).map("".join), min_size=columns,
                         max_size=columns),
                max_size=5,
            ),
        )
    ),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["\n", "\r\n"]),
    st.one_of(st.none(), st.tuples(st.integers(0, 200), CSV_PIECES)),
)  # fmt: skip
def test_compiled_csv_split_agrees_with_pythons_csv_module(table, delimiter, newline, damage):
    """Written by Python's csv module (quotes, doubled quotes, line breaks in cells),
    sometimes damaged by one inserted piece: the compiled loop gives Python's cells, or
    reports a record whose field count differs (status 1) or an open quote (status 2), for
    the general parser to handle. An empty line is one empty cell (as in pyarrow)."""
    columns, rows = table
    written = io.StringIO()
    csv.writer(written, delimiter=delimiter, lineterminator=newline).writerows(rows)
    text = written.getvalue()
    if damage is not None:
        at, piece = damage
        text = text[: at % (len(text) + 1)] + piece + text[at % (len(text) + 1) :]
    expected = [
        row or [""] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    ]
    status, cells = split_with_compiled_loop(text, columns, delimiter)
    if status == 0:
        assert cells == expected
    elif status == 1:
        assert any(len(row) != columns for row in expected)
    else:
        assert status == 2 and damage is not None  # the writer closes its quotes
    if damage is None and all(len(row) == columns for row in expected):
        assert status == 0


@needs_compiled
def test_compiled_csv_skip_steps_over_records_with_line_breaks_in_quotes():
    data = b'Title\n"a\nb",c\r\nName,Phone\nAn,1\n'
    assert data[kernels.compiled.csv_skip(data, 0, 3) :] == b"An,1\n"
    assert kernels.compiled.csv_skip(data, 0, 9) == -1
