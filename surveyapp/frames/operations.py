"""Frame upload: read and validate a unit's list with ``sampling``, then replace the
unit's previous list for the campaign in one transaction.

Rules (shown in the page help):

* The file is read by :func:`sampling.read_frame` (CSV or XLSX, format from the content,
  zip bombs and oversized files refused) and checked by :func:`sampling.validate_frame`
  with the campaign's survey period.
* The upload is for one unit (the focal point's own unit). The ``unit`` column may be
  left out; when a row names ANOTHER unit of the registry (its code or name), the row is
  excluded with a row-level message, otherwise the row belongs to the upload's unit.
* Respondent group: the campaign's instrument group the row's ``group`` cell names, by its
  code or in the words units use (``sampling.GROUP_ALIASES``: "Tổ chức", "Doanh nghiệp" →
  ``organisation``); an empty cell gives the kind's default (``citizen`` / ``official``),
  and so does a cell naming no group of the campaign, with a warning on its row. The
  ``group`` / ``position`` text itself is kept as ``subgroup`` (usable as a stratum).
* A rejected file (fatal error or no valid row) stores nothing. An accepted file is
  stored with its records (one bulk INSERT). The unit's first list becomes version 1 at
  once; when the unit already has a list, the file waits (``pending_action``) until the
  user confirms replacing the list by it or adding it to the list's files, having seen
  the rows before and after.
* A file added to a list is checked together with the list's current files: a row
  repeating a row of another file (same dossier code, or same name and phone) is not
  added, and the message names both rows.
* Every change makes a new numbered version (``FrameVersion``); earlier versions keep
  their files and records, and restoring one makes a new version of the same files,
  all or nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

import sampling
from sampling.columns import fold_header
from sampling.frames import DEFAULT_MAX_CELLS
from sampling.groups import group_code
from sampling.inputs import with_unit
from sampling.validation import ISSUE_COLUMNS
from surveyapp.db import utcnow
from surveyapp.draws.operations import current_draw
from surveyapp.extensions import db
from surveyapp.i18n import local_day, local_today
from surveyapp.models.campaigns import Campaign, CampaignInstrument
from surveyapp.models.frames import (
    FrameRecord,
    FrameUpload,
    FrameVersion,
    ListKind,
    PendingAction,
    VersionAction,
)
from surveyapp.models.units import Unit
from surveyapp.models.users import User
from surveyapp.units.scope import campaign_units

DEFAULT_GROUP = {ListKind.CITIZENS: "citizen", ListKind.OFFICIALS: "official"}
# FrameRecord columns filled from the frame's canonical columns of the same name.
PII_COLUMNS = ("full_name", "phone", "email", "address", "dossier_code", "position")
MAPPED_COLUMNS = {*PII_COLUMNS, "completed_on", "source_row", "unit"}
INSERT_BATCH = 5_000


@dataclass
class Rejection:
    """A file that stores nothing: the bilingual reason and, when rows were checked, the
    issues (the first ones are shown on the page)."""

    message_vi: str
    message_en: str
    issues: pd.DataFrame | None = None
    summary: dict | None = None


def campaign_period(campaign: Campaign) -> tuple[dt.date, dt.date] | None:
    if campaign.period_start and campaign.period_end:
        return campaign.period_start, campaign.period_end
    return None


def current_version(campaign_id: int, unit_id: int, kind: ListKind) -> FrameVersion | None:
    return db.session.scalar(
        sa.select(FrameVersion).where(
            FrameVersion.campaign_id == campaign_id,
            FrameVersion.unit_id == unit_id,
            FrameVersion.list_kind == kind,
            FrameVersion.is_current,
        )
    )


def list_versions(campaign_id: int, unit_id: int, kind: ListKind) -> list[FrameVersion]:
    """Every version of the list, newest first."""
    return list(
        db.session.scalars(
            sa.select(FrameVersion)
            .where(
                FrameVersion.campaign_id == campaign_id,
                FrameVersion.unit_id == unit_id,
                FrameVersion.list_kind == kind,
            )
            .order_by(FrameVersion.number.desc())
        )
    )


def current_upload(campaign_id: int, unit_id: int, kind: ListKind) -> FrameUpload | None:
    """The current version's latest file (the list's only file unless one was added)."""
    version = current_version(campaign_id, unit_id, kind)
    return version.files[-1] if version is not None and version.files else None


def uploader_names(user_ids) -> dict[int, str]:
    """Full name (or login) of each user id given."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(User.id, User.full_name, User.username).where(User.id.in_(ids))
    )
    return {uid: full_name or username for uid, full_name, username in rows}


def uploads_closed(campaign: Campaign) -> tuple[str, str] | None:
    """Why uploads are closed for ``campaign`` (Vietnamese, English), or None."""

    if campaign.status.value != "draft":
        return (
            "Đợt khảo sát đã bắt đầu hoặc kết thúc: không nhận thêm danh sách.",
            "The campaign has started or closed: lists can no longer be uploaded.",
        )
    draw = current_draw(campaign.id)
    if draw is not None and draw.locked:
        return (
            "Mẫu của đợt khảo sát đã được khoá: không thể tải danh sách mới. "
            "Liên hệ Sở Nội vụ nếu cần sửa.",
            "The campaign's sample is locked: lists can no longer be replaced. "
            "Contact the Department if a list must change.",
        )
    return None


# ------------------------------------------------------------------------- validation


def _registry_keys(upload_unit_id: int) -> dict[str, Unit]:
    """Folded code and name of every OTHER unit (rows naming them are refused)."""
    keys: dict[str, Unit] = {}
    for unit in db.session.scalars(sa.select(Unit).where(Unit.id != upload_unit_id)):
        for text in (unit.code, unit.name):
            folded = fold_header(text)
            if folded:
                keys.setdefault(folded, unit)
    return keys


def _other_unit_issues(valid: pd.DataFrame, unit: Unit) -> tuple[pd.DataFrame, np.ndarray]:
    """Issues for valid rows whose ``unit`` cell names another registry unit."""
    own = {fold_header(unit.code), fold_header(unit.name)}
    others = _registry_keys(unit.id)
    folded = valid["unit"].map(lambda v: fold_header(v) if isinstance(v, str) else "")
    foreign = folded.map(lambda key: key not in own and key in others).to_numpy(dtype=bool)
    rows = valid.loc[foreign]
    issues = pd.DataFrame(
        {
            "row": rows["source_row"].astype("int64").to_numpy(),
            "column": "Đơn vị (unit)",
            "value": rows["unit"].to_numpy(dtype=object),
            "severity": "error",
            "action": "excluded",
            "code": "other_unit",
            "reason_vi": [
                f"Dòng thuộc đơn vị khác ({others[k].code}), không phải {unit.code}; "
                "dòng bị loại. Đơn vị đó phải tự tải danh sách của mình."
                for k in folded[foreign]
            ],
            "reason_en": [
                f"The row belongs to another unit ({others[k].code}), not {unit.code}; "
                "row excluded. That unit uploads its own list."
                for k in folded[foreign]
            ],
        },
        columns=list(ISSUE_COLUMNS),
    )
    return issues, foreign


def _merge_issues(issues: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    if extra.empty:
        return issues
    if issues.empty:
        return extra.reset_index(drop=True)
    merged = pd.concat([issues.astype(object), extra.astype(object)], ignore_index=True)
    return merged.sort_values("row", kind="stable").reset_index(drop=True)


def check_file(data: bytes, filename: str, campaign: Campaign, unit: Unit, kind: ListKind, *,
               max_bytes: int, max_rows: int, max_cells: int | None = None,
               alongside: list[FrameUpload] | None = None):  # fmt: skip
    """(valid rows, issues, summary) of an uploaded file, or a :class:`Rejection`.
    ``max_cells`` bounds a workbook sheet's rectangle (see :func:`sampling.read_frame`).
    ``alongside``: the files the new one is added to (rows repeating theirs are left out)."""
    try:
        frame = sampling.read_frame(
            data, filename=filename, max_bytes=max_bytes, max_rows=max_rows,
            max_cells=max_cells or DEFAULT_MAX_CELLS,
        )  # fmt: skip
        # The list is for one unit: a missing unit column means "this unit" (the rule of
        # `surveyapp sample ... --unit` too).
        frame = with_unit(frame, unit.code)
        # Officials' lists have no completion date: the period applies to citizens only.
        period = campaign_period(campaign) if kind == ListKind.CITIZENS else None
        result = sampling.validate_frame(
            frame, kind=kind.value, period=period, groups=campaign_groups(campaign.id, kind)
        )
    except sampling.NoValidRowsError as error:
        return Rejection(error.message_vi, error.message_en, error.result.issues,
                         error.result.summary)  # fmt: skip
    except sampling.SamplingError as error:
        return Rejection(error.message_vi, error.message_en)
    except MemoryError:
        # The worker's memory limit (gunicorn.conf.py) stopped a file that passed the
        # reader's bounds: refused like any other file, without a traceback.
        return Rejection(
            "Tệp cần quá nhiều bộ nhớ để đọc; hãy chia danh sách thành nhiều tệp nhỏ hơn.",
            "The file needs too much memory to read; split the list into smaller files.",
        )
    issues, foreign = _other_unit_issues(result.valid, unit)
    valid = result.valid.loc[~foreign].reset_index(drop=True)
    summary = dict(result.summary)
    summary["excluded"] += int(foreign.sum())
    summary["errors"] += int(foreign.sum())
    summary["valid"] = len(valid)
    issues = _merge_issues(result.issues, issues)
    if alongside:
        valid, across = _repeats_of_other_files(valid, alongside)
        summary["duplicates"] += len(across)
        summary["warnings"] += len(across)
        summary["valid"] = len(valid)
        issues = _merge_issues(issues, across)
    if valid.empty:
        return Rejection(
            "Không còn dòng hợp lệ nào; xem báo cáo lỗi để sửa.",
            "No valid rows remain; see the error report to fix them.",
            issues,
            summary,
        )
    return valid, issues, summary


_ACROSS_LABELS = {"dossier_code": "Mã hồ sơ (dossier_code)", "full_name": "Họ và tên (full_name)"}


def _repeats_of_other_files(valid: pd.DataFrame, files: list[FrameUpload]):
    """(valid rows not repeating a row of ``files``, issues naming both rows)."""
    earlier = pd.DataFrame(
        db.session.execute(
            sa.select(
                FrameRecord.full_name,
                FrameRecord.phone,
                FrameRecord.dossier_code,
                FrameRecord.source_row,
                FrameUpload.filename,
            )  # fmt: skip
            .join(FrameUpload, FrameUpload.id == FrameRecord.upload_id)
            .where(FrameRecord.upload_id.in_([f.id for f in files]))
            .order_by(FrameRecord.upload_id, FrameRecord.source_row)
        ).all(),
        columns=["full_name", "phone", "dossier_code", "source_row", "filename"],
    )
    found = sampling.duplicates_across(earlier, valid)
    if found.empty:
        return valid, pd.DataFrame(columns=list(ISSUE_COLUMNS))
    later = valid.iloc[found["later"].to_numpy()]
    first = earlier.iloc[found["earlier"].to_numpy()]
    reasons = {
        "duplicate_dossier": ("Trùng mã hồ sơ", "Same dossier code"),
        "duplicate_person": ("Trùng họ tên và số điện thoại", "Same name and phone number"),
    }
    rows = []
    for (_, code_row), (_, new), (_, old) in zip(
        found.iterrows(), later.iterrows(), first.iterrows(), strict=True
    ):
        column, code = code_row["column"], code_row["code"]
        vi, en = reasons[code]
        rows.append({
            "row": int(new["source_row"]), "column": _ACROSS_LABELS[column],
            "value": new.get(column), "severity": "warning", "action": "merged", "code": code,
            "reason_vi": f"{vi} với dòng {int(old['source_row'])} của tệp «{old['filename']}» "
                         "đã có trong danh sách; dòng này không được thêm.",
            "reason_en": f"{en} as row {int(old['source_row'])} of «{old['filename']}», "
                         "already in the list; this row is not added.",
        })  # fmt: skip
    keep = np.ones(len(valid), dtype=bool)
    keep[found["later"].to_numpy()] = False
    return valid.loc[keep].reset_index(drop=True), pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))


# ----------------------------------------------------------------------------- storing


def campaign_groups(campaign_id: int, kind: ListKind) -> list[str]:
    """The groups a list's group cell may name: the campaign's instrument groups (the
    kind's default group when the campaign has none yet)."""
    groups = db.session.scalars(
        sa.select(CampaignInstrument.respondent_group)
        .where(CampaignInstrument.campaign_id == campaign_id)
        .order_by(CampaignInstrument.id)
    )
    return list(dict.fromkeys(groups)) or [DEFAULT_GROUP[kind]]


def _texts(values: pd.Series) -> list:
    """A column as Python strings, None for missing or empty cells."""
    as_text = values.astype(object).where(values.notna(), None)
    return [None if v is None or v == "" else str(v) for v in as_text.tolist()]


def _extras(valid: pd.DataFrame, subgroup: list) -> list:
    """Per row, the columns FrameRecord has no column for (missing cells left out)."""
    names = [name for name in valid.columns if name not in MAPPED_COLUMNS]
    columns = [_texts(valid[name]) for name in names]
    extras = []
    for i, values in enumerate(zip(*columns, strict=True) if columns else [()] * len(valid)):
        extra = {name: value for name, value in zip(names, values, strict=True) if value}
        if subgroup[i]:
            extra["subgroup"] = subgroup[i]
        extras.append(extra or None)
    return extras


def record_rows(valid: pd.DataFrame, upload_id: int, kind: ListKind, groups: list) -> list[dict]:
    """Parameter dictionaries for one bulk INSERT of ``FrameRecord`` rows.

    Column by column (no per-cell pandas access): about 10 µs per row.
    """
    n = len(valid)
    empty = [None] * n
    pii = {name: _texts(valid[name]) if name in valid.columns else empty for name in PII_COLUMNS}
    raw_group = _texts(valid["group"]) if "group" in valid.columns else empty
    # The group cell names one of the campaign's groups; its text (or the position) is kept.
    default_group = DEFAULT_GROUP[kind]
    named = {g: group_code(g, groups) or default_group for g in set(raw_group) if g}
    group = [named[g] if g else default_group for g in raw_group]
    subgroup = [g or p for g, p in zip(raw_group, pii["position"], strict=True)]
    completed = empty
    if "completed_on" in valid.columns:
        dates = pd.to_datetime(valid["completed_on"])
        completed = dates.dt.date.astype(object).where(dates.notna(), None).tolist()
    source_rows = valid["source_row"].astype("int64").tolist()
    extras = _extras(valid, subgroup)
    names = (*PII_COLUMNS, "respondent_group", "completed_on", "source_row", "extra")
    columns = (*(pii[name] for name in PII_COLUMNS), group, completed, source_rows, extras)
    return [
        {"upload_id": upload_id, **dict(zip(names, values, strict=True))}
        for values in zip(*columns, strict=True)
    ]


def insert_records(rows: list[dict]) -> None:
    """Bulk INSERT (executemany on the table: the ORM's per-row bookkeeping costs about
    as much again) in batches, to bound memory on large lists."""
    table = FrameRecord.__table__
    for start in range(0, len(rows), INSERT_BATCH):
        db.session.execute(table.insert(), rows[start : start + INSERT_BATCH])


def issues_json(issues: pd.DataFrame) -> list[list]:
    """The issue table as JSON-ready rows (ISSUE_COLUMNS order)."""
    frame = issues[list(ISSUE_COLUMNS)].astype(object).where(issues.notna(), None)
    return [[int(r[0]), *r[1:]] for r in frame.itertuples(index=False, name=None)]


def store_upload(campaign: Campaign, unit: Unit, kind: ListKind, filename: str, user_id: int,
                 valid: pd.DataFrame, issues: pd.DataFrame, summary: dict,
                 pending: PendingAction | None = None) -> FrameUpload:  # fmt: skip
    """Store a checked file and its records, in the caller's transaction.

    ``pending`` None: the file becomes the list at once (a new version of that one file).
    Otherwise it waits for :func:`confirm_upload` (replacing the list or joining its
    files); an earlier file still waiting for the same list is dropped. The report notes
    the version the file was checked against, so that a confirmation after someone else
    changed the list is refused.
    """
    based_on = current_version(campaign.id, unit.id, kind)
    if pending is not None:
        drop_pending(campaign.id, unit.id, kind)
    report = {"summary": summary, "columns": list(ISSUE_COLUMNS), "issues": issues_json(issues)}
    if pending is not None:
        report["based_on_version"] = based_on.number if based_on is not None else None
    upload = FrameUpload(
        campaign_id=campaign.id,
        unit_id=unit.id,
        list_kind=kind,
        filename=filename[:255],
        uploaded_by=user_id,
        uploaded_at=utcnow(),
        rows_read=int(summary["rows_read"]),
        rows_valid=int(summary["valid"]),
        rows_excluded=int(summary["excluded"]),
        is_current=False,
        pending_action=pending,
        report=report,
    )
    db.session.add(upload)
    db.session.flush()
    insert_records(record_rows(valid, upload.id, kind, campaign_groups(campaign.id, kind)))
    if pending is None:
        new_version(upload.campaign_id, upload.unit_id, kind, [upload], VersionAction.UPLOAD,
                    user_id)  # fmt: skip
    return upload


def drop_pending(campaign_id: int, unit_id: int, kind: ListKind) -> None:
    """Delete the files still waiting for confirmation for this list (and their records)."""
    waiting = sa.select(FrameUpload.id).where(
        FrameUpload.campaign_id == campaign_id,
        FrameUpload.unit_id == unit_id,
        FrameUpload.list_kind == kind,
        FrameUpload.pending_action.is_not(None),
    )
    ids = list(db.session.scalars(waiting))
    if ids:
        db.session.execute(sa.delete(FrameRecord).where(FrameRecord.upload_id.in_(ids)))
        db.session.execute(
            sa.delete(FrameUpload)
            .where(FrameUpload.id.in_(ids))
            .execution_options(synchronize_session="fetch")
        )


def stale_confirmation(upload: FrameUpload) -> FrameVersion | None:
    """The list's current version when it is not the one ``upload`` was checked against."""
    current = current_version(upload.campaign_id, upload.unit_id, upload.list_kind)
    expected = (upload.report or {}).get("based_on_version")
    number = current.number if current is not None else None
    return current if number != expected else None


def files_after(upload: FrameUpload) -> list[FrameUpload]:
    """The files the list will have once ``upload`` is confirmed."""
    if upload.pending_action == PendingAction.ADD:
        current = current_version(upload.campaign_id, upload.unit_id, upload.list_kind)
        return [*(current.files if current else []), upload]
    return [upload]


def confirm_upload(upload: FrameUpload, user_id: int) -> FrameVersion:
    """The waiting file replaces the list or joins its files: a new version."""
    files = files_after(upload)
    action = (
        VersionAction.ADD if upload.pending_action == PendingAction.ADD else VersionAction.UPLOAD
    )
    upload.pending_action = None
    return new_version(upload.campaign_id, upload.unit_id, upload.list_kind, files, action,
                       user_id)  # fmt: skip


def unrestorable_files(version: FrameVersion) -> list[FrameUpload]:
    """Files of ``version`` whose rows are gone (removed before versions were kept, or by
    the purge of personal data): such a version cannot be restored."""
    ids = [f.id for f in version.files]
    counts = dict(
        db.session.execute(
            sa.select(FrameRecord.upload_id, sa.func.count())
            .where(FrameRecord.upload_id.in_(ids))
            .group_by(FrameRecord.upload_id)
        ).all()
    )
    return [f for f in version.files if f.rows_valid and not counts.get(f.id)]


def restore_version(version: FrameVersion, user_id: int) -> FrameVersion:
    """A new version made of ``version``'s files (their records are kept)."""
    return new_version(
        version.campaign_id, version.unit_id, version.list_kind, list(version.files),
        VersionAction.RESTORE, user_id, restored_from=version.number,
    )  # fmt: skip


def new_version(campaign_id: int, unit_id: int, kind: ListKind, files: list[FrameUpload],
                action: VersionAction, user_id: int | None,
                restored_from: int | None = None) -> FrameVersion:  # fmt: skip
    """Make ``files`` the list's current version, in the caller's transaction: the old
    version loses its flag, exactly ``files`` are marked current, a failure anywhere rolls
    all of it back."""
    last = db.session.scalar(
        sa.select(sa.func.max(FrameVersion.number)).where(
            FrameVersion.campaign_id == campaign_id,
            FrameVersion.unit_id == unit_id,
            FrameVersion.list_kind == kind,
        )
    )
    previous = current_version(campaign_id, unit_id, kind)
    if previous is not None:
        previous.is_current = False
        db.session.flush()  # the partial unique index allows one current version
    ids = [f.id for f in files]
    db.session.execute(
        sa.update(FrameUpload)
        .where(
            FrameUpload.campaign_id == campaign_id,
            FrameUpload.unit_id == unit_id,
            FrameUpload.list_kind == kind,
        )
        .values(is_current=FrameUpload.id.in_(ids))
        .execution_options(synchronize_session="fetch")
    )
    version = FrameVersion(
        campaign_id=campaign_id,
        unit_id=unit_id,
        list_kind=kind,
        number=(last or 0) + 1,
        action=action,
        restored_from=restored_from,
        created_by=user_id,
        created_at=utcnow(),
        rows_valid=sum(f.rows_valid for f in files),
        is_current=True,
        files=list(files),
    )
    db.session.add(version)
    db.session.flush()
    return version


# --------------------------------------------------------------------------- status


@dataclass
class UnitStatus:
    unit: Unit
    uploads: dict  # ListKind -> (latest FrameUpload, its uploader, valid, excluded) | None
    late: bool
    missing: list
    late_reason: tuple[str, str] | None = None


def status_table(campaign: Campaign, today: dt.date | None = None) -> list[UnitStatus]:
    """Every active unit of the campaign's registry (tree order) with its current uploads."""

    units = campaign_units(campaign)
    found = db.session.execute(
        sa.select(FrameUpload, User.username, User.full_name)
        .outerjoin(User, User.id == FrameUpload.uploaded_by)
        .where(FrameUpload.campaign_id == campaign.id, FrameUpload.is_current)
    ).all()
    # A list of several files: its latest file, who uploaded it, and the rows of all files.
    by_unit: dict = {}
    for upload, username, full_name in sorted(found, key=lambda f: (f[0].uploaded_at, f[0].id)):
        lists = by_unit.setdefault(upload.unit_id, {})
        _, _, valid, excluded = lists.get(upload.list_kind, (None, None, 0, 0))
        lists[upload.list_kind] = (
            upload,
            full_name or username,
            valid + upload.rows_valid,
            excluded + upload.rows_excluded,
        )
    today = today or local_today()  # the due day is a day in Vietnam
    due = campaign.lists_due_on
    rows = []
    for unit in units:
        uploads = {kind: by_unit.get(unit.id, {}).get(kind) for kind in ListKind}
        missing = [kind for kind, value in uploads.items() if value is None]
        late_upload = any(
            value is not None and due is not None and local_day(value[0].uploaded_at) > due
            for value in uploads.values()
        )
        reason = None
        if due is not None and missing and today > due:
            reason = ("Quá hạn, còn thiếu danh sách", "Past the deadline, a list is missing")
        elif late_upload:
            reason = ("Nộp sau hạn", "Uploaded after the deadline")
        rows.append(UnitStatus(unit, uploads, reason is not None, missing, reason))
    return rows
