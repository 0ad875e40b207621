"""Brute force on /auth/token: the per-address lockout and its window, a 503 when the shared
throttle cache is down, and, against a real gunicorn with two workers sharing the count in Redis,
one limit held exactly, in sequence and in parallel.
"""

import threading
import uuid
from unittest import mock

import pytest

from accounts.throttling import LoginFailureThrottle
from tests.support.databases import backend
from tests.support.http_request import is_error_shape, request
from tests.support.seed_database import CUSTOMER_PASSWORD
from tests.support.serving import gunicorn

pytestmark = pytest.mark.usefixtures("_fast_password_hashing")


def login(client, username, password, **extra):
    return client.post("/auth/token", {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_abuse_guessing_across_many_usernames_is_throttled_per_address(anon_client, customer):
    for i in range(10):
        assert login(anon_client, f"user{i}", "guess", format="json").status_code == 401
    response = login(anon_client, "alice", "correct-horse-9", format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    # The throttled attempt was not even checked: a right guess during lockout teaches nothing.
    assert "token" not in response.json()


@pytest.mark.django_db
def test_abuse_lockout_ends_when_the_window_passes(anon_client, customer):
    now = 1_000_000.0
    with mock.patch.object(LoginFailureThrottle, "timer", lambda self: now):
        for _ in range(10):
            login(anon_client, "alice", "wrong", format="json")
        locked = login(anon_client, "alice", "correct-horse-9", format="json")
        retry_after = int(locked.headers["Retry-After"])
        now += retry_after + 1
        freed = login(anon_client, "alice", "correct-horse-9", format="json")
    assert locked.status_code == 429 and 1 <= retry_after <= 60
    assert freed.status_code == 200


@pytest.mark.django_db
def test_abuse_logins_answer_503_when_the_shared_throttle_cache_is_down(
    anon_client, customer, customer_client, settings
):
    # A Redis nobody listens on: refused at once (and the settings bound a hanging one to 1 s).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.PRODUCT_CACHE_SECONDS = 0
    response = login(anon_client, "alice", "correct-horse-9", format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"]
    # Issued tokens keep working.
    assert customer_client.get("/orders/").status_code == 200


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="module")
def throttled_server(tmp_path_factory):
    """2 gunicorn workers behind a (simulated) TLS proxy, sharing the login count in Redis."""
    if not redis_reachable():
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    tmp = tmp_path_factory.mktemp("throttle")
    settings = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": f"h3-abuse-{uuid.uuid4().hex}",
        "LOGIN_THROTTLE_RATE": "4/min",
        "NUM_PROXIES": "1",
    }
    with backend("sqlite", tmp, **settings) as db:
        seed = db.seed  # customer0 logs in with CUSTOMER_PASSWORD
        with gunicorn(db.env, tmp / "gunicorn.log", workers=2) as server:
            yield server, seed


def attempt(port, client_address, password="wrong", forwarded=None):
    """A login through the proxy, which appends the client's address to X-Forwarded-For."""
    chain = f"{forwarded}, {client_address}" if forwarded else client_address
    return request(
        port,
        "POST",
        "/auth/token",
        body={"username": "customer0", "password": password},
        headers={"X-Forwarded-For": chain},
    )


LIMIT = 4
WORKERS = 2


@pytest.mark.slow
def test_abuse_brute_force_across_two_workers_is_held_to_one_shared_limit(throttled_server):
    server, _ = throttled_server
    # when one address guesses again and again (the workers take turns serving it)
    replies = [attempt(server.port, "198.51.100.1") for _ in range(LIMIT + 6)]

    # then exactly LIMIT guesses are checked, and every later one is throttled
    assert [r.status for r in replies] == [401] * LIMIT + [429] * 6
    for reply in replies[LIMIT:]:
        assert is_error_shape(reply, "throttled") and int(reply.headers["retry-after"]) >= 1
    # Even the right password is refused now; spoofing an earlier hop changes nothing.
    assert attempt(server.port, "198.51.100.1", CUSTOMER_PASSWORD).status == 429
    spoofed = attempt(server.port, "198.51.100.1", CUSTOMER_PASSWORD, forwarded="203.0.113.9")
    assert spoofed.status == 429
    # Another address (a real user) logs in at once.
    assert attempt(server.port, "198.51.100.200", CUSTOMER_PASSWORD).status == 200


@pytest.mark.slow
def test_abuse_parallel_brute_force_is_held_to_exactly_the_shared_limit(throttled_server):
    server, seed = throttled_server
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def guesser() -> None:
        barrier.wait()
        for _ in range(2):
            statuses.append(attempt(server.port, "198.51.100.2").status)

    threads = [threading.Thread(target=guesser) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    print(
        f"\n[brute-force] 16 parallel guesses: {statuses.count(401)} checked, "
        f"{statuses.count(429)} throttled (limit {LIMIT}, {WORKERS} workers)"
    )

    assert len(statuses) == 16 and set(statuses) <= {401, 429}
    # Each guess reserves its place (cache.incr in Redis) before its password is checked, so no
    # guess in flight in either worker slips past. Without the shared count each worker would
    # allow LIMIT (2 * LIMIT here).
    assert statuses.count(401) == LIMIT
    assert statuses.count(429) == 16 - LIMIT
    # Ordinary API traffic from a throttled address is not throttled.
    products = request(server.port, "GET", "/products/", token=seed.customers[0])
    assert products.status == 200
