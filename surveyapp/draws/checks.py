"""The draw's full check (the "Verify" button, after every draw, and on the public page).

1. The chain (:func:`sampling.verify_chain`): the published commitment (as stored in the
   database, never changed), the committed design, the seed derived from the public value
   entered, the frame (the campaign's lists now, hashed as at the draw), the selection
   re-drawn, and the stored sample, row by row and column by column.
2. The respondents: exactly the sample's records (primary and reserve, by stratum), and
   each one's personal data (name, phone, e-mail, address, dossier code) equal to the
   list record they were drawn from, so an edited phone number is caught.

The result is stored on the draw (steps, differences, when) for the draw page and the
public page. Stored messages name respondents and columns, never personal data.
"""

from __future__ import annotations

import sqlalchemy as sa

import sampling
from sampling.verification import STEPS
from surveyapp.db import utcnow
from surveyapp.draws.operations import frame_snapshot, read_snapshot, sample_table, snapshot_name
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.draws import Draw, DrawCommitment
from surveyapp.models.frames import FrameRecord
from surveyapp.models.respondents import Respondent

PERSONAL_COLUMNS = ("full_name", "phone", "email", "address", "dossier_code")
_LISTED = 20
RESPONDENT_STEP = ("Người được chọn trong hệ thống", "Respondents in the service")
ALL_STEPS = {**STEPS, "respondents": RESPONDENT_STEP}


def _same(left, right) -> bool:
    return (left or "").strip() == (right or "").strip()


def _check_respondents(result: sampling.VerificationResult, draw: Draw, stored) -> bool:
    """Respondents against the sample (which records, where) and their details against
    the list records they came from."""
    before = len(result.differences)
    expected = stored.groupby(["stratum", "selection"]).size().to_dict() if len(stored) else {}
    counted = {
        (stratum, selection.value): count
        for stratum, selection, count in db.session.execute(
            sa.select(Respondent.stratum, Respondent.selection, sa.func.count(Respondent.id))
            .where(Respondent.draw_id == draw.id)
            .group_by(Respondent.stratum, Respondent.selection)
        )
    }
    if counted != expected:
        result.add(
            "respondents_differ",
            "Danh sách người được chọn trong hệ thống khác với mẫu đã ghi.",
            "The respondents in the database differ from the recorded sample.",
        )
    rows = db.session.execute(
        sa.select(Respondent, FrameRecord)
        .outerjoin(FrameRecord, FrameRecord.id == Respondent.frame_record_id)
        .where(Respondent.draw_id == draw.id, Respondent.frame_record_id.is_not(None))
        .order_by(Respondent.id)
    ).all()
    sampled = set(stored["record_id"].astype(str)) if len(stored) else set()
    held = {str(respondent.frame_record_id) for respondent, _ in rows}
    if rows and held != sampled:
        result.add(
            "respondents_not_sampled",
            f"{len(held - sampled)} người trong hệ thống không thuộc mẫu; {len(sampled - held)} "
            "người của mẫu không có trong hệ thống.",
            f"{len(held - sampled)} respondents in the service are not in the sample; "
            f"{len(sampled - held)} people of the sample are missing from the service.",
        )
    changed = 0
    for respondent, record in rows:
        if record is None:
            continue  # the list record is gone (personal data purged)
        for column in PERSONAL_COLUMNS:
            if _same(getattr(respondent, column), getattr(record, column)):
                continue
            changed += 1
            if changed <= _LISTED:
                result.add(
                    "respondent_changed",
                    f"Người được chọn số {respondent.id} (bản ghi {record.id}), cột {column}: "
                    "khác với danh sách của đơn vị.",
                    f"Respondent {respondent.id} (record {record.id}), column {column}: "
                    "differs from the unit's list.",
                )
    if changed > _LISTED:
        result.add(
            "respondent_changed",
            f"… và {changed - _LISTED} ô khác đã bị sửa.",
            f"… and {changed - _LISTED} more cells were edited.",
        )
    return len(result.differences) == before


def verify(draw: Draw) -> sampling.VerificationResult:
    """The full check of ``draw`` (see the module docstring); nothing is stored."""
    manifest = draw.manifest or {}
    data = frame_snapshot(draw.campaign_id)
    design = manifest.get("design", {})
    strata = (*design.get("strata", ()), *design.get("sort_by", ()))
    frame = read_snapshot(data, snapshot_name(db.session.get(Campaign, draw.campaign_id)), strata)
    stored = sample_table(draw)
    commitment = db.session.get(DrawCommitment, draw.commitment_id) if draw.commitment_id else None
    result = sampling.verify_chain(
        frame,
        stored,
        manifest,
        published=commitment.content if commitment is not None else None,
        public_value=commitment.public_value if commitment is not None else None,
    )
    result.steps["respondents"] = _check_respondents(result, draw, stored)
    return result


def check_draw(draw: Draw) -> sampling.VerificationResult:
    """Run :func:`verify` and store its outcome on the draw."""
    result = verify(draw)
    draw.verification = {
        "ok": result.ok,
        "steps": dict(result.steps),
        "differences": [
            {"code": d.code, "message_vi": d.message_vi, "message_en": d.message_en}
            for d in result.differences
        ],
        "checked_columns": result.checked_columns,
        "unchecked_columns": result.unchecked_columns,
    }
    draw.verified_at = utcnow()
    return result
