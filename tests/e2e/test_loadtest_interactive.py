"""End to end: `loadtest interactive` driven through Locust's web UI over HTTP, as a subprocess
(no locust in the pytest process): swarm, the Shop tab, Stop, the audit and the reports while the
UI stays up, the verdict in the browser, then Ctrl-C with the verdict's exit status."""

import json
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from loadtesting.server import free_port
from tests.e2e.test_loadtest import PYTHON, ROOT, SMALL, assert_printed, verdict_of

pytestmark = pytest.mark.e2e


def test_interactive_audits_and_reports_when_stopped_in_the_web_ui(env, results):
    # given: the web UI on a free port
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [PYTHON, "manage.py", "loadtest", "interactive", "--web-port", str(port),
         "--run-time", "2m", "--results-dir", str(results), *SMALL],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(f"{ui}/", process)

        # when: a user swarms from the UI, and later presses stop
        assert _post(f"{ui}/swarm", SWARM)["success"] is True
        time.sleep(4)
        # the Shop tab (Locust's extended_stats): stock-outs apart from failures, the hot stock
        key, figures = _shop_tab(ui)
        assert key == "shop" and figures["state"] == "running"
        assert "stock-outs (409 insufficient_stock)" in figures and "failures" in figures
        assert any(name.startswith("stock of LT-HOT-") for name in figures)
        assert _post(f"{ui}/stop")["success"] is True

        # then: the audit and the reports run while the UI stays up, and it shows the verdict
        status = _wait_until_done(ui, process)
        assert process.poll() is None  # still serving after Stop
        assert _get(f"{ui}/")[0] == 200
        _key, figures = _shop_tab(ui)
        verdict = verdict_of(results, "interactive")
        assert status["verdict"] == verdict
        assert figures["verdict"] == f"PASS (exit {verdict['exit_code']})"
        assert figures["stock-outs (409 insufficient_stock)"] == verdict["total"]["stock_outs"]
        assert 'id="banner"' in _get(f"{ui}/harness")[1]
        assert _get(f"{ui}/harness/report")[1] == Path(verdict["reports"]["html"]).read_text()
        assert _post(f"{ui}/swarm", SWARM)["success"] is False  # the run is over

        # and Ctrl-C quits, with the verdict's exit status
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, stdout + stderr
    assert verdict["stop_reason"] == "stopped in the web UI"
    assert verdict["total"]["requests"] > 0
    assert_printed(verdict, stdout)
    assert f"The verdict is in the web UI: {ui}/harness" in stdout


SWARM = {"user_count": 3, "spawn_rate": 3}


def _json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def _post(url: str, fields: dict | None = None) -> dict:
    """A form POST to Locust's web UI; its JSON answer."""
    form = urllib.parse.urlencode(fields).encode() if fields else b""
    with urllib.request.urlopen(url, data=form, timeout=10) as response:
        return json.loads(response.read())


def _shop_tab(ui: str) -> tuple[str, dict]:
    """The Shop tab's key and its figures (Locust's extended_stats)."""
    shop = _json(f"{ui}/stats/requests")["extended_stats"][0]
    return shop["key"], {row["figure"]: row["value"] for row in shop["data"]}


def _wait_until_done(ui: str, process: subprocess.Popen) -> dict:
    """The harness's status once the audit and the reports are done, the process still up."""
    deadline = time.monotonic() + 120
    while (status := _json(f"{ui}/harness/status"))["state"] != "done":
        assert process.poll() is None and time.monotonic() < deadline, status
        time.sleep(0.5)
    return status


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.3)
