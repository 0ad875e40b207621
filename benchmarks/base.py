"""What every part of a benchmark run shares: paths, the one error, the log line, the options."""

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DURATION = 20
QUICK_DURATION = 3


class BenchError(Exception):
    """The run could not be made: exit 3 with this one line."""


def log(message: str) -> None:
    print(message, flush=True)


@dataclass
class Options:
    """The run's sizes and where it works; the fixtures once the database is seeded."""

    duration: int
    users: int
    order_clients: int
    products: int
    quick: bool
    workdir: Path
    env: dict[str, str]
    fixtures_path: Path | None = None
    fixtures: dict[str, Any] = field(default_factory=dict)


def tail(result: subprocess.CompletedProcess, length: int = 240) -> str:
    """The last lines of a finished subprocess's output, on one line."""
    text = (result.stderr or result.stdout or "").strip()
    return " ".join(text.splitlines()[-3:])[-length:]
