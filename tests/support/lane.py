"""Requests through core.fast_lane and through Django alone, for tests that hold the two equal
(tests/orders/test_fast_lane.py, tests/inventory/test_fast_reads.py)."""

import orjson
from django.test import RequestFactory
from django.urls import get_resolver

from core.fast_lane import FastLane, routes_of
from shop.wsgi import django_application

REQUEST_ID = "fast-lane-test"


class Spy:
    """Django behind the lane, counting what reaches it."""

    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return django_application(environ, start_response)


def spied_lane() -> FastLane:
    """The lane of shop/wsgi.py in front of Django alone; `.spy.calls` counts what passed it."""
    spy = Spy()
    app = FastLane(spy, lambda: routes_of(get_resolver().url_patterns))
    app.spy = spy
    return app


def call(app, path, body=None, *, method="POST", raw: bytes | None = None, token=None, **extra):
    """A request through a WSGI app: (status line, headers, body)."""
    extra.setdefault("HTTP_X_REQUEST_ID", REQUEST_ID)
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Token {token}"
    data = raw if raw is not None else (b"" if body is None else orjson.dumps(body))
    factory = RequestFactory()
    if method == "GET":
        environ = factory.get(path, **extra).environ
    elif data:
        environ = factory.post(path, data, content_type="application/json", **extra).environ
    else:
        environ = factory.post(path, **extra).environ
        environ.pop("CONTENT_TYPE", None)
        environ["CONTENT_LENGTH"] = ""
    return run_wsgi(app, environ)


def run_wsgi(app, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of one WSGI call, its result closed as a server closes it."""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return seen["status"], seen["headers"], content


def both(lane, path, body=None, **kwargs):
    """(Django's answer, the lane's answer, whether the lane answered it itself)."""
    django_answer = call(django_application, path, body, **kwargs)
    before = lane.spy.calls
    lane_answer = call(lane, path, body, **kwargs)
    return django_answer, lane_answer, lane.spy.calls == before
