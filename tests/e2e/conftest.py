"""Fixtures shared by the end-to-end harness tests."""

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from loadtesting.server import scrubbed_env

# The backing services whoever runs the tests chose (the CI's PostgreSQL, say) are kept.
KEPT = ("DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX")
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")


def _admin(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
        for statement in statements:
            admin.execute(statement)


@pytest.fixture(scope="session")
def e2e_database_url() -> Iterator[str | None]:
    """With a PostgreSQL DATABASE_URL, a database of these tests' own on that server,
    test_<name>_e2e, made afresh and dropped afterwards (as pytest-django makes test_<name>): the
    harness migrates and seeds it, and the database the URL names need not exist, nor is it
    written to. None otherwise."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        yield url or None
        return
    name = f"test_{parts.path.lstrip('/') or 'postgres'}_e2e"
    admin = urlunsplit(parts._replace(path="/postgres"))
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    _admin(admin, drop, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        _admin(admin, drop)


@pytest.fixture
def env(tmp_path, e2e_database_url) -> dict:
    """The subprocess environment: no stray Locust or shop settings, a database of the test's own
    (SQLite under tmp_path), or with DATABASE_URL set the suite's own on its server."""
    env = scrubbed_env(keep=KEPT)
    if e2e_database_url:
        env["DATABASE_URL"] = e2e_database_url
    else:
        env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    return env


@pytest.fixture
def results(tmp_path) -> Path:
    """The run's --results-dir, under the test's own tmp_path."""
    return tmp_path / "results"
