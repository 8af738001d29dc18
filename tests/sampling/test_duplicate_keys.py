"""The shortcuts of the duplicate search give exactly the slow answers: the bucket screen
in front of pandas' hash table (the numpy path), and byte-set tests by ranges instead of a
table look-up."""

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling.text import _bytes_in, rows_with_bytes, splitmix64
from sampling.validation import _shared_keys


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), max_size=300),
    st.lists(st.integers(0, 299), max_size=50),
)
def test_shared_keys_match_pandas_duplicated(values, repeated):
    keys = np.array(values, dtype=np.uint64)
    if len(keys):  # append copies of some keys, so that repeats are common
        keys = np.concatenate([keys, keys[[i % len(keys) for i in repeated]]])
    expected = pd.Series(keys).duplicated(keep=False).to_numpy()
    assert (_shared_keys(keys) == expected).all()


def test_keys_sharing_a_bucket_but_different_are_not_repeats():
    # Same top bits (same bucket), different values: crowded but not repeated.
    keys = np.array([1 << 63, (1 << 63) + 1, (1 << 63) + 1, 5], dtype=np.uint64)
    assert _shared_keys(keys).tolist() == [False, True, True, False]


def test_a_million_mixed_keys_with_repeats():
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 10**11, 1_000_000, dtype=np.int64)
    raw[::997] = raw[1::997][: len(raw[::997])]
    keys = splitmix64(raw.view(np.uint64))
    expected = pd.Series(keys).duplicated(keep=False).to_numpy()
    assert expected.sum() > 1000
    assert (_shared_keys(keys) == expected).all()


@settings(max_examples=80, deadline=None)
@given(st.sets(st.integers(0, 255)), st.binary(max_size=600))
def test_byte_set_by_ranges_equals_the_table_look_up(members, data):
    byte_mask = np.zeros(256, dtype=bool)
    byte_mask[list(members)] = True
    region = np.frombuffer(data, dtype=np.uint8)
    assert (_bytes_in(region, byte_mask) == byte_mask[region]).all()


def test_rows_with_lower_case_space_or_non_ascii_bytes():
    codes = pa.array(["H23-001", "h23-002", "H23 003", None, "", "HỒ-1", "X"], pa.large_string())
    folding = np.zeros(256, dtype=bool)
    folding[[0x20, *range(0x61, 0x7B), *range(0x80, 0x100)]] = True
    assert rows_with_bytes(codes, folding).tolist() == [
        False, True, True, False, False, True, False,
    ]  # fmt: skip


def test_duplicates_across_files_follow_the_validation_rules():
    """A second file of a unit's list against its first (issue 10.7): same dossier code
    ignoring case and spaces, or same name ignoring case and spacing with the same phone;
    a row matching both is reported once, by its dossier code."""
    import sampling

    earlier = pd.DataFrame({
        "full_name": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"],
        "phone": ["0912345601", "0912345602", None],
        "dossier_code": ["HS-001", None, "HS-003"],
    })  # fmt: skip
    later = pd.DataFrame({
        "full_name": ["nguyễn  văn an", "Trần Thị Bình", "Phạm Dung", "Lê Văn Cường", "Ngô Em"],
        "phone": ["0912345601", "0912345699", "0912345605", "0912345606", "0912345601"],
        "dossier_code": ["hs - 001", None, "hs-0 03", None, None],
    })  # fmt: skip
    found = sampling.duplicates_across(earlier, later)
    assert found.to_dict("records") == [
        {"later": 0, "earlier": 0, "column": "dossier_code", "code": "duplicate_dossier"},
        {"later": 2, "earlier": 2, "column": "dossier_code", "code": "duplicate_dossier"},
    ]
    # Same name and phone, no dossier codes: the person rule.
    found = sampling.duplicates_across(
        earlier[["full_name", "phone"]], later[["full_name", "phone"]]
    )
    assert found[["later", "earlier", "code"]].values.tolist() == [[0, 0, "duplicate_person"]]
