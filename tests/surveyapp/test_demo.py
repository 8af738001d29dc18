"""``surveyapp demo``: the printed links and logins work, and a second run reuses the data.

The demo runs through the command line (``--no-serve``) into the test database of each
backend; what it prints is then tried with the test client, as a user would try it.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import replace
from urllib.parse import urlsplit

import numpy as np
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

import sampling
from questionnaires import QuestionType, load_builtin
from surveyapp.app import create_app
from surveyapp.auth.users import create_user, find_user
from surveyapp.db import transaction
from surveyapp.demo.answers import simulate_answers
from surveyapp.demo.generator import ListPlan, citizens_file, officials_file
from surveyapp.demo.operations import demo_campaign, local_today
from surveyapp.extensions import db
from surveyapp.models import Campaign, Response, Role, Unit
from surveyapp.models.audit import AuditEvent

PORT = 5077
LINK = re.compile(rf"http://127\.0\.0\.1:{PORT}/s/[A-Za-z0-9_-]{{22}}")
CODE = re.compile(r"[2-9A-HJKMNP-TV-Y]{5}-[2-9A-HJKMNP-TV-Y]{5}")
# A login row of the printed table: username, password, role.
LOGIN = re.compile(r"^  ([a-z0-9]+) {2,}(\S+) {2,}\S", re.MULTILINE)
SECTION = re.compile(r'data-section="([^"]+)"')
COMPLETED = re.compile(r'<span class="big">(\d+)</span>')
COMPARISON = re.compile(rf"http://127\.0\.0\.1:{PORT}(/results/\d+/runs/[0-9a-f-]+)")


def pdf_text(data: bytes) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, check=True, capture_output=True
    ).stdout.decode("utf-8")


def run_demo(app, *options):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--no-serve", "--port", str(PORT), *options])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def path_of(url: str) -> str:
    return urlsplit(url).path


def form_data(answers: dict) -> dict:
    """Answers as the browser posts them (strings, lists for multiple choice)."""
    data = {}
    for code, value in answers.items():
        if isinstance(value, tuple | list):
            data[code] = [str(v) for v in value]
        elif isinstance(value, dt.date):
            data[code] = value.isoformat()
        else:
            data[code] = str(value)
    return data


def answer_whole_form(client, answers: dict):
    """Post each shown page with its part of ``answers`` until the form is sent."""
    questionnaire = load_builtin("sipas-citizen", "2025")
    codes_of = {
        section.code: {code for q in section.questions for code in q.answer_codes()}
        for section in questionnaire.sections
    }
    posted = form_data(answers)
    response = client.get("/s/form")
    for _ in range(len(questionnaire.sections)):
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        page = response.get_data(as_text=True)
        section = SECTION.search(page).group(1)
        action = "submit" if 'value="submit"' in page else "next"
        data = {k: v for k, v in posted.items() if k in codes_of[section]}
        response = client.post("/s/form", data={**data, "action": action})
        if action == "submit" or response.status_code != 302:
            return response
        response = client.get(response.headers["Location"])
    raise AssertionError("the form did not end")


def probability_responses(app) -> int:
    """Of the demo's current campaign (last year's campaign has its own)."""
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(Response.id)).where(
                Response.is_probability.is_(True), Response.campaign_id == demo_campaign().id
            )
        )


def test_demo_links_logins_dashboard_and_rerun(app):
    output = run_demo(app)
    # The demo's own draws and locks are in the audit log, as the command line's.
    with app.app_context():
        recorded = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.target_type, AuditEvent.channel)
            .where(AuditEvent.detail == "demo")
            .order_by(AuditEvent.id)
        ).all()
    assert recorded == [("draw.run", "campaign", "cli"), ("draw.lock", "draw", "cli")] * 2
    links = LINK.findall(output)
    assert len(links) == 3 and len(set(links)) == 3
    assert len(set(CODE.findall(output))) == 3
    assert f"http://127.0.0.1:{PORT}/w/" in output

    # Every printed login signs in, and each role is there.
    logins = LOGIN.findall(output)
    with app.app_context():
        roles = {find_user(username).role for username, _ in logins}
    assert roles == set(Role)
    for username, password in logins:
        client = app.test_client()
        response = client.post("/auth/login", data={"username": username, "password": password})
        assert response.status_code == 302, username
        assert client.get("/").status_code == 200

    # The lists write «Tổ chức» for organisations: they are drawn in the organisation group.
    with app.app_context():
        from surveyapp.models import FrameRecord, Respondent

        written = db.session.execute(
            sa.select(FrameRecord.respondent_group, FrameRecord.extra["subgroup"].as_string())
        ).all()
        drawn = set(db.session.scalars(sa.select(Respondent.respondent_group).distinct()))
    assert {group for group, text in written if text == "Tổ chức"} == {"organisation"}
    assert {group for group, text in written if text == "Cá nhân"} == {"citizen"}
    assert {"citizen", "organisation", "official"} <= drawn

    # A printed link opens the form, a whole answer set is thanked, the link is then used.
    citizen = app.test_client()
    response = citizen.get(path_of(links[0]))
    assert response.status_code == 302 and response.headers["Location"].endswith("/s/form")
    answers = simulate_answers(load_builtin("sipas-citizen", "2025"), np.random.default_rng(7))
    before = probability_responses(app)
    response = answer_whole_form(citizen, answers)
    assert response.status_code == 302 and response.headers["Location"].endswith("/s/thanks")
    assert probability_responses(app) == before + 1
    response = app.test_client().get(path_of(links[0]))
    assert response.headers["Location"].endswith("/s/notice/answered")

    # The administrator's dashboard counts every completed case, the simulated ones too.
    admin = app.test_client()
    admin.post("/auth/login", data=dict(zip(("username", "password"), logins[0], strict=True)))
    with app.app_context():
        campaign_id = demo_campaign().id
    page = admin.get(f"/dashboard/{campaign_id}").get_data(as_text=True)
    completed = int(COMPLETED.search(page).group(1))
    assert completed == before + 1 and completed >= 40

    # This year's campaign in Thành phố Hồ Chí Minh, dated around today, compared with
    # Bà Rịa – Vũng Tàu's 2024 campaign through the confirmed crosswalk.
    with app.app_context():
        campaign = demo_campaign()
        today = local_today()
        assert campaign.code == str(today.year) and campaign.status.value == "fieldwork"
        assert campaign.period_start <= today < campaign.period_end
        assert campaign.lists_due_on < today
        assert campaign.links_expire_on == campaign.period_end  # a current link works
        assert campaign.period_end < campaign.entry_deadline  # paper forms keyed after
        previous = campaign.previous_campaign
        assert previous.code == "2024" and previous.status.value == "closed"
        assert previous.entry_closed_at is not None and previous.links_expire_on < today
        versions = {i.questionnaire_version for i in campaign.instruments}
        assert versions == {"2025"}
        # Each campaign surveys its own registry: the lists' status counts HCMC's units only
        # (the walk counted the 2024 BR-VT units too: "7 / 298").
        assert campaign.unit_registry.code == "79-2025"
        assert previous.unit_registry.code == "brvt-2024"
        hcmc_units = db.session.scalar(
            sa.select(sa.func.count(Unit.id)).where(
                Unit.active, Unit.registry_id == campaign.registry_id
            )
        )
    page = admin.get(f"/frames/{campaign_id}/status").get_data(as_text=True)
    assert re.search(rf"<strong>\d+</strong> / {hcmc_units} ", page)
    assert "Huyện Châu Đức" not in page and "Sở Kế hoạch và Đầu tư" not in page
    comparison = COMPARISON.search(output).group(1)
    page = admin.get(comparison).get_data(as_text=True)
    assert "Năm trước (%)" in page and "Thay đổi" in page
    assert "Phường Vũng Tàu" in page and "Gộp từ 7 đơn vị" in page
    # A small demo sample: its run says the minimum it used, and ranks a unit with it.
    assert "Số phiếu tối thiểu: 5 ·" in page
    assert re.search(r"Được xếp hạng: [1-9]", page)
    assert "bảng chuyển đổi phiên bản 2" in page
    report = admin.get(f"{comparison}/files/sipas-citizen/report.pdf")
    assert report.status_code == 200
    text = " ".join(pdf_text(report.data).split())
    assert "So sánh với năm trước qua bảng chuyển đổi đơn vị" in text
    assert "Gộp từ 7 đơn vị" in text and "(sipas-citizen) phiên bản 2025" in text
    assert "hcm-2026" in text
    # The Department's import file carries the same figures.
    points = admin.get(f"{comparison}/files/sipas-citizen/points.json").get_json()
    vung_tau = next(u for u in points["units"] if u["unit"] == "26506")
    assert vung_tau["previous_overall_index"] is not None and vung_tau["like_for_like"] is False
    assert vung_tau["change"] == pytest.approx(
        vung_tau["overall_index"] - vung_tau["previous_overall_index"]
    )
    assert vung_tau["previous_note"].startswith("Gộp từ 7 đơn vị")

    # Run again: the data is reused, and the printed people get new links.
    again = run_demo(app)
    new_links = LINK.findall(again)
    assert len(new_links) == 3 and not set(new_links) & set(links)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 2
    for link in new_links:
        response = app.test_client().get(path_of(link))
        assert response.headers["Location"].endswith("/s/form"), link
    for link in links[1:]:  # re-issued: the earlier links no longer work
        response = app.test_client().get(path_of(link))
        assert response.headers["Location"].endswith("/s/notice/invalid"), link
    response = app.test_client().get(path_of(links[0]))
    assert response.headers["Location"].endswith("/s/notice/answered")


@pytest.fixture
def own_database_app(tmp_path):
    """An app on its own SQLite file (the demo erases it), with a non-demo user in it."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'own.sqlite'}",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "ARGON2_PARALLELISM": 1,
        }
    )
    application.instance_path = str(tmp_path / "instance")
    (tmp_path / "instance").mkdir()
    with application.app_context():
        upgrade()
        with transaction():
            create_user("someone", Role.ADMIN, "not the demo password")
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_demo_leaves_other_data_alone_unless_reset(own_database_app):
    app = own_database_app
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code != 0
    assert "not the demo's" in result.output
    with app.app_context():
        assert find_user("someone") is not None and demo_campaign() is None

    output = run_demo(app, "--reset", "--yes")
    assert len(LINK.findall(output)) == 3
    with app.app_context():
        assert find_user("someone") is None and demo_campaign() is not None


PERIOD = (dt.date(2024, 1, 1), dt.date(2024, 9, 30))
DISTRICT = ListPlan(
    "TPVT", "Thành phố Vũng Tàu", "district", citizens=400, organisation_share=0.1,
    officials=60, places=("Phường 1, Thành phố Vũng Tàu", "Xã Long Sơn, Thành phố Vũng Tàu"),
)  # fmt: skip


@pytest.mark.parametrize("file_format", ["csv", "csv-semicolon", "xlsx"])
def test_generated_lists_read_back_with_the_faults_of_real_lists(file_format):
    plan = replace(DISTRICT, file_format=file_format)
    made = citizens_file(np.random.default_rng(5), plan, PERIOD, "Phường 1")
    result = sampling.validate_frame(
        sampling.read_frame(made.data, filename=made.filename), kind="citizens", period=PERIOD
    )
    assert set(result.issues["code"]) >= {
        "missing_value", "phone_scientific", "phone_several", "phone_invalid", "email_invalid",
        "date_outside_period", "date_unparseable", "no_contact", "duplicate_dossier",
    }  # fmt: skip
    assert 0.9 * plan.citizens < result.summary["valid"] < plan.citizens
    phones = result.valid["phone"].dropna()
    assert phones.str.fullmatch(r"0\d{9,10}").all()  # every shape normalised
    names = result.valid["full_name"]
    assert (names == names.map(lambda n: unicodedata.normalize("NFC", n))).all()
    assert names.map(lambda n: not n.isascii()).mean() > 0.8  # Vietnamese, with diacritics
    assert set(result.valid["group"]) == {"Cá nhân", "Tổ chức"}


def test_generated_officials_list_has_groups_and_one_unusable_row():
    made = officials_file(np.random.default_rng(5), DISTRICT)
    result = sampling.validate_frame(
        sampling.read_frame(made.data, filename=made.filename), kind="officials"
    )
    assert result.summary["valid"] == DISTRICT.officials - 1
    assert list(result.issues["code"]) == ["missing_group"]
    assert set(result.valid["group"]) <= {"Lãnh đạo", "Công chức", "Viên chức"}


@pytest.mark.parametrize("questionnaire_id", ["sipas-citizen", "par-officials"])
def test_simulated_answers_are_complete_and_follow_the_unit_level(questionnaire_id):
    questionnaire = load_builtin(questionnaire_id, "2024")
    rng = np.random.default_rng(11)
    scale_codes = {
        code
        for q in questionnaire.questions()
        if q.type in (QuestionType.GRID, QuestionType.SCALE5)
        for code in q.answer_codes()
    }

    def mean_score(level: float) -> float:
        values = []
        for _ in range(150):
            answers = simulate_answers(questionnaire, rng, level=level)
            for q in questionnaire.questions():  # every relevant required question answered
                if q.required and q.is_relevant(answers):
                    assert set(q.answer_codes()) <= answers.keys(), q.code
            values += [v for k, v in answers.items() if k in scale_codes and v != 9]
        return float(np.mean(values))

    assert mean_score(4.5) > mean_score(3.5) + 0.5 > mean_score(2.5) + 1.0


def test_preset_answers_are_kept():
    questionnaire = load_builtin("sipas-citizen", "2024")
    rng = np.random.default_rng(2)
    for month in range(1, 10):
        answers = simulate_answers(questionnaire, rng, preset={"a5": month, "a6": 2, "a7": 2})
        assert (answers["a5"], answers["a6"], answers["a7"]) == (month, 2, 2)
        assert "a8" not in answers  # asked only of people who went to the counter (a6 = 1)


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_demo_comparison_page_in_the_browser(app, tmp_path):
    """The administrator signs in and reads this year's results beside last year's."""
    import os
    import shutil
    import threading

    from werkzeug.serving import make_server

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not shutil.which("/usr/bin/chromium"):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("Playwright or /usr/bin/chromium is missing")
        pytest.skip("Playwright or /usr/bin/chromium is missing")
    output = run_demo(app)
    comparison = COMPARISON.search(output).group(1)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/auth/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", "admin-demo")
            page.click("button[type=submit]")
            page.goto(f"{base}{comparison}")
            # The citizens' questionnaire's ranking (its criteria are 8.x).
            table = (
                page.locator("table")
                .filter(has_text="Năm trước (%)")
                .filter(has_text="Phường Vũng Tàu")
                .filter(has_text="8.7")
            )
            assert table.is_visible()
            row = table.locator("tr").filter(has_text="Phường Vũng Tàu")
            cells = row.locator("td").all_inner_texts()
            assert any("Gộp từ 7 đơn vị" in cell for cell in cells)
            numbers = [c for c in cells if c.strip().startswith(("+", "-", "−"))]
            assert numbers, cells  # the change is shown with its sign
            assert page.get_by_text("bảng chuyển đổi phiên bản 2").count()
            page.screenshot(path=str(tmp_path / "comparison.png"), full_page=True)
            page.goto(f"{base}/crosswalks/")
            assert page.get_by_text("Đã xác nhận").count()
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
