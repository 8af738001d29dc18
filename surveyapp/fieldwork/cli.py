"""``surveyapp campaign purge-pii CODE``: remove personal data of a closed campaign;
``surveyapp campaign end-entry CODE | --due``: end data entry after closing."""

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from surveyapp.audit import record
from surveyapp.campaigns.lifecycle import (
    TransitionError,
    end_data_entry,
    end_data_entry_if_due,
)
from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.fieldwork.purge import PurgeRefused, purge_pii
from surveyapp.i18n import both
from surveyapp.models.campaigns import Campaign

group = AppGroup("campaign", help="Đợt khảo sát / Campaigns.")


@group.command("purge-pii")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Không hỏi xác nhận / Do not ask for confirmation.")
def purge_pii_command(code: str, yes: bool):
    """Xoá dữ liệu cá nhân của đợt đã kết thúc / Purge personal data of a closed campaign."""
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise click.ClickException(both(f"Không có đợt khảo sát «{code}»", f"No campaign «{code}»"))
    if not yes:
        click.confirm(
            both(
                f"Xoá vĩnh viễn họ tên, điện thoại, địa chỉ, mã của đợt {code}?",
                f"Permanently delete names, phones, addresses and codes of campaign {code}?",
            ),
            abort=True,
        )
    try:
        with transaction():
            counts = purge_pii(campaign)
            record("campaign.purge_pii", campaign, f"respondents={counts.respondents}")
    except PurgeRefused as error:
        raise click.ClickException(both(error.message_vi, error.message_en)) from None
    click.echo(
        both(
            f"Đã xoá dữ liệu cá nhân: {counts.respondents} người trả lời, "
            f"{counts.contact_notes} ghi chú liên hệ, {counts.frame_records} dòng danh sách, "
            f"{counts.frame_reports} báo cáo kiểm tra, {counts.drafts} phiếu nháp, "
            f"{counts.letter_files} tệp thư mời; đã lọc {counts.free_texts} câu trả lời tự do "
            f"và {counts.output_files} tệp kết quả.",
            f"Purged personal data: {counts.respondents} respondents, "
            f"{counts.contact_notes} contact notes, {counts.frame_records} list rows, "
            f"{counts.frame_reports} validation reports, {counts.drafts} form drafts, "
            f"{counts.letter_files} letter files; scrubbed {counts.free_texts} free-text answers "
            f"and {counts.output_files} output files.",
        )
    )


@group.command("end-entry")
@click.argument("code", required=False)
@click.option(
    "--due",
    is_flag=True,
    help="Mọi đợt đã quá hạn nhập phiếu (chạy hằng ngày) / Every campaign past its "
    "data-entry deadline (run daily).",
)
def end_entry_command(code: str | None, due: bool):
    """Kết thúc nhập phiếu sau khi đóng đợt / End data entry after closing: the answers
    entered since the closing join the results, in random order."""
    if due == bool(code):
        raise click.UsageError(both("Cho mã đợt hoặc --due", "Give a campaign code or --due"))
    if due:
        ended = []
        with transaction():
            for campaign in db.session.scalars(sa.select(Campaign).order_by(Campaign.code)):
                if end_data_entry_if_due(campaign):
                    record("campaign.end_entry", campaign, "due")
                    ended.append(campaign.code)
        click.echo(
            both(
                f"Đã kết thúc nhập phiếu: {', '.join(ended) or 'không đợt nào'}.",
                f"Data entry ended: {', '.join(ended) or 'no campaign'}.",
            )
        )
        return
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise click.ClickException(both(f"Không có đợt khảo sát «{code}»", f"No campaign «{code}»"))
    try:
        with transaction():
            opened = end_data_entry(campaign)
            record("campaign.end_entry", campaign, f"answers={opened}")
    except TransitionError as error:
        vi, en = error.problems[0]
        raise click.ClickException(both(vi, en)) from None
    click.echo(
        both(
            f"Đã kết thúc nhập phiếu của đợt {code}; {opened} phiếu vào kết quả.",
            f"Data entry of campaign {code} ended; {opened} answers joined the results.",
        )
    )
