"""Plain Locust against any host, with the harness's traffic mix (loadtesting/locustfile.py):

    locust -f loadtesting/locustfile.py --host http://127.0.0.1:8000

Who the simulated users are depends on the environment:

- LOADTEST_CREDENTIALS=path/to/loadtest_credentials.json (written by `manage.py loadtest
  prepare`): the full mix — customers with fixture tokens browse, order (hot products sell out),
  pay and cancel; the staff token creates and restocks products. No logins during the load.
- else LOADTEST_USERNAME and LOADTEST_PASSWORD: every user logs in once (POST /auth/token) and
  browses, orders, pays and cancels as that account; no staff operations.
- else: anonymous browsing only (product list, filters, details, /health, /summary).

The same file is what a worker on another machine runs to join a harness master
(`locust -f loadtesting/locustfile.py --worker --master-host …`): the master then sends the
fixtures and the think time, and the worker reports its exact timings back.
LOADTEST_THINK_TIME=MIN,MAX (seconds) sets the think time of a plain run (default 0.5,1.5).
"""

import json
import os
from pathlib import Path

from locust import events
from locust.runners import WorkerRunner

from loadtesting.load.distributed import install_worker_hooks
from loadtesting.load.users import ShopUser, configure


def _setup_from_environment() -> dict:
    fixtures: dict = {}
    path = os.environ.get("LOADTEST_CREDENTIALS")
    if path:
        fixtures = json.loads(Path(path).read_text())
    elif os.environ.get("LOADTEST_USERNAME") and os.environ.get("LOADTEST_PASSWORD"):
        fixtures = {"login": (os.environ["LOADTEST_USERNAME"], os.environ["LOADTEST_PASSWORD"])}
    low, _, high = os.environ.get("LOADTEST_THINK_TIME", "0.5,1.5").partition(",")
    return {"fixtures": fixtures, "think_time": [float(low), float(high or low)]}


configure(_setup_from_environment())


@events.init.add_listener
def _on_init(environment, runner=None, **_kwargs):
    if isinstance(runner, WorkerRunner):
        install_worker_hooks(environment, runner)


__all__ = ["ShopUser"]
