"""End to end: the race check can fail. `loadtest race` against a shop whose stock step is unsafe
on purpose (read, then write: tests.support.unsafe_settings, test only) must report the oversell:
exit 2, the race's counts wrong, the audit naming the product. On SQLite and on PostgreSQL."""

import pytest

from tests.e2e.test_loadtest import SMALL, assert_printed, loadtest, verdict_of
from tests.support.databases import pg_database, pg_url, require_pg

pytestmark = pytest.mark.e2e

UNSAFE = {"DJANGO_SETTINGS_MODULE": "tests.support.unsafe_settings", "UNSAFE_STOCK_FOR_TESTS": "1"}


def run_unsafe_race(env: dict, tmp_path):
    results = tmp_path / "results"
    run = loadtest({**env, **UNSAFE}, "race", "--results-dir", str(results), *SMALL)
    return run, verdict_of(results, "race")


def assert_oversold(run, verdict) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    race = verdict["race"]
    assert (race["users"], race["stock"], race["expected_created"]) == (20, 5, 5)
    assert race["created"] > 5, race  # lost updates: more 201s than units
    assert race["refused"] < 15
    audit = verdict["audit"]
    assert audit["ok"] is False and audit["after"]["ok"] is False
    assert audit["before"]["ok"] is True  # the load did it
    [problem] = audit["after"]["problems"]
    assert problem["id"] == race["product_id"]
    assert problem["sku"].startswith("LT-")
    assert problem["held"] == race["created"]
    assert problem["stock"] + problem["held"] != problem["units_received"] == 5
    assert verdict["exit_code"] == 2 and verdict["pass"] is False
    failed = {check["label"].split(":")[0] for check in verdict["checks"] if not check["pass"]}
    assert {"Race", "Oversell audit", "Client ledger"} <= failed
    assert_printed(verdict, run.stdout)
    assert f"[fail] Race: {race['created']} x 201 created (expected exactly 5" in run.stdout
    assert f"{problem['sku']} (stock {problem['stock']} + held {problem['held']}" in run.stdout
    assert (
        run.stderr.strip()
        .splitlines()[-1]
        .startswith("Exit status 2: oversell or a broken stock invariant.")
    )


def test_unsafe_stock_step_oversells_and_the_race_check_fails_on_sqlite(env, tmp_path):
    if "DATABASE_URL" in env:
        env = {key: value for key, value in env.items() if key != "DATABASE_URL"}
        env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")

    assert_oversold(*run_unsafe_race(env, tmp_path))


def test_unsafe_stock_step_oversells_and_the_race_check_fails_on_postgres(env, tmp_path):
    require_pg()
    with pg_database("g_race") as name:
        pg_env = {key: value for key, value in env.items() if key != "SQLITE_PATH"}
        pg_env["DATABASE_URL"] = pg_url(name)

        assert_oversold(*run_unsafe_race(pg_env, tmp_path))


def test_the_unsafe_settings_load_only_when_asked_for(env):
    run = loadtest(
        {**env, "DJANGO_SETTINGS_MODULE": "tests.support.unsafe_settings"}, "race", "--stock", "1"
    )

    assert run.returncode == 3, run.stdout + run.stderr
    assert "UNSAFE_STOCK_FOR_TESTS=1" in run.stderr
    assert "Traceback" not in run.stderr
