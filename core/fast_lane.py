"""Common API requests answered in front of Django's request handler, at the WSGI level.

A view with a fast path (orders.apis.FastPostApi) puts a plain function in front of its DRF view
that answers the common valid request, or gives None and leaves it to the view. Profiled, what
still stood around that function for an order was Django's handler: the request's way through
the URL resolver and a chain of eleven middleware and the response's way back, 640 of an order's
3,574 Python calls. Here the same function is called before Django, for the URLconf's views that
have one (shop/wsgi.py), and its answer gets what the handler and the middleware would have
given it:

- the request checks first: the host against ALLOWED_HOSTS and the rest of CommonMiddleware's and
  SecurityMiddleware's process_request (a redirect or a refusal goes to Django, which answers it),
  a declared body within MAX_REQUEST_BODY_BYTES (anything else, chunked bodies too, goes to Django);
- request_started and, when the server closes the response, request_finished (the database
  connections are checked and recycled as after any request);
- the request id (X-Request-ID, and the log lines' id) as core.middleware.RequestIdMiddleware;
- a database outage as a 503 (core.middleware.DatabaseUnavailableMiddleware), any other
  exception as Django's handler answers it (core.errors.handler500, logged);
- the response headers of SecurityMiddleware, CommonMiddleware and XFrameOptionsMiddleware, by
  their own process_response, in the order the chain runs them, and django.request's log line for
  a 4xx or 5xx.

The other middleware of the shop's chain do nothing to these requests (no session, no CSRF cookie
on csrf-exempt API views, no messages, no static files). A MIDDLEWARE setting with anything this
module does not know turns the lane off: every request then goes through Django as before.
tests/orders/test_fast_lane.py holds the lane's answers equal to Django's, headers included.
"""

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signals
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response
from django.utils.module_loading import import_string

from core.errors import unavailable_response
from core.middleware import request_id_for, request_id_var

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
FastHandler = Callable[..., HttpResponse | None]

# The shop's middleware, and what the lane does in each one's place.
CHECKS_REQUEST = "request"  # its process_request runs first; any answer of its own goes to Django
CHANGES_RESPONSE = "response"  # its process_response runs on the lane's answer
BOTH = "both"
IN_THE_LANE = "lane"  # done by the lane itself (request id, body size, database outage)
PASSIVE = "passive"  # does nothing to these requests
KNOWN_MIDDLEWARE = {
    "core.middleware.RequestIdMiddleware": IN_THE_LANE,
    "core.middleware.BodySizeLimitMiddleware": IN_THE_LANE,
    "django.middleware.security.SecurityMiddleware": BOTH,
    "whitenoise.middleware.WhiteNoiseMiddleware": PASSIVE,
    "django.contrib.sessions.middleware.SessionMiddleware": PASSIVE,
    "django.middleware.common.CommonMiddleware": BOTH,
    "django.middleware.csrf.CsrfViewMiddleware": PASSIVE,
    "django.contrib.auth.middleware.AuthenticationMiddleware": PASSIVE,
    "django.contrib.messages.middleware.MessageMiddleware": PASSIVE,
    "django.middleware.clickjacking.XFrameOptionsMiddleware": CHANGES_RESPONSE,
    "core.middleware.DatabaseUnavailableMiddleware": IN_THE_LANE,
}


@dataclass(frozen=True)
class FastRoute:
    """`method` to a path `pattern` matches (a URL pattern's own, with its converters) answered
    by `handler(request, allow, **kwargs)`; `allow` is the view's Allow header."""

    pattern: object
    method: str
    handler: FastHandler
    allow: str


# A view's fast path for each method the lane serves.
FAST_HANDLERS = (("POST", "fast_post"), ("GET", "fast_get"))


def routes_of(url_patterns: Iterable) -> list[FastRoute]:
    """The routes of the URLconf's class-based views that have a fast path: a `fast_post` or
    `fast_get` handler, and an `allow_header()` (core.views.ShopAPIView). Top-level patterns."""
    routes = []
    for url in url_patterns:
        view_class = getattr(getattr(url, "callback", None), "view_class", None)
        for method, name in FAST_HANDLERS:
            handler = getattr(view_class, name, None)
            if handler is not None:
                routes.append(FastRoute(url.pattern, method, handler, view_class.allow_header()))
    return routes


class FastLane:
    """WSGI middleware around the Django application (shop/wsgi.py)."""

    def __init__(self, app: WSGIApp, routes: Callable[[], Iterable[FastRoute]]):
        self.app = app
        # Found at the first request the lane takes, not at import: the URLconf loads every view
        # module, which a worker does in its warm-up (shop/warmup.py) or its first request.
        self._find_routes = routes
        self._routes: dict[str, list[FastRoute]] | None = None
        names = list(settings.MIDDLEWARE)
        self.enabled = all(name in KNOWN_MIDDLEWARE for name in names)
        if not self.enabled:
            return
        instances = {
            name: import_string(name)(self._never_called)
            for name in names
            if KNOWN_MIDDLEWARE[name] in (CHECKS_REQUEST, CHANGES_RESPONSE, BOTH)
        }
        self.request_checks = [
            instances[name].process_request
            for name in names
            if KNOWN_MIDDLEWARE[name] in (CHECKS_REQUEST, BOTH)
        ]
        self.response_changes = [
            instances[name].process_response
            for name in reversed(names)
            if KNOWN_MIDDLEWARE[name] in (CHANGES_RESPONSE, BOTH)
        ]

    @property
    def routes(self) -> dict[str, list[FastRoute]]:
        """The routes of each method, in the URLconf's order."""
        if self._routes is None:
            by_method: dict[str, list[FastRoute]] = {}
            for route in self._find_routes():
                by_method.setdefault(route.method, []).append(route)
            self._routes = by_method
        return self._routes

    @staticmethod
    def _never_called(request: HttpRequest) -> HttpResponse:
        raise AssertionError("the lane calls its middleware's hooks, never the chain")

    def _route(self, environ: dict) -> tuple[FastRoute, dict] | None:
        method = environ.get("REQUEST_METHOD")
        if method not in ("POST", "GET") or not self.enabled:
            return None
        if environ.get("SCRIPT_NAME") or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.MAX_REQUEST_BODY_BYTES:
            return None
        # A GET without credentials is the page cache's, behind the lane; one with a body, DRF's.
        if method == "GET" and ("HTTP_AUTHORIZATION" not in environ or length != "0"):
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/"):
            return None
        for route in self.routes.get(method, ()):
            # What the resolver does for a top-level pattern: (rest, args, converted kwargs).
            match = route.pattern.match(path[1:])
            if match is not None and not match[0]:
                return route, match[2]
        return None

    def _request_refused(self, request: HttpRequest) -> bool:
        """True when a request check would answer or raise: Django answers that request."""
        try:
            return any(check(request) is not None for check in self.request_checks)
        except Exception:  # noqa: BLE001 - DisallowedHost, PermissionDenied: Django's to answer
            return True

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        found = self._route(environ)
        if found is None:
            return self.app(environ, start_response)
        route, kwargs = found
        request = WSGIRequest(environ)
        if self._request_refused(request):
            return self.app(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            try:
                body = request.body
            except Exception as exc:  # noqa: BLE001 - a body cut short: Django's answer to it
                failed = response_for_exception(request, exc)
                return self._respond(request, failed, request_id, start_response)
            response = self._answer(route, request, kwargs)
            if response is None:
                # The view answers this one: Django reads the body the lane has read.
                environ["wsgi.input"] = io.BytesIO(body)
                return self.app(environ, start_response)
            return self._respond(request, response, request_id, start_response)
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _answer(route: FastRoute, request: HttpRequest, kwargs: dict) -> HttpResponse | None:
        try:
            return route.handler(request, route.allow, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            return unavailable_response(exc)
        except Exception as exc:  # noqa: BLE001 - answered as Django's handler answers it
            return response_for_exception(request, exc)

    def _respond(
        self, request: HttpRequest, response: HttpResponse, request_id: str, start_response
    ) -> Iterable[bytes]:
        for change in self.response_changes:
            response = change(request, response)
        response["X-Request-ID"] = request_id
        response._resource_closers.append(request.close)
        # The response's close() sends request_finished with this sender, as Django's handler's.
        response._handler_class = self.__class__
        if response.status_code >= 400:
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        start_response(
            f"{response.status_code} {response.reason_phrase}",
            [
                *response.items(),
                *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
            ],
        )
        return response
