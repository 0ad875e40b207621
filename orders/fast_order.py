"""The common order, a single-line POST /orders/, answered without DRF's per-request machinery;
orders.apis.OrderListApi puts it in front of the DRF view. The helpers here (negotiation, token,
response) serve the pay and cancel fast path too (orders/fast_actions.py)."""

import re
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.settings import api_settings

from accounts.authentication import StrictTokenAuthentication
from core.errors import exception_handler
from core.json import FastJSONRenderer
from orders import services
from orders.exceptions import UnknownProducts
from orders.inputs import (
    MAX_LINE_QUANTITY,
    MAX_PRODUCT_ID,
    idempotency_key_valid,
    unknown_product_details,
)
from orders.output import orders_data

# Accept headers DRF's negotiation answers with the one renderer; an empty header is a 406 there.
FAST_ACCEPT = frozenset(["*/*", "application/json"])
FAST_AUTHORIZATION = re.compile(r"Token ([!-~]{1,40})")
FAST_LINE_KEYS = frozenset(["product_id", "quantity"])
RENDERER = FastJSONRenderer()


def fast_negotiable(request: HttpRequest) -> bool:
    """The Accept header and query are ones DRF answers with its one renderer (no 406, and no
    `?format=`, which DRF may answer 404)."""
    meta = request.META
    accept = meta.get("HTTP_ACCEPT")
    if accept is not None and accept not in FAST_ACCEPT:
        return False
    return not meta.get("QUERY_STRING") or api_settings.URL_FORMAT_OVERRIDE not in request.GET


def fast_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The user of a well-formed, valid `Token` header, found as DRF's token authentication finds
    it (the token cache and its revocation included), and set on the request as DRF sets it.
    None for anything else: the DRF view judges that header (401s, inactive users)."""
    authorization = FAST_AUTHORIZATION.fullmatch(request.META.get("HTTP_AUTHORIZATION", ""))
    if authorization is None:
        return None
    try:
        user, _token = StrictTokenAuthentication().authenticate_credentials(authorization[1])
    except AuthenticationFailed:
        return None
    request.user = user
    return user


def fast_response(data: Any, code: int, allow: str) -> HttpResponse:
    """What the DRF view's Response renders: the renderer's bytes, its media type, its Allow."""
    response = HttpResponse(RENDERER.render(data), status=code, content_type="application/json")
    response["Allow"] = allow
    return response


def fast_error(exc: Exception, request: HttpRequest, allow: str) -> HttpResponse:
    """What the DRF view answers for an exception its handler is given."""
    response = exception_handler(exc, {"request": request})
    response["Allow"] = allow
    return response


def _fast_key(request: HttpRequest) -> tuple[bool, str | None]:
    """(usable, the Idempotency-Key): a header the DRF view would refuse is not usable."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return True, None
    return idempotency_key_valid(key), key


def fast_order(request: HttpRequest, allow: str) -> HttpResponse | None:
    """POST /orders/ with one valid line and a valid token, answered as the DRF view answers it
    (tests/orders/test_fast_order.py holds the two equal), without DRF's request wrapper,
    negotiation, parser, serializer and renderer: a fifth of an order's CPU, profiled.

    None, before any work is done, for anything else (the several-lines form, any header, body
    or token the view would question): the DRF view answers that, every error shape included.
    Errors of the order itself (short stock, unknown product, a reused key, the database down)
    go through the view's own exception handler."""
    meta = request.META
    if meta.get("CONTENT_TYPE") != "application/json" or not meta.get("CONTENT_LENGTH"):
        return None
    usable, key = _fast_key(request)
    if not usable or not fast_negotiable(request):
        return None
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict or body.keys() != FAST_LINE_KEYS:
        return None
    product_id, quantity = body["product_id"], body["quantity"]
    if type(product_id) is not int or type(quantity) is not int:
        return None
    if not (1 <= product_id <= MAX_PRODUCT_ID and 1 <= quantity <= MAX_LINE_QUANTITY):
        return None
    user = fast_user(request)
    if user is None:
        return None
    try:
        placed = services.order_place(
            customer=user,
            lines=[(product_id, quantity)],
            idempotency_key=key,
            digest=services.request_digest(body) if key else "",
        )
    except UnknownProducts as exc:
        failed = ValidationError(unknown_product_details(body, exc.product_ids))
        return fast_error(failed, request, allow)
    except Exception as exc:  # noqa: BLE001 - the view's handler gives each its shape
        return fast_error(exc, request, allow)
    data = orders_data([placed.order], lines={placed.order.pk: placed.lines})[0]
    response = fast_response(data, status.HTTP_201_CREATED, allow)
    if placed.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
