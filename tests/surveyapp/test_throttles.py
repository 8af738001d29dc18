"""Sign-in throttles for shared carrier addresses, proxies, and bounded password hashing."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher

from surveyapp.security import HASHING_SLOTS

from .conftest import PASSWORD

CARRIER = "100.64.1.1"  # one carrier-grade NAT address for many people
REDIS_URL = "redis://127.0.0.1:6379/15"


def sign_in(client, username, password=PASSWORD, ip=CARRIER, headers=None):
    data = {"username": username, "password": password}
    return client.post(
        "/auth/login", data=data, environ_base={"REMOTE_ADDR": ip}, headers=headers or {}
    )


def test_others_typos_behind_one_address_do_not_lock_out_a_known_device(app, client, factory):
    factory.user(username="owner")
    assert sign_in(client, "owner").status_code == 302  # the owner's phone, known from now on
    client.post("/auth/logout")
    stranger = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(stranger, "owner", password="guess").status_code == 401
    assert sign_in(stranger, "owner").status_code == 429  # even the right password, there
    # The owner, behind the same address, signs in from the phone that signed in before.
    assert sign_in(client, "owner").status_code == 302


def test_a_known_device_still_has_its_own_limit(app, client, factory):
    factory.user(username="careless")
    assert sign_in(client, "careless").status_code == 302
    client.post("/auth/logout")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(client, "careless", password="nope").status_code == 401
    assert sign_in(client, "careless").status_code == 429


def test_a_forged_device_cookie_counts_as_no_device(app, client, factory):
    factory.user(username="victim")
    client.set_cookie("known_device", '["victim","mine"]')
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(client, "victim", password="nope").status_code == 401
    assert sign_in(client, "victim").status_code == 429


@pytest.mark.app_config(LOGIN_ADDRESS_LIMIT=30)
def test_one_password_sprayed_over_many_accounts_is_limited(app, client, factory):
    for n in range(40):
        factory.user(username=f"staff{n}")
    statuses = [sign_in(client, f"staff{n}", password="123456").status_code for n in range(40)]
    assert statuses == [401] * 30 + [429] * 10
    # Another address is not blocked by this one.
    assert sign_in(app.test_client(), "staff39", ip="100.64.1.2").status_code == 302


@pytest.mark.app_config(LOGIN_ACCOUNT_LIMIT=10)
def test_one_account_guessed_from_many_addresses_is_limited(app, client, factory):
    factory.user(username="target")
    statuses = [
        sign_in(client, "target", password=f"guess{n}", ip=f"100.64.2.{n}").status_code
        for n in range(12)
    ]
    assert statuses == [401] * 10 + [429] * 2


@pytest.mark.app_config(PROXY_HOPS=1)
def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(app, client, factory):
    """All requests come from the proxy's address; X-Forwarded-For tells the clients apart."""
    factory.user(username="behind")
    limit = app.config["LOGIN_MAX_FAILURES"]
    proxy = "10.0.0.5"
    first = {"X-Forwarded-For": "100.64.3.1"}
    for _ in range(limit):
        assert sign_in(client, "behind", "nope", ip=proxy, headers=first).status_code == 401
    assert sign_in(client, "behind", ip=proxy, headers=first).status_code == 429
    other = app.test_client()
    second = {"X-Forwarded-For": "100.64.3.2"}
    assert sign_in(other, "behind", ip=proxy, headers=second).status_code == 302


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app, client, factory):
    factory.user(username="spoofer")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for n in range(limit):
        forged = {"X-Forwarded-For": f"100.64.4.{n}"}  # a new address each time: ignored
        assert sign_in(client, "spoofer", "nope", headers=forged).status_code == 401
    forged = {"X-Forwarded-For": "100.64.4.200"}
    assert sign_in(client, "spoofer", headers=forged).status_code == 429


@pytest.fixture
def verified_hashes(monkeypatch):
    """The hashes argon2 verifies during the test."""
    seen = []
    original = PasswordHasher.verify

    def verify(self, hash, password):
        seen.append(hash)
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return seen


@pytest.mark.parametrize("case", ["disabled", "unknown", "wrong password"])
def test_every_refused_sign_in_verifies_an_argon2_hash(client, factory, verified_hashes, case):
    user = factory.user(username="someone", active=case != "disabled")
    username = "nobody" if case == "unknown" else "someone"
    password = "wrong" if case == "wrong password" else PASSWORD
    assert sign_in(client, username, password=password).status_code == 401
    (checked,) = verified_hashes
    assert checked.startswith("$argon2id$")
    if case == "wrong password":
        assert checked == user.password_hash
    else:  # a dummy hash: a disabled account's real password is never tested
        assert checked != user.password_hash


@pytest.mark.app_config(ARGON2_CONCURRENCY=1, ARGON2_WAIT_SECONDS=0)
def test_password_checks_past_the_bound_get_a_clear_503(app, client, factory):
    factory.user(username="busy")
    assert sign_in(client, "busy", password="warm-up").status_code == 401  # makes the slots
    slots = app.extensions[HASHING_SLOTS]
    assert slots.acquire(timeout=5)  # another request is hashing
    try:
        busy = sign_in(client, "busy")
    finally:
        slots.release()
    assert busy.status_code == 503 and "Retry-After" in busy.headers
    page = busy.get_data(as_text=True)
    assert "Hệ thống đang bận" in page and "Traceback" not in page
    assert sign_in(client, "busy").status_code == 302


@pytest.mark.app_config(ARGON2_CONCURRENCY=2, ARGON2_WAIT_SECONDS=30, LOGIN_ACCOUNT_LIMIT=100)
def test_concurrent_password_checks_never_exceed_the_bound(app, factory, monkeypatch):
    factory.user(username="crowd")
    running, most = 0, 0
    lock = threading.Lock()
    original = PasswordHasher.verify

    def verify(self, hash, password):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # long enough for the others to pile up if nothing bounds them
            return original(self, hash, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(PasswordHasher, "verify", verify)

    def attempt(n):
        return sign_in(app.test_client(), "crowd", "bogus", ip=f"100.64.5.{n}").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(pool.map(attempt, range(16)))
    assert statuses == Counter({401: 16}) and 1 <= most <= 2


@pytest.mark.app_config(REDIS_URL=REDIS_URL, LOGIN_ADDRESS_LIMIT=10)
def test_concurrent_sign_ins_never_pass_the_address_limit_in_redis(app, factory):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable: {error}")
    for n in range(40):
        factory.user(username=f"sprayed{n}")

    def attempt(n):
        return sign_in(app.test_client(), f"sprayed{n}", password="123456").status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = Counter(pool.map(attempt, range(40)))
    assert statuses == Counter({401: 10, 429: 30})


@pytest.mark.app_config(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
def test_an_unreachable_redis_keeps_the_limits_in_this_process(app, client, factory, caplog):
    factory.user(username="outage")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(client, "outage", password="nope").status_code == 401
    assert sign_in(client, "outage").status_code == 429
    assert "Rate-limit storage unreachable" in caplog.text
