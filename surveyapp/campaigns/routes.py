import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

import questionnaires
from surveyapp.audit import record
from surveyapp.campaigns.forms import (
    CampaignForm,
    EntryForm,
    InstrumentForm,
    RatingTargetForm,
    StatusForm,
)
from surveyapp.campaigns.lifecycle import (
    TransitionError,
    can_start_fieldwork,
    end_data_entry,
    end_data_entry_if_due,
    entry_state,
    start_warnings,
    transition,
)
from surveyapp.extensions import db
from surveyapp.i18n import current_language, format_date, label, t
from surveyapp.models.campaigns import (
    Campaign,
    CampaignInstrument,
    CampaignStatus,
    RatingTarget,
    group_label,
    stratum_label,
)
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.responses.ballots import waiting
from surveyapp.security import roles_required
from surveyapp.units.scope import campaign_units, registries_newest_first

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", template_folder="templates")

VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR)
bp.add_app_template_filter(group_label, "group")
bp.add_app_template_filter(stratum_label, "stratum")


def questionnaire_choices() -> list[SelectChoice]:
    """Built-in questionnaires as (``id@version``, label) choices."""

    try:
        found = questionnaires.list_builtin()
    except questionnaires.QuestionnaireError:
        return []
    lang = current_language()
    return [
        SelectChoice(f"{q.id}@{q.version}", f"{q.title.get(lang)} ({q.id} v{q.version})")
        for q in found
    ]


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


def _require_draft(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        abort(409)


@bp.route("/")
@roles_required(*VIEW_ROLES)
def index():
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.code.desc())).all()
    return render_template("campaigns/index.html", campaigns=campaigns)


def _previous_choices(campaign: Campaign) -> list[SelectChoice]:
    others = db.session.scalars(
        sa.select(Campaign).where(Campaign.id != (campaign.id or 0)).order_by(Campaign.code)
    )
    none = SelectChoice(0, t("— Không —", "— None —"))
    return [none] + [SelectChoice(c.id, f"{c.code} — {c.name}") for c in others]


def _registry_choices() -> list[SelectChoice]:
    registries = [SelectChoice(r.id, f"{r.name} ({r.code})") for r in registries_newest_first()]
    every = SelectChoice(
        0, t("— Mọi đơn vị (không theo danh mục) —", "— Every unit (no registry) —")
    )
    return registries + [every]


def _save_campaign(form: CampaignForm, campaign: Campaign):
    form.previous_campaign_id.choices = _previous_choices(campaign)
    if not form.is_submitted() or form.previous_campaign_id.data is None:
        form.previous_campaign_id.data = campaign.previous_campaign_id or 0
    # The units a campaign lists and counts are its registry's; a new one takes the newest.
    form.registry_id.choices = _registry_choices()
    if not form.is_submitted() or form.registry_id.data is None:
        newest = form.registry_id.choices[0].value if campaign.id is None else 0
        form.registry_id.data = campaign.registry_id or newest
    if form.validate_on_submit():
        code_changed = campaign.code != form.code.data
        creating = campaign.id is None
        if campaign.id and code_changed and campaign.status != CampaignStatus.DRAFT:
            form.code.errors.append(
                t("Chỉ đổi mã khi đợt còn là bản nháp", "The code can change only in draft")
            )
        else:
            form.populate_obj(campaign)
            campaign.previous_campaign_id = form.previous_campaign_id.data or None
            campaign.registry_id = form.registry_id.data or None
            try:
                with db.session.begin_nested():
                    db.session.add(campaign)
            except IntegrityError:
                form.code.errors.append(t("Mã này đã được dùng", "This code is already used"))
            else:
                record("campaign.create" if creating else "campaign.update", campaign,
                       f"status={campaign.status.value}")  # fmt: skip
                flash(t("Đã lưu đợt khảo sát.", "Campaign saved."), "info")
                return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    status = 422 if form.is_submitted() else 200
    return render_template("campaigns/edit.html", form=form, campaign=campaign), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create():
    return _save_campaign(CampaignForm(), Campaign(status=CampaignStatus.DRAFT))


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if campaign.status == CampaignStatus.CLOSED:
        abort(409)
    return _save_campaign(CampaignForm(obj=campaign), campaign)


def _unit_choices(campaign: Campaign) -> list[SelectChoice]:
    units = campaign_units(campaign)
    return [SelectChoice(u.id, f"{u.code} — {u.name}") for u in units]


def _detail_page(
    campaign,
    instrument_form=None,
    target_form=None,
    problems=None,
    status=200,
    problems_title=None,
    status_form=None,
    entry_form=None,
):
    instrument_form = instrument_form or InstrumentForm(prefix="instrument")
    instrument_form.questionnaire.choices = questionnaire_choices()
    target_form = target_form or RatingTargetForm(prefix="target")
    target_form.source_unit_id.choices = target_form.rated_unit_id.choices = _unit_choices(campaign)
    targets = db.session.execute(
        sa.select(RatingTarget, Unit.code, Unit.name)
        .join(Unit, Unit.id == RatingTarget.rated_unit_id)
        .where(RatingTarget.campaign_id == campaign.id)
        .order_by(RatingTarget.respondent_group, RatingTarget.source_unit_id)
    ).all()
    unit_names = {u.id: f"{u.code} — {u.name}" for u in db.session.scalars(sa.select(Unit))}
    return (
        render_template(
            "campaigns/detail.html",
            campaign=campaign,
            instrument_form=instrument_form,
            target_form=target_form,
            status_form=status_form or StatusForm(entry_deadline=campaign.entry_deadline),
            targets=targets,
            unit_names=unit_names,
            problems=problems if problems is not None else can_start_fieldwork(campaign),
            problems_title=problems_title,
            warnings=start_warnings(campaign) if campaign.status == CampaignStatus.DRAFT else [],
            entry=entry_state(campaign),
            entry_form=entry_form or EntryForm(entry_deadline=campaign.entry_deadline),
            waiting=waiting(campaign.id) if campaign.status == CampaignStatus.CLOSED else 0,
            editable=campaign.status == CampaignStatus.DRAFT,
        ),
        status,
    )


@bp.route("/<int:campaign_id>")
@roles_required(*VIEW_ROLES)
def detail(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    # Data entry ends by itself once its deadline has passed: the first visit after it
    # lets the late answers out of the ballot box.
    end_data_entry_if_due(campaign)
    problems = can_start_fieldwork(campaign) if campaign.status == CampaignStatus.DRAFT else []
    return _detail_page(campaign, problems=problems)


@bp.route("/<int:campaign_id>/instruments", methods=["POST"])
@roles_required(Role.ADMIN)
def set_instrument(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    _require_draft(campaign)
    form = InstrumentForm(prefix="instrument")
    form.questionnaire.choices = questionnaire_choices()
    if not form.validate_on_submit():
        return _detail_page(campaign, instrument_form=form, status=422)
    questionnaire_id, _, version = form.questionnaire.data.rpartition("@")
    existing = {i.respondent_group: i for i in campaign.instruments}
    instrument = existing.get(form.respondent_group.data)
    if instrument is None:
        instrument = CampaignInstrument(respondent_group=form.respondent_group.data)
        campaign.instruments.append(instrument)
    instrument.questionnaire_id, instrument.questionnaire_version = questionnaire_id, version
    record("campaign.instrument", campaign,
           f"group={instrument.respondent_group} {questionnaire_id}@{version}")  # fmt: skip
    flash(t("Đã lưu bảng hỏi cho nhóm.", "Questionnaire saved for the group."), "info")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/instruments/<int:instrument_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
def delete_instrument(campaign_id: int, instrument_id: int):
    return _delete_draft_row(
        campaign_id, CampaignInstrument, instrument_id, "campaign.instrument_delete"
    )


@bp.route("/<int:campaign_id>/instruments/<int:instrument_id>/questionnaire.pdf")
@roles_required(*VIEW_ROLES)
def questionnaire_pdf(campaign_id: int, instrument_id: int):
    """The printable questionnaire (A4 PDF) a group answers, in the page's language, not
    personalised (no QR code, no access code): for printing blank copies and checking."""
    campaign = _campaign_or_404(campaign_id)
    instrument = db.session.get(CampaignInstrument, instrument_id)
    if instrument is None or instrument.campaign_id != campaign.id:
        abort(404)
    lang = current_language()
    try:
        questionnaire = questionnaires.load_builtin(
            instrument.questionnaire_id, instrument.questionnaire_version
        )
        pdf = io.BytesIO()
        questionnaires.render_questionnaire_pdf(questionnaire, pdf, lang=lang)
    except questionnaires.QuestionnaireError as error:
        flash(str(error), "error")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    pdf.seek(0)
    name = f"{campaign.code}-{instrument.respondent_group}-{questionnaire.id}-{questionnaire.version}-{lang}.pdf"
    return send_file(
        pdf, mimetype="application/pdf", as_attachment=True, download_name=name.replace("/", "-")
    )


def _delete_draft_row(campaign_id: int, model, row_id: int, action: str):
    """Delete one of a draft campaign's own rows (instrument, rating target); else 404/409."""
    campaign = _campaign_or_404(campaign_id)
    _require_draft(campaign)
    row = db.session.get(model, row_id)
    if row is None or row.campaign_id != campaign.id:
        abort(404)
    db.session.delete(row)
    record(action, campaign, f"id={row.id}")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/targets", methods=["POST"])
@roles_required(Role.ADMIN)
def add_target(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    _require_draft(campaign)
    form = RatingTargetForm(prefix="target")
    form.source_unit_id.choices = form.rated_unit_id.choices = _unit_choices(campaign)
    if not form.validate_on_submit():
        return _detail_page(campaign, target_form=form, status=422)
    target = RatingTarget(campaign_id=campaign.id)
    form.populate_obj(target)
    try:
        with db.session.begin_nested():
            db.session.add(target)
    except IntegrityError:
        form.rated_unit_id.errors.append(t("Đã có dòng này", "This row already exists"))
        return _detail_page(campaign, target_form=form, status=422)
    record("campaign.rating_target", campaign,
           f"group={target.respondent_group} source={target.source_unit_id} "
           f"rated={target.rated_unit_id}")  # fmt: skip
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/targets/<int:target_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
def delete_target(campaign_id: int, target_id: int):
    return _delete_draft_row(campaign_id, RatingTarget, target_id, "campaign.rating_target_delete")


NOT_CLOSED = ("Đợt khảo sát chưa được kết thúc:", "The campaign was not closed:")
CLOSE_NOT_CONFIRMED = (
    "Hãy đánh dấu ô xác nhận: kết thúc đợt khảo sát sẽ dừng nhận phiếu và không thể mở lại.",
    "Tick the confirmation box: closing the campaign stops all answers and cannot be undone.",
)


@bp.route("/<int:campaign_id>/status", methods=["POST"])
@roles_required(Role.ADMIN)
def change_status(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    form = StatusForm()
    if not form.validate_on_submit():
        if not form.entry_deadline.errors:
            abort(400)
        problems = [(str(e), str(e)) for e in form.entry_deadline.errors]
        return _detail_page(
            campaign, problems=problems, status=422, problems_title=NOT_CLOSED, status_form=form
        )
    if form.status.data == CampaignStatus.CLOSED.value and not form.confirm_close.data:
        return _detail_page(
            campaign, problems=[CLOSE_NOT_CONFIRMED], status=422, problems_title=NOT_CLOSED
        )
    if form.status.data == CampaignStatus.CLOSED.value and form.entry_deadline.data:
        campaign.entry_deadline = form.entry_deadline.data
    warnings = start_warnings(campaign) if form.status.data == "fieldwork" else []
    try:
        transition(campaign, CampaignStatus(form.status.data))
    except TransitionError as exc:
        return _detail_page(campaign, problems=exc.problems, status=409)
    record("campaign.status", campaign, f"{campaign.status.value} entry={campaign.entry_deadline}")
    for vi, en in warnings:
        flash(t(vi, en), "warning")
    flash(
        t(
            f"Đợt khảo sát chuyển sang: {label(campaign.status)}",
            f"Campaign is now: {label(campaign.status)}",
        ),
        "info",
    )
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/entry", methods=["POST"])
@roles_required(Role.ADMIN)
def data_entry(campaign_id: int):
    """After closing: move the data-entry deadline (reopening data entry that ended, so that
    a form refused after the end can still be entered), or end data entry now."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.status != CampaignStatus.CLOSED:
        abort(409)
    form = EntryForm()
    if not form.validate_on_submit():
        return _detail_page(campaign, entry_form=form, status=422)
    if form.action.data == "end":
        opened = end_data_entry(campaign)
        record("campaign.end_entry", campaign, f"answers={opened}")
        flash(
            t(
                f"Đã kết thúc nhập phiếu; {opened} phiếu nhập sau khi kết thúc đợt đã vào kết quả.",
                f"Data entry ended; {opened} answers entered after closing joined the results.",
            ),
            "info",
        )
    elif form.entry_deadline.data is None:
        form.entry_deadline.errors.append(
            t("Nhập hạn nhập phiếu (dd/mm/yyyy)", "Enter the data-entry deadline (dd/mm/yyyy)")
        )
        return _detail_page(campaign, entry_form=form, status=422)
    else:
        # Also reopens data entry that had ended: its answers wait in the box until the end.
        campaign.entry_deadline = form.entry_deadline.data
        campaign.entry_closed_at = None
        record("campaign.entry_deadline", campaign, str(campaign.entry_deadline))
        flash(
            t(
                f"Nhận nhập phiếu đến hết ngày {format_date(campaign.entry_deadline)}.",
                f"Data entry is open until {format_date(campaign.entry_deadline)}.",
            ),
            "info",
        )
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
