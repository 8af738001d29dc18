"""A draw nobody can shop for: commitment, public value, derived seed, the whole chain."""

import copy
import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from sampling import (
    CommitmentError,
    SampleDesign,
    commitment_sha256,
    committed_draw,
    derive_seed,
    draw_sample,
    make_commitment,
    verify_chain,
)

UTC = dt.UTC
DESIGN = SampleDesign(strata=("unit",), n=6, reserve=1)
# 10:00 in Hồ Chí Minh City on 14 July 2025; the lottery of 15 July is the public value.
PUBLISHED = dt.datetime(2025, 7, 14, 3, 0, tzinfo=UTC)
DRAW_TIME = dt.datetime(2025, 7, 15, 12, 0, tzinfo=UTC)  # 19:00 local, after the results
VALUE = "482 913"


@pytest.fixture
def frame():
    rows = 40
    return pd.DataFrame(
        {
            "source_row": np.arange(2, rows + 2),
            "full_name": [f"Lê Thị {i}" for i in range(rows)],
            "phone": [f"09{i:08d}" for i in range(rows)],
            "unit": ["Sở Y tế"] * 25 + ["UBND xã Long Hải"] * 15,
        }
    )


@pytest.fixture
def commitment(frame):
    return make_commitment(
        frame,
        DESIGN,
        value_source="Giải đặc biệt xổ số kiến thiết TP.HCM mở thưởng ngày 15/07/2025",
        value_date=dt.date(2025, 7, 15),
        published_at=PUBLISHED,
    )


@pytest.fixture
def committed(frame, commitment):
    return committed_draw(frame, commitment, VALUE, now=DRAW_TIME)


def test_the_seed_is_sha256_of_the_commitment_and_the_value(commitment, committed):
    identity = commitment_sha256(commitment)
    message = f"par-survey-seed/v1\n{identity}\n482 913".encode()
    expected = int(hashlib.sha256(message).hexdigest()[:32], 16)
    assert derive_seed(identity, "  482   913 ") == expected  # spaces as typed do not count
    assert committed.manifest["seed"] == str(expected)
    assert committed.manifest["commitment"] == {
        "content": commitment, "sha256": identity, "public_value": "482 913",
    }  # fmt: skip
    assert commitment["frame"]["rows"] == 40
    assert commitment["public_value"]["date"] == "2025-07-15"


def test_the_value_must_be_in_the_future_when_committing(frame):
    # 18:00 UTC on 14 July is already 15 July in Vietnam: that day's lottery is too close.
    late = dt.datetime(2025, 7, 14, 18, 0, tzinfo=UTC)
    with pytest.raises(CommitmentError, match="must come after the day the commitment"):
        make_commitment(
            frame, DESIGN, value_source="xổ số", value_date=dt.date(2025, 7, 15), published_at=late
        )
    with pytest.raises(CommitmentError, match="Say where the public random value"):
        make_commitment(
            frame, DESIGN, value_source=" ", value_date=dt.date(2025, 7, 20), published_at=late
        )


def test_drawing_before_the_committed_date_is_refused(frame, commitment):
    evening_before = dt.datetime(2025, 7, 14, 16, 59, tzinfo=UTC)  # 23:59 local on the 14th
    with pytest.raises(CommitmentError, match="not due before 15/07/2025"):
        committed_draw(frame, commitment, VALUE, now=evening_before)
    just_after_midnight = dt.datetime(2025, 7, 14, 17, 0, tzinfo=UTC)
    assert committed_draw(frame, commitment, VALUE, now=just_after_midnight).manifest["seed"]


def test_a_changed_frame_cannot_be_drawn_as_committed(frame, commitment):
    changed = frame.copy()
    changed.loc[3, "phone"] = "0911111111"
    with pytest.raises(CommitmentError, match="The frame is not the committed one"):
        committed_draw(changed, commitment, VALUE, now=DRAW_TIME)


def test_the_whole_chain_verifies(frame, commitment, committed):
    result = verify_chain(frame, committed.table, committed.manifest, published=commitment)
    assert result.ok, result.differences
    assert result.steps == {
        "commitment": True, "design": True, "seed": True, "frame": True,
        "selection": True, "rows": True, "people": True,
    }  # fmt: skip


def test_a_redraw_with_another_seed_fails(frame, commitment, committed):
    """Shopping: draw again with a seed of one's choosing, keep the commitment."""
    shopped = draw_sample(frame, DESIGN, seed=7)
    manifest = dict(shopped.manifest, commitment=committed.manifest["commitment"])
    result = verify_chain(frame, shopped.table, manifest, published=commitment)
    assert result.steps["seed"] is False and result.steps["commitment"] is True
    [seed] = [d for d in result.differences if d.code == "seed_not_derived"]
    assert "The seed 7 does not derive from the commitment" in seed.message_en
    assert f"it should be {committed.manifest['seed']}" in seed.message_en


def test_another_public_value_is_caught_against_the_published_one(frame, commitment):
    """Typing another value gives another seed; the checker compares the value with the
    lottery's own publication, and the manifest names the value it used."""
    other = committed_draw(frame, commitment, "111 111", now=DRAW_TIME)
    result = verify_chain(
        frame, other.table, other.manifest, published=commitment, public_value=VALUE
    )
    assert "public_value_differs" in result.codes
    assert result.steps["seed"] is False


def test_an_edited_commitment_or_design_is_caught(frame, commitment, committed):
    altered = copy.deepcopy(committed.manifest)
    altered["commitment"]["content"]["design"]["n"] = 8
    result = verify_chain(frame, committed.table, altered)
    assert {"commitment_altered"} <= result.codes and result.steps["commitment"] is False
    # Re-hashed consistently, it is no longer the commitment that was published.
    altered["commitment"]["sha256"] = commitment_sha256(altered["commitment"]["content"])
    result = verify_chain(frame, committed.table, altered, published=commitment)
    assert "commitment_differs" in result.codes
    # A draw whose design is not the committed one.
    redesigned = copy.deepcopy(committed.manifest)
    redesigned["design"]["n"] = 8
    assert "design_not_committed" in verify_chain(frame, committed.table, redesigned).codes


def test_a_manifest_without_commitment_fails_against_a_published_one(frame, commitment):
    plain = draw_sample(frame, DESIGN, seed=3)
    assert verify_chain(frame, plain.table, plain.manifest).ok  # nothing to hold it to
    result = verify_chain(frame, plain.table, plain.manifest, published=commitment)
    assert result.codes == {"not_committed"}
