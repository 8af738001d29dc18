"""The campaign's draw: frame snapshot, design, allocation preview, draw, lock.

Commitments before a draw are in :mod:`surveyapp.draws.commitments`, the full check of a
draw in :mod:`surveyapp.draws.checks`. Every draw runs as a job (:mod:`surveyapp.jobs`):
on the worker when Redis is configured, at once otherwise.

The frame of a draw is the current list records of every unit of the campaign, written
as a CSV snapshot (``record_id``, ``unit``, ``group``, ``subgroup``, ``field``,
``full_name``) and read back with :func:`sampling.read_frame` and
:func:`sampling.validate_frame` exactly as ``surveyapp sample verify`` reads a frame
(list kind ``officials``: full name, unit and group required, no contact columns; no
period, the lists were checked for it on upload). The snapshot, the sample (no personal
data) and the manifest are downloadable, so anyone can re-run::

    surveyapp sample verify frame-2024.csv sample-2024.csv   # finds sample-2024.manifest.json

Personal data of the sampled people is copied from the records into ``Respondent`` rows;
it never goes through the draw.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import insert

import sampling
from sampling.inputs import DESIGN_DEFAULTS, parse_reserve
from surveyapp.campaigns.lifecycle import fieldwork_check
from surveyapp.core.downloads import ascii_name
from surveyapp.csvsafe import write_csv
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign, CampaignStatus, RatingTarget
from surveyapp.models.draws import Draw, DrawCommitment
from surveyapp.models.frames import FrameRecord, FrameUpload
from surveyapp.models.respondents import Respondent, RespondentTarget, Selection
from surveyapp.models.units import Unit

SNAPSHOT_COLUMNS = ("record_id", "unit", "group", "subgroup", "field", "full_name")
BASE_STRATA = ("unit", "group")
OPTIONAL_STRATA = ("subgroup", "field")
SNAPSHOT_KIND = "officials"  # the validation rules that fit the snapshot (see docstring)
UNKNOWN = "(không rõ / unknown)"
ID_COLUMN = "record_id"
SAMPLE_COLUMNS = ("stratum", "selection", "reserve_rank", "inclusion_prob", "weight")
BATCH = 5_000


class DrawRefused(Exception):
    def __init__(self, message_vi: str, message_en: str):
        super().__init__(f"{message_vi} / {message_en}")  # a failed job's message: both
        self.message_vi, self.message_en = message_vi, message_en


# ------------------------------------------------------------------------ look-ups


def current_draw(campaign_id: int) -> Draw | None:
    """The campaign's draw (a redraw replaces the previous one), or None."""
    return db.session.scalar(
        sa.select(Draw).where(Draw.campaign_id == campaign_id).order_by(Draw.id.desc()).limit(1)
    )


def locked_draw(campaign_id: int) -> Draw | None:
    draw = current_draw(campaign_id)
    return draw if draw is not None and draw.locked else None


def current_upload_ids(campaign_id: int) -> list[int]:
    return sorted(
        db.session.scalars(
            sa.select(FrameUpload.id).where(
                FrameUpload.campaign_id == campaign_id, FrameUpload.is_current
            )
        )
    )


def is_stale(draw: Draw) -> bool:
    """Whether a unit's list changed since the draw (it must then be redrawn)."""
    return (draw.design or {}).get("uploads") != current_upload_ids(draw.campaign_id)


@fieldwork_check
def _needs_locked_draw(campaign: Campaign) -> list[tuple[str, str]]:
    if locked_draw(campaign.id) is None:
        return [
            (
                "Chưa chọn mẫu hoặc mẫu chưa được khoá (trang Chọn mẫu).",
                "No sample has been drawn and locked yet (Draw page).",
            )
        ]
    return []


def draw_closed(campaign: Campaign) -> tuple[str, str] | None:
    """Why the draw can no longer change, or None."""
    if campaign.status != CampaignStatus.DRAFT:
        return (
            "Đợt khảo sát đã bắt đầu: mẫu không thể thay đổi.",
            "Fieldwork has started: the sample can no longer change.",
        )
    if locked_draw(campaign.id) is not None:
        return ("Mẫu đã được khoá.", "The sample is locked.")
    return None


# -------------------------------------------------------------------------- frame


def _snapshot_rows(campaign_id: int) -> list[tuple]:
    # JSON values are extracted by the database: parsing every row's JSON in Python
    # would cost more than the whole draw.
    subgroup = sa.func.coalesce(FrameRecord.extra["subgroup"].as_string(), UNKNOWN)
    field = sa.func.coalesce(FrameRecord.extra["field"].as_string(), UNKNOWN)
    query = (
        sa.select(
            sa.cast(FrameRecord.id, sa.String), Unit.code, FrameRecord.respondent_group,
            subgroup, field, FrameRecord.full_name,
        )
        .join(FrameUpload, FrameUpload.id == FrameRecord.upload_id)
        .join(Unit, Unit.id == FrameUpload.unit_id)
        .where(FrameUpload.campaign_id == campaign_id, FrameUpload.is_current)
        .order_by(FrameRecord.id)
    )  # fmt: skip
    return db.session.execute(query).all()


def frame_snapshot(campaign_id: int) -> bytes:
    """The frame of the campaign as CSV bytes (deterministic: same records, same bytes)."""
    return write_csv(_snapshot_rows(campaign_id), SNAPSHOT_COLUMNS).encode("utf-8")


def snapshot_name(campaign: Campaign) -> str:
    return f"frame-{ascii_name(campaign.code)}.csv"


def sample_name(campaign: Campaign) -> str:
    return f"sample-{ascii_name(campaign.code)}.csv"


def read_snapshot(data: bytes, name: str, strata) -> pd.DataFrame:
    """The draw frame: the snapshot read and validated as ``surveyapp sample verify`` does."""
    raw = sampling.read_frame(data, filename=name)
    present = tuple(column for column in strata if column in raw.columns)
    return sampling.validate_frame(raw, kind=SNAPSHOT_KIND, required=present).valid


# ------------------------------------------------------------------------- design


@dataclass
class DrawParams:
    """The administrator's choices (JSON-friendly, stored with the draw), with the
    defaults the command line has too (:data:`sampling.inputs.DESIGN_DEFAULTS`)."""

    extra_strata: tuple[str, ...] = ()
    # fixed (n per stratum) | total (n allocated) | margin (per stratum or in total)
    size_mode: str = "fixed" if DESIGN_DEFAULTS["per_stratum"] else "total"
    n: int | None = None
    margin: float | None = None
    confidence: float = DESIGN_DEFAULTS["confidence"]
    rule: str = DESIGN_DEFAULTS["rule"]
    per_stratum: bool = DESIGN_DEFAULTS["per_stratum"]
    response_rate: float | None = None
    allocation: str = DESIGN_DEFAULTS["allocation"]
    sd: dict | None = None
    min_per_stratum: int = DESIGN_DEFAULTS["min_per_stratum"]
    max_per_stratum: int | None = None
    min_per_domain: int = DESIGN_DEFAULTS["min_per_domain"]
    reserve: int | float = parse_reserve(DESIGN_DEFAULTS["reserve"])
    seed: int | None = None

    @property
    def strata(self) -> tuple[str, ...]:
        return (*BASE_STRATA, *(s for s in OPTIONAL_STRATA if s in self.extra_strata))

    def to_dict(self) -> dict:
        values = asdict(self)
        values["extra_strata"] = list(self.extra_strata)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> DrawParams:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        values["extra_strata"] = tuple(values.get("extra_strata") or ())
        return cls(**values)


def build_design(params: DrawParams) -> sampling.SampleDesign:
    """The library design for the parameters. Reporting domains are unit × group: with
    subgroup or field strata, each domain's minimum is spread over its strata."""
    common = {
        "strata": params.strata,
        "domains": BASE_STRATA,
        "min_per_stratum": params.min_per_stratum,
        "max_per_stratum": params.max_per_stratum,
        "min_per_domain": params.min_per_domain,
        "allocation": params.allocation,
        "sd": params.sd,
        "reserve": params.reserve,
        "id_column": ID_COLUMN,
    }
    if params.size_mode == "margin":
        return sampling.SampleDesign(
            margin=params.margin,
            confidence=params.confidence,
            sample_size_rule=params.rule,
            per_stratum_size=params.per_stratum,
            response_rate=params.response_rate,
            **common,
        )
    return sampling.SampleDesign(n=params.n, per_stratum_size=params.size_mode == "fixed", **common)


def empty_frame_error() -> DrawRefused:
    return DrawRefused(
        "Chưa có danh sách nào của đơn vị cho đợt khảo sát này.",
        "No unit has uploaded a list for this campaign yet.",
    )


def load_frame(campaign: Campaign, params: DrawParams) -> tuple[bytes, pd.DataFrame]:
    data = frame_snapshot(campaign.id)
    if data.count(b"\n") < 2:
        raise empty_frame_error()
    return data, read_snapshot(data, snapshot_name(campaign), params.strata)


def unit_names() -> dict[str, tuple[str, str]]:
    return {code: (name, level) for code, name, level in db.session.execute(
        sa.select(Unit.code, Unit.name, Unit.level_label))}  # fmt: skip


def allocation_rows(allocation: pd.DataFrame, strata: tuple[str, ...]) -> list[dict]:
    """The allocation table as JSON-ready rows (unit, group, extra strata, N_h, n_h, ...)."""
    names = unit_names()
    warnings = {w.stratum: w for w in sampling.allocation_warnings(allocation)}
    rows = []
    for record in allocation.to_dict("records"):
        name, level = names.get(record["unit"], ("", ""))
        warning = warnings.get(record["stratum"])
        rows.append(
            {
                **{column: str(record[column]) for column in strata},
                "unit_name": name,
                "level_label": level,
                "stratum": record["stratum"],
                "N_h": int(record["N_h"]),
                "n_h": int(record["n_h"]),
                "reserve_h": int(record["reserve_h"]),
                "fraction": float(record["fraction"]),
                "warning": [warning.message_vi, warning.message_en] if warning else None,
            }
        )
    return rows


def preview(campaign: Campaign, params: DrawParams) -> list[dict]:
    """The allocation table of the design on the current frame, without drawing."""
    _, frame = load_frame(campaign, params)
    table = sampling.plan(frame, build_design(params))
    return allocation_rows(table, params.strata)


# --------------------------------------------------------------------------- draw


def _sample_json(table: pd.DataFrame, strata) -> dict:
    """The drawn rows without personal data (what ``surveyapp sample verify`` compares)."""
    ranks = table["reserve_rank"]
    return {
        ID_COLUMN: table[ID_COLUMN].astype(str).tolist(),
        **{column: table[column].astype(str).tolist() for column in strata},
        "stratum": table["stratum"].astype(str).tolist(),
        "selection": table["selection"].astype(str).tolist(),
        "reserve_rank": [None if pd.isna(r) else int(r) for r in ranks],
        "inclusion_prob": table["inclusion_prob"].astype(float).tolist(),
        "weight": table["weight"].astype(float).tolist(),
    }


def sample_table(draw: Draw) -> pd.DataFrame:
    return pd.DataFrame((draw.allocation or {}).get("sample", {}))


def _delete_previous(campaign_id: int) -> None:
    old = sa.select(Draw.id).where(Draw.campaign_id == campaign_id)
    respondents = sa.select(Respondent.id).where(Respondent.draw_id.in_(old))
    db.session.execute(
        sa.delete(RespondentTarget).where(RespondentTarget.respondent_id.in_(respondents))
    )
    db.session.execute(sa.delete(Respondent).where(Respondent.draw_id.in_(old)))
    db.session.execute(sa.delete(Draw).where(Draw.campaign_id == campaign_id))


def _personal_data(record_ids: list[int]) -> dict[int, tuple]:
    found = {}
    for start in range(0, len(record_ids), BATCH):
        chunk = record_ids[start : start + BATCH]
        found.update(
            (row[0], row[1:])
            for row in db.session.execute(
                sa.select(
                    FrameRecord.id, FrameRecord.full_name, FrameRecord.phone, FrameRecord.email,
                    FrameRecord.address, FrameRecord.dossier_code,
                ).where(FrameRecord.id.in_(chunk))
            )
        )  # fmt: skip
    return found


def _targets(campaign_id: int) -> dict[tuple[str, int], list[int]]:
    targets: dict = {}
    for target in db.session.scalars(
        sa.select(RatingTarget).where(RatingTarget.campaign_id == campaign_id)
    ):
        targets.setdefault((target.respondent_group, target.source_unit_id), []).append(
            target.rated_unit_id
        )
    return targets


def insert_respondents(draw: Draw, table: pd.DataFrame) -> int:
    """Respondent rows (primary and reserves, personal data copied from the records) and
    the units each one rates; bulk INSERTs in the caller's transaction."""
    unit_ids = dict(db.session.execute(sa.select(Unit.code, Unit.id)).all())
    record_ids = [int(v) for v in table[ID_COLUMN]]
    personal = _personal_data(record_ids)
    targets = _targets(draw.campaign_id)
    rows = []
    for record_id, unit, group, stratum, selection, rank, prob, weight in zip(
        record_ids, table["unit"], table["group"], table["stratum"], table["selection"],
        table["reserve_rank"], table["inclusion_prob"], table["weight"], strict=True,
    ):  # fmt: skip
        full_name, phone, email, address, dossier = personal[record_id]
        rows.append(
            {
                "draw_id": draw.id, "campaign_id": draw.campaign_id,
                "source_unit_id": unit_ids[unit], "respondent_group": group,
                "stratum": str(stratum), "selection": Selection(str(selection)),
                "reserve_rank": None if pd.isna(rank) else int(rank),
                "inclusion_prob": float(prob), "weight": float(weight),
                "released": False, "frame_record_id": record_id, "full_name": full_name,
                "phone": phone, "email": email, "address": address, "dossier_code": dossier,
            }
        )  # fmt: skip
    target_rows = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        ids = db.session.execute(
            insert(Respondent).returning(Respondent.id, sort_by_parameter_order=True), batch
        ).scalars()
        for respondent_id, row in zip(ids, batch, strict=True):
            rated = targets.get((row["respondent_group"], row["source_unit_id"]))
            for unit_id in rated or [row["source_unit_id"]]:
                target_rows.append({"respondent_id": respondent_id, "rated_unit_id": unit_id})
    for start in range(0, len(target_rows), BATCH):
        db.session.execute(insert(RespondentTarget), target_rows[start : start + BATCH])
    return len(rows)


def snapshot_source(campaign: Campaign, data: bytes, frame: pd.DataFrame) -> dict:
    """How the draw's frame was made and read (a manifest's ``source``)."""
    return {
        "file": snapshot_name(campaign),
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "kind": SNAPSHOT_KIND,
        "period": None,
        "sheet": None,
        "unit": None,
        "rows_read": int(data.count(b"\n") - 1),
        "rows_valid": len(frame),
    }


def perform_draw(
    campaign_id: int,
    params: dict,
    user_id: int | None,
    progress=None,
    commitment_id: int | None = None,
) -> Draw:
    """Draw the sample of a campaign and replace the previous draw, in the caller's
    transaction (a failure anywhere leaves the previous draw and respondents).

    With ``commitment_id`` the draw is the committed one: the committed design, the seed
    derived from the public value entered for it (:func:`sampling.committed_draw`).
    """
    campaign = db.session.get(Campaign, campaign_id)
    closed = draw_closed(campaign)
    if closed:
        raise DrawRefused(*closed)
    commitment = db.session.get(DrawCommitment, commitment_id) if commitment_id else None
    if commitment is not None:
        params = commitment.content.get("options") or params
    choices = DrawParams.from_dict(params)
    data, frame = load_frame(campaign, choices)
    if commitment is not None:
        if commitment.public_value is None:
            raise DrawRefused(
                "Chưa nhập giá trị ngẫu nhiên công khai của cam kết.",
                "The commitment's public random value has not been entered.",
            )
        design = sampling.SampleDesign.from_manifest(commitment.content["design"])
        sample = sampling.committed_draw(
            frame, commitment.content, commitment.public_value, progress=progress
        )
    else:
        design = build_design(choices)
        sample = sampling.draw_sample(frame, design, seed=choices.seed, progress=progress)
    manifest = dict(sample.manifest, source=snapshot_source(campaign, data, frame))
    _delete_previous(campaign.id)
    draw = Draw(
        campaign_id=campaign.id,
        design={
            "params": choices.to_dict(),
            "sample_design": design.to_dict(),
            "uploads": current_upload_ids(campaign.id),
        },
        manifest=manifest,
        allocation={
            "rows": allocation_rows(sample.allocation, choices.strata),
            "sample": _sample_json(sample.table, choices.strata),
        },
        created_by=user_id,
        locked=False,
        commitment_id=commitment.id if commitment is not None else None,
    )
    db.session.add(draw)
    db.session.flush()
    insert_respondents(draw, sample.table)
    return draw


def lock(draw: Draw, *, confirmed: bool, commitment_required: bool) -> None:
    """Freeze the draw. Asks for confirmation (as closing a campaign does); where a
    commitment is required (production), only a committed draw can be locked."""
    campaign = db.session.get(Campaign, draw.campaign_id)
    closed = draw_closed(campaign)
    if closed:
        raise DrawRefused(*closed)
    if not confirmed:
        raise DrawRefused(
            "Đánh dấu ô xác nhận: khoá mẫu là không thể hoàn tác; sau đó không tải danh sách "
            "mới và không chọn lại được.",
            "Tick the confirmation box: locking cannot be undone; afterwards no new lists "
            "and no redraw.",
        )
    if is_stale(draw):
        raise DrawRefused(
            "Danh sách của đơn vị đã thay đổi sau lần chọn mẫu: hãy chọn mẫu lại trước khi khoá.",
            "A unit's list changed after the draw: draw again before locking.",
        )
    if commitment_required and draw.commitment_id is None:
        raise DrawRefused(
            "Chỉ khoá được mẫu chọn theo cam kết công khai (công bố cam kết, nhập giá trị "
            "ngẫu nhiên công khai, rồi chọn mẫu).",
            "Only a draw made from a public commitment can be locked (publish a commitment, "
            "enter the public random value, then draw).",
        )
    draw.locked = True
