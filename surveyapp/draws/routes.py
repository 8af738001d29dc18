import datetime as dt
import json
import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

import sampling
from sampling.commitment import (
    SEED_TAG,
    check_value_is_due,
    normalise_public_value,
    value_date,
)
from surveyapp import jobs
from surveyapp.audit import record
from surveyapp.core.downloads import ascii_name, attachment, csv_download, headers, xlsx_response
from surveyapp.db import utcnow
from surveyapp.draws.checks import ALL_STEPS
from surveyapp.draws.commitments import (
    enter_public_value,
    lists_changed_since,
    open_commitment,
    public_record,
    publish,
)
from surveyapp.draws.forms import CommitForm, DesignForm, LockForm, PublicValueForm
from surveyapp.draws.operations import (
    ID_COLUMN,
    SAMPLE_COLUMNS,
    DrawParams,
    DrawRefused,
    current_draw,
    draw_closed,
    empty_frame_error,
    frame_snapshot,
    is_stale,
    lock,
    preview,
    sample_name,
    sample_table,
    snapshot_name,
)
from surveyapp.extensions import db
from surveyapp.i18n import label, t
from surveyapp.models.campaigns import Campaign
from surveyapp.models.draws import DrawCommitment
from surveyapp.models.frames import FrameRecord, FrameUpload
from surveyapp.models.jobs import Job, JobStatus
from surveyapp.models.respondents import Respondent, Selection
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.security import current_user, public, roles_required

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


def _commitment_required() -> bool:
    return bool(current_app.config["DRAW_COMMITMENT_REQUIRED"])


def _page(
    campaign,
    form=None,
    preview_rows=None,
    error=None,
    status=200,
    commit_form=None,
    value_form=None,
    lock_form=None,
):
    draw = current_draw(campaign.id)
    if form is None:
        form = DesignForm(formdata=None)
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
    pending = open_commitment(campaign.id)
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
            commit_form=commit_form or CommitForm(formdata=None),
            value_form=value_form or PublicValueForm(formdata=None),
            lock_form=lock_form or LockForm(formdata=None),
            pending=pending,
            pending_stale=pending is not None and lists_changed_since(pending),
            pending_due=pending is not None and _due(pending),
            pending_date=value_date(pending.content) if pending is not None else None,
            commitment_required=_commitment_required(),
            closed=draw_closed(campaign),
            preview_rows=preview_rows,
            preview_warnings=[r["warning"] for r in preview_rows or () if r.get("warning")],
            error=error,
            verification=draw.verification if draw is not None else None,
            step_names=ALL_STEPS,
            records=records,
            units=units,
        ),
        status,
    )


def _due(commitment) -> bool:
    try:
        check_value_is_due(commitment.content)
    except sampling.SamplingError:
        return False
    return True


@bp.route("/<int:campaign_id>")
@roles_required(*VIEW_ROLES)
def draw_page(campaign_id: int):
    return _page(_campaign_or_404(campaign_id))


@bp.route("/<int:campaign_id>/design", methods=["POST"])
@roles_required(Role.ADMIN)
def design(campaign_id: int):
    """Preview the allocation (nothing stored), publish a commitment, or draw, by the
    button pressed."""
    campaign = _campaign_or_404(campaign_id)
    form = DesignForm()
    action = request.form.get("action")
    commit_form = CommitForm()  # kept as typed whichever button was pressed
    if not form.validate_on_submit() or (action == "commit" and not commit_form.validate()):
        return _page(campaign, form=form, commit_form=commit_form, status=422)
    params = form.params()
    try:
        if action == "draw":
            return _draw(campaign, params)
        if action == "commit":
            publish(
                campaign,
                params,
                commit_form.value_source.data,
                commit_form.value_date.data,
                current_user().id,
            )
            record("draw.commit", campaign)
            flash(
                t(
                    "Đã công bố cam kết. Chọn mẫu khi giá trị ngẫu nhiên công khai được công bố.",
                    "The commitment is published. Draw once the public random value is out.",
                ),
                "info",
            )
            return redirect(url_for("draws.draw_page", campaign_id=campaign.id))
        return _page(campaign, form=form, preview_rows=preview(campaign, params))
    except (sampling.SamplingError, DrawRefused) as error:
        return _page(
            campaign,
            form=form,
            commit_form=commit_form,
            error=(error.message_vi, error.message_en),
            status=422,
        )


def _run_job(campaign: Campaign, kind: str, func_path: str, *args):
    """Run a draw or a check as a job: on the worker when Redis is configured (the page
    shows its progress), at once otherwise (straight back to the draw page)."""
    job = jobs.enqueue(kind, func_path, *args, created_by=current_user().id)
    if job.status is JobStatus.DONE:
        return None
    if job.status is JobStatus.FAILED:
        return _page(campaign, error=(job.message, job.message), status=422)
    return redirect(url_for("draws.job", campaign_id=campaign.id, job_id=job.id))


def _drawn_message(campaign: Campaign) -> None:
    total = current_draw(campaign.id).manifest["totals"]
    flash(
        t(
            f"Đã chọn mẫu: {total['n']:,} người chính thức và {total['reserve']:,} dự phòng "
            f"trong {total['strata']:,} tầng. Kiểm tra rồi bấm «Khoá mẫu».",
            f"Sample drawn: {total['n']:,} primary and {total['reserve']:,} reserves in "
            f"{total['strata']:,} strata. Check it, then press “Lock the sample”.",
        ),
        "info",
    )


def _draw(campaign: Campaign, params: DrawParams, commitment_id: int | None = None):
    """Every draw is a job: a large one never runs inside the request."""
    closed = draw_closed(campaign)
    if closed:
        raise DrawRefused(*closed)
    if _frame_size(campaign)[0] == 0:
        raise empty_frame_error()
    args = (campaign.id, params.to_dict(), current_user().id, commitment_id)
    record("draw.run", campaign, f"commitment={commitment_id or '-'}")
    answer = _run_job(campaign, "draw", "surveyapp.draws.tasks:run_draw_job", *args)
    if answer is not None:
        return answer
    _drawn_message(campaign)
    return redirect(url_for("draws.draw_page", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/commitments/<int:commitment_id>/value", methods=["POST"])
@roles_required(Role.ADMIN)
def public_value(campaign_id: int, commitment_id: int):
    """Type the committed public value as published, then draw with the derived seed."""
    campaign = _campaign_or_404(campaign_id)
    commitment = db.session.get(DrawCommitment, commitment_id)
    if commitment is None or commitment.campaign_id != campaign.id:
        abort(404)
    value_form = PublicValueForm()
    if not value_form.validate_on_submit():
        return _page(campaign, value_form=value_form, status=422)
    try:
        if commitment.public_value is None:
            enter_public_value(commitment, value_form.value.data, current_user().id)
        elif commitment.public_value != normalise_public_value(value_form.value.data):
            raise DrawRefused(
                f"Giá trị công khai đã được nhập: «{commitment.public_value}».",
                f"The public value was already entered: «{commitment.public_value}».",
            )
        params = DrawParams.from_dict(commitment.content.get("options") or {})
        return _draw(campaign, params, commitment.id)
    except (sampling.SamplingError, DrawRefused) as error:
        return _page(
            campaign, value_form=value_form, error=(error.message_vi, error.message_en), status=422
        )


JOB_TEXTS = {
    "draw": {
        "title": ("Đang chọn mẫu", "Drawing the sample"),
        "running": ("Đang chọn mẫu…", "Drawing the sample…"),
        "done": ("Đã chọn xong mẫu.", "The sample has been drawn."),
        "failed": (
            "Không chọn được mẫu; mẫu trước (nếu có) vẫn được giữ.",
            "The draw failed; the previous sample (if any) is kept.",
        ),
    },
    "draw-check": {
        "title": ("Đang kiểm tra mẫu", "Checking the sample"),
        "running": ("Đang chạy lại và so sánh…", "Re-drawing and comparing…"),
        "done": ("Đã kiểm tra xong.", "The check is done."),
        "failed": ("Không kiểm tra được.", "The check failed."),
    },
}


@bp.route("/<int:campaign_id>/jobs/<uuid:job_id>")
@roles_required(*VIEW_ROLES)
def job(campaign_id: int, job_id: uuid.UUID):
    campaign = _campaign_or_404(campaign_id)
    found = _job_or_404(job_id)
    jobs.check(found)  # a job whose worker died is marked failed (then it can be retried)
    return render_template(
        "draws/job.html", campaign=campaign, job=found, texts=JOB_TEXTS[found.kind]
    )


def _job_or_404(job_id: uuid.UUID) -> Job:
    found = db.session.get(Job, job_id)
    if found is None or found.kind not in JOB_TEXTS:
        abort(404)
    return found


@bp.route("/<int:campaign_id>/jobs/<uuid:job_id>/retry", methods=["POST"])
@roles_required(*VIEW_ROLES)
def retry_job(campaign_id: int, job_id: uuid.UUID):
    """Run a failed draw (administrator) or check (as for the check button) again."""
    campaign = _campaign_or_404(campaign_id)
    found = _job_or_404(job_id)
    if found.kind == "draw" and current_user().role != Role.ADMIN:
        abort(403)
    if not jobs.retry(found):
        flash(t("Chỉ chạy lại được việc đã lỗi.", "Only a failed job can be run again."), "error")
    return redirect(url_for("draws.job", campaign_id=campaign.id, job_id=found.id))


@bp.route("/<int:campaign_id>/lock", methods=["POST"])
@roles_required(Role.ADMIN)
def lock_draw(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    draw = _draw_or_404(campaign)
    lock_form = LockForm()
    try:
        lock(
            draw,
            confirmed=lock_form.validate_on_submit() and bool(lock_form.confirm_lock.data),
            commitment_required=_commitment_required(),
        )
    except DrawRefused as error:
        return _page(
            campaign, lock_form=lock_form, error=(error.message_vi, error.message_en), status=409
        )
    record("draw.lock", draw)
    flash(t("Đã khoá mẫu.", "The sample is locked."), "info")
    return redirect(url_for("draws.draw_page", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/verify", methods=["POST"])
@roles_required(*VIEW_ROLES)
def verify_draw(campaign_id: int):
    """Re-draw and compare everything (a job: large draws take seconds); the result is
    stored and shown on this page and the public page."""
    campaign = _campaign_or_404(campaign_id)
    draw = _draw_or_404(campaign)
    answer = _run_job(campaign, "draw-check", "surveyapp.draws.tasks:run_check_job", draw.id)
    if answer is not None:
        return answer
    return redirect(url_for("draws.draw_page", campaign_id=campaign.id, _anchor="check"))


# ------------------------------------------------------------------------ public page


def _campaign_by_code(code: str) -> Campaign:
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == code)) or abort(404)


@bp.route("/public/<code>")
@public
def public_page(code: str):
    """The campaign's commitments and draw chain, for anyone (no login, no personal data)."""
    campaign = _campaign_by_code(code)
    return render_template(
        "draws/public.html",
        campaign=campaign,
        record=public_record(campaign),
        step_names=ALL_STEPS,
        seed_tag=SEED_TAG,
    )


@bp.route("/public/<code>/check", methods=["POST"])
@public
def public_check(code: str):
    """Anyone may ask for a fresh full check; at most one per PUBLIC_CHECK_MINUTES per
    campaign runs (a check re-draws the sample), otherwise the last one stands."""
    campaign = _campaign_by_code(code)
    draw = _draw_or_404(campaign)
    interval = dt.timedelta(minutes=current_app.config["PUBLIC_CHECK_MINUTES"])
    if draw.verified_at is None or utcnow() - draw.verified_at >= interval:
        job = jobs.enqueue("draw-check", "surveyapp.draws.tasks:run_check_job", draw.id)
        if job.status is jobs.JobStatus.QUEUED:
            flash(t("Đang kiểm tra lại; tải lại trang sau ít phút.",
                    "Checking again; reload this page in a few minutes."), "info")  # fmt: skip
    else:
        flash(
            t(
                "Kết quả dưới đây là lần kiểm tra gần nhất (mỗi lần cách nhau ít nhất "
                f"{interval.seconds // 60} phút).",
                "The result below is the latest check (checks run at most every "
                f"{interval.seconds // 60} minutes).",
            ),
            "info",
        )
    return redirect(url_for("draws.public_page", code=campaign.code, _anchor="chain"))


@bp.route("/public/<code>/commitment-<int:commitment_id>.json")
@public
def public_commitment(code: str, commitment_id: int):
    campaign = _campaign_by_code(code)
    commitment = db.session.get(DrawCommitment, commitment_id)
    if commitment is None or commitment.campaign_id != campaign.id:
        abort(404)
    body = json.dumps(commitment.content, ensure_ascii=False, indent=2)
    return attachment(
        body, "application/json", f"commitment-{ascii_name(code)}-{commitment.id}.json"
    )


@bp.route("/public/<code>/manifest.json")
@public
def public_manifest(code: str):
    """The draw's manifest: seeds, hashes, design, allocation counts (no personal data)."""
    campaign = _campaign_by_code(code)
    draw = _draw_or_404(campaign)
    body = json.dumps(draw.manifest, ensure_ascii=False, indent=2)
    return attachment(
        body, "application/json", sample_name(campaign).removesuffix(".csv") + ".manifest.json"
    )


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
@roles_required(Role.ADMIN)
def frame_file(campaign_id: int):
    """The whole frame (every listed person's name): the Department's, never the
    contractor's, whose roles download only the sample."""
    campaign = _campaign_or_404(campaign_id)
    _draw_or_404(campaign)
    record("download.frame", campaign)
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
            [r.stratum, label(r.selection), r.reserve_rank, r.full_name, r.phone, r.email,
             r.address, r.dossier_code, r.weight]
        )  # fmt: skip
    record("download.sample_lists", campaign)
    # People read these lists: headers and primary/reserve in the visitor's language.
    return xlsx_response(
        [(title, headers(LIST_HEADER), rows) for title, rows in sheets.items()],
        f"sample-lists-{ascii_name(campaign.code)}.xlsx",
    )
