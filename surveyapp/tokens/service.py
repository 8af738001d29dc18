"""Issuing tokens and producing invitation letters.

Lookups use keyed hashes only. :func:`issue_tokens` makes new tokens and codes (replacing,
and so invalidating, any earlier ones of those respondents) and also keeps them sealed
(AES-GCM, key derived from SECRET_KEY) so that a lost letter can be printed again with the
same code (:func:`existing_token`, :func:`tokens_for_letters`) and the links and codes can
be downloaded for SMS campaigns; nothing in the database alone reveals a token.

Demo / scripts::

    with app.app_context(), transaction():
        issued = issue_tokens(respondents)      # [IssuedToken(respondent_id, token, code, url)]
"""

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from pypdf import PdfWriter

from questionnaires import InvitationEntry, render_invitations
from surveyapp import jobs, storage
from surveyapp.core.codes import format_code, generate_code, generate_token, hash_code, hash_token
from surveyapp.core.downloads import ascii_name
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.i18n import DAY_FORMAT, both, timezone
from surveyapp.models.campaigns import Campaign
from surveyapp.models.respondents import (
    Respondent,
    RespondentStatus,
    RespondentTarget,
    Selection,
)
from surveyapp.models.units import Unit
from surveyapp.responses.operations import ResponseError, instrument_for, questionnaire_for
from surveyapp.security import derive_key

# Respondents who get no letter: already answered, out of scope, or replaced by a reserve.
NOT_INVITED = (RespondentStatus.COMPLETED, RespondentStatus.INELIGIBLE, RespondentStatus.REPLACED)
LETTERS_DIR = "letters"


class LettersError(ResponseError):
    """Nothing to print, or a bad selection (message in Vietnamese and English)."""


@dataclass(frozen=True)
class IssuedToken:
    respondent_id: int
    token: str
    code: str  # printed form, ABCDE-FGHJK
    url: str
    reused: bool = False  # the respondent's existing code, printed again


SEAL_PURPOSE = "letter-token"
_NONCE = 12


def _seal(respondent_id: int, token: str, code: str) -> bytes:
    """Nonce + AES-GCM of ``token`` and ``code``, bound to the respondent's id."""
    nonce = os.urandom(_NONCE)
    plain = f"{token}\n{code}".encode()
    aad = f"respondent:{respondent_id}".encode()
    return nonce + AESGCM(derive_key(SEAL_PURPOSE)).encrypt(nonce, plain, aad)


def existing_token(respondent: Respondent) -> IssuedToken | None:
    """The respondent's current token and code, when they were sealed at issue and still
    match the stored hashes (else None: a new code is needed)."""
    sealed = respondent.token_sealed
    if not sealed or not respondent.token_hash:
        return None
    try:
        plain = AESGCM(derive_key(SEAL_PURPOSE)).decrypt(
            sealed[:_NONCE], sealed[_NONCE:], f"respondent:{respondent.id}".encode()
        )
    except InvalidTag:  # another SECRET_KEY, or not this respondent's
        return None
    token, _, code = plain.decode().partition("\n")
    if hash_token(token) != respondent.token_hash or hash_code(code) != respondent.short_code_hash:
        return None
    return IssuedToken(respondent.id, token, format_code(code), citizen_url(token), reused=True)


def base_url_problem() -> tuple[str, str] | None:
    """Why printed links would not reach anyone (BASE_URL unset: 127.0.0.1), or None."""
    host = (urlsplit(current_app.config.get("BASE_URL") or "").hostname or "").lower()
    loopback = host in ("", "localhost") or host.endswith(".localhost")
    with contextlib.suppress(ValueError):  # a name, not an address
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if not loopback:
        return None
    return (
        f"Chưa đặt BASE_URL: đường dẫn và mã QR trên thư sẽ trỏ tới «{host or '?'}», người "
        "nhận không mở được. Đặt BASE_URL là địa chỉ công khai của dịch vụ.",
        f"BASE_URL is not set: the links and QR codes on the letters would point to "
        f"«{host or '?'}», which recipients cannot open. Set BASE_URL to the service's "
        "public address.",
    )


def require_public_base_url() -> tuple[str, str] | None:
    """Refuse (LettersError) in production while links would say 127.0.0.1; elsewhere
    return the warning to show (the demo and tests print such letters)."""
    problem = base_url_problem()
    if problem and current_app.config.get("PRODUCTION"):
        raise LettersError(*problem)
    return problem


# How close to the end printing letters or issuing codes gets a warning.
WARN_DAYS_BEFORE_END = 5


def timing_warning(campaign: Campaign, today: dt.date | None = None) -> tuple[str, str] | None:
    """A warning when letters or codes are issued after, or within a few days of, the day
    the links stop working (the link expiry, else the campaign's end)."""
    end = campaign.token_expires_on or campaign.period_end
    if end is None:
        return None
    today = today or local_today()
    day = end.strftime(DAY_FORMAT)
    if end < today:
        return (
            f"Đợt khảo sát đã kết thúc ngày {day}: thư in bây giờ không ghi hạn trả lời và "
            "mã có thể đã hết hiệu lực.",
            f"The campaign ended on {day}: letters printed now carry no answer-by date and "
            "their codes may no longer work.",
        )
    if end == today:
        return (
            f"Hôm nay ({day}) là ngày cuối để trả lời: thư gửi bây giờ sẽ đến sau hạn.",
            f"Today ({day}) is the last day to answer: letters sent now will arrive too late.",
        )
    if (end - today).days <= WARN_DAYS_BEFORE_END:
        left = (end - today).days
        return (
            f"Chỉ còn {left} ngày đến hạn {day}: thư gửi qua bưu điện có thể đến sau hạn.",
            f"Only {left} days are left until {day}: letters sent by post may arrive too late.",
        )
    return None


def citizen_url(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/s/{token}"


def invitable(
    campaign_id: int,
    unit_id: int | None = None,
    respondent_ids=None,
    only_new=False,
    *,
    group: str | None = None,
):
    """A query of the respondents a letter may go to: primaries and released reserves
    who have not answered, of one unit and/or an explicit list and/or one group."""
    query = sa.select(Respondent).where(
        Respondent.campaign_id == campaign_id,
        sa.or_(Respondent.selection == Selection.PRIMARY, Respondent.released.is_(True)),
        Respondent.status.not_in(NOT_INVITED),
    )
    if unit_id is not None:
        query = query.where(Respondent.source_unit_id == unit_id)
    if respondent_ids is not None:
        query = query.where(Respondent.id.in_([int(i) for i in respondent_ids]))
    if only_new:
        query = query.where(Respondent.token_hash.is_(None))
    if group:
        query = query.where(Respondent.respondent_group == group)
    return query.order_by(Respondent.source_unit_id, Respondent.id)


def _unused_codes(count: int) -> list[str]:
    """``count`` new short codes whose hashes are in no respondent row (nor repeated)."""
    codes: dict[str, str] = {}
    while len(codes) < count:
        fresh = {}
        while len(fresh) + len(codes) < count:
            code = generate_code()
            fresh[hash_code(code)] = code
        taken = set(
            db.session.scalars(
                sa.select(Respondent.short_code_hash).where(
                    Respondent.short_code_hash.in_(list(fresh))
                )
            )
        )
        codes.update({h: c for h, c in fresh.items() if h not in taken and h not in codes})
    return list(codes.values())


def tokens_for_letters(
    respondents: Sequence[Respondent], *, new_codes: bool = False
) -> list[IssuedToken]:
    """Each respondent's existing code when it can be printed again (unless ``new_codes``),
    else a new one (earlier letters of those people then stop working)."""
    existing = {} if new_codes else {r.id: existing_token(r) for r in respondents}
    fresh = iter(issue_tokens([r for r in respondents if existing.get(r.id) is None]))
    return [existing.get(r.id) or next(fresh) for r in respondents]


def issue_tokens(respondents: Sequence[Respondent]) -> list[IssuedToken]:
    """New token and short code for each respondent (earlier ones stop working).

    Stores only the keyed hashes, the issue time and the expiry date; moves pending
    respondents to ``invited``. Returns the plaintext for the letters, in order.
    """
    issued = []
    now = utcnow()
    campaigns: dict[int, Campaign] = {}
    for respondent, code in zip(respondents, _unused_codes(len(respondents)), strict=True):
        campaign = campaigns.setdefault(
            respondent.campaign_id, db.session.get(Campaign, respondent.campaign_id)
        )
        token = generate_token()
        respondent.token_hash = hash_token(token)
        respondent.short_code_hash = hash_code(code)
        respondent.token_sealed = _seal(respondent.id, token, code)
        respondent.token_issued_at = now
        respondent.token_expires_on = campaign.token_expires_on
        if respondent.status == RespondentStatus.PENDING:
            respondent.status = RespondentStatus.INVITED
        issued.append(IssuedToken(respondent.id, token, format_code(code), citizen_url(token)))
    db.session.flush()
    return issued


Progress = Callable[[int, int], None]


def letter_deadline(campaign: Campaign, today: dt.date | None = None) -> dt.date | None:
    """The answer-by date a letter prints: the link expiry (or the campaign's end), never
    a day that has already passed (then the letter prints no date at all)."""
    deadline = campaign.token_expires_on or campaign.period_end
    if deadline is None or deadline < (today or local_today()):
        return None
    return deadline


def local_today() -> dt.date:
    """Today in the staff's zone (Asia/Ho_Chi_Minh), not the server's UTC date."""
    return dt.datetime.now(timezone()).date()


def _entries(
    campaign: Campaign, respondents: Sequence[Respondent], issued: Sequence[IssuedToken]
) -> list[InvitationEntry]:
    """One letter per respondent: their group's questionnaire (so its own letter texts),
    their unit, the units an official rates, and their postal address when the list has one."""
    unit_ids = {r.source_unit_id for r in respondents}
    rated: dict[int, list[int]] = {}
    for respondent_id, unit_id in db.session.execute(
        sa.select(RespondentTarget.respondent_id, RespondentTarget.rated_unit_id)
        .where(RespondentTarget.respondent_id.in_([r.id for r in respondents]))
        .order_by(RespondentTarget.id)
    ):
        rated.setdefault(respondent_id, []).append(unit_id)
        unit_ids.add(unit_id)
    unit_names = dict(
        db.session.execute(sa.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()
    )
    questionnaires = {}
    for group in {r.respondent_group for r in respondents}:
        if instrument_for(campaign.id, group) is not None:
            questionnaires[group] = questionnaire_for(campaign.id, group)
    return [
        InvitationEntry(
            url=item.url,
            code=item.code,
            addressee=respondent.full_name or None,
            unit=unit_names.get(respondent.source_unit_id),
            address=respondent.address or None,
            rated_units=tuple(unit_names[u] for u in rated.get(respondent.id, ())),
            questionnaire=questionnaires.get(respondent.respondent_group),
            group=respondent.respondent_group,
        )
        for respondent, item in zip(respondents, issued, strict=True)
    ]


PREVIEW_CODE = "XXXXX-XXXXX"
_SAMPLE = {
    "vi": ("Nguyễn Văn Mẫu", "Số 1 đường Mẫu, phường Mẫu", "Đơn vị mẫu"),
    "en": ("Sample Respondent", "1 Sample Street, Sample Ward", "Sample unit"),
}
# A made-up recipient that fits the group (an organisation's letter is addressed to it).
_SAMPLE_NAME = {
    "organisation": {"vi": "Công ty TNHH Mẫu", "en": "Sample Company Ltd"},
}


def render_preview(campaign: Campaign, group: str, lang: str, out) -> None:
    """A letter of ``group`` as it will print, for a made-up respondent (no token issued,
    no one's name): the unit and rated units of the group's first sampled person if any."""
    questionnaire = questionnaire_for(campaign.id, group)  # ResponseError without one
    name, address, unit_name = _SAMPLE[lang]
    name = _SAMPLE_NAME.get(group, {}).get(lang, name)
    someone = db.session.scalars(
        sa.select(Respondent)
        .where(Respondent.campaign_id == campaign.id, Respondent.respondent_group == group)
        .order_by(Respondent.id)
        .limit(1)
    ).first()
    rated: tuple[str, ...] = ()
    with_address = False
    if someone is not None:
        unit_name = db.session.get(Unit, someone.source_unit_id).name
        rated = tuple(
            db.session.scalars(
                sa.select(Unit.name)
                .join(RespondentTarget, RespondentTarget.rated_unit_id == Unit.id)
                .where(RespondentTarget.respondent_id == someone.id)
                .order_by(RespondentTarget.id)
            )
        )
        with_address = bool(
            db.session.scalar(
                sa.select(sa.func.count(Respondent.id)).where(
                    Respondent.campaign_id == campaign.id,
                    Respondent.respondent_group == group,
                    Respondent.address.is_not(None),
                    Respondent.address != "",
                )
            )
        )
    deadline = letter_deadline(campaign)
    render_invitations(
        [
            InvitationEntry(
                url=f"{current_app.config['BASE_URL']}/s/xem-truoc",
                code=PREVIEW_CODE,
                addressee=name,
                unit=unit_name,
                address=address if with_address else None,
                rated_units=rated,
                questionnaire=questionnaire,
                group=group,
            )
        ],
        out,
        province=current_app.config.get("PROVINCE_NAME"),
        year=campaign.code if campaign.code.isdigit() else None,
        deadline=deadline.strftime(DAY_FORMAT) if deadline else None,
        lang=lang,
        preview=True,
    )


def produce_letters(
    campaign: Campaign,
    respondents: Sequence[Respondent],
    out,
    *,
    lang: str = "vi",
    progress: Progress | None = None,
    new_codes: bool = False,
) -> list[IssuedToken]:
    """Write the letters of ``respondents`` (one PDF) to ``out``: with each person's existing
    code where it can be printed again, unless ``new_codes``, else with a new code.

    Each respondent gets their own group's letter (an official never gets the citizens'
    SIPAS letter); the deadline is printed only while it has not passed.
    """
    if not respondents:
        raise LettersError(
            "Không có người nào cần gửi thư (đã trả lời, hoặc chưa có mẫu).",
            "Nobody to write to (all have answered, or there is no sample yet).",
        )
    require_public_base_url()
    issued = tokens_for_letters(respondents, new_codes=new_codes)
    deadline = letter_deadline(campaign)
    render_invitations(
        _entries(campaign, respondents, issued),
        out,
        province=current_app.config.get("PROVINCE_NAME"),
        year=campaign.code if campaign.code.isdigit() else None,
        deadline=deadline.strftime(DAY_FORMAT) if deadline else None,
        lang=lang,
        progress=progress,
    )
    return issued


def letters_folder(campaign_id: int) -> Path:
    """A campaign's letters (they carry names): ``purge-pii`` removes the whole folder.
    In the storage location every host shares (STORAGE_DIR), so a letters job run by a
    worker on one host is downloaded from any web host."""
    return storage.root() / LETTERS_DIR / f"campaign-{campaign_id}"


def letters_path(campaign_id: int, suffix: str = ".pdf") -> Path:
    folder = letters_folder(campaign_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{uuid.uuid4().hex}{suffix}"


def render_letters_job(
    campaign_id: int,
    unit_id: int | None,
    respondent_ids: list[int] | None,
    only_new: bool,
    lang: str,
    new_codes: bool = False,
    group: str | None = None,
    unit_ids: list[int] | None = None,
) -> str:
    """Background job: the letters of one unit (a PDF), or of several units or the whole
    campaign (``unit_id`` None: a ZIP with one PDF per unit and one combined PDF).
    Returns the file's path; the job's message says how many codes were kept or new."""
    campaign = db.session.get(Campaign, campaign_id)
    query = invitable(campaign_id, unit_id, respondent_ids, only_new, group=group)
    if unit_ids is not None:
        query = query.where(Respondent.source_unit_id.in_([int(i) for i in unit_ids]))
    respondents = db.session.scalars(query).all()
    step = max(1, len(respondents) // 50)
    done_before = 0

    def report(done: int, total: int) -> None:
        done += done_before
        if done % step == 0 or done == len(respondents):
            jobs.progress(done, len(respondents))

    jobs.progress(0, len(respondents))
    if unit_id is not None:
        path = letters_path(campaign_id)
        try:
            issued = produce_letters(
                campaign, respondents, path, lang=lang, progress=report, new_codes=new_codes
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    else:
        if not respondents:
            produce_letters(campaign, respondents, None)  # raises "nobody to write to"
        path = letters_path(campaign_id, ".zip")
        issued = []
        try:
            with tempfile.TemporaryDirectory(dir=path.parent) as work:
                by_unit: dict[int, list[Respondent]] = {}
                for respondent in respondents:
                    by_unit.setdefault(respondent.source_unit_id, []).append(respondent)
                codes = dict(
                    db.session.execute(
                        sa.select(Unit.id, Unit.code).where(Unit.id.in_(by_unit))
                    ).all()
                )
                pdfs = []
                for unit, people in by_unit.items():
                    pdf = Path(work) / f"{ascii_name(codes[unit])}.pdf"
                    issued += produce_letters(
                        campaign, people, pdf, lang=lang, progress=report, new_codes=new_codes
                    )
                    done_before += len(people)
                    pdfs.append(pdf)
                _write_zip(path, pdfs)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    reused = sum(1 for item in issued if item.reused)
    jobs.progress(
        len(respondents),
        len(respondents),
        both(
            f"{reused} thư in lại với mã cũ (thư trước vẫn dùng được), "
            f"{len(issued) - reused} thư với mã mới.",
            f"{reused} letters re-printed with their existing code (earlier letters still "
            f"work), {len(issued) - reused} with a new code.",
        ),
    )
    return str(path)


COMBINED_NAME = "tat-ca-thu-moi.pdf"  # every unit's letters in one file, for one print run


def _write_zip(path: Path, pdfs: Sequence[Path]) -> None:
    """One PDF per unit and all of them combined (pypdf), in one ZIP."""
    combined = path.with_suffix(".combined.pdf")
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(str(pdf))
    with combined.open("wb") as out:
        writer.write(out)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for pdf in pdfs:
                archive.write(pdf, f"don-vi/{pdf.name}")
            archive.write(combined, COMBINED_NAME)
    finally:
        combined.unlink(missing_ok=True)


def delete_letters_file(path: str | None) -> None:
    """Remove a letters PDF, only inside the storage's letters folder (or a campaign's)."""
    if not path:
        return
    root = (storage.root() / LETTERS_DIR).resolve()
    target = Path(path).resolve()
    if root in (target.parent, target.parent.parent):  # older files lie in the root itself
        target.unlink(missing_ok=True)


def delete_campaign_letters(campaign_id: int) -> int:
    """Remove every letters file of the campaign; return how many there were."""
    folder = letters_folder(campaign_id)
    if not folder.is_dir():
        return 0
    count = sum(1 for path in folder.iterdir() if path.is_file())
    shutil.rmtree(folder)
    return count
