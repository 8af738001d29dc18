"""Rate limits on the `limits` library: Redis when ``REDIS_URL`` is set, memory otherwise.

A :class:`Throttle` allows at most ``limit`` hits per key in a moving window of ``window``
seconds. :meth:`Throttle.hit` checks and counts in one step (a Lua script on Redis, a lock
in memory), so concurrent requests never pass more than the limit: call it BEFORE the
work it guards (the lookup, the password check) and refuse the request when it returns
False. Counters in memory are per process (development, tests, a single-process server);
several processes or hosts share them only through Redis. While Redis cannot be reached,
each process counts in its own memory (a warning is logged) rather than failing requests.

Keys (addresses, usernames) are hashed before they reach the storage, so Redis holds no
personal data. ``RATELIMIT_KEY_PREFIX`` separates the counters of several deployments (or
tests) on one Redis.

The client address is ``request.remote_addr``; behind ``PROXY_HOPS`` trusted reverse
proxies, :func:`init_app` lets werkzeug's ProxyFix take it from ``X-Forwarded-For``.
"""

import hashlib
import secrets

from flask import Flask, Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from surveyapp.security import derive_key

_EXTENSION = "surveyapp.throttles"
_FALLBACK = "surveyapp.throttles.fallback"


def _limiter() -> MovingWindowRateLimiter:
    """The application's limiter, made on first use (no connection at start-up)."""
    extensions = current_app.extensions
    limiter = extensions.get(_EXTENSION)
    if limiter is None:
        config = current_app.config
        prefix = config.get("RATELIMIT_KEY_PREFIX") or "surveyapp-throttle"
        if config.get("REDIS_URL"):
            storage = storage_from_string(
                config["REDIS_URL"], key_prefix=prefix, wrap_exceptions=True
            )
        else:
            storage = storage_from_string("memory://")
        limiter = extensions.setdefault(_EXTENSION, MovingWindowRateLimiter(storage))
    return limiter


def _fallback() -> MovingWindowRateLimiter:
    """This process's own counters, used while Redis cannot be reached: limits stay in force
    (per process) instead of every sign-in and lookup failing."""
    limiter = current_app.extensions.get(_FALLBACK)
    if limiter is None:
        limiter = MovingWindowRateLimiter(storage_from_string("memory://"))
        limiter = current_app.extensions.setdefault(_FALLBACK, limiter)
    return limiter


def _call(method: str, *args):
    try:
        return getattr(_limiter(), method)(*args)
    except StorageError as error:
        current_app.logger.warning(
            "Rate-limit storage unreachable (%s): counting in this process",
            type(error.storage_error).__name__,
        )
        return getattr(_fallback(), method)(*args)


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class Throttle:
    """At most ``limit`` hits per key in a moving window of ``window`` seconds."""

    def __init__(self, scope: str, limit: int, window: int):
        self.scope, self.limit, self.window = scope, limit, window
        self._item = RateLimitItemPerSecond(limit, window, namespace="surveyapp")

    def hit(self, key: str) -> bool:
        """Count one hit for ``key``; False (and nothing counted) when the limit is reached."""
        if self.limit <= 0:
            return False
        return _call("hit", self._item, self.scope, _hashed(key))

    def blocked(self, key: str) -> bool:
        """Whether the next hit for ``key`` would be refused (a look, not a count)."""
        if self.limit <= 0:
            return True
        return not _call("test", self._item, self.scope, _hashed(key))

    def reset(self, key: str) -> None:
        _call("clear", self._item, self.scope, _hashed(key))


def client_address() -> str:
    """The client's address (the first untrusted one when behind trusted proxies)."""
    return request.remote_addr or "unknown"


def init_app(app: Flask) -> None:
    """Trust ``PROXY_HOPS`` reverse proxies for the client's address and scheme."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


# --- sign-in ---------------------------------------------------------------------------------

DEVICE_COOKIE = "known_device"


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(derive_key("login-device"), salt="login-device")


class LoginAttempt:
    """The throttles of one sign-in attempt for ``username``.

    Mobile carriers put many people behind one address, so an attempt is counted per
    account and address (LOGIN_MAX_FAILURES), per account from any address
    (LOGIN_ACCOUNT_LIMIT: guessing one password from many addresses) and per address for
    any account (LOGIN_ADDRESS_LIMIT: one password sprayed over many accounts). A browser
    that signed in to this account before carries a signed cookie naming the account and
    the device; its attempts are counted for that device alone, so neither others' typos
    behind the same address nor an attack on the account lock the owner out there.

    Attempts are counted before the password is checked (in one step: concurrent attempts
    never pass a limit); a success clears the counters of this account on this address or
    device.
    """

    def __init__(self, username: str):
        config = current_app.config
        self.window = config["LOGIN_WINDOW_SECONDS"]
        self.account = username.strip().lower()
        self.address = client_address()
        self.pair = Throttle("login", config["LOGIN_MAX_FAILURES"], self.window)
        self.device = self._known_device()

    def _known_device(self) -> str | None:
        value = request.cookies.get(DEVICE_COOKIE)
        if not value:
            return None
        try:
            account, device = _device_serializer().loads(value)
        except (BadSignature, TypeError, ValueError):
            return None
        return device if account == self.account else None

    def allowed(self) -> bool:
        """Count this attempt; False when a limit is reached (refuse without checking)."""
        if self.device is not None:
            return self.pair.hit(f"device|{self.device}")
        config = current_app.config
        per_account = Throttle("login-account", config["LOGIN_ACCOUNT_LIMIT"], self.window)
        per_address = Throttle("login-address", config["LOGIN_ADDRESS_LIMIT"], self.window)
        return (
            self.pair.hit(f"{self.account}|{self.address}")
            and per_account.hit(self.account)
            and per_address.hit(self.address)
        )

    def succeeded(self, response: Response) -> Response:
        """Clear this account's counters here and remember the device on ``response``."""
        self.pair.reset(f"{self.account}|{self.address}")
        device = self.device or secrets.token_urlsafe(12)
        self.pair.reset(f"device|{device}")
        days = current_app.config["LOGIN_DEVICE_DAYS"]
        response.set_cookie(
            DEVICE_COOKIE,
            _device_serializer().dumps([self.account, device]),
            max_age=days * 86400,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
        return response
