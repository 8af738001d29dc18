"""The audit log (issue 12.11): ``record(action, target, detail)`` from any feature.

Views and commands call :func:`record` in one line where something worth tracing
happens: sign-ins, uploads, draws, locks, letters printed, exports and downloads of
personal data, purges, account and role changes. Access denials (401/403 answers) are
recorded by a hook, so no view has to. What is recorded: who (account and username),
when, which record (type and id) and a short detail; never answers, personal data or
tokens (callers pass ids and counts, not names or codes), with control characters
escaped so that a username cannot forge lines in an export or a terminal.

Within a request, events are written after the request's own commit or rollback: with
the request's work when it succeeded, and alone (``always=True``: failed sign-ins) when
it was refused. Outside a request (commands, jobs) they join the caller's transaction.
The administrator reads them at /audit (filters, pages) and exports them as CSV.
"""

import getpass
import unicodedata

from flask import Flask, current_app, g, has_request_context, request

from surveyapp.extensions import db
from surveyapp.models.audit import AuditEvent
from surveyapp.security import current_user

DETAIL_LIMIT = 500

# What each action code means, for the administrator's page (the code stays in the CSV).
ACTION_LABELS = {
    "access.denied": ("Bị từ chối truy cập", "Access denied"),
    "audit.export": ("Tải nhật ký kiểm toán", "Audit log downloaded"),
    "auth.login": ("Đăng nhập", "Signed in"),
    "auth.login_failed": ("Đăng nhập sai", "Failed sign-in"),
    "auth.login_throttled": ("Đăng nhập bị tạm chặn", "Sign-in throttled"),
    "auth.logout": ("Đăng xuất", "Signed out"),
    "auth.logout_everywhere": ("Đăng xuất mọi nơi", "Signed out everywhere"),
    "auth.password_changed": ("Đổi mật khẩu", "Password changed"),
    "auth.password_change_failed": ("Đổi mật khẩu sai", "Failed password change"),
    "auth.password_change_throttled": ("Đổi mật khẩu bị tạm chặn", "Password change throttled"),
    "campaign.create": ("Tạo đợt khảo sát", "Campaign created"),
    "campaign.end_entry": ("Kết thúc nhập phiếu", "Data entry ended"),
    "campaign.entry_deadline": ("Đặt hạn nhập phiếu", "Data-entry deadline set"),
    "campaign.instrument": ("Chọn bảng hỏi cho nhóm", "Questionnaire set for a group"),
    "campaign.instrument_delete": ("Bỏ bảng hỏi của nhóm", "Group's questionnaire removed"),
    "campaign.purge_pii": ("Xoá dữ liệu cá nhân của đợt", "Campaign's personal data purged"),
    "campaign.rating_target": ("Thêm đơn vị được đánh giá", "Rated unit added"),
    "campaign.rating_target_delete": ("Bỏ đơn vị được đánh giá", "Rated unit removed"),
    "campaign.status": ("Đổi trạng thái đợt khảo sát", "Campaign status changed"),
    "campaign.update": ("Sửa đợt khảo sát", "Campaign changed"),
    "download.bundle": ("Tải gói kết quả", "Results bundle downloaded"),
    "download.frame": ("Tải danh sách đầy đủ", "Full list downloaded"),
    "download.letters": ("Tải thư mời", "Letters downloaded"),
    "download.links": ("Tải đường dẫn và mã", "Links and codes downloaded"),
    "download.list_report": ("Tải báo cáo kiểm tra danh sách", "List check report downloaded"),
    "download.results": ("Tải kết quả", "Results downloaded"),
    "download.sample_lists": ("Tải danh sách mẫu", "Sample lists downloaded"),
    "draw.commit": ("Công bố cam kết chọn mẫu", "Draw commitment published"),
    "draw.lock": ("Khoá mẫu", "Sample locked"),
    "draw.run": ("Chọn mẫu", "Sample drawn"),
    "fieldwork.reserve_release": ("Kích hoạt người dự phòng", "Reserve released"),
    "letters.print": ("In thư mời", "Letters printed"),
    "list.restore": ("Khôi phục phiên bản danh sách", "List version restored"),
    "list.upload": ("Tải lên danh sách", "List uploaded"),
    "results.import": ("Nhập gói kết quả", "Results bundle imported"),
    "user.create": ("Tạo tài khoản", "Account created"),
    "user.disable": ("Khoá tài khoản", "Account disabled"),
    "user.enable": ("Mở lại tài khoản", "Account re-enabled"),
    "user.end_sessions": ("Kết thúc phiên đăng nhập của tài khoản", "Account's sessions ended"),
    "user.focal_points_created": (
        "Tạo tài khoản đầu mối hàng loạt",
        "Focal points created in bulk",
    ),
    "user.password_reset": ("Đặt lại mật khẩu", "Password reset"),
    "user.update": ("Sửa tài khoản", "Account changed"),
}


def action_label(action: str) -> tuple[str, str]:
    """The (vi, en) label of an action code; an unknown code is its own label."""
    return ACTION_LABELS.get(action, (action, action))


def escape_controls(text, limit: int = DETAIL_LIMIT) -> str:
    """``text`` with control and format characters (newlines, escapes, bidi overrides)
    written as ``\\xNN`` / ``\\uNNNN``, cut to ``limit`` characters."""
    out = []
    for char in str(text or ""):
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _target(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        kind, ident = target
        return str(kind), str(ident)
    kind = getattr(target, "__tablename__", type(target).__name__.lower())
    return kind.removesuffix("s"), str(getattr(target, "id", ""))


def record(action: str, target=None, detail: str = "", *, always: bool = False) -> None:
    """Record ``action`` (e.g. ``"draw.lock"``) on ``target`` (a model instance, or a
    ``(type, id)`` pair), with a short ``detail`` that carries no personal data.

    ``always``: keep the event even when the request is refused (failed sign-ins).
    """
    target_type, target_id = _target(target)
    event = AuditEvent(
        action=escape_controls(action, 64),
        target_type=escape_controls(target_type, 32),
        target_id=escape_controls(target_id, 64),
        detail=escape_controls(detail),
    )
    if has_request_context():
        user = current_user()
        event.actor_id = user.id if user is not None else None
        event.actor = escape_controls(user.username if user is not None else "", 80)
        event.channel = "web"
        g.setdefault("audit_events", []).append((event, always))
    else:
        event.actor = escape_controls(f"cli:{_os_user()}", 80)
        event.channel = "cli"
        db.session.add(event)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def _write_events(response):
    """After the request's commit or rollback: store what it recorded (see module doc)."""
    pending = g.pop("audit_events", [])
    ok = response.status_code < 400
    events = [event for event, always in pending if ok or always]
    if response.status_code in (401, 403) and not pending:
        user = current_user()
        events.append(
            AuditEvent(
                action="access.denied",
                actor_id=user.id if user is not None else None,
                actor=escape_controls(user.username if user is not None else "", 80),
                target_type="endpoint",
                target_id=escape_controls(request.endpoint or "", 64),
                detail=escape_controls(f"{request.method} {response.status_code}"),
                channel="web",
            )
        )
    if not events:
        return response
    try:
        db.session.add_all(events)
        db.session.commit()
    except Exception:  # the user's work is already committed; say so in the log
        db.session.rollback()
        current_app.logger.exception("Audit events could not be written")
    return response


def init_app(app: Flask) -> None:
    """Register before surveyapp.db's commit hook: after-request hooks run in reverse
    order, so events are written once the request's own transaction has ended."""
    app.after_request(_write_events)
