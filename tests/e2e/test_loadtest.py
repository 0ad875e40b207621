"""End to end: `manage.py loadtest` with a real gunicorn, real Locust and real reports on disk.

Only subprocesses: locust monkey-patches the standard library with gevent when imported, so it
must never enter the pytest process (the thread-based concurrency tests would silently stop
being concurrent). Each test has its own SQLite database and results directory under tmp_path;
with DATABASE_URL set (the CI's PostgreSQL run) the suite's own test_<name>_e2e on that server
(tests/e2e/conftest.py).
Latency thresholds are loose: the verdict's arithmetic is what is tested, not this machine.
"""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from loadtesting.server import GunicornServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
LOOSE = ["--max-p95-ms", "10000", "--max-p99-ms", "20000"]
SMALL = ["--server-workers", "2"]
TIMEOUT_S = 240


def loadtest(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", "loadtest", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def verdict_of(results: Path, scenario: str) -> dict:
    """The run's verdict; its four reports (and the CSVs beside) must be on disk."""
    [path] = [p for p in results.glob(f"{scenario}_*.json") if not p.name.endswith("_samples.json")]
    verdict = json.loads(path.read_text())
    base = str(path.with_suffix(""))
    for suffix in (".html", "_locust.html", ".csv", ".log", ".json", "_history.csv",
                   "_failures.csv", "_samples.json"):  # fmt: skip
        assert Path(base + suffix).is_file(), base + suffix
    assert 'id="banner"' in Path(base + ".html").read_text()  # the harness's own page
    assert "<html" in Path(base + "_locust.html").read_text()[:2000].lower()
    assert path.name in (results / "index.html").read_text()
    assert Path(base + ".csv").read_text().startswith("Type,Name,Request Count")
    return verdict


def assert_printed(verdict: dict, printed: str) -> None:
    """What the JSON says is what the console said: every verdict line and the figures."""
    for check in verdict["checks"]:
        assert f"[{'ok' if check['pass'] else 'fail'}] {check['label']}" in printed
    outcome = "PASS" if verdict["pass"] else "FAIL"
    assert f"Verdict: {outcome} (exit {verdict['exit_code']})" in printed
    assert f"Total requests: {verdict['total']['requests']:,}" in printed
    assert f"95th percentile: {verdict['total']['p95_ms']:.0f}ms" in printed
    for path in verdict["reports"].values():
        if not path.endswith("_exceptions.csv"):
            assert path in printed


def assert_one_line_error(run: subprocess.CompletedProcess) -> None:
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_race_gives_exactly_stock_successes(env, results):
    # when
    run = loadtest(env, "race", "--results-dir", str(results), *SMALL)

    # then
    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_of(results, "race")
    race = verdict["race"]
    assert (race["users"], race["stock"]) == (20, 5)
    assert race["created"] == 5
    assert race["refused"] == 15
    assert race["others"] == {}
    assert race["final_stock"] == 0
    assert verdict["total"]["requests"] == 20
    assert verdict["total"]["stock_outs"] == 15
    assert verdict["total"]["failures"] == 0
    assert verdict["audit"]["ok"] is True
    assert verdict["exit_code"] == 0
    assert_printed(verdict, run.stdout)


def test_quick_writes_reports_and_prints_its_verdict(env, results):
    run = loadtest(env, "quick", "--run-time", "4s", "--results-dir", str(results), *LOOSE, *SMALL)

    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_of(results, "quick")
    assert verdict["scenario"] == "quick"
    assert verdict["options"]["users"] == 10
    assert verdict["options"]["run_time_s"] == 4
    assert verdict["total"]["requests"] > 0
    assert verdict["total"]["requests"] == verdict["locust"]["requests"]
    assert verdict["database"]["engine"] in ("sqlite3", "postgresql")
    assert verdict["target"]["started_by_harness"] is True
    assert verdict["server"]["peak_rss_mb"] > 0
    assert {t["label"].split(":")[0] for t in verdict["thresholds"]} >= {
        "p95 of all requests",
        "error rate",
    }
    assert_printed(verdict, run.stdout)
    assert "Target:   http://127.0.0.1:" in run.stdout
    assert "Database: " in run.stdout


def test_custom_with_json_prints_only_the_verdict_on_stdout(env, results):
    run = loadtest(
        env, "custom", "--users", "5", "--run-time", "4s", "--json",
        "--results-dir", str(results), *SMALL,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)  # nothing else on stdout
    verdict = verdict_of(results, "custom")
    assert printed == verdict
    assert verdict["options"]["users"] == 5
    assert verdict["thresholds"] == []  # custom judges only the thresholds it is given
    assert_printed(verdict, run.stderr)


def test_impossible_threshold_and_regression_exit_1(env, results, tmp_path):
    # given: a baseline no run can match
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"scenario": "custom", "total": {"p95_ms": 0.001, "rps": 1e9}}))

    # when
    run = loadtest(
        env, "custom", "--users", "3", "--run-time", "3s", "--max-p95-ms", "0",
        "--compare", str(baseline), "--results-dir", str(results), *SMALL,
    )  # fmt: skip

    # then
    assert run.returncode == 1, run.stdout + run.stderr
    verdict = verdict_of(results, "custom")
    failed = {check["kind"] for check in verdict["checks"] if not check["pass"]}
    assert failed == {"threshold", "regression"}
    assert verdict["compare"]["figures"]["p95_ms"]["baseline"] == 0.001
    assert verdict["exit_code"] == 1
    assert_printed(verdict, run.stdout)
    # the last line is a plain statement of the exit status, not a "CommandError" crash
    failures = sum(1 for check in verdict["checks"] if not check["pass"])
    assert run.stderr.strip().splitlines()[-1] == (
        f"Exit status 1: {failures} check(s) failed. "
        f"The verdict is in {verdict['reports']['json']}."
    )
    assert "CommandError" not in run.stderr


def test_broken_stock_invariant_exits_2(env, results, tmp_path):
    # given: fixtures, then a stock written behind the services' back
    prepared = loadtest(env, "prepare", "--credentials", str(tmp_path / "credentials.json"))
    assert prepared.returncode == 0, prepared.stderr
    tamper = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        '    cursor.execute("UPDATE inventory_product SET stock = stock + ({}) '
        "WHERE sku = 'LT-P-0001'\")\n"
    )
    shell = [PYTHON, "manage.py", "shell", "-c"]
    subprocess.run([*shell, tamper.format(7)], cwd=ROOT, env=env, check=True, timeout=60)
    try:
        # when: a run that would also fail a threshold (2 beats 1)
        run = loadtest(
            env, "custom", "--users", "3", "--run-time", "3s", "--max-p95-ms", "0",
            "--results-dir", str(results), *SMALL,
        )  # fmt: skip
    finally:
        subprocess.run([*shell, tamper.format(-7)], cwd=ROOT, env=env, check=True, timeout=60)

    # then
    assert run.returncode == 2, run.stdout + run.stderr
    verdict = verdict_of(results, "custom")
    assert verdict["audit"]["ok"] is False
    assert verdict["audit"]["before"]["ok"] is False
    [problem] = verdict["audit"]["after"]["problems"]
    assert problem["sku"] == "LT-P-0001"
    assert problem["stock"] == problem["expected_stock"] + 7
    assert verdict["exit_code"] == 2
    assert_printed(verdict, run.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ["nope"],
        [],
        ["quick", "--users", "0"],
        ["quick", "--run-time", "soon"],
        ["quick", "--bogus"],
        ["race", "--workers", "2"],
        ["quick", "--host", "http://10.1.2.3:8000"],
        ["quick", "--compare", "/does/not/exist.json"],
    ],
    ids=lambda args: " ".join(args) or "no scenario",
)
def test_bad_options_exit_3_with_one_line(env, results, args):
    run = loadtest(env, *args, "--results-dir", str(results))

    assert_one_line_error(run)


def test_unreachable_host_exits_3_with_one_line(env, results):
    run = loadtest(env, "quick", "--host", "http://127.0.0.1:9", "--results-dir", str(results))

    assert_one_line_error(run)
    assert "Cannot reach http://127.0.0.1:9/health" in run.stderr


def test_workers_run_distributed(env, results):
    run = loadtest(
        env, "custom", "--users", "6", "--run-time", "5s", "--workers", "2",
        "--results-dir", str(results), *SMALL,
    )  # fmt: skip

    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_of(results, "custom")
    assert verdict["locust"]["workers"] == 2
    assert verdict["total"]["requests"] > 0
    # every sample the workers recorded reached the master
    assert verdict["total"]["requests"] == verdict["locust"]["requests"]
    assert_printed(verdict, run.stdout)


@pytest.fixture
def server(env, tmp_path):
    """The brief's terminal 1: the shop under gunicorn on the test's database."""
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, timeout=120
    )
    with GunicornServer.start(
        cwd=ROOT, env=env, workers=2, log_path=tmp_path / "server.log", timeout=120
    ) as gunicorn:
        yield gunicorn.url
        gunicorn.stop(signal.SIGINT)


def test_prepare_then_plain_locust_then_host_then_clean(env, results, tmp_path, server):
    # given: fixtures and a credentials file
    credentials = tmp_path / "credentials.json"
    prepared = loadtest(env, "prepare", "--credentials", str(credentials))
    assert prepared.returncode == 0, prepared.stderr
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    assert len(json.loads(credentials.read_text())["customers"]) >= 50

    # when: plain Locust runs the locustfile with them
    csv_prefix = tmp_path / "plain"
    plain = subprocess.run(
        [PYTHON, "-m", "locust", "-f", "loadtesting/locustfile.py", "--headless",
         "-u", "4", "-r", "4", "-t", "4s", "--host", server, "--csv", str(csv_prefix)],
        cwd=ROOT, env={**env, "LOADTEST_CREDENTIALS": str(credentials)},
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )  # fmt: skip

    # then: the customers' tokens were used (orders are accepted only with a token)
    assert plain.returncode == 0, plain.stderr
    stats = Path(f"{csv_prefix}_stats.csv").read_text()
    assert "/orders/" in stats or "/products/{id}" in stats

    # and the harness runs against that server, which shares its database
    run = loadtest(
        env, "custom", "--users", "3", "--run-time", "3s", "--host", server,
        "--results-dir", str(results),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_of(results, "custom")
    assert verdict["target"] == {
        "url": server,
        "started_by_harness": False,
        "server": "given with --host",
        "server_workers": None,
    }

    # but not from a harness on another database
    foreign_env = {key: value for key, value in env.items() if key != "DATABASE_URL"}
    foreign_env["SQLITE_PATH"] = str(tmp_path / "another.sqlite3")
    foreign = loadtest(foreign_env, "quick", "--host", server, "--results-dir", str(results))
    assert_one_line_error(foreign)
    assert "does not share this harness's database" in foreign.stderr

    # finally clean removes every fixture and what it caused
    cleaned = loadtest(env, "clean", "--credentials", str(credentials))
    assert cleaned.returncode == 0, cleaned.stderr
    assert "Removed " in cleaned.stdout
    assert f"Removed the credentials file {credentials}." in cleaned.stdout
    assert not credentials.exists()
    assert _fixtures_left(env) == ["0", "0"]


def _fixtures_left(env: dict) -> list[str]:
    """How many load-test products and users the database holds (as printed)."""
    count = (
        "from inventory.models import Product\n"
        "from django.contrib.auth.models import User\n"
        "print(Product.objects.filter(sku__startswith='LT-').count(),"
        " User.objects.filter(username__startswith='loadtest-').count())\n"
    )
    left = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", count],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return left.stdout.split()[-2:]
