"""The server's resources over a load: peak RSS and CPU of the gunicorn tree, and its memory
timeline (judged by loadtesting.memory), sampled by a greenlet with psutil."""

import time
from dataclasses import dataclass, field

import gevent
import psutil

from loadtesting import memory


@dataclass
class ResourceSampler:
    """Peak RSS and CPU of a process tree (the gunicorn master and its workers), via psutil, and
    its memory over time: every `timeline_interval` seconds the RSS and USS summed over the live
    tree (gunicorn replaces a worker that dies, so the tree is walked again for every sample).
    Summed RSS counts the pages a worker shares with the master again in every process; USS (the
    memory only that process holds) does not, and costs a read of /proc/<pid>/smaps_rollup."""

    root_pid: int | None
    interval: float = 1.0
    timeline_interval: float = 5.0
    samples: int = 0
    peak_rss: int = 0
    peak_cpu_pct: float = 0.0
    processes_seen: set = field(default_factory=set)
    # (epoch seconds, summed RSS bytes, summed USS bytes or None)
    timeline: list = field(default_factory=list)
    last_processes: list = field(default_factory=list)  # per process, at the last timeline sample
    _cpu_start: dict = field(default_factory=dict)
    _cpu_last: dict = field(default_factory=dict)
    _started: float = 0.0
    _stopped: float = 0.0
    _next_timeline: float = 0.0
    _greenlet: gevent.Greenlet | None = None
    _previous: tuple[float, float] | None = None

    def _tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.root_pid)
            return [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return []

    def _sample(self, *, timeline: bool) -> float:
        rss, uss, processes = 0, 0, []
        for process in self._tree():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    info = process.memory_info()
                    unique = _uss(process) if timeline else None
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            if unique is None:
                uss = None
            elif uss is not None:
                uss += unique
            if timeline:
                processes.append(
                    {
                        "pid": process.pid,
                        "role": "master" if process.pid == self.root_pid else "worker",
                        "rss_mb": _mb(info.rss),
                        "uss_mb": None if unique is None else _mb(unique),
                    }
                )
            cpu = times.user + times.system
            self._cpu_start.setdefault(process.pid, cpu if not self._started else 0.0)
            self._cpu_last[process.pid] = cpu
            self.processes_seen.add(process.pid)
        self.samples += 1
        self.peak_rss = max(self.peak_rss, rss)
        if timeline:
            self.timeline.append((time.time(), rss, uss if processes else None))
            self.last_processes = processes
        return sum(self._cpu_last[pid] - self._cpu_start[pid] for pid in self._cpu_last)

    def _tick(self, *, timeline: bool = False) -> None:
        now = time.monotonic()
        if now >= self._next_timeline - self.interval / 2:  # a tick may wake a little early
            timeline, self._next_timeline = True, now + self.timeline_interval
        used = self._sample(timeline=timeline)
        if self._previous and now > self._previous[0]:
            rate = (used - self._previous[1]) / (now - self._previous[0]) * 100
            self.peak_cpu_pct = max(self.peak_cpu_pct, rate)
        self._previous = (now, used)

    def _loop(self) -> None:
        while True:
            gevent.sleep(self.interval)
            self._tick()

    def start(self) -> None:
        if self.root_pid is not None:
            self._tick(timeline=True)
            self._started = time.monotonic()
            self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> dict | None:
        if self._greenlet is None:
            return None
        self._greenlet.kill()
        self._greenlet = None
        self._tick(timeline=True)
        used = self._previous[1]
        self._stopped = time.monotonic()
        wall = max(self._stopped - self._started, 1e-9)
        return {
            "processes": len(self.processes_seen),
            "samples": self.samples,
            "peak_rss_mb": _mb(self.peak_rss),
            "cpu_seconds": round(used, 2),
            "avg_cpu_pct": round(used / wall * 100, 1),
            "peak_cpu_pct": round(self.peak_cpu_pct, 1),
        }

    def memory_report(self, *, start: float, steady_start: float, end: float) -> dict:
        """The timelines on the load's clock (t = 0 when the load started) and their growth from
        the end of warm-up to the end of the steady state (loadtesting.memory)."""
        rss = [[round(at - start, 1) or 0.0, _mb(total)] for at, total, _ in self.timeline]
        uss = [[round(at - start, 1) or 0.0, _mb(total)] for at, _, total in self.timeline if total]
        window = {"steady_start": steady_start - start, "end": end - start}
        rss_growth = memory.growth(rss, **window)
        uss_growth = memory.growth(uss, **window) if len(uss) == len(rss) else None
        return {
            "timeline_interval_s": self.timeline_interval,
            "rss_timeline": rss,
            "rss_growth": rss_growth,
            "rss_growth_pct": rss_growth["growth_pct"] if rss_growth else None,
            "uss_timeline": uss,
            "uss_growth": uss_growth,
            "uss_growth_pct": uss_growth["growth_pct"] if uss_growth else None,
            "processes_at_end": self.last_processes,
        }


def _mb(size: int) -> float:
    return round(size / 2**20, 1)


def _uss(process: psutil.Process) -> int | None:
    """Unique set size: the pages only this process holds; None where the platform hides it."""
    try:
        return process.memory_full_info().uss
    except psutil.AccessDenied:
        return None
