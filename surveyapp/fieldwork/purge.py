"""Removing personal data once a campaign is closed (``surveyapp campaign purge-pii``).

What goes: names, phones, emails, addresses and dossier codes of sampled respondents,
and the same typed into free-text answers (scrubbed in the stored responses and in the
microdata of every earlier scoring run, with the campaign's own lists, before the lists
go: surveyapp/responses/scrub.py);
their token and short-code hashes; notes of contact attempts; the uploaded list rows
(frame records) and the values quoted in their validation reports; draft answers kept
between pages of the web form; the campaign's invitation letter PDFs (names and live
tokens) under ``<instance>/letters/campaign-<id>/``. What stays: statuses, dispositions, strata, weights,
counts and the anonymous responses, so the dashboard and the scores are unchanged.
Running it again changes nothing and reports zeros.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from surveyapp.campaigns.lifecycle import end_data_entry_if_due, entry_state
from surveyapp.citizen.drafts import delete_drafts
from surveyapp.extensions import db
from surveyapp.i18n import format_date
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.models.frames import FrameRecord, FrameUpload
from surveyapp.models.respondents import ContactAttempt, Respondent
from surveyapp.responses.scrub import (
    campaign_scrubber,
    run_output_folders,
    scrub_run_outputs,
    scrub_stored_answers,
)
from surveyapp.tokens.service import delete_campaign_letters

RESPONDENT_PII = ("full_name", "phone", "email", "address", "dossier_code")
RESPONDENT_SECRETS = ("token_hash", "short_code_hash", "token_sealed")


class PurgeRefused(Exception):
    def __init__(self, message_vi: str, message_en: str):
        self.message_vi, self.message_en = message_vi, message_en
        super().__init__(f"{message_vi} / {message_en}")


@dataclass
class PurgeCounts:
    respondents: int = 0
    contact_notes: int = 0
    frame_records: int = 0
    frame_reports: int = 0
    drafts: int = 0
    letter_files: int = 0
    free_texts: int = 0
    output_files: int = 0


def _any_not_null(model, columns) -> sa.ColumnElement:
    return sa.or_(*(getattr(model, c).is_not(None) for c in columns))


def purge_pii(campaign: Campaign) -> PurgeCounts:
    """Purge ``campaign``'s personal data (in the caller's transaction)."""
    if campaign.status != CampaignStatus.CLOSED:
        raise PurgeRefused(
            f"Đợt {campaign.code} chưa kết thúc: chỉ xoá dữ liệu cá nhân sau khi đóng đợt.",
            f"Campaign {campaign.code} is not closed: personal data is purged only after it.",
        )
    # Answers entered after closing must have left the ballot box (and been scrubbed below).
    end_data_entry_if_due(campaign)
    if entry_state(campaign) == "open":
        raise PurgeRefused(
            f"Đợt {campaign.code} còn nhận nhập phiếu đến {format_date(campaign.entry_deadline)}: "
            "kết thúc nhập phiếu trước khi xoá dữ liệu cá nhân.",
            f"Campaign {campaign.code} takes data entry until "
            f"{format_date(campaign.entry_deadline)}: end data entry before purging.",
        )
    counts = PurgeCounts()
    # First, while the lists still name everyone: identities typed into free text.
    scrubber = campaign_scrubber(campaign.id)
    counts.free_texts = scrub_stored_answers(campaign.id, scrubber)
    counts.output_files = scrub_run_outputs(run_output_folders(campaign.id), scrubber)
    columns = RESPONDENT_PII + RESPONDENT_SECRETS
    counts.respondents = db.session.execute(
        sa.update(Respondent)
        .where(Respondent.campaign_id == campaign.id, _any_not_null(Respondent, columns))
        .values(dict.fromkeys(columns))
        .execution_options(synchronize_session=False)
    ).rowcount
    campaign_respondents = sa.select(Respondent.id).where(Respondent.campaign_id == campaign.id)
    counts.contact_notes = db.session.execute(
        sa.update(ContactAttempt)
        .where(
            ContactAttempt.respondent_id.in_(campaign_respondents),
            ContactAttempt.note.is_not(None),
        )
        .values(note=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    uploads = sa.select(FrameUpload.id).where(FrameUpload.campaign_id == campaign.id)
    counts.frame_records = db.session.execute(
        sa.delete(FrameRecord)
        .where(FrameRecord.upload_id.in_(uploads))
        .execution_options(synchronize_session=False)
    ).rowcount
    counts.frame_reports = _scrub_reports(campaign.id)
    counts.drafts = delete_drafts(campaign.id)
    db.session.expire_all()
    # Last: a file deletion cannot be rolled back, so a failing database step keeps them.
    counts.letter_files = delete_campaign_letters(campaign.id)
    return counts


def _scrub_reports(campaign_id: int) -> int:
    """Validation reports quote cell values (names, phones): keep only their summaries."""
    scrubbed = 0
    for upload in db.session.scalars(
        sa.select(FrameUpload).where(FrameUpload.campaign_id == campaign_id)
    ):
        report = upload.report or {}
        if report.get("issues"):
            upload.report = {**report, "issues": []}
            scrubbed += 1
    db.session.flush()
    return scrubbed
