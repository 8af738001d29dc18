"""Audit manifest of a draw: what was drawn, from which frame, how (verification of a
sample against frame + manifest is in :mod:`sampling.verification`).

Frame content hash (``sampling-frame-sha256/v1``). SHA-256 over, in order: the tag, the
number of rows, then for every column in sorted column-name order its name, a type tag
and the SHA-256 of its values in frame (file) row order, serialised as:

* strings (``str`` or ``object``): end offsets of the values as int64 (from 0), the
  concatenated UTF-8 bytes and a null mask (when any), taken straight from the Arrow
  buffers (no per-row Python; the same whatever the Arrow chunking);
* integers and booleans: little-endian int64; floats: float64 with nulls zeroed and a
  null mask; dates and times: int64 nanoseconds since the epoch with a null mask;
* categoricals: the categories (as strings, in the dtype's order) and the codes in the
  width pandas gives them (int8/int16/int32, set by the number of categories).

Row order matters (a reordered file is a different frame, and the draw depends on it);
column order does not. The hash describes the frame the draw saw, i.e. after reading and
validation, so verification must read the file the same way.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sampling.errors import SamplingError

# The generator every draw uses: numpy.random.Generator(PCG64(seed)).
BIT_GENERATOR = "PCG64"
HASH_METHOD = "sampling-frame-sha256/v1"
MANIFEST_FORMAT = "par-survey-sample-manifest/1"


class ManifestError(SamplingError):
    """A manifest file cannot be read or lacks required fields."""


@functools.cache
def _library_version() -> str:
    try:
        return metadata.version("par-survey")
    except metadata.PackageNotFoundError:
        return "unknown"


def _arrow_strings(values: pd.Series) -> pa.ChunkedArray:
    array = values.array
    if hasattr(array, "__arrow_array__"):
        arrow = pa.chunked_array(array.__arrow_array__())
    else:
        arrow = pa.chunked_array([pa.array(values.astype(object), from_pandas=True)])
    if not pa.types.is_string(arrow.type) and not pa.types.is_large_string(arrow.type):
        arrow = arrow.cast(pa.large_string())
    return arrow


def _digest_strings(values: pd.Series) -> bytes:
    """Digests of the end offsets (int64, from 0 over the whole column), the UTF-8 bytes
    and the null mask; independent of how Arrow splits the column into chunks."""
    arrow = _arrow_strings(values)
    ends, data, nulls = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
    base = 0
    for chunk in arrow.chunks:
        buffers = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=width)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        start = int(offsets[0])
        if width is np.int64 and start == base == 0:
            ends.update(offsets[1:])  # already the canonical form: hashed without a copy
        else:
            ends.update((offsets[1:].astype("<i8") - start + base).astype("<i8", copy=False))
        if buffers[2] is not None:
            data.update(memoryview(buffers[2])[start : int(offsets[-1])])
        base += int(offsets[-1]) - start
    if arrow.null_count:
        nulls.update(np.packbits(arrow.is_null().to_numpy(zero_copy_only=False)))
    return ends.digest() + data.digest() + nulls.digest()


def _digest_numbers(values: np.ndarray, mask: np.ndarray | None) -> bytes:
    digest = hashlib.sha256(np.ascontiguousarray(values))
    if mask is not None and mask.any():
        digest.update(np.packbits(mask))
    return digest.digest()


def _column_digest(column: pd.Series) -> tuple[str, bytes]:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = pd.Series(dtype.categories.astype(str), dtype=object)
        codes = column.cat.codes.to_numpy()  # int8/16/32: fixed by the number of categories
        tag = f"category-{codes.dtype.str}"
        return tag, _digest_strings(categories) + hashlib.sha256(codes).digest()
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return "int64", _digest_numbers(column.to_numpy().astype("<i8", copy=False), None)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        mask = column.isna().to_numpy() if column.hasnans else None
        values = column.to_numpy(dtype="<i8", na_value=0)
        return "int64", _digest_numbers(values, mask)
    if pd.api.types.is_float_dtype(dtype):
        mask = column.isna().to_numpy()
        values = column.to_numpy(dtype="<f8", na_value=0.0).copy()
        values[mask] = 0.0
        return "float64", _digest_numbers(values, mask)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        mask = column.isna().to_numpy()
        values = column.dt.as_unit("ns").to_numpy().view("<i8").copy()
        values[mask] = 0
        return "datetime-ns", _digest_numbers(values, mask)
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "string", _digest_strings(column)
    hashed = pd.util.hash_pandas_object(column, index=False).to_numpy()
    return f"other:{dtype}", hashlib.sha256(hashed.tobytes()).digest()


def frame_content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of the frame's content as defined in this module's docstring."""
    outer = hashlib.sha256(HASH_METHOD.encode())
    outer.update(len(frame).to_bytes(8, "little"))
    for name in sorted(frame.columns, key=str):
        tag, digest = _column_digest(frame[name])
        outer.update(f"\x1e{name}\x1f{tag}\x1f".encode())
        outer.update(digest)
    return outer.hexdigest()


def row_ids(table: pd.DataFrame, id_column: str | None) -> pd.Series:
    """The identifiers of rows: the id column when present, else the index."""
    if id_column and id_column in table.columns:
        return table[id_column]
    return pd.Series(table.index, index=table.index)


def selected_ids_hash(ids: pd.Series, reserve_rank: pd.Series) -> str:
    """SHA-256 of the selected ids in table order with their reserve rank (0 = primary)."""
    digest = hashlib.sha256(b"sampling-selected/v1")
    if pd.api.types.is_integer_dtype(ids.dtype):
        digest.update(ids.to_numpy(dtype="<i8").tobytes())
    else:
        digest.update("\x1f".join(map(str, ids)).encode())
    ranks = pd.Series(reserve_rank).fillna(0).to_numpy(dtype="<i8")
    digest.update(ranks.tobytes())
    return digest.hexdigest()


def _strata_columns(allocation: pd.DataFrame, strata: list[str]) -> dict:
    """Per-stratum figures as parallel lists (one entry per stratum, in stratum order)."""
    probabilities = allocation["inclusion_prob"].to_numpy(dtype=float)
    listed = probabilities.tolist()
    if np.isnan(probabilities).any():  # PPS: no single probability per stratum
        listed = [None if value != value else value for value in listed]
    return {
        "stratum": allocation["stratum"].tolist(),
        "values": {name: [str(v) for v in allocation[name].tolist()] for name in strata},
        "N_h": allocation["N_h"].tolist(),
        "n_h": allocation["n_h"].tolist(),
        "reserve_h": allocation["reserve_h"].tolist(),
        "inclusion_prob": listed,
    }


def build_manifest(frame, design, seed: int, content_hash: str, allocation, table) -> dict:
    """The audit record of a draw (JSON-ready). The seed is a decimal string (128-bit)."""
    id_column = design.id_column if design.id_column in frame.columns else None
    return {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": str(seed),
        "bit_generator": BIT_GENERATOR,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "library_version": _library_version(),
        "python_version": platform.python_version(),
        "frame": {
            "rows": len(frame),
            "columns": [str(c) for c in frame.columns],
            "content_sha256": content_hash,
            "hash_method": HASH_METHOD,
            "id_column": id_column,
        },
        "design": design.to_dict(),
        "totals": {
            "N": int(allocation["N_h"].sum()),
            "n": int(allocation["n_h"].sum()),
            "reserve": int(allocation["reserve_h"].sum()),
            "strata": len(allocation),
        },
        "strata": _strata_columns(allocation, list(design.strata)),
        "selected_sha256": selected_ids_hash(row_ids(table, id_column), table["reserve_rank"]),
    }


def write_manifest(manifest: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def read_manifest(path: str | Path) -> dict:
    """Read a manifest; a clear :class:`ManifestError` when it is missing or damaged."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"Không tìm thấy tệp manifest: {path}.", f"Manifest file not found: {path}."
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(
            f"Tệp manifest {path} bị hỏng: {error}.", f"Manifest file {path} is damaged: {error}."
        ) from None
    missing = [key for key in ("seed", "design", "frame") if key not in manifest]
    if missing or not isinstance(manifest.get("design"), dict):
        raise ManifestError(
            f"Tệp manifest {path} thiếu trường: {', '.join(missing) or 'design'}.",
            f"Manifest file {path} lacks fields: {', '.join(missing) or 'design'}.",
        )
    return manifest
