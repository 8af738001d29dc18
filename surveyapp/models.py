"""Every model, imported in one place so that Alembic sees the whole schema."""

from surveyapp.auth.models import Role, ThrottleEvent, User
from surveyapp.campaigns.models import Campaign, CampaignInstrument, CampaignStatus, RatingTarget
from surveyapp.citizen.models import FormDraft
from surveyapp.crosswalk.models import Crosswalk, CrosswalkLink
from surveyapp.draws.models import Draw
from surveyapp.fieldwork.models import (
    ContactAttempt,
    ContactMode,
    ContactOutcome,
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
    TargetStatus,
)
from surveyapp.frames.models import FrameRecord, FrameUpload, ListKind
from surveyapp.jobs import Job, JobStatus
from surveyapp.responses.models import Response, ResponseMode
from surveyapp.units.models import Registry, Unit
from surveyapp.walkin.models import WalkinLink

__all__ = [
    "Campaign",
    "CampaignInstrument",
    "CampaignStatus",
    "ContactAttempt",
    "Crosswalk",
    "CrosswalkLink",
    "ContactMode",
    "ContactOutcome",
    "Draw",
    "FrameRecord",
    "FormDraft",
    "FrameUpload",
    "Job",
    "JobStatus",
    "ListKind",
    "RatingTarget",
    "Registry",
    "Respondent",
    "RespondentStatus",
    "RespondentTarget",
    "Response",
    "ResponseMode",
    "Role",
    "Selection",
    "TargetStatus",
    "ThrottleEvent",
    "Unit",
    "User",
    "WalkinLink",
]
