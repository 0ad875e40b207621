"""POST /orders/{id}/pay and /cancel with a valid token and no body, answered without DRF's
per-request machinery; orders.apis.OrderPayApi and OrderCancelApi put it in front of their DRF
views. The same selector finds the order and the same services change it, so every rule stays in
one place; tests/orders/test_fast_actions.py holds the answers equal to the views'."""

from collections.abc import Callable

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from rest_framework import status

from core.fast_path import fast_error, fast_negotiable, fast_response, fast_user
from orders import selectors, services
from orders.models import Order
from orders.output import orders_data


def _no_body(request: HttpRequest) -> bool:
    """No body, or `{}` as JSON: what the DRF view parses and ignores without a question. Any
    other body, even one it would accept, goes to the view."""
    meta = request.META
    if "HTTP_TRANSFER_ENCODING" in meta or "HTTP_CONTENT_LENGTH" in meta:
        return False
    if meta.get("CONTENT_LENGTH") in (None, "", "0"):
        return True
    if meta.get("CONTENT_TYPE") != "application/json":
        return False
    try:
        return orjson.loads(request.body) == {}
    except orjson.JSONDecodeError:
        return False


def _fast_action(
    request: HttpRequest, allow: str, order_id: int, act: Callable[[Order, AbstractBaseUser], Order]
) -> HttpResponse | None:
    """The view's answer to `act` on the order, or None, before any work, for a request the DRF
    view should answer (a body, an unusual Accept, a token it would refuse)."""
    if not (_no_body(request) and fast_negotiable(request)):
        return None
    user = fast_user(request)
    if user is None:
        return None
    try:
        order = act(selectors.order_get(user=user, order_id=order_id), user)
    except Exception as exc:  # noqa: BLE001 - the view's handler gives each its shape
        return fast_error(exc, request, allow)
    return fast_response(orders_data([order])[0], status.HTTP_200_OK, allow)


def fast_pay(request: HttpRequest, allow: str, order_id: int) -> HttpResponse | None:
    """OrderPayApi.post without DRF: order_get, then order_pay (only its customer pays)."""
    return _fast_action(
        request, allow, order_id, lambda order, user: services.order_pay(order=order, payer=user)
    )


def fast_cancel(request: HttpRequest, allow: str, order_id: int) -> HttpResponse | None:
    """OrderCancelApi.post without DRF: order_get (own order, or staff), then order_cancel."""
    return _fast_action(
        request, allow, order_id, lambda order, user: services.order_cancel(order=order)
    )
