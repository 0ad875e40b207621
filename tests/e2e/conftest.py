"""Fixtures shared by the end-to-end harness tests."""

import os

import pytest


@pytest.fixture
def env(tmp_path) -> dict:
    """The subprocess environment: no stray Locust settings, a database of the test's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LOADTEST_", "LOCUST_"))
    }
    if not env.get("DATABASE_URL"):
        env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    env["PYTHONUNBUFFERED"] = "1"
    return env
