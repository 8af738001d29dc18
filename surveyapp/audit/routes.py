"""The administrator's view of the audit log: filters, pages, CSV export."""

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from wtforms.fields.choices import SelectChoice

from surveyapp.audit import action_label, record
from surveyapp.audit.forms import AuditFilterForm
from surveyapp.csvsafe import csv_response
from surveyapp.extensions import db
from surveyapp.i18n import t, timezone
from surveyapp.models.audit import AuditEvent
from surveyapp.models.users import Role
from surveyapp.security import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")

PER_PAGE = 100
EXPORT_HEADER = (
    "thoi_gian",
    "kenh",
    "nguoi_thuc_hien",
    "hanh_dong",
    "loai_doi_tuong",
    "ma_doi_tuong",
    "chi_tiet",
)


def _utc(day, end: bool = False) -> datetime:
    """The UTC instant of local midnight starting ``day`` (or the next day, for an end)."""
    local = datetime.combine(day + timedelta(days=1) if end else day, time(), timezone())
    return local.astimezone(UTC).replace(tzinfo=None)


def _local_iso(moment: datetime) -> str:
    """Local time to the second with its offset, e.g. 2026-12-08T11:05:03+07:00."""
    return moment.replace(tzinfo=UTC).astimezone(timezone()).isoformat(timespec="seconds")


def _filtered(form: AuditFilterForm):
    actions = db.session.scalars(sa.select(AuditEvent.action).distinct().order_by("action"))
    form.action.choices = [SelectChoice("", t("Mọi hành động", "Every action"))] + [
        SelectChoice(a, t(*action_label(a))) for a in actions
    ]
    query = sa.select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if not form.validate():
        return query.where(sa.false())
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.actor.data:
        query = query.where(sa.func.lower(AuditEvent.actor) == form.actor.data.strip().lower())
    if form.target.data:
        kind, _, ident = form.target.data.strip().partition(":")
        query = query.where(AuditEvent.target_type == kind)
        if ident:
            query = query.where(AuditEvent.target_id == ident)
    if form.date_from.data:
        query = query.where(AuditEvent.occurred_at >= _utc(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditEvent.occurred_at < _utc(form.date_to.data, end=True))
    return query


@bp.route("/")
@roles_required(Role.ADMIN)
def index():
    form = AuditFilterForm(request.args)
    page = db.paginate(_filtered(form), per_page=PER_PAGE, error_out=False)
    return render_template("audit/index.html", form=form, page=page, action_label=action_label)


@bp.route("/export.csv")
@roles_required(Role.ADMIN)
def export():
    form = AuditFilterForm(request.args)
    events = db.session.scalars(_filtered(form))
    rows = [
        (
            _local_iso(e.occurred_at),
            e.channel,
            e.actor,
            e.action,
            e.target_type,
            e.target_id,
            e.detail,
        )
        for e in events
    ]
    record("audit.export", None, f"{len(rows)} rows")
    response = csv_response(rows, EXPORT_HEADER, "nhat-ky-kiem-toan.csv")
    response.headers["Cache-Control"] = "no-store"
    return response
