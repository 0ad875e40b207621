"""Real servers for fault tests: gunicorn as a subprocess, a TCP proxy the test can cut, load.

Everything listens on 127.0.0.1 and on a free port. Every gunicorn runs in its own process group
and database (a SQLite file under the test's tmp_path, or a PostgreSQL database of its own), and
is stopped in a `finally`, whatever the test did to it.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgres://postgres@{PG_HOST}:{PG_PORT}/postgres"

# Settings a developer's shell may carry that would point a subprocess at someone else's data.
_INHERITED_SETTINGS = (
    "DATABASE_URL",
    "SQLITE_PATH",
    "SQLITE_TEST_PATH",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "DEBUG",
    "LOG_FILE",
    "WEB_CONCURRENCY",
    "GUNICORN_BIND",
    "GUNICORN_WORKER_CLASS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "DB_CONNECT_TIMEOUT",
    "DB_LOCK_TIMEOUT_MS",
    "DB_STATEMENT_TIMEOUT_MS",
    "SQLITE_BUSY_TIMEOUT",
    "LOGIN_THROTTLE_RATE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- databases ------------------------------------------------------------------------------


def pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


def require_pg() -> None:
    if not pg_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}")


def pg_url(name: str, port: int = PG_PORT) -> str:
    return f"postgres://postgres@{PG_HOST}:{port}/{name}"


def _pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=2) as admin:
        admin.execute(statement)


@contextmanager
def pg_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of this test's own (a copy of `template`), dropped afterwards."""
    name = f"shop_h3_{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield name
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def service_env(**settings: str) -> dict[str, str]:
    """The environment of a service subprocess: this one's, minus shop settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_SETTINGS}
    env.update(DJANGO_SETTINGS_MODULE="shop.settings", PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    env.update(settings)
    return env


@dataclass
class Backend:
    """Where a gunicorn under test keeps its data, and how the test reaches the same data."""

    name: str  # "sqlite" or "postgresql"
    env: dict[str, str]  # settings for the service (may go through a proxy)
    direct_env: dict[str, str]  # settings for the test's own checks (never through the proxy)
    seed: Seed
    sqlite_path: Path | None = None
    pg_name: str | None = None


# Migrating and seeding costs a Django start-up and a few seconds; it is done once per backend
# and test session, and every test starts from a copy.
_templates: dict[str, tuple[Any, Seed]] = {}
_templates_lock = threading.Lock()


def _template(kind: str) -> tuple[Any, Seed]:
    with _templates_lock:
        if kind not in _templates:
            if kind == "sqlite":
                directory = Path(tempfile.mkdtemp(prefix="h3_template_"))
                atexit.register(shutil.rmtree, directory, True)
                path = directory / "template.sqlite3"
                _templates[kind] = (path, migrate_and_seed(service_env(SQLITE_PATH=str(path))))
            else:
                name = f"shop_h3_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
                _pg_admin(f'CREATE DATABASE "{name}"')
                atexit.register(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                _templates[kind] = (name, migrate_and_seed(service_env(DATABASE_URL=pg_url(name))))
        return _templates[kind]


def pg_template() -> tuple[str, Seed]:
    """The migrated, seeded PostgreSQL template database (for pg_database(template=...))."""
    require_pg()
    return _template("postgresql")


@contextmanager
def backend(kind: str, tmp_path: Path, **settings: str) -> Iterator[Backend]:
    """A migrated, seeded database of the test's own: a SQLite file or a PostgreSQL database."""
    if kind == "sqlite":
        template, seed = _template("sqlite")
        path = tmp_path / "db.sqlite3"
        for suffix in ("", "-wal"):
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", f"{path}{suffix}")
        env = service_env(SQLITE_PATH=str(path), **settings)
        yield Backend("sqlite", env, env, seed, sqlite_path=path)
        return
    template, seed = pg_template()
    prefix = re.sub(r"[^a-z0-9]+", "_", tmp_path.name.lower())[:24]
    with pg_database(prefix, template=template) as name:
        env = service_env(DATABASE_URL=pg_url(name), **settings)
        yield Backend("postgresql", env, env, seed, pg_name=name)


# --- Django code in a subprocess -----------------------------------------------------------

_PRELUDE = """
import json, os, sys
import django
django.setup()
ARGS = json.loads(sys.argv[1])
"""


def run_django(env: dict[str, str], code: str, args: Any = None, timeout: float = 90) -> Any:
    """Run `code` with Django set up in a subprocess; it leaves its answer in `result`."""
    script = _PRELUDE + code + "\nprint('RESULT ' + json.dumps(result))\n"
    done = subprocess.run(
        [PYTHON, "-c", script, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"subprocess failed ({done.returncode}):\n{done.stderr[-4000:]}")
    line = next(ln for ln in reversed(done.stdout.splitlines()) if ln.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


CUSTOMER_PASSWORD = "correct-horse-9"  # customer0's; the others have none
_SEED = (
    f"CUSTOMER_PASSWORD = {CUSTOMER_PASSWORD!r}\n"
    + """
from decimal import Decimal
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from inventory.services import product_create

call_command("migrate", verbosity=0, interactive=False)
staff = User.objects.create_user("staff", password=None, is_staff=True)
customers = [
    User.objects.create_user(f"customer{i}", password=None) for i in range(ARGS["customers"])
]
customers[0].set_password(CUSTOMER_PASSWORD)
customers[0].save()
products = [
    product_create(sku=f"FAULT-{i}", name=f"Fault {i}", price=Decimal("2.50"), stock=ARGS["stock"])
    for i in range(ARGS["products"])
]
result = {
    "staff": Token.objects.create(user=staff).key,
    "customers": [Token.objects.create(user=user).key for user in customers],
    "products": [product.pk for product in products],
}
from django.db import connections
connections.close_all()  # SQLite folds its WAL into the file, PostgreSQL frees the template
"""
)


@dataclass
class Seed:
    staff: str
    customers: list[str]
    products: list[int]


def migrate_and_seed(env: dict[str, str], *, customers=4, products=4, stock=100_000) -> Seed:
    """Migrate the service's database and create a staff user, customers (tokens) and products."""
    args = {"customers": customers, "products": products, "stock": stock}
    return Seed(**run_django(env, _SEED, args))


_VERIFY = """
from orders.models import Order
from orders.selectors import stock_audit
from django.core.management import call_command

audit = stock_audit()
try:
    call_command("audit_stock", stdout=open(os.devnull, "w"))
    command_ok = True
except Exception:
    command_ok = False
result = {
    "audit_ok": audit.ok,
    "audit_command_ok": command_ok,
    "problems": audit.problems,
    "orders": {str(pk): key for pk, key in Order.objects.values_list("id", "idempotency_key")},
    "orders_without_lines": list(
        Order.objects.filter(lines__isnull=True).values_list("id", flat=True)
    ),
}
"""


@dataclass
class DatabaseState:
    audit_ok: bool
    audit_command_ok: bool
    problems: list[dict]
    orders: dict[int, str]  # order id -> idempotency key
    orders_without_lines: list[int]

    def assert_consistent(self) -> None:
        assert self.audit_ok, f"stock invariant broken: {self.problems}"
        assert self.audit_command_ok, "manage.py audit_stock reports a broken invariant"
        assert not self.orders_without_lines, f"orders without lines: {self.orders_without_lines}"


def count_orders(db: Backend) -> int:
    """Orders in the backend's database, read directly (no Django start-up)."""
    if db.sqlite_path is not None:
        import sqlite3

        with sqlite3.connect(db.sqlite_path, timeout=10) as conn:
            return conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]
    import psycopg

    with psycopg.connect(db.direct_env["DATABASE_URL"], connect_timeout=2) as conn:
        return conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]


def database_state(env: dict[str, str]) -> DatabaseState:
    """The stock audit (selector and `manage.py audit_stock`) and every order, read directly."""
    raw = run_django(env, _VERIFY)
    raw["orders"] = {int(pk): key for pk, key in raw["orders"].items()}
    return DatabaseState(**raw)


# --- gunicorn -------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        try:
            return self.json()["error"]["code"]
        except Exception:
            return None


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Reply:
    """One HTTP request on a fresh connection (sync workers close it after each response)."""
    sent = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Token {token}"
    sent.update(headers or {})
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        received = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, received, raw, time.monotonic() - started)
    finally:
        conn.close()


def is_error_shape(reply: Reply, code: str | None = None) -> bool:
    try:
        error = reply.json()["error"]
    except Exception:
        return False
    return (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("details"), dict)
        and (code is None or error["code"] == code)
    )


class Gunicorn:
    """`python -m gunicorn -c gunicorn.conf.py shop.wsgi` in its own process group."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        workers: int = 2,
        probe_headers: dict[str, str] | None = None,
        **settings: str,
    ):
        self.port = free_port()
        self.log_path = log_path
        self.env = {**env, **settings}
        self.workers = workers
        # What /health needs to pass the host and HTTPS checks (production settings).
        self.probe_headers = probe_headers or {}
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, ready_timeout: float = 40.0, wait_healthy: bool = True) -> Gunicorn:
        command = [
            PYTHON,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "shop.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--no-control-socket",
        ]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited at start:\n{self.log()[-4000:]}")
            try:
                reply = request(self.port, "GET", "/health", headers=self.probe_headers, timeout=5)
                if reply.status == 200 or not wait_healthy:
                    if self._wait_for_workers(deadline):
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not become ready:\n{self.log()[-4000:]}")

    def _wait_for_workers(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if len(self.worker_pids()) == self.workers:
                return True
            time.sleep(0.1)
        return False

    def worker_pids(self) -> list[int]:
        import psutil

        try:
            return sorted(child.pid for child in psutil.Process(self.pid).children())
        except psutil.NoSuchProcess:
            return []

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the whole group, then SIGKILL whatever is left."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                # Workers may outlive the master by a moment; take the group down with it.
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
            break
        self._log.close()


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path, **kwargs: Any) -> Iterator[Gunicorn]:
    server = Gunicorn(env, log_path, **kwargs)
    try:
        yield server.start()
    finally:
        server.stop()


# --- load -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    key: str
    token: str
    product_id: int
    started: float
    finished: float
    status: int | None = None  # None: the connection failed or broke
    code: str | None = None
    order_id: int | None = None
    retry_after: str | None = None
    well_formed: bool = True
    error: str | None = None

    @property
    def latency(self) -> float:
        return self.finished - self.started


@dataclass
class OrderLoad:
    """Client threads placing one-unit orders, each with its own Idempotency-Key, until stopped."""

    port: int
    tokens: list[str]
    product_ids: list[int]
    threads: int = 8
    timeout: float = 20.0
    backoff: float = 0.25  # seconds a client waits after a failure, as a polite client would
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)
        ]

    def __enter__(self) -> OrderLoad:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(self.timeout + 5)

    def _run(self, index: int) -> None:
        rng = random.Random(index)
        token = self.tokens[index % len(self.tokens)]
        while not self._stop.is_set():
            outcome = place_order(
                self.port, token, rng.choice(self.product_ids), uuid.uuid4().hex, self.timeout
            )
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.status != 201:
                self._stop.wait(self.backoff)

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def wait_for(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count and time.monotonic() < deadline:
            time.sleep(0.05)


def place_order(port: int, token: str, product_id: int, key: str, timeout: float = 20) -> Outcome:
    started = time.monotonic()
    outcome = Outcome(key, token, product_id, started, started)
    try:
        reply = request(
            port,
            "POST",
            "/orders/",
            body={"product_id": product_id, "quantity": 1},
            token=token,
            headers={"Idempotency-Key": key},
            timeout=timeout,
        )
    except (OSError, http.client.HTTPException) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    else:
        outcome.status = reply.status
        outcome.retry_after = reply.headers.get("retry-after")
        if reply.status == 201:
            outcome.order_id = reply.json()["id"]
        else:
            outcome.code = reply.code
            outcome.well_formed = is_error_shape(reply)
    outcome.finished = time.monotonic()
    return outcome


# --- a TCP proxy the test can cut -------------------------------------------------------------


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: the peer learns at once that the connection is gone."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream; `cut()` plays the database going away.

    mode "refuse": every connection is dropped and new ones are reset at once (the server is down).
    mode "blackhole": every connection is dropped and new ones are accepted but never answered
    (the host is unreachable), so only the client's connect timeout ends the wait.
    """

    def __init__(self, upstream: tuple[str, int] = (PG_HOST, PG_PORT)):
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._mode = "open"
        self._live: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def cut(self, mode: str = "refuse") -> None:
        assert mode in ("refuse", "blackhole")
        with self._lock:
            self._mode = mode
            live, self._live = self._live, set()
        for sock in live:
            _reset(sock)

    def restore(self) -> None:
        with self._lock:
            self._mode = "open"
            held, self._held = self._held, []
        for sock in held:
            _reset(sock)

    def close(self) -> None:
        self.cut()
        self.restore()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self._mode
                if mode == "blackhole":
                    self._held.append(client)
            if mode == "refuse":
                _reset(client)
            elif mode == "open":
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=2)
            upstream.settimeout(None)
        except OSError:
            _reset(client)
            return
        with self._lock:
            if self._mode != "open":
                _reset(client)
                _reset(upstream)
                return
            self._live.update((client, upstream))
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            ours = src in self._live
            self._live.discard(src)
            self._live.discard(dst)
        if ours:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def first(outcomes: list[Outcome], predicate, after: float) -> Outcome | None:
    """The first outcome (by finish time) after `after` that satisfies `predicate`."""
    found = sorted((o for o in outcomes if o.finished >= after and predicate(o)), key=_finished)
    return found[0] if found else None


def _finished(outcome: Outcome) -> float:
    return outcome.finished
