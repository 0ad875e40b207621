"""The one gunicorn launcher: the harness, the benchmarks and the tests start the shop with it.

Standard library only (no django, locust, gevent or psutil), so that the pytest process and the
benchmarks can import it without gevent's monkey-patching:

    with GunicornServer.start(cwd=ROOT, env=scrubbed_env(SQLITE_PATH=path), workers=2) as server:
        urllib.request.urlopen(server.url + "/health")

gunicorn (`python -m gunicorn -c gunicorn.conf.py --no-control-socket`) binds a free loopback port
and runs in its own process group, so that `stop()` takes the master and its workers down
together, with the signal the caller chooses; started from the main thread on Linux it also gets
SIGTERM should this process die abruptly (PR_SET_PDEATHSIG), so even `kill -9` leaves no server.
"""

import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from loadtesting.processes import deferred_signals, spawn

LOOPBACK = "127.0.0.1"
# Settings a subprocess would otherwise inherit from the caller's shell: the load tools' own, and
# every variable shop/settings.py and gunicorn.conf.py read.
TOOL_PREFIXES = ("LOADTEST_", "LOCUST_")
SHOP_SETTINGS = frozenset(
    {
        "ALLOWED_HOSTS", "AUTH_TOKEN_CACHE_SECONDS", "BEHIND_TLS_PROXY", "CACHE_KEY_PREFIX",
        "CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "DB_CONNECT_TIMEOUT", "DB_LOCK_TIMEOUT_MS",
        "DB_PREPARE_THRESHOLD", "DB_STATEMENT_TIMEOUT_MS", "DEBUG", "DJANGO_SETTINGS_MODULE",
        "GUNICORN_ACCESS_LOG",
        "GUNICORN_BIND", "GUNICORN_ERROR_LOG", "GUNICORN_GRACEFUL_TIMEOUT", "GUNICORN_LOG_LEVEL",
        "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_WARMUP", "GUNICORN_WORKER_CLASS",
        "IDEMPOTENCY_KEY_TTL_HOURS", "LOGIN_THROTTLE_RATE", "LOG_FILE", "LOG_LEVEL", "NUM_PROXIES",
        "ORDER_HOLD_MINUTES", "PRODUCT_CACHE_SECONDS", "PRODUCT_LIST_STORE_MIN_AGE_MS",
        "PRODUCT_PAGE_MEMO_MS", "REDIS_URL",
        "REQUEST_LOG",
        "SECRET_KEY", "SECURE_COOKIES", "SECURE_HSTS_PRELOAD", "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT", "SQLITE_BUSY_TIMEOUT", "SQLITE_PATH", "SQLITE_TEST_PATH",
        "STATIC_ROOT", "WEB_CONCURRENCY",
    }
)  # fmt: skip
# gunicorn retries a taken port a few times and exits; a free port can be taken in between.
START_ATTEMPTS = 3
ADDRESS_IN_USE = "Address already in use"
KILL_WAIT_S = 5.0
# "ModuleNotFoundError: No module named ...": the line that says why a server did not start.
EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception): ")


class ServerError(RuntimeError):
    """gunicorn did not start or did not become ready; the message says why in one line."""


# --- ports and hosts ----------------------------------------------------------------------------


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on at `host` right now ("" / "*" / "0.0.0.0": every interface)."""
    bind = "" if host in ("*", "0.0.0.0") else host
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((bind.strip("[]"), 0))
        return sock.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _hostname(host_or_url: str) -> str:
    text = host_or_url.strip()
    if "://" in text:
        return urlsplit(text).hostname or ""
    if text.startswith("["):  # [::1] or [::1]:8000
        return text[1 : text.find("]")] if "]" in text else text[1:]
    if text.count(":") == 1:  # host:port
        return text.split(":", 1)[0]
    return text  # a name, an IPv4 address or a bare IPv6 address


def _loopback_address(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # fe80::1%lo: the zone is no address
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def is_loopback(host_or_url: str) -> bool:
    """True when load sent there stays on this machine: `localhost` (and `*.localhost`, RFC 6761),
    an address in 127.0.0.0/8 or ::1 (also IPv4-mapped), or a name every one of whose addresses
    is one of those. A name that does not resolve is not loopback. Accepts a URL, host:port, a
    bracketed IPv6 address or a bare host."""
    name = _hostname(host_or_url).rstrip(".").lower()
    if not name:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return _loopback_address(name)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(_loopback_address(info[4][0]) for info in infos)


# --- the subprocess environment -----------------------------------------------------------------


def scrubbed_env(
    base: Mapping[str, str] | None = None, *, keep: Collection[str] = (), **overrides: str | None
) -> dict[str, str]:
    """The environment of a subprocess: `base` (default: this process's) without the load tools'
    settings (LOADTEST_*, LOCUST_*) and the shop's own settings (SHOP_SETTINGS, except the names
    in `keep`), with PYTHONUNBUFFERED=1, then `overrides` (a None value leaves the name unset)."""
    source = os.environ if base is None else base
    env = {
        key: value
        for key, value in source.items()
        if not key.startswith(TOOL_PREFIXES) and (key not in SHOP_SETTINGS or key in keep)
    }
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


# --- gunicorn -----------------------------------------------------------------------------------


def http_status(request: urllib.request.Request, timeout: float) -> int | None:
    """The HTTP status a request is answered with, or None when nothing answered."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, TimeoutError):
        return None


def _get_status(url: str, headers: Mapping[str, str], timeout: float) -> int | None:
    """The HTTP status of a GET, or None when nothing answered."""
    return http_status(urllib.request.Request(url, headers=dict(headers)), timeout)


def _children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (Linux /proc; elsewhere `ps`)."""
    proc = Path("/proc")
    if proc.is_dir():
        found = []
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces and parentheses
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 1 and fields[1] == str(pid):
                found.append(int(entry.name))
        return sorted(found)
    listed = subprocess.run(
        ["ps", "-o", "pid=", "-o", "ppid=", "-A"], capture_output=True, text=True, check=False
    )
    pairs = (line.split() for line in listed.stdout.splitlines())
    return sorted(int(child) for child, parent in pairs if parent == str(pid))


class GunicornServer:
    """A gunicorn started by `GunicornServer.start(...)`; `stop()` is safe to call again."""

    def __init__(self, process: subprocess.Popen, port: int, host: str, sink, offset: int):
        self.process = process
        self.port = port
        self.host = host
        self.returncode: int | None = None
        self._sink = sink  # the file gunicorn writes its output to
        self._offset = offset  # where this server's output starts in it
        self._final: bytes | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The gunicorn master's pid."""
        return self.process.pid

    @classmethod
    def start(
        cls,
        *,
        app: str = "shop.wsgi:application",
        cwd: str | os.PathLike,
        env: Mapping[str, str],
        workers: int | None = None,
        extra_args: Sequence[str] = (),
        ready_path: str | None = "/health",
        timeout: float = 60.0,
        log_path: str | os.PathLike | None = None,
        host: str = LOOPBACK,
        config: str | None = "gunicorn.conf.py",
        ready_headers: Mapping[str, str] | None = None,
        ready_statuses: Collection[int] | None = (200,),
        wait_for_workers: bool = True,
    ) -> "GunicornServer":
        """Start gunicorn on a free port of `host` and wait until it is ready: `ready_path`
        answers with one of `ready_statuses` (None: any HTTP answer; `ready_path` None: the port
        accepts connections), and with `workers` given and `wait_for_workers`, that many workers
        are up. `config` is relative to `cwd` (None: no -c). Raises ServerError (the server is
        stopped then), with the tail of its output."""
        attempt = 1
        while True:
            server = cls._spawn(app, cwd, env, workers, extra_args, log_path, host, config)
            try:
                server._wait_ready(
                    ready_path, timeout, ready_headers or {}, ready_statuses,
                    workers if wait_for_workers else None,
                )  # fmt: skip
                return server
            except ServerError:
                server.stop(signal.SIGKILL, KILL_WAIT_S)
                if attempt == START_ATTEMPTS or ADDRESS_IN_USE not in server.output():
                    raise
                attempt += 1

    @classmethod
    def _spawn(cls, app, cwd, env, workers, extra_args, log_path, host, config):
        port = free_port(host)
        command = [sys.executable, "-m", "gunicorn"]
        if config is not None:
            command += ["-c", str(Path(cwd) / config)]
        command += ["--no-control-socket", "--bind", f"{host}:{port}"]
        if workers is not None:
            command += ["--workers", str(workers)]
        command += [*extra_args, app]
        if log_path is not None:
            sink = open(log_path, "a+b")  # noqa: SIM115 - closed by stop()
        else:
            sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        offset = os.fstat(sink.fileno()).st_size
        in_main_thread = threading.current_thread() is threading.main_thread()
        kwargs = {"cwd": cwd, "env": dict(env), "stdin": subprocess.DEVNULL}
        kwargs.update(stdout=sink, stderr=subprocess.STDOUT)
        if in_main_thread:
            # Ctrl-C waits until the handle is stored, so the server can always be stopped; the
            # death signal follows the thread that forked, so only the main thread asks for it.
            with deferred_signals():
                process = spawn(command, **kwargs)
        else:
            process = subprocess.Popen(command, start_new_session=True, **kwargs)
        return cls(process, port, host, sink, offset)

    def _wait_ready(self, path, timeout, headers, statuses, workers) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise ServerError(
                    f"gunicorn exited with status {code} before it was ready: {self._tail()}"
                )
            if path is None:
                with socket.socket() as probe:
                    ready = probe.connect_ex((self.host, self.port)) == 0
            else:
                status = _get_status(f"{self.url}{path}", headers, timeout=2.0)
                ready = status is not None and (statuses is None or status in statuses)
                last = "no answer" if status is None else f"HTTP {status}"
            if ready and (workers is None or len(self.worker_pids()) >= workers):
                return
            time.sleep(0.1)
        raise ServerError(
            f"gunicorn did not become ready within {timeout:g} s ({last}): {self._tail()}"
        )

    def _tail(self, lines: int = 3) -> str:
        """One line: the first exception the output names, then its last lines."""
        output = [line.strip() for line in self.output().splitlines() if line.strip()]
        errors = [line for line in output if EXCEPTION_LINE.match(line)]
        shown = [*errors[:1], *(line for line in output[-lines:] if line not in errors[:1])]
        return " | ".join(shown) or "no output"

    def worker_pids(self) -> list[int]:
        """The live workers' pids (gunicorn replaces one that dies)."""
        if self.process.poll() is not None:
            return []
        return _children(self.process.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send `sig` to the server's process group (SIGTERM: graceful, SIGINT / SIGQUIT: quick),
        SIGKILL whatever is left after `timeout` seconds, and return the master's exit status
        (None if it could not be reaped)."""
        if self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass  # SIGKILL below
        self._kill_group()  # what is left after the timeout; workers that outlive the master
        try:
            self.returncode = self.process.wait(timeout=KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            return None
        self._final = self._read()
        self._sink.close()
        return self.returncode

    def _kill_group(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _read(self) -> bytes:
        self._sink.flush()
        fd = self._sink.fileno()
        size = os.fstat(fd).st_size - self._offset
        return os.pread(fd, max(size, 0), self._offset) if size > 0 else b""

    def output(self) -> str:
        """What gunicorn has written to stdout and stderr so far (this server's part of the log)."""
        data = self._final if self._final is not None else self._read()
        return data.decode("utf-8", errors="replace")

    def __enter__(self) -> "GunicornServer":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()
