"""A draw nobody can shop for: a published commitment and a future public random value.

Whoever draws a sample with a seed of their choosing can re-draw with other seeds until a
sample pleases them, and each of those draws has a manifest that verifies. The remedy is
to fix everything that decides the sample before anyone can know the random number:

1. **Commitment.** Before drawing, the Department publishes a commitment (format
   ``par-survey-draw-commitment/1``): the frame's content hash and row count (see
   :mod:`sampling.manifest`), the complete design, and which *future public random
   value* will seed the draw: its source in words (e.g. "Giải đặc biệt xổ số kiến thiết
   TP.HCM mở thưởng ngày 15/07/2025", or "drand mainnet round 5 123 456") and the date it
   becomes public, after the day of publication. The commitment is identified by its
   SHA-256: the hash of its canonical JSON (keys sorted, no spaces, UTF-8). It is
   published (notice board, web page) and never changes.
2. **Public value.** On or after that date, once the value is public, it is typed in
   (the service needs no network access: a lottery result or a beacon value is copied
   from its official publication). Drawing before the committed date is refused.
3. **Seed.** ``seed = first 128 bits (big-endian) of SHA-256("par-survey-seed/v1" LF
   commitment_sha256 LF value)``, the value with surrounding spaces removed and inner
   runs of spaces made one. Anyone can recompute it::

       printf 'par-survey-seed/v1\\n%s\\n%s' COMMITMENT_SHA256 VALUE | sha256sum
       python3 -c "print(int('FIRST_32_HEX_DIGITS', 16))"

4. **Draw.** The draw runs with that seed (``numpy`` ``PCG64``, as every draw); its
   manifest carries the commitment, its hash, the value and the seed.
5. **Verification** checks the whole chain: the commitment's hash is that of its content
   (and that of an independently published copy, when given); the frame's hash is the
   committed one; the design is the committed one; the seed derives from the commitment
   and the value; the sample is the re-draw. A re-draw with any other seed does not
   derive from the commitment and fails.

Why it works: the frame and the design are fixed (hashed and published) before the value
exists, the value is chosen by someone else in public, and the seed follows from both;
the only freedom left would be to publish many commitments, which the published record
(one commitment per campaign, kept in the database and unchangeable) shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import pandas as pd

from sampling.draw import DesignError, Sample, SampleDesign, draw_sample
from sampling.errors import SamplingError
from sampling.manifest import HASH_METHOD, frame_content_hash
from sampling.verification import VerificationResult, verify_sample

COMMITMENT_FORMAT = "par-survey-draw-commitment/1"
SEED_TAG = "par-survey-seed/v1"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
_VALUE_LENGTH = 200


class CommitmentError(SamplingError):
    """A commitment cannot be made, or a committed draw cannot (yet) be run."""


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def commitment_sha256(commitment: Mapping) -> str:
    """The commitment's identity: SHA-256 (hex) of its canonical JSON."""
    return hashlib.sha256(canonical_json(dict(commitment))).hexdigest()


def normalise_public_value(value: str) -> str:
    """The value as it enters the seed: NFC, trimmed, inner runs of spaces made one."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value))).strip()
    if not text or len(text) > _VALUE_LENGTH or not text.isprintable():
        raise CommitmentError(
            f"Giá trị ngẫu nhiên công khai «{value}» không hợp lệ: nhập đúng như được công bố "
            f"(ví dụ 6 chữ số của giải đặc biệt), tối đa {_VALUE_LENGTH} ký tự.",
            f"The public random value «{value}» is not valid: type it exactly as published "
            f"(e.g. the 6 digits of the special prize), at most {_VALUE_LENGTH} characters.",
        )
    return text


def derive_seed(commitment_hash: str, public_value: str) -> int:
    """``int`` of the first 128 bits of SHA-256("par-survey-seed/v1\\n" hash "\\n" value)."""
    message = f"{SEED_TAG}\n{commitment_hash}\n{normalise_public_value(public_value)}"
    return int(hashlib.sha256(message.encode("utf-8")).hexdigest()[:32], 16)


def _local_day(moment: dt.datetime, timezone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def make_commitment(
    frame: pd.DataFrame,
    design: SampleDesign,
    *,
    value_source: str,
    value_date: dt.date,
    published_at: dt.datetime | None = None,
    note: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> dict:
    """The commitment of a draw of ``design`` on ``frame`` (JSON-ready).

    ``value_source`` says in words which public value will seed the draw; ``value_date``
    is the day it becomes public, which must come after the day of publication (local
    time in ``timezone``), so that nobody can know it when the commitment is made.
    """
    published_at = published_at or dt.datetime.now(dt.UTC)
    source = re.sub(r"\s+", " ", unicodedata.normalize("NFC", value_source or "")).strip()
    if not source:
        raise CommitmentError(
            "Cần ghi rõ nguồn của giá trị ngẫu nhiên công khai (ví dụ: giải đặc biệt xổ số "
            "kiến thiết mở thưởng ngày …).",
            "Say where the public random value comes from (e.g. the special prize of the "
            "lottery drawn on …).",
        )
    published_on = _local_day(published_at, timezone)
    if value_date <= published_on:
        raise CommitmentError(
            f"Ngày công bố giá trị ngẫu nhiên ({value_date:%d/%m/%Y}) phải sau ngày công bố "
            f"cam kết ({published_on:%d/%m/%Y}): không ai được biết giá trị đó khi cam kết.",
            f"The public value's date ({value_date:%d/%m/%Y}) must come after the day the "
            f"commitment is published ({published_on:%d/%m/%Y}): nobody may know the value "
            "when committing.",
        )
    commitment = {
        "format": COMMITMENT_FORMAT,
        "frame": {
            "content_sha256": frame_content_hash(frame),
            "hash_method": HASH_METHOD,
            "rows": len(frame),
        },
        "design": design.to_dict(),
        "public_value": {"source": source, "date": value_date.isoformat()},
        "seed_derivation": f"SHA-256('{SEED_TAG}' LF commitment_sha256 LF value)[:128 bits]",
        "published_at": published_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "timezone": timezone,
    }
    if note:
        commitment["note"] = note
    return commitment


def value_date(commitment: Mapping) -> dt.date:
    return dt.date.fromisoformat(commitment["public_value"]["date"])


def check_value_is_due(commitment: Mapping, now: dt.datetime | None = None) -> None:
    """Refuse a draw before the committed date of the public value (local time)."""
    now = now or dt.datetime.now(dt.UTC)
    today = _local_day(now, commitment.get("timezone", DEFAULT_TIMEZONE))
    due = value_date(commitment)
    if today < due:
        raise CommitmentError(
            f"Chưa đến ngày công bố giá trị ngẫu nhiên đã cam kết ({due:%d/%m/%Y}): chưa "
            "được chọn mẫu.",
            f"The committed public value is not due before {due:%d/%m/%Y}: the draw is "
            "refused until then.",
        )


def committed_draw(
    frame: pd.DataFrame,
    commitment: Mapping,
    public_value: str,
    *,
    now: dt.datetime | None = None,
    progress=None,
) -> Sample:
    """Draw as committed: same frame (by hash), committed design, seed from the value."""
    if commitment.get("format") != COMMITMENT_FORMAT:
        raise CommitmentError(
            "Tệp cam kết không đúng định dạng.", "The commitment is not in the expected format."
        )
    check_value_is_due(commitment, now)
    recorded = commitment["frame"]["content_sha256"]
    if frame_content_hash(frame) != recorded:
        raise CommitmentError(
            f"Khung mẫu khác với khung đã cam kết (mã băm {recorded[:16]}…, "
            f"{commitment['frame']['rows']} dòng; hiện có {len(frame)} dòng): danh sách đã thay "
            "đổi sau khi cam kết, cần cam kết lại.",
            f"The frame is not the committed one (hash {recorded[:16]}…, "
            f"{commitment['frame']['rows']} rows; now {len(frame)} rows): the lists changed "
            "after the commitment, which must be made again.",
        )
    value = normalise_public_value(public_value)
    identity = commitment_sha256(commitment)
    design = SampleDesign.from_manifest(commitment["design"])
    sample = draw_sample(frame, design, seed=derive_seed(identity, value), progress=progress)
    sample.manifest["commitment"] = {
        "content": dict(commitment),
        "sha256": identity,
        "public_value": value,
    }
    return sample


def _same_design(committed: Mapping, drawn: Mapping) -> bool:
    try:
        return SampleDesign.from_manifest(committed) == SampleDesign.from_manifest(drawn)
    except (DesignError, TypeError, ValueError):
        return False


def verify_chain(
    frame: pd.DataFrame,
    sample_table: pd.DataFrame,
    manifest: Mapping,
    *,
    published: Mapping | None = None,
    public_value: str | None = None,
    row_labels=None,
) -> VerificationResult:
    """Check the whole chain of a committed draw, then the sample (:func:`verify_sample`).

    ``published`` is the commitment as published independently (the Department's notice,
    the public page, a file kept by the checker): the manifest's copy must be identical.
    ``public_value`` is the value as its source published it (the lottery's results),
    which must be the one the manifest used.
    A manifest without a commitment fails when ``published`` is given; otherwise the
    sample alone is verified and ``result.steps["commitment"]`` stays ``None``.
    """
    recorded = manifest.get("commitment")
    result = VerificationResult()
    if recorded is None:
        if published is not None:
            result.add(
                "not_committed",
                "Manifest không có cam kết: mẫu này không được chọn theo cam kết đã công bố.",
                "The manifest has no commitment: this sample was not drawn as published.",
            )
            result.steps["commitment"] = False
        else:
            result.steps["commitment"] = None
        _merge(result, verify_sample(frame, sample_table, dict(manifest), row_labels=row_labels))
        return result
    content = recorded.get("content") or {}
    identity = commitment_sha256(content)
    intact = identity == recorded.get("sha256")
    if not intact:
        result.add(
            "commitment_altered",
            f"Nội dung cam kết trong manifest không còn khớp mã băm của nó ({str(recorded.get('sha256'))[:16]}…).",
            f"The commitment in the manifest no longer matches its hash "
            f"({str(recorded.get('sha256'))[:16]}…).",
        )
    if published is not None and commitment_sha256(published) != identity:
        intact = False
        result.add(
            "commitment_differs",
            f"Cam kết trong manifest ({identity[:16]}…) khác với cam kết đã công bố "
            f"({commitment_sha256(published)[:16]}…).",
            f"The manifest's commitment ({identity[:16]}…) is not the published one "
            f"({commitment_sha256(published)[:16]}…).",
        )
    result.steps["commitment"] = intact
    committed_frame = content.get("frame", {}).get("content_sha256")
    frame_ok = committed_frame == manifest.get("frame", {}).get("content_sha256")
    if not frame_ok:
        result.add(
            "frame_not_committed",
            "Manifest ghi một khung mẫu khác với khung đã cam kết.",
            "The manifest records another frame than the committed one.",
        )
    design_ok = _same_design(content.get("design", {}), manifest.get("design", {}))
    if not design_ok:
        result.add(
            "design_not_committed",
            "Thiết kế mẫu trong manifest khác với thiết kế đã cam kết.",
            "The manifest's design is not the committed design.",
        )
    result.steps["design"] = design_ok
    value = recorded.get("public_value")
    value_ok = True
    if public_value is not None and _normalised_or_none(public_value) != value:
        value_ok = False
        result.add(
            "public_value_differs",
            f"Giá trị công khai dùng khi chọn mẫu «{value}» khác với giá trị đã công bố "
            f"«{public_value}».",
            f"The public value used for the draw «{value}» is not the published value "
            f"«{public_value}».",
        )
    try:
        expected_seed = derive_seed(identity, value)
    except CommitmentError:
        expected_seed = None
    seed_ok = expected_seed is not None and str(expected_seed) == str(manifest.get("seed"))
    if not seed_ok:
        result.add(
            "seed_not_derived",
            f"Hạt giống {manifest.get('seed')} không được suy ra từ cam kết và giá trị công khai "
            f"«{value}» (đúng phải là {expected_seed}): mẫu đã được chọn lại bằng hạt giống khác.",
            f"The seed {manifest.get('seed')} does not derive from the commitment and the "
            f"public value «{value}» (it should be {expected_seed}): the sample was drawn "
            "with another seed.",
        )
    result.steps["seed"] = seed_ok and value_ok
    drawn = verify_sample(frame, sample_table, dict(manifest), row_labels=row_labels)
    _merge(result, drawn)
    result.steps["frame"] = frame_ok and drawn.steps.get("frame", False)
    return result


def _normalised_or_none(value: str) -> str | None:
    try:
        return normalise_public_value(value)
    except CommitmentError:
        return None


def _merge(result: VerificationResult, other: VerificationResult) -> None:
    result.differences.extend(other.differences)
    result.checked_columns = other.checked_columns
    result.unchecked_columns = other.unchecked_columns
    for step, status in other.steps.items():
        result.steps.setdefault(step, status)


__all__ = [
    "COMMITMENT_FORMAT",
    "CommitmentError",
    "check_value_is_due",
    "commitment_sha256",
    "committed_draw",
    "derive_seed",
    "make_commitment",
    "normalise_public_value",
    "value_date",
    "verify_chain",
]
