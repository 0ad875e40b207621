"""Warm a gunicorn worker before it takes its first request (gunicorn.conf.py, post_worker_init).

Measured on a fresh `make run`: a worker's first request took 0.8-1.2 s, the next ones 1-5 ms.
The time is Django importing the URLconf on first use (every view module, DRF's renderers and
serializers, drf-spectacular: about 0.8 s of CPU), then DRF's lazily imported settings classes and
the first database connection. With 5 workers starting together on 2 cores, the first requests
of a plain Locust run queued behind all of that (2+ s). Here each worker pays it at boot
instead, by answering one anonymous `GET /products/?page_size=1` and one unauthenticated
`POST /orders/` itself (the order is refused at authentication: nothing is written), before
gunicorn hands it any client.
"""

import io
import logging
import sys
import time
from collections.abc import Callable

logger = logging.getLogger("shop.warmup")

WARM_REQUESTS = (
    ("GET", "/products/", "page_size=1"),
    ("POST", "/orders/", ""),
)


def warm_up(app: Callable) -> float:
    """Send WARM_REQUESTS through the WSGI `app`; the seconds it took. Never raises."""
    started = time.perf_counter()
    for method, path, query in WARM_REQUESTS:
        try:
            body = app(synthetic_environ(method, path, query), lambda *args, **kwargs: None)
            try:
                for _chunk in body:
                    pass
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except Exception:  # a warm-up failure must never stop a worker; requests will tell
            logger.warning("warm-up request %s %s failed", method, path, exc_info=True)
    return time.perf_counter() - started


def synthetic_environ(method: str, path: str, query: str) -> dict:
    body = b"{}" if method == "POST" else b""
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "HTTP_ACCEPT": "application/json",
        "HTTP_X_REQUEST_ID": "warm-up",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
