import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

import sampling
from surveyapp.audit import record
from surveyapp.core.downloads import (
    ascii_name,
    csv_download,
    headers,
    labelled,
    xlsx_response,
)
from surveyapp.core.errors import render_error
from surveyapp.extensions import db
from surveyapp.frames.forms import CheckForm, ConfirmForm, DueDateForm, UploadForm
from surveyapp.frames.operations import (
    Rejection,
    campaign_groups,
    check_file,
    confirm_upload,
    current_upload,
    current_version,
    drop_pending,
    files_after,
    list_versions,
    restore_version,
    stale_confirmation,
    status_table,
    store_upload,
    unrestorable_files,
    uploader_names,
    uploads_closed,
)
from surveyapp.i18n import local_isoformat, t
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.models.frames import FrameUpload, FrameVersion, ListKind, PendingAction
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.security import current_user, require_unit, roles_required
from surveyapp.units.scope import campaign_units

bp = Blueprint("frames", __name__, url_prefix="/frames", template_folder="templates")

UPLOAD_ROLES = (Role.ADMIN, Role.FOCAL_POINT)
# Pages that show a list's rows or cell values (upload report, versions): the whole list
# is personal data of people outside the sample, so the contractor's roles never see it.
LIST_ROLES = (Role.ADMIN, Role.FOCAL_POINT)
VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.FOCAL_POINT)
DEPARTMENT_ROLES = (Role.ADMIN, Role.SUPERVISOR)
ISSUES_PER_PAGE = 100
ISSUE_HEADER = (
    "row", "column", "value", "severity", "action", "code", "reason_vi", "reason_en",
)  # fmt: skip


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


def _kind_or_404(kind: str) -> ListKind:
    try:
        return ListKind(kind)
    except ValueError:
        abort(404)


def _unit_for_user(unit_id: int) -> Unit:
    """The unit, if the current user may work on it (focal points: their own only)."""
    unit = db.session.get(Unit, unit_id) or abort(404)
    require_unit(unit.id)
    return unit


def _upload_for_user(upload_id: int) -> FrameUpload:
    upload = db.session.get(FrameUpload, upload_id) or abort(404)
    require_unit(upload.unit_id)
    return upload


@bp.errorhandler(413)
def _too_large(_error):
    limit = current_app.config["MAX_CONTENT_LENGTH"] / 1024 / 1024
    return render_error(
        413,
        f"Tệp gửi lên lớn hơn giới hạn {limit:,.0f} MB. Hãy chia danh sách thành nhiều tệp "
        "hoặc bỏ các cột không cần thiết, rồi tải lại. Không có gì được lưu.",
        f"The file is larger than the {limit:,.0f} MB limit. Split the list or remove "
        "columns that are not needed, then upload again. Nothing was stored.",
    )


# ------------------------------------------------------------------------------ pages


@bp.route("/")
@roles_required(*VIEW_ROLES)
def index():
    user = current_user()
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.code.desc())).all()
    own = {}
    if user.role == Role.FOCAL_POINT:
        lists = db.session.scalars(
            sa.select(FrameVersion).where(
                FrameVersion.unit_id == user.unit_id, FrameVersion.is_current
            )
        )
        own = {(v.campaign_id, v.list_kind): v for v in lists}
    # The upload view's own rule: a link is offered only where an upload is accepted.
    closed = {campaign.id: uploads_closed(campaign) for campaign in campaigns}
    # The administrator's "upload for a unit" picker: each campaign's own registry.
    admin_units = {}
    if user.role == Role.ADMIN:
        admin_units = {c.id: campaign_units(c) for c in campaigns}
    return render_template(
        "frames/index.html",
        campaigns=campaigns,
        own=own,
        kinds=list(ListKind),
        closed=closed,
        unit=db.session.get(Unit, user.unit_id) if user.unit_id else None,
        admin_units=admin_units,
    )


@bp.route("/<int:campaign_id>/go", methods=["GET"])
@roles_required(Role.ADMIN)
def choose_unit(campaign_id: int):
    """The administrator's unit picker (a GET form) leads to that unit's upload page."""
    campaign = _campaign_or_404(campaign_id)
    unit_id = request.args.get("unit_id", type=int)
    kind = _kind_or_404(request.args.get("kind", ""))
    if unit_id is None:
        abort(404)
    return redirect(
        url_for("frames.upload", campaign_id=campaign.id, unit_id=unit_id, kind=kind.value)
    )


def _upload_page(campaign, unit, kind, form=None, check_form=None, rejection=None, status=200):
    current = current_upload(campaign.id, unit.id, kind)
    version = current_version(campaign.id, unit.id, kind)
    issues = None
    if rejection is not None and rejection.issues is not None:
        shown = rejection.issues.head(ISSUES_PER_PAGE).astype(object)
        issues = shown.where(shown.notna(), None).to_dict("records")
    return (
        render_template(
            "frames/upload.html",
            campaign=campaign,
            unit=unit,
            kind=kind,
            form=form or UploadForm(),
            check_form=check_form or CheckForm(prefix="check"),
            current=current,
            version=version,
            uploaders=uploader_names(f.uploaded_by for f in (version.files if version else [])),
            closed=uploads_closed(campaign),
            rejection=rejection,
            issues=issues,
            issues_shown=ISSUES_PER_PAGE,
            max_mb=current_app.config["MAX_CONTENT_LENGTH"] / 1024 / 1024,
            max_rows=current_app.config["MAX_UPLOAD_ROWS"],
            groups=campaign_groups(campaign.id, kind),
            default_group=sampling.DEFAULT_GROUP[kind.value],
            # The words of sampling's one table (codes and English spellings left out).
            group_words={
                code: [name for name in names if not name.isascii()]
                for code, names in sampling.GROUP_ALIASES.items()
            },
        ),
        status,
    )


def _read_upload(form) -> tuple[bytes, str]:
    storage = form.file.data
    return storage.read(), sampling.clean_filename(storage.filename)


def _limits() -> dict:
    return {
        "max_bytes": current_app.config["MAX_CONTENT_LENGTH"],
        "max_rows": current_app.config["MAX_UPLOAD_ROWS"],
        "max_cells": current_app.config["MAX_UPLOAD_CELLS"],
    }


@bp.route("/<int:campaign_id>/units/<int:unit_id>/<kind>", methods=["GET", "POST"])
@roles_required(*UPLOAD_ROLES)
def upload(campaign_id: int, unit_id: int, kind: str):
    campaign = _campaign_or_404(campaign_id)
    kind = _kind_or_404(kind)
    unit = _unit_for_user(unit_id)
    form = UploadForm()
    if not form.is_submitted():
        return _upload_page(campaign, unit, kind, form)
    closed = uploads_closed(campaign)
    if closed:
        return _upload_page(campaign, unit, kind, form, rejection=Rejection(*closed), status=409)
    if not form.validate():
        return _upload_page(campaign, unit, kind, form, status=422)
    data, filename = _read_upload(form)
    current = current_version(campaign.id, unit.id, kind)
    adding = current is not None and form.mode.data == "add"
    outcome = check_file(data, filename, campaign, unit, kind, **_limits(),
                         alongside=current.files if adding else None)  # fmt: skip
    if isinstance(outcome, Rejection):
        return _upload_page(campaign, unit, kind, form, rejection=outcome, status=422)
    valid, issues, summary = outcome
    user_id = current_user().id
    if current is None:  # the unit's first list: nothing to replace, nothing to confirm
        stored = store_upload(campaign, unit, kind, filename, user_id, valid, issues, summary)
        record("list.upload", stored, f"unit={unit.id} kind={kind.value} rows={summary['valid']}")
        flash(
            t(
                f"Đã lưu danh sách: {summary['valid']:,} dòng hợp lệ, {summary['excluded']:,} "
                "dòng bị loại.",
                f"List stored: {summary['valid']:,} valid rows, {summary['excluded']:,} rows "
                "excluded.",
            ),
            "info",
        )
        return redirect(url_for("frames.report", upload_id=stored.id))
    pending = PendingAction.ADD if adding else PendingAction.REPLACE
    stored = store_upload(campaign, unit, kind, filename, user_id, valid, issues, summary,
                          pending=pending)  # fmt: skip
    return redirect(url_for("frames.confirm", upload_id=stored.id))


def _confirm_page(campaign, unit, kind, before, after, *, upload=None, restoring=None,
                  status=200):  # fmt: skip
    """The list before and after a change (files, who uploaded them, when, rows)."""
    files = [*(before.files if before else []), *after]
    issues = None
    if upload is not None:
        issues = (upload.report or {}).get("issues", [])[:ISSUES_PER_PAGE]
    return (
        render_template(
            "frames/confirm.html",
            campaign=campaign,
            unit=unit,
            kind=kind,
            before=before,
            before_rows=before.rows_valid if before else 0,
            after=after,
            after_rows=sum(f.rows_valid for f in after),
            upload=upload,
            restoring=restoring,
            issues=issues,
            total_issues=len((upload.report or {}).get("issues", [])) if upload else 0,
            uploaders=uploader_names(f.uploaded_by for f in files),
            form=ConfirmForm(),
            closed=uploads_closed(campaign),
        ),
        status,
    )


def _pending_or_404(upload_id: int) -> FrameUpload:
    upload = _upload_for_user(upload_id)
    if upload.pending_action is None:
        abort(404)
    return upload


@bp.route("/uploads/<int:upload_id>/confirm", methods=["GET", "POST"])
@roles_required(*UPLOAD_ROLES)
def confirm(upload_id: int):
    """Replace the list by a checked file, or add the file to it, once the user has seen
    the rows before and after."""
    upload = db.session.get(FrameUpload, upload_id) or abort(404)
    require_unit(upload.unit_id)
    campaign = _campaign_or_404(upload.campaign_id)
    unit = db.session.get(Unit, upload.unit_id)
    kind = upload.list_kind
    if upload.pending_action is None:  # confirmed already (a second click): its report
        return redirect(url_for("frames.report", upload_id=upload.id))
    before = current_version(campaign.id, unit.id, kind)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _confirm_page(campaign, unit, kind, before, files_after(upload), upload=upload)
    closed = uploads_closed(campaign)
    if closed:
        return _upload_page(campaign, unit, kind, rejection=Rejection(*closed), status=409)
    changed = stale_confirmation(upload)
    if changed is not None:
        drop_pending(campaign.id, unit.id, kind)
        flash(
            t(
                f"Danh sách đã được thay đổi trong lúc chờ xác nhận (phiên bản {changed.number}). "
                "Tệp chưa được lưu; hãy tải lên lại để kiểm tra với danh sách mới.",
                f"The list changed while this file waited for confirmation (version "
                f"{changed.number}). The file was not stored; upload it again to check it "
                "against the new list.",
            ),
            "error",
        )
        return redirect(url_for("frames.upload", campaign_id=campaign.id, unit_id=unit.id,
                                kind=kind.value))  # fmt: skip
    adding = upload.pending_action == PendingAction.ADD
    version = confirm_upload(upload, current_user().id)
    record("list.upload", upload, f"unit={unit.id} v{version.number} add={adding}")
    flash(
        t(
            f"Đã {'thêm tệp vào' if adding else 'thay'} danh sách: phiên bản {version.number}, "
            f"{version.rows_valid:,} dòng hợp lệ (trước: "
            f"{before.rows_valid if before else 0:,}). Phiên bản trước vẫn được giữ.",
            f"List {'file added' if adding else 'replaced'}: version {version.number}, "
            f"{version.rows_valid:,} valid rows (before: {before.rows_valid if before else 0:,})."
            " The earlier version is kept.",
        ),
        "info",
    )
    return redirect(url_for("frames.report", upload_id=upload.id))


@bp.route("/uploads/<int:upload_id>/cancel", methods=["POST"])
@roles_required(*UPLOAD_ROLES)
def cancel(upload_id: int):
    upload = _pending_or_404(upload_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    target = url_for("frames.upload", campaign_id=upload.campaign_id, unit_id=upload.unit_id,
                     kind=upload.list_kind.value)  # fmt: skip
    drop_pending(upload.campaign_id, upload.unit_id, upload.list_kind)
    flash(t("Đã huỷ: danh sách hiện tại được giữ nguyên.",
            "Cancelled: the current list is unchanged."), "info")  # fmt: skip
    return redirect(target)


@bp.route("/<int:campaign_id>/units/<int:unit_id>/<kind>/versions")
@roles_required(*LIST_ROLES)
def versions(campaign_id: int, unit_id: int, kind: str):
    campaign = _campaign_or_404(campaign_id)
    kind = _kind_or_404(kind)
    unit = _unit_for_user(unit_id)
    found = list_versions(campaign.id, unit.id, kind)
    users = {v.created_by for v in found} | {f.uploaded_by for v in found for f in v.files}
    return render_template(
        "frames/versions.html",
        campaign=campaign,
        unit=unit,
        kind=kind,
        versions=found,
        uploaders=uploader_names(users),
        closed=uploads_closed(campaign),
    )


def _version_or_404(campaign_id: int, unit_id: int, kind: ListKind, number: int) -> FrameVersion:
    return db.session.scalar(
        sa.select(FrameVersion).where(
            FrameVersion.campaign_id == campaign_id,
            FrameVersion.unit_id == unit_id,
            FrameVersion.list_kind == kind,
            FrameVersion.number == number,
        )
    ) or abort(404)


@bp.route("/<int:campaign_id>/units/<int:unit_id>/<kind>/versions/<int:number>/restore",
          methods=["GET", "POST"])  # fmt: skip
@roles_required(*UPLOAD_ROLES)
def restore(campaign_id: int, unit_id: int, kind: str, number: int):
    """Make an earlier version the list again (all its files, or nothing)."""
    campaign = _campaign_or_404(campaign_id)
    kind = _kind_or_404(kind)
    unit = _unit_for_user(unit_id)
    version = _version_or_404(campaign.id, unit.id, kind, number)
    before = current_version(campaign.id, unit.id, kind)
    back = url_for("frames.versions", campaign_id=campaign.id, unit_id=unit.id, kind=kind.value)
    if version.is_current:
        flash(t("Phiên bản này đang được dùng.", "This version is the current one."), "info")
        return redirect(back)
    missing = unrestorable_files(version)
    if missing:
        names = ", ".join(f"«{f.filename}»" for f in missing)
        flash(
            t(
                f"Không thể khôi phục phiên bản {number}: các dòng của tệp {names} không còn "
                "được lưu (đã xoá khi thay danh sách trước khi có phiên bản, hoặc khi xoá dữ "
                "liệu cá nhân). Không có gì thay đổi.",
                f"Version {number} cannot be restored: the rows of {names} are no longer "
                "stored (removed when the list was replaced before versions were kept, or by "
                "the purge of personal data). Nothing was changed.",
            ),
            "error",
        )
        return redirect(back)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _confirm_page(campaign, unit, kind, before, list(version.files), restoring=version)
    closed = uploads_closed(campaign)
    if closed:
        return _upload_page(campaign, unit, kind, rejection=Rejection(*closed), status=409)
    restored = restore_version(version, current_user().id)
    record("list.restore", ("unit", unit_id), f"kind={kind.value} v{number} -> v{restored.number}")
    flash(
        t(
            f"Đã khôi phục phiên bản {number} thành phiên bản {restored.number}: "
            f"{restored.rows_valid:,} dòng hợp lệ (trước: {before.rows_valid if before else 0:,}).",
            f"Version {number} restored as version {restored.number}: {restored.rows_valid:,} "
            f"valid rows (before: {before.rows_valid if before else 0:,}).",
        ),
        "info",
    )
    return redirect(back)


@bp.route("/<int:campaign_id>/units/<int:unit_id>/<kind>/check", methods=["POST"])
@roles_required(*UPLOAD_ROLES)
def check(campaign_id: int, unit_id: int, kind: str):
    """Validate a file without storing anything and return its full error report."""
    campaign = _campaign_or_404(campaign_id)
    kind = _kind_or_404(kind)
    unit = _unit_for_user(unit_id)
    check_form = CheckForm(prefix="check")
    if not check_form.validate_on_submit():
        return _upload_page(campaign, unit, kind, check_form=check_form, status=422)
    data, filename = _read_upload(check_form)
    outcome = check_file(data, filename, campaign, unit, kind, **_limits())
    if isinstance(outcome, Rejection) and outcome.issues is None:
        return _upload_page(campaign, unit, kind, check_form=check_form, rejection=outcome,
                            status=422)  # fmt: skip
    issues = outcome.issues if isinstance(outcome, Rejection) else outcome[1]
    rows = issues.astype(object).where(issues.notna(), None).itertuples(index=False, name=None)
    name = f"report-{ascii_name(unit.code)}-{kind.value}"
    return _report_download(list(rows), check_form.format.data, name)


def _report_download(rows: list, fmt: str, name: str):
    header = headers(ISSUE_HEADER)  # people read the report: headers in their language,
    rows = labelled(ISSUE_HEADER, rows)  # and "error", "excluded"... as words too
    if fmt == "xlsx":
        return xlsx_response([(t("Vấn đề", "Problems"), header, rows)], f"{name}.xlsx")
    return csv_download(header, rows, f"{name}.csv")


@bp.route("/uploads/<int:upload_id>")
@roles_required(*LIST_ROLES)
def report(upload_id: int):
    upload = _upload_for_user(upload_id)
    issues = (upload.report or {}).get("issues", [])
    pages = max(1, -(-len(issues) // ISSUES_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    start = (page - 1) * ISSUES_PER_PAGE
    return render_template(
        "frames/report.html",
        upload=upload,
        campaign=db.session.get(Campaign, upload.campaign_id),
        unit=db.session.get(Unit, upload.unit_id),
        summary=(upload.report or {}).get("summary", {}),
        issues=issues[start : start + ISSUES_PER_PAGE],
        total_issues=len(issues),
        page=page,
        pages=pages,
    )


@bp.route("/uploads/<int:upload_id>/report.<fmt>")
@roles_required(*LIST_ROLES)
def report_file(upload_id: int, fmt: str):
    upload = _upload_for_user(upload_id)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    unit = db.session.get(Unit, upload.unit_id)
    rows = (upload.report or {}).get("issues", [])
    record("download.list_report", upload, fmt)  # the report quotes rows' values
    return _report_download(rows, fmt, f"report-{ascii_name(unit.code)}-{upload.id}")


# -------------------------------------------------------------------- department view

STATUS_HEADER = (
    "unit_code", "unit_name", "level_label", "kind", "uploaded", "uploaded_at", "uploaded_by",
    "filename", "rows_read", "rows_valid", "rows_excluded", "late",
)  # fmt: skip


@bp.route("/<int:campaign_id>/status")
@roles_required(*DEPARTMENT_ROLES)
def status(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    rows = status_table(campaign)
    form = DueDateForm(obj=campaign)
    # DOHA chases the units still owing a list: ?show=missing or ?show=late narrows the table.
    show = request.args.get("show", "")
    keep = {"missing": lambda r: r.missing, "late": lambda r: r.late}.get(show)
    return render_template(
        "frames/status.html",
        campaign=campaign,
        rows=[r for r in rows if keep(r)] if keep else rows,
        all_count=len(rows),
        missing_count=sum(bool(r.missing) for r in rows),
        show=show if keep else "",
        kinds=list(ListKind),
        form=form,
        late_count=sum(bool(r.late) for r in rows),
        done_count=sum(not r.missing for r in rows),
    )


@bp.route("/<int:campaign_id>/status.csv")
@roles_required(*DEPARTMENT_ROLES)
def status_csv(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    lines = []
    for row in status_table(campaign):
        for kind in ListKind:
            found = row.uploads[kind]
            upload, by, valid, excluded = found if found else (None, None, "", "")
            lines.append(
                [
                    row.unit.code, row.unit.name, row.unit.level_label, kind.value,
                    "yes" if upload else "no",
                    local_isoformat(upload.uploaded_at) if upload else "",
                    by or "", upload.filename if upload else "",
                    upload.rows_read if upload else "", valid, excluded,
                    "yes" if row.late else "no",
                ]
            )  # fmt: skip
    return csv_download(
        headers(STATUS_HEADER), lines, f"lists-status-{ascii_name(campaign.code)}.csv"
    )


@bp.route("/<int:campaign_id>/due", methods=["POST"])
@roles_required(Role.ADMIN)
def set_due(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if campaign.status == CampaignStatus.CLOSED:
        abort(409)
    form = DueDateForm()
    if not form.validate_on_submit():
        flash(t("Ngày không hợp lệ.", "Invalid date."), "error")
        return redirect(url_for("frames.status", campaign_id=campaign.id))
    campaign.lists_due_on = form.lists_due_on.data
    flash(t("Đã lưu hạn nộp danh sách.", "Deadline saved."), "info")
    return redirect(url_for("frames.status", campaign_id=campaign.id))
