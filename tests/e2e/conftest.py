"""Fixtures shared by the end-to-end harness tests."""

from pathlib import Path

import pytest

from loadtesting.server import scrubbed_env

# The backing services whoever runs the tests chose (the CI's PostgreSQL, say) are kept.
KEPT = ("DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX")


@pytest.fixture
def env(tmp_path) -> dict:
    """The subprocess environment: no stray Locust or shop settings, a database of the test's own
    (SQLite under tmp_path unless DATABASE_URL is set)."""
    env = scrubbed_env(keep=KEPT)
    if not env.get("DATABASE_URL"):
        env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    return env


@pytest.fixture
def results(tmp_path) -> Path:
    """The run's --results-dir, under the test's own tmp_path."""
    return tmp_path / "results"
