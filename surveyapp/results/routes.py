"""Results pages: run the scoring (admin), follow a run, see the ranking, download outputs.

Access: the Department (admin) runs and downloads everything; the contractor's supervisor
sees the runs and downloads the anonymised microdata and codebook only (runs.py).
"""

import contextlib
import io
import re
import tempfile
import uuid
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import yaml
from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from wtforms.fields.choices import SelectChoice

from scoring_bridge import (
    MappingError,
    ScoringError,
    builtin_mappings,
    load_mapping,
    spec_from_questionnaire,
)
from scoring_bridge.raking import read_totals
from surveyapp import jobs
from surveyapp.audit import record
from surveyapp.campaigns.lifecycle import end_data_entry_if_due
from surveyapp.core.errors import render_error
from surveyapp.extensions import db
from surveyapp.i18n import current_language, t
from surveyapp.models.campaigns import Campaign
from surveyapp.models.jobs import Job, JobStatus
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.results.bundle import export_bundle as write_bundle
from surveyapp.results.bundle import import_bundle as load_bundle
from surveyapp.results.forms import UPLOAD, BundleForm, RunForm
from surveyapp.results.operations import (
    ResultsError,
    campaign_questionnaires,
    default_mapping,
    load_questionnaire,
)
from surveyapp.results.runs import get_run, list_runs, start_run
from surveyapp.security import current_user, roles_required

bp = Blueprint("results", __name__, url_prefix="/results", template_folder="templates")

VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR)
MAX_MAPPING_BYTES = 1024 * 1024
MAX_MAPPING_ERRORS = 20
_CRITERION_KEY = re.compile(r"^criteria\[(\d+)\]")


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


def _run_or_404(campaign_id: int, run_id: uuid.UUID):
    return get_run(campaign_id, run_id) or abort(404)


def _contractor() -> bool:
    return current_user().role != Role.ADMIN


def _mapping_choices() -> list[SelectChoice]:
    choices = [SelectChoice(name) for name in builtin_mappings()]
    return choices + [SelectChoice(UPLOAD, t("Tải lên tệp YAML", "Upload a YAML file"))]


def _run_form(campaign: Campaign | None = None) -> RunForm:
    form = RunForm()
    form.mapping.choices = _mapping_choices()
    if not form.is_submitted():
        form.mapping.data = default_mapping(campaign)
    return form


@bp.route("/")
@roles_required(*VIEW_ROLES)
def index():
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.code.desc())).all()
    runs = {c.id: list_runs(c.id) for c in campaigns}
    return render_template("results/index.html", campaigns=campaigns, runs=runs)


def _campaign_page(campaign, form=None, mapping_errors=(), totals_errors=(), status=200):
    runs = list_runs(campaign.id)
    return (
        render_template(
            "results/campaign.html",
            campaign=campaign,
            runs=runs,
            jobs={run.id: _checked(run.job()) for run in runs},
            form=form or _run_form(campaign),
            mapping_errors=mapping_errors,
            totals_errors=totals_errors,
        ),
        status,
    )


@bp.route("/<int:campaign_id>")
@roles_required(*VIEW_ROLES)
def campaign(campaign_id: int):
    return _campaign_page(_campaign_or_404(campaign_id))


@bp.route("/<int:campaign_id>/run", methods=["POST"])
@roles_required(Role.ADMIN)
def run(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    form = _run_form()
    if not form.validate():
        return _campaign_page(campaign, form, status=422)
    mapping_yaml, mapping_errors = None, []
    if form.mapping.data == UPLOAD:
        mapping_yaml, mapping_errors = _checked_mapping(campaign, form.mapping_file.data)
    previous_csv = _checked_previous(form)
    totals, totals_errors = _checked_totals(form.totals_file.data)
    if mapping_errors or totals_errors or form.errors:
        return _campaign_page(campaign, form, mapping_errors, totals_errors, status=422)
    # Answers entered after closing join the results once data entry is over (issue 10.5).
    end_data_entry_if_due(campaign)
    run = start_run(
        campaign,
        mapping=form.mapping.data,
        min_n=form.min_n.data,
        min_n_basis=form.min_n_basis.data or None,
        single_respondent_strata=form.single_respondent_strata.data or None,
        include_walkin=bool(form.include_walkin.data),
        k=form.k.data or 5,
        mapping_yaml=mapping_yaml,
        previous_csv=previous_csv,
        totals=totals,
        created_by=current_user().id,
    )
    return redirect(url_for("results.run_page", campaign_id=campaign.id, run_id=run.id))


def _specs(campaign: Campaign):
    try:
        pairs = campaign_questionnaires(campaign.id) or [
            (i.questionnaire_id, i.questionnaire_version) for i in campaign.instruments
        ]
        return [spec_from_questionnaire(load_questionnaire(q, v)) for q, v in pairs]
    except ResultsError:
        return []


def _checked_mapping(campaign, storage) -> tuple[bytes | None, list[dict]]:
    """The uploaded YAML and its problems, one per key (criteria checked one by one)."""

    if storage is None or not getattr(storage, "filename", ""):
        return None, [_problem("", "Chọn tệp ánh xạ YAML.", "Choose the mapping YAML file.")]
    content = storage.read(MAX_MAPPING_BYTES + 1)
    if len(content) > MAX_MAPPING_BYTES:
        return None, [_problem("", "Tệp ánh xạ lớn hơn 1 MB.", "The mapping file exceeds 1 MB.")]
    try:
        raw = yaml.safe_load(content.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" ({mark.line + 1})" if mark else ""
        return None, [
            _problem(
                f"line{line}",
                f"Không phải YAML UTF-8 hợp lệ: {exc}",
                f"Not valid UTF-8 YAML: {exc}",
            )
        ]
    if not isinstance(raw, dict):
        return None, [
            _problem("", "Tệp ánh xạ phải là một bảng khoá.", "The mapping must be a YAML mapping.")
        ]
    specs = _specs(campaign)
    errors, candidate = [], dict(raw)
    while len(errors) < MAX_MAPPING_ERRORS:
        try:
            load_mapping(candidate, specs)
            break
        except MappingError as exc:
            errors.append(_problem(exc.key or "", exc.message_vi, exc.message_en))
            match = _CRITERION_KEY.match(exc.key or "")
            criteria = candidate.get("criteria")
            if not match or not isinstance(criteria, list) or int(match[1]) >= len(criteria):
                break
            # Replace the faulty criterion by a valid stand-in (later positions keep their
            # index) and check the rest; the declared total no longer applies.
            criteria = list(criteria)
            criteria[int(match[1])] = {**_PLACEHOLDER, "code": f"{_PLACEHOLDER_KEY}{match[1]}"}
            candidate = {**candidate, "criteria": criteria}
            candidate.pop("total_points", None)
    if errors:
        return None, errors
    return content, []


# A criterion that passes every check, standing in for one already reported.
_PLACEHOLDER_KEY = "__reported__"
_PLACEHOLDER = {
    "name": {"vi": "-", "en": "-"},
    "max_points": 1,
    "source": "overall",
}


def _problem(key: str, vi: str, en: str) -> dict:
    return {"key": key, "vi": vi, "en": en}


def _checked_previous(form: RunForm) -> bytes | None:
    storage = form.previous_file.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    name = storage.filename.lower()
    content = storage.read()
    try:
        if name.endswith(".xlsx"):
            frame = pd.read_excel(io.BytesIO(content), engine="calamine", dtype=object)
        else:
            frame = pd.read_csv(io.BytesIO(content), dtype=str, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        form.previous_file.errors.append(
            t(f"Không đọc được tệp: {exc}", f"Cannot read the file: {exc}")
        )
        return None
    missing = {"unit", "overall_index"} - set(frame.columns)
    if missing:
        form.previous_file.errors.append(
            t(
                f"Tệp cần các cột unit, overall_index (thiếu {', '.join(sorted(missing))}).",
                f"The file needs the columns unit, overall_index (missing "
                f"{', '.join(sorted(missing))}).",
            )
        )
        return None
    values = pd.to_numeric(frame["overall_index"], errors="coerce")
    bad = frame.index[values.isna() & frame["overall_index"].notna()]
    if len(bad):
        row = int(bad[0]) + 2
        form.previous_file.errors.append(
            t(
                f"Dòng {row}, cột overall_index: '{frame.at[bad[0], 'overall_index']}' không phải số.",
                f"Row {row}, column overall_index: '{frame.at[bad[0], 'overall_index']}' is not a "
                "number.",
            )
        )
        return None
    columns = [c for c in ("unit", "overall_index", "questionnaire") if c in frame.columns]
    return frame[columns].to_csv(index=False).encode("utf-8")


def _checked_totals(storage) -> tuple[pd.DataFrame | None, list[dict]]:
    """The uploaded known totals (CSV/XLSX: unit, variable, category, total), read and
    checked by the library as ``--totals`` is on the command line, and their problems."""
    if storage is None or not getattr(storage, "filename", ""):
        return None, []
    name = Path(storage.filename.replace("\\", "/")).name
    if name in ("", ".", ".."):
        name = "totals.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name  # the library's messages name the file the user chose
        storage.save(path)
        try:
            totals = read_totals(path)
        except ScoringError as exc:
            where = ", ".join(
                part
                for part in (
                    f"dòng/row {exc.row}" if exc.row else "",
                    f"cột/column {exc.column}" if exc.column else "",
                )
                if part
            )
            return None, [_problem(where, exc.message_vi, exc.message_en)]
    if totals.empty:
        return None, [
            _problem(
                "", "Tệp tổng số đã biết không có dòng nào.", "The known totals file has no rows."
            )
        ]
    return totals, []


@bp.route("/<int:campaign_id>/runs/<uuid:run_id>")
@roles_required(*VIEW_ROLES)
def run_page(campaign_id: int, run_id: uuid.UUID):
    campaign = _campaign_or_404(campaign_id)
    run = _run_or_404(campaign.id, run_id)
    job = _checked(run.job())
    finished = job is None or job.status in (JobStatus.DONE, JobStatus.FAILED)
    contractor = _contractor()
    rankings = {}
    if job is not None and job.status == JobStatus.DONE and not contractor:
        rankings = {q: run.ranking(q) for q in run.questionnaires()}
        _add_unit_names([table for table in rankings.values() if table])
    return render_template(
        "results/run.html",
        campaign=campaign,
        run=run,
        job=job,
        finished=finished,
        rankings=rankings,
        titles=_questionnaire_titles(campaign, rankings),
        files=run.files(contractor=contractor),
        contractor=contractor,
    )


def _questionnaire_titles(campaign: Campaign, questionnaire_ids) -> dict[str, str]:
    """Each questionnaire's title in the visitor's language (its id when not installed)."""
    versions = {i.questionnaire_id: i.questionnaire_version for i in campaign.instruments}
    with contextlib.suppress(ResultsError):  # mixed versions: the instruments' name them
        versions.update(dict(campaign_questionnaires(campaign.id)))
    titles = {}
    for questionnaire_id in questionnaire_ids:
        try:
            questionnaire = load_questionnaire(questionnaire_id, versions.get(questionnaire_id))
        except ResultsError:
            titles[questionnaire_id] = questionnaire_id
        else:
            titles[questionnaire_id] = questionnaire.title.get(current_language())
    return titles


def _checked(job: Job | None) -> Job | None:
    """The run's job, marked failed when its worker died (then it can be run again)."""
    return jobs.check(job) if job is not None else None


@bp.route("/<int:campaign_id>/runs/<uuid:run_id>/retry", methods=["POST"])
@roles_required(Role.ADMIN)
def retry_run(campaign_id: int, run_id: uuid.UUID):
    run = _run_or_404(campaign_id, run_id)
    job = run.job()
    if job is None or not jobs.retry(job):
        flash(t("Chỉ chạy lại được việc đã lỗi.", "Only a failed job can be run again."), "error")
    return redirect(url_for("results.run_page", campaign_id=campaign_id, run_id=run.id))


def _add_unit_names(tables) -> None:
    codes = {row["unit"] for table in tables for row in table.rows}
    names = dict(
        db.session.execute(sa.select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all()
    )
    for table in tables:
        for row in table.rows:
            row["unit_name"] = names.get(row["unit"], "")


@bp.route("/<int:campaign_id>/runs/<uuid:run_id>/files/<path:name>")
@roles_required(*VIEW_ROLES)
def download(campaign_id: int, run_id: uuid.UUID, name: str):
    run = _run_or_404(campaign_id, run_id)
    path = run.file_path(name, contractor=_contractor())
    if path is None:
        abort(404)
    download_name = f"{run.meta.get('campaign_code', campaign_id)}-{name.replace('/', '-')}"
    record("download.results", ("run", run.id), name)
    return send_file(path, as_attachment=True, download_name=download_name)


@bp.route("/<int:campaign_id>/runs/<uuid:run_id>/download.zip")
@roles_required(*VIEW_ROLES)
def download_zip(campaign_id: int, run_id: uuid.UUID):
    run = _run_or_404(campaign_id, run_id)
    contractor = _contractor()
    if not run.files(contractor=contractor):
        abort(404)
    suffix = "microdata" if contractor else "results"
    record("download.results", ("run", run.id), f"{suffix}.zip")
    return send_file(
        io.BytesIO(run.zip_bytes(contractor=contractor)),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{run.meta.get('campaign_code', campaign_id)}-{suffix}-{run.id[:8]}.zip",
    )


@bp.route("/<int:campaign_id>/bundle.zip")
@roles_required(*VIEW_ROLES)
def export_bundle(campaign_id: int):
    """The contractor's results bundle (anonymised microdata, codebook, manifest)."""

    campaign = _campaign_or_404(campaign_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.zip"
        try:
            write_bundle(campaign, path)
        except (ResultsError, ScoringError) as exc:
            return render_error(409, exc.message_vi, exc.message_en)
        data = path.read_bytes()
    record("download.bundle", campaign)
    return send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{campaign.code}-bundle.zip",
    )


@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def import_bundle():
    form = BundleForm()
    codes = db.session.scalars(sa.select(Campaign.code).order_by(Campaign.code.desc())).all()
    as_bundle = SelectChoice("", t("Theo gói", "As in the bundle"))
    form.campaign_code.choices = [as_bundle] + [SelectChoice(c) for c in codes]
    result, error = None, None
    if form.validate_on_submit():
        storage = form.bundle.data
        if storage is None or not getattr(storage, "filename", ""):
            error = (t("Chọn tệp gói .zip.", "Choose the .zip bundle."),)
        else:
            try:
                with db.session.begin_nested():
                    result = load_bundle(
                        storage.read(), campaign_code=form.campaign_code.data or None
                    )
                record("results.import", ("campaign", result.campaign_code), f"{result.inserted}")
            except ResultsError as exc:
                error = (t(exc.message_vi, exc.message_en),)
    status = 422 if error else 200
    return render_template("results/import.html", form=form, result=result, error=error), status
