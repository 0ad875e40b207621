"""The shop under gunicorn for a test, through the one launcher (loadtesting.server).

Every server listens on 127.0.0.1 on a free port, in its own process group, with the database
the test gives it in `env`, and is stopped when the `with` block ends, whatever the test did to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loadtesting.server import GunicornServer
from tests.support.django_process import ROOT

READY_TIMEOUT = 40.0


def start_gunicorn(
    env: dict[str, str],
    log_path: Path,
    *,
    workers: int = 2,
    probe_headers: dict[str, str] | None = None,
    wait_healthy: bool = True,
    **settings: str,
) -> GunicornServer:
    """Start gunicorn and wait for its workers and a 200 from /health (any answer, without
    `wait_healthy`). `probe_headers`: what /health needs to pass the host and HTTPS checks of
    production settings. `settings` are added to `env`."""
    return GunicornServer.start(
        cwd=ROOT,
        env={**env, **settings},
        workers=workers,
        log_path=log_path,
        timeout=READY_TIMEOUT,
        ready_headers=probe_headers,
        ready_statuses=(200,) if wait_healthy else None,
    )


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path, **kwargs) -> Iterator[GunicornServer]:
    """`start_gunicorn(...)` for the `with` block; stopped (SIGTERM, then SIGKILL) at its end."""
    with start_gunicorn(env, log_path, **kwargs) as server:
        yield server
