"""The servers under test: gunicorn through the one launcher (loadtesting/server.py), an existing
deployment's process, warming a server up, gunicorn's settings, the service's Redis cache."""

import contextlib
import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from benchmarks.base import ROOT, BenchError, tail
from loadtesting.server import GunicornServer, ServerError, is_loopback

BARE_APP = "benchmarks.bare_wsgi:application"
FLOOR_APP = "benchmarks.floor_wsgi:application"
SHOP_APP = "shop.wsgi:application"


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def start_gunicorn(
    app: str, env: dict[str, str], workdir: Path, name: str, ready_path: str, root: Path = ROOT
):
    """gunicorn -c gunicorn.conf.py APP on a free loopback port, output in WORKDIR/NAME.log; the
    code, and the gunicorn.conf.py, of the source tree at ROOT (another commit's worktree, say)."""
    try:
        return GunicornServer.start(
            app=app,
            cwd=root,
            env=env,
            ready_path=ready_path,
            timeout=40.0,
            log_path=workdir / f"{name}.log",
        )
    except ServerError as exc:
        raise BenchError(f"{app} did not start: {exc}") from None


def stop_gunicorn(server: GunicornServer) -> None:
    server.stop(signal.SIGINT, timeout=15.0)  # gunicorn's quick shutdown


def listening_pid(url: str) -> int | None:
    """The local process serving url's port, for CPU figures of an existing deployment."""
    parts = urlsplit(url)
    if not is_loopback(parts.hostname or ""):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with contextlib.suppress(psutil.Error, PermissionError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid:
                    process = psutil.Process(conn.pid)
                    parent = process.parent()
                    # A gunicorn worker's parent is the master: measure the whole tree.
                    if parent and parent.name() == process.name():
                        return parent.pid
                    return process.pid
    return None


def warm_up(base_url: str, paths: list[str], headers: dict[str, str], rounds: int = 60) -> None:
    """Touch every endpoint from several connections so every worker has loaded the app."""

    def one(path: str) -> None:
        with contextlib.suppress(OSError, urllib.error.URLError):
            http_get(base_url + path, headers)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, [paths[i % len(paths)] for i in range(rounds)]))


def discover_products(url: str) -> dict[str, Any]:
    """Product ids of an existing deployment, for the read phases."""
    with contextlib.suppress(OSError, urllib.error.URLError, ValueError, KeyError):
        status, body = http_get(f"{url}/products/?page_size=500", timeout=10)
        if status == 200:
            return {"product_ids": [p["id"] for p in json.loads(body)["products"]]}
    return {"product_ids": []}


SETTINGS_PROBE = """
import json, runpy
conf = runpy.run_path("gunicorn.conf.py")
keys = ("workers", "worker_class", "threads", "accesslog")
print(json.dumps({key: conf.get(key) for key in keys}))
"""


def gunicorn_settings(env: dict[str, str], root: Path = ROOT) -> dict[str, Any]:
    """What the gunicorn.conf.py of the tree at ROOT gives in this environment: workers, class,
    threads, access log. Read in a subprocess, so another tree's settings never load in this one."""
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise BenchError(f"gunicorn.conf.py of {root} did not load: {tail(result)}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    with contextlib.suppress(OSError):
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    return False


def drop_cache_keys(redis_url: str, prefix: str) -> None:
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
