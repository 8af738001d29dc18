"""Verification of a sample against the frame and the manifest of its draw.

:func:`verify_sample` re-runs the draw recorded in the manifest on the frame and compares
the result with the sample as it was handed out (a CSV/XLSX file read as text, or a
table), row by row and column by column:

* the frame: its content hash against the manifest's;
* the manifest: its hash of the selected rows against the re-draw (an edited seed or
  design no longer reproduces it);
* the rows: every drawn row present once, no row that was not drawn, each in its stratum,
  as primary or reserve with its reserve rank, weight and inclusion probability;
* the people: every column of the sample that comes from the frame (name, phone, e-mail,
  address, dossier code, unit, ...) holds the frame's value for that row. An edited phone
  number is reported with the sample file's row and column.

A frame column that the sample leaves out (a sample published without personal data)
cannot be compared; it is listed in :attr:`VerificationResult.unchecked_columns`, so the
result says what it covered.

Every difference carries a Vietnamese and an English message; the first ``_LISTED`` of
each kind are listed one by one (with the file's row), the rest counted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sampling.draw import SampleDesign, draw_sample
from sampling.errors import SamplingError
from sampling.manifest import HASH_METHOD, frame_content_hash, row_ids

_LISTED = 20  # differences listed one by one per kind; the rest are counted
DESIGN_COLUMNS = ("stratum", "selection", "reserve_rank", "inclusion_prob", "weight")
# Characters XLSX cannot store (removed when a sample is written) and the quote put before
# formula-looking text (sampling.text.neutralise_formula).
_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_FORMULA_QUOTE = r"^'(?=[=+\-@\t\r])"


@dataclass(frozen=True)
class Difference:
    """One way in which a sample differs from the reproduced draw.

    ``row`` is the sample file's row (its line in a CSV, ``sheet!row`` in an XLSX) when
    the difference is on one row of the file; ``column`` the column; ``row_id`` the
    frame row's identifier.
    """

    code: str
    message_vi: str
    message_en: str
    row: str | None = None
    column: str | None = None
    row_id: str | None = None


# The links of the chain a verification checks, in order, with their names.
STEPS = {
    "commitment": ("Cam kết đã công bố", "Published commitment"),
    "design": ("Thiết kế mẫu đã cam kết", "Committed design"),
    "seed": ("Hạt giống suy ra từ giá trị công khai", "Seed derived from the public value"),
    "frame": ("Khung mẫu (mã băm)", "Frame (content hash)"),
    "selection": ("Danh sách được chọn khi chạy lại", "Selection re-drawn"),
    "rows": ("Các dòng của mẫu", "Rows of the sample"),
    "people": ("Thông tin người được chọn", "People's details"),
}
_ROW_CODES = {
    "duplicate_rows", "missing_rows", "extra_rows", "moved_rows", "wrong_reserve_rank",
    "wrong_weight", "wrong_inclusion_prob",
}  # fmt: skip


@dataclass
class VerificationResult:
    """``ok`` when the sample is exactly the draw reproduced from frame + manifest.

    ``steps`` maps each link checked (see :data:`STEPS`) to True, False, or None when it
    could not be checked (an earlier failure, or a draw made without a commitment).
    """

    differences: list[Difference] = field(default_factory=list)
    checked_columns: list[str] = field(default_factory=list)
    unchecked_columns: list[str] = field(default_factory=list)
    steps: dict[str, bool | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def codes(self) -> set[str]:
        return {difference.code for difference in self.differences}

    def add(self, code: str, message_vi: str, message_en: str, **where) -> None:
        self.differences.append(Difference(code, message_vi, message_en, **where))


class _Listed:
    """Adds the first ``_LISTED`` differences of one kind, then one line counting the rest."""

    def __init__(self, result: VerificationResult, code: str) -> None:
        self.result, self.code, self.count = result, code, 0

    def add(self, vi: str, en: str, **where) -> None:
        self.count += 1
        if self.count <= _LISTED:
            self.result.add(self.code, vi, en, **where)

    def close(self, vi: str, en: str) -> None:
        more = self.count - _LISTED
        if more > 0:
            self.result.add(
                self.code, f"… và {more:,} trường hợp khác: {vi}", f"… and {more:,} more: {en}"
            )


def _shown(value) -> str:
    return f"«{value}»" if value != "" else "(trống / empty)"


def _row_place(label: str) -> tuple[str, str]:
    return f"Tệp mẫu, dòng {label}", f"Sample file, row {label}"


# ----------------------------------------------------------------------- cell texts


def _file_text(values: pd.Series) -> pd.Series:
    """Cells as text the way they compare: no control characters, no quote before
    formula-looking text, NFC, no surrounding spaces; missing cells are empty."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    text = text.str.translate(_CONTROL).str.replace(_FORMULA_QUOTE, "", regex=True)
    return text.map(lambda cell: unicodedata.normalize("NFC", cell).strip())


def _frame_text(values: pd.Series) -> pd.Series:
    """A frame column as the text a sample file carries for it."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        days = values.dropna()
        whole_days = bool((days == days.dt.normalize()).all())
        text = values.dt.strftime("%Y-%m-%d" if whole_days else "%Y-%m-%d %H:%M:%S")
        return _file_text(text)
    if pd.api.types.is_float_dtype(values.dtype):
        return _file_text(values.map(repr, na_action="ignore"))
    return _file_text(values)


def _same_cells(expected: pd.Series, expected_text: pd.Series, actual: pd.Series) -> np.ndarray:
    """Whether each file cell holds the frame's value: equal text, or for number and date
    columns equal numbers or dates (a spreadsheet writes 1.0 for 1, a date with its time)."""
    same = (expected_text.to_numpy() == actual.to_numpy()).astype(bool)
    if same.all():
        return same
    dtype = expected.dtype
    differ = ~same
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        wanted = pd.to_numeric(expected[differ], errors="coerce").to_numpy(dtype=float)
        found = pd.to_numeric(actual[differ], errors="coerce").to_numpy(dtype=float)
        same[differ] = np.isclose(found, wanted, rtol=1e-9, atol=0) & ~np.isnan(wanted)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        wanted = pd.to_datetime(expected[differ], errors="coerce")
        found = pd.to_datetime(actual[differ], errors="coerce", format="ISO8601")
        same[differ] = (wanted.to_numpy() == found.to_numpy()) & wanted.notna().to_numpy()
    return same


def _normalised_ids(ids: pd.Series, like: pd.Series) -> pd.Series:
    """Ids from a file compared as text, integers written without decimals."""
    if pd.api.types.is_integer_dtype(like.dtype):
        numbers = pd.to_numeric(ids, errors="coerce")
        whole = numbers.notna() & (numbers == numbers.round())
        text = ids.astype(str).str.strip()
        text[whole] = numbers[whole].astype("int64").astype(str)
        return text.reset_index(drop=True)
    return ids.astype(str).str.strip().reset_index(drop=True)


def _design_cells(table: pd.DataFrame, ids: pd.Series, labels: Sequence[str]) -> pd.DataFrame:
    rank = pd.to_numeric(table["reserve_rank"], errors="coerce")
    return pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "row": list(labels),
            "position": np.arange(len(table)),
            "stratum": _file_text(table["stratum"]).to_numpy(),
            "selection": table["selection"].astype(str).str.strip().str.lower().to_numpy(),
            "reserve_rank": rank.fillna(0).astype("int64").to_numpy(),
            "weight": pd.to_numeric(table["weight"], errors="coerce").to_numpy(dtype=float),
            "inclusion_prob": pd.to_numeric(table["inclusion_prob"], errors="coerce").to_numpy(
                dtype=float
            ),
        }
    )


def _placement(selection: str, rank: int) -> tuple[str, str]:
    if selection == "reserve":
        if rank <= 0:
            return "dự phòng (không có thứ tự)", "reserve (no rank)"
        return f"dự phòng thứ {rank}", f"reserve {rank}"
    if selection == "primary":
        return "chính thức", "primary"
    return _shown(selection), _shown(selection)


# ------------------------------------------------------------------------ comparing


def _duplicates(result, actual: pd.DataFrame, id_name: str) -> None:
    listed = _Listed(result, "duplicate_rows")
    first = actual.drop_duplicates("id").set_index("id")["row"]
    for row in actual[actual["id"].duplicated()].itertuples():
        vi, en = _row_place(row.row)
        listed.add(
            f"{vi}: {id_name} {row.id} lặp lại dòng {first[row.id]}.",
            f"{en}: {id_name} {row.id} repeats row {first[row.id]}.",
            row=row.row,
            row_id=row.id,
        )
    listed.close("dòng lặp lại trong mẫu", "rows repeated in the sample")


def _missing_and_extra(result, merged, frame_ids: set, id_name: str) -> None:
    listed = _Listed(result, "missing_rows")
    for row in merged[merged["_merge"] == "left_only"].itertuples():
        vi, en = _placement(row.selection, row.reserve_rank)
        listed.add(
            f"{id_name} {row.id} (tầng {row.stratum}, {vi}) được chọn nhưng thiếu trong tệp mẫu.",
            f"{id_name} {row.id} (stratum {row.stratum}, {en}) was drawn but is missing "
            "from the sample file.",
            row_id=row.id,
        )
    listed.close("dòng được chọn nhưng thiếu", "rows drawn but missing")
    listed = _Listed(result, "extra_rows")
    for row in merged[merged["_merge"] == "right_only"].itertuples():
        vi, en = _row_place(row.row_file)
        if row.id in frame_ids:
            why_vi, why_en = (
                "có trong khung mẫu nhưng không được chọn",
                "is in the frame but was not drawn",
            )
        else:
            why_vi, why_en = "không có trong khung mẫu", "is not in the frame"
        listed.add(
            f"{vi}: {id_name} {row.id} {why_vi}.",
            f"{en}: {id_name} {row.id} {why_en}.",
            row=row.row_file,
            row_id=row.id,
        )
    listed.close("dòng không được chọn", "rows not drawn")


def _placements(result, both: pd.DataFrame, id_name: str) -> None:
    moved = (both["stratum"] != both["stratum_file"]) | (
        both["selection"] != both["selection_file"]
    )
    listed = _Listed(result, "moved_rows")
    for row in both[moved].itertuples():
        vi, en = _row_place(row.row_file)
        file_vi, file_en = _placement(row.selection_file, row.reserve_rank_file)
        drawn_vi, drawn_en = _placement(row.selection, row.reserve_rank)
        listed.add(
            f"{vi} ({id_name} {row.id}): trong tệp là tầng {row.stratum_file}, {file_vi}; "
            f"khi chọn là tầng {row.stratum}, {drawn_vi}.",
            f"{en} ({id_name} {row.id}): the file says stratum {row.stratum_file}, {file_en}; "
            f"it was drawn in stratum {row.stratum}, {drawn_en}.",
            row=row.row_file,
            column="stratum" if row.stratum != row.stratum_file else "selection",
            row_id=row.id,
        )
    listed.close("dòng sai tầng hoặc sai loại", "rows in the wrong stratum or selection")
    ranked = both[~moved & (both["reserve_rank"] != both["reserve_rank_file"])]
    listed = _Listed(result, "wrong_reserve_rank")
    for row in ranked.itertuples():
        vi, en = _row_place(row.row_file)
        listed.add(
            f"{vi} ({id_name} {row.id}): thứ tự dự phòng {row.reserve_rank_file} trong tệp, "
            f"khi chọn là {row.reserve_rank}.",
            f"{en} ({id_name} {row.id}): reserve rank {row.reserve_rank_file} in the file, "
            f"{row.reserve_rank} when drawn.",
            row=row.row_file,
            column="reserve_rank",
            row_id=row.id,
        )
    listed.close("sai thứ tự dự phòng", "wrong reserve ranks")
    for column, vi_name, en_name in (
        ("weight", "trọng số", "weight"),
        ("inclusion_prob", "xác suất chọn", "inclusion probability"),
    ):
        wrong = ~np.isclose(both[column], both[f"{column}_file"], rtol=1e-9, atol=0)
        listed = _Listed(result, f"wrong_{column}")
        for row in both[wrong].itertuples():
            vi, en = _row_place(row.row_file)
            found, wanted = getattr(row, f"{column}_file"), getattr(row, column)
            listed.add(
                f"{vi} ({id_name} {row.id}): {vi_name} {found} trong tệp, khi chọn là {wanted}.",
                f"{en} ({id_name} {row.id}): {en_name} {found} in the file, {wanted} when drawn.",
                row=row.row_file,
                column=column,
                row_id=row.id,
            )
        listed.close(f"sai {vi_name}", f"wrong {en_name}")


def _people(result, expected_table, sample_table, both, columns, id_name: str) -> None:
    """Every frame column the file carries, cell by cell, on the rows both hold."""
    drawn = expected_table.iloc[both["position"].to_numpy()]
    written = sample_table.iloc[both["position_file"].to_numpy()]
    listed = _Listed(result, "changed_values")
    for column in columns:
        expected = drawn[column].reset_index(drop=True)
        expected_text = _frame_text(expected)
        actual = _file_text(written[column]).reset_index(drop=True)
        changed = np.flatnonzero(~_same_cells(expected, expected_text, actual))
        for k in changed:
            label, row_id = both["row_file"].iloc[k], both["id"].iloc[k]
            vi, en = _row_place(label)
            found, wanted = _shown(actual.iloc[k]), _shown(expected_text.iloc[k])
            listed.add(
                f"{vi}, cột {column} ({id_name} {row_id}): {found} khác với khung mẫu {wanted}.",
                f"{en}, column {column} ({id_name} {row_id}): {found} differs from the frame's "
                f"{wanted}.",
                row=label,
                column=column,
                row_id=row_id,
            )
    listed.close(
        "ô khác với khung mẫu (thông tin người được chọn bị sửa)",
        "cells differ from the frame (the people's details were edited)",
    )


def _matches_as_text(frame: pd.DataFrame, recorded: dict) -> bool:
    """Whether the frame hashes as recorded once its categoricals are plain text: the
    hash of a draw made when ``read_frame`` returned every column as ``str`` (before
    unit, group, ... became categoricals); the same content in another representation."""
    categorical = [
        name for name in frame.columns if isinstance(frame[name].dtype, pd.CategoricalDtype)
    ]
    if not categorical or recorded.get("hash_method") != HASH_METHOD:
        return False
    as_text = frame.astype(dict.fromkeys(categorical, "str"))
    return frame_content_hash(as_text) == recorded.get("content_sha256")


def check_frame(result: VerificationResult, frame: pd.DataFrame, manifest: dict) -> bool:
    """Add a difference when the frame's content hash is not the manifest's."""
    recorded = manifest.get("frame", {})
    content_hash = frame_content_hash(frame)
    if content_hash == recorded.get("content_sha256") or _matches_as_text(frame, recorded):
        return True
    result.add(
        "frame_changed",
        f"Khung mẫu đã thay đổi: mã băm {content_hash[:16]}… khác với manifest "
        f"({str(recorded.get('content_sha256'))[:16]}…); số dòng {len(frame)} so với "
        f"{recorded.get('rows')}.",
        f"The frame has changed: content hash {content_hash[:16]}… differs from the "
        f"manifest ({str(recorded.get('content_sha256'))[:16]}…); {len(frame)} rows "
        f"against {recorded.get('rows')}.",
    )
    return False


def verify_sample(
    frame: pd.DataFrame,
    sample_table: pd.DataFrame,
    manifest: dict,
    *,
    row_labels: Sequence[str] | None = None,
) -> VerificationResult:
    """Re-run the draw recorded in ``manifest`` on ``frame`` and compare with ``sample_table``.

    ``sample_table`` may come from a CSV/XLSX file (every column as text is fine).
    ``row_labels`` name its rows in messages (default: ``sample_table.attrs["row_labels"]``
    when present, else the CSV line, header being line 1).
    """
    result = VerificationResult()
    result.steps["frame"] = check_frame(result, frame, manifest)
    missing = [c for c in DESIGN_COLUMNS if c not in sample_table.columns]
    if missing:
        result.add(
            "sample_columns",
            f"Tệp mẫu thiếu cột: {', '.join(missing)}.",
            f"The sample file lacks columns: {', '.join(missing)}.",
        )
        return result
    try:
        design = SampleDesign.from_manifest(manifest["design"])
        expected = draw_sample(frame, design, seed=int(manifest["seed"]))
    except (SamplingError, ValueError) as error:
        vi, en = getattr(error, "message_vi", str(error)), getattr(error, "message_en", str(error))
        result.add("redraw_failed", f"Không chạy lại được: {vi}", f"Cannot re-draw: {en}")
        return result
    result.steps["selection"] = expected.manifest["selected_sha256"] == manifest.get(
        "selected_sha256"
    )
    if not result.steps["selection"]:
        versions = ""
        if manifest.get("numpy_version") != np.__version__:
            # PCG64 streams are stable, but a numpy release may change how they are consumed.
            versions = f" (numpy {manifest.get('numpy_version')} → {np.__version__})"
        result.add(
            "manifest_mismatch",
            f"Chạy lại với hạt giống {manifest.get('seed')} và thiết kế trong manifest không "
            f"cho ra danh sách được chọn mà manifest ghi (mã băm selected_sha256): hạt giống "
            f"hoặc thiết kế trong manifest đã bị sửa{versions}.",
            f"Re-drawing with the manifest's seed {manifest.get('seed')} and design does not "
            f"give the selection the manifest records (selected_sha256): its seed or design "
            f"was edited{versions}.",
        )
    id_column = manifest.get("frame", {}).get("id_column")
    id_name = id_column or "dòng/row"
    if id_column and id_column not in sample_table.columns:
        result.add(
            "sample_columns",
            f"Tệp mẫu thiếu cột mã dòng '{id_column}'.",
            f"The sample file lacks the row id column '{id_column}'.",
        )
        return result
    labels = row_labels or sample_table.attrs.get("row_labels")
    if labels is None or len(labels) != len(sample_table):
        labels = [str(i + 2) for i in range(len(sample_table))]
    expected_ids = row_ids(expected.table, id_column)
    expected_cells = _design_cells(
        expected.table, _normalised_ids(expected_ids, expected_ids), [""] * len(expected.table)
    )
    actual_ids = _normalised_ids(row_ids(sample_table, id_column), expected_ids)
    actual_cells = _design_cells(sample_table, actual_ids, labels)
    _duplicates(result, actual_cells, id_name)
    merged = expected_cells.merge(
        actual_cells.drop_duplicates("id"), on="id", how="outer", suffixes=("", "_file"),
        indicator=True,
    )  # fmt: skip
    frame_ids = set(_normalised_ids(row_ids(frame, id_column), expected_ids))
    _missing_and_extra(result, merged, frame_ids, id_name)
    both = merged[merged["_merge"] == "both"].reset_index(drop=True)
    for name in ("position", "position_file", "reserve_rank", "reserve_rank_file"):
        both[name] = both[name].astype("int64")
    _placements(result, both, id_name)
    result.steps["rows"] = not (result.codes & _ROW_CODES)
    added = {*DESIGN_COLUMNS, *(id_column and [id_column] or [])}
    frame_columns = [str(c) for c in frame.columns if c not in added]
    result.checked_columns = [c for c in frame_columns if c in sample_table.columns]
    result.unchecked_columns = [c for c in frame_columns if c not in sample_table.columns]
    _people(result, expected.table, sample_table, both, result.checked_columns, id_name)
    result.steps["people"] = "changed_values" not in result.codes
    return result
