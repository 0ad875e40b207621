"""The server under load: start gunicorn or check a given --host, and watch its resources.

Without --host the harness starts gunicorn (`python -m gunicorn -c gunicorn.conf.py
--no-control-socket`) on a free loopback port, in its own process group so that it can always be
stopped as a whole, also after Ctrl-C. With --host only loopback addresses are accepted unless
--allow-remote is given.
"""

import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import gevent
import psutil
from django.conf import settings
from django.db import connection

from loadtesting import memory
from loadtesting.exit_codes import CannotRun
from loadtesting.processes import deferred_signals
from loadtesting.server import GunicornServer, ServerError, is_loopback

SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 15.0


def describe_database() -> dict:
    """Engine and name (and host/port for a server database); never the password."""
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    described = {"engine": engine, "name": str(db.get("NAME", ""))}
    if db.get("HOST"):
        described["host"] = db["HOST"]
        if db.get("PORT"):
            described["port"] = str(db["PORT"])
    if connection.vendor == "sqlite":
        described["name"] = str(Path(described["name"]).resolve())
    return described


def database_line(db: dict) -> str:
    where = f" on {db['host']}:{db.get('port', '')}".rstrip(":") if db.get("host") else ""
    return f"{db['engine']} {db['name']}{where}"


def normalise_host(url: str, *, allow_remote: bool) -> str:
    """A base URL (scheme://host[:port]) that the safety rules accept, or CannotRun."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CannotRun(
            f"--host must be an http(s) URL such as http://127.0.0.1:8000, not {url!r}."
        )
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise CannotRun(f"--host has an invalid port: {url!r}.") from None
    if not allow_remote and not is_loopback(parts.hostname):
        try:
            socket.getaddrinfo(parts.hostname, None)
        except (OSError, UnicodeError):
            raise CannotRun(f"Cannot resolve the host name {parts.hostname!r}.") from None
        raise CannotRun(
            f"{parts.hostname} is not a loopback address; "
            "pass --allow-remote to load a remote host."
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def http_json(url: str, *, timeout: float = 5.0) -> tuple[int, dict]:
    """(status, JSON body) of a GET; status 0 when the server cannot be reached."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        return 0, {"error": str(reason) or type(exc).__name__}
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"error": "not JSON"}


def health(base_url: str, *, timeout: float = 5.0) -> dict:
    status, body = http_json(f"{base_url}/health", timeout=timeout)
    ok = status == 200 and body.get("status") == "ok"
    reason = "ok" if ok else (body.get("error") if status == 0 else f"HTTP {status}")
    return {"ok": ok, "status": status, "reason": reason, "body": body}


def _post_json(url: str, body: dict, token: str, timeout: float) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, TimeoutError):
        return 0


def warm_up(
    base_url: str, *, concurrency: int, token: str | None = None, product_id: int | None = None
) -> None:
    """Concurrent requests so that every server worker has run the code paths of the load before
    it is measured (gunicorn loads the app lazily per worker). The order asks for more units than
    a hot product ever has: a 409 whose transaction rolls back, so nothing is written."""
    paths = ("/health", "/products/?page_size=5", "/products/?in_stock=true&page_size=5")
    jobs = [
        gevent.spawn(http_json, f"{base_url}{path}", timeout=10.0)
        for _ in range(concurrency * 2)
        for path in paths
    ]
    if token and product_id:
        body = {"product_id": product_id, "quantity": 1000}
        jobs += [
            gevent.spawn(_post_json, f"{base_url}/orders/", body, token, 10.0)
            for _ in range(concurrency * 2)
        ]
    gevent.joinall(jobs, timeout=30)


def require_reachable(base_url: str) -> None:
    result = health(base_url)
    if result["status"] == 0:
        raise CannotRun(f"Cannot reach {base_url}/health: {result['reason']}.")
    if not result["ok"]:
        raise CannotRun(f"{base_url}/health answered {result['reason']}, not ok.")


def require_listening(base_url: str, *, timeout: float = 5.0) -> None:
    """Any API (custom --locustfile): its port accepts connections. No path, status or
    certificate is asked of it (Locust's HTTP clients do not verify certificates either)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return
    except OSError as exc:
        raise CannotRun(f"Cannot reach {base_url}: {exc.strerror or exc}.") from None


class Server:
    """gunicorn started by the harness (loadtesting.server); `stop()` is safe to call again."""

    def __init__(self, output: Path, workers: int = 4) -> None:
        self.output = output  # where gunicorn's stdout and stderr go
        self.workers = workers
        self.gunicorn: GunicornServer | None = None

    def start(self) -> None:
        try:
            self.gunicorn = GunicornServer.start(
                app="shop.wsgi",
                cwd=settings.BASE_DIR,
                env=os.environ,
                workers=self.workers,
                timeout=SERVER_START_TIMEOUT_S,
                log_path=self.output,
            )
        except ServerError as exc:
            raise CannotRun(
                f"The server did not start: {exc} (its output is in the run's log)."
            ) from None

    @property
    def url(self) -> str:
        return self.gunicorn.url

    @property
    def port(self) -> int:
        return self.gunicorn.port

    def stop(self) -> None:
        server, self.gunicorn = self.gunicorn, None
        if server is not None:
            # After the audit nothing is in flight: gunicorn's quick shutdown (SIGINT) will do.
            with deferred_signals():  # a second Ctrl-C must not leave the server running
                server.stop(signal.SIGINT, SERVER_STOP_TIMEOUT_S)

    def root_pid(self) -> int | None:
        return self.gunicorn.pid if self.gunicorn else None


def server_pid_for(base_url: str) -> int | None:
    """Best effort for --host on this machine: the process listening on its port (its gunicorn
    master when it has one)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if (
            conn.status == psutil.CONN_LISTEN
            and conn.laddr
            and conn.laddr.port == port
            and conn.pid
        ):
            process = psutil.Process(conn.pid)
            parent = process.parent()
            if parent and "gunicorn" in " ".join(parent.cmdline()):
                return parent.pid
            return process.pid
    return None


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
