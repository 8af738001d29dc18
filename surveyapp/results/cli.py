"""``surveyapp results score|export|import``: scoring and results bundles from the database."""

from pathlib import Path

import click
import pandas as pd
import sqlalchemy as sa
from flask.cli import AppGroup

from scoring_bridge import ScoringError
from scoring_bridge.raking import read_totals
from surveyapp.audit import record
from surveyapp.core.progress import progress_bar
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.i18n import both
from surveyapp.models.campaigns import Campaign
from surveyapp.responses.ballots import waiting
from surveyapp.results.bundle import export_bundle, import_bundle
from surveyapp.results.operations import ResultsError, default_mapping, score_campaign

group = AppGroup("results", help="Tính điểm và gói kết quả / Scoring runs and results bundles.")


def _campaign(code: str) -> Campaign:
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise click.ClickException(
            both(f"Không có đợt khảo sát {code}", f"No campaign with code {code}")
        )
    return campaign


def _fail(exc) -> click.ClickException:
    if isinstance(exc, ScoringError):  # every problem of a responses file, one a line
        return click.ClickException(exc.full_message())
    return click.ClickException(f"{exc.message_vi}\n{exc.message_en}")


@group.command("score")
@click.option("--campaign", "code", required=True, help="Campaign code, e.g. 2024.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory: one sub-folder per questionnaire.",
)
@click.option(
    "--mapping",
    default=None,
    help="Mapping YAML file or built-in mapping name (default: the built-in criteria set of "
    "the campaign's year, as the web form proposes).",
)
@click.option(
    "--min-n", type=click.IntRange(min=1), default=None, help="Minimum responses per cell."
)
@click.option(
    "--min-n-basis",
    type=click.Choice(["n", "n_eff"]),
    default=None,
    help="The minimum counts valid answers (n) or Kish's effective size (default: the mapping's).",
)
@click.option(
    "--single-respondent-strata",
    "single",
    type=click.Choice(["collapse", "adjust", "certainty", "refuse"]),
    default=None,
    help="Strata with one respondent (default: the mapping's, else collapse); see METHODS.md.",
)
@click.option(
    "--totals",
    "totals_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Known totals to rake the weights to (CSV/XLSX: unit, variable, category, total).",
)
@click.option("--include-walkin", is_flag=True, help="Include walk-in (non-probability) responses.")
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Previous year's units.csv (unit, overall_index[, questionnaire]).",
)
@click.option("--k", type=click.IntRange(min=2), default=5, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
def score_command(
    code,
    out_dir,
    mapping,
    min_n,
    min_n_basis,
    single,
    totals_file,
    include_walkin,
    previous,
    k,
    overwrite,
):
    """Tính điểm một đợt từ cơ sở dữ liệu / Score a campaign from the database."""

    campaign = _campaign(code)
    previous_frame = None
    if previous is not None:
        previous_frame = pd.read_csv(previous, dtype={"unit": str, "questionnaire": str})
    with progress_bar(both("Tính điểm", "Scoring")) as bar:
        try:
            outcomes = score_campaign(
                campaign,
                out_dir,
                mapping=mapping or default_mapping(campaign),
                min_n=min_n,
                min_n_basis=min_n_basis,
                single_respondent_strata=single,
                raking_totals=read_totals(totals_file) if totals_file else None,
                include_walkin=include_walkin,
                previous=previous_frame,
                k=k,
                overwrite=overwrite,
                progress=bar.count,
            )
        except (ResultsError, ScoringError) as exc:
            raise _fail(exc) from exc
    for outcome in outcomes:
        if outcome.directory is None:
            click.echo(both(outcome.skipped_vi, outcome.skipped_en))
        else:
            click.echo(
                both(
                    f"{outcome.questionnaire_id}: {outcome.responses} phiếu → {outcome.directory}",
                    f"{outcome.questionnaire_id}: {outcome.responses} responses → "
                    f"{outcome.directory}",
                )
            )
    boxed = waiting(campaign.id)
    if boxed:
        click.echo(
            both(
                f"Kết quả tạm thời: {boxed} phiếu còn trong hòm phiếu chưa được tính.",
                f"Interim results: {boxed} answers still in the ballot box are not counted.",
            )
        )


@group.command("export")
@click.option("--campaign", "code", required=True, help="Campaign code.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_command(code, out_path):
    """Xuất gói kết quả cho bên khảo sát / Write a contractor's results bundle (.zip)."""

    try:
        with transaction():
            manifest = export_bundle(campaign := _campaign(code), out_path)
            record("download.bundle", campaign, "command line")
    except (ResultsError, ScoringError) as exc:
        raise _fail(exc) from exc
    counts = manifest["counts"]
    click.echo(
        both(
            f"Đã ghi {out_path}: {counts['responses']} phiếu, {counts['units']} đơn vị, "
            f"{len(manifest['files'])} tệp",
            f"Wrote {out_path}: {counts['responses']} responses, {counts['units']} units, "
            f"{len(manifest['files'])} files",
        )
    )


@group.command("import")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--campaign", "code", default=None, help="Import into this campaign code.")
def import_command(bundle, code):
    """Nhập gói kết quả (kiểm tra toàn vẹn, không nhập trùng) / Import a results bundle."""

    try:
        with transaction():
            result = import_bundle(bundle, campaign_code=code)
            record("results.import", ("campaign", result.campaign_code), f"{result.inserted}")
    except ResultsError as exc:
        raise _fail(exc) from exc
    click.echo(
        both(
            f"Đợt {result.campaign_code}: nhập {result.inserted} phiếu, bỏ qua {result.skipped} "
            f"phiếu đã có, tạo {result.units_created} đơn vị"
            + (", tạo đợt khảo sát mới" if result.campaign_created else ""),
            f"Campaign {result.campaign_code}: {result.inserted} responses imported, "
            f"{result.skipped} already present skipped, {result.units_created} units created"
            + (", campaign created" if result.campaign_created else ""),
        )
    )
