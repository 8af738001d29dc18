"""The database models, one module per domain, shared by every feature.

Features import models from here (or from the module of the domain); a model never
imports a feature. Importing this package puts every table on the metadata, which is
what the migrations (Alembic) compare against.
"""

from surveyapp.models.audit import AuditEvent
from surveyapp.models.campaigns import (
    CAMPAIGN_STATUS_LABELS,
    Campaign,
    CampaignInstrument,
    CampaignStatus,
    RatingTarget,
    group_label,
    stratum_label,
)
from surveyapp.models.crosswalk import Crosswalk, CrosswalkLink
from surveyapp.models.drafts import FormDraft
from surveyapp.models.draws import CommitmentImmutable, Draw, DrawCommitment
from surveyapp.models.frames import (
    LIST_KIND_LABELS,
    VERSION_ACTION_LABELS,
    FrameRecord,
    FrameUpload,
    FrameVersion,
    ListKind,
    PendingAction,
    VersionAction,
)
from surveyapp.models.jobs import JOB_STATUS_LABELS, Job, JobStatus
from surveyapp.models.respondents import (
    CONTACT_MODE_LABELS,
    CONTACT_OUTCOME_LABELS,
    RESPONDENT_STATUS_LABELS,
    SELECTION_LABELS,
    TARGET_STATUS_LABELS,
    BackcheckDraw,
    ContactAttempt,
    ContactMode,
    ContactOutcome,
    Disposition,
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
    TargetStatus,
)
from surveyapp.models.responses import Ballot, Response, ResponseMode
from surveyapp.models.results import ScoringRun, StoredFile
from surveyapp.models.units import Registry, Unit
from surveyapp.models.users import ROLE_LABELS, Role, User, UserSession
from surveyapp.models.walkin import WalkinLink

__all__ = [
    "AuditEvent",
    "CAMPAIGN_STATUS_LABELS",
    "CONTACT_MODE_LABELS",
    "CONTACT_OUTCOME_LABELS",
    "JOB_STATUS_LABELS",
    "LIST_KIND_LABELS",
    "RESPONDENT_STATUS_LABELS",
    "ROLE_LABELS",
    "SELECTION_LABELS",
    "TARGET_STATUS_LABELS",
    "BackcheckDraw",
    "Ballot",
    "Campaign",
    "CampaignInstrument",
    "CampaignStatus",
    "ContactAttempt",
    "ContactMode",
    "ContactOutcome",
    "Crosswalk",
    "CrosswalkLink",
    "Disposition",
    "CommitmentImmutable",
    "Draw",
    "DrawCommitment",
    "FormDraft",
    "FrameRecord",
    "FrameUpload",
    "FrameVersion",
    "PendingAction",
    "VERSION_ACTION_LABELS",
    "VersionAction",
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
    "ScoringRun",
    "Selection",
    "StoredFile",
    "TargetStatus",
    "Unit",
    "User",
    "UserSession",
    "WalkinLink",
    "group_label",
    "stratum_label",
]
