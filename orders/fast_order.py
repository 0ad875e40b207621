"""The common order, POST /orders/ with a valid body of either form (one line, or `items`),
answered without DRF's per-request machinery;
orders.apis.OrderListApi puts it in front of the DRF view (and core.fast_lane before Django). The
helpers it shares with pay, cancel and the product reads are in core/fast_path.py."""

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from rest_framework import status
from rest_framework.exceptions import ValidationError

from core.fast_path import fast_error, fast_negotiable, fast_response, fast_user
from orders import services
from orders.exceptions import UnknownProducts
from orders.inputs import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    MAX_PRODUCT_ID,
    idempotency_key_valid,
    unknown_product_details,
)
from orders.output import orders_data

FAST_LINE_KEYS = frozenset(["product_id", "quantity"])
FAST_ITEMS_KEYS = frozenset(["items"])


def _fast_line(line: Any) -> tuple[int, int] | None:
    """(product_id, quantity) of a line the view's serializer accepts as it is, else None."""
    if type(line) is not dict or line.keys() != FAST_LINE_KEYS:
        return None
    product_id, quantity = line["product_id"], line["quantity"]
    if type(product_id) is not int or type(quantity) is not int:
        return None
    if not (1 <= product_id <= MAX_PRODUCT_ID and 1 <= quantity <= MAX_LINE_QUANTITY):
        return None
    return product_id, quantity


def _fast_lines(body: Any) -> list[tuple[int, int]] | None:
    """The lines of either form of a body the view accepts as it is: one line, or `items` with
    1 to MAX_LINES lines. None for anything the view's serializer would question."""
    if type(body) is not dict:
        return None
    if body.keys() != FAST_ITEMS_KEYS:
        line = _fast_line(body)
        return None if line is None else [line]
    items = body["items"]
    if type(items) is not list or not 1 <= len(items) <= MAX_LINES:
        return None
    lines = [_fast_line(item) for item in items]
    return None if None in lines else lines


def _fast_key(request: HttpRequest) -> tuple[bool, str | None]:
    """(usable, the Idempotency-Key): a header the DRF view would refuse is not usable."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return True, None
    return idempotency_key_valid(key), key


def fast_order(request: HttpRequest, allow: str) -> HttpResponse | None:
    """POST /orders/ with a valid body and a valid token, answered as the DRF view answers it
    (tests/orders/test_fast_order.py holds the two equal), without DRF's request wrapper,
    negotiation, parser, serializer and renderer: a fifth of an order's CPU, profiled.

    None, before any work is done, for anything else (any header, body or token the view would
    question): the DRF view answers that, every error shape included.
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
    lines = _fast_lines(body)
    if lines is None:
        return None
    user = fast_user(request)
    if user is None:
        return None
    try:
        placed = services.order_place(
            customer=user,
            lines=lines,
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
