"""``surveyapp score RESPONSES --questionnaire ID --mapping MAPPING.yaml --out DIR``."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from sampling.manifest import ManifestError, read_manifest
from scoring_bridge import ScoringError, prepare_responses
from scoring_bridge.design import selection_of_manifest
from scoring_bridge.outputs import DEFAULT_K, write_outputs
from scoring_bridge.raking import read_totals
from scoring_bridge.scoring import score as run_scoring
from scoring_bridge.spec import load_spec
from surveyapp.core.progress import progress_bar
from surveyapp.dashboard.rates import DispositionCounts, rr1, rr3


def _read_table(path: Path, what_vi: str, what_en: str):
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return pd.read_excel(path, engine="calamine", dtype=str)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise click.ClickException(
            f"Không đọc được {what_vi} {path}: {exc} / Cannot read {what_en} {path}: {exc}"
        ) from exc


def _need_columns(frame, columns: set[str], path: Path) -> None:
    missing = sorted(columns - set(frame.columns))
    if missing:
        raise click.ClickException(
            f"Tệp {path.name} thiếu cột {', '.join(missing)}. / "
            f"{path.name} lacks the column(s) {', '.join(missing)}."
        )


def _numbers(frame, column: str, path: Path):
    values = pd.to_numeric(frame[column].replace("", None), errors="coerce")
    bad = frame[column][values.isna() & (frame[column].astype(str).str.strip() != "")]
    if len(bad):
        row = int(bad.index[0]) + 2
        raise click.ClickException(
            f"{path.name}, dòng {row}, cột {column}: '{bad.iloc[0]}' không phải số. / "
            f"{path.name}, row {row}, column {column}: '{bad.iloc[0]}' is not a number."
        )
    return values


@click.command("score")
@click.argument("responses", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--questionnaire",
    "questionnaire_id",
    required=True,
    help="Built-in questionnaire id, e.g. sipas-citizen.",
)
@click.option(
    "--mapping", required=True, help="Mapping YAML file, or a built-in mapping name (brvt-2024)."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (created; must be new or empty unless --overwrite).",
)
@click.option(
    "--min-n",
    type=click.IntRange(min=1),
    default=None,
    help="Minimum valid answers per cell (default: the mapping's min_responses).",
)
@click.option("--include-walkin", is_flag=True, help="Include walk-in (non-probability) responses.")
@click.option(
    "--unweighted", is_flag=True, help="Allow responses without a weight column (every weight 1)."
)
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Previous year's units.csv (columns unit, overall_index).",
)
@click.option(
    "--units",
    "units_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV/XLSX with column unit and optional name, group, sampled (cases released, for "
    "AAPOR RR1/RR3 per unit, or per unit and group when a group column is given).",
)
@click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The draw's manifest (.manifest.json): the standard errors follow its design "
    "(SRSWOR, systematic or PPS) and its stratum sizes N_h give the finite population "
    "correction unless --strata is given.",
)
@click.option(
    "--totals",
    "totals_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Known totals to rake the weights to (CSV/XLSX: unit, variable, category, total), "
    "e.g. procedures by field per unit.",
)
@click.option(
    "--single-respondent-strata",
    "single",
    type=click.Choice(["collapse", "adjust", "certainty", "refuse"]),
    default=None,
    help="Strata with one respondent: collapse with the most similar stratum of the unit, "
    "R's adjust, certainty (no variance) or refuse (default: the mapping's, else collapse).",
)
@click.option(
    "--min-n-basis",
    type=click.Choice(["n", "n_eff"]),
    default=None,
    help="The minimum counts valid answers (n) or Kish's effective size (n_eff) "
    "(default: the mapping's, else n).",
)
@click.option(
    "--strata",
    "strata_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV/XLSX with columns stratum, population (finite population correction).",
)
@click.option(
    "--k",
    "k",
    type=click.IntRange(min=2),
    default=DEFAULT_K,
    show_default=True,
    help="Published tables hide cells with fewer respondents than this.",
)
@click.option(
    "--overwrite", is_flag=True, help="Replace the contents of a non-empty output directory."
)
def score(
    responses,
    questionnaire_id,
    mapping,
    out_dir,
    min_n,
    include_walkin,
    unweighted,
    previous,
    units_file,
    manifest_file,
    totals_file,
    single,
    min_n_basis,
    strata_file,
    k,
    overwrite,
):
    """Tính chỉ số, điểm tiêu chí và báo cáo / Score responses into indices, points and a report.

    RESPONSES is a CSV, XLSX or SPSS .sav file with one row per response (columns
    response_id, unit, group, stratum, weight, mode, is_probability and one per item).
    """
    try:
        spec = load_spec(questionnaire_id)
        prepared = prepare_responses(responses, spec, unweighted=unweighted)
        unit_names, rates, unit_list = _units(units_file, prepared)
        manifest = _manifest(manifest_file)
        population = _strata(strata_file) or _manifest_sizes(manifest)
        previous_frame = _previous(previous)
        with progress_bar("Tính chỉ số / Scoring") as bar:
            counts, cells = bar.span(10, 40), bar.span(40, 70)

            def progress(stage: str, done: int, total: int) -> None:
                (counts if stage == "counts" else cells)(done, total)

            result = run_scoring(
                prepared,
                spec,
                mapping,
                min_n=min_n,
                include_nonprobability=include_walkin,
                unweighted=unweighted,
                stratum_population=population,
                selection=selection_of_manifest(manifest),
                single_respondent_strata=single,
                min_n_basis=min_n_basis,
                response_rates=rates,
                raking_totals=_totals(totals_file),
                previous=previous_frame,
                units=unit_list,
                progress=progress,
            )
            stages = iter(range(75, 100, 5))

            def written(label: str) -> None:
                bar.label = f"Ghi {label} / Writing {label}"
                bar.to(next(stages, 99))

            paths = write_outputs(
                result, out_dir, k=k, overwrite=overwrite, unit_names=unit_names, progress=written
            )
    except ScoringError as exc:
        raise click.ClickException(exc.full_message()) from exc
    scored = int((result.points.status == "scored").sum())
    click.echo(
        f"Đã ghi {len(paths)} tệp vào {out_dir} / Wrote {len(paths)} files to {out_dir}: "
        f"{len(result.units)} đơn vị / units, {len(result.criteria)} tiêu chí / criteria, "
        f"{scored} điểm / scores."
    )
    not_applicable = int((result.points.status == "not_applicable").sum())
    below = int((result.points.status == "below_min_n").sum())
    silent = int((result.points.status == "no_responses").sum())
    if not_applicable or below or silent:
        click.echo(
            f"Lưu ý / Note: {not_applicable} không áp dụng / not applicable, "
            f"{below} dưới ngưỡng số phiếu / below the minimum n, "
            f"{silent} không có phiếu / no responses."
        )


def _units(path: Path | None, prepared):
    """Unit names, response rates (when a ``sampled`` column is given) and the unit list."""
    if path is None:
        return None, None, None
    frame = _read_table(path, "danh sách đơn vị", "the units list")
    _need_columns(frame, {"unit"}, path)
    units = frame["unit"].astype(str).str.strip()
    names = dict(zip(units, frame["name"].astype(str), strict=True)) if "name" in frame else None
    rates = None
    if "sampled" in frame:
        groups = frame["group"].astype(str).str.strip() if "group" in frame else None
        rates = _rates_from_sample_sizes(units, groups, _numbers(frame, "sampled", path), prepared)
    return names, rates, list(dict.fromkeys(units))


def _rates_from_sample_sizes(units, groups, sampled, prepared):
    """AAPOR RR1/RR3 when only the cases released are known: every case that did not
    answer has unknown eligibility (UO). The rates come from the service's one rate
    function (:mod:`surveyapp.dashboard.rates`)."""

    answered = prepared[prepared["is_probability"]]
    by_unit = answered.groupby("unit").size()
    by_pair = answered.groupby(["unit", "group"]).size()
    rows = []
    keys = list(zip(units, groups if groups is not None else [""] * len(units), strict=True))
    for (unit, group), size in zip(keys, sampled, strict=True):
        if pd.isna(size):
            continue
        completed = int(by_pair.get((unit, group), 0) if group else by_unit.get(unit, 0))
        counts = DispositionCounts(I=completed, UO=max(int(size) - completed, 0))
        rows.append(
            {
                "unit": unit,
                "group": group,
                "sampled": int(size),
                "I": counts.I,
                "UO": counts.UO,
                "rr1": rr1(counts),
                "rr3": rr3(counts),
            }
        )
    frame = pd.DataFrame(rows, columns=["unit", "group", "sampled", "I", "UO", "rr1", "rr3"])
    if groups is not None:  # unit totals over the groups given
        totals = frame.groupby("unit", as_index=False)[["sampled", "I", "UO"]].sum()
        for column in ("rr1", "rr3"):
            function = rr1 if column == "rr1" else rr3
            totals[column] = [
                function(DispositionCounts(I=int(i), UO=int(u)))
                for i, u in zip(totals.I, totals.UO, strict=True)
            ]
        frame = pd.concat([frame, totals.assign(group="")], ignore_index=True)
    return frame


def _totals(path: Path | None):
    if path is None:
        return None
    return read_totals(path)


def _manifest(path: Path | None):
    if path is None:
        return None

    try:
        return read_manifest(path)
    except ManifestError as exc:
        raise click.ClickException(f"{exc.message_vi}\n{exc.message_en}") from exc


def _manifest_sizes(manifest) -> dict | None:
    """N_h per stratum from a manifest (SRSWOR and systematic draws)."""
    strata = (manifest or {}).get("strata") or {}
    labels, sizes = strata.get("stratum"), strata.get("N_h")
    if not labels or not sizes:
        return None
    return {str(label): float(size) for label, size in zip(labels, sizes, strict=False)}


def _strata(path: Path | None):
    if path is None:
        return None
    frame = _read_table(path, "cỡ tổng thể tầng", "the strata sizes")
    _need_columns(frame, {"stratum", "population"}, path)
    sizes = _numbers(frame, "population", path)
    return dict(zip(frame["stratum"].astype(str).str.strip(), sizes, strict=True))


def _previous(path: Path | None):
    if path is None:
        return None
    frame = _read_table(path, "kết quả năm trước", "the previous results")
    _need_columns(frame, {"unit", "overall_index"}, path)
    frame["overall_index"] = _numbers(frame, "overall_index", path)
    return frame
