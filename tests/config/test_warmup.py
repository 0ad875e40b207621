"""Each gunicorn worker warms up before its first client (issue 12, "Plain Locust")."""

import subprocess

import pytest

from loadtesting.server import GunicornServer, scrubbed_env
from tests.config.helpers import PYTHON, REPO

COLD_THEN_WARM = """
import sys
import shop.wsgi
cold = {"shop.urls", "orders.apis", "drf_spectacular.views"} & set(sys.modules)
assert not cold, f"already imported before the first request: {cold}"
from orders.models import Order
before = Order.objects.count()
from shop.warmup import warm_up
seconds = warm_up(shop.wsgi.application)
assert {"shop.urls", "orders.apis", "drf_spectacular.views"} <= set(sys.modules)
from django.db import connection
assert connection.connection is not None, "the database connection is open"
assert Order.objects.count() == before, "the warm-up wrote an order"
print(f"warmed in {seconds * 1000:.0f} ms")
"""


def test_warm_up_loads_the_urlconf_and_connects_without_writing(tmp_path):
    env = scrubbed_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), GUNICORN_WARMUP=None)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    result = subprocess.run(
        [PYTHON, "-c", COLD_THEN_WARM], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "warmed in" in result.stdout


def test_warm_up_never_raises():
    from shop.warmup import warm_up

    def broken_app(environ, start_response):
        raise RuntimeError("boom")

    assert warm_up(broken_app) >= 0


@pytest.mark.slow
@pytest.mark.parametrize("setting, warmed", [(None, True), ("off", False)])
def test_gunicorn_workers_warm_up_before_serving(tmp_path, setting, warmed):
    env = scrubbed_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), GUNICORN_WARMUP=setting)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    with GunicornServer.start(cwd=REPO, env=env, workers=2) as server:
        pids = server.worker_pids()
    output = server.output()
    for pid in pids:
        assert (f"Worker {pid} warmed up in" in output) is warmed, output
