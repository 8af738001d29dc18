"""Fieldwork pages.

Who sees what: supervisors (and DOHA administrators, read-only) see every case with its
contact details; an enumerator sees only the cases assigned to them (403 otherwise); a
data-entry clerk reaches a case only through the short code printed on a paper form and
never sees who it is; focal points have no fieldwork pages at all.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from questionnaires import (
    LEFT_BLANK,
    AnswerError,
    build_form_class,
    expression_data,
    irrelevant_questions,
    parse_expression,
    rule_text,
)
from surveyapp.audit import record
from surveyapp.core.codes import hash_code, is_valid_code
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.fieldwork import operations as ops
from surveyapp.fieldwork.dispositions import info
from surveyapp.fieldwork.entry_drafts import as_formdata, keep_entry, kept_entry
from surveyapp.fieldwork.forms import (
    INTERVIEW_MODES,
    AssignNextForm,
    AssignSelectedForm,
    AttemptForm,
    BackcheckForm,
    InterviewModeForm,
    PurgeForm,
    ReplaceForm,
    ShortCodeForm,
)
from surveyapp.fieldwork.purge import PurgeRefused, purge_pii
from surveyapp.i18n import current_language, format_datetime, label, t, timezone
from surveyapp.models.campaigns import Campaign, CampaignStatus, stratum_label
from surveyapp.models.respondents import (
    BackcheckDraw,
    ContactMode,
    Respondent,
    RespondentStatus,
    Selection,
)
from surveyapp.models.units import Unit
from surveyapp.models.users import Role, User
from surveyapp.responses import operations as responses
from surveyapp.responses.operations import pending_units
from surveyapp.security import can_see_respondent, current_user, roles_required
from surveyapp.throttles import Throttle

bp = Blueprint("fieldwork", __name__, url_prefix="/fieldwork", template_folder="templates")

PER_PAGE = 50  # cases per page of a unit's table (a district's sample runs to hundreds)
VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR)
PAPER_SESSION_KEY = "paper_respondent"


def paper_code_throttle() -> Throttle:
    """Wrong paper codes per clerk (a code that opens a form is not counted): clerks are
    staff, but codes must not be guessable."""
    config = current_app.config
    return Throttle("paper-code", config["PAPER_CODE_LIMIT"], config["PAPER_CODE_WINDOW"])


def local_to_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    """A time typed in local wall-clock time (see :func:`surveyapp.i18n.timezone`) as UTC."""
    return moment.replace(tzinfo=timezone()).astimezone(UTC).replace(tzinfo=None)


@bp.app_template_filter("disposition")
def disposition_label(disposition) -> str:
    if disposition is None:
        return "—"
    d = info(disposition)
    return f"{t(d.label_vi, d.label_en)} ({d.aapor_code})"


# --- helpers -----------------------------------------------------------------------------------


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


def _respondent_or_403(respondent_id: int) -> Respondent:
    respondent = db.session.get(Respondent, respondent_id) or abort(404)
    if not can_see_respondent(current_user(), respondent):
        abort(403)
    return respondent


def _enumerators() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == Role.ENUMERATOR, User.active.is_(True))
            .order_by(User.username)
        )
    )


def _enumerator_choices(with_none: bool = False) -> list[SelectChoice]:
    choices = [SelectChoice(u.id, u.full_name or u.username) for u in _enumerators()]
    if with_none:  # last, so that it is never what a hurried click submits
        choices.append(SelectChoice(0, t("— Bỏ giao (không ai làm) —", "— Unassign (nobody) —")))
    return choices


def _flash_error(error: ops.FieldworkError | Exception) -> None:
    message = t(error.message_vi, error.message_en) if hasattr(error, "message_vi") else str(error)
    flash(message, "error")


def _unit_summary(campaign_id: int) -> list[dict]:
    """Per unit: fielded cases, unassigned pending, assigned active, completed, to replace."""
    active = [s.value for s in ops.ACTIVE_STATUSES]
    replaceable = [s.value for s in ops.REPLACEABLE_STATUSES]

    def count_if(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    rows = db.session.execute(
        sa.select(
            Unit.id,
            Unit.code,
            Unit.name,
            sa.func.count(Respondent.id),
            count_if(
                sa.and_(
                    Respondent.status.in_([st.value for st in ops.UNTOUCHED_STATUSES]),
                    Respondent.assigned_enumerator_id.is_(None),
                )
            ),
            count_if(
                sa.and_(
                    Respondent.status.in_(active), Respondent.assigned_enumerator_id.is_not(None)
                )
            ),
            count_if(Respondent.status == RespondentStatus.COMPLETED),
            count_if(Respondent.status.in_(replaceable)),
        )
        .join(Unit, Unit.id == Respondent.source_unit_id)
        .where(Respondent.campaign_id == campaign_id, ops.in_sample())
        .group_by(Unit.id, Unit.code, Unit.name)
        .order_by(Unit.code)
    ).all()
    keys = ("id", "code", "name", "fielded", "unassigned", "assigned", "completed", "to_replace")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _strata(campaign_id: int) -> list[tuple[int, str]]:
    return db.session.execute(
        sa.select(Respondent.source_unit_id, Respondent.stratum)
        .where(Respondent.campaign_id == campaign_id)
        .distinct()
        .order_by(Respondent.source_unit_id, Respondent.stratum)
    ).all()


# --- supervisor: campaigns, units, assignments ---------------------------------------------------


@bp.route("/")
@roles_required(*VIEW_ROLES)
def index():
    fielded = (
        sa.select(Respondent.campaign_id, sa.func.count(Respondent.id).label("n"))
        .where(ops.in_sample())
        .group_by(Respondent.campaign_id)
        .subquery()
    )
    campaigns = db.session.execute(
        sa.select(Campaign, sa.func.coalesce(fielded.c.n, 0))
        .outerjoin(fielded, fielded.c.campaign_id == Campaign.id)
        .order_by(Campaign.code.desc())
    ).all()
    return render_template("fieldwork/index.html", campaigns=campaigns)


def _campaign_page(campaign: Campaign, form: AssignNextForm | None = None, status: int = 200):
    units = _unit_summary(campaign.id)
    form = form or AssignNextForm(prefix="next")
    form.unit_id.choices = [SelectChoice(u["id"], f"{u['code']} — {u['name']}") for u in units]
    form.enumerator_id.choices = _enumerator_choices()
    strata = _strata(campaign.id)
    all_strata = SelectChoice("", t("Mọi tầng", "All strata"))
    unit_of = {u["id"]: u for u in units}
    labels = {
        key: stratum_label(
            key,
            unit_code=unit_of[unit_id]["code"] if unit_id in unit_of else None,
            unit_name=unit_of[unit_id]["name"] if unit_id in unit_of else None,
        )
        for unit_id, key in strata
    }
    form.stratum.choices = [all_strata] + [
        SelectChoice(key, labels[key]) for key in sorted(labels, key=lambda k: labels[k])
    ]
    return (
        render_template("fieldwork/campaign.html", campaign=campaign, units=units, form=form),
        status,
    )


@bp.route("/campaigns/<int:campaign_id>")
@roles_required(*VIEW_ROLES)
def campaign(campaign_id: int):
    return _campaign_page(_campaign_or_404(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/assign-next", methods=["POST"])
@roles_required(Role.SUPERVISOR)
def assign_next(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    form = AssignNextForm(prefix="next")
    form.unit_id.choices = [SelectChoice(u["id"], u["code"]) for u in _unit_summary(campaign.id)]
    form.enumerator_id.choices = _enumerator_choices()
    if not form.validate_on_submit():
        return _campaign_page(campaign, form, 422)
    enumerator = db.session.get(User, form.enumerator_id.data)
    try:
        chosen = ops.assign_next_pending(
            campaign.id, form.unit_id.data, enumerator, form.count.data, form.stratum.data or None
        )
    except ops.FieldworkError as error:
        _flash_error(error)
        return _campaign_page(campaign, form, 409)
    name = enumerator.full_name or enumerator.username
    if chosen:
        flash(
            t(f"Đã giao {len(chosen)} người cho {name}.", f"Assigned {len(chosen)} to {name}."),
            "info",
        )
    else:
        flash(t("Không còn ai chờ giao.", "Nobody is left to assign."), "error")
    return redirect(url_for("fieldwork.campaign", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/units/<int:unit_id>")
@roles_required(*VIEW_ROLES)
def unit(campaign_id: int, unit_id: int, form: AssignSelectedForm | None = None, status=200):
    campaign = _campaign_or_404(campaign_id)
    unit_row = db.session.get(Unit, unit_id) or abort(404)
    in_unit = (
        Respondent.campaign_id == campaign.id,
        Respondent.source_unit_id == unit_row.id,
        ops.in_sample(),
    )
    strata = list(
        db.session.scalars(
            sa.select(Respondent.stratum).where(*in_unit).distinct().order_by(Respondent.stratum)
        )
    )
    shown = request.args.get("status", "")
    stratum = request.args.get("stratum", "")
    query = (
        sa.select(Respondent)
        .where(*in_unit)
        .order_by(Respondent.stratum, Respondent.selection, Respondent.reserve_rank, Respondent.id)
    )
    if shown in RespondentStatus.__members__.values():
        query = query.where(Respondent.status == shown)
    if stratum in strata:
        query = query.where(Respondent.stratum == stratum)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    if page.page > page.pages > 0:  # past the end (an old link, a filter): the last page
        page = db.paginate(query, page=page.pages, per_page=PER_PAGE, error_out=False)
    respondents = page.items
    reserves = db.session.execute(
        sa.select(Respondent.stratum, sa.func.count(Respondent.id))
        .where(
            Respondent.campaign_id == campaign.id,
            Respondent.source_unit_id == unit_row.id,
            Respondent.selection == Selection.RESERVE,
            Respondent.released.is_(False),
        )
        .group_by(Respondent.stratum)
    ).all()
    form = form or AssignSelectedForm(prefix="sel")
    form.enumerator_id.choices = _enumerator_choices(with_none=True)
    enumerators = {u.id: u.full_name or u.username for u in _enumerators()}
    return (
        render_template(
            "fieldwork/unit.html",
            campaign=campaign,
            unit=unit_row,
            respondents=respondents,
            page=page,
            strata=strata,
            stratum=stratum,
            reserves_left=dict(reserves),
            form=form,
            enumerators=enumerators,
            shown=shown,
            statuses=list(RespondentStatus),
            replaceable=ops.REPLACEABLE_STATUSES,
        ),
        status,
    )


@bp.route("/campaigns/<int:campaign_id>/units/<int:unit_id>/assign", methods=["POST"])
@roles_required(Role.SUPERVISOR)
def assign_selected(campaign_id: int, unit_id: int):
    campaign = _campaign_or_404(campaign_id)
    form = AssignSelectedForm(prefix="sel")
    form.enumerator_id.choices = _enumerator_choices(with_none=True)
    if not form.validate_on_submit():
        return unit(campaign_id, unit_id, form=form, status=422)
    respondents = list(
        db.session.scalars(
            sa.select(Respondent).where(
                Respondent.id.in_(form.respondent_ids.data),
                Respondent.campaign_id == campaign.id,
                Respondent.source_unit_id == unit_id,
            )
        )
    )
    if len(respondents) != len(set(form.respondent_ids.data)):
        abort(404)
    enumerator = db.session.get(User, form.enumerator_id.data) if form.enumerator_id.data else None
    try:
        changed = ops.assign(respondents, enumerator)
    except ops.FieldworkError as error:
        _flash_error(error)
        return unit(campaign_id, unit_id, form=form, status=409)
    flash(t(f"Đã cập nhật {changed} người.", f"Updated {changed} people."), "info")
    return redirect(url_for("fieldwork.unit", campaign_id=campaign.id, unit_id=unit_id))


@bp.route("/respondents/<int:respondent_id>/replace", methods=["POST"])
@roles_required(Role.SUPERVISOR)
def replace(respondent_id: int):
    respondent = _respondent_or_403(respondent_id)
    target = url_for(
        "fieldwork.unit", campaign_id=respondent.campaign_id, unit_id=respondent.source_unit_id
    )
    form = ReplaceForm()
    if not (form.validate_on_submit() and form.confirm_replace.data):
        # Releasing a reserve cannot be undone: first a page saying what it will do.
        return render_template(
            "fieldwork/replace.html",
            respondent=respondent,
            campaign=db.session.get(Campaign, respondent.campaign_id),
            unit=db.session.get(Unit, respondent.source_unit_id),
            reserve=ops.next_reserve(respondent),
            replaceable=respondent.status in ops.REPLACEABLE_STATUSES,
            form=form,
            back=target,
        )
    try:
        with db.session.begin_nested():
            reserve = ops.replace_with_reserve(respondent)
    except ops.FieldworkError as error:
        _flash_error(error)
        return redirect(target)
    record("fieldwork.reserve_release", reserve,
           f"replaces={respondent.id} rank={reserve.reserve_rank}")  # fmt: skip
    flash(
        t(
            f"Đã kích hoạt người dự phòng thứ {reserve.reserve_rank} của tầng «{reserve.stratum}».",
            f"Released reserve rank {reserve.reserve_rank} of stratum «{reserve.stratum}».",
        ),
        "info",
    )
    return redirect(target)


# --- enumerators -------------------------------------------------------------------------------


@bp.route("/mine")
@roles_required(Role.ENUMERATOR)
def my_assignments():
    active_first = sa.case((Respondent.status.in_(ops.ACTIVE_STATUSES), 0), else_=1)
    respondents = list(
        db.session.scalars(
            sa.select(Respondent)
            .join(Campaign, Campaign.id == Respondent.campaign_id)
            .where(Respondent.assigned_enumerator_id == current_user().id)
            .order_by(active_first, Campaign.code.desc(), Respondent.stratum, Respondent.id)
        )
    )
    units = {u.id: u for u in db.session.scalars(sa.select(Unit))}
    return render_template(
        "fieldwork/mine.html", respondents=respondents, units=units, active=ops.ACTIVE_STATUSES
    )


def _respondent_page(respondent: Respondent, form: AttemptForm | None = None, status=200):
    return (
        render_template(
            "fieldwork/respondent.html",
            respondent=respondent,
            campaign=db.session.get(Campaign, respondent.campaign_id),
            unit=db.session.get(Unit, respondent.source_unit_id),
            form=form or AttemptForm(prefix="attempt"),
            active=respondent.status in ops.ACTIVE_STATUSES,
            replaceable=respondent.status in ops.REPLACEABLE_STATUSES,
            users={u.id: u.full_name or u.username for u in db.session.scalars(sa.select(User))},
            replaced_by=db.session.get(Respondent, respondent.replaced_by_id)
            if respondent.replaced_by_id
            else None,
        ),
        status,
    )


@bp.route("/respondents/<int:respondent_id>")
@roles_required(Role.ADMIN, Role.SUPERVISOR, Role.ENUMERATOR)
def respondent(respondent_id: int):
    return _respondent_page(_respondent_or_403(respondent_id))


@bp.route("/respondents/<int:respondent_id>/attempts", methods=["POST"])
@roles_required(Role.SUPERVISOR, Role.ENUMERATOR)
def record_attempt(respondent_id: int):
    respondent = _respondent_or_403(respondent_id)
    form = AttemptForm(prefix="attempt")
    if not form.validate_on_submit():
        return _respondent_page(respondent, form, 422)
    attempted_at = local_to_utc(form.attempted_at.data)
    if attempted_at is not None and attempted_at > utcnow() + timedelta(minutes=5):
        form.attempted_at.errors.append(
            t("Thời gian liên hệ không thể ở tương lai.", "The attempt cannot be in the future.")
        )
        return _respondent_page(respondent, form, 422)
    config = current_app.config
    try:
        ops.record_attempt(
            respondent,
            mode=form.mode.data,
            disposition=form.disposition.data,
            by_user=current_user(),
            note=form.note.data,
            attempted_at=attempted_at,
            max_noncontacts=config["FIELDWORK_MAX_NONCONTACTS"],
            auto_replace=config["FIELDWORK_AUTO_REPLACE"],
        )
    except ops.FieldworkError as error:
        _flash_error(error)
        return _respondent_page(respondent, form, 409)
    flash(
        t(
            f"Đã ghi lần liên hệ. Trạng thái: {label(respondent.status)}.",
            f"Attempt recorded. Status: {label(respondent.status)}.",
        ),
        "info",
    )
    return redirect(url_for("fieldwork.respondent", respondent_id=respondent.id))


# --- questionnaire entry (interview and paper) ----------------------------------------------------


def _entry(respondent: Respondent, mode: str, template: str, done_url: str, **context):
    """Show the questionnaire for the respondent's next rated unit and record it."""

    units = responses.pending_units(respondent)
    if not units:
        flash(t("Phiếu này đã được nhập.", "This questionnaire was already entered."), "error")
        return redirect(done_url)
    rated_unit = db.session.get(Unit, units[0])
    try:
        questionnaire = responses.questionnaire_for(
            respondent.campaign_id, respondent.respondent_group
        )
    except responses.ResponseError as error:
        _flash_error(error)
        return redirect(done_url)
    context.update(rated_unit=rated_unit, respondent=respondent, remaining=len(units))
    # On paper, «left blank» is unknown: the questions whose rule reads it stay shown.
    context.update(left_blank=LEFT_BLANK.code if mode == "paper" else None)
    form_class = build_form_class(
        questionnaire, current_language(), base=FlaskForm, left_blank=mode == "paper"
    )
    kept = kept_entry(respondent, rated_unit.id, questionnaire)
    if kept is not None and request.method == "GET":
        form = form_class(formdata=as_formdata(kept))
        flash(_restored_note(kept.updated_at), "info")
    else:
        form = form_class()
    # An interview says how it was held (on the phone or face to face); a paper form is posted.
    mode_form = _interview_mode_form(respondent) if mode == "enumerator" else None
    context.update(mode_form=mode_form)
    status = 200
    if form.is_submitted():
        status = 422
        mode_valid = mode_form is None or mode_form.validate()
        if form.validate() and mode_valid:
            try:
                responses.record_response(
                    respondent=respondent,
                    unit=rated_unit,
                    answers=form.answers,
                    mode=mode,
                    questionnaire=questionnaire,
                    draft_id=kept.id if kept is not None else None,
                )
            except (responses.ResponseError, AnswerError) as error:
                # Refused: the page comes back with every value typed, and says why; what
                # was typed is also kept as a draft for when the case is opened again.
                _flash_error(error)
                _keep_typed(respondent, rated_unit, questionnaire, error)
                return _entry_page(template, form, questionnaire, 409, **context)
            if respondent.status == RespondentStatus.COMPLETED:
                ops.note_interview(
                    respondent,
                    current_user(),
                    ContactMode(mode_form.mode.data) if mode_form else ContactMode.POST,
                )
            flash(t("Đã lưu phiếu.", "Questionnaire saved."), "info")
            return redirect(request.url if len(units) > 1 else done_url)
        _keep_typed(respondent, rated_unit, questionnaire)
    return _entry_page(template, form, questionnaire, status, **context)


def _interview_mode_form(respondent: Respondent) -> InterviewModeForm:
    """The interview's mode, by default the mode of the last attempt (an enumerator who
    reached the person on the phone usually interviews them there and then)."""
    last = respondent.contact_attempts[-1] if respondent.contact_attempts else None
    default = last.mode if last is not None and last.mode in INTERVIEW_MODES else None
    return InterviewModeForm(prefix="interview", mode=(default or ContactMode.VISIT).value)


def _keep_typed(respondent, rated_unit, questionnaire, error=None) -> None:
    """A refused save: its request rolls back, what was typed is kept as a draft."""
    db.session.rollback()
    keep_entry(respondent, rated_unit.id, questionnaire, request.form)
    if error is not None and getattr(error, "reason", None) != "entry_closed":
        flash(
            t(
                "Những gì đã nhập được giữ lại làm bản nháp cho lần mở phiếu sau.",
                "What you typed is kept as a draft for when this form is opened again.",
            ),
            "info",
        )


def _restored_note(saved_at) -> str:
    return t(
        f"Đã điền lại phiếu đang nhập dở (bản nháp lúc {format_datetime(saved_at)}): "
        "kiểm tra rồi lưu phiếu.",
        f"The form is filled in from the draft kept at {format_datetime(saved_at)}: "
        "check it, then save.",
    )


def _entry_page(template: str, form, questionnaire, status: int, **context):
    """The whole questionnaire on one page, its skip logic shown: each conditional question
    says when to ask it and static/js/relevance.js hides it while it does not apply; once
    answers were sent, the questions they rule out are left out of the page (so without
    the script too). The server never stores an answer that does not apply."""
    lang = current_language()
    conditional = [q for q in questionnaire.questions() if q.relevant]
    hidden = irrelevant_questions(questionnaire, form.answers) if form.is_submitted() else ()
    page = render_template(
        template,
        form=form,
        questionnaire=questionnaire,
        rules={q.code: expression_data(parse_expression(q.relevant)) for q in conditional},
        notes={q.code: rule_text(questionnaire, q, lang) for q in conditional},
        hidden=frozenset(hidden),
        **context,
    )
    return page, status


@bp.route("/respondents/<int:respondent_id>/interview", methods=["GET", "POST"])
@roles_required(Role.ENUMERATOR)
def interview(respondent_id: int):
    respondent = _respondent_or_403(respondent_id)
    if respondent.status not in ops.ACTIVE_STATUSES:
        abort(409)
    return _entry(
        respondent,
        "enumerator",
        "fieldwork/interview.html",
        url_for("fieldwork.respondent", respondent_id=respondent.id),
    )


@bp.route("/paper", methods=["GET", "POST"])
@roles_required(Role.CLERK)
def paper_lookup():
    form = ShortCodeForm()
    if not form.validate_on_submit():
        return render_template("fieldwork/paper_lookup.html", form=form), (
            422 if form.is_submitted() else 200
        )
    key = str(current_user().id)
    throttle = paper_code_throttle()
    if throttle.blocked(key):
        form.code.errors.append(
            t("Nhập sai quá nhiều lần, hãy thử lại sau.", "Too many wrong codes, try again later.")
        )
        return render_template("fieldwork/paper_lookup.html", form=form), 429
    respondent = None
    if is_valid_code(form.code.data):
        respondent = db.session.scalar(
            sa.select(Respondent).where(Respondent.short_code_hash == hash_code(form.code.data))
        )
    if respondent is None:
        throttle.hit(key)
        form.code.errors.append(
            t(
                "Mã không đúng: kiểm tra lại 10 ký tự in trên phiếu.",
                "Unknown code: check the 10 characters printed on the form.",
            )
        )
        return render_template("fieldwork/paper_lookup.html", form=form), 422
    session[PAPER_SESSION_KEY] = respondent.id
    return redirect(url_for("fieldwork.paper_entry"))


@bp.route("/paper/form", methods=["GET", "POST"])
@roles_required(Role.CLERK)
def paper_entry():
    # The case comes from the code typed on the previous page, never from the address.
    respondent_id = session.get(PAPER_SESSION_KEY)
    respondent = db.session.get(Respondent, respondent_id) if respondent_id else None
    if respondent is None:
        return redirect(url_for("fieldwork.paper_lookup"))
    campaign = db.session.get(Campaign, respondent.campaign_id)
    result = _entry(
        respondent,
        "paper",
        "fieldwork/paper_entry.html",
        url_for("fieldwork.paper_lookup"),
        campaign=campaign,
    )

    if not pending_units(respondent):
        session.pop(PAPER_SESSION_KEY, None)  # done: the next form needs its own code
    return result


# --- back-checks ---------------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/backchecks", methods=["GET", "POST"])
@roles_required(*VIEW_ROLES)
def backchecks(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    form = BackcheckForm()
    status = 200
    if form.is_submitted():
        if current_user().role != Role.SUPERVISOR:
            abort(403)
        if form.validate():
            draw = ops.draw_backcheck(
                campaign, float(form.percent.data) / 100, form.seed.data, current_user()
            )
            flash(
                t(
                    f"Đã chọn {len(draw.respondent_ids)} phiếu để phúc tra (seed {draw.seed}).",
                    f"Selected {len(draw.respondent_ids)} interviews to call back "
                    f"(seed {draw.seed}).",
                ),
                "info",
            )
            return redirect(url_for("fieldwork.backchecks", campaign_id=campaign.id))
        status = 422
    draws = list(
        db.session.scalars(
            sa.select(BackcheckDraw)
            .where(BackcheckDraw.campaign_id == campaign.id)
            .order_by(BackcheckDraw.id.desc())
        )
    )
    latest = draws[0] if draws else None
    interviews = ops.completed_interviews_by_enumerator(campaign.id)
    interviewer = {rid: uid for uid, ids in interviews.items() for rid in ids}
    selected = []
    if latest is not None and latest.respondent_ids:
        selected = list(
            db.session.scalars(
                sa.select(Respondent)
                .where(Respondent.id.in_(latest.respondent_ids))
                .order_by(Respondent.id)
            )
        )
        selected.sort(key=lambda r: (interviewer.get(r.id, 0), r.id))
    return (
        render_template(
            "fieldwork/backchecks.html",
            campaign=campaign,
            form=form,
            draws=draws,
            latest=latest,
            selected=selected,
            interviews=interviews,
            interviewer=interviewer,
            users={u.id: u.full_name or u.username for u in db.session.scalars(sa.select(User))},
        ),
        status,
    )


# --- purge of personal data ------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/purge", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def purge(campaign_id: int):
    """The web twin of ``surveyapp campaign purge-pii`` (typing the code confirms)."""
    campaign = _campaign_or_404(campaign_id)
    form = PurgeForm()
    status = 200
    confirmed = form.validate_on_submit() and form.confirm_code.data == campaign.code
    if form.is_submitted() and not confirmed:
        status = 422
        if not form.errors:
            form.confirm_code.errors.append(
                t("Mã không khớp với mã đợt.", "This is not the campaign's code.")
            )
    if confirmed:
        try:
            counts = purge_pii(campaign)
        except PurgeRefused as error:
            _flash_error(error)
            status = 409
        else:
            record("campaign.purge_pii", campaign, f"respondents={counts.respondents}")
            flash(
                t(
                    f"Đã xoá dữ liệu cá nhân của {counts.respondents} người trả lời và "
                    f"{counts.frame_records} dòng danh sách.",
                    f"Purged the personal data of {counts.respondents} respondents and "
                    f"{counts.frame_records} list rows.",
                ),
                "info",
            )
            return redirect(url_for("fieldwork.campaign", campaign_id=campaign.id))
    return (
        render_template(
            "fieldwork/purge.html",
            campaign=campaign,
            form=form,
            closed=campaign.status == CampaignStatus.CLOSED,
        ),
        status,
    )
