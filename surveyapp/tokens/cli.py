"""``surveyapp tokens issue``: issue tokens and write the letters (and a links CSV).

Nothing secret is printed: the tokens go only into the PDF and the optional CSV
(url,code for a printing vendor). Re-printing keeps each person's code unless --new-codes.
Links to 127.0.0.1 (BASE_URL unset) are refused in production, warned about elsewhere, as
is printing after or near the campaign's end.
"""

import os
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from surveyapp.audit import record
from surveyapp.core.progress import progress_bar
from surveyapp.csvsafe import write_csv
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.i18n import both
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import Unit
from surveyapp.responses.operations import ResponseError
from surveyapp.tokens.service import (
    base_url_problem,
    invitable,
    produce_letters,
    timing_warning,
)

group = AppGroup("tokens", help="Mã truy cập và thư mời / Tokens and invitation letters.")


@group.command("issue")
@click.option("--campaign", "campaign_code", required=True, help="Mã đợt / campaign code")
@click.option("--unit", "unit_code", help="Chỉ một đơn vị / one unit only (code)")
@click.option(
    "--only-new", is_flag=True, help="Chỉ người chưa có thư / only people without a token"
)
@click.option(
    "--new-codes",
    is_flag=True,
    help="Mã mới cho người đã có thư (thư cũ hết hiệu lực) / new codes for people who have "
    "a letter (their earlier letters stop working); default: re-print with their code",
)
@click.option(
    "--group", help="Chỉ một nhóm đối tượng / one respondent group only (citizen, official)"
)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="letters.pdf")
@click.option("--links", type=click.Path(dir_okay=False), help="links.csv (url,code)")
def issue_command(campaign_code, unit_code, only_new, new_codes, group, lang, out, links):
    """Tạo mã và in thư mời / Issue tokens and print invitation letters."""
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == campaign_code))
    if campaign is None:
        _fail(both(f"Không có đợt «{campaign_code}».", f"No campaign «{campaign_code}»."))
    unit_id = None
    if unit_code:
        unit_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            _fail(both(f"Không có đơn vị «{unit_code}».", f"No unit «{unit_code}»."))
    for warning in (base_url_problem(), timing_warning(campaign)):
        if warning:
            click.echo(both(*warning), err=True)
    partial = Path(f"{out}.part")
    try:
        with transaction():
            respondents = db.session.scalars(
                invitable(campaign.id, unit_id, only_new=only_new, group=group)
            ).all()
            with progress_bar("Thư / letters", len(respondents)) as bar:
                issued = produce_letters(
                    campaign,
                    respondents,
                    partial,
                    lang=lang,
                    progress=bar.count,
                    new_codes=new_codes,
                )
            if links:
                Path(links).write_text(
                    write_csv([(i.url, i.code) for i in issued], ["url", "code"]),
                    encoding="utf-8",
                )
            os.replace(partial, out)
            record("letters.print", campaign, f"unit={unit_id or 'all'} letters={len(issued)}")
    except ResponseError as error:
        partial.unlink(missing_ok=True)
        _fail(both(error.message_vi, error.message_en))
    click.echo(both(f"Đã in {len(issued)} thư: {out}", f"{len(issued)} letters written to {out}"))
    reused = sum(1 for item in issued if item.reused)
    if reused:
        click.echo(
            both(
                f"{reused} thư in lại với mã cũ (dùng --new-codes để tạo mã mới).",
                f"{reused} letters re-printed with their existing code (--new-codes for new ones).",
            )
        )


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)
