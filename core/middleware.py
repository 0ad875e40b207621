"""Request id, body size limit and database-outage middleware."""

import contextvars
import io
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from core.errors import payload_too_large_response, unavailable_response

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A client's id is echoed only when it is short and printable, so it cannot forge log lines.
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_for(client_id: str) -> str:
    """The client's X-Request-ID when it is well formed, else a new one."""
    return client_id if CLIENT_REQUEST_ID.match(client_id) else uuid.uuid4().hex


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get("X-Request-ID", ""))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit from their declared length, before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BODY_BYTES:
            return payload_too_large_response()
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Django reads a body only up to its declared length, so a chunked body would be
            # seen as empty: read it here, one byte past the limit at most, and declare it.
            body = request.META["wsgi.input"].read(settings.MAX_REQUEST_BODY_BYTES + 1)
            if len(body) > settings.MAX_REQUEST_BODY_BYTES:
                return payload_too_large_response()
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Outside DRF views (admin, say) a database outage still answers 503, not 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return unavailable_response(exception)
        return None
