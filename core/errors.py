"""One error shape for every error: {"error": {"code", "message", "details"}}.

DRF's exception handler, Django's 400/403/404/500 handlers and the middleware all answer through
`error_response`, so a client can switch on `code` whatever raised the error.
"""

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf

from core.exceptions import ShopError

logger = logging.getLogger("core.errors")

RETRY_AFTER_SECONDS = "2"

# DRF's exception classes, most specific first, with the contract's code for each.
DRF_CODES: list[tuple[type[Exception], str]] = [
    (drf.ValidationError, "invalid"),
    (drf.ParseError, "parse_error"),
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "authentication_failed"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "throttled"),
]


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unavailable_response(exc: Exception) -> JsonResponse:
    logger.warning(
        "database unavailable: %s", str(exc).strip().splitlines()[0] if str(exc) else exc
    )
    return error_response(
        503,
        "unavailable",
        "The database is unavailable or busy; retry shortly.",
        {"reason": type(exc).__name__},
        {"Retry-After": RETRY_AFTER_SECONDS},
    )


def _first_message(detail: Any) -> str | None:
    if isinstance(detail, str):
        return str(detail)
    if isinstance(detail, list):
        for item in detail:
            found = _first_message(item)
            if found:
                return found
    if isinstance(detail, dict):
        for key, value in detail.items():
            found = _first_message(value)
            if found:
                return found if key == "non_field_errors" else f"{key}: {found}"
    return None


def _validation_details(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return detail
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> JsonResponse:
    """DRF's EXCEPTION_HANDLER: every exception raised in a view becomes the error shape."""
    if isinstance(exc, ShopError):
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if exc.status_code == 503 else None
        return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return payload_too_large_response()
    elif isinstance(exc, SuspiciousOperation):
        return error_response(400, "invalid", str(exc) or "The request was refused.")
    elif isinstance(exc, (OperationalError, InterfaceError)):
        return unavailable_response(exc)

    if isinstance(exc, drf.APIException):
        code = next((c for cls, c in DRF_CODES if isinstance(exc, cls)), "error")
        headers: dict[str, str] = {}
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait)))
        if isinstance(exc, drf.ValidationError):
            details = _validation_details(exc.detail)
            message = _first_message(exc.detail) or "The request is invalid."
        else:
            details = {}
            message = str(exc.detail)
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Token realm="api"'
        return error_response(exc.status_code, code, message, details, headers)

    # Anything else, integrity errors a service did not turn into a domain error included, is ours.
    return server_error_response(context.get("request"), exc)


def payload_too_large_response() -> JsonResponse:
    return error_response(413, "payload_too_large", "The request body is larger than 1 MiB.")


def server_error_response(request: HttpRequest | None, exc: BaseException | None) -> JsonResponse:
    logger.error("server error", exc_info=exc if exc is not None else True)
    return error_response(
        500, "server_error", "An internal error occurred; it has been logged with the request id."
    )


# Django's own handlers (unknown URLs, errors outside DRF views).


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return payload_too_large_response()
    return error_response(400, "invalid", "The request was refused.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(403, "permission_denied", "You do not have permission to do this.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404, "not_found", "Not found.", {"path": request.path})


def handler500(request: HttpRequest) -> JsonResponse:
    return error_response(
        500, "server_error", "An internal error occurred; it has been logged with the request id."
    )
