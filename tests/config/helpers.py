"""Run the project's own entry points as a user would: subprocesses in the repository."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def clean_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """This environment without the test run's database and cache settings, plus `overrides`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "LOG_FILE", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        SQLITE_TEST_PATH=str(tmp_path / "test_db.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


README_TEXT = (REPO / "README.md").read_text()
