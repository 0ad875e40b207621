"""The per-request health check of a PostgreSQL connection sends nothing, yet a broken one is
replaced (core/db/postgresql).

In process, each request is preceded by `close_old_connections()`, as Django's handler does on
request_started (the test client skips it); libpq's protocol trace shows every statement the
connection sent. A backend terminated between two requests (pg_terminate_backend from a second
connection), a connection left in a transaction or in a failed one: the next request is answered
normally on a new backend. A healthy idle connection is kept and sends no `SELECT 1`. The last
test does the same to a live gunicorn worker. PostgreSQL only (SQLite has no connection to lose).
"""

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.db.backends.postgresql.base import DatabaseWrapper as StockWrapper
from django.test.utils import CaptureQueriesContext
from psycopg import pq

from tests.support.databases import PG_ADMIN_URL, pg_database, pg_template, pg_url, require_pg
from tests.support.django_process import service_env
from tests.support.http_request import request
from tests.support.load import place_order
from tests.support.serving import gunicorn


@pytest.fixture
def pg(transactional_db):
    """Django's own connection, outside any test transaction; closed afterwards, whatever the
    test left it in."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no connection to lose")
    yield
    connection.close()


@dataclass
class Sent:
    """What the connection sent: the SQL of each simple Query and each Parse, and how many
    statements it ran (a Query or a Bind each: a statement psycopg has prepared is bound and run
    again without a Parse)."""

    sql: list[str] = field(default_factory=list)
    runs: int = 0


@contextmanager
def wire() -> Iterator[Sent]:
    """What the Django connection sends meanwhile."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        sent = Sent()
        try:
            yield sent
        finally:
            if connection.connection is not None and connection.connection.pgconn is pgconn:
                pgconn.untrace()
            trace.seek(0)
            read(trace.read(), sent)


def read(trace: str, sent: Sent) -> None:
    """libpq's trace lines: direction, length, message, then its fields (`"sql"` for a Query,
    `"name" "sql" n oids` for a Parse; a Sync has none)."""
    for line in trace.splitlines():
        direction, _, message, *rest = line.split("\t", 3)
        fields = rest[0].strip() if rest else ""
        if direction != "F":
            continue
        if message == "Query":
            sent.sql.append(fields[1:-1])
            sent.runs += 1
        elif message == "Parse":
            sent.sql.append(fields.split('" "', 1)[1].rsplit('" ', 1)[0])
        elif message == "Bind":
            sent.runs += 1


def admin(statement: str, *params) -> list[tuple]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=2) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def terminate(pid: int) -> None:
    """pg_terminate_backend from a second connection; returns once the backend is gone."""
    assert admin("SELECT pg_terminate_backend(%s)", pid) == [(True,)]
    deadline = time.monotonic() + 5
    while admin("SELECT 1 FROM pg_stat_activity WHERE pid = %s", pid):
        assert time.monotonic() < deadline, f"backend {pid} still there"
        time.sleep(0.01)


def backend_pid() -> int:
    return connection.connection.info.backend_pid


def next_request(client, path: str):
    close_old_connections()  # request_started, as Django's handler sends it
    return client.get(path)


def test_idle_healthy_connection_is_reused_without_a_select_1(pg, customer_client, make_product):
    product = make_product()
    path = f"/products/{product.id}"
    assert next_request(customer_client, path).status_code == 200
    pid = backend_pid()

    # when the next request starts on the idle connection
    with wire() as sent, CaptureQueriesContext(connection) as logged:
        reply = next_request(customer_client, path)

    # then it is answered on the same backend, and every statement sent is one Django ran
    assert reply.status_code == 200 and reply.json()["id"] == product.id
    assert backend_pid() == pid
    assert "SELECT 1" not in sent.sql
    assert sent.runs == len(logged) > 0
    # (the stock health check would have shown on the wire)
    with wire() as stock:
        assert StockWrapper.is_usable(connection)
    assert stock.sql == ["SELECT 1"] and stock.runs == 1


def test_backend_terminated_between_requests_is_replaced(pg, customer_client, make_product):
    product = make_product()
    path = f"/products/{product.id}"
    assert next_request(customer_client, path).status_code == 200
    old = backend_pid()

    # when the backend is terminated while the connection is idle
    terminate(old)
    assert connection.is_usable() is False
    reply = next_request(customer_client, path)

    # then the request is answered normally on a new backend
    assert reply.status_code == 200 and reply.json()["id"] == product.id
    assert backend_pid() != old


@pytest.mark.parametrize(
    "left", [["BEGIN"], ["BEGIN", "SELECT 1 / 0"]], ids=["in-transaction", "failed-transaction"]
)
def test_connection_left_in_a_transaction_is_not_reused(pg, customer_client, make_product, left):
    product = make_product()
    path = f"/products/{product.id}"
    assert next_request(customer_client, path).status_code == 200
    old = backend_pid()
    # given a connection left inside a transaction, open or failed, behind Django's back
    for statement in left:
        try:
            connection.connection.execute(statement)
        except Exception:
            pass
    assert connection.is_usable() is False

    reply = next_request(customer_client, path)

    assert reply.status_code == 200 and reply.json()["id"] == product.id
    assert backend_pid() != old


def test_connection_closed_under_django_is_replaced(pg, customer_client, make_product):
    product = make_product()
    path = f"/products/{product.id}"
    assert next_request(customer_client, path).status_code == 200
    old = backend_pid()
    # given a connection psycopg knows to be closed
    connection.connection.close()
    assert connection.is_usable() is False

    reply = next_request(customer_client, path)

    assert reply.status_code == 200 and reply.json()["id"] == product.id
    assert backend_pid() != old


def test_readable_healthy_connection_is_asked_and_kept(pg, customer_client, make_product):
    product = make_product()
    path = f"/products/{product.id}"
    assert next_request(customer_client, path).status_code == 200
    pid = backend_pid()
    # given a healthy connection with something to read: a notification on a channel it listens to
    connection.connection.execute("LISTEN h3_check")
    password = connection.settings_dict["PASSWORD"] or None
    with psycopg.connect(connection.connection.info.dsn, password=password) as other:
        other.execute("NOTIFY h3_check")  # NOTIFY reaches listeners of its own database only
    time.sleep(0.2)

    # when the next request starts, the health check asks the server, which says yes
    with wire() as sent:
        reply = next_request(customer_client, path)

    assert reply.status_code == 200
    assert sent.sql[0] == "SELECT 1"
    assert backend_pid() == pid
    connection.connection.execute("UNLISTEN *")


def worker_backends(name: str) -> list[int]:
    rows = admin(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
        name,
    )
    return sorted(pid for (pid,) in rows)


@pytest.mark.slow
def test_gunicorn_worker_replaces_a_terminated_backend_and_keeps_a_healthy_one(tmp_path: Path):
    require_pg()
    template, seed = pg_template()
    token, product = seed.customers[0], seed.products[0]
    path = f"/products/{product}"
    with pg_database("idlecheck", template=template) as name:
        env = service_env(DATABASE_URL=pg_url(name))
        with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as server:
            assert request(server.port, "GET", path, token=token).status == 200
            (pid,) = worker_backends(name)
            # a healthy idle connection is kept from request to request
            for _ in range(3):
                assert request(server.port, "GET", path, token=token).status == 200
            assert worker_backends(name) == [pid]

            # when its backend is terminated between two requests
            terminate(pid)
            reply = request(server.port, "GET", path, token=token)
            order = place_order(server.port, token, product, "after-terminate")

            # then the next requests are answered normally, on a new backend
            assert reply.status == 200 and reply.json()["id"] == product
            assert order.status == 201, order.error or order.status
            (new,) = worker_backends(name)
            assert new != pid
