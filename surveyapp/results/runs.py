"""Scoring runs: their records in the database, their files in the storage location, and
the background job that fills them.

A run is a :class:`~surveyapp.models.results.ScoringRun` row (who asked, when, the
settings, the job) and its files are :class:`~surveyapp.models.results.StoredFile` rows;
the files lie in the one storage location (``STORAGE_DIR``, surveyapp/storage.py) under
``results/campaign-<id>/<run uuid>/``: the uploaded ``mapping.yaml``, ``previous.csv`` and
``totals.csv`` (known totals the weights are raked to) when given, and ``outputs/<questionnaire id>/`` as written by
:func:`scoring_bridge.write_outputs`. Output files are recorded when the job succeeds, in
its transaction, so any host lists, shows and serves the same complete runs.

Who downloads what: the Department (admin) owns the results and downloads every file;
the contractor's supervisor downloads only the anonymised microdata and its codebook
(:data:`CONTRACTOR_FILES`), never points, indices or the report before the Department
publishes them.
"""

from __future__ import annotations

import io
import json
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from scoring_bridge.raking import read_totals
from surveyapp import jobs, storage
from surveyapp.crosswalk.yoy import previous_csv as previous_through_crosswalk
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.jobs import Job
from surveyapp.models.results import ScoringRun, StoredFile
from surveyapp.responses.ballots import waiting
from surveyapp.results.operations import ResultsError, score_campaign

CONTRACTOR_FILES = frozenset(
    {"microdata.csv", "microdata.xlsx", "microdata.sav", "codebook.xlsx", "codebook.pdf"}
)
JOB_KIND = "results"
JOB_FUNCTION = "surveyapp.results.runs:run_scoring_job"
INPUT, OUTPUT = "input", "output"
TOTALS_FILE = "totals.csv"


def campaign_key(campaign_id: int) -> str:
    return f"results/campaign-{int(campaign_id)}"


def campaign_directory(campaign_id: int) -> Path:
    return storage.path(campaign_key(campaign_id))


@dataclass
class Run:
    """A scoring run: its record, and its files through their records. ``meta`` (who
    asked, when, the settings) and ``directory`` are read when the run is loaded."""

    record: ScoringRun
    meta: dict[str, Any]
    directory: Path

    @classmethod
    def of(cls, record: ScoringRun) -> Run:
        meta = {
            "run_id": str(record.id),
            "campaign_id": record.campaign_id,
            "campaign_code": record.campaign.code,
            "created_at": record.created_at.isoformat(timespec="seconds"),
            "created_by": record.created_by,
            "job_id": str(record.job_id) if record.job_id else None,
            **(record.settings or {}),
        }
        return cls(record, meta, storage.path(record.storage_key))

    @property
    def id(self) -> str:
        return self.meta["run_id"]

    @property
    def outputs(self) -> Path:
        return self.directory / "outputs"

    def job(self) -> Job | None:
        job_id = self.meta.get("job_id")
        return db.session.get(Job, uuid.UUID(job_id)) if job_id else None

    def _stored(self, kind: str) -> dict[str, StoredFile]:
        # Queried (not the record's relationship): a Run may outlive its session.
        files = db.session.scalars(
            sa.select(StoredFile).where(
                StoredFile.run_id == uuid.UUID(self.id), StoredFile.kind == kind
            )
        )
        return {f.name: f for f in files}

    def input_path(self, name: str) -> Path | None:
        stored = self._stored(INPUT).get(name)
        return storage.path(stored.key) if stored is not None else None

    def files(self, *, contractor: bool = False) -> list[str]:
        """Output files as ``<questionnaire>/<name>`` paths, those the role may download."""
        return sorted(
            name
            for name in self._stored(OUTPUT)
            if not contractor or name.rsplit("/", 1)[-1] in CONTRACTOR_FILES
        )

    def file_path(self, name: str, *, contractor: bool = False) -> Path | None:
        """The file for a listed ``name`` (anything not listed, e.g. ``..``, is None)."""
        if name not in self.files(contractor=contractor):
            return None
        return storage.path(self._stored(OUTPUT)[name].key)

    def questionnaires(self) -> list[str]:
        return sorted({name.split("/", 1)[0] for name in self.files()})

    def zip_bytes(self, *, contractor: bool = False) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in self.files(contractor=contractor):
                archive.write(self.file_path(name, contractor=contractor), arcname=name)
        return buffer.getvalue()

    def ranking(self, questionnaire_id: str) -> RankingTable | None:
        if not any(n.startswith(f"{questionnaire_id}/") for n in self.files()):
            return None
        return ranking_table(self.outputs / questionnaire_id, self.meta.get("min_n"))


def new_run(campaign: Campaign, settings: dict[str, Any], created_by: int | None) -> Run:
    record = ScoringRun(
        id=uuid.uuid4(), campaign_id=campaign.id, created_by=created_by, settings=settings
    )
    record.storage_key = f"{campaign_key(campaign.id)}/{record.id}"
    db.session.add(record)
    db.session.flush()
    run = Run.of(record)
    run.directory.mkdir(parents=True, exist_ok=True)
    return run


def store_input(run: Run, name: str, content: bytes) -> None:
    path = run.directory / name
    path.write_bytes(content)
    storage.record(path, name, INPUT, run_id=uuid.UUID(run.id))


def register_outputs(run: Run) -> int:
    """Record the run's complete questionnaire folders (a folder whose name starts with a
    dot is still being written); returns how many files were recorded."""
    known = set(run._stored(OUTPUT))
    count = 0
    if run.outputs.is_dir():
        for folder in sorted(p for p in run.outputs.iterdir() if p.is_dir()):
            if folder.name.startswith("."):
                continue
            for path in sorted(p for p in folder.iterdir() if p.is_file()):
                name = f"{folder.name}/{path.name}"
                if name not in known:
                    storage.record(path, name, OUTPUT, run_id=uuid.UUID(run.id))
                    count += 1
    db.session.flush()
    return count


def get_run(campaign_id: int, run_id: uuid.UUID | str) -> Run | None:
    record = db.session.get(ScoringRun, uuid.UUID(str(run_id)))
    if record is None or record.campaign_id != int(campaign_id):
        return None
    return Run.of(record)


def list_runs(campaign_id: int) -> list[Run]:
    records = db.session.scalars(
        sa.select(ScoringRun)
        .where(ScoringRun.campaign_id == campaign_id)
        .order_by(ScoringRun.created_at.desc(), ScoringRun.id)
    )
    return [Run.of(record) for record in records]


def previous_campaign_results(campaign: Campaign) -> pd.DataFrame | None:
    """The previous campaign's latest complete results: unit, overall_index, responses,
    questionnaire (None when it names no previous campaign or that one has no results)."""
    previous = campaign.previous_campaign
    if previous is None:
        return None
    for run in list_runs(previous.id):
        frames = []
        for questionnaire in run.questionnaires():
            path = run.file_path(f"{questionnaire}/units.csv")
            if path is not None:
                frame = pd.read_csv(path, dtype={"unit": str})
                columns = [c for c in ("unit", "overall_index", "responses") if c in frame]
                frames.append(frame[columns].assign(questionnaire=questionnaire))
        if frames:
            return pd.concat(frames, ignore_index=True)
    return None


def start_run(
    campaign: Campaign,
    *,
    mapping: str = "brvt-2024",
    min_n: int | None = None,
    min_n_basis: str | None = None,
    single_respondent_strata: str | None = None,
    include_walkin: bool = False,
    k: int = 5,
    mapping_yaml: bytes | None = None,
    previous_csv: bytes | None = None,
    totals: pd.DataFrame | None = None,
    created_by: int | None = None,
) -> Run:
    """Create the run (record and folder) and enqueue its job (inline without Redis: runs
    now).

    ``mapping`` is a built-in mapping name, ignored when ``mapping_yaml`` (an uploaded,
    already validated file) is given; ``previous_csv`` holds columns unit, overall_index
    and optionally questionnaire. Without one, the campaign's previous campaign (if it
    names one) gives last year's figures; either way they go through the confirmed
    crosswalk when last year's units were of another structure
    (:mod:`surveyapp.crosswalk.yoy`). ``totals`` (checked by
    :func:`scoring_bridge.raking.read_totals`) rakes the weights to the Department's known
    totals; the settings name the variables raked to. The caller's transaction commits the job row.
    """
    last_year = previous_campaign_results(campaign) if previous_csv is None else None
    previous_csv, previous_source = previous_through_crosswalk(campaign, previous_csv, last_year)
    settings = {
        "mapping": "uploaded" if mapping_yaml is not None else mapping,
        "min_n": min_n,
        "min_n_basis": min_n_basis,
        "single_respondent_strata": single_respondent_strata,
        "include_walkin": bool(include_walkin),
        "k": k,
        "previous": previous_csv is not None,
        "previous_source": previous_source,
        "raking": sorted(set(totals["variable"])) if totals is not None else [],
    }
    run = new_run(campaign, settings, created_by)
    if mapping_yaml is not None:
        store_input(run, "mapping.yaml", mapping_yaml)
    if previous_csv is not None:
        store_input(run, "previous.csv", previous_csv)
    if totals is not None:
        store_input(run, TOTALS_FILE, totals.to_csv(index=False).encode("utf-8"))
    job = jobs.enqueue(JOB_KIND, JOB_FUNCTION, campaign.id, run.id, created_by=created_by)
    run.record.job_id = job.id
    run.meta["job_id"] = str(job.id)
    db.session.flush()
    return run


def run_scoring_job(campaign_id: int, run_id: str) -> None:
    """The background job: score the campaign into the run's ``outputs`` folder and record
    its files (committed with the job)."""
    run = get_run(campaign_id, run_id)
    campaign = db.session.get(Campaign, campaign_id)
    if run is None or campaign is None:
        raise ResultsError("Không tìm thấy lần tính điểm.", "The scoring run was not found.")
    mapping_file = run.input_path("mapping.yaml")
    previous_file = run.input_path("previous.csv")
    previous = None
    if previous_file is not None:
        previous = pd.read_csv(previous_file, dtype={"unit": str, "questionnaire": str})
    totals_file = run.input_path(TOTALS_FILE)
    shutil.rmtree(run.outputs, ignore_errors=True)  # an attempt cut short (worker died)
    try:
        score_campaign(
            campaign,
            run.outputs,
            mapping=str(mapping_file) if mapping_file is not None else run.meta["mapping"],
            min_n=run.meta.get("min_n"),
            min_n_basis=run.meta.get("min_n_basis"),
            single_respondent_strata=run.meta.get("single_respondent_strata"),
            include_walkin=bool(run.meta.get("include_walkin")),
            previous=previous,
            raking_totals=read_totals(totals_file) if totals_file is not None else None,
            k=int(run.meta.get("k", 5)),
            progress=lambda done, total, message: jobs.progress(done, total, message),
        )
        register_outputs(run)
        # Answers still in the ballot box are not in this run: the page says how many.
        run.record.settings = {
            **(run.record.settings or {}),
            "ballots_waiting": waiting(campaign_id),
        }
    except BaseException:
        shutil.rmtree(run.outputs, ignore_errors=True)
        raise


# --- the ranking table shown on the results page -----------------------------------------------


@dataclass
class RankingTable:
    rows: list[dict[str, Any]]
    criteria: list[str]
    min_n: int
    response_rates: bool
    import_file: str  # the file the Department imports into its scoring software
    statuses: dict[str, int]
    previous: bool = False  # last year's index and the change are in the rows


IMPORT_FILE = "points.xlsx"
UNIT_STATUSES = ("scored", "below_min_n", "no_responses", "not_applicable")


def ranking_table(directory: Path, min_n_override: int | None) -> RankingTable | None:
    """Every unit of the sample with its status, rank (interval, group), overall index with
    CI (or "not reliable"), n, n_eff, response rates and points per criterion, from a
    run's files. Ranked units first, in rank order; the others after them by code.
    """
    units_csv, points_csv, json_path = (
        directory / "units.csv",
        directory / "points.csv",
        directory / "points.json",
    )
    if not (units_csv.is_file() and points_csv.is_file()):
        return None
    integers = dict.fromkeys(("rank", "rank_low", "rank_high", "rank_group"), "Int64")
    units = pd.read_csv(units_csv, dtype={"unit": str, "flags": str, **integers})
    points = pd.read_csv(points_csv, dtype={"unit": str, "criterion": str})
    settings = json.loads(json_path.read_text(encoding="utf-8")).get("settings", {})
    min_n = int(min_n_override or settings.get("min_n") or 0)
    criteria = list(dict.fromkeys(points["criterion"]))
    by_unit = {unit: rows for unit, rows in points.groupby("unit")}  # noqa: C416
    rows = []
    for record in units.to_dict("records"):
        cells = by_unit.get(record["unit"], points.iloc[0:0]).set_index("criterion")
        record["criteria"] = {
            code: {
                "points": _number(cells.at[code, "points"]) if code in cells.index else None,
                "status": cells.at[code, "status"] if code in cells.index else "",
            }
            for code in criteria
        }
        if "status" not in record:  # a run from before statuses: small units were unranked
            small = int(record.get("n_respondents") or 0) < min_n
            record["status"] = "below_min_n" if small else "scored"
        flags = str(record.get("flags") or "")
        flags = set(flags.split(";")) if flags and flags != "nan" else set()
        record["unreliable"] = "unreliable" in flags
        record["single_stratum"] = "single_respondent_stratum" in flags
        record["small"] = record["status"] != "scored"
        if record["small"]:
            record["rank"] = None
        rows.append({key: _number(value) for key, value in record.items()})
    rows.sort(key=lambda row: row["rank"] is None)  # stable: ranked first, in rank order
    statuses = {status: sum(1 for r in rows if r["status"] == status) for status in UNIT_STATUSES}
    return RankingTable(
        rows,
        criteria,
        min_n,
        "rr1" in units.columns,
        f"{directory.name}/{IMPORT_FILE}",
        statuses,
        "previous_overall_index" in units.columns,
    )


def _number(value: Any) -> Any:
    if value is pd.NA or (isinstance(value, float) and value != value):  # NaN
        return None
    return value
