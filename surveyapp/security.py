"""Authentication state, access declarations and HTTP security headers (rate limits:
``surveyapp.throttles``).

Access control is deny-by-default: a before-request hook looks at the view function of
the matched endpoint and refuses the request unless the view is declared either

* ``@public`` (anyone, e.g. login, healthz, the citizen form), or
* ``@roles_required(Role.ADMIN, ...)`` / ``@login_required`` (any signed-in role).

Put the declaration directly under ``@bp.route(...)``. The declarations are attributes
on the view (``required_roles``, ``is_public``) which tests/surveyapp/test_access.py reads
to check every route of every blueprint. Record-level checks (which unit, which
respondent) are done in the view with :func:`can_see_unit` / :func:`can_see_respondent`
or :func:`require_unit`.
"""

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import ServiceUnavailable

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.respondents import Respondent
from surveyapp.models.users import Role, User, UserSession

ALL_ROLES = frozenset(Role)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# --- declarations ------------------------------------------------------------------


def roles_required(*roles: Role) -> Callable:
    """Declare the roles allowed on a view (checked before the view runs)."""
    if not roles:
        raise ValueError("roles_required needs at least one role")
    allowed = frozenset(Role(r) for r in roles)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            # Defence in depth: the before-request hook has already checked this.
            user = current_user()
            if user is None or user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = allowed
        return wrapper

    return decorate


def login_required(view: Callable) -> Callable:
    """Any signed-in user, whatever the role."""
    return roles_required(*ALL_ROLES)(view)


def public(view: Callable) -> Callable:
    """Declare a view open to anonymous visitors."""
    view.is_public = True
    return view


def view_access(view: Callable) -> frozenset[Role] | str | None:
    """ "public", the set of allowed roles, or None when the view declares nothing."""
    if getattr(view, "is_public", False):
        return "public"
    return getattr(view, "required_roles", None)


# --- current user and sessions -------------------------------------------------------


def current_user() -> User | None:
    return g.get("user")


def session_id_hash(session_id: str) -> str:
    """The keyed hash under which a session id is stored (never the id itself)."""
    return hmac.new(derive_key("session-id"), session_id.encode(), hashlib.sha256).hexdigest()


def _session_row_query(session_id: str):
    return sa.select(UserSession).where(
        UserSession.id_hash == session_id_hash(session_id), UserSession.expires_at > utcnow()
    )


def _load_user() -> None:
    g.user = None
    if request.endpoint == "static":
        return
    session_id = session.get("sid")
    if not isinstance(session_id, str):
        if "uid" in session:  # a cookie from before server-side sessions
            _clear_session()
        return
    row = db.session.execute(_session_row_query(session_id)).scalar_one_or_none()
    user = db.session.get(User, row.user_id) if row is not None else None
    if user is None or not user.active:
        # Logged out, password changed, disabled, expired or "log out everywhere".
        _clear_session()
        return
    g.user = user


def _clear_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start_session(user: User) -> str:
    """Record a new server-side session for ``user`` and return its id (for the cookie).

    Expired sessions are deleted on the way (each sign-in tidies the table).
    """
    now = utcnow()
    db.session.execute(sa.delete(UserSession).where(UserSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
    if not isinstance(lifetime, timedelta):
        lifetime = timedelta(seconds=lifetime)
    db.session.add(
        UserSession(
            id_hash=session_id_hash(session_id),
            user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return session_id


def _end_current_session() -> None:
    session_id = session.get("sid")
    if isinstance(session_id, str):
        db.session.execute(
            sa.delete(UserSession).where(UserSession.id_hash == session_id_hash(session_id))
        )


def login_user(user: User) -> None:
    """Start a fresh session for ``user`` (nothing from the anonymous session is kept
    but the language, so a planted session cannot be carried over)."""
    _end_current_session()
    _clear_session()
    session["sid"] = start_session(user)
    session.permanent = True
    user.last_login_at = utcnow()
    g.user = user


def logout_user() -> None:
    """End this session on the server: a copy of the cookie no longer signs anyone in."""
    _end_current_session()
    _clear_session()
    g.user = None


def end_all_sessions(user: User) -> None:
    """End every session of ``user`` (disable, password change or reset, "log out
    everywhere")."""
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))


# Pages a user who must change a one-time password may still open.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "core.set_language"})


def _enforce_access():
    if request.endpoint is None or request.endpoint == "static":
        return None  # 404/405 pages and static files
    view = current_app.view_functions.get(request.endpoint)
    access = view_access(view)
    if access == "public":
        return None
    if access is None:
        current_app.logger.error("View %s declares no access rule: refused", request.endpoint)
        abort(403)
    user = current_user()
    if user is None:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    if user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password"))
    if user.role not in access:
        abort(403)
    return None


# --- record-level checks -------------------------------------------------------------


def can_see_unit(user: User | None, unit_id: int | None) -> bool:
    """Whether ``user`` may see data of unit ``unit_id``.

    Focal points see only their own unit; enumerators only units where they have
    assigned respondents; DOHA staff, supervisors and clerks see every unit.
    """
    if user is None or unit_id is None:
        return False
    if user.role == Role.FOCAL_POINT:
        return user.unit_id == unit_id
    if user.role == Role.ENUMERATOR:
        query = sa.select(Respondent.id).where(
            Respondent.assigned_enumerator_id == user.id, Respondent.source_unit_id == unit_id
        )
        return db.session.execute(query.limit(1)).first() is not None
    return True


def can_see_respondent(user: User | None, respondent) -> bool:
    """Whether ``user`` may see a sampled respondent (including personal data).

    Enumerators see only their assignments; focal points and clerks never see who was
    sampled (the unit must not know who was asked); DOHA staff and supervisors do.
    """
    if user is None or respondent is None:
        return False
    if user.role in (Role.ADMIN, Role.SUPERVISOR):
        return True
    if user.role == Role.ENUMERATOR:
        return respondent.assigned_enumerator_id == user.id
    return False


def require_unit(unit_id: int | None) -> None:
    """Abort with 403 unless the current user may see ``unit_id``."""
    if not can_see_unit(current_user(), unit_id):
        abort(403)


# --- passwords -------------------------------------------------------------------------

HASHING_SLOTS = "surveyapp.hashing-slots"


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


@contextmanager
def _hashing_slot():
    """One of ARGON2_CONCURRENCY slots for a password hash in this process.

    Each argon2 hash takes ARGON2_MEMORY_COST KiB and a core for its time: unbounded, a
    burst of bogus sign-ins would starve every other request (citizens' forms included).
    A request waits up to ARGON2_WAIT_SECONDS for a slot, then gets a 503 asking to try
    again (Retry-After), never a queue without end.
    """
    config = current_app.config
    slots = current_app.extensions.get(HASHING_SLOTS)
    if slots is None:
        semaphore = threading.BoundedSemaphore(max(1, int(config["ARGON2_CONCURRENCY"])))
        slots = current_app.extensions.setdefault(HASHING_SLOTS, semaphore)
    if not slots.acquire(timeout=config["ARGON2_WAIT_SECONDS"]):
        current_app.logger.warning("Password hashing busy: sign-in refused with 503")
        raise ServiceUnavailable(retry_after=max(1, int(config["ARGON2_WAIT_SECONDS"])))
    try:
        yield
    finally:
        slots.release()


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    with _hashing_slot():
        return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    hasher = _hasher()
    try:
        with _hashing_slot():
            valid = hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        valid = False
    try:
        lighter = hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        lighter = False
    if lighter:  # e.g. a one-time password's light hash: take as long as any other check
        verify_unknown_user(password)
    return valid


# A hash to verify against when the account is unknown or disabled, so that every refused
# sign-in does the same work.
_DUMMY_HASHES: dict[tuple, str] = {}


def verify_unknown_user(password: str) -> bool:
    """Verify ``password`` against a dummy hash (same parameters as real ones); False."""
    hasher = _hasher()
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hash_password("not-a-user")
    verify_password(_DUMMY_HASHES[key], password)
    return False


# --- keys ------------------------------------------------------------------------------


def derive_key(purpose: str) -> bytes:
    """A key for ``purpose`` (e.g. "token-hash") derived from SECRET_KEY with HMAC-SHA256,
    so that each use of the secret has its own key."""
    secret = current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, f"surveyapp:{purpose}".encode(), hashlib.sha256).digest()


# --- redirects and headers -------------------------------------------------------------


def safe_next_url(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirect).

    A control character (CR/LF: a header injection attempt) is a bad request: 400.
    """
    if not target:
        return default
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        abort(400)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("PRODUCTION"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if "sid" in session or request.endpoint != "static":
        # Pages and downloads (letters, posters, results, bundles) can carry personal data
        # or live tokens: never stored, by the browser or a shared cache. Set, not
        # defaulted: send_file's own "no-cache" still lets them be stored.
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register before CSRFProtect so that anonymous POSTs get 401/redirect, not 400."""
    app.before_request(_load_user)
    app.before_request(_enforce_access)
    app.after_request(_security_headers)

    @app.context_processor
    def _inject_user() -> dict:
        return {"current_user": current_user(), "Role": Role}
