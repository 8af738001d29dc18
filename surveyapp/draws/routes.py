import json
import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

import sampling
from surveyapp import jobs
from surveyapp.core.downloads import ascii_name, attachment, csv_download, xlsx_response
from surveyapp.draws.forms import DesignForm
from surveyapp.draws.operations import (
    ID_COLUMN,
    SAMPLE_COLUMNS,
    DrawParams,
    DrawRefused,
    current_draw,
    draw_closed,
    frame_snapshot,
    is_stale,
    lock,
    perform_draw,
    preview,
    sample_name,
    sample_table,
    snapshot_name,
    verify,
)
from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.models.campaigns import Campaign
from surveyapp.models.frames import FrameRecord, FrameUpload
from surveyapp.models.jobs import Job
from surveyapp.models.respondents import Respondent, Selection
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.security import current_user, roles_required

bp = Blueprint("draws", __name__, url_prefix="/draws", template_folder="templates")

VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR)
LIST_HEADER = (
    "stratum", "selection", "reserve_rank", "full_name", "phone", "email", "address",
    "dossier_code", "weight",
)  # fmt: skip


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


def _draw_or_404(campaign: Campaign):
    return current_draw(campaign.id) or abort(404)


def _frame_size(campaign: Campaign) -> tuple[int, int]:
    """(records, units) of the campaign's current lists."""
    records, units = db.session.execute(
        sa.select(sa.func.count(FrameRecord.id), sa.func.count(sa.distinct(FrameUpload.unit_id)))
        .join(FrameUpload, FrameUpload.id == FrameRecord.upload_id)
        .where(FrameUpload.campaign_id == campaign.id, FrameUpload.is_current)
    ).one()
    return int(records), int(units)


@bp.route("/")
@roles_required(*VIEW_ROLES)
def index():
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.code.desc())).all()
    draws = {c.id: current_draw(c.id) for c in campaigns}
    return render_template("draws/index.html", campaigns=campaigns, draws=draws)


def _page(campaign, form=None, preview_rows=None, error=None, verification=None, status=200):
    draw = current_draw(campaign.id)
    if form is None:
        form = DesignForm()
        if draw is not None:
            form.fill(DrawParams.from_dict(draw.design["params"]))
    counts = None
    if draw is not None:
        counts = dict(
            db.session.execute(
                sa.select(Respondent.selection, sa.func.count(Respondent.id))
                .where(Respondent.draw_id == draw.id)
                .group_by(Respondent.selection)
            ).all()
        )
    records, units = _frame_size(campaign)
    return (
        render_template(
            "draws/draw.html",
            campaign=campaign,
            draw=draw,
            stale=draw is not None and is_stale(draw),
            counts=counts or {},
            Selection=Selection,
            form=form,
            closed=draw_closed(campaign),
            preview_rows=preview_rows,
            error=error,
            verification=verification,
            records=records,
            units=units,
        ),
        status,
    )


@bp.route("/<int:campaign_id>")
@roles_required(*VIEW_ROLES)
def draw_page(campaign_id: int):
    return _page(_campaign_or_404(campaign_id))


@bp.route("/<int:campaign_id>/design", methods=["POST"])
@roles_required(Role.ADMIN)
def design(campaign_id: int):
    """Preview the allocation (nothing stored) or draw, by the button pressed."""
    campaign = _campaign_or_404(campaign_id)
    form = DesignForm()
    if not form.validate_on_submit():
        return _page(campaign, form=form, status=422)
    params = form.params()
    try:
        if request.form.get("action") == "draw":
            return _draw(campaign, params)
        return _page(campaign, form=form, preview_rows=preview(campaign, params))
    except (sampling.SamplingError, DrawRefused) as error:
        return _page(campaign, form=form, error=(error.message_vi, error.message_en), status=422)


def _draw(campaign: Campaign, params: DrawParams):
    closed = draw_closed(campaign)
    if closed:
        raise DrawRefused(*closed)
    records, _ = _frame_size(campaign)
    if records >= current_app.config["DRAW_JOB_MIN_ROWS"]:
        job = jobs.enqueue(
            "draw",
            "surveyapp.draws.operations:run_draw_job",
            campaign.id,
            params.to_dict(),
            current_user().id,
            created_by=current_user().id,
        )
        return redirect(url_for("draws.job", campaign_id=campaign.id, job_id=job.id))
    draw = perform_draw(campaign.id, params.to_dict(), current_user().id)
    total = draw.manifest["totals"]
    flash(
        t(
            f"Đã chọn mẫu: {total['n']:,} người chính thức và {total['reserve']:,} dự phòng "
            f"trong {total['strata']:,} tầng. Kiểm tra rồi bấm «Khoá mẫu».",
            f"Sample drawn: {total['n']:,} primary and {total['reserve']:,} reserves in "
            f"{total['strata']:,} strata. Check it, then press “Lock the sample”.",
        ),
        "info",
    )
    return redirect(url_for("draws.draw_page", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/jobs/<uuid:job_id>")
@roles_required(*VIEW_ROLES)
def job(campaign_id: int, job_id: uuid.UUID):
    campaign = _campaign_or_404(campaign_id)
    found = db.session.get(Job, job_id)
    if found is None or found.kind != "draw":
        abort(404)
    return render_template("draws/job.html", campaign=campaign, job=found)


@bp.route("/<int:campaign_id>/lock", methods=["POST"])
@roles_required(Role.ADMIN)
def lock_draw(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    draw = _draw_or_404(campaign)
    try:
        lock(draw)
    except DrawRefused as error:
        return _page(campaign, error=(error.message_vi, error.message_en), status=409)
    flash(t("Đã khoá mẫu.", "The sample is locked."), "info")
    return redirect(url_for("draws.draw_page", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/verify", methods=["POST"])
@roles_required(*VIEW_ROLES)
def verify_draw(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    draw = _draw_or_404(campaign)
    try:
        result = verify(draw)
    except sampling.SamplingError as error:
        return _page(campaign, error=(error.message_vi, error.message_en), status=422)
    return _page(campaign, verification=result)


# -------------------------------------------------------------------------- downloads


@bp.route("/<int:campaign_id>/manifest.json")
@roles_required(*VIEW_ROLES)
def manifest(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    draw = _draw_or_404(campaign)
    name = sample_name(campaign).removesuffix(".csv") + ".manifest.json"
    body = json.dumps(draw.manifest, ensure_ascii=False, indent=2)
    return attachment(body, "application/json", name)


@bp.route("/<int:campaign_id>/frame.csv")
@roles_required(*VIEW_ROLES)
def frame_file(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    _draw_or_404(campaign)
    return attachment(frame_snapshot(campaign.id), "text/csv", snapshot_name(campaign))


@bp.route("/<int:campaign_id>/sample.csv")
@roles_required(*VIEW_ROLES)
def sample_file(campaign_id: int):
    """The drawn rows without personal data, as ``surveyapp sample verify`` reads them."""
    campaign = _campaign_or_404(campaign_id)
    table = sample_table(_draw_or_404(campaign))
    header = [ID_COLUMN, *(c for c in table.columns if c not in (ID_COLUMN, *SAMPLE_COLUMNS)),
              *SAMPLE_COLUMNS]  # fmt: skip
    rows = table[header].astype(object).where(table[header].notna(), None)
    return csv_download(header, rows.itertuples(index=False, name=None), sample_name(campaign))


@bp.route("/<int:campaign_id>/lists.xlsx")
@roles_required(*VIEW_ROLES)
def lists_file(campaign_id: int):
    """The contractor's lists: one sheet per unit, primary then reserves (personal data)."""
    campaign = _campaign_or_404(campaign_id)
    draw = _draw_or_404(campaign)
    query = (
        sa.select(Unit.code, Unit.name, Respondent)
        .join(Unit, Unit.id == Respondent.source_unit_id)
        .where(Respondent.draw_id == draw.id)
        .order_by(Unit.code, Respondent.stratum, Respondent.selection,
                  Respondent.reserve_rank, Respondent.id)
    )  # fmt: skip
    sheets: dict[str, list] = {}
    for code, name, r in db.session.execute(query):
        sheets.setdefault(f"{code} {name}", []).append(
            [r.stratum, r.selection.value, r.reserve_rank, r.full_name, r.phone, r.email,
             r.address, r.dossier_code, r.weight]
        )  # fmt: skip
    return xlsx_response(
        [(title, LIST_HEADER, rows) for title, rows in sheets.items()],
        f"sample-lists-{ascii_name(campaign.code)}.xlsx",
    )
