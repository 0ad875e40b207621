"""The common order, a single-line POST /orders/, answered without DRF's per-request machinery;
orders.apis.OrderListApi puts it in front of the DRF view (and core.fast_lane before Django). The
helpers it shares with pay, cancel and the product reads are in core/fast_path.py."""

import orjson
from django.http import HttpRequest, HttpResponse
from rest_framework import status
from rest_framework.exceptions import ValidationError

from core.fast_path import fast_error, fast_negotiable, fast_response, fast_user
from orders import services
from orders.exceptions import UnknownProducts
from orders.inputs import (
    MAX_LINE_QUANTITY,
    MAX_PRODUCT_ID,
    idempotency_key_valid,
    unknown_product_details,
)
from orders.output import orders_data

FAST_LINE_KEYS = frozenset(["product_id", "quantity"])


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
