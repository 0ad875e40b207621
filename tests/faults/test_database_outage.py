"""PostgreSQL goes away mid-load and comes back: 503 fast, never a hang or a 500, then recovery.

gunicorn reaches PostgreSQL through a TCP proxy the test controls. Cutting it drops every
connection (the database went down) or swallows new ones (the host is unreachable); restoring it
must bring the service back by itself, without a restart. Afterwards the stock invariant holds,
every order a client saw as 201 exists, and every request the outage failed can be retried with
its Idempotency-Key without ordering twice.
"""

import time

import pytest

from tests.support.databases import (
    Backend,
    database_state,
    pg_database,
    pg_template,
    pg_url,
    require_pg,
)
from tests.support.django_process import service_env
from tests.support.fault_proxy import TcpProxy
from tests.support.http_request import request
from tests.support.load import OrderLoad, first, place_order
from tests.support.serving import gunicorn

pytestmark = pytest.mark.slow

CONNECT_TIMEOUT = 2  # seconds, the service's DB_CONNECT_TIMEOUT default
CUT_SECONDS = 3


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn (2 workers) on a PostgreSQL database of its own, reached through a proxy."""
    require_pg()
    tmp = tmp_path_factory.mktemp("outage")
    template, seed = pg_template()
    with pg_database("outage", template=template) as name:
        proxy = TcpProxy()
        try:
            direct = service_env(DATABASE_URL=pg_url(name))
            proxied = service_env(
                DATABASE_URL=pg_url(name, proxy.port), DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT)
            )
            db = Backend("postgresql", proxied, direct, seed, pg_name=name)
            with gunicorn(proxied, tmp / "gunicorn.log", workers=2) as server:
                yield server, proxy, db, seed
        finally:
            proxy.close()


def wait_for_health(port: int, status: int, timeout: float = 15.0):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        reply = request(port, "GET", "/health", timeout=timeout)
        if reply.status == status:
            return reply, time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"/health did not answer {status} within {timeout}s")


def assert_unavailable_health(reply) -> None:
    body = reply.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] != "ok"
    assert body["error"]["code"] == "unavailable"
    assert reply.headers.get("retry-after")


def test_database_cut_mid_load_answers_503_then_serves_again(served):
    server, proxy, db, seed = served
    with OrderLoad(server.port, seed.customers, seed.products, threads=8) as load:
        load.wait_for(20)
        # when the database goes down mid-load
        cut_at = time.monotonic()
        proxy.cut("refuse")
        health, health_503_after = wait_for_health(server.port, 503)
        assert_unavailable_health(health)
        time.sleep(max(0.0, cut_at + CUT_SECONDS - time.monotonic()))
        # and comes back
        restored_at = time.monotonic()
        proxy.restore()
        _, health_ok_after = wait_for_health(server.port, 200)
        load.wait_for(len(load.snapshot()) + 20)
    outcomes = load.snapshot()

    first_503 = first(outcomes, lambda o: o.status == 503, after=cut_at)
    first_201 = first(outcomes, lambda o: o.status == 201 and o.started >= restored_at, restored_at)
    assert first_503 is not None, "no request answered 503 during the cut"
    assert first_201 is not None, "no order was placed after the database came back"
    during = [o for o in outcomes if cut_at <= o.finished < first_201.finished]
    failed = [o for o in during if o.status != 201]
    print(
        f"\n[outage/refuse] {len(outcomes)} requests; time to 503 "
        f"{first_503.finished - cut_at:.2f}s (health {health_503_after:.2f}s); "
        f"recovered {first_201.finished - restored_at:.2f}s after restore "
        f"(health {health_ok_after:.2f}s); failed during the cut {len(failed)} of {len(during)}; "
        f"slowest answer {max(o.latency for o in outcomes):.2f}s"
    )

    # then every request got an answer, fast, and the answer was 201 or a well-formed 503
    assert {o.status for o in outcomes} <= {201, 503}, [o.error or o.status for o in outcomes]
    for outcome in outcomes:
        if outcome.status == 503:
            assert outcome.well_formed and outcome.code == "unavailable" and outcome.retry_after
    assert max(o.latency for o in outcomes) < CONNECT_TIMEOUT + 4
    assert first_503.finished - cut_at < CONNECT_TIMEOUT + 3
    # Requests that start once the cut is a second old all fail fast, none of them succeed.
    settled = [o for o in outcomes if cut_at + 1 <= o.started and o.finished < restored_at]
    assert settled and all(o.status == 503 for o in settled)
    # and the service is back by itself within seconds
    assert first_201.finished - restored_at < 10
    assert health_ok_after < 10
    assert_nothing_lost(server.port, outcomes, db)


def test_database_host_unreachable_answers_503_within_connect_timeout(served):
    server, proxy, db, seed = served
    token, product = seed.customers[0], seed.products[0]
    assert place_order(server.port, token, product, "before-blackhole").status == 201

    # when the database host stops answering (connections hang instead of failing)
    cut_at = time.monotonic()
    proxy.cut("blackhole")
    try:
        outcomes = [
            place_order(server.port, token, product, f"blackhole-{i}", timeout=20) for i in range(2)
        ]
        health = request(server.port, "GET", "/health", timeout=20)
    finally:
        restored_at = time.monotonic()
        proxy.restore()
    _, recovered_after = wait_for_health(server.port, 200)
    after = place_order(server.port, token, product, "after-blackhole")
    print(
        f"\n[outage/blackhole] answers {[o.status for o in outcomes]} in "
        f"{', '.join(f'{o.latency:.2f}s' for o in outcomes)}; health {health.status} in "
        f"{health.elapsed:.2f}s; cut lasted {restored_at - cut_at:.2f}s; "
        f"recovered {recovered_after:.2f}s after restore"
    )

    # then each request waits at most about the connect timeout, then answers 503
    for outcome in outcomes:
        assert outcome.status == 503 and outcome.code == "unavailable" and outcome.well_formed
        assert outcome.retry_after
        assert outcome.latency < CONNECT_TIMEOUT + 3
    assert health.status == 503 and health.elapsed < CONNECT_TIMEOUT + 3
    assert_unavailable_health(health)
    assert after.status == 201
    assert_nothing_lost(server.port, outcomes + [after], db)


def assert_nothing_lost(port: int, outcomes, db: Backend) -> None:
    """Invariant, every 201 exists, and retried failures order exactly once."""
    failed = [o for o in outcomes if o.status != 201]
    retried = [place_order(port, o.token, o.product_id, o.key) for o in failed]
    assert [r.status for r in retried] == [201] * len(retried)
    state = database_state(db.direct_env)
    state.assert_consistent()
    for outcome in outcomes:
        if outcome.status == 201:
            assert state.orders.get(outcome.order_id) == outcome.key
    keys = list(state.orders.values())
    assert len(keys) == len(set(keys)), "an order was placed twice for one Idempotency-Key"
    assert {o.key for o in outcomes} <= set(keys)
