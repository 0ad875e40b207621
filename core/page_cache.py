"""Anonymous reads answered from a versioned cache in front of Django, at the WSGI level.

The shop uses it for product reads (shop/wsgi.py wires it to inventory.cache); the kernel knows
only "these paths, this versioned store", so nothing here reaches up into an app.

Profiled, a cached product page still spent most of its CPU in Django: building the request,
the middleware chain, DRF's dispatch, re-rendering the cached data, the request signals. Here a
whole response (status 200, body and headers, exactly as the full stack made it) is cached under
the store's version (for products, the catalogue version of inventory.cache), and replayed
without entering Django at all.

Only requests whose answer cannot differ between clients take this path: GET of /products/ or
/products/{id} with no Authorization header (a bad token must still get its 401), no body, and an
Accept that asks for JSON or anything. The key is the request as it arrived (scheme, proxy
headers, host, path, query), so two requests that share a key are the same request; every miss
goes through the whole stack, which validates the host, the parameters and the id, and only its
200s are stored. The version is read before the stack reads the database, so an entry stored
under it is dead as soon as a product write commits (see inventory.cache; a product's own page
has a version of its own there).

Each worker also keeps the pages it served for PRODUCT_PAGE_MEMO_MS (default 100 ms with the
cache on) and answers them again without asking Redis: the Redis round trip was most of a hit's
remaining cost. So an anonymous page may be that much older than the last write; anyone with a
token reads through the version check (inventory/fast_reads.py or Django), so a client that writes
reads its own writes.

The replay adds what is per request: X-Request-ID (the client's if it is well formed, else a new
one), as core.middleware.RequestIdMiddleware does. gunicorn's access log sees the hit as usual.
"""

import re
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from django.conf import settings

from core.middleware import request_id_for

ANY_JSON = frozenset(["", "*/*", "application/json"])
NO_BODY = frozenset(["", "0"])
# What makes two requests for a product page the same request.
KEY_PARTS = (
    "wsgi.url_scheme",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
)
PER_REQUEST_HEADERS = frozenset(["x-request-id", "date", "server"])
# Pages a worker remembers at most (a page of 50 products is about 8 KB).
MEMO_MAX_PAGES = 512

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class VersionedStore(Protocol):
    """What the page cache needs of a store (inventory.cache is one)."""

    def enabled(self) -> bool: ...

    def cached_entry(self, name: str, path: str) -> tuple[str | None, object | None]: ...

    def store_entry(self, name: str, version: str, value: object) -> None: ...


def same_for_everyone(environ: dict, paths: re.Pattern) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and "HTTP_AUTHORIZATION" not in environ
        and environ.get("CONTENT_LENGTH", "") in NO_BODY
        and "HTTP_TRANSFER_ENCODING" not in environ
        and environ.get("HTTP_ACCEPT", "") in ANY_JSON
        and paths.match(environ.get("PATH_INFO", "")) is not None
    )


def _page_name(environ: dict) -> str:
    return "page:" + "\x1f".join(str(environ.get(part, "")) for part in KEY_PARTS)


def _storable(status: str, headers: list[tuple[str, str]]) -> bool:
    if not status.startswith("200 "):
        return False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "set-cookie" or (lowered == "vary" and "cookie" in value.lower()):
            return False
    return True


class PageCache:
    """WSGI middleware around the Django application (shop/wsgi.py)."""

    def __init__(self, app: WSGIApp, *, paths: re.Pattern, store: VersionedStore):
        self.app = app
        self.paths = paths
        self.store = store
        # page name -> (monotonic deadline, (body, headers)); this worker's, shared by its threads
        self.memo: dict[str, tuple[float, tuple[bytes, list]]] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not (same_for_everyone(environ, self.paths) and self.store.enabled()):
            return self.app(environ, start_response)
        name = _page_name(environ)
        now = time.monotonic()
        remembered = self.memo.get(name)
        if remembered is not None and remembered[0] > now:
            return self._replay(remembered[1], environ, start_response)
        version, entry = self.store.cached_entry(name, environ.get("PATH_INFO", ""))
        if entry is not None:
            self._remember(name, entry, now)
            return self._replay(entry, environ, start_response)
        if version is None:
            return self.app(environ, start_response)
        return self._through(environ, start_response, name, version)

    @staticmethod
    def _replay(entry, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body, headers = entry
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response("200 OK", [*headers, ("X-Request-ID", request_id)])
        return [body]

    def _remember(self, name: str, entry, now: float) -> None:
        memo_ms = settings.PRODUCT_PAGE_MEMO_MS
        if memo_ms <= 0:
            return
        if len(self.memo) >= MEMO_MAX_PAGES:
            self.memo = {k: v for k, v in self.memo.items() if v[0] > now}
            if len(self.memo) >= MEMO_MAX_PAGES:
                self.memo.clear()
        self.memo[name] = (now + memo_ms / 1000, entry)

    def _through(self, environ, start_response, name: str, version: str) -> Iterable[bytes]:
        seen: dict = {}

        def remember(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, remember)
        if not _storable(seen.get("status", ""), seen.get("headers", [])):
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished: connections are tidied as usual
        headers = [(k, v) for k, v in seen["headers"] if k.lower() not in PER_REQUEST_HEADERS]
        self.store.store_entry(name, version, (body, headers))
        return [body]
