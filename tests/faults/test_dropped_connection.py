"""The network under an open database connection goes silent: 503 within seconds, then recovery.

A crashed database host, or a firewall or NAT that forgot the connection, closes nothing and
answers nothing: packets just vanish. A worker waiting for PostgreSQL's answer then waits for
ever (until gunicorn kills it), unless TCP keepalives notice the silence: shop/settings.py asks
libpq for keepalives (5 s idle, then 3 probes 1 s apart), so the request fails as 503 after about
8 s. gunicorn reaches PostgreSQL across a `DroppingLink` (tests.support.packet_loss), through a
proxy listening on its far side; the test drops every packet while a worker is waiting on a row
lock, then lets packets through again: the service serves on by itself, nothing is half written.
PostgreSQL only (SQLite has no connection to drop); needs root for the link.
"""

import threading
import time

import pytest

from tests.support import packet_loss
from tests.support.databases import (
    Backend,
    database_state,
    hot_lock,
    pg_database,
    pg_template,
    pg_url,
    require_pg,
)
from tests.support.django_process import service_env
from tests.support.fault_proxy import TcpProxy
from tests.support.load import place_order
from tests.support.serving import gunicorn

pytestmark = pytest.mark.slow

NOTICED_WITHIN = 5 + 3 * 1  # seconds of silence: keepalives_idle + keepalives_count * interval
CONNECT_TIMEOUT = 2  # the service's DB_CONNECT_TIMEOUT default
HANG = 25  # the client's timeout: an answer this late is a hang
# Waits much longer than the keepalives, so only they can end the held request in time.
PATIENT = {
    "DB_LOCK_TIMEOUT_MS": "60000",
    "DB_STATEMENT_TIMEOUT_MS": "60000",
    "GUNICORN_TIMEOUT": "60",
}


@pytest.fixture
def served(tmp_path):
    """One sync worker on a PostgreSQL database of its own, reached across a dropping link."""
    require_pg()
    reason = packet_loss.unavailable()
    if reason:
        pytest.skip(reason)
    template, seed = pg_template()
    with pg_database("dropped", template=template) as name, packet_loss.DroppingLink() as link:
        proxy = TcpProxy(listener=link.listen())
        try:
            linked = pg_url(name, proxy.port, host=link.far)
            env = service_env(DATABASE_URL=linked, **PATIENT)
            direct = service_env(DATABASE_URL=pg_url(name))
            db = Backend("postgresql", env, direct, seed, pg_name=name)
            with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as server:
                yield server, link, db
        finally:
            link.restore()
            proxy.close()


def order_until_placed(port: int, token: str, product: int, key: str, timeout: float):
    """Retry one order (one Idempotency-Key) until it is placed; the last outcome."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = place_order(port, token, product, key, timeout=HANG)
        if outcome.status == 201 or time.monotonic() > deadline:
            return outcome
        time.sleep(0.2)


def test_packets_vanishing_mid_request_answer_503_within_seconds_then_recover(served):
    server, link, db = served
    token, hot, cool = db.seed.customers[0], db.seed.products[0], db.seed.products[1]
    # given a worker whose database connection is open and has served an order
    assert place_order(server.port, token, hot, "before").status == 201

    held: list = []
    with hot_lock(db, hot):
        waiting = threading.Thread(
            target=lambda: held.append(place_order(server.port, token, hot, "held", HANG))
        )
        waiting.start()
        time.sleep(1.0)  # the worker's query is in PostgreSQL, waiting for the row lock
        # when every packet between the worker and the database starts to vanish
        dropped_at = time.monotonic()
        link.drop()
        waiting.join(HANG + 5)
        during = place_order(server.port, token, cool, "during", timeout=HANG)
    restored_at = time.monotonic()
    link.restore()
    recovered = order_until_placed(server.port, token, cool, "after", timeout=15)
    recovered_after = recovered.finished - restored_at
    (outcome,) = held
    print(
        f"\n[dropped] held request: {outcome.status or outcome.error} after "
        f"{outcome.finished - dropped_at:.2f}s of silence (noticed within {NOTICED_WITHIN}s); "
        f"new request during the drop: {during.status} in {during.latency:.2f}s; "
        f"served again {recovered_after:.2f}s after the packets flowed"
    )

    # then the held request failed as a well-formed 503 once the keepalives gave up, not a hang
    assert outcome.status == 503, outcome.error or outcome.status
    assert outcome.code == "unavailable" and outcome.well_formed and outcome.retry_after
    assert outcome.finished - dropped_at < NOTICED_WITHIN + 4
    # a new request could not connect either, and said so within the connect timeout
    assert during.status == 503 and during.latency < CONNECT_TIMEOUT + 3
    # and once packets flow again the same worker serves, without a restart
    assert recovered.status == 201 and recovered_after < 10
    # the held order can be retried with its key and is placed once; nothing is half written
    retried = order_until_placed(server.port, token, hot, "held", timeout=30)
    assert retried.status == 201, retried.error or retried.status
    state = database_state(db.direct_env)
    state.assert_consistent()
    keys = sorted(state.orders.values())
    assert keys == sorted(["before", "held", "after"]), keys
