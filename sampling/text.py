"""Vectorised text clean-up of frame columns (pyarrow string arrays).

Vietnamese text arrives both precomposed (NFC) and decomposed (NFD, typed on macOS or
copied from some web forms); the two look identical but compare unequal, which would
split one person into two. Normalising a million cells with utf8proc costs ~0.3 s per
column, so only the rows that can change are normalised: a decomposed Vietnamese letter
always carries a combining mark U+0300..U+036F, whose UTF-8 lead byte is 0xCC or 0xCD,
and precomposed Vietnamese never contains those bytes. Likewise only cells that can start
or end with whitespace are trimmed.
"""

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20]] = True


def as_large_string(values) -> pa.Array:
    """One contiguous large_string array (a pandas str column, chunked or plain array)."""
    if hasattr(values, "__arrow_array__"):
        values = values.__arrow_array__()
    elif not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return values


def large_string_column(values) -> pa.ChunkedArray:
    """A column as a large_string ChunkedArray, without copying its chunks together."""
    if hasattr(values, "__arrow_array__"):
        values = values.__arrow_array__()
    elif not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return values


def take_sorted(values: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """values[rows] for ascending row numbers, chunk by chunk: Arrow's take on a chunked
    array first copies all its chunks into one (a whole text column) to pick a few rows."""
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    starts = np.cumsum([0, *(len(chunk) for chunk in values.chunks)])
    cuts = np.searchsorted(rows, starts)
    return pa.chunked_array(
        [
            chunk.take(pa.array(rows[cuts[i] : cuts[i + 1]] - starts[i]))
            for i, chunk in enumerate(values.chunks)
            if cuts[i + 1] > cuts[i]
        ],
        type=values.type,
    )


def to_bools(values) -> np.ndarray:
    """A boolean (chunked) array as numpy, nulls as False."""
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def string_buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a large_string array as numpy views, offsets rebased to data."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)
    offsets = offsets[values.offset : values.offset + len(values) + 1]
    data_buffer = values.buffers()[2]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return offsets, data


def large_strings(offsets, data, valid: np.ndarray | None = None) -> pa.Array:
    """A large_string array over int64 offsets (one more than the rows) and UTF-8 data,
    numpy arrays or Arrow buffers, used as they are; missing where ``valid`` is False."""

    def buffer(values):
        return (
            values if isinstance(values, pa.Buffer) else pa.py_buffer(np.ascontiguousarray(values))
        )

    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.large_string(), len(offsets) - 1, [validity, buffer(offsets), buffer(data)]
    )


def _byte_ranges(byte_mask: np.ndarray) -> list[tuple[int, int]]:
    """The byte mask as ranges of consecutive byte values (first, last)."""
    padded = np.concatenate(([False], byte_mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [
        (int(first), int(last) - 1) for first, last in zip(edges[::2], edges[1::2], strict=True)
    ]


def _bytes_in(region: np.ndarray, byte_mask: np.ndarray) -> np.ndarray:
    """byte_mask[region]; for a mask of a few ranges (lower-case letters, non-ASCII...) as
    comparisons, about 3x faster than the table look-up (a gather per byte)."""
    ranges = _byte_ranges(byte_mask)
    if len(ranges) > 4:
        return byte_mask[region]
    hit = np.zeros(len(region), dtype=bool)
    for first, last in ranges:
        # One unsigned comparison per range: bytes below `first` wrap around to large values.
        hit |= (region - np.uint8(first)) <= np.uint8(last - first)
    return hit


def rows_with_bytes(values: pa.Array, byte_mask: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows containing at least one byte b with byte_mask[b]."""
    offsets, data = string_buffers(values)
    region = data[offsets[0] : offsets[-1]]
    rows = np.zeros(len(values), dtype=bool)
    wanted = np.flatnonzero(byte_mask)
    if len(wanted) <= 4:
        # Usually none of them occurs: bytes.find (memchr) answers that in a few ms.
        raw = region.tobytes()
        wanted = [b for b in wanted if raw.find(bytes([b])) >= 0]
        if not wanted:
            return rows
        hit = region == wanted[0]
        for byte in wanted[1:]:
            hit |= region == byte
    else:
        hit = _bytes_in(region, byte_mask)
    positions = np.flatnonzero(hit) + offsets[0]
    rows[np.searchsorted(offsets, positions, side="right") - 1] = True
    return rows


_COMBINING_LEAD = np.zeros(256, dtype=bool)
_COMBINING_LEAD[[0xCC, 0xCD]] = True


# A first byte that may start whitespace: ASCII spaces, and the lead bytes of no-break
# space (C2 A0), U+2000..U+205F (E2 ..) and U+3000 (E3 80 80).
_SPACE_FIRST_BYTE = _ASCII_SPACE.copy()
_SPACE_FIRST_BYTE[[0xC2, 0xE2, 0xE3]] = True


def _may_need_trim(values: pa.Array) -> np.ndarray:
    """Rows whose first or last character may be (Unicode) whitespace."""
    offsets, data = string_buffers(values)
    if len(data) == 0:
        return np.zeros(len(values), dtype=bool)
    starts, ends = offsets[:-1], offsets[1:]
    nonempty = ends > starts
    first = data[np.minimum(starts, len(data) - 1)]
    last = data[np.maximum(ends - 1, 0)]
    maybe = _SPACE_FIRST_BYTE[first] | _ASCII_SPACE[last]
    # A multi-byte last character (Vietnamese letters mostly): is it a space? Only those
    # rows are looked at again.
    wide = np.flatnonzero((last >= 0x80) & nonempty)
    if len(wide):
        wide_ends = ends[wide]
        before_last = data[np.maximum(wide_ends - 2, 0)]
        third_last = data[np.maximum(wide_ends - 3, 0)]
        maybe[wide] |= ((before_last == 0xC2) & (last[wide] == 0xA0)) | (
            (third_last == 0xE2) | (third_last == 0xE3)
        )
    return maybe & nonempty


def transform_rows(values: pa.Array, rows: np.ndarray, transform) -> pa.Array:
    """Apply transform to the selected rows only (whole array when most rows are)."""
    count = int(rows.sum())
    if count == 0:
        return values
    if count > len(values) // 4:
        return transform(values)
    selected = np.flatnonzero(rows)
    replaced = transform(values.take(pa.array(selected))).fill_null("")
    return pc.replace_with_mask(values, pa.array(rows), replaced)


def _blank_to_null(values: pa.Array) -> pa.Array:
    """Empty strings become missing values (without copying the text)."""
    offsets, _ = string_buffers(values)
    present = np.diff(offsets) > 0
    if values.null_count:
        present &= values.is_valid().to_numpy(zero_copy_only=False)
    if present.all():
        return values
    return large_strings(offsets, values.buffers()[2], present)


# Control characters other than tab and line breaks: nothing a list means, and a NUL
# cannot be stored in PostgreSQL's text.
_CONTROL = np.zeros(256, dtype=bool)
_CONTROL[[*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]] = True
_CONTROL_PATTERN = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"


def _without_controls(values: pa.Array) -> pa.Array:
    offsets, data = string_buffers(values)
    if not (data[offsets[0] : offsets[-1]] < 0x20).any() and 0x7F not in data:
        return values  # one pass answers for nearly every column
    return transform_rows(
        values,
        rows_with_bytes(values, _CONTROL),
        lambda v: pc.replace_substring_regex(v, _CONTROL_PATTERN, ""),
    )


def normalise_strings(values) -> pa.Array | pa.ChunkedArray:
    """NFC, trimmed, without control characters (tab and line breaks inside a cell kept),
    empty -> missing; large_string (chunks kept when given chunks)."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [normalise_strings(chunk) for chunk in values.chunks], type=pa.large_string()
        )
    values = _without_controls(as_large_string(values))
    values = transform_rows(
        values, rows_with_bytes(values, _COMBINING_LEAD), lambda v: pc.utf8_normalize(v, "NFC")
    )
    trim = _may_need_trim(values)
    if not trim.any():
        return values  # the CSV reader already reads empty cells as missing
    return _blank_to_null(transform_rows(values, trim, pc.utf8_trim_whitespace))


def normalise_dictionary(values):
    """:func:`normalise_strings` for dictionary-encoded text: only the distinct values are
    cleaned, and values that become equal (NFD and NFC, padded and not) are merged."""
    value_type = pa.dictionary(pa.int32(), pa.large_string())
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [normalise_dictionary(chunk) for chunk in values.chunks], type=value_type
        )
    merged = normalise_strings(values.dictionary).dictionary_encode()
    indices = merged.indices.take(values.indices)  # missing stays missing
    return pa.DictionaryArray.from_arrays(indices.cast(pa.int32()), merged.dictionary)


def clean_filename(name: object, max_length: int = 255) -> str:
    """A file name as uploaded, safe to show and store: its last path component (Windows
    or POSIX), NFC, without control characters (a NUL breaks PostgreSQL's text), at most
    ``max_length`` characters; "upload" when nothing remains."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    if len(text) > max_length:
        stem, dot, suffix = text.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        ending = "…." + keep if keep else "…"
        text = text[: max_length - len(ending)].rstrip() + ending
    return text or "upload"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: object) -> object:
    """Prefix a quote to a cell that a spreadsheet would run as a formula (OWASP CSV
    injection); other values are returned unchanged."""
    if isinstance(text, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


_ILLEGAL_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def spreadsheet_safe(text: object) -> object:
    """A cell value safe to write to CSV or XLSX: formula prefix neutralised and control
    characters that XLSX cannot store removed."""
    if isinstance(text, str):
        return neutralise_formula(text.translate(_ILLEGAL_XML))
    return text


def spreadsheet_safe_frame(frame: pd.DataFrame, *, strip_control: bool = True) -> pd.DataFrame:
    """A copy of a table whose text is safe to write to CSV or XLSX: formula-looking
    cells neutralised in text, object and categorical columns (a categorical's categories
    once each), and with ``strip_control`` the control characters XLSX cannot store
    removed. Cells that are not text are left as they are."""
    cell = spreadsheet_safe if strip_control else neutralise_formula
    safe = frame.copy()
    for name in safe.columns:
        values = safe[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            renamed = [cell(category) for category in values.cat.categories]
            if len(set(renamed)) == len(renamed):
                safe[name] = values.cat.rename_categories(renamed)
                continue
            values = values.astype(object)  # two categories became one: cell by cell
        if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
            text = values.str.translate(_ILLEGAL_XML) if strip_control else values
            formula = text.str.startswith(_FORMULA_START, na=False)
            safe[name] = text.mask(formula, "'" + text)
        elif values.dtype == object:
            safe[name] = values.map(cell, na_action="ignore")
    return safe


_HASH_CHUNK_ROWS = 1 << 16
# _LOW_BYTES[k] keeps the k low-order bytes of a little-endian 64-bit word.
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)


def splitmix64(values: np.ndarray) -> np.ndarray:
    """Steele, Lea and Flood (2014) 64-bit finaliser: a bijection that mixes all bits."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def hash_strings(values) -> np.ndarray:
    """A 64-bit hash per string, for finding duplicates without building a hash table of
    a million Python strings.

    Each string is read as little-endian 64-bit words (an unaligned view of the UTF-8
    buffer, the last word masked to the string's length) folded with splitmix64 (Steele,
    Lea and Flood 2014), seeded with the length: one pass per 8 bytes of the longest
    string instead of several passes per byte. Equal strings get equal hashes; callers
    confirm candidate duplicates by comparing the strings themselves, so a collision can
    only cost time. Missing values hash like "".
    """
    if isinstance(values, pa.ChunkedArray) or not isinstance(values, pa.Array):
        chunks = large_string_column(values).chunks
        if len(chunks) != 1:
            return np.concatenate(
                [hash_strings(chunk) for chunk in chunks] or [np.zeros(0, np.uint64)]
            )
        values = chunks[0]
    values = as_large_string(values)
    offsets, data = string_buffers(values)
    hashes = np.zeros(len(values), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for first in range(0, len(values), _HASH_CHUNK_ROWS):
            last = min(first + _HASH_CHUNK_ROWS, len(values))
            hashes[first:last] = _hash_block(offsets[first : last + 1], data)
    return hashes


def _hash_block(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    begin, end = offsets[0], offsets[-1]
    padded = np.zeros(end - begin + 8, dtype=np.uint8)  # room for the last word
    padded[: end - begin] = data[begin:end]
    # words[i] = the 8 bytes starting at byte i (an unaligned, overlapping view).
    words = np.ndarray((end - begin + 1,), dtype="<u8", buffer=padded, strides=(1,))
    starts = offsets[:-1] - begin
    lengths = np.diff(offsets)
    hashes = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    longest = int(lengths.max()) if len(lengths) else 0
    for word in range(0, longest, 8):
        remaining = np.clip(lengths - word, 0, 8)
        chunk = words[np.minimum(starts + word, end - begin)] & _LOW_BYTES[remaining]
        # A string takes one round per word it has, whatever the block's longest string:
        # equal strings in different blocks must hash alike.
        hashes = np.where(remaining > 0, splitmix64(hashes ^ chunk), hashes)
    return hashes
