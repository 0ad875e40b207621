"""Databases of a test's own: PostgreSQL ones made from a seeded template, SQLite file copies.

Migrating and seeding costs a Django start-up and a few seconds; it is done once per backend and
test session (in a subprocess, `tests.support.seed_database`), and every test starts from a copy.
The test reads what a fault left behind directly (`count_orders`) or through Django in a
subprocess (`database_state`), never through the server under test.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.django_process import run_module, service_env

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgres://postgres@{PG_HOST}:{PG_PORT}/postgres"


# --- PostgreSQL -------------------------------------------------------------------------------


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


def pg_url(name: str, port: int = PG_PORT, host: str = PG_HOST) -> str:
    return f"postgres://postgres@{host}:{port}/{name}"


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


# --- seeding and reading back -------------------------------------------------------------------


@dataclass
class Seed:
    staff: str
    customers: list[str]
    products: list[int]


def migrate_and_seed(env: dict[str, str], *, customers=4, products=4, stock=100_000) -> Seed:
    """Migrate the service's database and create a staff user, customers (tokens) and products."""
    args = {"customers": customers, "products": products, "stock": stock}
    return Seed(**run_module(env, "tests.support.seed_database", args))


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


def database_state(env: dict[str, str]) -> DatabaseState:
    """The stock audit (selector and `manage.py audit_stock`) and every order, read directly."""
    raw = run_module(env, "tests.support.read_state")
    raw["orders"] = {int(pk): key for pk, key in raw["orders"].items()}
    return DatabaseState(**raw)


# --- a backend per test ---------------------------------------------------------------------


@dataclass
class Backend:
    """Where a gunicorn under test keeps its data, and how the test reaches the same data."""

    name: str  # "sqlite" or "postgresql"
    env: dict[str, str]  # settings for the service (may go through a proxy)
    direct_env: dict[str, str]  # settings for the test's own checks (never through the proxy)
    seed: Seed
    sqlite_path: Path | None = None
    pg_name: str | None = None


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


# --- direct access, around the server ----------------------------------------------------------


def count_orders(db: Backend) -> int:
    """Orders in the backend's database, read directly (no Django start-up)."""
    if db.sqlite_path is not None:
        with sqlite3.connect(db.sqlite_path, timeout=10) as conn:
            return conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]
    import psycopg

    with psycopg.connect(db.direct_env["DATABASE_URL"], connect_timeout=2) as conn:
        return conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]


@contextmanager
def hot_lock(db: Backend, product_id: int) -> Iterator[None]:
    """Another client's transaction that holds the product (PostgreSQL) or the file (SQLite)."""
    if db.name == "sqlite":
        conn = sqlite3.connect(db.sqlite_path, isolation_level=None, timeout=5)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(db.direct_env["DATABASE_URL"], connect_timeout=2) as conn:
        conn.execute("SELECT id FROM inventory_product WHERE id = %s FOR UPDATE", [product_id])
        yield
        conn.rollback()
