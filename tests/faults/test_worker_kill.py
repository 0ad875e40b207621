"""A gunicorn worker killed with SIGKILL mid-load: the master replaces it, nothing is half written.

A sync worker serves one request at a time, so each kill may break at most one client request;
whatever that request's transaction had done is rolled back by the database (SQLite's journal,
PostgreSQL's dropped backend), and the stock audit proves no order lost its lines or its stock.
"""

import os
import signal
import time

import pytest

from tests.support.databases import backend, database_state
from tests.support.load import OrderLoad, place_order
from tests.support.serving import gunicorn

pytestmark = pytest.mark.slow

KILLS = 2
WORKERS = 2


def wait_for_replacement(server, victim: int, timeout: float = 15.0) -> float:
    """Seconds until the master has a full set of workers again, none of them the victim."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pids = server.worker_pids()
        if len(pids) == WORKERS and victim not in pids:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"worker {victim} was not replaced within {timeout}s")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_worker_sigkill_mid_load_is_replaced_and_nothing_is_half_written(kind, tmp_path):
    with backend(kind, tmp_path) as db:
        seed = db.seed
        with gunicorn(db.env, tmp_path / "gunicorn.log", workers=WORKERS) as server:
            replaced_after: list[float] = []
            with OrderLoad(server.port, seed.customers, seed.products, threads=8) as load:
                load.wait_for(20)
                for round_ in range(KILLS):
                    # given a worker in the middle of serving orders
                    victim = server.worker_pids()[round_ % WORKERS]
                    # when it is killed outright
                    os.kill(victim, signal.SIGKILL)
                    # then the master starts another
                    replaced_after.append(wait_for_replacement(server, victim))
                    load.wait_for(len(load.snapshot()) + 6)
                served_before_end = len(load.snapshot())
                load.wait_for(served_before_end + 12)
            outcomes = load.snapshot()

            # Requests the kills broke are safe to retry with their Idempotency-Key.
            broken = [o for o in outcomes if o.status is None]
            retried = [place_order(server.port, o.token, o.product_id, o.key) for o in broken]
        state = database_state(db.direct_env)

    statuses = sorted({o.status for o in outcomes}, key=str)
    print(
        f"\n[worker-kill/{kind}] {KILLS} SIGKILLs, replaced after "
        f"{', '.join(f'{s:.2f}s' for s in replaced_after)}; {len(outcomes)} requests, "
        f"statuses {statuses}, broken connections {len(broken)}, "
        f"of which committed before the kill {sum(o.key in state.orders.values() for o in broken)}"
    )
    assert all(o.status in (201, 503, None) for o in outcomes), statuses
    assert all(o.well_formed and o.retry_after for o in outcomes if o.status == 503)
    # A sync worker holds one request: each kill breaks at most that one.
    assert len(broken) <= KILLS
    # The service kept serving after the last replacement.
    assert sum(o.status == 201 for o in outcomes[served_before_end:]) > 0
    assert [r.status for r in retried] == [201] * len(retried)

    state.assert_consistent()
    created = {o.order_id: o.key for o in outcomes if o.status == 201}
    for order_id, key in created.items():
        assert state.orders.get(order_id) == key, f"order {order_id} answered 201 but is missing"
    # Every order in the database is one a client asked for, once.
    sent_keys = {o.key for o in outcomes}
    assert set(state.orders.values()) <= sent_keys
    assert len(state.orders) == len(set(state.orders.values()))
