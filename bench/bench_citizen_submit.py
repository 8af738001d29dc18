"""Benchmark: the citizen form's final submit under load, beside a bare Flask endpoint.

Both servers run side by side with the project's gunicorn.conf.py (as the Procfile:
gthread, 2 workers x 8 threads unless ``--workers``/``--threads`` say otherwise), on a
fresh PostgreSQL database; wrk on loopback measures them in interleaved rounds (bare,
submit, bare, submit, ...), so both see the same machine load:

* bare: a one-route Flask app answering "ok" (the ceiling of Flask + gunicorn here);
* submit: ``POST /s/form`` of the survey app: the last page of sipas-citizen for a
  respondent whose token was issued (hash stored) and whose earlier pages are in a
  server-side draft, all prepared before the run, with the session cookie and CSRF token
  a browser would send. Each request is a different respondent (each round its own
  share), so every request does the whole path: draft lookup, page validation, cleaning
  of all answers (relevance), the claim of the token, the draft DELETE, the sealed ballot
  INSERT, the commit (and, every BALLOT_BOX_SIZE submits, a batch mixed into responses),
  and the redirect to the thank-you page.

Every submit must answer 302 (a 409 would mean a token was used twice); after the run the
responses stored (mixed or still in the ballot box) must equal the 302s wrk counted (plus at most the requests in flight
when each round stopped). Beside throughput and latency, the CPU time that gunicorn,
PostgreSQL and wrk used per request is read from /proc; ``--profile N`` first times N
submits in process and splits their CPU time by phase.

    python bench/bench_citizen_submit.py --profile 1500   # 3 rounds x 10 s, 50 connections
    python bench/bench_citizen_submit.py --threads 1       # 2 sync workers
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask

CHILDREN = resource.RUSAGE_CHILDREN
ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-not-for-production"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

bare_app = Flask("bare")


@bare_app.get("/")
def bare_ok():
    return "ok"


LUA = r"""
local lines = {}
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do table.insert(lines, line) end
  step = tonumber(args[2])
  index = tid
end
function request()
  local line = lines[index % #lines + 1]
  index = index + step
  local tab = line:find("\t")
  return wrk.format("POST", "/s/form", {
    ["Cookie"] = "session=" .. line:sub(1, tab - 1),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, line:sub(tab + 1))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database(server_url: str) -> tuple[str, sa.Engine]:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"bench_citizen_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.execute(
            sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        )
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, admin


def seed(database_url: str, drafts: int) -> list[str]:
    """Migrate, create a campaign and ``drafts`` respondents each with a draft up to the
    last page; return one "cookie<TAB>body" line per respondent."""
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf

    from questionnaires import load_builtin
    from surveyapp.app import create_app
    from surveyapp.citizen import drafts as draft_module
    from surveyapp.core.codes import generate_token, hash_token
    from surveyapp.db import transaction
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, CampaignInstrument, Draw, Respondent, Unit
    from surveyapp.models.drafts import FormDraft

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database_url})
    questionnaire = load_builtin("sipas-citizen", "2024")
    last = len(questionnaire.sections) - 1
    earlier = {
        "a1": 1, "a3": 1, "a5": 3, "a6": 1, "a7": 1, "a8": 1, "f1": 2, "g1": 4, "h1": 2,
        **{f"b{i}": 4 for i in range(1, 5)}, **{f"c{i}": 4 for i in range(1, 5)},
        **{f"d{i}": 5 for i in range(1, 7)}, **{f"e{i}": 4 for i in range(1, 5)},
    }  # fmt: skip
    final_page = {"k1": ["2", "3"], "k2": "Rút ngắn thời gian chờ", "action": "submit"}
    lines = []
    with app.app_context():
        upgrade()
        with transaction():
            campaign = Campaign(
                code="2024", name="Bench", status="fieldwork",
                period_start=date(2024, 1, 1), period_end=date(2030, 12, 31),
            )  # fmt: skip
            unit = Unit(code="U1", name="UBND phường 1", level_label="UBND cấp xã")
            db.session.add_all([campaign, unit])
            db.session.flush()
            db.session.add(
                CampaignInstrument(
                    campaign_id=campaign.id,
                    respondent_group="citizen",
                    questionnaire_id="sipas-citizen",
                    questionnaire_version="2024",
                )  # fmt: skip
            )
            draw = Draw(campaign_id=campaign.id, design={})
            db.session.add(draw)
            db.session.flush()
            token_hashes = [hash_token(generate_token()) for _ in range(drafts)]
            db.session.execute(
                sa.insert(Respondent),
                [
                    {
                        "draw_id": draw.id,
                        "campaign_id": campaign.id,
                        "source_unit_id": unit.id,
                        "respondent_group": "citizen",
                        "stratum": "U1/cá nhân",
                        "selection": "primary",
                        "inclusion_prob": 0.1,
                        "weight": 10.0,
                        "status": "invited",
                        "released": False,
                        "token_hash": token_hash,
                    }  # fmt: skip
                    for token_hash in token_hashes
                ],
            )
            ids = db.session.scalars(sa.select(Respondent.id).order_by(Respondent.id)).all()
            keys = [secrets.token_urlsafe(24) for _ in ids]
            db.session.execute(
                sa.insert(FormDraft),
                [
                    {
                        "key_hash": draft_module._key_hash(key),
                        "campaign_id": campaign.id,
                        "respondent_id": rid,
                        "token_hash": token_hash,
                        "rated_unit_id": unit.id,
                        "respondent_group": "citizen",
                        "questionnaire_id": "sipas-citizen",
                        "questionnaire_version": "2024",
                        "step": last,
                        "answers": earlier,
                    }  # fmt: skip
                    for rid, key, token_hash in zip(ids, keys, token_hashes, strict=True)
                ],
            )
        db.engine.dispose()
    # A request context of its own each (outside the app context above, whose `g` would
    # cache the first CSRF token).
    serializer = app.session_interface.get_signing_serializer(app)
    for key in keys:
        with app.test_request_context():
            from flask import session

            csrf = generate_csrf()
            session["form"] = key
            cookie = serializer.dumps(dict(session))
        body = urlencode({**final_page, "csrf_token": csrf}, doseq=True)
        lines.append(f"{cookie}\t{body}")
    return lines


# Where an in-process submit spends its CPU time: label, (file, function) whose cumulative
# time is counted. "form view, other" is the view minus its listed parts.
PHASES = (
    ("draft lookup (SELECT)", (("citizen/drafts.py", "current_draft"),)),
    ("page form (WTForms + CSRF)", (("wtforms/form.py", "__call__"), ("webform.py", "validate"))),
    ("clean all answers", (("webform.py", "clean_answers"),)),
    ("claim + draft delete", (("responses/operations.py", "_claim"),)),
    ("sealed ballot cast", (("responses/ballots.py", "cast"),)),
    ("commit (and mixing the box)", (("surveyapp/db.py", "_commit_or_rollback"),)),
    ("before-request hooks (CSRF, user)", (("flask/app.py", "preprocess_request"),)),
    (
        "signed session (open + save)",
        (("sessions.py", "open_session"), ("sessions.py", "save_session")),
    ),
)
IN_VIEW = 5  # the first five phases run inside the view


def profile_in_process(database_url: str, lines: list[str]) -> None:
    """CPU time per submit in one process (Flask test client), beside the bare app's, and
    its split by phase (cProfile with a CPU clock; the profiler's own overhead inflates
    every phase alike, so read the shares, not the absolute numbers)."""
    import cProfile
    import pstats

    from surveyapp.app import create_app

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database_url})
    client = app.test_client()

    def submit(line: str) -> None:
        cookie, body = line.split("\t")
        client.set_cookie("session", cookie)
        answer = client.post("/s/form", data=body, content_type="application/x-www-form-urlencoded")
        assert answer.status_code == 302, answer.status_code

    bare = bare_app.test_client()
    third = len(lines) // 3
    for line in lines[:20]:
        submit(line)
    started = time.process_time()
    for line in lines[20:third]:
        submit(line)
    per_submit = (time.process_time() - started) / (third - 20) * 1000
    started = time.process_time()
    for _ in range(2000):
        bare.get("/")
    per_bare = (time.process_time() - started) / 2000 * 1000
    print(f"in-process CPU: submit {per_submit:.2f} ms, bare {per_bare:.2f} ms per request")
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for line in lines[third:]:
        submit(line)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(tt for _, _, tt, _, _ in stats.values())

    def cumulative(places) -> float:
        return sum(
            row[3]
            for (path, _, name), row in stats.items()
            if any(file in path and name == function for file, function in places)
        )

    spent = [cumulative(places) for _, places in PHASES]
    view = cumulative((("citizen/routes.py", "form"),)) - sum(spent[:IN_VIEW])
    for (label, _), seconds in zip(PHASES, spent, strict=True):
        print(f"  {seconds / total:5.1%}  {label}")
    print(f"  {view / total:5.1%}  form view, other (relevance, merge, redirect)")
    rest = 1 - (sum(spent) + view) / total
    print(f"  {rest:5.1%}  the rest (Flask and werkzeug request handling, test client)")
    db_time = sum(tt for (path, _, _), (_, _, tt, _, _) in stats.items() if "psycopg" in path)
    print(f"  ({db_time / total:.1%} of the CPU time is inside psycopg)")


def serve(target: str, port: int, env: dict, args, warm_path: str = "/") -> subprocess.Popen:
    """gunicorn with the project's gunicorn.conf.py (as the Procfile), on loopback."""
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    env = {**env, "WEB_CONCURRENCY": str(args.workers), "WEB_THREADS": str(args.threads)}
    process = subprocess.Popen([*command, target], env=env, cwd=env.get("PWD", ROOT))
    # Ready when the workers answer (the port opens before they have imported the app);
    # a few more requests warm every worker up.
    deadline = time.monotonic() + 60
    answered = 0
    while time.monotonic() < deadline and answered < 10 * args.workers:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{warm_path}", timeout=5):
                pass
            answered += 1
        except urllib.error.HTTPError:
            answered += 1  # an error page is an answer too
        except OSError:
            time.sleep(0.2)
    if answered:
        return process
    process.kill()
    raise RuntimeError(f"gunicorn did not start: {target}")


def cpu_seconds(pids) -> float:
    """User + system CPU time of processes (Linux /proc; a vanished process counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def gunicorn_pids(master: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return [master.pid, *map(int, children)]


def postgres_pids(database_url: str) -> list[int]:
    """The PostgreSQL backends serving the bench database (same machine)."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    name = sa.engine.make_url(database_url).database
    with engine.connect() as connection:
        pids = connection.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> "
                    "pg_backend_pid()"), {"name": name}
        ).scalars().all()  # fmt: skip
    engine.dispose()
    return list(pids)


def measured(run, server: subprocess.Popen, database_url: str | None) -> dict:
    """``run()``'s wrk figures plus the CPU seconds that gunicorn, PostgreSQL and wrk
    used meanwhile, per request."""
    servers = gunicorn_pids(server)
    databases = postgres_pids(database_url) if database_url else []
    before = (cpu_seconds(servers), cpu_seconds(databases), resource.getrusage(CHILDREN))
    result = run()
    databases = sorted(set(databases) | set(postgres_pids(database_url) if database_url else []))
    after = (cpu_seconds(servers), cpu_seconds(databases), resource.getrusage(CHILDREN))
    wrk = (after[2].ru_utime + after[2].ru_stime) - (before[2].ru_utime + before[2].ru_stime)
    count = max(result["requests"], 1)
    result["cpu_ms"] = {
        "gunicorn": (after[0] - before[0]) / count * 1000,
        "postgres": (after[1] - before[1]) / count * 1000,
        "wrk": wrk / count * 1000,
    }
    return result


def run_wrk(url: str, args, script: Path | None = None, script_args=()) -> dict:
    command = [
        "wrk", "-t", str(args.wrk_threads), "-c", str(args.connections),
        "-d", f"{args.seconds}s", "--latency", "--timeout", "10s",
    ]  # fmt: skip
    if script is not None:
        command += ["-s", str(script), url, "--", *map(str, script_args)]
    else:
        command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> dict:
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", output, re.M))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(percentiles["50"]),
        "p99": _ms(percentiles["99"]),
        "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3, help="bare, submit, bare, submit...")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per worker")
    parser.add_argument("--drafts", type=int, default=30000, help="respondents (all rounds)")
    parser.add_argument("--server", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N",
        help="first time N submits in process and show where their CPU time goes",
    )  # fmt: skip
    args = parser.parse_args()

    database_url, admin = create_database(args.server)
    processes = []
    rounds: list[dict] = []
    try:
        started = time.perf_counter()
        lines = seed(database_url, args.drafts + args.profile)
        print(
            f"seeded {len(lines)} respondents with drafts in {time.perf_counter() - started:.1f} s"
        )
        if args.profile:
            profile_in_process(database_url, lines[args.drafts :])
            lines = lines[: args.drafts]
        profiled = count_responses(database_url)  # stored by the in-process submits
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            (folder / "submit.lua").write_text(LUA, encoding="utf-8")
            # Each round has its own respondents: a token is never sent twice.
            share = len(lines) // args.rounds
            for number in range(args.rounds):
                chunk = lines[number * share : (number + 1) * share]
                (folder / f"round{number}.tsv").write_text("\n".join(chunk) + "\n", "utf-8")
            env = {**os.environ, "PYTHONPATH": str(ROOT), "SECRET_KEY": SECRET}
            env.update(DATABASE_URL=database_url, SURVEYAPP_ENV="development", PWD=str(ROOT))
            env.pop("REDIS_URL", None)
            bare_port, app_port = free_port(), free_port()
            bare_server = serve("bench.bench_citizen_submit:bare_app", bare_port, env, args)
            processes.append(bare_server)
            app_server = serve("surveyapp.app:create_app()", app_port, env, args, "/healthz")
            processes.append(app_server)
            for number in range(args.rounds):
                bare = measured(
                    lambda: run_wrk(f"http://127.0.0.1:{bare_port}/", args), bare_server, None
                )
                submit = measured(
                    lambda number=number: run_wrk(
                        f"http://127.0.0.1:{app_port}",
                        args,
                        folder / "submit.lua",
                        (folder / f"round{number}.tsv", args.wrk_threads),
                    ),
                    app_server,
                    database_url,
                )
                rounds.append({"bare": bare, "submit": submit})
                print(f"round {number + 1}: bare {bare['rps']:,.0f} req/s, "
                      f"submit {submit['rps']:,.0f} req/s")  # fmt: skip
        for process in processes:
            process.terminate()
            process.wait()
        stored = count_responses(database_url) - profiled
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        with admin.connect() as connection:
            name = sa.engine.make_url(database_url).database
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    report(args, rounds, stored)


def count_responses(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT (SELECT count(*) FROM responses) + (SELECT count(*) FROM ballots)")
        ).scalar_one()
    engine.dispose()
    return stored


def report(args, rounds: list[dict], stored: int) -> None:
    print(f"\ngunicorn {args.workers} workers x {args.threads} threads (gthread), wrk "
          f"{args.wrk_threads} threads, {args.connections} connections, {args.seconds} s per "
          f"endpoint, {args.rounds} interleaved rounds")  # fmt: skip
    print("| Round | Endpoint | Requests | Req/s | p50 ms | p99 ms | Errors | submit / bare |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for number, pair in enumerate(rounds, 1):
        ratio = pair["submit"]["rps"] / pair["bare"]["rps"]
        for name, r in pair.items():
            print(
                f"| {number} | {name} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50']:.1f} "
                f"| {r['p99']:.1f} | {r['errors']} | {ratio:.0%} |"
            )
    print("\nCPU ms per request (all rounds): gunicorn / PostgreSQL / wrk")
    for name in ("bare", "submit"):
        parts = {
            part: sum(pair[name]["cpu_ms"][part] for pair in rounds) / len(rounds)
            for part in ("gunicorn", "postgres", "wrk")
        }
        print(f"  {name}: " + " / ".join(f"{v:.2f}" for v in parts.values())
              + f" = {sum(parts.values()):.2f}")  # fmt: skip
    ratios = sorted(pair["submit"]["rps"] / pair["bare"]["rps"] for pair in rounds)
    print(f"\nmedian submit / bare: {ratios[len(ratios) // 2]:.0%}")
    submitted = sum(pair["submit"]["requests"] - pair["submit"]["errors"] for pair in rounds)
    print(f"responses stored by the load: {stored} (successful submits counted by wrk: "
          f"{submitted})")  # fmt: skip
    # Requests still in flight when wrk stops are stored but not counted by wrk.
    if not submitted <= stored <= submitted + args.rounds * args.connections:
        print("MISMATCH: a submit was lost or counted twice", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
