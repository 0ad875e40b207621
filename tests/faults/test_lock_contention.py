"""A transaction sits on a hot product: orders for it answer 503 after the lock timeout.

PostgreSQL: another session holds `SELECT … FOR UPDATE` on the product row and does not commit;
the service's `lock_timeout` (DB_LOCK_TIMEOUT_MS) ends the wait. SQLite: another connection holds
`BEGIN IMMEDIATE`, the write lock of the whole file; the busy timeout (SQLITE_BUSY_TIMEOUT) ends
the wait with "database is locked". Either way: 503 unavailable, Retry-After, the error shape,
never a 500 or a hang, nothing written, and the next order after the lock is released succeeds.
"""

import threading
import time

import pytest

from tests.support.databases import backend, count_orders, database_state, hot_lock
from tests.support.http_request import request
from tests.support.load import place_order
from tests.support.serving import gunicorn

pytestmark = pytest.mark.slow

LOCK_TIMEOUT = 1.0  # seconds, set for the service through its environment
STATEMENT_TIMEOUT = 1.5
TIMEOUT_SETTINGS = {
    "DB_LOCK_TIMEOUT_MS": "1000",
    "DB_STATEMENT_TIMEOUT_MS": "1500",
    "SQLITE_BUSY_TIMEOUT": "1",
}
# What the service logs when it gives up (core.errors.unavailable_response).
GAVE_UP = {"sqlite": "database is locked", "postgresql": "due to lock timeout"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"lock_{request.param}")
    with backend(request.param, tmp, **TIMEOUT_SETTINGS) as db:
        seed = db.seed
        with gunicorn(db.env, tmp / "gunicorn.log", workers=2) as server:
            yield server, db, seed


def assert_unavailable(outcome) -> None:
    assert outcome.status == 503, (outcome.status, outcome.error)
    assert outcome.code == "unavailable" and outcome.well_formed
    assert outcome.retry_after


def test_order_for_a_locked_product_answers_503_after_the_lock_timeout(served):
    server, db, seed = served
    token, hot, cool = seed.customers[0], seed.products[0], seed.products[1]
    orders_before = count_orders(db)

    with hot_lock(db, hot):
        # when an order needs the locked row (or, on SQLite, the locked file)
        blocked = place_order(server.port, token, hot, "hot-1", timeout=20)
        restock = request(
            server.port, "POST", f"/products/{hot}/restock", body={"quantity": 5}, token=seed.staff
        )
        other = place_order(server.port, token, cool, "cool-1", timeout=20)
        health = request(server.port, "GET", "/health")
        listing = request(server.port, "GET", f"/products/{hot}")
    after = place_order(server.port, token, hot, "hot-2")
    print(
        f"\n[lock/{db.name}] order on the locked product: {blocked.status} after "
        f"{blocked.latency:.2f}s (lock timeout {LOCK_TIMEOUT:.1f}s); restock {restock.status} "
        f"after {restock.elapsed:.2f}s; other product {other.status} after {other.latency:.2f}s"
    )

    # then it waited for about the lock timeout, then gave up with 503
    assert_unavailable(blocked)
    assert LOCK_TIMEOUT * 0.8 <= blocked.latency < LOCK_TIMEOUT + 3
    assert restock.status == 503 and restock.code == "unavailable"
    assert restock.headers.get("retry-after") and restock.elapsed < LOCK_TIMEOUT + 3
    if db.name == "postgresql":
        # A row lock holds only that row: other products sell on.
        assert other.status == 201
    else:
        # SQLite's write lock is the whole file.
        assert_unavailable(other)
    # Reads never wait for a writer (had they waited, they would have given up with a 503).
    assert health.status == 200 and listing.status == 200
    # and once the lock is gone the same order goes through
    assert after.status == 201
    assert GAVE_UP[db.name] in server.output()

    state = database_state(db.direct_env)
    state.assert_consistent()
    expected = orders_before + 1 + (other.status == 201)
    assert len(state.orders) == expected, "a request that answered 503 left an order behind"


def test_many_buyers_behind_one_lock_all_get_503_not_a_pile_up(served):
    server, db, seed = served
    hot = seed.products[0]
    outcomes = []
    barrier = threading.Barrier(5)

    def buyer(i: int) -> None:
        barrier.wait()
        outcomes.append(
            place_order(server.port, seed.customers[i % 4], hot, f"pile-{i}", timeout=20)
        )

    with hot_lock(db, hot):
        threads = [threading.Thread(target=buyer, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.monotonic()
        for thread in threads:
            thread.join(30)
        waited = time.monotonic() - started
    print(
        f"\n[lock/{db.name}] 4 buyers behind one lock: {[o.status for o in outcomes]} in "
        f"{', '.join(f'{o.latency:.2f}s' for o in outcomes)}"
    )
    assert len(outcomes) == 4
    for outcome in outcomes:
        assert_unavailable(outcome)
    # 2 sync workers serve 4 waiting requests in two rounds. On PostgreSQL a queued waiter first
    # waits for the waiter ahead of it (lock_timeout counts each lock anew), so statement_timeout
    # is what bounds one request.
    assert waited < 2 * max(LOCK_TIMEOUT, STATEMENT_TIMEOUT) + 2.5
    assert place_order(server.port, seed.customers[0], hot, "pile-after").status == 201
    database_state(db.direct_env).assert_consistent()
