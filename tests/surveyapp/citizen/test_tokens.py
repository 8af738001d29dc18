"""Tokens, short codes, hashes at rest, the letters job and the ``tokens issue`` command."""

import csv
import io
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from surveyapp.core import codes
from surveyapp.extensions import db
from surveyapp.models.jobs import Job, JobStatus
from surveyapp.models.respondents import Respondent, RespondentStatus

data_strings = st.text(alphabet=codes.ALPHABET, min_size=9, max_size=9)


# --- short codes ------------------------------------------------------------------------------


def test_alphabet_has_no_look_alikes_and_a_prime_size():
    assert not set("01OILUZ") & set(codes.ALPHABET)
    assert len(set(codes.ALPHABET)) == len(codes.ALPHABET) == 29
    assert all(29 % d for d in range(2, 29))


def test_hand_worked_check_character():
    # "222222222": values 0 → sum 0 → check value 0 → "2".
    assert codes.check_character("222222222") == "2"
    # "322222222": 1·1 = 1; need 10·v ≡ -1 (mod 29); 10·26 = 260 = 9·29 - 1 → v = 26 → "W".
    assert codes.ALPHABET[26] == "W"
    assert codes.check_character("322222222") == "W"
    assert codes.is_valid_code("322222222W")


@given(data_strings)
def test_generated_shape_and_valid_check(data):
    code = data + codes.check_character(data)
    assert codes.is_valid_code(code)
    assert len(codes.generate_code()) == codes.CODE_LENGTH


@given(data_strings, st.integers(0, 9), st.sampled_from(codes.ALPHABET))
def test_every_single_substitution_is_caught(data, position, symbol):
    code = data + codes.check_character(data)
    if code[position] == symbol:
        return
    changed = code[:position] + symbol + code[position + 1 :]
    assert not codes.is_valid_code(changed)


@given(data_strings, st.integers(0, 8))
def test_every_adjacent_transposition_is_caught(data, position):
    code = data + codes.check_character(data)
    if code[position] == code[position + 1]:
        return
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert not codes.is_valid_code(swapped)


def test_normalisation_of_typed_codes():
    code = "3222222222"[:9] + codes.check_character("322222222")
    assert codes.normalise_code(" 32222-2222w ") == code
    assert codes.format_code(code) == "32222-2222W"
    # U and Z are never printed; typed for V and 2 they still work.
    assert codes.normalise_code("z") == "2" and codes.normalise_code("u") == "V"
    assert not codes.is_valid_code("O" * 10)
    assert not codes.is_valid_code(code + "2")


def test_tokens_are_128_bit_and_distinct():
    tokens = {codes.generate_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 22 for t in tokens)  # 16 bytes, base64url without padding


# --- issuing ------------------------------------------------------------------------------------


def test_only_keyed_hashes_are_stored(app, survey, issue, backend):
    s = survey(respondents=3)
    issued = issue(s.respondents)
    with app.app_context():
        people = db.session.scalars(sa.select(Respondent).order_by(Respondent.id)).all()
        for person, item in zip(people, issued, strict=True):
            assert person.token_hash == codes.hash_token(item.token) != item.token
            assert person.short_code_hash == codes.hash_code(item.code)
            assert person.status == RespondentStatus.INVITED
            assert item.url.endswith(f"/s/{item.token}")
        dump = _database_dump(app, backend)
        first_hash = codes.hash_token(issued[0].token)
    assert first_hash in dump  # the dump does contain the rows
    for item in issued:
        assert item.token not in dump
        assert item.code.replace("-", "") not in dump and item.code not in dump


def _database_dump(app, backend) -> str:
    if backend == "sqlite":
        path = db.engine.url.database
        connection = __import__("sqlite3").connect(path)
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()
    rows = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows += [repr(tuple(r)) for r in connection.execute(table.select())]
    return "\n".join(rows)


def test_hash_depends_on_the_secret_key(app):
    with app.app_context():
        first = codes.hash_token("same-token")
    app.config["SECRET_KEY"] = "another-secret"
    with app.app_context():
        assert codes.hash_token("same-token") != first


# --- letters ------------------------------------------------------------------------------------


def _decode_first_qr(pdf: Path, tmp_path: Path) -> str:
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    from PIL import Image
    from pyzbar.pyzbar import decode

    (png,) = sorted(tmp_path.glob("p*.png"))
    symbols = decode(Image.open(png))
    assert len(symbols) == 1
    return symbols[0].data.decode()


def test_letters_job_pdf_qr_opens_the_form(app, client, login, survey, tmp_path):
    s = survey(respondents=2)
    login("supervisor")
    page = client.get(f"/tokens/{s.campaign.id}/units/{s.unit.id}")
    assert page.status_code == 200 and "Nguyễn Văn A" in page.get_data(as_text=True)
    assert "giữ nguyên mã" in page.get_data(as_text=True)  # what re-printing does
    response = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "new", "lang": "vi"}
    )
    assert response.status_code == 302
    job_page = client.get(response.headers["Location"])
    assert "Tải tệp PDF" in job_page.get_data(as_text=True)
    with app.app_context():
        job = db.session.scalars(sa.select(Job)).one()
        assert job.status == JobStatus.DONE and job.total == 2 and job.progress == 2
        pdf_path = Path(job.result_path)
        assert pdf_path.parent == Path(app.instance_path) / "letters" / f"campaign-{s.campaign.id}"
    download = client.get(f"/tokens/jobs/{job.id}/letters.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(download.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Nguyễn Văn A" in text and "Nguyễn Văn B" in text
    url = _decode_first_qr(pdf, tmp_path)
    token = url.rsplit("/s/", 1)[1]
    citizen = app.test_client()
    opened = citizen.get(f"/s/{token}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/s/form"
    # "new" only: nobody is left without a letter, so no job is started.
    again = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "new", "lang": "vi"}
    )
    assert again.status_code == 422 and "Không có ai cần thư" in again.get_data(as_text=True)
    deleted = client.post(f"/tokens/jobs/{job.id}/delete")
    assert deleted.status_code == 302 and not pdf_path.exists()
    assert client.get(f"/tokens/jobs/{job.id}/letters.pdf").status_code == 404


def test_a_letters_file_lies_in_the_shared_storage_and_another_host_serves_it(
    app, client, login, survey, tmp_path
):
    from surveyapp.app import create_app

    s = survey(respondents=2)
    app.config["STORAGE_DIR"] = str(tmp_path / "shared")
    keys = ("TESTING", "SECRET_KEY", "WTF_CSRF_ENABLED", "REDIS_URL", "SQLALCHEMY_DATABASE_URI")
    other = create_app(
        {**{k: app.config[k] for k in keys}, "STORAGE_DIR": str(tmp_path / "shared")}
    )
    other.instance_path = str(tmp_path / "other-host")
    login("supervisor")
    started = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}", data={"scope": "new", "lang": "vi"}
    )
    with client.session_transaction() as session:
        signed_in = dict(session)
    second = other.test_client()
    with second.session_transaction() as session:
        session.update(signed_in)
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    download = second.get(f"/tokens/jobs/{job_id}/letters.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert list((tmp_path / "shared" / "letters").rglob("*.pdf"))
    assert not list(Path(app.instance_path).rglob("*.pdf"))
    with other.app_context():
        db.engine.dispose()


def test_letters_job_failure_is_reported_on_its_page(app, client, login, survey):
    s = survey(respondents=0)
    login("admin")
    with app.app_context():
        from surveyapp import jobs

        job = jobs.enqueue(
            "letters",
            "surveyapp.tokens.service:render_letters_job",
            s.campaign.id,
            None,
            None,
            False,
            "vi",
        )
        db.session.commit()
        job_id = job.id
    page = client.get(f"/tokens/jobs/{job_id}").get_data(as_text=True)
    assert "Không tạo được thư" in page and "Nobody to write to" in page


def test_reprinting_selected_people_with_new_codes_reissues_only_theirs(
    app, client, login, survey, issue
):
    s = survey(respondents=2)
    first, second = issue(s.respondents)
    login("admin")
    response = client.post(
        f"/tokens/{s.campaign.id}/units/{s.unit.id}",
        data={
            "scope": "selected",
            "lang": "en",
            "new_codes": "y",
            "respondent": [str(s.respondents[0].id)],
        },
    )
    assert response.status_code == 302
    assert "0 letters re-printed with their existing code" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    citizen = app.test_client()
    assert citizen.get(f"/s/{first.token}", follow_redirects=True).status_code == 404
    assert citizen.get(f"/s/{second.token}").status_code == 302


@pytest.mark.parametrize("role", ["focal_point", "enumerator", "clerk"])
def test_letters_are_for_staff_only(client, login, survey, role):
    s = survey()
    login(role)
    assert client.get(f"/tokens/{s.campaign.id}/units/{s.unit.id}").status_code == 403
    assert client.get("/tokens/").status_code == 403


def test_tokens_index_counts(client, login, survey, issue):
    s = survey(respondents=3)
    issue(s.respondents[:2])
    login("admin")
    page = client.get("/tokens/").get_data(as_text=True)
    assert "<td>3</td><td>2</td><td>0</td>" in page.replace("\n", "").replace("    ", "")


def test_cli_issue_writes_pdf_and_links_without_printing_tokens(app, survey, tmp_path):
    s = survey(respondents=2)
    out, links = tmp_path / "letters.pdf", tmp_path / "links.csv"
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "tokens",
            "issue",
            "--campaign",
            s.campaign.code,
            "--unit",
            s.unit.code,
            "--out",
            str(out),
            "--links",
            str(links),
        ]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(links.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2
    for row in rows:
        token = row["url"].rsplit("/s/", 1)[1]
        assert token not in result.output and row["code"] not in result.output
        assert codes.is_valid_code(row["code"])
        with app.app_context():
            assert db.session.scalar(
                sa.select(Respondent.id).where(Respondent.token_hash == codes.hash_token(token))
            )
    bad = runner.invoke(args=["tokens", "issue", "--campaign", "NOPE", "--out", str(out)])
    assert bad.exit_code == 1 and "No campaign" in bad.output
