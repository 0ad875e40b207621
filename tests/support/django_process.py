"""Django code in a subprocess of its own: the environment it gets, and modules run with it.

A subprocess module (`python -m tests.support.<module> '<json args>'`) sets Django up, does its
job and prints its answer as one `RESULT <json>` line; `run_module` returns that answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from loadtesting.server import scrubbed_env

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
RESULT = "RESULT "


def service_env(**settings: str) -> dict[str, str]:
    """The environment of a service subprocess: this one's, minus shop settings, plus `settings`."""
    defaults = {"DJANGO_SETTINGS_MODULE": "shop.settings", "LOG_LEVEL": "WARNING"}
    return scrubbed_env(**{**defaults, **settings})


def run_module(env: dict[str, str], module: str, args: Any = None, timeout: float = 90) -> Any:
    """Run `python -m <module> <json args>` at the project root; return its RESULT answer."""
    done = subprocess.run(
        [PYTHON, "-m", module, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"{module} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(RESULT)]
    if not lines:
        raise AssertionError(f"{module} printed no result:\n{done.stdout[-4000:]}")
    return json.loads(lines[-1].removeprefix(RESULT))


def arguments() -> Any:
    """In a subprocess module: the JSON arguments `run_module` passed."""
    return json.loads(sys.argv[1]) if len(sys.argv) > 1 else None


def answer(result: Any) -> None:
    """In a subprocess module: hand `result` back to `run_module`."""
    print(RESULT + json.dumps(result), flush=True)
