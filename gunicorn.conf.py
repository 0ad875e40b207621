"""gunicorn settings for the shop; every value can be overridden from the environment."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The classic formula; the server's Python CPU is the limit on a small machine, not the database.
# gthread workers (GUNICORN_WORKER_CLASS=gthread, GUNICORN_THREADS=4, keep-alive) raise the bare
# HTTP ceiling, but measured with `make bench` their threads cost orders more CPU each (the GIL),
# and the standard mix's p95 doubled: sync workers serve this shop better (README, Performance).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Database waits are bounded well below this (connect 2 s, lock 3 s, statement 5 s).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
backlog = 2048
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
# gunicorn >= 25 opens a control socket under ~/.gunicorn by default; the shop does not use it.
control_socket_disable = True
proc_name = "shop"
