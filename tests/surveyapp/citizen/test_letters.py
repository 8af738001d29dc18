"""Letters per respondent group (issue 10.1), their deadline (10.6) and the duration the
letter and the walk-in poster share (10.11): the PDFs are opened (pdftotext) and their QR
codes read back with zbar."""

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from questionnaires import DefinitionValidationError, load_builtin, parse_questionnaire
from questionnaires.invitation import duration_label
from surveyapp.extensions import db
from surveyapp.models.jobs import Job


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def two_groups(app, factory, survey):
    """A campaign with citizens (SIPAS) and officials (PAR officials' questionnaire) in one
    unit; each official rates two units, one official has a postal address."""
    from surveyapp.models import CampaignInstrument, Respondent, RespondentTarget

    s = survey(respondents=1)
    rated = [factory.unit(name="Sở Tư pháp"), factory.unit(name="Sở Xây dựng")]
    factory.add(
        CampaignInstrument(
            campaign_id=s.campaign.id,
            respondent_group="official",
            questionnaire_id="par-officials",
            questionnaire_version="2025",
        )
    )
    officials = [
        Respondent(
            draw_id=s.draw.id,
            campaign_id=s.campaign.id,
            source_unit_id=s.unit.id,
            respondent_group="official",
            stratum=f"{s.unit.code}/công chức",
            selection="primary",
            inclusion_prob=0.5,
            weight=2.0,
            full_name=name,
            address=address,
        )
        for name, address in [
            ("Trần Thị Công Chức", "Số 12 đường Lê Lợi, phường Bến Thành, TP Hồ Chí Minh"),
            ("Lê Văn Viên Chức", None),
        ]
    ]
    factory.add(*officials)
    for person in officials:
        for unit in rated:
            factory.add(RespondentTarget(respondent_id=person.id, rated_unit_id=unit.id))
    return s


def _print_unit(client, s, lang="vi"):
    response = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "new", "lang": lang}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_id = response.headers["Location"].rstrip("/").split("/")[-1]
    download = client.get(f"/tokens/jobs/{job_id}/letters.pdf")
    assert download.status_code == 200
    return download.data


def test_officials_get_the_officials_letter_and_citizens_theirs(
    app, client, login, two_groups, tmp_path, pdfcheck
):
    s = two_groups
    login("supervisor")
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(_print_unit(client, s))
    pages = [flat(pdfcheck.text(pdf, n)) for n in range(1, pdfcheck.page_count(pdf) + 1)]
    assert len(pages) == 3
    by_name = {
        name: page
        for page in pages
        for name in ("Nguyễn Văn A", "Trần Thị Công Chức", "Lê Văn Viên Chức")
        if name in page
    }
    citizen = by_name["Nguyễn Văn A"]
    assert "SIPAS" in citizen and "thủ tục hành chính" in citizen
    assert "CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC" not in citizen
    for name in ("Trần Thị Công Chức", "Lê Văn Viên Chức"):
        official = by_name[name]
        assert "THƯ MỜI THAM GIA KHẢO SÁT CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC" in official
        assert "đánh giá công tác cải cách hành chính của: Sở Tư pháp, Sở Xây dựng" in official
        assert "UBND phường Thắng Tam" in official  # where they work
        assert "SIPAS" not in official and "thủ tục hành chính" not in official
        assert "15–20 phút" in official  # par-officials' own duration
    assert "10–15 phút" in citizen
    # The address of the one official who has one, under their name (window envelope).
    assert "Số 12 đường Lê Lợi" in by_name["Trần Thị Công Chức"]
    # Every QR code opens that person's form.
    citizen_client = app.test_client()
    for number in range(1, 4):
        (url,) = pdfcheck.qr_codes(pdf, number, tmp_path)
        token = url.rsplit("/s/", 1)[1]
        opened = citizen_client.get(f"/s/{token}")
        assert opened.status_code == 302 and opened.headers["Location"] == "/s/form"


def test_english_officials_letter(app, client, login, two_groups, tmp_path, pdfcheck):
    login("admin")
    pdf = tmp_path / "letters-en.pdf"
    pdf.write_bytes(_print_unit(client, two_groups, lang="en"))
    text = flat(pdfcheck.text(pdf))
    assert "INVITATION TO THE OFFICIALS' SURVEY" in text
    assert "to assess the administrative reform work of: Sở Tư pháp, Sở Xây dựng" in text
    assert "the Satisfaction Index of Public Administrative Services (SIPAS)" in text  # citizen


@pytest.mark.parametrize(
    ("expires", "printed"),
    [(dt.timedelta(days=20), True), (dt.timedelta(days=-1), False)],
)
def test_a_letter_never_prints_a_deadline_that_has_passed(
    app, client, login, survey, tmp_path, pdfcheck, expires, printed
):
    from surveyapp.tokens.service import local_today

    with app.app_context():
        day = local_today() + expires
    s = survey(respondents=1, token_expires_on=day)
    login("admin")
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(_print_unit(client, s))
    text = flat(pdfcheck.text(pdf))
    assert ("trả lời trước ngày" in text) is printed
    assert (day.strftime("%d/%m/%Y") in text) is printed


def test_letter_and_poster_give_the_questionnaires_duration(
    app, client, login, survey, tmp_path, pdfcheck
):
    s = survey(respondents=1)
    questionnaire = load_builtin("sipas-citizen", "2024")
    expected = duration_label(questionnaire)
    assert expected == "10–15"
    login("admin")
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(_print_unit(client, s))
    poster = tmp_path / "poster.pdf"
    response = client.get(f"/posters/{s.campaign.id}/{s.unit.id}.pdf")
    assert response.status_code == 200
    poster.write_bytes(response.data)
    assert f"khoảng {expected} phút" in flat(pdfcheck.text(letter))
    poster_text = flat(pdfcheck.text(poster))
    assert f"khoảng {expected} phút" in poster_text and f"about {expected} minutes" in poster_text


BASE_YAML = """
id: demo
version: "1"
languages: [vi, en]
title: {vi: "Khảo sát", en: "Survey"}
sections:
  - code: A
    title: {vi: "Phần A", en: "Part A"}
    questions:
      - {code: q1, type: text, text: {vi: "Ý kiến", en: "Comment"}}
"""


def test_letter_texts_are_validated_like_the_questionnaire():
    bad = BASE_YAML + (
        "duration_minutes: [20, 10]\n"
        "letter:\n"
        "  purpose: {vi: 'Chào {name}', en: 'Hello {unit}'}\n"
        "  thanks: {vi: 'Cảm ơn'}\n"
        "  signature: {vi: 'x', en: 'y'}\n"
    )
    with pytest.raises(DefinitionValidationError) as caught:
        parse_questionnaire(bad)
    message = str(caught.value)
    assert "duration_minutes" in message
    assert "[letter purpose] unknown placeholder" in message and "{name}" not in message[:0]
    assert "[letter thanks] «thanks» lacks the «en» translation" in message
    assert "unknown key «signature»" in message
    good = parse_questionnaire(
        BASE_YAML + "duration_minutes: 7\nletter:\n  purpose: {vi: 'Mời{unit}', en: 'Hi{unit}'}\n"
    )
    assert duration_label(good) == "7" and dict(good.letter)["purpose"].get("en") == "Hi{unit}"


def test_a_questionnaire_without_letter_texts_gets_a_neutral_letter(tmp_path, pdfcheck):
    """No group is ever told it is in another group's survey: without ``letter:`` the letter
    names the questionnaire, not SIPAS."""
    from questionnaires import render_invitations

    questionnaire = parse_questionnaire(BASE_YAML + "duration_minutes: [5, 8]\n")
    path = tmp_path / "neutral.pdf"
    render_invitations(
        [("https://khaosat.example.vn/s/abc", "ABCDE-FGHJK", "Phạm Thị D")],
        path,
        questionnaire=questionnaire,
        unit_name="Sở Y tế",
    )
    text = flat(pdfcheck.text(path))
    assert "SIPAS" not in text and "thủ tục hành chính" not in text
    assert "Khảo sát" in text and "5–8 phút" in text and "tại Sở Y tế" in text


def test_each_group_letter_in_the_library_fits_the_page(tmp_path):
    """Every built-in letter, with the longest placeholders, in both languages."""
    from questionnaires import list_builtin, render_invitations
    from questionnaires.invitation import InvitationEntry

    for questionnaire in list_builtin():
        assert questionnaire.letter and questionnaire.duration_minutes
        for lang in ("vi", "en"):
            render_invitations(
                [
                    InvitationEntry(
                        "https://khaosat.example.vn/s/abc",
                        "ABCDE-FGHJK",
                        "Nguyễn Thị Minh Khai",
                        "Ủy ban nhân dân phường Bến Thành",
                        address="Số 123 đường Nguyễn Thị Minh Khai, phường Bến Thành, TP HCM",
                        rated_units=("Sở Tư pháp", "Sở Xây dựng", "Sở Tài chính"),
                    )
                ],
                tmp_path / f"{questionnaire.key}-{lang}.pdf",
                questionnaire=questionnaire,
                province="Thành phố Hồ Chí Minh",
                year=2026,
                deadline="30/09/2026",
                lang=lang,
            )


def test_letters_job_records_its_pages(app, client, login, two_groups):
    login("admin")
    _print_unit(client, two_groups)
    with app.app_context():
        job = db.session.scalars(sa.select(Job)).one()
        assert job.total == 3 and Path(job.result_path).exists()


# --- re-printing, province scale, links, BASE_URL, warnings (10.1, 10.8, 10.6) -------------


def _codes_in(pdf_bytes: bytes, tmp_path, pdfcheck, name="x.pdf") -> list[str]:
    path = tmp_path / name
    path.write_bytes(pdf_bytes)
    return [
        pdfcheck.qr_codes(path, n, tmp_path)[0] for n in range(1, pdfcheck.page_count(path) + 1)
    ]


def test_reprinting_a_lost_letter_keeps_the_code_unless_new_codes_are_asked(
    app, client, login, survey, tmp_path, pdfcheck
):
    s = survey(respondents=1)
    login("admin")
    (first,) = _codes_in(_print_unit(client, s), tmp_path, pdfcheck, "first.pdf")
    page = client.get(f"/tokens/{s.campaign.id}/units/{s.unit.id}").get_data(as_text=True)
    assert "in lại với mã này" in page  # the page says the code is kept
    again = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "all", "lang": "vi"}
    )
    job_page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "1 thư in lại với mã cũ" in job_page
    job_id = again.headers["Location"].rstrip("/").split("/")[-1]
    (reprinted,) = _codes_in(
        client.get(f"/tokens/jobs/{job_id}/letters.pdf").data, tmp_path, pdfcheck, "again.pdf"
    )
    assert reprinted == first
    citizen = app.test_client()
    assert citizen.get(first.replace("http://127.0.0.1:5000", "")).headers["Location"] == "/s/form"
    renewed = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}",
        data={"scope": "all", "lang": "vi", "new_codes": "y"},
    )
    job_id = renewed.headers["Location"].rstrip("/").split("/")[-1]
    (new,) = _codes_in(
        client.get(f"/tokens/jobs/{job_id}/letters.pdf").data, tmp_path, pdfcheck, "new.pdf"
    )
    assert new != first
    assert citizen.get(first.replace("http://127.0.0.1:5000", "")).headers.get("Location") != (
        "/s/form"
    )


def test_a_code_issued_without_its_sealed_copy_gets_a_new_one_and_the_page_says_so(
    app, client, login, survey, issue
):
    from surveyapp.models import Respondent

    s = survey(respondents=1)
    (old,) = issue(s.respondents)
    with app.app_context():
        db.session.get(Respondent, s.respondents[0].id).token_sealed = None
        db.session.commit()
    login("admin")
    page = client.get(f"/tokens/{s.campaign.id}/units/{s.unit.id}").get_data(as_text=True)
    assert "cần mã mới khi in lại" in page
    response = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "all", "lang": "vi"}
    )
    assert "0 thư in lại với mã cũ" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert app.test_client().get(f"/s/{old.token}").headers.get("Location") != "/s/form"


def test_whole_campaign_letters_one_pdf_per_unit_and_a_combined_pdf(
    app, client, login, two_groups, factory, tmp_path, pdfcheck
):
    import io
    import zipfile

    from surveyapp.models import Respondent

    s = two_groups
    other = factory.unit(code="XA02", name="UBND xã Long Hải")
    factory.add(
        Respondent(
            draw_id=s.draw.id,
            campaign_id=s.campaign.id,
            source_unit_id=other.id,
            respondent_group="citizen",
            stratum="XA02/cá nhân",
            selection="primary",
            inclusion_prob=0.5,
            weight=2.0,
            full_name="Võ Thị Hai",
            address="Ấp 3, xã Long Hải",
        )
    )
    login("admin")
    index = client.get("/tokens/").get_data(as_text=True)
    assert "cả đợt" in index and "CSV" in index
    response = client.post(
        f"/tokens/{s.campaign.id}/letters",
        data={f"c{s.campaign.id}-scope": "new", f"c{s.campaign.id}-lang": "vi"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tải tệp ZIP" in job_page and "4 thư" in job_page
    job_id = response.headers["Location"].rstrip("/").split("/")[-1]
    download = client.get(f"/tokens/jobs/{job_id}/letters.zip")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = sorted(archive.namelist())
    assert names == sorted(["tat-ca-thu-moi.pdf", f"don-vi/{s.unit.code}.pdf", "don-vi/XA02.pdf"])
    pages = {}
    for name in names:
        path = tmp_path / name.replace("/", "-")
        path.write_bytes(archive.read(name))
        pages[name] = [
            flat(pdfcheck.text(path, n)) for n in range(1, pdfcheck.page_count(path) + 1)
        ]
    assert len(pages[f"don-vi/{s.unit.code}.pdf"]) == 3 and len(pages["don-vi/XA02.pdf"]) == 1
    combined = pages["tat-ca-thu-moi.pdf"]
    assert len(combined) == 4
    assert any("Võ Thị Hai" in p and "Ấp 3, xã Long Hải" in p for p in combined)
    assert sum("CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC" in p for p in combined) == 2
    # Only the officials: the group filter.
    officials = client.post(
        f"/tokens/{s.campaign.id}/letters",
        data={
            f"c{s.campaign.id}-scope": "all",
            f"c{s.campaign.id}-lang": "vi",
            f"c{s.campaign.id}-group": "official",
        },
    )
    assert "2 thư" in client.get(officials.headers["Location"]).get_data(as_text=True)


def test_links_csv_for_sms_campaigns(app, client, login, survey, issue):
    import csv
    import io

    s = survey(respondents=3)
    (first,) = issue(s.respondents[:1])
    login("supervisor")
    response = client.post(f"/tokens/{s.campaign.id}/links.csv", data={})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["name"], r["url"], r["code"]) for r in rows] == [
        ("Nguyễn Văn A", first.url, first.code)
    ]
    assert rows[0]["phone"] == "0901234567"
    everyone = client.post(
        f"/tokens/{s.campaign.id}/links.csv", data={f"l{s.campaign.id}-issue_missing": "y"}
    )
    rows = list(csv.DictReader(io.StringIO(everyone.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and rows[0]["code"] == first.code  # existing codes kept
    for row in rows:
        assert (
            app.test_client().get(row["url"].replace("http://127.0.0.1:5000", "")).status_code
            == 302
        )


@pytest.mark.parametrize("role", ["focal_point", "enumerator", "clerk"])
def test_links_csv_only_for_roles_that_see_contacts(client, login, survey, role):
    s = survey()
    login(role)
    assert client.post(f"/tokens/{s.campaign.id}/links.csv").status_code == 403


@pytest.mark.app_config(PRODUCTION=True)
def test_links_to_127_0_0_1_are_refused_in_production(app, client, login, survey):
    s = survey(respondents=1)
    login("admin")
    page = client.get(f"/tokens/{s.campaign.id}/units/{s.unit.id}").get_data(as_text=True)
    assert "BASE_URL" in page
    refused = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "new", "lang": "vi"}
    )
    assert refused.status_code == 409 and "BASE_URL" in refused.get_data(as_text=True)
    assert client.post(f"/tokens/{s.campaign.id}/links.csv").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0
    result = app.test_cli_runner().invoke(
        args=["tokens", "issue", "--campaign", s.campaign.code, "--out", "/tmp/never.pdf"]
    )
    assert result.exit_code == 1 and "BASE_URL is not set" in result.output


@pytest.mark.app_config(BASE_URL="https://khaosat.sonoivu.example.gov.vn")
def test_a_public_base_url_gives_no_warning(client, login, survey):
    s = survey(respondents=1)
    login("admin")
    page = client.get(f"/tokens/{s.campaign.id}/units/{s.unit.id}").get_data(as_text=True)
    assert "BASE_URL" not in page


def test_demo_warns_about_127_0_0_1_and_prints(client, login, survey):
    s = survey(respondents=1)
    login("admin")
    assert "BASE_URL" in client.get("/tokens/").get_data(as_text=True)
    response = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "new", "lang": "vi"}
    )
    assert response.status_code == 302
    assert "BASE_URL" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_printing_near_or_after_the_end_warns_on_the_page_and_in_the_cli(
    app, client, login, survey, tmp_path
):
    from surveyapp.tokens.service import local_today

    with app.app_context():
        soon = local_today() + dt.timedelta(days=2)
    s = survey(respondents=1, token_expires_on=soon)
    login("admin")
    page = client.get(f"/tokens/{s.campaign.id}/units/{s.unit.id}").get_data(as_text=True)
    assert f"Chỉ còn 2 ngày đến hạn {soon.strftime('%d/%m/%Y')}" in page
    result = app.test_cli_runner().invoke(
        args=["tokens", "issue", "--campaign", s.campaign.code, "--out", str(tmp_path / "l.pdf")]
    )
    assert result.exit_code == 0 and "Only 2 days are left" in result.output
    with app.app_context():
        from surveyapp.models import Campaign

        db.session.get(Campaign, s.campaign.id).token_expires_on = local_today() - dt.timedelta(
            days=1
        )
        db.session.commit()
    page = client.get("/tokens/").get_data(as_text=True)
    assert "Đợt khảo sát đã kết thúc ngày" in page


def test_each_groups_letter_can_be_previewed_before_printing(
    app, client, login, two_groups, tmp_path, pdfcheck
):
    s = two_groups
    login("admin")
    index = client.get("/tokens/").get_data(as_text=True)
    assert f"/tokens/{s.campaign.id}/preview/official.pdf?lang=vi" in index
    assert f"/tokens/{s.campaign.id}/preview/citizen.pdf?lang=en" in index
    response = client.get(f"/tokens/{s.campaign.id}/preview/official.pdf?lang=vi")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "preview.pdf"
    pdf.write_bytes(response.data)
    text = flat(pdfcheck.text(pdf))
    assert "BẢN XEM TRƯỚC" in text and "Nguyễn Văn Mẫu" in text
    assert "CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC" in text and "Sở Tư pháp, Sở Xây dựng" in text
    assert "Trần Thị Công Chức" not in text and "Số 12 đường Lê Lợi" not in text  # nobody real
    assert "Số 1 đường Mẫu" in text  # the group's list has addresses: the block is shown
    citizen = tmp_path / "citizen-en.pdf"
    citizen.write_bytes(client.get(f"/tokens/{s.campaign.id}/preview/citizen.pdf?lang=en").data)
    assert "SIPAS" in flat(pdfcheck.text(citizen)) and "PREVIEW" in flat(pdfcheck.text(citizen))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0
        from surveyapp.models import Respondent

        assert db.session.scalar(sa.select(sa.func.count(Respondent.token_hash))) == 0
    assert client.get(f"/tokens/{s.campaign.id}/preview/nobody.pdf").status_code == 404


def test_purge_removes_the_sealed_codes(app, client, login, survey, issue):
    from surveyapp.models import Campaign, Respondent

    s = survey(respondents=1)
    issue(s.respondents)
    with app.app_context():
        db.session.get(Campaign, s.campaign.id).status = "closed"
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["campaign", "purge-pii", s.campaign.code, "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Respondent.token_sealed)) is None


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (30, None),
        (6, None),
        (5, "Only 5 days are left until 15/09/2026"),
        (0, "Today (15/09/2026) is the last day to answer"),
        (-3, "The campaign ended on 15/09/2026"),
    ],
)
def test_timing_warning_by_days_left(days_left, expected):
    from types import SimpleNamespace

    from surveyapp.tokens.service import timing_warning

    end = dt.date(2026, 9, 15)
    campaign = SimpleNamespace(token_expires_on=None, period_end=end)
    warning = timing_warning(campaign, today=end - dt.timedelta(days=days_left))
    if expected is None:
        assert warning is None
    else:
        assert expected in warning[1] and warning[0]  # and its Vietnamese twin


def test_letters_are_written_to_the_shared_storage_location(app, client, login, survey, tmp_path):
    shared = tmp_path / "shared-storage"
    app.config["STORAGE_DIR"] = str(shared)
    s = survey(respondents=1)
    login("admin")
    assert _print_unit(client, s).startswith(b"%PDF")
    with app.app_context():
        job = db.session.scalars(sa.select(Job)).one()
        assert Path(job.result_path).parent == shared / "letters" / f"campaign-{s.campaign.id}"
    assert client.post(f"/tokens/jobs/{job.id}/delete").status_code == 302
    assert not Path(job.result_path).exists()


@pytest.mark.app_config(PRODUCTION=True)
def test_a_poster_linking_to_127_0_0_1_is_refused_in_production(client, login, survey):
    s = survey(respondents=0)
    login("admin")
    response = client.get(f"/posters/{s.campaign.id}/{s.unit.id}.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith("/posters/")
    page = client.get("/posters/").get_data(as_text=True)
    assert "BASE_URL" in page and "127.0.0.1" in page


def test_the_demo_warns_on_the_posters_page_and_still_prints(client, login, survey):
    s = survey(respondents=0)
    login("admin")
    assert "BASE_URL" in client.get("/posters/").get_data(as_text=True)
    assert client.get(f"/posters/{s.campaign.id}/{s.unit.id}.pdf").data.startswith(b"%PDF")


def test_a_group_can_have_its_own_texts_in_the_same_questionnaire(
    app, client, login, survey, factory, tmp_path, pdfcheck
):
    """Organisations answer the citizens' questionnaire but get their own salutation."""
    from surveyapp.models import CampaignInstrument, Respondent

    s = survey(respondents=1)
    factory.add(
        CampaignInstrument(
            campaign_id=s.campaign.id,
            respondent_group="organisation",
            questionnaire_id="sipas-citizen",
            questionnaire_version="2024",
        ),
        Respondent(
            draw_id=s.draw.id,
            campaign_id=s.campaign.id,
            source_unit_id=s.unit.id,
            respondent_group="organisation",
            stratum=f"{s.unit.code}/tổ chức",
            selection="primary",
            inclusion_prob=0.5,
            weight=2.0,
            full_name="Công ty TNHH Hải Đăng",
        ),
    )
    login("admin")
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(_print_unit(client, s))
    pages = [flat(pdfcheck.text(pdf, n)) for n in (1, 2)]
    organisation = next(p for p in pages if "Hải Đăng" in p)
    citizen = next(p for p in pages if "Nguyễn Văn A" in p)
    assert "Quý cơ quan, tổ chức/doanh nghiệp được chọn ngẫu nhiên" in organisation
    assert "Ý kiến của Quý cơ quan, tổ chức" in organisation and "SIPAS" in organisation
    assert "Quý cơ quan" not in citizen and "Ông/Bà được chọn ngẫu nhiên" in citizen


def test_group_texts_are_validated():
    bad = BASE_YAML + (
        "letter:\n"
        "  groups:\n"
        "    Official Staff: {salutation: {vi: 'x', en: 'y'}}\n"
        "    organisation: {greeting: {vi: 'x', en: 'y'}, thanks: {vi: 'Cảm ơn {who}', en: 'x'}}\n"
    )
    with pytest.raises(DefinitionValidationError) as caught:
        parse_questionnaire(bad)
    message = str(caught.value)
    assert "[letter groups.Official Staff]" in message
    assert "unknown key «greeting»" in message
    assert "[letter groups.organisation.thanks] unknown placeholder" in message


@pytest.mark.parametrize("version", ["2024", "2025"])
def test_organisations_letters_address_the_organisation(
    app, client, login, survey, factory, tmp_path, pdfcheck, version
):
    """Every built-in SIPAS version an organisation group may use: the preview is addressed
    to a made-up company and the printed letter to the organisation, never «Ông/Bà»."""
    from surveyapp.models import CampaignInstrument, Respondent

    s = survey(respondents=0)
    factory.add(
        CampaignInstrument(
            campaign_id=s.campaign.id,
            respondent_group="organisation",
            questionnaire_id="sipas-citizen",
            questionnaire_version=version,
        ),
        Respondent(
            draw_id=s.draw.id,
            campaign_id=s.campaign.id,
            source_unit_id=s.unit.id,
            respondent_group="organisation",
            stratum=f"{s.unit.code}/tổ chức",
            selection="primary",
            inclusion_prob=0.5,
            weight=2.0,
            full_name="Hợp tác xã Logistics Cái Mép",
        ),
    )
    login("admin")
    pages = {}
    for lang in ("vi", "en"):
        preview = tmp_path / f"preview-{lang}.pdf"
        response = client.get(f"/tokens/{s.campaign.id}/preview/organisation.pdf?lang={lang}")
        assert response.status_code == 200
        preview.write_bytes(response.data)
        pages[f"preview-{lang}"] = flat(pdfcheck.text(preview))
    printed = tmp_path / "letters.pdf"
    printed.write_bytes(_print_unit(client, s))
    pages["printed"] = flat(pdfcheck.text(printed))
    assert "Kính gửi: Công ty TNHH Mẫu" in pages["preview-vi"]
    assert "To: Sample Company Ltd" in pages["preview-en"]
    assert "Kính gửi: Hợp tác xã Logistics Cái Mép" in pages["printed"]
    for name in ("preview-vi", "printed"):
        text = pages[name]
        assert "Quý cơ quan, tổ chức/doanh nghiệp được chọn ngẫu nhiên" in text, name
        assert "Kính mong Quý cơ quan, tổ chức/doanh nghiệp trả lời" in text, name
        assert "Ông/Bà" not in text and "Nguyễn Văn Mẫu" not in text, name
    assert "Your organisation was chosen at random" in pages["preview-en"]
    assert "Sample Respondent" not in pages["preview-en"]
