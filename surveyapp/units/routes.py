import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from surveyapp.csvsafe import csv_response
from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.models.units import Registry, Unit
from surveyapp.models.users import Role
from surveyapp.security import current_user, roles_required
from surveyapp.units import official
from surveyapp.units.forms import ImportForm, OfficialImportForm, UnitForm
from surveyapp.units.importer import COLUMNS, export_rows, import_units, sort_key, tree_order
from surveyapp.units.official_import import import_official

bp = Blueprint("units", __name__, url_prefix="/units", template_folder="templates")

VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.CLERK, Role.FOCAL_POINT)


def _children_map(units: list[Unit]) -> dict:
    ids = {u.id for u in units}
    children: dict = {}
    for unit in sorted(units, key=sort_key):
        children.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    return children


def _registry_counts() -> dict[int | None, int]:
    return dict(
        db.session.execute(
            sa.select(Unit.registry_id, sa.func.count(Unit.id)).group_by(Unit.registry_id)
        ).all()
    )


@bp.route("/")
@roles_required(*VIEW_ROLES)
def index():
    """One registry's tree at a time (the newest by default): an earlier structure and
    the current one are different lists of units."""
    user = current_user()
    query = sa.select(Unit).order_by(Unit.code)
    registries, counts, selected = [], {}, None
    if user.role == Role.FOCAL_POINT:
        query = query.where(Unit.id == user.unit_id)  # record-level scope: own unit only
    else:
        registries = list(
            db.session.scalars(sa.select(Registry).order_by(Registry.imported_at.desc()))
        )
        counts = _registry_counts()
        choice = request.args.get("registry", "")
        ids = {r.id for r in registries}
        if choice == "none" and counts.get(None):
            selected = "none"
        elif choice.isdigit() and int(choice) in ids:
            selected = int(choice)
        elif registries:
            selected = registries[0].id
        if selected == "none":
            query = query.where(Unit.registry_id.is_(None))
        elif selected is not None:
            query = query.where(Unit.registry_id == selected)
    units = list(db.session.scalars(query))
    return render_template(
        "units/index.html",
        children=_children_map(units),
        count=len(units),
        registries=registries,
        registry_counts=counts,
        selected=selected,
    )


@bp.route("/import-official", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def import_official_page():
    form = OfficialImportForm()
    form.province.choices = [SelectChoice("", t("— Chọn —", "— Choose —"))] + [
        SelectChoice(p.code, f"{p.name} ({p.code})") for p in official.provinces()
    ]
    result = None
    if form.validate_on_submit():
        upload = form.departments.data
        departments = upload.read() if upload and getattr(upload, "filename", "") else None
        result = import_official(form.province.data, departments)
        if result.ok:
            flash(
                t(
                    f"{result.registry.name}: {result.created} đơn vị cấp xã mới, "
                    f"{result.updated} cập nhật, {result.retired} không còn trong danh mục, "
                    f"{result.departments} sở, ngành thêm mới ({result.registry.edition}).",
                    f"{result.registry.name}: {result.created} new commune-level units, "
                    f"{result.updated} updated, {result.retired} no longer listed, "
                    f"{result.departments} departments added ({result.registry.edition}).",
                ),
                "info",
            )
            return redirect(url_for("units.index", registry=result.registry.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "units/import_official.html", form=form, result=result, edition=official.edition()
    ), status


def _parent_choices(exclude: Unit | None = None) -> list[SelectChoice]:
    units = tree_order(list(db.session.scalars(sa.select(Unit))))
    if exclude is not None:
        banned = _descendant_ids(exclude, units) | {exclude.id}
        units = [u for u in units if u.id not in banned]
    none = SelectChoice(0, t("— Không có (cấp cao nhất) —", "— None (top level) —"))
    return [none] + [SelectChoice(u.id, f"{u.code} — {u.name}") for u in units]


def _descendant_ids(unit: Unit, units: list[Unit]) -> set[int]:
    children = _children_map(units)
    found, stack = set(), [unit.id]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child.id)
            stack.append(child.id)
    return found


def _save_unit(form: UnitForm, unit: Unit, template: str, **context):
    form.parent_id.choices = _parent_choices(exclude=unit if unit.id else None)
    if form.validate_on_submit():
        form.populate_obj(unit)
        unit.parent_id = form.parent_id.data or None
        try:
            with db.session.begin_nested():
                db.session.add(unit)
        except IntegrityError:
            form.code.errors.append(t("Mã này đã được dùng", "This code is already used"))
        else:
            flash(t("Đã lưu đơn vị.", "Unit saved."), "info")
            return redirect(url_for("units.index"))
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, unit=unit, **context), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create():
    return _save_unit(UnitForm(), Unit(), "units/edit.html")


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(unit_id: int):
    unit = db.session.get(Unit, unit_id) or abort(404)
    form = UnitForm(obj=unit)
    if not form.is_submitted():
        form.parent_id.data = unit.parent_id or 0
    return _save_unit(form, unit, "units/edit.html")


@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def import_csv():
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        result = import_units(form.file.data.read())
        if result.ok:
            flash(
                t(
                    f"Đã nhập: {result.created} đơn vị mới, {result.updated} cập nhật.",
                    f"Imported: {result.created} new units, {result.updated} updated.",
                ),
                "info",
            )
            return redirect(url_for("units.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("units/import.html", form=form, result=result, columns=COLUMNS), status


@bp.route("/export.csv")
@roles_required(Role.ADMIN, Role.SUPERVISOR)
def export_csv():
    return csv_response(export_rows(), COLUMNS, "units.csv")
