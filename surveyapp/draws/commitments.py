"""Commitments before a draw (:mod:`sampling.commitment`), as the web service keeps them.

The administrator publishes a commitment for the design on the campaign's current lists:
the lists' hash, the design, and which future public random value will seed the draw
(its source and the day it becomes public, after today). It is stored in the database,
shown on the campaign's public page (no login) and never changed. On or after that day,
the administrator types the value as published; the draw then runs with the seed derived
from it. A commitment whose lists changed before the draw cannot be drawn: a new one is
published, and the public page lists both.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

import sampling
from sampling.commitment import check_value_is_due, normalise_public_value, value_date
from surveyapp.db import utcnow
from surveyapp.draws.operations import (
    DrawParams,
    DrawRefused,
    build_design,
    current_draw,
    draw_closed,
    frame_snapshot,
    load_frame,
    snapshot_source,
)
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.draws import Draw, DrawCommitment


def commitments(campaign_id: int) -> list[DrawCommitment]:
    """Every commitment of the campaign, newest first."""
    return list(
        db.session.scalars(
            sa.select(DrawCommitment)
            .where(DrawCommitment.campaign_id == campaign_id)
            .order_by(DrawCommitment.id.desc())
        )
    )


def drawn_from(commitment: DrawCommitment) -> Draw | None:
    return db.session.scalar(sa.select(Draw).where(Draw.commitment_id == commitment.id))


def open_commitment(campaign_id: int) -> DrawCommitment | None:
    """The latest commitment when no draw has been made from it yet."""
    latest = next(iter(commitments(campaign_id)), None)
    if latest is None or drawn_from(latest) is not None:
        return None
    return latest


def lists_changed_since(commitment: DrawCommitment) -> bool:
    """Whether the campaign's lists are no longer those the commitment hashed."""
    source = commitment.content.get("source") or {}
    return hashlib.sha256(frame_snapshot(commitment.campaign_id)).hexdigest() != source.get(
        "file_sha256"
    )


def publish(
    campaign: Campaign,
    params: DrawParams,
    value_source: str,
    value_date: dt.date,
    user_id: int | None,
    now: dt.datetime | None = None,
) -> DrawCommitment:
    """Publish the commitment of ``params`` on the campaign's current lists."""
    closed = draw_closed(campaign)
    if closed:
        raise DrawRefused(*closed)
    pending = open_commitment(campaign.id)
    if pending is not None and not lists_changed_since(pending):
        raise DrawRefused(
            "Đã có cam kết cho các danh sách hiện tại; chọn mẫu theo cam kết đó (mỗi cam kết "
            "đều được công khai).",
            "A commitment for the current lists is already published; draw from it (every "
            "commitment stays public).",
        )
    data, frame = load_frame(campaign, params)
    design = build_design(params)
    sampling.plan(frame, design)  # a design that cannot be drawn is refused now
    content = sampling.make_commitment(
        frame,
        design,
        value_source=value_source,
        value_date=value_date,
        published_at=(now or dt.datetime.now(dt.UTC)),
        note=f"{campaign.code}: {campaign.name}",
    )
    content["source"] = snapshot_source(campaign, data, frame)
    content["options"] = {**params.to_dict(), "seed": None}
    commitment = DrawCommitment(
        campaign_id=campaign.id,
        content=content,
        sha256=sampling.commitment_sha256(content),
        published_at=_naive_utc(content["published_at"]),
        published_by=user_id,
    )
    db.session.add(commitment)
    db.session.flush()
    return commitment


def _naive_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)


def enter_public_value(
    commitment: DrawCommitment, value: str, user_id: int | None, now: dt.datetime | None = None
) -> None:
    """Record the public value, once, on or after the committed day."""
    if commitment.public_value is not None:
        raise DrawRefused(
            f"Giá trị công khai đã được nhập: «{commitment.public_value}».",
            f"The public value was already entered: «{commitment.public_value}».",
        )
    check_value_is_due(commitment.content, now)
    commitment.public_value = normalise_public_value(value)
    commitment.value_entered_at = utcnow()
    commitment.value_entered_by = user_id


def derived_seed(commitment: DrawCommitment) -> int | None:
    if commitment.public_value is None:
        return None
    return sampling.derive_seed(commitment.sha256, commitment.public_value)


def public_record(campaign: Campaign) -> dict:
    """What the public page shows: every commitment with the links recomputed now (its
    hash, the seed from its value), and the current draw with its last full check."""
    draw = current_draw(campaign.id)
    rows = []
    for commitment in commitments(campaign.id):
        seed = derived_seed(commitment)
        made = drawn_from(commitment)
        rows.append(
            {
                "commitment": commitment,
                "intact": sampling.commitment_sha256(commitment.content) == commitment.sha256,
                "seed": seed,
                "drawn": made is not None,
                "current": made is not None and draw is not None and made.id == draw.id,
                "value_date": value_date(commitment.content),
            }
        )
    chain = None
    if draw is not None:
        manifest = draw.manifest or {}
        recorded = manifest.get("commitment") or {}
        committed = next((r for r in rows if r["current"]), None)
        chain = {
            "draw": draw,
            "seed": manifest.get("seed"),
            "committed": committed,
            "manifest_matches": committed is not None
            and recorded.get("sha256") == committed["commitment"].sha256
            and str(committed["seed"]) == str(manifest.get("seed")),
            "verification": draw.verification,
            "verified_at": draw.verified_at,
        }
    return {"commitments": rows, "chain": chain}
