"""The target phase: the server the load goes to, and the proof that it shares this database.

Without --host the harness starts gunicorn itself (loadtesting.server) on a free loopback port,
after migrating. With --host only loopback addresses are accepted unless --allow-remote is given,
nothing is migrated, and the server must share the harness's database: it must hold the shop's
migrations, and a product the harness writes must be visible through its API (for your own
locustfile the target may be any API: only its port is checked).
"""

import logging
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from loadtesting import fixtures
from loadtesting.exit_codes import CannotRun
from loadtesting.probes import health, http_json, warm_up
from loadtesting.processes import deferred_signals
from loadtesting.server import GunicornServer, ServerError, is_loopback

logger = logging.getLogger("loadtest")

SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 15.0
# With --host and --locustfile the target may be any API: this harness's database is not its.
DATABASE_NOT_USED = {
    "used": False,
    "note": "not used: with --locustfile the --host target may not be the shop, so no database "
    "is seeded or checked",
}


@dataclass
class Target:
    url: str
    started: bool
    database: dict
    server_pid: int | None
    server_workers: int | None

    def as_dict(self) -> dict:
        return {
            "url": self.url,
            "started_by_harness": self.started,
            "server": "gunicorn (--no-control-socket)" if self.started else "given with --host",
            "server_workers": self.server_workers,
        }


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


def require_migrated(url: str, database: dict) -> None:
    """With --host the harness migrates nothing: a database that lacks the shop's migrations (the
    `postgres` maintenance database, say) cannot be the server's, and is left as it was."""
    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if unapplied:
        raise CannotRun(
            f"The server at {url} does not share this harness's database "
            f"({database_line(database)}): {len(unapplied)} of the shop's migrations are not "
            "applied there (with --host the harness migrates nothing; point DATABASE_URL at the "
            "server's database)."
        )


def require_shared_database(url: str, database: dict) -> None:
    """A product the harness just wrote must be visible through the server's API."""
    probe = fixtures.probe_product()
    try:
        status, body = http_json(f"{url}/products/?sku={probe.sku}")
        visible = status == 200 and any(
            row.get("id") == probe.pk and row.get("sku") == probe.sku
            for row in body.get("products", ())
        )
    finally:
        fixtures.probe_remove(probe)
    if not visible:
        raise CannotRun(
            f"The server at {url} does not share this harness's database "
            f"({database_line(database)}): a product the harness just wrote is not visible "
            f"through its API."
        )


def open_target(options, *, any_api: bool, server: Server | None, out) -> Target:
    """The target of the run: `server` started (the caller made it, and stops it) or --host
    checked. `any_api`: with --host, any HTTP server will do (your own locustfile)."""
    out.heading("== target")
    if options.host is not None and any_api:
        return _any_api_target(options, out)
    database = describe_database()
    if server is not None:
        call_command("migrate", interactive=False, verbosity=0)
        server.start()
        logger.info("started gunicorn, pid %s, port %s", server.root_pid(), server.port)
        target = Target(server.url, True, database, server.root_pid(), options.server_workers)
        how = f"gunicorn with {options.server_workers} workers, started by the harness"
    else:
        url = normalise_host(options.host, allow_remote=options.allow_remote)
        require_reachable(url)
        require_migrated(url, database)  # nothing is written before this holds
        require_shared_database(url, database)
        target = Target(url, False, database, server_pid_for(url), None)
        how = "given with --host; it shares this database"
        logger.info("the server's own output is not captured for --host")
    warm_up(target.url, concurrency=options.server_workers)
    out.write(f"Target:   {target.url} ({how})")
    out.write(f"Database: {database_line(database)}")
    return target


def _any_api_target(options, out) -> Target:
    """--host with --locustfile: nothing shop-specific is asked of it (no /health, no shared
    database, no warm-up of the shop's endpoints)."""
    url = normalise_host(options.host, allow_remote=options.allow_remote)
    require_listening(url)
    logger.info("the server's own output is not captured for --host")
    out.write(f"Target:   {url} (given with --host; not checked to be the shop)")
    out.write(f"Database: {DATABASE_NOT_USED['note']}")
    return Target(url, False, DATABASE_NOT_USED, server_pid_for(url), None)
