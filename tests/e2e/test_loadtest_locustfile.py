"""End to end: `manage.py loadtest custom --locustfile PATH` runs a user's own Locust users.

The target is a tiny API of the test's own (a stdlib HTTP server on a thread of this process; it
counts what it answers), not the shop: the harness must not seed, migrate or audit it. Locust
itself runs only in the `manage.py loadtest` subprocess, never in the pytest process.
"""

import json
import textwrap
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.test_loadtest import assert_one_line_error, assert_printed, loadtest, verdict_of

pytestmark = pytest.mark.e2e

USERS = 4
RUN = ["--users", str(USERS), "--spawn-rate", str(USERS), "--run-time", "3s"]

# Two users of "your own API": one browses, one buys what is sold out (a 409 it calls a success).
OWN_LOCUSTFILE = """
    import os
    from pathlib import Path

    from locust import FastHttpUser, HttpUser, constant, events, task


    @events.test_start.add_listener
    def mark_started(environment, **_kwargs):
        Path(os.environ["LOCUSTFILE_MARKER"]).write_text(environment.host)


    class Base(FastHttpUser):
        abstract = True
        wait_time = constant(0.1)


    class Browser(Base):
        @task
        def items(self):
            self.client.get("/items", name="/items")


    class Buyer(Base):
        @task
        def buy(self):
            with self.client.get("/sold-out", name="/sold-out", catch_response=True) as response:
                if response.status_code == 409:
                    response.success()  # sold out is an answer here, not an error
"""


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API
    statuses = {"/": 200, "/items": 200, "/sold-out": 409}

    def do_GET(self):
        status = self.statuses.get(self.path, 404)
        self.server.answered[self.path] += 1  # counted before the client can see the answer
        body = json.dumps({"path": self.path}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture
def api() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.daemon_threads = True
    server.answered = Counter()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def locustfile(tmp_path: Path, source: str, name: str = "my_api_users.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_own_locustfile_runs_against_any_host(env, results, tmp_path, api):
    # given
    marker = tmp_path / "started"
    path = locustfile(tmp_path, OWN_LOCUSTFILE)

    # when
    run = loadtest(
        {**env, "LOCUSTFILE_MARKER": str(marker)},
        "custom", "--host", api.url, "--locustfile", str(path), *RUN,
        "--results-dir", str(results),
    )  # fmt: skip

    # then: a pass, with every report on disk
    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_of(results, "custom")
    assert_printed(verdict, run.stdout)
    assert verdict["options"]["locustfile"] == str(path)
    assert verdict["options"]["user_classes"] == ["Browser", "Buyer"]  # not the abstract Base
    assert verdict["options"]["think_time_s"] is None
    # the target is not the shop: nothing seeded, no database described, the audit skipped
    assert verdict["database"]["used"] is False
    assert set(verdict["audit"]) == {"skipped"}
    assert verdict["audit"]["skipped"] in run.stdout
    assert "Fixtures:" not in run.stdout
    assert verdict["checks"] == []
    # the file's own listener fired
    assert marker.read_text() == api.url
    # a 409 the user marked as a success is a success, not a stock-out
    rows = {row["name"]: row for row in verdict["endpoints"]}
    assert set(rows) == {"/items", "/sold-out"}
    assert verdict["total"]["failures"] == 0
    assert verdict["total"]["stock_outs"] == 0
    assert "Stock-outs" not in run.stdout
    # exact counts: every answer the users saw is recorded; the server may have answered a few
    # more that were cut off in flight when the load stopped
    assert verdict["total"]["requests"] == verdict["locust"]["requests"]
    for name, row in rows.items():
        assert 0 <= api.answered[name] - row["requests"] <= USERS, (name, api.answered)
    # 4 users, one request per 0.1 s each, for 3 s
    assert 20 <= verdict["total"]["requests"] <= USERS * 36


def test_own_locustfile_threshold_fails_with_exit_1(env, results, tmp_path, api):
    path = locustfile(tmp_path, OWN_LOCUSTFILE)

    run = loadtest(
        {**env, "LOCUSTFILE_MARKER": str(tmp_path / "started")},
        "custom", "--host", api.url, "--locustfile", str(path), "--user-classes", "Buyer",
        *RUN, "--max-p95-ms", "0", "--json", "--results-dir", str(results),
    )  # fmt: skip

    assert run.returncode == 1, run.stdout + run.stderr
    verdict = verdict_of(results, "custom")
    assert json.loads(run.stdout) == verdict
    assert verdict["options"]["user_classes"] == ["Buyer"]
    assert [row["name"] for row in verdict["endpoints"]] == ["/sold-out"]
    assert {check["kind"] for check in verdict["checks"] if not check["pass"]} == {"threshold"}
    assert run.stderr.strip().splitlines()[-1].startswith("Exit status 1: ")
    assert "CommandError" not in run.stderr


def test_own_locustfile_on_the_started_shop_with_workers_is_audited(env, results, tmp_path):
    # given: no --host, so the harness starts the shop and shares its database
    path = locustfile(
        tmp_path,
        """
        from locust import FastHttpUser, constant, task


        class Browser(FastHttpUser):
            wait_time = constant(0.1)

            @task
            def products(self):
                self.client.get("/products/", name="/products/")
        """,
    )

    # when
    run = loadtest(
        env, "custom", "--locustfile", str(path), "--workers", "2", *RUN,
        "--server-workers", "2", "--results-dir", str(results),
    )  # fmt: skip

    # then: the workers ran the file's class, every sample reached the master, the audit ran
    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_of(results, "custom")
    assert_printed(verdict, run.stdout)
    assert verdict["locust"]["workers"] == 2
    assert [row["name"] for row in verdict["endpoints"]] == ["/products/"]
    assert verdict["total"]["requests"] == verdict["locust"]["requests"] > 0
    assert verdict["audit"]["ok"] is True
    assert verdict["database"]["engine"] in ("sqlite3", "postgresql")
    assert "Fixtures:" not in run.stdout


@pytest.mark.parametrize(
    ("scenario", "source", "extra", "message"),
    [
        ("custom", None, [], "no such file"),
        (
            "custom",
            "import no_such_module_xyz\n",
            [],
            "could not be imported: ModuleNotFoundError: No module named 'no_such_module_xyz'",
        ),
        ("custom", "from locust import HttpUser\n", [], "has no User classes"),
        ("custom", OWN_LOCUSTFILE, ["--user-classes", "Browser,Nobody"], "Nobody not found"),
        ("quick", OWN_LOCUSTFILE, [], "runs only with the custom scenario"),
    ],
    ids=["missing file", "import error", "no user classes", "unknown class", "not custom"],
)
def test_bad_locustfile_exits_3_with_one_line(
    env, results, tmp_path, api, scenario, source, extra, message
):
    path = tmp_path / "absent.py" if source is None else locustfile(tmp_path, source)

    run = loadtest(
        env, scenario, "--host", api.url, "--locustfile", str(path), *extra, *RUN,
        "--results-dir", str(results),
    )  # fmt: skip

    assert_one_line_error(run)
    assert message in run.stderr
    assert not list(results.glob("*.json"))


def test_user_classes_without_locustfile_exits_3(env, results):
    run = loadtest(env, "custom", "--user-classes", "Browser", "--results-dir", str(results))

    assert_one_line_error(run)
    assert "--user-classes needs --locustfile" in run.stderr


def test_own_locustfile_against_a_closed_port_exits_3(env, results, tmp_path):
    path = locustfile(tmp_path, OWN_LOCUSTFILE)

    run = loadtest(
        env, "custom", "--host", "http://127.0.0.1:9", "--locustfile", str(path),
        "--results-dir", str(results),
    )  # fmt: skip

    assert_one_line_error(run)
    assert "Cannot reach http://127.0.0.1:9" in run.stderr
