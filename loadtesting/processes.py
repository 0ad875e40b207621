"""Child processes (gunicorn, Locust workers) that never outlive the harness.

Each child runs in its own process group, so that Ctrl-C in the terminal reaches only the harness,
which then stops the load, audits, reports and stops its children in order. On Linux a child also
gets SIGTERM if the harness dies abruptly (PR_SET_PDEATHSIG), so even `kill -9` leaves no server
behind. Starting a child defers Ctrl-C until its handle is stored, so it can always be stopped.
"""

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the duration; raise KeyboardInterrupt afterwards if one came."""
    received: list[int] = []
    previous = {
        signum: signal.signal(signum, lambda number, _frame: received.append(number))
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        raise KeyboardInterrupt


def spawn(command: list[str], **kwargs) -> subprocess.Popen:
    """Popen in a new session (its own process group), dying with the harness on Linux."""
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(command, start_new_session=True, preexec_fn=preexec, **kwargs)  # noqa: PLW1509


def stop_group(
    process: subprocess.Popen, timeout: float, first: signal.Signals = signal.SIGTERM
) -> None:
    """Signal the child's process group, then SIGKILL it if it does not exit in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, first)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        process.wait(timeout=5)
    except ProcessLookupError:
        pass
