"""``surveyapp score RESPONSES --questionnaire ID --mapping MAPPING.yaml --out DIR``."""

from __future__ import annotations

from pathlib import Path

import click

# pandas and the scoring library are imported when the command runs, so that every other
# ``surveyapp`` command starts without them.
DEFAULT_K = 5  # scoring_bridge.outputs.DEFAULT_K


def _read_table(path: Path, what_vi: str, what_en: str):
    import pandas as pd

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
    import pandas as pd

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
    help="CSV/XLSX with column unit and optional name, sampled (forms issued, for response rates).",
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
    strata_file,
    k,
    overwrite,
):
    """Tính chỉ số, điểm tiêu chí và báo cáo / Score responses into indices, points and a report.

    RESPONSES is a CSV, XLSX or SPSS .sav file with one row per response (columns
    response_id, unit, group, stratum, weight, mode, is_probability and one per item).
    """
    from scoring_bridge import ScoringError
    from scoring_bridge.outputs import write_outputs
    from scoring_bridge.scoring import score as run_scoring
    from scoring_bridge.spec import load_spec

    try:
        spec = load_spec(questionnaire_id)
        unit_names, sample_sizes, unit_list = _units(units_file)
        population = _strata(strata_file)
        previous_frame = _previous(previous)
        with click.progressbar(length=100, label="Tính chỉ số / Scoring", file=None) as bar:
            state = {"shown": 0}

            def progress(stage: str, done: int, total: int) -> None:
                share = 0.0 if total == 0 else done / total
                target = int((10 + 30 * share) if stage == "counts" else (40 + 30 * share))
                if target > state["shown"]:
                    bar.update(target - state["shown"])
                    state["shown"] = target

            result = run_scoring(
                responses,
                spec,
                mapping,
                min_n=min_n,
                include_nonprobability=include_walkin,
                unweighted=unweighted,
                stratum_population=population,
                sample_sizes=sample_sizes,
                previous=previous_frame,
                units=unit_list,
                progress=progress,
            )
            stages = iter(range(75, 100, 5))

            def written(label: str) -> None:
                target = next(stages, 99)
                bar.label = f"Ghi {label} / Writing {label}"
                bar.update(max(target - state["shown"], 0))
                state["shown"] = max(target, state["shown"])

            paths = write_outputs(
                result, out_dir, k=k, overwrite=overwrite, unit_names=unit_names, progress=written
            )
            bar.update(100 - state["shown"])
    except ScoringError as exc:
        raise click.ClickException(f"{exc.message_vi}\n{exc.message_en}") from exc
    scored = int((result.points.status == "scored").sum())
    click.echo(
        f"Đã ghi {len(paths)} tệp vào {out_dir} / Wrote {len(paths)} files to {out_dir}: "
        f"{len(result.units)} đơn vị / units, {len(result.criteria)} tiêu chí / criteria, "
        f"{scored} điểm / scores."
    )
    not_applicable = int((result.points.status == "not_applicable").sum())
    below = int((result.points.status == "below_min_n").sum())
    if not_applicable or below:
        click.echo(
            f"Lưu ý / Note: {not_applicable} không áp dụng / not applicable, "
            f"{below} dưới ngưỡng số phiếu / below the minimum n."
        )


def _units(path: Path | None):
    if path is None:
        return None, None, None
    frame = _read_table(path, "danh sách đơn vị", "the units list")
    _need_columns(frame, {"unit"}, path)
    units = frame["unit"].astype(str).str.strip()
    names = dict(zip(units, frame["name"].astype(str), strict=True)) if "name" in frame else None
    sizes = None
    if "sampled" in frame:
        sizes = dict(zip(units, _numbers(frame, "sampled", path), strict=True))
    return names, sizes, list(units)


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


group = score
