import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

import sampling
from surveyapp.core.downloads import ascii_name, csv_download, xlsx_response
from surveyapp.core.errors import render_error
from surveyapp.extensions import db
from surveyapp.frames.forms import CheckForm, DueDateForm, UploadForm
from surveyapp.frames.operations import (
    Rejection,
    check_file,
    current_upload,
    status_table,
    store_upload,
    uploads_closed,
)
from surveyapp.i18n import t
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.models.frames import FrameUpload, ListKind
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.security import current_user, require_unit, roles_required
from surveyapp.units.importer import tree_order

bp = Blueprint("frames", __name__, url_prefix="/frames", template_folder="templates")

UPLOAD_ROLES = (Role.ADMIN, Role.FOCAL_POINT)
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
        uploads = db.session.scalars(
            sa.select(FrameUpload).where(
                FrameUpload.unit_id == user.unit_id, FrameUpload.is_current
            )
        )
        own = {(u.campaign_id, u.list_kind): u for u in uploads}
    admin_units = []
    if user.role == Role.ADMIN:
        admin_units = tree_order(list(db.session.scalars(sa.select(Unit).where(Unit.active))))
    return render_template(
        "frames/index.html",
        campaigns=campaigns,
        own=own,
        kinds=list(ListKind),
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
            closed=uploads_closed(campaign),
            rejection=rejection,
            issues=issues,
            issues_shown=ISSUES_PER_PAGE,
            max_mb=current_app.config["MAX_CONTENT_LENGTH"] / 1024 / 1024,
            max_rows=current_app.config["MAX_UPLOAD_ROWS"],
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
    outcome = check_file(data, filename, campaign, unit, kind, **_limits())
    if isinstance(outcome, Rejection):
        return _upload_page(campaign, unit, kind, form, rejection=outcome, status=422)
    valid, issues, summary = outcome
    stored = store_upload(campaign, unit, kind, filename, current_user().id, valid, issues, summary)
    flash(
        t(
            f"Đã lưu danh sách: {summary['valid']:,} dòng hợp lệ, {summary['excluded']:,} dòng "
            "bị loại. Danh sách này thay cho danh sách trước.",
            f"List stored: {summary['valid']:,} valid rows, {summary['excluded']:,} rows "
            "excluded. It replaces the previous list.",
        ),
        "info",
    )
    return redirect(url_for("frames.report", upload_id=stored.id))


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
    if fmt == "xlsx":
        return xlsx_response([("issues", ISSUE_HEADER, rows)], f"{name}.xlsx")
    return csv_download(ISSUE_HEADER, rows, f"{name}.csv")


@bp.route("/uploads/<int:upload_id>")
@roles_required(*VIEW_ROLES)
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
@roles_required(*VIEW_ROLES)
def report_file(upload_id: int, fmt: str):
    upload = _upload_for_user(upload_id)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    unit = db.session.get(Unit, upload.unit_id)
    rows = (upload.report or {}).get("issues", [])
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
            upload, by = found if found else (None, None)
            lines.append(
                [
                    row.unit.code, row.unit.name, row.unit.level_label, kind.value,
                    "yes" if upload else "no",
                    upload.uploaded_at.isoformat(sep=" ", timespec="minutes") if upload else "",
                    by or "", upload.filename if upload else "",
                    upload.rows_read if upload else "", upload.rows_valid if upload else "",
                    upload.rows_excluded if upload else "", "yes" if row.late else "no",
                ]
            )  # fmt: skip
    return csv_download(STATUS_HEADER, lines, f"lists-status-{ascii_name(campaign.code)}.csv")


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
