"""POST /orders/{id}/pay and /cancel with a valid token and no body, answered without DRF's
per-request machinery; orders.apis.OrderPayApi and OrderCancelApi put it in front of their DRF
views. The same selector finds the order and the same services change it, so every rule stays in
one place; tests/orders/test_fast_actions.py holds the answers equal to the views'."""

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

from core.fast_path import fast_answer, fast_no_body
from orders import selectors, services
from orders.models import Order
from orders.output import orders_data


def _fast_action(
    request: HttpRequest, allow: str, order_id: int, act: Callable[[Order, AbstractBaseUser], Order]
) -> HttpResponse | None:
    """The view's answer to `act` on the order, or None, before any work, for a request the DRF
    view should answer (a body other than `{}`, an unusual Accept, a token it would refuse)."""
    if not fast_no_body(request, empty_object=True):
        return None
    return fast_answer(
        request,
        allow,
        lambda user: orders_data([act(selectors.order_get(user=user, order_id=order_id), user)])[0],
    )


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
