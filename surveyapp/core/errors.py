"""Error pages in Vietnamese and English; never a traceback. Logged database errors carry
no data: neither their SQL parameters nor the database's detail line (which quotes values,
e.g. a duplicate key's)."""

import logging
import traceback
from types import TracebackType

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import StatementError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: (
        "Yêu cầu không hợp lệ",
        "Bad request",
        "Yêu cầu không hợp lệ hoặc biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại.",
        "The request was not valid or the form expired. Please reload the page and try again.",
    ),
    401: (
        "Cần đăng nhập",
        "Sign-in required",
        "Vui lòng đăng nhập để tiếp tục.",
        "Please sign in to continue.",
    ),
    403: (
        "Không có quyền truy cập",
        "Access denied",
        "Tài khoản của bạn không có quyền xem trang này.",
        "Your account may not view this page.",
    ),
    404: (
        "Không tìm thấy trang",
        "Page not found",
        "Địa chỉ không tồn tại hoặc đã bị xoá.",
        "This address does not exist or was removed.",
    ),
    405: (
        "Phương thức không được phép",
        "Method not allowed",
        "Trang này không nhận loại yêu cầu đó.",
        "This page does not accept that kind of request.",
    ),
    409: (
        "Không thể thực hiện lúc này",
        "Not possible now",
        "Thao tác không phù hợp với trạng thái hiện tại (ví dụ đợt khảo sát đã bắt đầu).",
        "The action does not fit the current state (e.g. the campaign has started).",
    ),
    413: (
        "Tệp quá lớn",
        "File too large",
        "Tệp gửi lên vượt quá dung lượng cho phép. Hãy chia nhỏ tệp hoặc nén bớt.",
        "The uploaded file is larger than allowed. Split it or make it smaller.",
    ),
    422: (
        "Dữ liệu chưa hợp lệ",
        "Invalid data",
        "Vui lòng kiểm tra lại dữ liệu đã nhập.",
        "Please check the data you entered.",
    ),
    429: (
        "Quá nhiều yêu cầu",
        "Too many requests",
        "Bạn đã thử quá nhiều lần. Vui lòng đợi ít phút rồi thử lại.",
        "Too many attempts. Please wait a few minutes and try again.",
    ),
    500: (
        "Lỗi hệ thống",
        "Server error",
        "Đã xảy ra lỗi. Dữ liệu của bạn chưa bị thay đổi; vui lòng thử lại sau.",
        "Something went wrong. Nothing was changed; please try again later.",
    ),
    503: (
        "Dịch vụ tạm ngừng",
        "Service unavailable",
        "Hệ thống đang bận hoặc bảo trì. Vui lòng thử lại sau.",
        "The service is busy or under maintenance. Please try again later.",
    ),
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(code: int, detail_vi: str | None = None, detail_en: str | None = None):
    title_vi, title_en, text_vi, text_en = MESSAGES.get(code, MESSAGES[500])
    if _wants_json():
        return jsonify(
            error=code, message_vi=detail_vi or text_vi, message_en=detail_en or text_en
        ), code
    return (
        render_template(
            "errors/error.html",
            code=code,
            title_vi=title_vi,
            title_en=title_en,
            text_vi=detail_vi or text_vi,
            text_en=detail_en or text_en,
        ),
        code,
    )


def _http_error(exc: HTTPException):
    code = exc.code or 500
    body, status = render_error(code if code in MESSAGES else 500)
    # The exception's own headers (Allow on a 405, Retry-After on a 429 or 503).
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return body, status, headers


def _server_error(exc: Exception):
    # The exception is logged by Flask (log_exception) before this handler runs.
    original = getattr(exc, "original_exception", exc)
    if isinstance(original, HTTPException) and not isinstance(original, InternalServerError):
        return _http_error(original)
    return render_error(500)


def database_error(exc: BaseException | None) -> StatementError | None:
    """The SQLAlchemy statement error in ``exc``'s chain of causes, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, StatementError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def describe_database_error(error: StatementError) -> str:
    """What failed, without a value: the error classes, SQLSTATE, the database's primary
    message (PostgreSQL's DETAIL line, which quotes values, is left out) and the
    statement's text with its placeholders."""
    orig = error.orig
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if primary is None and orig is not None:
        primary = str(orig).split("\n", 1)[0]
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "-"
    statement = " ".join(str(error.statement or "").split())[:300]
    return (
        f"{type(error).__name__} ({type(orig).__name__}, SQLSTATE {sqlstate}): {primary}; "
        f"statement: {statement}"
    )


def _log_exception(app: Flask, exc_info: tuple[type, BaseException, TracebackType]) -> None:
    """Flask's log_exception, except that a database error is logged by its description
    and the code path only (no exception messages, which may hold parameters)."""
    error = database_error(exc_info[1])
    if error is None:
        app.logger.error(f"Exception on {request.path} [{request.method}]", exc_info=exc_info)
        return
    stack = "".join(traceback.format_tb(exc_info[2]))
    app.logger.error(
        "Database error on %s [%s]: %s\nTraceback (without values):\n%s",
        request.path, request.method, describe_database_error(error), stack,
    )  # fmt: skip


class DatabaseErrorFilter(logging.Filter):
    """Any record the app's logger writes with a database error attached (a job's
    ``logger.exception``, say) keeps the message and the code path but not the error's
    text, which may quote values (PostgreSQL's DETAIL line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = database_error(record.exc_info[1]) if record.exc_info else None
        if error is not None:
            stack = "".join(traceback.format_tb(record.exc_info[2]))
            record.msg = (
                f"{record.getMessage()}: {describe_database_error(error)}\n"
                f"Traceback (without values):\n{stack}"
            )
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def init_app(app: Flask) -> None:
    app.log_exception = lambda exc_info: _log_exception(app, exc_info)
    app.logger.addFilter(DatabaseErrorFilter())
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
