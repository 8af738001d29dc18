"""``surveyapp tokens issue``: issue tokens and write the letters (and a links CSV).

Nothing secret is printed: the tokens go only into the PDF and the optional CSV
(url,code for a printing vendor). Issuing replaces earlier tokens of the same people.
"""

import os
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from surveyapp.core.progress import progress_bar
from surveyapp.csvsafe import write_csv
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.i18n import both
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import Unit
from surveyapp.responses.operations import ResponseError
from surveyapp.tokens.service import invitable, produce_letters

group = AppGroup("tokens", help="Mã truy cập và thư mời / Tokens and invitation letters.")


@group.command("issue")
@click.option("--campaign", "campaign_code", required=True, help="Mã đợt / campaign code")
@click.option("--unit", "unit_code", help="Chỉ một đơn vị / one unit only (code)")
@click.option(
    "--only-new", is_flag=True, help="Chỉ người chưa có thư / only people without a token"
)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="letters.pdf")
@click.option("--links", type=click.Path(dir_okay=False), help="links.csv (url,code)")
def issue_command(campaign_code, unit_code, only_new, lang, out, links):
    """Tạo mã và in thư mời / Issue tokens and print invitation letters."""
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == campaign_code))
    if campaign is None:
        _fail(both(f"Không có đợt «{campaign_code}».", f"No campaign «{campaign_code}»."))
    unit_id = None
    if unit_code:
        unit_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            _fail(both(f"Không có đơn vị «{unit_code}».", f"No unit «{unit_code}»."))
    partial = Path(f"{out}.part")
    try:
        with transaction():
            respondents = db.session.scalars(
                invitable(campaign.id, unit_id, only_new=only_new)
            ).all()
            with progress_bar("Thư / letters", len(respondents)) as bar:
                issued = produce_letters(
                    campaign, respondents, partial, lang=lang, progress=bar.count
                )
            if links:
                Path(links).write_text(
                    write_csv([(i.url, i.code) for i in issued], ["url", "code"]),
                    encoding="utf-8",
                )
            os.replace(partial, out)
    except ResponseError as error:
        partial.unlink(missing_ok=True)
        _fail(both(error.message_vi, error.message_en))
    click.echo(both(f"Đã in {len(issued)} thư: {out}", f"{len(issued)} letters written to {out}"))


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)
