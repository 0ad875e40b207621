"""CPU meters: seconds used by the server, the database and the generator over one phase, and the
busy cores of the whole machine. psutil only; nothing here starts a process."""

import contextlib
import threading
import time
from collections.abc import Callable

import psutil

from benchmarks.report import Phase

Processes = Callable[[], list[psutil.Process]]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def process_tree(pid: int) -> list[psutil.Process]:
    """A process and all its descendants (a gunicorn master and its workers)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postg")]


class CpuMeter:
    """CPU seconds used by a set of processes over a window.

    Sampled a few times a second, so processes that start or end inside the window (pgbench's
    database backends, the load generator itself) count for the part of it that was seen: a
    process already there at the start counts from its CPU time then, a newcomer from zero.
    """

    def __init__(self, processes: Processes, interval: float = 0.25):
        self.processes = processes
        self.interval = interval
        self.first: dict[tuple[int, float], float] = {}
        self.last: dict[tuple[int, float], float] = {}
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _poll(self, initial: bool = False) -> None:
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                key = (process.pid, process.create_time())
                seconds = cpu_seconds(process)
                self.first.setdefault(key, seconds if initial else 0.0)
                self.last[key] = seconds

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def total(self) -> float:
        """CPU seconds seen between the first and the last poll, over every process."""
        return max(sum(self.last[key] - self.first[key] for key in self.last), 0.0)

    def __enter__(self) -> "CpuMeter":
        self._poll(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()
        self.seconds = self.total()


def busy_seconds(times) -> float:
    """CPU seconds the machine spent neither idle nor waiting for I/O (psutil.cpu_times())."""
    return sum(times) - times.idle - getattr(times, "iowait", 0)


class MachineMeter:
    """Busy cores on the whole machine over a window: everybody's load, ours included."""

    cores: float | None = None

    def __enter__(self) -> "MachineMeter":
        self.start = psutil.cpu_times()
        self.start_wall = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        end = psutil.cpu_times()
        wall = time.monotonic() - self.start_wall
        # Over a short window the difference of two large float sums can come out a hair below
        # zero (and Linux's iowait counter may even step back): no load is 0 busy cores.
        busy = max(busy_seconds(end) - busy_seconds(self.start), 0.0)
        self.cores = busy / wall if wall > 0 else None


class Meters:
    """CPU seconds of the server, the database and the generator over one phase, and the busy
    cores of the whole machine. The caller divides seconds by the span the load really ran."""

    def __init__(self, server_pid: int | None, generator: Processes):
        self.server_pid = server_pid
        self.parts = {
            "server_cpu": CpuMeter(lambda: process_tree(server_pid) if server_pid else []),
            "db_cpu": CpuMeter(postgres_processes),
            "generator_cpu": CpuMeter(generator),
        }
        self.machine = MachineMeter()
        self.seconds: dict[str, float | None] = {}

    def __enter__(self) -> "Meters":
        for meter in self.parts.values():
            meter.__enter__()
        self.machine.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.machine.__exit__()
        for meter in self.parts.values():
            meter.__exit__()
        self.seconds = {name: meter.seconds for name, meter in self.parts.items()}
        if not self.server_pid:
            self.seconds["server_cpu"] = None

    def apply(self, phase: Phase, span: float | None) -> None:
        """Cores used over the load's span, and server CPU milliseconds per request."""
        apply_seconds(phase, self.seconds, span)
        phase.machine_cpu = self.machine.cores


def apply_seconds(phase: Phase, seconds: dict[str, float | None], span: float | None) -> None:
    """CPU seconds per part over the span -> cores on the phase; server seconds per request ->
    server_cpu_ms. A part not measured (None) or no span leaves the figure empty."""
    for name, value in seconds.items():
        setattr(phase, name, value / span if span and value is not None else None)
    server = seconds.get("server_cpu")
    if server is not None and phase.requests:
        phase.server_cpu_ms = server * 1000 / phase.requests
