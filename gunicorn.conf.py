"""gunicorn settings for the shop; every value can be overridden from the environment."""

import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shop.startup import exit_on_bad_configuration  # noqa: E402

# A bad DATABASE_URL (or any bad setting) is one line and exit 1 here, in the master, instead of
# a traceback from every worker and "Worker failed to boot".
exit_on_bad_configuration("gunicorn", 1)

OFF_WORDS = {"off", "none", "no", "false", "0"}


def env_str(name: str, default: str) -> str:
    """An empty variable means the default, as in shop/settings.py."""
    return os.environ.get(name, "").strip() or default


def log_destination(name: str, default: str) -> str | None:
    """`-` is stdout, a path a file, off/none/no/false/0 no log at all (None to gunicorn)."""
    value = env_str(name, default)
    return None if value.lower() in OFF_WORDS else value


bind = env_str("GUNICORN_BIND", "127.0.0.1:8000")
# The classic formula; the server's Python CPU is the limit on a small machine, not the database.
# gthread workers (GUNICORN_WORKER_CLASS=gthread, GUNICORN_THREADS=4, keep-alive) raise the bare
# HTTP ceiling, but measured with `make bench` their threads cost orders more CPU each (the GIL),
# and the standard mix's p95 doubled: sync workers serve this shop better (README, Performance).
workers = int(env_str("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2 + 1)))
worker_class = env_str("GUNICORN_WORKER_CLASS", "sync")
threads = int(env_str("GUNICORN_THREADS", "1"))
# Database waits are bounded well below this (connect 2 s, lock 3 s, statement 5 s).
timeout = int(env_str("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(env_str("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
backlog = 2048
# The access log is the request log: one line per request, with its status, time and request id;
# GUNICORN_ACCESS_LOG=off turns it off (README, Logging: what it costs). With LOG_FILE set, the
# access and error lines also go to that file (shop/gunicorn_logging.py).
accesslog = log_destination("GUNICORN_ACCESS_LOG", "-")
errorlog = env_str("GUNICORN_ERROR_LOG", "-")
loglevel = env_str("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
logger_class = "shop.gunicorn_logging.ShopLogger"
# gunicorn >= 25 opens a control socket under ~/.gunicorn by default; the shop does not use it.
control_socket_disable = True
# With setproctitle (requirements/base.txt) the processes are `gunicorn: master [shop]` and
# `gunicorn: worker [shop]`: `top -p $(pgrep -d, -f '\[shop\]')` watches them all.
proc_name = "shop"


# Each worker answers two requests itself before it takes clients: a fresh worker's first request
# cost 0.8-1.2 s (Django importing the URLconf and DRF on first use), 2+ s for the first orders of
# a plain Locust run against a fresh `make run` (shop/warmup.py). GUNICORN_WARMUP=off skips it.
warm_up_workers = log_destination("GUNICORN_WARMUP", "on") is not None


def post_worker_init(worker) -> None:
    if not warm_up_workers:
        return
    from shop.warmup import warm_up

    seconds = warm_up(worker.wsgi)
    worker.log.info("Worker %s warmed up in %.0f ms", worker.pid, seconds * 1000)
