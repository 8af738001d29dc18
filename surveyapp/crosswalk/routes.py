"""Crosswalk pages: versions per pair of registries, a version's rows, propose, import,
export, confirm. The Department (admin) edits; supervisors may look and export."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from wtforms.fields.choices import SelectChoice

from surveyapp.crosswalk import operations as ops
from surveyapp.crosswalk.forms import ImportForm, PairForm
from surveyapp.crosswalk.logic import COLUMNS
from surveyapp.csvsafe import csv_response
from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.models.crosswalk import Crosswalk
from surveyapp.models.units import Registry
from surveyapp.models.users import Role
from surveyapp.security import current_user, roles_required

bp = Blueprint("crosswalk", __name__, url_prefix="/crosswalks", template_folder="templates")


def _registry_choices() -> list[SelectChoice]:
    registries = db.session.scalars(sa.select(Registry).order_by(Registry.imported_at))
    return [SelectChoice(0, "—")] + [SelectChoice(r.id, f"{r.name} ({r.code})") for r in registries]


def _forms():
    propose_form, import_form = PairForm(prefix="propose"), ImportForm(prefix="import")
    for form in (propose_form, import_form):
        form.old.choices = form.new.choices = _registry_choices()
    return propose_form, import_form


def _pair(form) -> tuple[Registry, Registry]:
    return db.session.get(Registry, form.old.data), db.session.get(Registry, form.new.data)


def _index(propose_form=None, import_form=None, errors=(), status=200):
    forms = _forms()
    crosswalks = db.session.scalars(
        sa.select(Crosswalk).order_by(
            Crosswalk.from_registry_id, Crosswalk.to_registry_id, Crosswalk.version.desc()
        )
    ).all()
    return render_template(
        "crosswalk/index.html",
        crosswalks=crosswalks,
        propose_form=propose_form or forms[0],
        import_form=import_form or forms[1],
        errors=errors,
    ), status


@bp.route("/")
@roles_required(Role.ADMIN, Role.SUPERVISOR)
def index():
    return _index()


@bp.route("/propose", methods=["POST"])
@roles_required(Role.ADMIN)
def propose():
    form, _ = _forms()
    if not form.validate_on_submit():
        return _index(propose_form=form, status=422)
    old, new = _pair(form)
    try:
        outcome = ops.propose(old, new, current_user().id)
    except ops.CrosswalkError as exc:
        form.old.errors.append(t(exc.message_vi, exc.message_en))
        return _index(propose_form=form, status=422)
    flash(
        t(
            f"Đã đề xuất phiên bản {outcome.crosswalk.version}; {len(outcome.unmapped)} đơn vị "
            "cũ cần Sở quyết định.",
            f"Version {outcome.crosswalk.version} proposed; {len(outcome.unmapped)} old units "
            "need the Department's decision.",
        ),
        "info",
    )
    return redirect(url_for("crosswalk.detail", crosswalk_id=outcome.crosswalk.id))


@bp.route("/import", methods=["POST"])
@roles_required(Role.ADMIN)
def import_csv():
    _, form = _forms()
    if not form.validate_on_submit():
        return _index(import_form=form, status=422)
    old, new = _pair(form)
    try:
        outcome = ops.import_csv(
            old, new, form.file.data.read(), current_user().id, form.file.data.filename or ""
        )
    except ops.CrosswalkError as exc:
        form.old.errors.append(t(exc.message_vi, exc.message_en))
        return _index(import_form=form, status=422)
    if not outcome.ok:
        return _index(import_form=form, errors=outcome.errors, status=422)
    flash(t(f"Đã nhập phiên bản {outcome.crosswalk.version}.",
            f"Imported as version {outcome.crosswalk.version}."), "info")  # fmt: skip
    return redirect(url_for("crosswalk.detail", crosswalk_id=outcome.crosswalk.id))


def _crosswalk_or_404(crosswalk_id: int) -> Crosswalk:
    return db.session.get(Crosswalk, crosswalk_id) or abort(404)


@bp.route("/<int:crosswalk_id>")
@roles_required(Role.ADMIN, Role.SUPERVISOR)
def detail(crosswalk_id: int, missing=None, status=200):
    crosswalk = _crosswalk_or_404(crosswalk_id)
    rows = ops.export_rows(crosswalk)
    successors_of: dict[str, int] = {}
    predecessors_of: dict[str, int] = {}
    for row in rows:
        successors_of[row[0]] = successors_of.get(row[0], 0) + (1 if row[2] else 0)
        if row[2]:
            predecessors_of[row[2]] = predecessors_of.get(row[2], 0) + 1
    return render_template(
        "crosswalk/detail.html",
        crosswalk=crosswalk,
        rows=rows,
        successors_of=successors_of,
        predecessors_of=predecessors_of,
        unmapped=ops.unmapped_units(crosswalk),
        missing=missing,
    ), status


@bp.route("/<int:crosswalk_id>/confirm", methods=["POST"])
@roles_required(Role.ADMIN)
def confirm(crosswalk_id: int):
    crosswalk = _crosswalk_or_404(crosswalk_id)
    missing = ops.confirm(crosswalk, current_user().id)
    if missing:
        return detail(crosswalk_id, missing=missing, status=422)
    flash(t(f"Đã xác nhận phiên bản {crosswalk.version}.",
            f"Version {crosswalk.version} confirmed."), "info")  # fmt: skip
    return redirect(url_for("crosswalk.detail", crosswalk_id=crosswalk.id))


@bp.route("/<int:crosswalk_id>.csv")
@roles_required(Role.ADMIN, Role.SUPERVISOR)
def export_csv(crosswalk_id: int):
    crosswalk = _crosswalk_or_404(crosswalk_id)
    name = (
        f"crosswalk-{crosswalk.from_registry.code}-{crosswalk.to_registry.code}"
        f"-v{crosswalk.version}.csv"
    )
    return csv_response(ops.export_rows(crosswalk), COLUMNS, name)
