"""The one gunicorn launcher (loadtesting.server): stdlib only, so it is safe in the pytest
process; test_starts_the_shop starts a real gunicorn on a database of the test's own."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from loadtesting.server import (
    SHOP_SETTINGS,
    GunicornServer,
    ServerError,
    free_port,
    is_loopback,
    port_is_free,
    scrubbed_env,
)

ROOT = Path(__file__).resolve().parents[2]


# --- is_loopback ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "localhost.",
        "api.localhost",
        "127.0.0.1",
        "127.1.2.3",
        "127.255.255.254",
        "::1",
        "[::1]",
        "[::1]:8000",
        "::ffff:127.0.0.1",
        "127.0.0.1:8000",
        "http://127.0.0.1:8000",
        "https://localhost/api",
        "http://[::1]:8089/",
    ],
)
def test_loopback_hosts(host):
    assert is_loopback(host) is True


@pytest.mark.parametrize(
    "host",
    [
        "10.1.2.3",
        "http://10.1.2.3:8000",
        "192.168.0.1",
        "0.0.0.0",
        "::",
        "2001:db8::1",
        "128.0.0.1",
        "localhost.example.com",
        "notlocalhost",
        "",
        "http://",
        "no-such-host.invalid",
    ],
)
def test_other_hosts_are_not_loopback(host):
    assert is_loopback(host) is False


def test_a_name_is_loopback_when_every_address_it_resolves_to_is(monkeypatch):
    answers = {
        "alias-of-lo": [(0, 0, 0, "", ("127.0.0.1", 0)), (0, 0, 0, "", ("::1", 0, 0, 0))],
        "mixed": [(0, 0, 0, "", ("127.0.0.1", 0)), (0, 0, 0, "", ("10.0.0.5", 0))],
    }
    monkeypatch.setattr(socket, "getaddrinfo", lambda name, *_args: answers[name])

    assert is_loopback("http://alias-of-lo:8000") is True
    assert is_loopback("mixed") is False


# --- ports ---------------------------------------------------------------------------------------


def test_free_port_is_bindable_and_port_is_free_sees_a_listener():
    port = free_port()
    assert 0 < port < 65536
    assert port_is_free("127.0.0.1", port)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert not port_is_free("127.0.0.1", port)


def test_free_port_on_every_interface():
    assert 0 < free_port("0.0.0.0") < 65536
    assert 0 < free_port("*") < 65536


# --- scrubbed_env --------------------------------------------------------------------------------


def test_scrubbed_env_drops_tool_and_shop_settings_and_applies_overrides():
    base = {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "LOADTEST_CREDENTIALS": "c.json",
        "LOCUST_HOST": "http://elsewhere",
        "DATABASE_URL": "postgres://x/y",
        "REDIS_URL": "redis://x",
        "WEB_CONCURRENCY": "17",
        "DEBUG": "1",
    }

    env = scrubbed_env(base, keep=("REDIS_URL",), SQLITE_PATH="/tmp/db", HOME=None, WORKERS=3)

    assert env == {
        "PATH": "/usr/bin",
        "REDIS_URL": "redis://x",
        "SQLITE_PATH": "/tmp/db",
        "WORKERS": "3",
        "PYTHONUNBUFFERED": "1",
    }
    assert base["DATABASE_URL"] == "postgres://x/y"  # the base is not changed


def test_scrubbed_env_defaults_to_this_process(monkeypatch):
    monkeypatch.setenv("LOCUST_USERS", "99")
    monkeypatch.setenv("SQLITE_PATH", "/somewhere")
    monkeypatch.setenv("SOMETHING_ELSE", "kept")

    env = scrubbed_env()

    assert "LOCUST_USERS" not in env and "SQLITE_PATH" not in env
    assert env["SOMETHING_ELSE"] == "kept"


def test_the_shop_settings_list_names_every_variable_settings_and_gunicorn_read():
    sources = (ROOT / "shop" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    pattern = r"""(?:environ\.get\(|environ\[|env_\w+\(|env\.\w+\()\s*["']([A-Z][A-Z0-9_]+)"""
    read = set(re.findall(pattern, sources))
    assert read, "no environment variables found: the pattern is out of date"
    assert read <= SHOP_SETTINGS, sorted(read - SHOP_SETTINGS)


def test_the_launcher_imports_neither_django_nor_locust_nor_gevent():
    code = (
        "import sys; import loadtesting.server, loadtesting.percentiles; "
        "print(sorted(m for m in ('django', 'locust', 'gevent', 'psutil') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]"


# --- GunicornServer ------------------------------------------------------------------------------


@pytest.fixture
def shop_env(tmp_path) -> dict:
    return scrubbed_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), DATABASE_URL=None)


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


def test_starts_the_shop_waits_for_health_and_stops_with_the_signal_given(shop_env, tmp_path):
    log = tmp_path / "server.log"
    log.write_bytes(b"earlier output of another server\n")

    with GunicornServer.start(
        cwd=ROOT, env=shop_env, workers=2, log_path=log, timeout=30
    ) as server:
        # ready: /health answered, both workers are up
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert _get(f"{server.url}/health") == 200
        workers = server.worker_pids()
        assert len(workers) == 2 and server.pid not in workers
        assert os.getpgid(server.pid) == server.pid  # its own process group

        code = server.stop(signal.SIGINT, timeout=20)

    assert code == 0  # gunicorn's quick shutdown exits cleanly
    assert server.stop() == 0  # a second stop is harmless
    for pid in [server.pid, *workers]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    output = server.output()
    assert "Listening at: http://127.0.0.1:" in output
    assert "earlier output" not in output  # only this server's part of the log
    assert log.read_text().startswith("earlier output")


def test_a_server_that_cannot_start_raises_with_its_output(shop_env):
    with pytest.raises(ServerError, match="exited with status") as raised:
        GunicornServer.start(app="no_such_module:application", cwd=ROOT, env=shop_env, timeout=20)

    assert "no_such_module" in str(raised.value)


def test_sigkill_is_a_signal_like_any_other(shop_env):
    server = GunicornServer.start(cwd=ROOT, env=shop_env, workers=1, ready_path=None, timeout=30)
    try:
        code = server.stop(signal.SIGKILL, timeout=5)
    finally:
        server.stop()

    assert code == -signal.SIGKILL
