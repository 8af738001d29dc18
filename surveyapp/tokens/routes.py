"""Invitation letters: choose a unit (or respondents), issue + print in a background job,
follow its progress, download the PDF, delete it.

Only DOHA administrators and contractor supervisors: letters carry names and live tokens.
"""

import io
import uuid
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice

from surveyapp import jobs
from surveyapp.audit import record
from surveyapp.core.downloads import ascii_name, csv_download
from surveyapp.extensions import db
from surveyapp.i18n import DAY_FORMAT, lt, t
from surveyapp.models.campaigns import Campaign, CampaignInstrument, CampaignStatus, group_label
from surveyapp.models.jobs import Job, JobStatus
from surveyapp.models.respondents import Respondent, RespondentStatus, Selection
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.responses.operations import instrument_for
from surveyapp.security import current_user, roles_required
from surveyapp.tokens.service import (
    LettersError,
    base_url_problem,
    delete_letters_file,
    existing_token,
    invitable,
    issue_tokens,
    render_preview,
    require_public_base_url,
    timing_warning,
)

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
    group = SelectField(lt("Nhóm đối tượng", "Respondent group"), choices=[], default="")
    new_codes = BooleanField(
        lt(
            "Tạo mã mới (thư cũ của những người này sẽ không dùng được nữa)",
            "Make new codes (these people's earlier letters stop working)",
        )
    )

    def set_groups(self, groups):
        self.group.choices = [("", t("Mọi nhóm", "Every group"))] + [
            (code, group_label(code)) for code in groups
        ]


class CampaignLettersForm(LettersForm):
    """Letters for the units ticked, or the whole campaign: a ZIP (one PDF per unit and
    one combined PDF)."""

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
        ],
        default="new",
    )


class LinksForm(FlaskForm):
    group = SelectField(lt("Nhóm đối tượng", "Respondent group"), choices=[], default="")
    issue_missing = BooleanField(
        lt(
            "Tạo mã cho người chưa có mã (không in thư)",
            "Make codes for people who have none yet (no letters printed)",
        )
    )


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _groups(campaign_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Respondent.respondent_group)
            .where(Respondent.campaign_id == campaign_id)
            .distinct()
            .order_by(Respondent.respondent_group)
        )
    )


def _warnings(campaign: Campaign) -> list[str]:
    """Why letters printed now may not work: links to 127.0.0.1, a campaign at its end."""
    found = [base_url_problem(), timing_warning(campaign)]
    return [t(*warning) for warning in found if warning]


def _refused_in_production() -> str | None:
    try:
        require_public_base_url()
    except LettersError as error:
        return t(error.message_vi, error.message_en)
    return None


def _campaign_forms(campaign: Campaign) -> tuple[CampaignLettersForm, LinksForm]:
    groups = _groups(campaign.id)
    letters = CampaignLettersForm(prefix=f"c{campaign.id}")
    links = LinksForm(prefix=f"l{campaign.id}")
    letters.set_groups(groups)
    links.group.choices = letters.group.choices
    return letters, links


@bp.route("/")
@roles_required(*STAFF)
def index():
    campaigns = db.session.scalars(
        sa.select(Campaign).where(Campaign.status != CampaignStatus.CLOSED).order_by(Campaign.code)
    ).all()
    rows, forms, warnings, previews = {}, {}, {}, {}
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
        forms[campaign.id] = _campaign_forms(campaign)
        warnings[campaign.id] = _warnings(campaign)
        previews[campaign.id] = db.session.scalars(
            sa.select(CampaignInstrument.respondent_group)
            .where(CampaignInstrument.campaign_id == campaign.id)
            .order_by(CampaignInstrument.respondent_group)
        ).all()
    recent = db.session.scalars(
        sa.select(Job).where(Job.kind == JOB_KIND).order_by(Job.created_at.desc()).limit(20)
    ).all()
    return render_template(
        "tokens/index.html",
        campaigns=campaigns,
        rows=rows,
        recent=recent,
        forms=forms,
        warnings=warnings,
        previews=previews,
    )


@bp.route("/<int:campaign_id>/letters", methods=["POST"])
@roles_required(*STAFF)
def campaign_letters(campaign_id: int):
    """Letters of the units ticked on the index (or every unit): one job, one ZIP."""
    campaign = _campaign_or_404(campaign_id)
    form, _ = _campaign_forms(campaign)
    if not form.validate():
        flash(t("Lựa chọn không hợp lệ.", "Invalid choice."), "error")
        return redirect(url_for("tokens.index"))
    refused = _refused_in_production()
    if refused:
        flash(refused, "error")
        return redirect(url_for("tokens.index"))
    unit_ids = [int(i) for i in request.form.getlist("unit") if i.isdigit()] or None
    only_new = form.scope.data == "new"
    count_query = invitable(campaign.id, None, None, only_new, group=form.group.data or None)
    if unit_ids:
        count_query = count_query.where(Respondent.source_unit_id.in_(unit_ids))
    count = db.session.scalar(
        count_query.with_only_columns(sa.func.count(Respondent.id)).order_by(None)
    )
    if not count:
        flash(t(*NOBODY), "error")
        return redirect(url_for("tokens.index"))
    for warning in _warnings(campaign):
        flash(warning, "warning")
    job = jobs.enqueue(
        JOB_KIND,
        "surveyapp.tokens.service:render_letters_job",
        campaign.id,
        None,
        None,
        only_new,
        form.lang.data,
        bool(form.new_codes.data),
        form.group.data or None,
        unit_ids,
        created_by=current_user().id,
    )
    record("letters.print", campaign, f"units={len(unit_ids) if unit_ids else 'all'} job={job.id}")
    return redirect(url_for("tokens.job", job_id=job.id))


@bp.route("/<int:campaign_id>/links.csv", methods=["POST"])
@roles_required(*STAFF)
def links_csv(campaign_id: int):
    """Each invited person's link and short code with their name and phone (CSV for SMS or
    Zalo campaigns). Only the roles that see contacts; never cached."""
    campaign = _campaign_or_404(campaign_id)
    _, form = _campaign_forms(campaign)
    if not form.validate():
        abort(400)
    refused = _refused_in_production()
    if refused:
        flash(refused, "error")
        return redirect(url_for("tokens.index"))
    group = form.group.data or None
    unit_id = request.form.get("unit", type=int)
    if form.issue_missing.data:
        issue_tokens(
            db.session.scalars(invitable(campaign.id, unit_id, None, True, group=group)).all()
        )
    respondents = db.session.scalars(invitable(campaign.id, unit_id, group=group)).all()
    units = {
        u.id: u
        for u in db.session.scalars(
            sa.select(Unit).where(Unit.id.in_({r.source_unit_id for r in respondents}))
        )
    }
    expires = campaign.token_expires_on or campaign.period_end
    rows = []
    for respondent in respondents:
        existing = existing_token(respondent)
        if existing is None:
            continue
        unit = units[respondent.source_unit_id]
        rows.append(
            [
                unit.code,
                unit.name,
                respondent.respondent_group,
                respondent.full_name or "",
                respondent.phone or "",
                existing.url,
                existing.code,
                expires.strftime(DAY_FORMAT) if expires else "",
            ]
        )
    header = ["unit_code", "unit", "group", "name", "phone", "url", "code", "expires"]
    record("download.links", campaign, f"unit={unit_id or 'all'} rows={len(rows)}")
    response = csv_download(header, rows, f"links-{ascii_name(campaign.code)}.csv")
    response.headers["Cache-Control"] = "no-store"
    return response


NOBODY = (
    "Không có ai cần thư theo lựa chọn này (ví dụ mọi người đã có thư: chọn "
    "«in lại» nếu thư bị thất lạc).",
    "Nobody needs a letter with this choice (e.g. everyone has one already: "
    "choose «re-print» if letters were lost).",
)


@bp.route("/<int:campaign_id>/units/<int:unit_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def unit_letters(campaign_id: int, unit_id: int):
    campaign = _campaign_or_404(campaign_id)
    unit = db.session.get(Unit, unit_id) or abort(404)
    respondents = db.session.scalars(invitable(campaign.id, unit.id)).all()
    form = LettersForm()
    form.set_groups(sorted({r.respondent_group for r in respondents}))
    links = LinksForm()
    links.group.choices = form.group.choices

    def page(status=200):
        keeps = {r.id: existing_token(r) is not None for r in respondents if r.token_hash}
        return render_template(
            "tokens/unit.html",
            campaign=campaign,
            unit=unit,
            respondents=respondents,
            form=form,
            links=links,
            keeps=keeps,
            warnings=_warnings(campaign),
        ), status

    if request.method == "GET":
        return page()
    if not form.validate():
        return page(422)
    refused = _refused_in_production()
    if refused:
        flash(refused, "error")
        return page(409)
    selected = None
    if form.scope.data == "selected":
        selected = [int(i) for i in request.form.getlist("respondent") if i.isdigit()]
        if not selected:
            flash(t("Chưa chọn người nào.", "Nobody was ticked."), "error")
            return page(422)
    only_new = form.scope.data == "new"
    group = form.group.data or None
    count_query = (
        invitable(campaign.id, unit.id, selected, only_new, group=group)
        .with_only_columns(sa.func.count(Respondent.id))
        .order_by(None)
    )
    if not db.session.scalar(count_query):
        flash(t(*NOBODY), "error")
        return page(422)
    for warning in _warnings(campaign):
        flash(warning, "warning")
    job = jobs.enqueue(
        JOB_KIND,
        "surveyapp.tokens.service:render_letters_job",
        campaign.id,
        unit.id,
        selected,
        only_new,
        form.lang.data,
        bool(form.new_codes.data),
        group,
        created_by=current_user().id,
    )
    record("letters.print", unit, f"campaign={campaign.id} {form.scope.data} job={job.id}")
    return redirect(url_for("tokens.job", job_id=job.id))


@bp.route("/<int:campaign_id>/preview/<group>.pdf")
@roles_required(*STAFF)
def preview(campaign_id: int, group: str):
    """The group's letter for a made-up respondent, to read before printing."""
    campaign = _campaign_or_404(campaign_id)
    lang = request.args.get("lang", "vi")
    if lang not in ("vi", "en") or instrument_for(campaign.id, group) is None:
        abort(404)
    buffer = io.BytesIO()
    render_preview(campaign, group, lang, buffer)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/pdf",
        download_name=f"xem-truoc-thu-{ascii_name(group)}-{lang}.pdf",
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


@bp.route("/jobs/<uuid:job_id>/letters.pdf", endpoint="download")
@bp.route("/jobs/<uuid:job_id>/letters.zip", endpoint="download_zip")
@roles_required(*STAFF)
def download(job_id: uuid.UUID):
    job = _letters_job(job_id)
    if job.status != JobStatus.DONE or not job.result_path or not Path(job.result_path).exists():
        abort(404)
    is_zip = job.result_path.endswith(".zip")
    record("download.letters", job)
    response = send_file(
        job.result_path,
        mimetype="application/zip" if is_zip else "application/pdf",
        as_attachment=True,
        download_name=f"thu-moi-{job.id.hex[:8]}{'.zip' if is_zip else '.pdf'}",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<uuid:job_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def delete(job_id: uuid.UUID):
    job = _letters_job(job_id)
    delete_letters_file(job.result_path)
    db.session.delete(job)
    flash(t("Đã xoá tệp thư mời.", "The letters file was deleted."), "ok")
    return redirect(url_for("tokens.index"))
