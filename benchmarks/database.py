"""The benchmark's database lifecycle: its own shop_bench on PostgreSQL (created, dropped), a
given --database-url as is, or SQLite; migrating, seeding (benchmarks.seed) and the stock audit,
each in a subprocess with the run's environment."""

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.base import ROOT, BenchError, Options, log

BENCH_DB_NAME = "shop_bench"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass
class Database:
    engine: str  # "postgresql" or "sqlite"
    url: str | None  # DATABASE_URL for the service; None for SQLite
    name: str
    sqlite_path: Path | None = None
    created: bool = False
    admin_url: str | None = None

    def env(self) -> dict[str, str]:
        if self.url:
            return {"DATABASE_URL": self.url}
        return {"SQLITE_PATH": str(self.sqlite_path)}

    def _parsed(self) -> dict[str, Any]:
        import dj_database_url

        return dj_database_url.parse(self.url or "")

    def pg_args(self) -> list[str]:
        """psql/pgbench connection arguments: --host, --port, --username, then the name."""
        parsed = self._parsed()
        args = []
        if parsed.get("HOST"):
            args += ["--host", str(parsed["HOST"])]
        if parsed.get("PORT"):
            args += ["--port", str(parsed["PORT"])]
        if parsed.get("USER"):
            args += ["--username", str(parsed["USER"])]
        return [*args, str(parsed["NAME"])]

    def pg_env(self) -> dict[str, str]:
        password = self._parsed().get("PASSWORD")
        return {"PGPASSWORD": str(password)} if password else {}

    def describe(self) -> str:
        if self.engine == "sqlite":
            return f"sqlite {self.sqlite_path}"
        parsed = self._parsed()
        where = f"{parsed.get('HOST') or 'localhost'}:{parsed.get('PORT') or 5432}"
        return f"postgresql {where}/{self.name}"


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name."""
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


def given_database(url: str) -> Database:
    """--database-url: used as is, never dropped."""
    if url.startswith("sqlite"):
        import dj_database_url

        path = Path(dj_database_url.parse(url)["NAME"])
        return Database("sqlite", None, path.name, sqlite_path=path)
    return Database("postgresql", url, urlsplit(url).path.lstrip("/"))


def prepare_database(
    explicit_url: str | None, workdir: Path, name: str = BENCH_DB_NAME
) -> Database:
    """The database the benchmark may write: the given URL as is, else its own NAME (shop_bench)
    on the PostgreSQL server of DATABASE_URL (or 127.0.0.1:5432), else SQLite in the work
    directory."""
    if explicit_url:
        return given_database(explicit_url)
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://", "pgsql://")):
        server = DEFAULT_SERVER
    admin_url = with_database(server, "postgres")
    try:
        import psycopg

        with psycopg.connect(admin_url, connect_timeout=2, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        log(f"PostgreSQL not available ({type(exc).__name__}): the service runs on SQLite")
        path = workdir / "bench.sqlite3"
        return Database("sqlite", None, path.name, sqlite_path=path)
    return Database(
        "postgresql",
        with_database(server, name),
        name,
        created=True,
        admin_url=admin_url,
    )


def drop_database(db: Database) -> None:
    """Drop the database this run created (a given one is never dropped)."""
    if not db.created or not db.admin_url:
        return
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(db.admin_url, connect_timeout=2, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def run_python(env: dict[str, str], *args: str, timeout: float = 300):
    """`python ARGS` in the project directory: a CompletedProcess with its text output."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return run_python(env, str(ROOT / "manage.py"), *args, timeout=timeout)


def migrate_and_seed(opts: Options) -> None:
    """Migrate, seed the fixtures (benchmarks.seed) and hand them to the options."""
    result = manage(opts.env, "migrate", "--noinput")
    if result.returncode != 0:
        raise BenchError(f"migrate failed: {result.stderr.strip()[-300:]}")
    fixtures_path = opts.workdir / "fixtures.json"
    result = run_python(
        opts.env,
        *("-m", "benchmarks.seed", "--products", str(opts.products), "--out", str(fixtures_path)),
    )
    if result.returncode != 0:
        raise BenchError(f"seeding failed: {result.stderr.strip()[-300:]}")
    opts.fixtures_path = fixtures_path
    opts.fixtures = json.loads(fixtures_path.read_text())


def stock_audit(env: dict[str, str]) -> dict[str, Any]:
    """`manage.py audit_stock --json`: its report, ok when it exits 0."""
    result = manage(env, "audit_stock", "--json", timeout=120)
    audit: dict[str, Any] = {"exit_code": result.returncode}
    with contextlib.suppress(ValueError, IndexError):
        audit.update(json.loads(result.stdout.strip().splitlines()[-1]))
    audit["ok"] = result.returncode == 0
    if result.returncode not in (0, 2):
        audit["error"] = result.stderr.strip()[-300:]
    return audit
