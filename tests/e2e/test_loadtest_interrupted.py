"""End to end: Ctrl-C (SIGINT) stops a run. Before its planned end it is incomplete: the audit and
the reports still run, the verdict says so, and the exit status is never 0; before any load ran it
is 130. A real `manage.py loadtest` subprocess, sent the signal a few seconds in."""

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.test_loadtest import LOOSE, PYTHON, ROOT, SMALL, TIMEOUT_S, verdict_of

pytestmark = pytest.mark.e2e


def start(env: dict, tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path, Path]:
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [PYTHON, "manage.py", "loadtest", *args], cwd=ROOT, env=env, stdout=out, stderr=err
        )
    return process, stdout, stderr


def wait_for_text(process: subprocess.Popen, path: Path, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert process.poll() is None, path.read_text()
        assert time.monotonic() < deadline, f"{text!r} never printed: {path.read_text()}"
        time.sleep(0.1)


def finish(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ctrl_c_during_the_load_is_an_incomplete_run_that_does_not_pass(env, tmp_path):
    # given: a quick run of a planned 60 s, under load
    results = tmp_path / "results"
    process, stdout, stderr = start(
        env, tmp_path, "quick", "--run-time", "60s", "--results-dir", str(results), *LOOSE, *SMALL
    )
    wait_for_text(process, stdout, "== load")
    time.sleep(4)

    # when: Ctrl-C
    process.send_signal(signal.SIGINT)
    code = finish(process)

    # then: the audit and the reports ran, and the verdict says incomplete
    printed, errors = stdout.read_text(), stderr.read_text()
    assert code == 1, printed + errors
    verdict = verdict_of(results, "quick")
    assert (verdict["complete"], verdict["status"], verdict["interrupted"]) == (
        False,
        "incomplete",
        True,
    )
    assert verdict["stop_reason"] == "interrupted (Ctrl-C)"
    assert verdict["audit"]["ok"] is True
    assert verdict["total"]["requests"] > 0
    assert verdict["exit_code"] == 1 and verdict["pass"] is False
    [incomplete] = [check for check in verdict["checks"] if check["kind"] == "run"]
    assert incomplete["label"].startswith("Run incomplete: interrupted (Ctrl-C) after ")
    assert f"[fail] {incomplete['label']}" in printed
    assert "Verdict: FAIL (exit 1)" in printed
    assert errors.strip().splitlines()[-1] == (
        "Exit status 1: the run is incomplete (stopped before its planned end), so it cannot "
        f"pass. The verdict is in {verdict['reports']['json']}."
    )
    assert "Traceback" not in printed + errors


def test_ctrl_c_before_any_load_ran_exits_130(env, tmp_path):
    # given: a run that is still starting its server
    results = tmp_path / "results"
    process, stdout, stderr = start(
        env, tmp_path, "quick", "--run-time", "60s", "--results-dir", str(results), *SMALL
    )
    wait_for_text(process, stdout, "== target")

    # when
    process.send_signal(signal.SIGINT)
    code = finish(process)

    # then
    errors = stderr.read_text()
    assert code == 130, stdout.read_text() + errors
    assert errors.strip().splitlines() == ["Interrupted before any load ran."]
    assert not list(results.glob("quick_*.json"))
