"""Seeding the demo database through the application's own operations.

Nothing is written behind the features' backs: the registry goes through the units
importer, users through ``create_user``, the lists through the frames upload checks
(``sampling`` validation) and ``store_upload``, the sample through ``perform_draw`` (a
real stratified draw with reserves and a manifest) and ``lock``, the campaign through
the lifecycle's ``transition``, fieldwork through ``assign_next_pending``,
``record_attempt`` and ``replace_with_reserve``, tokens through ``issue_tokens`` (only
keyed hashes are stored), and every answer through ``record_response``.

Everything random comes from one ``numpy.random.Generator`` seeded with :data:`SEED`, so
two demo databases hold the same lists, sample and answers (tokens excepted: they are
secrets and always fresh).

Usage (inside an application context; the caller commits)::

    state = database_state()               # "empty" | "demo" | "other"
    summary = seed_demo(progress)          # commits; a DemoSummary
    links = fresh_links(campaign_id)       # re-issued tokens for 3 citizens to try
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from flask import current_app

from questionnaires import load_builtin
from surveyapp import storage
from surveyapp.audit import record
from surveyapp.auth.users import create_user
from surveyapp.campaigns.lifecycle import transition
from surveyapp.crosswalk import operations as crosswalks
from surveyapp.crosswalk.logic import COLUMNS
from surveyapp.csvsafe import write_csv
from surveyapp.db import transaction, utcnow
from surveyapp.demo.answers import simulate_answers
from surveyapp.demo.generator import ListPlan, citizens_file, officials_file
from surveyapp.draws.checks import check_draw
from surveyapp.draws.operations import lock, perform_draw
from surveyapp.extensions import db
from surveyapp.fieldwork import operations as fieldwork
from surveyapp.frames.operations import Rejection, check_file, store_upload
from surveyapp.i18n import timezone
from surveyapp.models.campaigns import Campaign, CampaignInstrument, CampaignStatus
from surveyapp.models.frames import FrameRecord, FrameUpload, ListKind
from surveyapp.models.jobs import JobStatus
from surveyapp.models.respondents import ContactMode, Respondent, RespondentStatus, Selection
from surveyapp.models.responses import Response, ResponseMode
from surveyapp.models.units import Unit
from surveyapp.models.users import Role, User
from surveyapp.responses.operations import record_response
from surveyapp.results.runs import campaign_directory, list_runs, start_run
from surveyapp.tokens.service import IssuedToken, invitable, issue_tokens
from surveyapp.units.builtin import import_builtin
from surveyapp.units.official_import import import_official
from surveyapp.walkin.poster import poster_link

SEED = 2024
# The campaigns' names mark a database as the demo's (a real campaign is never named so).
DEMO_MARK = "(dữ liệu demo / demo data)"
HCM_DEPARTMENTS = (
    Path(__file__).resolve().parent.parent / "units" / "data" / "departments-hcm-2025.csv"
)
# The design an administrator would choose on the Draw page: strata unit × respondent
# group, Yamane's n = N / (1 + N·e²) with e = 10 % in every stratum, 20 % reserves.
DRAW_PARAMS = {
    "extra_strata": [],
    "size_mode": "margin",
    "margin": 0.10,
    "confidence": 0.95,
    "rule": "yamane",
    "per_stratum": True,
    "allocation": "proportional",
    "reserve": 0.2,
    "seed": SEED,
}
LINKS_PRINTED = 3
CITIZENS = ("citizen", "organisation")


@dataclass(frozen=True)
class CampaignPlan:
    """One demo campaign: its registry's units with lists, dates, who answers how."""

    code: str
    name: str
    period: tuple[dt.date, dt.date]
    lists_due: dt.date
    instruments: tuple[tuple[str, str, str], ...]
    # (unit code, procedures profile, citizens, share of organisations, officials, format)
    lists: tuple[tuple[str, str, int, float, int, str], ...]
    uploaded_on: dict[str, dt.date]
    unit_level: dict[str, float]  # typical satisfaction (1-5) of each unit's users
    # (unit, web, paper, from these groups): answers from people who got letters
    answered_by_letter: tuple[tuple[str, int, int, tuple[str, ...]], ...]
    token_units: tuple[str, ...]  # units whose sampled people got letters
    assignments: tuple[tuple[str, str, int], ...]  # (enumerator, unit, cases)
    mapping: str
    province: str
    email_domain: str
    registry: str  # the code of the unit registry the campaign surveys
    links_unit: str = ""  # the unit whose citizens' links are printed
    walkin_units: tuple[str, ...] = ()
    walkin_responses: int = 0
    simulate_contacts: bool = False  # attempts, refusals and replacements by the enumerators


# The previous year: Bà Rịa – Vũng Tàu's 2024 campaign, before the reform (districts, its
# own departments). Closed, scored.
PREVIOUS = CampaignPlan(
    code="2024",
    name=f"Khảo sát Chỉ số CCHC năm 2024 - tỉnh Bà Rịa - Vũng Tàu {DEMO_MARK}",
    period=(dt.date(2024, 1, 1), dt.date(2024, 9, 30)),
    lists_due=dt.date(2024, 7, 15),
    instruments=(
        ("citizen", "sipas-citizen", "2024"),
        ("organisation", "sipas-citizen", "2024"),
        ("official", "par-officials", "2024"),
    ),
    lists=(
        ("STP", "STP", 420, 0.12, 64, "xlsx"),
        ("STNMT", "STNMT", 380, 0.30, 78, "csv"),
        ("TPVT", "district", 900, 0.10, 110, "csv-semicolon"),
        ("HXM", "district", 620, 0.08, 96, "xlsx"),
        ("TPVT-PTHANGTAM", "commune", 180, 0.05, 22, "csv"),
        ("TPVT-XLONGSON", "commune", 120, 0.04, 18, "csv"),
        ("HXM-XBONGTRANG", "commune", 150, 0.04, 20, "xlsx"),
    ),
    uploaded_on={
        "STP": dt.date(2024, 7, 3),
        "STNMT": dt.date(2024, 7, 10),
        "TPVT": dt.date(2024, 7, 12),
        "HXM": dt.date(2024, 7, 15),
        "TPVT-PTHANGTAM": dt.date(2024, 7, 8),
        "TPVT-XLONGSON": dt.date(2024, 7, 11),
        "HXM-XBONGTRANG": dt.date(2024, 7, 22),
    },  # fmt: skip
    unit_level={
        "STP": 4.1,
        "STNMT": 3.7,
        "TPVT": 3.9,
        "HXM": 4.0,
        "TPVT-PTHANGTAM": 4.0,
        "TPVT-XLONGSON": 4.1,
        "HXM-XBONGTRANG": 3.6,
    },  # fmt: skip
    answered_by_letter=(
        ("TPVT-PTHANGTAM", 32, 2, CITIZENS),
        ("STP", 30, 4, CITIZENS),
        ("STP", 6, 1, ("official",)),
    ),
    token_units=("TPVT-PTHANGTAM", "STP"),
    assignments=(("enum2", "HXM-XBONGTRANG", 12),),
    mapping="brvt-2024",
    province="Bà Rịa - Vũng Tàu",
    email_domain="baria-vungtau.gov.vn",
    registry="brvt-2024",
)


def current_plan(today: dt.date) -> CampaignPlan:
    """This year's campaign in Thành phố Hồ Chí Minh, dated around ``today``: procedures
    of this year, lists due six weeks ago, fieldwork under way, ending in three weeks."""
    year = today.year
    due = today - dt.timedelta(days=45)
    return CampaignPlan(
        code=str(year),
        name=f"Khảo sát Chỉ số CCHC năm {year} - Thành phố Hồ Chí Minh {DEMO_MARK}",
        period=(dt.date(year, 1, 1), today + dt.timedelta(days=21)),
        lists_due=due,
        instruments=(
            ("citizen", "sipas-citizen", "2025"),
            ("organisation", "sipas-citizen", "2025"),
            ("official", "par-officials", "2025"),
        ),
        lists=(
            ("79-STP", "STP", 520, 0.12, 80, "xlsx"),
            ("79-SNNMT", "STNMT", 460, 0.30, 96, "csv"),
            ("26506", "commune", 640, 0.08, 48, "csv-semicolon"),
            ("26526", "commune", 380, 0.06, 36, "csv"),
            ("26545", "commune", 120, 0.04, 18, "csv"),
            ("26632", "commune", 300, 0.05, 30, "xlsx"),
            ("25747", "commune", 560, 0.10, 52, "csv"),
        ),
        uploaded_on={
            "79-STP": due - dt.timedelta(days=12),
            "79-SNNMT": due - dt.timedelta(days=5),
            "26506": due - dt.timedelta(days=3),
            "26526": due - dt.timedelta(days=8),
            "26545": due - dt.timedelta(days=1),
            "26632": due + dt.timedelta(days=6),
            "25747": due - dt.timedelta(days=2),
        },  # fmt: skip
        unit_level={
            "79-STP": 4.3,
            "79-SNNMT": 3.8,
            "26506": 4.4,
            "26526": 4.2,
            "26545": 4.0,
            "26632": 3.9,
            "25747": 4.1,
        },  # fmt: skip
        answered_by_letter=(
            ("26506", 32, 0, CITIZENS),
            ("79-STP", 30, 3, CITIZENS),
            ("79-STP", 6, 1, ("official",)),
            ("26526", 10, 2, CITIZENS),
        ),
        token_units=("26506", "79-STP", "26526"),
        assignments=(("enum1", "26506", 30), ("enum2", "26632", 24)),
        mapping="hcm-2026",
        province="Thành phố Hồ Chí Minh",
        email_domain="tphcm.gov.vn",
        registry="79-2025",
        links_unit="26506",
        walkin_units=("26506", "79-STP"),
        walkin_responses=8,
        simulate_contacts=True,
    )


# The Department's decisions the dataset cannot propose: communes merged on 1 January
# 2025 (Resolution 1256/NQ-UBTVQH15), before the two-tier reform.
CROSSWALK_DECISIONS = (
    "HLD-XANNGAI,26659,Tam An (01/01/2025), nay Xã Long Điền",
    "HLD-XANNHUT,26659,Tam An (01/01/2025), nay Xã Long Điền",
    "HLD-XTAMPHUOC,26659,Tam An (01/01/2025), nay Xã Long Điền",
    "HDD-XLOCAN,26686,vào xã Phước Hội (01/01/2025), nay Xã Phước Hải",
    "HDD-XLONGMY,26686,vào TT Phước Hải (01/01/2025), nay Xã Phước Hải",
    "TPBR-PPHUOCHIEP,26560,vào phường Phước Trung (01/01/2025), nay Phường Bà Rịa",
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    password: str
    full_name: str
    unit_code: str | None
    try_vi: str
    try_en: str


DEMO_USERS = (
    DemoUser("admin", Role.ADMIN, "admin-demo", "Lê Thị Minh Tâm (Sở Nội vụ)", None,
             "Tiến độ, danh sách đơn vị, chọn mẫu, kết quả và so sánh với năm 2024 (BR-VT)",
             "progress dashboard, lists, draw, results and the comparison with 2024 (BR-VT)"),
    DemoUser("supervisor", Role.SUPERVISOR, "supervisor-demo", "Phạm Quốc Bảo (giám sát)", None,
             "Phân công điều tra viên, thay thế bằng người dự phòng, phúc tra",
             "assign enumerators, replace refusals from the reserve, back-checks"),
    DemoUser("enum1", Role.ENUMERATOR, "enum1-demo", "Trần Văn Hải (điều tra viên)", None,
             "Việc của tôi: ghi lần liên hệ, phỏng vấn (Phường Vũng Tàu)",
             "my assignments: record attempts, interview (Vũng Tàu ward)"),
    DemoUser("enum2", Role.ENUMERATOR, "enum2-demo", "Nguyễn Thị Thu Hà (điều tra viên)", None,
             "Việc của tôi (Xã Xuyên Mộc)", "my assignments (Xuyên Mộc commune)"),
    DemoUser("focal", Role.FOCAL_POINT, "focal-demo", "Võ Thị Ngọc Hân (đầu mối)",
             "26506", "Danh sách đã nộp và báo cáo lỗi, tiến độ của phường, áp phích",
             "the ward's lists and error reports, its progress, the counter poster"),
    DemoUser("clerk", Role.CLERK, "clerk-demo", "Đỗ Minh Khoa (nhập liệu)", None,
             "Nhập phiếu giấy bằng mã ngắn (ví dụ mã số 3 dưới đây)",
             "key in a paper form by its short code (e.g. code no. 3 below)"),
)  # fmt: skip

LEVEL_CHOICE = {"Sở, ban, ngành": 1, "UBND cấp huyện": 3, "UBND cấp xã": 4}  # SIPAS a1
OFFICIAL_LEVEL_CHOICE = {"Sở, ban, ngành": 1, "UBND cấp huyện": 2, "UBND cấp xã": 3}

Progress = Callable[[str, str, float], None]  # (label vi, label en, seconds)


class DemoError(Exception):
    def __init__(self, message_vi: str, message_en: str):
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi, self.message_en = message_vi, message_en


@dataclass
class DemoSummary:
    campaign_id: int
    scoring_problem: str | None = None  # why the scoring run failed, if it did
    run_id: str | None = None


# ------------------------------------------------------------------------ the database


def database_state() -> str:
    """``empty`` (no schema, or no user and no campaign), ``demo`` or ``other``."""
    if not sa.inspect(db.engine).has_table("campaigns"):
        return "empty"
    # Only the name: an older demo database may lack this version's columns until migrated.
    if db.session.scalar(sa.select(Campaign.id).where(Campaign.name.endswith(DEMO_MARK))):
        return "demo"
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    campaigns = db.session.scalar(sa.select(sa.func.count(Campaign.id)))
    return "empty" if not users and not campaigns else "other"


def demo_campaign() -> Campaign | None:
    """The demo's current campaign (the one that names a previous campaign)."""
    return db.session.scalar(
        sa.select(Campaign)
        .where(Campaign.name.endswith(DEMO_MARK), Campaign.previous_campaign_id.is_not(None))
        .order_by(Campaign.id.desc())
    )


def erase_database() -> None:
    """Drop everything: the SQLite file itself, or every table of another database; and
    the instance's files that belong to the database (scoring runs, letters)."""
    engine = db.engine
    url = engine.url
    db.session.remove()
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        engine.dispose()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
    else:
        tables = sa.MetaData()
        tables.reflect(bind=engine)
        tables.drop_all(bind=engine)
        engine.dispose()
    for folder in ("results", "letters"):
        shutil.rmtree(storage.root() / folder, ignore_errors=True)


def database_location() -> str:
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return str(Path(url.database).resolve())
    return url.render_as_string(hide_password=True)


# ----------------------------------------------------------------------------- seeding


@contextmanager
def _timed(progress: Progress | None, label_vi: str, label_en: str) -> Iterator[None]:
    """Report how long the enclosed step took."""
    start = time.perf_counter()
    yield
    if progress:
        progress(label_vi, label_en, time.perf_counter() - start)


def seed_demo(progress: Progress | None = None, today: dt.date | None = None) -> DemoSummary:
    """Seed an empty (migrated) database: last year's Bà Rịa – Vũng Tàu campaign, scored
    and closed, then this year's Thành phố Hồ Chí Minh campaign in fieldwork, whose
    scoring run compares each unit with its predecessors through the crosswalk."""
    rng = np.random.default_rng(SEED)
    today = today or local_today()
    plan = current_plan(today)
    with transaction():
        with _timed(progress, "Danh mục BR-VT 2024 và TP.HCM 2025 (mã chính thức)",
                    "registries: BR-VT 2024 and HCMC 2025 (official codes)"):  # fmt: skip
            units = _import_registries()
        with _timed(progress, "Bảng chuyển đổi đơn vị cũ → mới (đã xác nhận)",
                    "old → current unit crosswalk (confirmed)"):  # fmt: skip
            _crosswalk()
        with _timed(progress, "Tài khoản demo", "demo accounts"):
            users = _create_users()
    previous = _seed_campaign(rng, PREVIOUS, units, users, progress)
    current = _seed_campaign(rng, plan, units, users, progress, previous=previous)
    return current


def local_today() -> dt.date:
    return dt.datetime.now(timezone()).date()


def _seed_campaign(rng, plan, units, users, progress, previous=None) -> DemoSummary:
    year = plan.code
    with transaction():
        with _timed(progress, f"Đợt {year}, bảng hỏi", f"campaign {year}, questionnaires"):
            campaign = _create_campaign(plan, previous)
            if previous is None:
                # Last year's campaign is replayed today: its letters' links work until
                # it is closed below, then expire with its survey period again.
                campaign.token_expires_on = local_today()
        count = len(plan.lists)
        with _timed(progress, f"{year}: danh sách của {count} đơn vị (kiểm tra)",
                    f"{year}: lists of {count} units (checked)"):  # fmt: skip
            _upload_lists(rng, plan, campaign, units, users)
        with _timed(progress, f"{year}: chọn mẫu có dự phòng, khoá mẫu",
                    f"{year}: draw with reserves, lock"):  # fmt: skip
            _draw_and_lock(campaign, users["admin"])
        with _timed(progress, f"{year}: khảo sát, phỏng vấn", f"{year}: fieldwork, interviews"):
            transition(campaign, CampaignStatus.FIELDWORK)
            assigned = _assign(plan, campaign, units, users)
            if plan.simulate_contacts:
                _fieldwork(rng, plan, campaign, units, users, assigned)
            else:
                for username, code, _ in plan.assignments:
                    for respondent in assigned[username][: len(assigned[username]) // 2]:
                        _interview(rng, plan, respondent, units[code], users[username],
                                   ResponseMode.ENUMERATOR)  # fmt: skip
        with _timed(progress, f"{year}: mã trả lời, phiếu web, giấy, tại quầy",
                    f"{year}: tokens; web, paper, walk-in answers"):  # fmt: skip
            issued = _issue_tokens(plan, campaign, units)
            _web_and_paper_responses(rng, plan, campaign, units, users, issued)
            _walkin_responses(rng, plan, campaign, units)
        summary = DemoSummary(campaign.id)
    _clear_stale_runs(campaign.id)
    with _timed(progress, f"{year}: tính điểm (kết quả)", f"{year}: a scoring run (results)"):
        _scoring_run(summary, plan, users["admin"].id)
    if previous is None:
        with transaction():
            closed = db.session.get(Campaign, campaign.id)
            closed.token_expires_on = None
            transition(closed, CampaignStatus.CLOSED)
    return summary


def _import_registries() -> dict[str, Unit]:
    for result in (
        import_builtin("brvt-2024"),
        import_official("79", HCM_DEPARTMENTS.read_bytes()),
    ):
        if not result.ok:
            first = result.errors[0]
            raise DemoError(first.message_vi, first.message_en)
    db.session.flush()
    return {u.code: u for u in db.session.scalars(sa.select(Unit))}


def _crosswalk() -> None:
    """Proposed from the dataset, completed with the Department's decisions, confirmed."""
    old = crosswalks.registry_by_code("brvt-2024")
    new = crosswalks.registry_by_code("79-2025")
    proposed = crosswalks.propose(old, new, None).crosswalk
    rows = crosswalks.export_rows(proposed)
    for line in CROSSWALK_DECISIONS:
        old_code, new_code, note = line.split(",", 2)
        rows.append([old_code, "", new_code, "", "", "", note])
    data = write_csv(rows, COLUMNS, bom=False).encode("utf-8")
    outcome = crosswalks.import_csv(old, new, data, None, "quyet-dinh-so-noi-vu.csv")
    if not outcome.ok:
        first = outcome.errors[0]
        raise DemoError(first.message_vi, first.message_en)
    missing = crosswalks.confirm(outcome.crosswalk, None)
    if missing:
        raise DemoError(f"Bảng chuyển đổi thiếu {missing[0].code}",
                        f"The crosswalk misses {missing[0].code}")  # fmt: skip


def _create_users() -> dict[str, User]:
    users = {}
    for spec in DEMO_USERS:
        users[spec.username] = create_user(
            spec.username, spec.role, spec.password, spec.unit_code, spec.full_name
        )
    db.session.flush()
    return users


def _create_campaign(plan: CampaignPlan, previous: DemoSummary | None) -> Campaign:
    campaign = Campaign(
        code=plan.code,
        name=plan.name,
        status=CampaignStatus.DRAFT,
        period_start=plan.period[0],
        period_end=plan.period[1],
        lists_due_on=plan.lists_due,
        # This year's paper forms and interviews can be keyed two weeks after the end.
        entry_deadline=plan.period[1] + dt.timedelta(days=14) if previous else None,
        previous_campaign_id=previous.campaign_id if previous else None,
        comparison_rule="responses",
        registry_id=crosswalks.registry_by_code(plan.registry).id,
    )
    for group, questionnaire_id, version in plan.instruments:
        campaign.instruments.append(
            CampaignInstrument(
                respondent_group=group, questionnaire_id=questionnaire_id,
                questionnaire_version=version,
            )
        )  # fmt: skip
    db.session.add(campaign)
    db.session.flush()
    return campaign


def _upload_lists(rng, plan: CampaignPlan, campaign: Campaign, units, users) -> None:
    limits = {
        "max_bytes": current_app.config["MAX_CONTENT_LENGTH"],
        "max_rows": current_app.config["MAX_UPLOAD_ROWS"],
    }
    focal = {u.unit_id: u for u in users.values() if u.role == Role.FOCAL_POINT}
    period = (plan.period[0], min(plan.period[1], plan.lists_due - dt.timedelta(days=7)))
    for code, profile, citizens, organisations, officials, file_format in plan.lists:
        unit = units[code]
        list_plan = ListPlan(
            code, unit.name, profile, citizens, organisations, officials, file_format,
            places=_places(unit, units), email_domain=plan.email_domain,
            province=plan.province, year=plan.period[0].year,
        )  # fmt: skip
        # A district's list includes, by mistake, a row of one of its communes.
        other = next((u.name for u in units.values() if u.parent_id == unit.id), None)
        uploader = focal.get(unit.id, users["admin"])
        for kind, made in (
            (ListKind.CITIZENS, citizens_file(rng, list_plan, period, other)),
            (ListKind.OFFICIALS, officials_file(rng, list_plan)),
        ):
            outcome = check_file(made.data, made.filename, campaign, unit, kind, **limits)
            if isinstance(outcome, Rejection):
                raise DemoError(outcome.message_vi, outcome.message_en)
            valid, issues, summary = outcome
            upload = store_upload(
                campaign, unit, kind, made.filename, uploader.id, valid, issues, summary
            )
            # When the lists arrived (the status page compares with the due date).
            upload.uploaded_at = dt.datetime.combine(plan.uploaded_on[code], dt.time(2, 30))


def _places(unit: Unit, units: dict[str, Unit]) -> tuple[str, ...]:
    """Where a unit's users live: a commune's own area, a district's communes, or (for a
    provincial department) anywhere in the province."""
    by_id = {u.id: u for u in units.values()}
    parent = by_id.get(unit.parent_id)
    if parent is not None:
        return (f"{unit.name}, {parent.name}",)
    if unit.official_code:  # a commune of the two-tier structure
        return (unit.name,)
    children = [u for u in units.values() if u.parent_id == unit.id]
    return tuple(f"{child.name}, {unit.name}" for child in children)


def _draw_and_lock(campaign: Campaign, admin: User) -> None:
    draw = perform_draw(campaign.id, dict(DRAW_PARAMS), admin.id)
    record("draw.run", campaign, "demo")
    check_draw(draw)
    lock(draw, confirmed=True, commitment_required=False)
    record("draw.lock", draw, "demo")


def _assign(plan, campaign, units, users) -> dict[str, list[Respondent]]:
    return {
        username: fieldwork.assign_next_pending(campaign.id, units[code].id, users[username], n)
        for username, code, n in plan.assignments
    }


def _questionnaire(campaign_id: int, group: str):
    instrument = db.session.scalar(
        sa.select(CampaignInstrument).where(
            CampaignInstrument.campaign_id == campaign_id,
            CampaignInstrument.respondent_group == group,
        )
    )
    return load_builtin(instrument.questionnaire_id, instrument.questionnaire_version)


def _answers_for(rng, plan, respondent: Respondent, unit: Unit, campaign_id: int):
    questionnaire = _questionnaire(campaign_id, respondent.respondent_group)
    if respondent.respondent_group == "official":
        preset = {"a2": OFFICIAL_LEVEL_CHOICE.get(unit.level_label, 1)}
    else:
        preset = {
            "a1": LEVEL_CHOICE.get(unit.level_label, 1),
            "a5": int(rng.integers(1, 10)),  # a month of the survey period
            "a6": int(rng.choice([1, 2, 3], p=[0.7, 0.25, 0.05])),
            "a7": 2 if respondent.respondent_group == "organisation" else 1,
        }
    return questionnaire, simulate_answers(
        questionnaire, rng, level=plan.unit_level.get(unit.code, 4.0), preset=preset
    )


def _interview(rng, plan, respondent: Respondent, unit: Unit, by_user: User, mode):
    questionnaire, answers = _answers_for(rng, plan, respondent, unit, respondent.campaign_id)
    record_response(
        respondent=respondent, unit=unit, answers=answers, mode=mode, questionnaire=questionnaire
    )
    contact = ContactMode.PHONE if mode is ResponseMode.ENUMERATOR else ContactMode.POST
    fieldwork.note_interview(respondent, by_user, contact)


def _fieldwork(rng, plan, campaign, units, users, assigned) -> None:
    """Each enumerator's week: interviews, call-backs, refusals replaced from the reserve."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)

    def at(days: float) -> dt.datetime:
        return now - dt.timedelta(days=days)

    def attempt(respondent, disposition, by, days, note=None, auto_replace=False):
        fieldwork.record_attempt(
            respondent, mode=ContactMode.PHONE, disposition=disposition, by_user=by,
            note=note, attempted_at=at(days), auto_replace=auto_replace,
        )  # fmt: skip

    enum1, enum2 = users["enum1"], users["enum2"]
    (_, unit1, _), (_, unit2, _) = plan.assignments
    cases = assigned["enum1"]
    for respondent in cases[:8]:
        if rng.random() < 0.4:
            attempt(respondent, "appointment", enum1, 6, "Hẹn gọi lại buổi chiều")
        _interview(rng, plan, respondent, units[unit1], enum1, ResponseMode.ENUMERATOR)
    for respondent in cases[8:10]:
        attempt(respondent, "refusal", enum1, 5, "Bận, không muốn trả lời")
        fieldwork.replace_with_reserve(respondent)
    noncontact = cases[10]
    for days in (6, 4, 2):
        attempt(noncontact, "no_answer", enum1, days)
    fieldwork.replace_with_reserve(noncontact)
    for respondent in cases[11:14]:
        attempt(respondent, "appointment", enum1, 1, "Hẹn gặp tại nhà thứ Bảy")
    for respondent in cases[14:18]:
        attempt(respondent, "no_answer", enum1, 1)
    attempt(cases[18], "wrong_number", enum1, 3, "Số máy không đúng người")

    cases = assigned["enum2"]
    for respondent in cases[:6]:
        _interview(rng, plan, respondent, units[unit2], enum2, ResponseMode.ENUMERATOR)
    attempt(cases[6], "refusal", enum2, 3, auto_replace=True)
    attempt(cases[7], "ineligible", enum2, 3, f"Không làm thủ tục tại xã trong năm {plan.code}")
    for respondent in cases[8:10]:
        attempt(respondent, "unavailable", enum2, 2, "Đi làm xa, người nhà nghe máy")


def _issue_tokens(plan, campaign, units) -> list[tuple[Respondent, IssuedToken]]:
    issued = []
    for code in plan.token_units:
        respondents = db.session.scalars(
            invitable(campaign.id, units[code].id, only_new=True)
        ).all()
        issued.extend(zip(respondents, issue_tokens(respondents), strict=True))
    return issued


def _web_and_paper_responses(rng, plan, campaign, units, users, issued) -> None:
    """Some invited people answer on the web with their token, a few send the paper form
    back (keyed in by the clerk). The first citizens of the links unit are kept for the
    printed links."""
    kept = set()
    if plan.links_unit:
        kept = {r.id for r in _link_candidates(campaign.id, plan.links_unit)[: 2 * LINKS_PRINTED]}
    for code, web, paper, groups in plan.answered_by_letter:
        unit = units[code]
        pool = [
            (r, t)
            for r, t in issued
            if r.source_unit_id == unit.id and r.id not in kept and r.respondent_group in groups
        ]
        order = rng.permutation(len(pool))[: web + paper]
        chosen = [pool[i] for i in sorted(order.tolist())]
        for respondent, token in chosen[:web]:
            questionnaire, answers = _answers_for(rng, plan, respondent, unit, campaign.id)
            record_response(
                respondent=respondent, token=token.token, unit=unit, answers=answers,
                mode=ResponseMode.WEB, questionnaire=questionnaire,
            )  # fmt: skip
        for respondent, _ in chosen[web:]:
            _interview(rng, plan, respondent, unit, users["clerk"], ResponseMode.PAPER)


def _walkin_responses(rng, plan, campaign, units) -> None:
    for number in range(plan.walkin_responses):
        unit = units[plan.walkin_units[number % len(plan.walkin_units)]]
        link = poster_link(campaign, unit)
        questionnaire = _questionnaire(campaign.id, link.respondent_group)
        answers = simulate_answers(
            questionnaire,
            rng,
            level=plan.unit_level.get(unit.code, 4.0),
            preset={"a1": LEVEL_CHOICE.get(unit.level_label, 1), "a6": 1, "a7": 1},
        )
        record_response(
            unit=unit, answers=answers, mode=ResponseMode.WALKIN, questionnaire=questionnaire,
            campaign=campaign, respondent_group=link.respondent_group,
        )  # fmt: skip


def _clear_stale_runs(campaign_id: int) -> None:
    """Scoring runs left in the instance folder by an earlier database with a campaign of
    the same id belong to no campaign of this one."""

    shutil.rmtree(campaign_directory(campaign_id), ignore_errors=True)


# The demo's units have a few dozen respondents each, a few in each channel: with the
# mappings' minimum of 30 per criterion none could be ranked. Its run says the minimum it
# used; a real campaign keeps the mapping's.
DEMO_MIN_N = 5


def _scoring_run(summary: DemoSummary, plan: CampaignPlan, admin_id: int) -> None:
    """One scoring run so the results page has content (its job runs inline)."""

    with transaction():
        campaign = db.session.get(Campaign, summary.campaign_id)
        run = start_run(campaign, mapping=plan.mapping, min_n=DEMO_MIN_N, created_by=admin_id)
        summary.run_id = run.id
        job = run.job()
        if job is not None and job.status == JobStatus.FAILED:
            summary.scoring_problem = job.message


# ------------------------------------------------------------------------------ links


def _links_unit(campaign_id: int) -> str:
    campaign = db.session.get(Campaign, campaign_id)
    return current_plan(campaign.period_end or local_today()).links_unit


def _link_candidates(campaign_id: int, links_unit: str | None = None) -> list[Respondent]:
    """Invited citizens of the links unit who have not answered, first by id."""
    code = links_unit or _links_unit(campaign_id)
    unit_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == code))
    query = (
        invitable(campaign_id, unit_id)
        .where(
            Respondent.respondent_group == "citizen",
            Respondent.status.in_((RespondentStatus.PENDING, RespondentStatus.INVITED)),
            Respondent.assigned_enumerator_id.is_(None),
        )
        .limit(2 * LINKS_PRINTED)
    )
    return list(db.session.scalars(query))


def fresh_links(campaign_id: int, count: int = LINKS_PRINTED) -> list[IssuedToken]:
    """New tokens (so printable links) for the first ``count`` citizens still to answer.

    Tokens are stored only as hashes, so earlier links of these people cannot be shown
    again: they get new ones, and their earlier links stop working.
    """
    chosen = _link_candidates(campaign_id)[:count]
    if not chosen:
        raise DemoError(
            "Mọi người được mời của đơn vị demo đã trả lời: chạy lại với --reset.",
            "Everyone invited in the demo unit has answered: run again with --reset.",
        )
    return issue_tokens(chosen)


def walkin_url(campaign_id: int) -> str:
    campaign = db.session.get(Campaign, campaign_id)
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == _links_unit(campaign_id)))
    return f"{current_app.config['BASE_URL']}/w/{poster_link(campaign, unit).slug}"


def poster_path(campaign_id: int) -> str:
    unit_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == _links_unit(campaign_id)))
    return f"/posters/{campaign_id}/{unit_id}.pdf"


def comparison_path(campaign_id: int) -> str | None:
    """The results page of the campaign's latest scoring run (with last year beside)."""
    runs = list_runs(campaign_id)
    return f"/results/{campaign_id}/runs/{runs[0].id}" if runs else None


def counts() -> dict[str, int]:
    """What the demo database holds (for the summary)."""

    def count(column, *conditions) -> int:
        return int(db.session.scalar(sa.select(sa.func.count(column)).where(*conditions)) or 0)

    responses = dict(
        db.session.execute(
            sa.select(Response.mode, sa.func.count(Response.id)).group_by(Response.mode)
        ).all()
    )
    return {
        "units": count(Unit.id),
        "users": count(User.id),
        "lists": count(FrameUpload.id, FrameUpload.is_current),
        "records": count(FrameRecord.id),
        "primaries": count(Respondent.id, Respondent.selection == Selection.PRIMARY),
        "reserves": count(Respondent.id, Respondent.selection == Selection.RESERVE),
        "released": count(Respondent.id, Respondent.released.is_(True)),
        "tokens": count(Respondent.id, Respondent.token_hash.is_not(None)),
        "web": responses.get(ResponseMode.WEB, 0),
        "enumerator": responses.get(ResponseMode.ENUMERATOR, 0),
        "paper": responses.get(ResponseMode.PAPER, 0),
        "walkin": responses.get(ResponseMode.WALKIN, 0),
    }
