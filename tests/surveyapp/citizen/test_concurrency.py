"""One response per token when the same final page is sent many times at once.

A real threaded server (werkzeug ``make_server``) on a free loopback port, 20 threads
released together by a barrier, on SQLite and on PostgreSQL (the ``app`` fixture runs
the test on both).
"""

import threading
import urllib.error
import urllib.parse
import urllib.request

import sqlalchemy as sa
from werkzeug.serving import make_server

from surveyapp.extensions import db
from surveyapp.models.respondents import Respondent
from surveyapp.models.responses import Response

THREADS = 20


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _to_last_page(client, page_answers, section_of) -> dict:
    """Answer pages with the test client until the page that sends; return its data."""
    for _ in range(20):
        page = client.get("/s/form").get_data(as_text=True)
        data = page_answers(section_of(page), {})
        if 'value="submit"' in page:
            return {**data, "action": "submit"}
        assert client.post("/s/form", data={**data, "action": "next"}).status_code == 302
    raise AssertionError("no last page")


def test_same_token_sent_twenty_times_at_once_gives_one_response(
    app, client, survey, issue, page_answers, section_of
):
    s = survey()
    (item,) = issue(s.respondents)
    assert client.get(f"/s/{item.token}").status_code == 302
    final = _to_last_page(client, page_answers, section_of)
    cookie = f"session={client.get_cookie('session').value}"
    body = urllib.parse.urlencode(final).encode()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/s/form"
    opener = urllib.request.build_opener(_NoRedirect)
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send() -> None:
        request = urllib.request.Request(url, data=body, headers={"Cookie": cookie})
        barrier.wait()
        try:
            with opener.open(request, timeout=60) as response:
                outcome = (response.status, response.headers.get("Location", ""))
        except urllib.error.HTTPError as error:
            outcome = (error.code, error.headers.get("Location", ""))
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=send) for _ in range(THREADS)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
    finally:
        server.shutdown()
        thread.join(timeout=10)

    assert len(results) == THREADS
    statuses = [status for status, _ in results]
    winners = [location for status, location in results if status == 302]
    assert len(winners) == 1 and winners[0].endswith("/s/thanks"), results
    # The others: "already answered" (409) or, after the winner removed the draft, the
    # friendly "open your link again" page (410). Never a server error.
    assert set(statuses) <= {302, 409, 410}, results
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 1
        assert db.session.get(Respondent, s.respondents[0].id).status.value == "completed"
