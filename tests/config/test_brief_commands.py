"""The brief's own commands, run as printed (issue 12): `python run_api.py`, `curl /health`,
`top -p $(pgrep -f "python run_api.py")`, `kill` / SIGTERM, and
`locust -f load_tests/locustfile.py --host … --headless --html …`.

Locust runs in a subprocess only; it is never imported here (it patches the standard library).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from loadtesting.server import free_port, scrubbed_env
from tests.config.helpers import PYTHON, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOCUST = str(Path(PYTHON).with_name("locust"))
LOCUSTFILE = str(REPO / "load_tests" / "locustfile.py")
PATTERN = "python run_api.py"
# A Python that is not the project's venv, as `python` on a fresh clone is: run_api.py must
# re-exec itself with .venv/bin/python.
BASE_PYTHON = next(
    (path for path in (Path(sys.base_prefix) / "bin" / "python3", Path(PYTHON)) if path.exists()),
)


def brief_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return scrubbed_env(
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        SQLITE_TEST_PATH=str(tmp_path / "test_db.sqlite3"),
        VIRTUAL_ENV=None,
        **overrides,
    )


def health(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


class RunApi:
    """`python run_api.py --workers 2` on a free port, its output in a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "run_api.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [str(BASE_PYTHON), "run_api.py", "--workers", "2"],
                cwd=REPO,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while health(self.url) is None:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text()

    def workers(self) -> set[int]:
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        )
        return {int(pid) for pid in children.stdout.split()}

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def run_api(tmp_path):
    server = RunApi(tmp_path, brief_env(tmp_path))
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait(timeout=30)


def pgrep(pattern: str) -> set[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


def locust(tmp_path: Path, env: dict[str, str], url: str, *extra: str):
    html = tmp_path / "custom_results.html"
    return html, subprocess.run(
        [LOCUST, "-f", LOCUSTFILE, f"--host={url}", "--users", "5", "--spawn-rate", "5",
         "--run-time", "5s", "--headless", "--html", str(html), *extra],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(not shutil.which("pgrep"), reason="pgrep")
def test_run_api_serves_is_found_by_pgrep_and_stops_on_sigterm(run_api):
    # given: `python run_api.py` started with a Python that is not the venv's; it re-execs, in
    # the same process, which is then gunicorn's master
    answer = health(run_api.url)
    assert answer is not None and answer["status"] == "ok", run_api.output()
    assert answer["checks"] == {"database": "ok"}
    workers = run_api.workers()
    assert len(workers) == 2, run_api.output()

    # when: the brief's pgrep looks for it
    found = pgrep(PATTERN)

    # then: the master and every worker
    assert {run_api.process.pid, *workers} <= found
    title = Path(f"/proc/{run_api.process.pid}/cmdline").read_bytes().decode()
    assert title.startswith("gunicorn: master [shop: python run_api.py]")

    # and top accepts them (top's -p wants a comma list: `pgrep -d,`)
    if shutil.which("top"):
        top = subprocess.run(
            ["bash", "-c", f'top -b -n 1 -p $(pgrep -d, -f "{PATTERN}")'],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert top.returncode == 0, top.stderr
        assert str(run_api.process.pid) in top.stdout

    # when: SIGTERM (`kill %1`)
    status = run_api.stop()

    # then: gunicorn stops its workers and exits 0
    assert status == 0, run_api.output()
    assert "Shutting down: Master" in run_api.output()
    assert not ({run_api.process.pid, *workers} & pgrep(PATTERN))


def test_brief_locust_command_without_credentials_browses(run_api, tmp_path):
    # given: a fresh `python run_api.py` and no credentials anywhere
    env = brief_env(tmp_path)

    # when: the brief's locust command runs against it
    html, result = locust(tmp_path, env, run_api.url, "--csv", str(tmp_path / "anon"))

    # then: anonymous browsing, no failure, the HTML report written
    assert result.returncode == 0, result.stderr
    assert "users: anonymous browsing only" in result.stderr
    assert "manage.py loadtest prepare" in result.stderr
    assert html.stat().st_size > 0
    stats = (tmp_path / "anon_stats.csv").read_text()
    assert "/products/" in stats
    assert "/orders/" not in stats


def test_brief_locust_command_after_prepare_runs_the_full_mix(run_api, tmp_path):
    # given: `manage.py loadtest prepare` wrote its default file where locust runs
    env = brief_env(tmp_path)
    credentials = tmp_path / "loadtest_credentials.json"
    prepared = subprocess.run(
        [PYTHON, "manage.py", "loadtest", "prepare", "--credentials", str(credentials)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr

    # when: the brief's command runs there, with no variable set
    html, result = locust(tmp_path, env, run_api.url, "--csv", str(tmp_path / "full"))

    # then: the fixture tokens were used (orders are accepted only with a token)
    assert result.returncode == 0, result.stderr
    assert "users: the fixture customers and staff in loadtest_credentials.json" in result.stderr
    assert html.stat().st_size > 0
    assert "/orders/" in (tmp_path / "full_stats.csv").read_text()


@pytest.mark.parametrize("content", [None, "{"])
def test_a_missing_or_broken_credentials_file_is_one_line(tmp_path, content):
    # given: LOADTEST_CREDENTIALS names a file that is missing or not JSON
    path = tmp_path / "credentials.json"
    if content is not None:
        path.write_text(content)
    env = brief_env(tmp_path, LOADTEST_CREDENTIALS=str(path))

    # when: the brief's command starts
    _html, result = locust(tmp_path, env, "http://127.0.0.1:9")

    # then: one line saying how to write it, exit 1
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("locustfile: ")
    assert f"manage.py loadtest prepare --credentials {path}`" in lines[0]


def test_run_api_without_a_venv_says_make_venv(tmp_path):
    # given: a clone without .venv, and a Python without Django
    shutil.copy(REPO / "run_api.py", tmp_path / "run_api.py")
    python = Path(sys.base_prefix) / "bin" / "python3"
    no_django = subprocess.run([str(python), "-c", "import django"], capture_output=True)
    if no_django.returncode == 0:
        pytest.skip("the base Python has Django")

    # when
    result = subprocess.run(
        [str(python), "run_api.py"], cwd=tmp_path, env=brief_env(tmp_path),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    # then: one line, exit 1
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "run `make venv` first" in result.stderr


def test_run_api_with_a_bad_database_url_is_one_line(tmp_path):
    result = subprocess.run(
        [str(BASE_PYTHON), "run_api.py"], cwd=REPO,
        env=brief_env(tmp_path, DATABASE_URL="garbage"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("run_api.py: configuration error: DATABASE_URL")
    assert result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


def test_run_api_runs_from_any_directory(tmp_path):
    # `python /path/to/run_api.py --help` (gunicorn's options) from elsewhere, without migrating
    result = subprocess.run(
        [str(BASE_PYTHON), str(REPO / "run_api.py"), "--help"], cwd=tmp_path,
        env=brief_env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--bind" in result.stdout
    assert "usage: python run_api.py" in result.stdout
    assert not (tmp_path / "db.sqlite3").exists()


def test_the_ci_snippets_background_job_stops_with_kill_percent_1(tmp_path):
    # given: the brief's CI step, with a readiness loop for its `sleep 10` and curl for the run
    port = free_port()
    script = f"""
        python run_api.py --workers 1 > {tmp_path}/api.log 2>&1 &
        for _ in $(seq 300); do curl -sf http://127.0.0.1:{port}/health && break; sleep 0.2; done
        kill %1
        wait %1
        echo "api exit $?"
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(BASE_PYTHON)
    env = brief_env(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"

    # when
    result = subprocess.run(
        ["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )

    # then: the API answered, and `kill %1` stopped it cleanly
    assert '"status":"ok"' in result.stdout, (tmp_path / "api.log").read_text()
    assert result.stdout.rstrip().endswith("api exit 0"), (tmp_path / "api.log").read_text()
    assert "Shutting down: Master" in (tmp_path / "api.log").read_text()
