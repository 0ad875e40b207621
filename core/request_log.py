"""The development server's request log: one line per request, the shape of gunicorn's access log.

gunicorn logs every request itself (its access log, gunicorn.conf.py), so under gunicorn this is
off and no request is logged twice. `manage.py runserver` turns it on (REQUEST_LOG=1), and
shop/wsgi.py then wraps the whole application, the page cache in front of Django included, so
every request is logged with its status, size, time and request id:

    127.0.0.1 "GET /products/ HTTP/1.1" 200 1834 4ms request_id=6f1c...

The line is written when the server closes the response, so the time covers the whole body.
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator

from core.middleware import request_id_var

logger = logging.getLogger("shop.access")

REQUEST_ID_HEADER = "x-request-id"


class DropServerRequestLines(logging.Filter):
    """Drop the development server's own per-request lines (they carry `status_code`): this log
    repeats them with the request id and the time. Its other messages pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not hasattr(record, "status_code")


class _Response:
    """The application's response iterable, counting bytes and logging once on close()."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[int], None]):
        self._body = body
        self._on_close = on_close
        self._sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close(self._sent)


class RequestLog:
    """WSGI middleware: log every request of `app` to the `shop.access` logger."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        seen = {"status": "-", "request_id": "-"}

        def recording_start_response(status: str, headers: list, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            for name, value in headers:
                if name.lower() == REQUEST_ID_HEADER:
                    seen["request_id"] = value
            return start_response(status, headers, exc_info)

        def log(sent: int) -> None:
            elapsed_ms = int((time.perf_counter() - started) * 1000)
            request_line = " ".join(
                part
                for part in (
                    environ.get("REQUEST_METHOD", "-"),
                    request_target(environ),
                    environ.get("SERVER_PROTOCOL", ""),
                )
                if part
            )
            token = request_id_var.set(seen["request_id"])
            try:
                logger.info(
                    '%s "%s" %s %d %dms request_id=%s',
                    environ.get("REMOTE_ADDR", "-"),
                    request_line,
                    seen["status"],
                    sent,
                    elapsed_ms,
                    seen["request_id"],
                )
            finally:
                request_id_var.reset(token)

        return _Response(self.app(environ, recording_start_response), log)


def request_target(environ: dict) -> str:
    path = environ.get("PATH_INFO", "") or "/"
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path
