"""``surveyapp demo [--port 5000] [--host 127.0.0.1] [--reset] [--no-serve]``.

Creates the demo database (the app's database: SQLite in the instance folder unless
``DATABASE_URL`` says otherwise), or reuses it when it is already the demo's, prints how
to try it, and serves the app with a threaded server until Ctrl-C. Jobs run inline (no
Redis, no worker needed).
"""

import logging
import os
import socket
import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from surveyapp.db import transaction
from surveyapp.demo import operations as demo
from surveyapp.extensions import db
from surveyapp.i18n import both
from surveyapp.models.users import ROLE_LABELS

RULE = "─" * 78


@click.command("demo")
@with_appcontext
@click.option(
    "--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Cổng / port"
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Địa chỉ lắng nghe / address to listen on",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Xoá và tạo lại cơ sở dữ liệu demo / erase and recreate the demo database",
)
@click.option(
    "--yes",
    is_flag=True,
    help="Không hỏi lại khi --reset xoá dữ liệu không phải demo / do not ask first",
)
@click.option(
    "--no-serve",
    is_flag=True,
    help="Chỉ tạo dữ liệu, không chạy máy chủ / set up only, do not serve",
)
def demo_command(port, host, reset, yes, no_serve):
    """Dữ liệu demo và máy chủ thử / Demo database and a local server."""
    started = time.perf_counter()
    app = current_app._get_current_object()
    _check_instance_folder(app.instance_path)
    if not no_serve:
        _check_port_free(host, port)
    # No worker runs beside the demo server: letters and scoring run inline.
    app.config["REDIS_URL"] = None
    app.config["BASE_URL"] = os.environ.get("BASE_URL") or f"http://{_shown_host(host)}:{port}"
    base_url = app.config["BASE_URL"].rstrip("/")
    try:
        links, walkin, poster_path, counts = _prepare(reset, yes)
    except demo.DemoError as error:
        raise click.ClickException(both(error.message_vi, error.message_en)) from None
    except sa.exc.OperationalError as error:
        raise click.ClickException(
            both(
                f"Không kết nối được cơ sở dữ liệu {demo.database_location()}: {error.orig}",
                f"Cannot use the database {demo.database_location()}: {error.orig}",
            )
        ) from None
    seconds = time.perf_counter() - started
    _print_summary(base_url, links, walkin, base_url + poster_path, counts, seconds)
    if not no_serve:
        _serve(app, host, port, base_url)


def _prepare(reset: bool, yes: bool):
    """The demo database, made or reused; the links to print and what it holds."""
    if reset:
        _erase(yes)
    with _step("Cập nhật cấu trúc cơ sở dữ liệu", "database migrations"):
        _migrate()
    state = demo.database_state()
    if state == "other":
        raise demo.DemoError(
            "Cơ sở dữ liệu này đã có dữ liệu không phải của bản demo; không ghi đè. Dùng "
            "--reset để xoá nó, hoặc đặt DATABASE_URL trỏ tới cơ sở dữ liệu khác.",
            "This database already holds data that is not the demo's; nothing was "
            "changed. Use --reset to erase it, or point DATABASE_URL to another database.",
        )
    if state == "demo":
        click.echo(
            both(
                "Đã có cơ sở dữ liệu demo: dùng lại (--reset để tạo lại).",
                "A demo database exists: reusing it (--reset to recreate it).",
            )
        )
    else:
        click.echo(both("Tạo dữ liệu demo…", "Creating the demo data…"))
        summary = demo.seed_demo(progress=_echo_step)
        if summary.scoring_problem:
            click.echo(f"  {both('Tính điểm không thành', 'Scoring failed')}: "
                       f"{summary.scoring_problem}")  # fmt: skip
    with transaction():
        campaign = demo.demo_campaign()
        links = demo.fresh_links(campaign.id)
        walkin = demo.walkin_url(campaign.id)
        counts = demo.counts()
        counts["comparison"] = demo.comparison_path(campaign.id)
        return links, walkin, demo.poster_path(campaign.id), counts


# ------------------------------------------------------------------------------ checks


def _check_instance_folder(path: str) -> None:
    if not os.access(path, os.W_OK):
        raise click.ClickException(
            both(
                f"Không ghi được vào thư mục instance {path}. Hãy cài từ một bản sao mã nguồn "
                "của bạn (pip install -e .) hoặc cấp quyền ghi.",
                f"The instance folder {path} is not writable. Install from a clone you own "
                "(pip install -e .) or make it writable.",
            )
        )


def _check_port_free(host: str, port: int) -> None:
    """Fail before seeding, not after, when another program holds the port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                both(
                    f"Không mở được {host}:{port} ({error.strerror}). Chọn cổng khác, ví dụ "
                    f"--port {port + 1}.",
                    f"Cannot listen on {host}:{port} ({error.strerror}). Choose another port, "
                    f"e.g. --port {port + 1}.",
                )
            ) from None


def _shown_host(host: str) -> str:
    """The address to print: a wildcard listen address is reached through loopback."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _migrate() -> None:
    """``flask db upgrade``, without Alembic's INFO lines (the step line says it) and
    without keeping the logging set-up of Alembic's ini file (the server's request log
    would go through it)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logging.disable(logging.INFO)
    try:
        upgrade()
    finally:
        logging.disable(logging.NOTSET)
        root.handlers[:], root.level = handlers, level


def _erase(yes: bool) -> None:
    if demo.database_state() == "other" and not yes:
        click.confirm(
            both(
                f"Cơ sở dữ liệu {demo.database_location()} có dữ liệu không phải demo. Xoá hết?",
                "It holds data that is not the demo's. Erase everything?",
            ),
            abort=True,
        )
    with _step("Xoá cơ sở dữ liệu cũ", "old database erased"):
        demo.erase_database()


# ------------------------------------------------------------------------------ output


class _step:
    """Print a step line with its duration."""

    def __init__(self, label_vi: str, label_en: str):
        self.labels = (label_vi, label_en)

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc_info):
        if exc_info[0] is None:
            _echo_step(*self.labels, time.perf_counter() - self.start)


def _echo_step(label_vi: str, label_en: str, seconds: float) -> None:
    click.echo(f"  ✓ {both(label_vi, label_en):<66} {seconds:6.2f} s")


def _print_summary(base_url, links, walkin, poster, counts, seconds) -> None:
    echo = click.echo
    echo(RULE)
    echo(f"{both('KHẢO SÁT CHỈ SỐ CCHC — BẢN DEMO', 'PAR INDEX SURVEY — DEMO')}  ({seconds:.1f} s)")
    echo(RULE)
    echo(f"{'Địa chỉ / URL':<22}{base_url}")
    echo(f"{'Cơ sở dữ liệu / DB':<22}{demo.database_location()}")
    echo(
        f"{'Dữ liệu / Data':<22}{counts['units']} đơn vị / units · {counts['lists']} danh sách / "
        f"lists ({counts['records']:,} dòng / rows)"
    )
    echo(
        f"{'':<22}mẫu / sample {counts['primaries']} + {counts['reserves']} dự phòng / reserves "
        f"({counts['released']} đã dùng / released) · {counts['tokens']} mã / tokens"
    )
    echo(
        f"{'Phiếu / Responses':<22}{counts['web']} trực tuyến / web · {counts['enumerator']} "
        f"phỏng vấn / interviews · {counts['paper']} giấy / paper · {counts['walkin']} tại "
        "quầy / walk-in"
    )
    echo("")
    echo("TÀI KHOẢN THỬ / DEMO LOGINS")
    echo("  Mật khẩu đơn giản, CHỈ DÙNG CHO DEMO. / Simple passwords, FOR THE DEMO ONLY.")
    echo(f"  {'Tên / User':<13}{'Mật khẩu / Password':<22}Vai trò / Role")
    for user in demo.DEMO_USERS:
        role = both(*ROLE_LABELS[user.role])
        echo(f"  {user.username:<13}{user.password:<22}{role}")
        echo(f"  {'':<13}→ {user.try_vi}")
        echo(f"  {'':<13}→ {user.try_en}")
    echo("")
    echo("ĐƯỜNG DẪN CHO NGƯỜI DÂN / CITIZEN LINKS")
    echo("  Mỗi đường dẫn trả lời được một lần; thử trên điện thoại.")
    echo("  Each link answers once; try them on a phone.")
    for number, link in enumerate(links, start=1):
        echo(f"  {number}. {link.url}")
        echo(f"     mã ngắn / short code {link.code}  (→ {base_url}/s)")
    echo(
        "  Mã chỉ lưu dạng băm: mỗi lần chạy lại, các đường dẫn này được cấp mới, cũ hết hiệu lực."
    )
    echo(
        "  Tokens are stored only as hashes: each run re-issues these links; old ones stop working."
    )
    echo("")
    echo("SO SÁNH VỚI NĂM TRƯỚC / YEAR ON YEAR (TP.HCM 2 cấp ← Bà Rịa - Vũng Tàu 2024)")
    echo("  Kết quả, báo cáo và tệp nhập điểm ghi chỉ số năm trước qua bảng chuyển đổi đơn vị.")
    echo("  Results, report and import file show last year's index through the unit crosswalk.")
    if counts.get("comparison"):
        echo(f"  {base_url}{counts['comparison']}  (admin)")
    echo(f"  {base_url}/crosswalks/  (bảng chuyển đổi / crosswalk)")
    echo("")
    echo("ÁP PHÍCH TẠI QUẦY / WALK-IN POSTER")
    echo(f"  {walkin}")
    echo(f"  PDF (đăng nhập / signed in): {poster}")
    echo(RULE)


# ------------------------------------------------------------------------------ server


def _serve(app, host: str, port: int, base_url: str) -> None:

    # Requests get their own sessions and connections in the server's threads.
    db.session.remove()
    db.engine.dispose()
    click.echo(
        both(
            f"Đang chạy tại {base_url} — nhấn Ctrl-C để dừng.",
            f"Serving on {base_url} — press Ctrl-C to stop.",
        )
    )
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    except OSError as error:
        raise click.ClickException(
            both(f"Không chạy được máy chủ: {error}", f"The server could not start: {error}")
        ) from None
    click.echo(both("Đã dừng.", "Stopped."))
