"""Every request reaches the log with its request id, status and time (issue 12), once; the
access log can be turned off (issue 9); the server's processes are named `shop` (issue 12)."""

import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from loadtesting.server import GunicornServer, free_port, scrubbed_env
from tests.config.helpers import PYTHON, REPO

pytestmark = pytest.mark.slow

REQUESTS = [("/health", 200), ("/no-such-page", 404), ("/orders/", 401)]


def get(url: str, request_id: str) -> int:
    request = urllib.request.Request(url, headers={"X-Request-ID": request_id})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def send_requests(base_url: str, prefix: str) -> list[tuple[str, str, int]]:
    sent = []
    for path, expected in REQUESTS:
        request_id = f"{prefix}-{path.strip('/').replace('/', '') or 'root'}"
        assert get(base_url + path, request_id) == expected
        sent.append((request_id, path, expected))
    return sent


def access_lines(text: str, request_id: str) -> list[str]:
    return [line for line in text.splitlines() if f"request_id={request_id}" in line]


def assert_logged_once(text: str, sent) -> None:
    for request_id, path, status in sent:
        lines = access_lines(text, request_id)
        assert len(lines) == 1, (request_id, text)
        assert re.search(rf'"GET {re.escape(path)} HTTP/1\.1" {status} \d+ \d+ms', lines[0])


def server_env(tmp_path, **overrides):
    return scrubbed_env(
        SQLITE_PATH=str(tmp_path / "db.sqlite3"), GUNICORN_WARMUP="off", **overrides
    )


@pytest.fixture
def migrated(tmp_path):
    env = server_env(tmp_path)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    return tmp_path


def test_gunicorn_writes_every_request_to_log_file(migrated):
    log_file = migrated / "api.log"
    env = server_env(migrated, LOG_FILE=str(log_file))
    with GunicornServer.start(cwd=REPO, env=env, workers=1) as server:
        sent = send_requests(server.url, "gunicorn")
        time.sleep(0.3)
    text = log_file.read_text()
    assert_logged_once(text, sent)
    assert "gunicorn.access" in text and "Booting worker" in text  # access and error log
    assert_logged_once(server.output(), sent)  # and still on the console


@pytest.mark.parametrize("value", ["off", "none", "None", "-"])
def test_access_log_off_or_stdout(migrated, value):
    env = server_env(migrated, GUNICORN_ACCESS_LOG=value)
    with GunicornServer.start(cwd=REPO, env=env, workers=1) as server:
        sent = send_requests(server.url, f"switch-{value}")
    for name in ("None", "none", "off", "-"):
        assert not (REPO / name).exists(), f"a log file named {name!r} was written"
    if value == "-":
        assert_logged_once(server.output(), sent)
    else:
        assert "request_id=switch" not in server.output()


def test_empty_access_log_variable_means_the_default(migrated):
    env = server_env(migrated, GUNICORN_ACCESS_LOG="")
    with GunicornServer.start(cwd=REPO, env=env, workers=1) as server:
        sent = send_requests(server.url, "empty")
    assert_logged_once(server.output(), sent)


def test_runserver_prints_and_logs_every_request_once(migrated):
    log_file = migrated / "api.log"
    port = free_port()
    env = server_env(migrated, LOG_FILE=str(log_file))
    process = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                get(f"http://127.0.0.1:{port}/health", "probe")
                break
            except OSError:
                time.sleep(0.2)
        sent = send_requests(f"http://127.0.0.1:{port}", "runserver")
        time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    assert_logged_once(output, sent)
    assert_logged_once(log_file.read_text(), sent)
    # Django's own request lines (no request id, no time) are not printed beside ours
    assert '"GET /no-such-page HTTP/1.1" 404' in output
    assert not re.search(r'^"GET /no-such-page HTTP/1\.1" 404 \d+$', output, re.MULTILINE)
    assert not re.search(r"\] \"GET /no-such-page", output)


def test_processes_are_named_shop_for_pgrep_and_top(migrated):
    with GunicornServer.start(cwd=REPO, env=server_env(migrated), workers=2) as server:
        masters = subprocess.run(
            ["pgrep", "-f", r"gunicorn: master \[shop\]"], capture_output=True, text=True
        ).stdout.split()
        assert str(server.pid) in masters
        # The README's command: top -p $(pgrep -d, -f '\[shop\]')
        listed = subprocess.run(
            ["pgrep", "-d,", "-f", r"\[shop\]"], capture_output=True, text=True
        ).stdout.strip()
        pids = listed.split(",")
        assert str(server.pid) in pids
        assert all(str(pid) in pids for pid in server.worker_pids())
        if shutil.which("top") and len(pids) <= 20:  # top -p takes 20 pids at most
            top = subprocess.run(
                ["top", "-b", "-n", "1", "-p", listed], capture_output=True, text=True
            )
            assert top.returncode == 0, top.stderr
            assert str(server.pid) in top.stdout
