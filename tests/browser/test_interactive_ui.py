"""`loadtest interactive` in a real headless browser: Locust's web UI with the Shop tab, and the
harness's /harness page with the verdict after Stop, without JavaScript errors. The harness runs
as a subprocess (no locust in the pytest process); the test drives it through Locust's HTTP API."""

import json
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from loadtesting.server import free_port, scrubbed_env
from tests.browser.conftest import js_errors, root_attributes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _json(url: str, data: bytes | None = None) -> dict:
    with urllib.request.urlopen(url, data=data, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def interactive(tmp_path):
    env = scrubbed_env(keep=("DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX"))
    if not env.get("DATABASE_URL"):
        env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "loadtest", "interactive", "--web-port", str(port),
         "--run-time", "2m", "--server-workers", "2", "--results-dir", str(tmp_path / "results")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    ui = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{ui}/", timeout=2).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        yield ui, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_web_ui_and_the_verdict_page_render_without_javascript_errors(chromium, interactive):
    ui, process = interactive
    form = urllib.parse.urlencode({"user_count": 3, "spawn_rate": 3}).encode()
    assert _json(f"{ui}/swarm", form)["success"] is True
    time.sleep(3)

    dom, errors = chromium.console(f"{ui}/?tab=shop")
    assert not errors, errors
    # the Shop tab, rendered by Locust's UI from the extended_stats of /stats/requests
    assert "stock-outs (409 insufficient_stock)" in dom and "stock of LT-HOT-01" in dom

    assert _json(f"{ui}/stop", b"")["success"] is True
    deadline = time.monotonic() + 120
    while _json(f"{ui}/harness/status")["state"] != "done":
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.5)

    dom, errors = chromium.console(f"{ui}/")  # Locust's UI still answers after Stop
    assert not errors, errors
    harness = chromium.dom(f"{ui}/harness")
    assert "data-js-errors" not in root_attributes(harness), js_errors(harness)
    assert 'id="banner"' in harness and "/harness/report" in harness
    report = chromium.dom(f"{ui}/harness/report")
    attributes = root_attributes(report)
    assert "data-js-errors" not in attributes, js_errors(report)
    assert attributes.get("data-page-ready") == "true"
