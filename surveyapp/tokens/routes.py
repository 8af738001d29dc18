"""Invitation letters: choose a unit (or respondents), issue + print in a background job,
follow its progress, download the PDF, delete it.

Only DOHA administrators and contractor supervisors: letters carry names and live tokens.
"""

import uuid
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from surveyapp import jobs
from surveyapp.extensions import db
from surveyapp.i18n import lt, t
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.models.jobs import Job, JobStatus
from surveyapp.models.respondents import Respondent, RespondentStatus, Selection
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.security import current_user, roles_required
from surveyapp.tokens.service import delete_letters_file, invitable

bp = Blueprint("tokens", __name__, url_prefix="/tokens", template_folder="templates")

STAFF = (Role.ADMIN, Role.SUPERVISOR)
JOB_KIND = "letters"


class LettersForm(FlaskForm):
    scope = RadioField(
        lt("In thư cho", "Print letters for"),
        choices=[
            SelectChoice("new", lt("Người chưa có thư", "People without a letter yet")),
            SelectChoice(
                "all",
                lt(
                    "Tất cả người chưa trả lời (in lại)", "Everyone who has not answered (re-print)"
                ),
            ),
            SelectChoice(
                "selected", lt("Những người được chọn bên dưới", "The people ticked below")
            ),
        ],
        default="new",
    )
    lang = RadioField(
        lt("Ngôn ngữ của thư", "Letter language"),
        choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")],
        default="vi",
    )


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.route("/")
@roles_required(*STAFF)
def index():
    campaigns = db.session.scalars(
        sa.select(Campaign).where(Campaign.status != CampaignStatus.CLOSED).order_by(Campaign.code)
    ).all()
    rows = {}
    for campaign in campaigns:
        rows[campaign.id] = db.session.execute(
            sa.select(
                Unit,
                sa.func.count(Respondent.id),
                sa.func.count(Respondent.token_hash),
                sa.func.count(Respondent.id).filter(
                    Respondent.status == RespondentStatus.COMPLETED
                ),
            )
            .join(Respondent, Respondent.source_unit_id == Unit.id)
            .where(
                Respondent.campaign_id == campaign.id,
                sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True)),
            )
            .group_by(Unit.id)
            .order_by(Unit.code)
        ).all()
    recent = db.session.scalars(
        sa.select(Job).where(Job.kind == JOB_KIND).order_by(Job.created_at.desc()).limit(20)
    ).all()
    return render_template("tokens/index.html", campaigns=campaigns, rows=rows, recent=recent)


@bp.route("/<int:campaign_id>/units/<int:unit_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def unit_letters(campaign_id: int, unit_id: int):
    campaign = _campaign_or_404(campaign_id)
    unit = db.session.get(Unit, unit_id) or abort(404)
    respondents = db.session.scalars(invitable(campaign.id, unit.id)).all()
    form = LettersForm()
    if request.method == "POST":
        if not form.validate():
            return render_template(
                "tokens/unit.html", campaign=campaign, unit=unit, respondents=respondents, form=form
            ), 422
        selected = None
        if form.scope.data == "selected":
            selected = [int(i) for i in request.form.getlist("respondent") if i.isdigit()]
            if not selected:
                flash(t("Chưa chọn người nào.", "Nobody was ticked."), "error")
                return render_template(
                    "tokens/unit.html",
                    campaign=campaign,
                    unit=unit,
                    respondents=respondents,
                    form=form,
                ), 422
        only_new = form.scope.data == "new"
        count_query = (
            invitable(campaign.id, unit.id, selected, only_new)
            .with_only_columns(sa.func.count(Respondent.id))
            .order_by(None)
        )
        if not db.session.scalar(count_query):
            flash(
                t(
                    "Không có ai cần thư theo lựa chọn này (ví dụ mọi người đã có thư: chọn "
                    "«in lại» nếu thư bị thất lạc).",
                    "Nobody needs a letter with this choice (e.g. everyone has one already: "
                    "choose «re-print» if letters were lost).",
                ),
                "error",
            )
            return render_template(
                "tokens/unit.html", campaign=campaign, unit=unit, respondents=respondents, form=form
            ), 422
        job = jobs.enqueue(
            JOB_KIND,
            "surveyapp.tokens.service:render_letters_job",
            campaign.id,
            unit.id,
            selected,
            only_new,
            form.lang.data,
            created_by=current_user().id,
        )
        return redirect(url_for("tokens.job", job_id=job.id))
    return render_template(
        "tokens/unit.html", campaign=campaign, unit=unit, respondents=respondents, form=form
    )


def _letters_job(job_id: uuid.UUID) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND:
        abort(404)
    return job


@bp.route("/jobs/<uuid:job_id>")
@roles_required(*STAFF)
def job(job_id: uuid.UUID):
    job = jobs.check(_letters_job(job_id))  # a job whose worker died is marked failed
    running = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    return render_template("tokens/job.html", job=job, running=running)


@bp.route("/jobs/<uuid:job_id>/retry", methods=["POST"])
@roles_required(*STAFF)
def retry(job_id: uuid.UUID):
    if not jobs.retry(_letters_job(job_id)):
        flash(t("Chỉ chạy lại được việc đã lỗi.", "Only a failed job can be run again."), "error")
    return redirect(url_for("tokens.job", job_id=job_id))


@bp.route("/jobs/<uuid:job_id>/letters.pdf")
@roles_required(*STAFF)
def download(job_id: uuid.UUID):
    job = _letters_job(job_id)
    if job.status != JobStatus.DONE or not job.result_path or not Path(job.result_path).exists():
        abort(404)
    return send_file(
        job.result_path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"thu-moi-{job.id.hex[:8]}.pdf",
    )


@bp.route("/jobs/<uuid:job_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def delete(job_id: uuid.UUID):
    job = _letters_job(job_id)
    delete_letters_file(job.result_path)
    db.session.delete(job)
    flash(t("Đã xoá tệp thư mời.", "The letters file was deleted."), "ok")
    return redirect(url_for("tokens.index"))
