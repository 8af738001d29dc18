"""Draws: design preview, draw, respondents, redraw, lock, fieldwork rule, verification,
contractor lists, background job, crash safety."""

import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import load_workbook

from surveyapp.extensions import db
from surveyapp.models import (
    Campaign,
    CampaignStatus,
    Draw,
    FrameRecord,
    FrameUpload,
    ListKind,
    RatingTarget,
    Respondent,
    RespondentTarget,
    Selection,
)
from surveyapp.models.users import Role

PERIOD = {"period_start": dt.date(2024, 1, 1), "period_end": dt.date(2024, 9, 30)}


def add_list(db_session, campaign, unit, kind, names, groups=None, fields=None):
    with db_session() as session:
        session.execute(
            sa.update(FrameUpload)
            .where(FrameUpload.campaign_id == campaign.id, FrameUpload.unit_id == unit.id,
                   FrameUpload.list_kind == kind)
            .values(is_current=False)
        )  # fmt: skip
        upload = FrameUpload(campaign_id=campaign.id, unit_id=unit.id, list_kind=kind,
                             filename="x.csv", rows_read=len(names), rows_valid=len(names))  # fmt: skip
        session.add(upload)
        session.flush()
        for i, name in enumerate(names):
            extra = {"field": fields[i % len(fields)]} if fields else None
            session.add(
                FrameRecord(
                    upload_id=upload.id, source_row=i + 2, full_name=name,
                    phone=f"09{i:08d}", email=f"p{i}@example.vn", address=f"Số {i}",
                    dossier_code=f"HS{i}", respondent_group=groups or "citizen", extra=extra,
                )
            )  # fmt: skip


@pytest.fixture
def setup(factory, db_session):
    campaign = factory.campaign(code="2024", **PERIOD)
    one = factory.unit(code="XA01", name="UBND xã Một")
    two = factory.unit(code="XA02", name="UBND xã Hai")
    add_list(db_session, campaign, one, ListKind.CITIZENS,
             [f"Dân {i}" for i in range(30)], fields=["Đất đai", "Hộ tịch"])  # fmt: skip
    add_list(db_session, campaign, two, ListKind.CITIZENS,
             ["=HYPERLINK(\"x\")", *[f"Hai {i}" for i in range(11)]])  # fmt: skip
    add_list(db_session, campaign, one, ListKind.OFFICIALS,
             [f"Cán bộ {i}" for i in range(8)], groups="official")  # fmt: skip
    return campaign, one, two


DESIGN = {"size_mode": "fixed", "n": 5, "reserve": "2", "min_per_stratum": "0", "seed": "2024"}
CONFIRM = {"confirm_lock": "y"}


def post_design(client, campaign, action, **changes):
    data = {**DESIGN, **changes, "action": action}
    # Browsers send empty boxes as empty strings.
    data = {key: "" if value is None else value for key, value in data.items()}
    return client.post(f"/draws/{campaign.id}/design", data=data)


def respondents(db_session):
    with db_session() as session:
        rows = session.scalars(sa.select(Respondent).order_by(Respondent.id)).all()
        session.expunge_all()
        return rows


def the_draw(db_session):
    with db_session() as session:
        draw = session.scalar(sa.select(Draw))
        session.expunge_all()
        return draw


def test_preview_shows_allocation_and_stores_nothing(client, login, setup, db_session):
    campaign, *_ = setup
    login(Role.ADMIN)
    response = post_design(client, campaign, "preview")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Xem trước phân bổ" in page and "UBND xã Hai" in page
    assert the_draw(db_session) is None and respondents(db_session) == []


def test_fixed_size_per_stratum_draw(client, login, setup, db_session):
    campaign, one, two = setup
    admin = login(Role.ADMIN)
    preview_page = post_design(client, campaign, "preview").get_data(as_text=True)
    assert post_design(client, campaign, "draw").status_code == 302
    draw = the_draw(db_session)
    allocation = {(r["unit"], r["group"]): (r["N_h"], r["n_h"], r["reserve_h"])
                  for r in draw.allocation["rows"]}  # fmt: skip
    assert allocation == {
        ("XA01", "citizen"): (30, 5, 2),
        ("XA01", "official"): (8, 5, 2),
        ("XA02", "citizen"): (12, 5, 2),
    }
    assert draw.created_by == admin.id and not draw.locked
    assert draw.manifest["seed"] == "2024" and draw.manifest["source"]["kind"] == "officials"
    people = respondents(db_session)
    assert len(people) == 21
    primary = [p for p in people if p.selection == Selection.PRIMARY]
    reserves = [p for p in people if p.selection == Selection.RESERVE]
    assert len(primary) == 15 and all(p.reserve_rank is None for p in primary)
    assert sorted(p.reserve_rank for p in reserves) == [1, 1, 1, 2, 2, 2]
    assert not any(p.released for p in people)
    assert {p.status.value for p in people} == {"pending"}
    officials = [p for p in people if p.respondent_group == "official"]
    assert all(p.full_name.startswith("Cán bộ") and p.source_unit_id == one.id for p in officials)
    assert all(p.stratum == "XA01 | official" for p in officials)
    # Weights are N_h / n_h in a simple random sample.
    assert {round(p.weight, 9) for p in people if p.source_unit_id == two.id} == {2.4}
    with db_session() as session:
        targets = session.execute(
            sa.select(RespondentTarget.rated_unit_id, Respondent.source_unit_id).join(Respondent)
        ).all()
    assert len(targets) == 21 and all(rated == source for rated, source in targets)
    # The preview showed the same allocation as the draw.
    for row in draw.allocation["rows"]:
        assert f">{row['N_h']}<" in preview_page
        # Selection fractions written the Vietnamese way (decimal comma).
        assert f">{100 * row['fraction']:.1f}%<".replace(".", ",") in preview_page
    page = client.get(f"/draws/{campaign.id}").get_data(as_text=True)
    assert "chưa khoá" in page and "Khoá mẫu" in page


def test_preview_equals_draw_allocation_for_margin_design(client, login, setup, db_session):
    """Yamane per stratum, e = 10%: n = N / (1 + N e²) rounded up (hand-worked)."""
    campaign, *_ = setup
    login(Role.ADMIN)
    design = {"size_mode": "margin", "margin": "10", "rule": "yamane", "per_stratum": "y",
              "n": None, "reserve": "20%", "field": "y"}  # fmt: skip
    preview_page = post_design(client, campaign, "preview", **design).get_data(as_text=True)
    post_design(client, campaign, "draw", **design)
    rows = the_draw(db_session).allocation["rows"]
    sizes = {
        (r["unit"], r["group"], r["field"]): (r["N_h"], r["n_h"], r["reserve_h"]) for r in rows
    }
    # N=15: 15/1.15 = 13.04 -> 14; N=8: 8/1.08 = 7.4 -> 8; N=12: 12/1.12 = 10.7 -> 11.
    # Reserves: ceil(20% of n_h) capped at N_h - n_h.
    unknown = "(không rõ / unknown)"
    assert sizes == {
        ("XA01", "citizen", "Hộ tịch"): (15, 14, 1),
        ("XA01", "citizen", "Đất đai"): (15, 14, 1),
        ("XA01", "official", unknown): (8, 8, 0),
        ("XA02", "citizen", unknown): (12, 11, 1),
    }
    for n_h in ("14", "8", "11"):
        assert f">{n_h}<" in preview_page


def test_rating_targets_become_respondent_targets(client, login, setup, factory, db_session):
    campaign, one, two = setup
    factory.add(
        RatingTarget(campaign_id=campaign.id, respondent_group="official",
                     source_unit_id=one.id, rated_unit_id=two.id),
        RatingTarget(campaign_id=campaign.id, respondent_group="official",
                     source_unit_id=one.id, rated_unit_id=one.id),
    )  # fmt: skip
    login(Role.ADMIN)
    post_design(client, campaign, "draw")
    with db_session() as session:
        rated = session.execute(
            sa.select(Respondent.respondent_group, sa.func.count(RespondentTarget.id))
            .join(RespondentTarget)
            .group_by(Respondent.respondent_group)
        ).all()
    assert dict(rated) == {"citizen": 14, "official": 14}  # 7 officials x 2 rated units


def test_verify_button_and_cli_reproduce_the_draw(client, login, setup, db_session, tmp_path):
    from surveyapp.commands import sample_draw  # noqa: F401  (registers `verify`)
    from surveyapp.commands.sample import group

    campaign, *_ = setup
    login(Role.SUPERVISOR)
    assert post_design(client, campaign, "draw").status_code == 403
    login(Role.ADMIN)
    post_design(client, campaign, "draw", seed=None)
    frame = tmp_path / "frame-2024.csv"
    frame.write_bytes(client.get(f"/draws/{campaign.id}/frame.csv").data)
    login(Role.SUPERVISOR)
    page = client.post(f"/draws/{campaign.id}/verify", follow_redirects=True).get_data(as_text=True)
    assert "Kiểm tra: khớp" in page
    sample = tmp_path / "sample-2024.csv"
    manifest = tmp_path / "sample-2024.manifest.json"
    sample.write_bytes(client.get(f"/draws/{campaign.id}/sample.csv").data)
    response = client.get(f"/draws/{campaign.id}/manifest.json")
    assert 'filename="sample-2024.manifest.json"' in response.headers["Content-Disposition"]
    manifest.write_bytes(response.data)
    assert json.loads(manifest.read_text())["seed"] == the_draw(db_session).manifest["seed"]
    assert "Dân" not in sample.read_text(encoding="utf-8-sig")  # no personal data
    result = CliRunner().invoke(group, ["verify", str(frame), str(sample)])
    assert result.exit_code == 0, result.output
    # A changed sample no longer verifies, on the command line and on the page.
    lines = sample.read_text(encoding="utf-8-sig").splitlines()
    sample.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert CliRunner().invoke(group, ["verify", str(frame), str(sample)]).exit_code == 1
    with db_session() as session:
        session.execute(sa.delete(RespondentTarget))
        session.execute(sa.delete(Respondent).where(Respondent.selection == Selection.RESERVE))
    page = client.post(f"/draws/{campaign.id}/verify", follow_redirects=True).get_data(as_text=True)
    assert "KHÔNG khớp" in page and "khác với mẫu đã ghi" in page


def test_redraw_replaces_then_lock_freezes(client, login, setup, db_session):
    campaign, one, _ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw", seed="1")
    assert len(respondents(db_session)) == 21
    post_design(client, campaign, "draw", seed="2", n="3")
    people = respondents(db_session)
    draw = the_draw(db_session)
    assert len(people) == 15 and {p.draw_id for p in people} == {draw.id}
    assert draw.manifest["seed"] == "2"
    with db_session() as session:
        assert session.scalar(sa.select(sa.func.count(Draw.id))) == 1
    assert client.post(f"/draws/{campaign.id}/lock", data=CONFIRM).status_code == 302
    assert the_draw(db_session).locked
    response = post_design(client, campaign, "draw", seed="3")
    assert response.status_code == 422 and "Mẫu đã được khoá" in response.get_data(as_text=True)
    assert {p.id for p in respondents(db_session)} == {p.id for p in people}


def test_lock_refused_when_lists_changed(client, login, setup, db_session):
    campaign, one, _ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw")
    add_list(db_session, campaign, one, ListKind.CITIZENS, ["Mới 1", "Mới 2"])
    assert "hãy chọn mẫu lại" in client.get(f"/draws/{campaign.id}").get_data(as_text=True)
    response = client.post(f"/draws/{campaign.id}/lock", data=CONFIRM)
    assert response.status_code == 409 and "draw again before locking" in response.get_data(
        as_text=True
    ).replace("hãy chọn mẫu lại trước khi khoá", "draw again before locking")
    assert not the_draw(db_session).locked


def test_fieldwork_needs_a_locked_draw(client, login, setup, factory, db_session):
    campaign, *_ = setup
    factory.instrument(campaign, "citizen", "q", "1")
    login(Role.ADMIN)
    start = {"status": "fieldwork"}
    response = client.post(f"/campaigns/{campaign.id}/status", data=start)
    assert response.status_code == 409 and "Chưa chọn mẫu" in response.get_data(as_text=True)
    post_design(client, campaign, "draw")
    assert client.post(f"/campaigns/{campaign.id}/status", data=start).status_code == 409
    client.post(f"/draws/{campaign.id}/lock", data=CONFIRM)
    assert client.post(f"/campaigns/{campaign.id}/status", data=start).status_code == 302
    with db_session() as session:
        assert session.get(Campaign, campaign.id).status == CampaignStatus.FIELDWORK
    page = client.get(f"/draws/{campaign.id}").get_data(as_text=True)
    assert "mẫu không thể thay đổi" in page and 'name="action"' not in page


def test_crash_mid_draw_keeps_previous_draw(client, login, setup, db_session, monkeypatch):
    from surveyapp.draws import operations

    campaign, *_ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw", seed="1")
    before = [(p.id, p.full_name) for p in respondents(db_session)]
    original = operations.insert_respondents

    def crash_midway(draw, table):
        original(draw, table.head(3))
        raise RuntimeError("power cut")

    monkeypatch.setattr(operations, "insert_respondents", crash_midway)
    response = post_design(client, campaign, "draw", seed="2")
    assert response.status_code == 422 and "power cut" in response.get_data(as_text=True)
    assert [(p.id, p.full_name) for p in respondents(db_session)] == before
    assert the_draw(db_session).manifest["seed"] == "1"


def test_contractor_lists_xlsx(client, login, setup, db_session):
    campaign, *_ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw", n="20", reserve="0")
    login(Role.SUPERVISOR)
    response = client.get(f"/draws/{campaign.id}/lists.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["XA01 UBND xã Một", "XA02 UBND xã Hai"]
    rows = list(book["XA02 UBND xã Hai"].iter_rows(values_only=True))
    # People read these lists: Vietnamese headers and values (English with the switch).
    assert rows[0] == ("Tầng mẫu", "Chính / dự phòng", "Thứ tự dự phòng", "Họ và tên",
                       "Số điện thoại", "Email", "Địa chỉ", "Mã hồ sơ", "Trọng số thiết kế")  # fmt: skip
    names = {row[3] for row in rows[1:]}
    assert len(rows) == 13 and '\'=HYPERLINK("x")' in names
    assert not any(isinstance(n, str) and n.startswith("=") for n in names)
    assert {row[1] for row in rows[1:]} == {"Chính"}
    with client.session_transaction() as session:
        session["lang"] = "en"
    book = load_workbook(io.BytesIO(client.get(f"/draws/{campaign.id}/lists.xlsx").data))
    rows = list(book["XA02 UBND xã Hai"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Stratum", "Primary / reserve", "Reserve rank", "Full name")
    assert {row[1] for row in rows[1:]} == {"Primary"}
    assert len(list(book["XA01 UBND xã Một"].iter_rows())) == 1 + 20 + 8


@pytest.mark.parametrize("role", [Role.FOCAL_POINT, Role.CLERK, Role.ENUMERATOR])
def test_personal_data_never_reaches_other_roles(client, login, setup, role):
    campaign, *_ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw")
    login(role)
    for path in ("", "/lists.xlsx", "/frame.csv", "/sample.csv", "/manifest.json"):
        assert client.get(f"/draws/{campaign.id}{path}").status_code == 403


@pytest.mark.app_config(REDIS_URL="redis://127.0.0.1:6379/0")
def test_draws_run_as_jobs_never_inside_the_request(client, login, setup, db_session, monkeypatch):
    """With a worker (Redis), the request only queues the draw; the page shows its status.
    The queued job, run as the worker runs it, draws and checks the sample."""
    from surveyapp import jobs
    from surveyapp.models import Job, JobStatus

    queued = []
    monkeypatch.setattr(jobs, "_send_to_rq", lambda *args: queued.append(args))
    campaign, *_ = setup
    login(Role.ADMIN)
    response = post_design(client, campaign, "draw")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    assert the_draw(db_session) is None and len(queued) == 1  # nothing drawn in the request
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đang chọn mẫu…" in page and 'http-equiv="refresh"' in page and "<progress" in page
    job_id, func_path, args = queued[0]
    with client.application.app_context():
        from surveyapp.db import transaction

        with transaction():
            jobs._resolve(func_path)(*args)
            job = db.session.get(Job, job_id)
            job.status = JobStatus.DONE
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã chọn xong mẫu" in page and 'http-equiv="refresh"' not in page
    assert len(respondents(db_session)) == 21
    assert the_draw(db_session).verification["ok"] is True


def test_bad_designs_are_reshown(client, login, setup, factory, db_session):
    campaign, *_ = setup
    login(Role.ADMIN)
    response = post_design(client, campaign, "draw", n=None)
    assert response.status_code == 422 and "Nhập cỡ mẫu" in response.get_data(as_text=True)
    response = post_design(client, campaign, "preview", size_mode="total", n="500")
    assert response.status_code == 422 and "lớn hơn tổng số" in response.get_data(as_text=True)
    response = post_design(client, campaign, "preview", reserve="abc")
    assert response.status_code == 422 and "tỷ lệ" in response.get_data(as_text=True)
    empty = factory.campaign(code="2025")
    response = post_design(client, empty, "draw")
    assert response.status_code == 422 and "Chưa có danh sách" in response.get_data(as_text=True)
    assert the_draw(db_session) is None


def test_neyman_allocation_from_standard_deviations(client, login, setup, db_session):
    """n = 10, N_h S_h = 30·1, 8·0, 12·1: the officials (S_h = 0) are a reporting domain
    held at its minimum of 2; 8 go to the others in ratio 30:12 -> 5.71, 2.29 -> 6, 2."""
    campaign, *_ = setup
    login(Role.ADMIN)
    neyman = {"size_mode": "total", "n": "10", "allocation": "neyman", "reserve": "0"}
    response = post_design(client, campaign, "preview", **neyman)
    assert response.status_code == 422 and "Neyman" in response.get_data(as_text=True)
    sd = "XA01 | citizen,1\nXA01 | official,0\nXA02 | citizen,1"
    assert post_design(client, campaign, "draw", sd=sd, **neyman).status_code == 302
    rows = the_draw(db_session).allocation["rows"]
    assert {r["stratum"]: r["n_h"] for r in rows} == {
        "XA01 | citizen": 6,
        "XA01 | official": 2,
        "XA02 | citizen": 2,
    }
    assert len(respondents(db_session)) == 10


def test_verify_catches_an_edited_respondent(client, login, setup, db_session):
    """The check compares the respondents' details with the list records they came from:
    a phone number edited in the service is named (respondent, record, column), without
    showing the personal data."""
    campaign, *_ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw")
    assert the_draw(db_session).verification["ok"] is True  # every draw is checked at once
    target = respondents(db_session)[3]
    with db_session() as session:
        session.execute(
            sa.update(Respondent).where(Respondent.id == target.id).values(phone="0999999999")
        )
    page = client.post(f"/draws/{campaign.id}/verify", follow_redirects=True).get_data(as_text=True)
    assert "Kiểm tra: KHÔNG khớp" in page
    assert (
        f"Người được chọn số {target.id} (bản ghi {target.frame_record_id}), cột phone: khác "
        "với danh sách của đơn vị." in page
    )
    assert "✗\n      Người được chọn trong hệ thống" in page
    assert "0999999999" not in page and target.phone not in page
    stored = the_draw(db_session).verification
    assert stored["steps"]["respondents"] is False and stored["steps"]["people"] is True
    assert [d["code"] for d in stored["differences"]] == ["respondent_changed"]


def test_locking_asks_for_confirmation(client, login, setup, db_session):
    campaign, *_ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw")
    page = client.get(f"/draws/{campaign.id}").get_data(as_text=True)
    assert 'name="confirm_lock"' in page and "khoá mẫu là không thể hoàn tác" in page
    response = client.post(f"/draws/{campaign.id}/lock")
    assert response.status_code == 409
    assert "Đánh dấu ô xác nhận" in response.get_data(as_text=True)
    assert not the_draw(db_session).locked
    assert client.post(f"/draws/{campaign.id}/lock", data=CONFIRM).status_code == 302
    assert the_draw(db_session).locked


def test_the_contractor_downloads_the_sample_never_the_frame(client, login, setup):
    campaign, *_ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw")
    assert client.get(f"/draws/{campaign.id}/frame.csv").status_code == 200
    login(Role.SUPERVISOR)
    assert client.get(f"/draws/{campaign.id}/frame.csv").status_code == 403
    assert client.get(f"/draws/{campaign.id}/sample.csv").status_code == 200
    assert client.get(f"/draws/{campaign.id}/lists.xlsx").status_code == 200
    assert "frame.csv" not in client.get(f"/draws/{campaign.id}").get_data(as_text=True)


def test_preview_warns_about_strata_of_zero_or_one(client, login, setup):
    """Fixed n = 1 per stratum: without the domain minimum, every stratum gets 1 and is
    warned about; with the default minimum of 2, none is."""
    campaign, *_ = setup
    login(Role.ADMIN)
    page = post_design(client, campaign, "preview", n="1", min_per_domain="0").get_data(
        as_text=True
    )
    assert "Cảnh báo phân bổ" in page
    assert "Tầng XA02 | citizen chỉ được phân bổ 1 người (danh sách có 12 người)" in page
    page = post_design(client, campaign, "preview", n="1").get_data(as_text=True)
    assert "Cảnh báo phân bổ" not in page and ">2<" in page


def test_web_and_command_line_share_options_and_defaults():
    """Same defaults (per stratum, Yamane, proportional, minimum 2 per domain, no
    reserve) and the same parsers for the reserve and the standard deviations."""
    from sampling.inputs import DESIGN_DEFAULTS, parse_reserve
    from surveyapp.commands.sample_draw import plan_command
    from surveyapp.draws.forms import DesignForm
    from surveyapp.draws.operations import DrawParams

    cli = {param.name: param.default for param in plan_command.params}
    web = DrawParams()
    for name in ("per_stratum", "rule", "confidence", "allocation", "min_per_stratum",
                 "min_per_domain"):  # fmt: skip
        assert cli[name] == getattr(web, name) == DESIGN_DEFAULTS[name], name
    assert parse_reserve(cli["reserve"]) == web.reserve == 0
    assert web.size_mode == "fixed"  # n per stratum, as --per-stratum
    with_form = DesignForm.__dict__
    assert with_form["rule"].kwargs["default"] == "yamane"
    assert {"kind", "period_start", "period_end", "unit", "sheet"} <= set(cli)


def test_web_reads_reserve_and_sd_as_the_command_line(client, login, setup, db_session):
    """A ratio with a decimal comma and an SD table pasted from a spreadsheet."""
    campaign, *_ = setup
    login(Role.ADMIN)
    neyman = {"size_mode": "total", "n": "12", "allocation": "neyman", "reserve": "12,5%",
              "sd": "stratum;sd\nXA01 | citizen;1\nXA01 | official;0,5\nXA02 | citizen;1"}  # fmt: skip
    assert post_design(client, campaign, "draw", **neyman).status_code == 302
    draw = the_draw(db_session)
    assert draw.manifest["design"]["reserve"] == 0.125
    assert draw.manifest["design"]["sd"] == {
        "XA01 | citizen": 1.0, "XA01 | official": 0.5, "XA02 | citizen": 1.0,
    }  # fmt: skip
    bad = post_design(client, campaign, "preview", **{**neyman, "sd": "XA01 | citizen;abc"})
    assert bad.status_code == 422
    assert "sai ở dòng 1 «XA01 | citizen;abc»" in bad.get_data(as_text=True)


# ---------------------------------------------------------------- commitments (14.8)

LOTTERY = "Giải đặc biệt xổ số kiến thiết TP.HCM"


def commit(client, campaign, value_date, **changes):
    return post_design(
        client, campaign, "commit", seed=None, value_source=LOTTERY,
        value_date=f"{value_date:%d/%m/%Y}", **changes,
    )  # fmt: skip


def commitments(db_session):
    from surveyapp.models import DrawCommitment

    with db_session() as session:
        rows = session.scalars(sa.select(DrawCommitment).order_by(DrawCommitment.id)).all()
        session.expunge_all()
        return rows


def published_last_week(app, campaign, admin):
    """A commitment published a week ago for yesterday's value (as if time had passed)."""
    from surveyapp.db import transaction
    from surveyapp.draws.commitments import publish
    from surveyapp.draws.operations import DrawParams

    today = dt.datetime.now(dt.UTC)
    params = DrawParams(n=5, reserve=2)
    with app.app_context(), transaction():
        campaign = db.session.get(Campaign, campaign.id)
        yesterday = (today - dt.timedelta(days=1)).date()
        commitment = publish(
            campaign, params, LOTTERY, yesterday, admin.id, now=today - dt.timedelta(days=7)
        )
        return commitment.id, commitment.sha256


def test_publishing_a_commitment_and_drawing_too_early(client, app, login, setup, db_session):
    campaign, *_ = setup
    login(Role.ADMIN)
    today = dt.date.today()
    response = commit(client, campaign, today)
    assert response.status_code == 422 and "phải sau ngày công bố cam kết" in response.get_data(
        as_text=True
    )
    assert commit(client, campaign, today + dt.timedelta(days=1)).status_code == 302
    [published] = commitments(db_session)
    assert published.content["public_value"] == {
        "source": LOTTERY, "date": (today + dt.timedelta(days=1)).isoformat(),
    }  # fmt: skip
    assert published.content["design"]["n"] == 5 and published.content["design"]["reserve"] == 2
    page = client.get(f"/draws/{campaign.id}").get_data(as_text=True)
    assert published.sha256 in page and "Chọn mẫu được từ ngày" in page
    # A second commitment for the same lists is refused (the first stays the one).
    again = commit(client, campaign, today + dt.timedelta(days=2))
    assert again.status_code == 422 and "Đã có cam kết" in again.get_data(as_text=True)
    early = client.post(
        f"/draws/{campaign.id}/commitments/{published.id}/value", data={"value": "123456"}
    )
    assert early.status_code == 422 and "chưa được chọn mẫu" in early.get_data(as_text=True)
    assert the_draw(db_session) is None and commitments(db_session)[0].public_value is None
    # Anyone can read it, without logging in; nothing personal is on the page.
    with client.session_transaction() as session:
        session.clear()
    public = client.get("/draws/public/2024")
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and published.sha256 in text and LOTTERY in text
    assert "chưa (chỉ nhập từ ngày công bố)" in text and "Dân 1" not in text
    downloaded = client.get(f"/draws/public/2024/commitment-{published.id}.json").get_json(
        force=True
    )
    import sampling

    assert sampling.commitment_sha256(downloaded) == published.sha256


def test_a_published_commitment_cannot_change(app, login, setup, db_session):
    from surveyapp.models import DrawCommitment
    from surveyapp.models.draws import CommitmentImmutable

    campaign, *_ = setup
    admin = login(Role.ADMIN)
    commitment_id, _ = published_last_week(app, campaign, admin)
    with app.app_context():
        commitment = db.session.get(DrawCommitment, commitment_id)
        commitment.content = {**commitment.content, "note": "edited"}
        with pytest.raises(CommitmentImmutable):
            db.session.flush()
        db.session.rollback()
        commitment = db.session.get(DrawCommitment, commitment_id)
        commitment.public_value = "1"
        db.session.flush()  # the value is entered once...
        commitment.public_value = "2"
        with pytest.raises(CommitmentImmutable):
            db.session.flush()  # ...and never changed
        db.session.rollback()
        db.session.delete(db.session.get(DrawCommitment, commitment_id))
        with pytest.raises(CommitmentImmutable):
            db.session.flush()
        db.session.rollback()


@pytest.mark.app_config(DRAW_COMMITMENT_REQUIRED=True)
def test_the_committed_draw_and_its_public_chain(client, app, login, setup, db_session):
    import sampling

    campaign, *_ = setup
    admin = login(Role.ADMIN)
    page = client.get(f"/draws/{campaign.id}").get_data(as_text=True)
    assert 'value="draw"' not in page  # no trial draws where a commitment is required
    commitment_id, sha = published_last_week(app, campaign, admin)
    response = client.post(
        f"/draws/{campaign.id}/commitments/{commitment_id}/value", data={"value": " 482 913 "}
    )
    assert response.status_code == 302
    draw = the_draw(db_session)
    assert draw.commitment_id == commitment_id
    assert draw.manifest["seed"] == str(sampling.derive_seed(sha, "482 913"))
    assert draw.verification["ok"] and draw.verification["steps"] == {
        "commitment": True, "design": True, "seed": True, "frame": True, "selection": True,
        "rows": True, "people": True, "respondents": True,
    }  # fmt: skip
    assert len(respondents(db_session)) == 21
    # The value is entered once.
    other = client.post(
        f"/draws/{campaign.id}/commitments/{commitment_id}/value", data={"value": "111111"}
    )
    assert other.status_code == 422
    # The public page shows the chain and the last check, to anyone.
    with client.session_transaction() as session:
        session.clear()
    text = client.get("/draws/public/2024").get_data(as_text=True)
    assert "482 913" in text and draw.manifest["seed"] in text
    assert "✓ Hạt giống của mẫu đúng là hạt giống suy ra từ cam kết" in text
    assert "✓ Thiết kế mẫu đã cam kết" in text and "✓ Người được chọn trong hệ thống" in text
    manifest = client.get("/draws/public/2024/manifest.json").get_json(force=True)
    assert manifest["commitment"]["sha256"] == sha
    login(user=admin)
    assert client.post(f"/draws/{campaign.id}/lock", data=CONFIRM).status_code == 302
    assert the_draw(db_session).locked


def test_the_command_line_checks_a_committed_web_draw(client, app, login, setup, tmp_path):
    """The Department's frame, the sample, the manifest and the commitment as published on
    the public page: `surveyapp sample verify` checks the whole chain; another value fails."""
    from surveyapp.commands.sample import group

    campaign, *_ = setup
    admin = login(Role.ADMIN)
    commitment_id, _ = published_last_week(app, campaign, admin)
    client.post(f"/draws/{campaign.id}/commitments/{commitment_id}/value", data={"value": "77"})
    files = {
        "frame.csv": f"/draws/{campaign.id}/frame.csv",
        "sample.csv": f"/draws/{campaign.id}/sample.csv",
        "sample.manifest.json": "/draws/public/2024/manifest.json",
        "commitment.json": f"/draws/public/2024/commitment-{commitment_id}.json",
    }
    for name, url in files.items():
        (tmp_path / name).write_bytes(client.get(url).data)
    paths = [str(tmp_path / name) for name in ("frame.csv", "sample.csv")]
    published = ["--commitment", str(tmp_path / "commitment.json")]
    result = CliRunner().invoke(group, ["verify", *paths, *published, "--public-value", "77"])
    assert result.exit_code == 0, result.output
    assert "✓ Cam kết đã công bố / Published commitment" in result.output
    assert "Columns compared: unit, group" in result.output
    assert "Not in the sample file, not compared: subgroup, field, full_name" in result.output
    other = CliRunner().invoke(group, ["verify", *paths, *published, "--public-value", "78"])
    assert other.exit_code == 1 and "is not the published value «78»" in other.output


@pytest.mark.app_config(DRAW_COMMITMENT_REQUIRED=True)
def test_a_trial_draw_cannot_be_locked_where_a_commitment_is_required(
    client, login, setup, db_session
):
    campaign, *_ = setup
    login(Role.ADMIN)
    assert post_design(client, campaign, "draw").status_code == 302
    response = client.post(f"/draws/{campaign.id}/lock", data=CONFIRM)
    assert response.status_code == 409
    assert "Chỉ khoá được mẫu chọn theo cam kết công khai" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        session.clear()
    text = client.get("/draws/public/2024").get_data(as_text=True)
    assert "Mẫu này KHÔNG được chọn theo cam kết công khai" in text


def test_lists_changed_after_the_commitment(client, app, login, setup, db_session):
    campaign, one, _ = setup
    admin = login(Role.ADMIN)
    commitment_id, _ = published_last_week(app, campaign, admin)
    add_list(db_session, campaign, one, ListKind.CITIZENS, [f"Mới {i}" for i in range(9)])
    page = client.get(f"/draws/{campaign.id}").get_data(as_text=True)
    assert "Danh sách của đơn vị đã thay đổi sau cam kết này" in page
    response = client.post(
        f"/draws/{campaign.id}/commitments/{commitment_id}/value", data={"value": "482913"}
    )
    assert response.status_code == 422
    assert "The frame is not the committed one" in response.get_data(as_text=True)
    assert the_draw(db_session) is None
    # A new commitment for the new lists; both stay public.
    assert commit(client, campaign, dt.date.today() + dt.timedelta(days=1)).status_code == 302
    first, second = commitments(db_session)
    text = client.get("/draws/public/2024").get_data(as_text=True)
    assert f"Cam kết #{first.id}" in text and f"Cam kết #{second.id}" in text
    assert first.sha256 in text and second.sha256 in text


def test_anyone_can_ask_for_a_fresh_check_at_most_every_few_minutes(
    client, login, setup, db_session
):
    from surveyapp.models import Job

    campaign, *_ = setup
    login(Role.ADMIN)
    post_design(client, campaign, "draw")
    with db_session() as session:  # as if the last check were an hour old
        session.execute(
            sa.update(Draw).values(verified_at=dt.datetime(2020, 1, 1), verification=None)
        )
    with client.session_transaction() as session:
        session.clear()
    page = client.post("/draws/public/2024/check", follow_redirects=True).get_data(as_text=True)
    assert "✓ Khớp" in page and the_draw(db_session).verified_at.year > 2020
    again = client.post("/draws/public/2024/check", follow_redirects=True).get_data(as_text=True)
    assert "Kết quả dưới đây là lần kiểm tra gần nhất" in again
    with db_session() as session:
        kinds = session.scalars(sa.select(Job.kind)).all()
    assert sorted(kinds) == ["draw", "draw-check"]  # the draw's job, one public check


def test_long_list_texts_as_strata_are_stored(client, login, factory, db_session):
    """A stratum label joins the unit, group, subgroup and field texts of the list, each
    within the list's cell limits; the label itself has no limit of its own (issue 12.8:
    no database error from list data at the draw)."""
    campaign = factory.campaign(code="2025", **PERIOD)
    unit = factory.unit(code="XA09", name="UBND xã Chín")
    long_field = "Lĩnh vực đất đai, tài nguyên, môi trường và xây dựng " * 6  # ~300 characters
    add_list(db_session, campaign, unit, ListKind.CITIZENS, [f"Dân {i}" for i in range(6)],
             fields=[long_field.strip()])  # fmt: skip
    login(Role.ADMIN)
    response = post_design(client, campaign, "draw", n="3", reserve="1", field="y")
    assert response.status_code in (200, 302), response.status_code
    strata = {r.stratum for r in respondents(db_session)}
    assert len(strata) == 1 and len(next(iter(strata))) > 255
