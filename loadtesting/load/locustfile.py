"""Plain Locust against any host, with the harness's traffic mix (loadtesting/locustfile.py):

    locust -f loadtesting/locustfile.py --host http://127.0.0.1:8000

Who the simulated users are depends on the environment:

- LOADTEST_CREDENTIALS=path/to/loadtest_credentials.json, or else ./loadtest_credentials.json
  when it exists (both written by `manage.py loadtest prepare`): the full mix — customers with
  fixture tokens browse, order (hot products sell out),
  pay and cancel; the staff token creates and restocks products. No logins during the load.
- else LOADTEST_USERNAME and LOADTEST_PASSWORD: every user logs in once (POST /auth/token) and
  browses, orders, pays and cancels as that account; no staff operations.
- else: anonymous browsing only (product list, filters, details, /health, /summary).

The same file is what a worker on another machine runs to join a harness master
(`locust -f loadtesting/locustfile.py --worker --master-host …`): the master then sends the
fixtures and the think time, and the worker reports its exact timings back.
LOADTEST_THINK_TIME=MIN,MAX (seconds) sets the think time of a plain run (default 0.5,1.5).
A plain run says on its first stderr line who its users are; a credentials file that is missing
or not JSON is one line naming the `prepare` command to run, and exit 1.
"""

import json
import os
import sys
from pathlib import Path

from locust import events
from locust.runners import WorkerRunner

from loadtesting.load.distributed import install_worker_hooks
from loadtesting.load.users import ShopUser, configure

DEFAULT_CREDENTIALS = "loadtest_credentials.json"
PREPARE = ".venv/bin/python manage.py loadtest prepare"


def _fail(message: str) -> None:
    sys.stderr.write(f"locustfile: {message}\n")
    sys.exit(1)


def _prepare(path: str) -> str:
    """The command that writes `path`."""
    return PREPARE if path == DEFAULT_CREDENTIALS else f"{PREPARE} --credentials {path}"


def _credentials(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        _fail(f"no credentials file {path} (LOADTEST_CREDENTIALS): run `{_prepare(path)}` first")
    except (OSError, ValueError) as exc:
        _fail(f"cannot read the credentials file {path}: {exc}; run `{_prepare(path)}` again")


def _setup_from_environment() -> tuple[dict, str]:
    """(the users' setup, who the users are in a few words)."""
    path = os.environ.get("LOADTEST_CREDENTIALS", "").strip()
    if not path and Path(DEFAULT_CREDENTIALS).is_file():
        path = DEFAULT_CREDENTIALS
    if path:
        fixtures = _credentials(path)
        who = f"the fixture customers and staff in {path} (the full mix)"
    elif os.environ.get("LOADTEST_USERNAME") and os.environ.get("LOADTEST_PASSWORD"):
        fixtures = {"login": (os.environ["LOADTEST_USERNAME"], os.environ["LOADTEST_PASSWORD"])}
        who = f"{os.environ['LOADTEST_USERNAME']}, logging in once per user (no staff writes)"
    else:
        fixtures = {}
        who = f"anonymous browsing only (no credentials; `{PREPARE}` first gives the full mix)"
    low, _, high = os.environ.get("LOADTEST_THINK_TIME", "0.5,1.5").partition(",")
    return {"fixtures": fixtures, "think_time": [float(low), float(high or low)]}, who


setup, users_are = _setup_from_environment()
if "--worker" not in sys.argv:
    sys.stderr.write(f"locustfile: users: {users_are}\n")
configure(setup)


@events.init.add_listener
def _on_init(environment, runner=None, **_kwargs):
    if isinstance(runner, WorkerRunner):
        install_worker_hooks(environment, runner)


__all__ = ["ShopUser"]
