"""End to end: what cannot run is exit 3 and one line, found before anything is started, migrated
or seeded (a busy port, a --host on another database, a bad DATABASE_URL).

Subprocesses only (locust never enters the pytest process); each test has its own databases.
"""

import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.test_loadtest import ROOT, assert_one_line_error, loadtest, server  # noqa: F401
from tests.support.databases import pg_database, pg_url, require_pg

pytestmark = pytest.mark.e2e


def sqlite_tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def pg_tables(name: str) -> list[str]:
    import psycopg

    with psycopg.connect(pg_url(name), connect_timeout=5) as db:
        rows = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return [row[0] for row in rows]


def test_interactive_on_a_busy_web_port_starts_nothing(env, tmp_path):
    # given: something already listens on the web port
    results = tmp_path / "results"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        # when
        started = time.monotonic()
        run = loadtest(env, "interactive", "--web-port", str(port), "--results-dir", str(results))
        took = time.monotonic() - started

    # then: one line, no gunicorn, no migration, no fixtures, no reports
    assert_one_line_error(run)
    assert f"Port {port} is busy" in run.stderr
    if "SQLITE_PATH" in env:
        assert sqlite_tables(Path(env["SQLITE_PATH"])) == []
    assert not results.exists()
    assert took < 20, took


def test_a_busy_master_port_is_refused_before_anything_starts(env, tmp_path):
    results = tmp_path / "results"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = loadtest(
            env, "quick", "--workers", "1", "--master-port", str(port),
            "--results-dir", str(results),
        )  # fmt: skip

    assert_one_line_error(run)
    assert f"Cannot listen on 127.0.0.1:{port}" in run.stderr
    assert not results.exists()


def test_host_with_an_unmigrated_sqlite_database_creates_no_table(env, tmp_path, server):  # noqa: F811
    # given: a running shop, and a harness pointed at a database that is not the server's
    empty = tmp_path / "empty.sqlite3"
    harness_env = {key: value for key, value in env.items() if key != "DATABASE_URL"}
    harness_env["SQLITE_PATH"] = str(empty)

    # when
    run = loadtest(
        harness_env, "quick", "--host", server, "--results-dir", str(tmp_path / "results")
    )

    # then
    assert_one_line_error(run)
    assert "does not share this harness's database" in run.stderr
    assert "migrations are not applied there" in run.stderr
    assert sqlite_tables(empty) == []


def test_host_with_an_unmigrated_postgres_database_creates_no_table(env, tmp_path, server):  # noqa: F811
    # given: a running shop, and a harness pointed at an empty PostgreSQL database of its own
    # (as it would be at the `postgres` maintenance database)
    require_pg()
    with pg_database("g_host") as name:
        harness_env = {key: value for key, value in env.items() if key != "SQLITE_PATH"}
        harness_env["DATABASE_URL"] = pg_url(name)

        # when
        run = loadtest(
            harness_env, "quick", "--host", server, "--results-dir", str(tmp_path / "results")
        )

        # then
        assert_one_line_error(run)
        assert "does not share this harness's database" in run.stderr
        assert f"postgresql {name}" in run.stderr
        assert pg_tables(name) == []


@pytest.mark.parametrize("url", ["garbage", "mysql://shop:secret@127.0.0.1:3306/shop"])
def test_the_wrapper_with_a_bad_database_url_is_one_line(env, tmp_path, url):
    run = subprocess.run(
        ["./scripts/run_load_tests.sh", "race", "--results-dir", str(tmp_path / "results")],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert_one_line_error(run)
    assert "DATABASE_URL" in run.stderr or "mysql" in run.stderr
    assert not (tmp_path / "results").exists()
