"""POST /orders/{id}/pay and /cancel through the fast path (orders.fast_actions) answer what the
DRF views answer, byte for byte and header for header; anything unusual goes to the views."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from orders import apis
from orders.models import Order, OrderStatus
from tests.conftest import client_for
from tests.orders.helpers import move_expiry_into_past, place, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]

FAST = {"pay": "fast_pay", "cancel": "fast_cancel"}


@pytest.fixture
def frozen_now(monkeypatch):
    """One clock for both answers, so a paid_at or cancelled_at is the same in each."""
    now = timezone.now().replace(microsecond=123456)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def answer(client, order_id, action, *, body=None, content_type=None, query="", **headers):
    path = f"/orders/{order_id}/{action}{query}"
    headers.setdefault("HTTP_X_REQUEST_ID", "fast-actions-test")
    if body is None:
        response = client.post(path, **headers)
    else:
        response = client.post(path, body, content_type=content_type, **headers)
    return response.status_code, response.content, dict(response.items())


def both(monkeypatch, client, order_id, action, *, rollback=False, **kwargs):
    """(the DRF view's answer, the fast path's answer, whether the fast path answered it). With
    `rollback`, the view's request is undone first, so both act on the same pending order."""
    name = FAST[action]
    real = getattr(apis, name)
    calls = []

    def counting(request, allow, **kw):
        found = real(request, allow, **kw)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(apis, name, lambda request, allow, **kw: None)
    with transaction.atomic():
        drf = answer(client, order_id, action, **kwargs)
        transaction.set_rollback(rollback)
    monkeypatch.setattr(apis, name, counting)
    fast = answer(client, order_id, action, **kwargs)
    assert len(calls) == 1
    return drf, fast, calls[0]


def placed(client, product, quantity=2) -> int:
    response = place(client, {"product_id": product.pk, "quantity": quantity})
    assert response.status_code == 201
    return response.json()["id"]


# --- the common request: answered by the fast path, the same as the view ---------------------


@pytest.mark.parametrize("action", ["pay", "cancel"])
@pytest.mark.parametrize(
    "request_form",
    [
        {},
        {"HTTP_ACCEPT": "*/*"},
        {"HTTP_ACCEPT": "application/json"},
        {"body": "{}", "content_type": "application/json"},
        {"body": " { } ", "content_type": "application/json"},
        {"body": "", "content_type": "text/plain"},
        {"query": "/"},
        {"query": "?unknown=1"},
    ],
)
def test_a_valid_pay_or_cancel_is_answered_by_the_fast_path_as_the_view_answers_it(
    action, request_form, customer_client, make_product, monkeypatch, frozen_now
):
    product = make_product(stock=10, price="3.30")
    order_id = placed(customer_client, product)
    drf, fast, answered = both(
        monkeypatch, customer_client, order_id, action, rollback=True, **request_form
    )
    assert answered
    assert drf[0] == 200
    assert fast == drf
    order = Order.objects.get(pk=order_id)
    assert order.status == (OrderStatus.PAID if action == "pay" else OrderStatus.CANCELLED)
    assert stock_of(product) == (8 if action == "pay" else 10)


def test_the_fast_answers_headers_are_the_views(customer_client, make_product, monkeypatch):
    order_id = placed(customer_client, make_product())
    drf, fast, answered = both(monkeypatch, customer_client, order_id, "pay", rollback=True)
    assert answered
    assert fast[2] == drf[2]
    assert fast[2]["Content-Type"] == "application/json"
    assert fast[2]["Allow"] == "POST, OPTIONS"
    assert fast[2]["X-Request-ID"] == "fast-actions-test"


def test_staff_cancel_any_order_through_the_fast_path(
    customer_client, staff_client, make_product, monkeypatch, frozen_now
):
    product = make_product(stock=10)
    order_id = placed(customer_client, product)
    drf, fast, answered = both(monkeypatch, staff_client, order_id, "cancel", rollback=True)
    assert answered and drf[0] == 200
    assert fast == drf
    assert stock_of(product) == 10


# --- domain errors: answered by the fast path through the view's own handler -----------------


def _state(case, customer_client, staff_client, product) -> tuple[int, APIClient]:
    """An order in the state the case names, and the client that asks."""
    if case == "not_found":
        return 10**12, customer_client
    order_id = placed(customer_client, product)
    if case in ("paid", "not_yours_staff"):
        if case == "paid":
            customer_client.post(f"/orders/{order_id}/pay")
        return order_id, staff_client if case == "not_yours_staff" else customer_client
    if case == "cancelled":
        customer_client.post(f"/orders/{order_id}/cancel")
    if case in ("past_hold", "expired"):
        move_expiry_into_past(order_id)
    if case == "expired":
        call_command("expire_orders", stdout=StringIO())
    return order_id, customer_client


@pytest.mark.parametrize(
    ("action", "case", "code"),
    [
        ("pay", "paid", 409),
        ("pay", "cancelled", 409),
        ("pay", "past_hold", 409),
        ("pay", "expired", 409),
        ("pay", "not_yours_staff", 403),
        ("pay", "not_found", 404),
        ("cancel", "paid", 409),
        ("cancel", "cancelled", 409),
        ("cancel", "expired", 409),
        ("cancel", "not_found", 404),
    ],
)
def test_domain_errors_of_the_fast_path_equal_the_views(
    action, case, code, customer_client, staff_client, make_product, monkeypatch
):
    product = make_product(stock=10)
    order_id, client = _state(case, customer_client, staff_client, product)
    before = stock_of(product)
    drf, fast, answered = both(monkeypatch, client, order_id, action)
    assert answered
    assert drf[0] == code
    assert fast == drf
    assert stock_of(product) == before


@pytest.mark.parametrize("action", ["pay", "cancel"])
def test_another_customers_order_is_404_through_the_fast_path(
    action, customer_client, other_client, make_product, monkeypatch
):
    product = make_product(stock=10)
    order_id = placed(customer_client, product)
    drf, fast, answered = both(monkeypatch, other_client, order_id, action)
    assert answered
    assert drf[0] == 404
    assert fast == drf
    assert Order.objects.get(pk=order_id).status == OrderStatus.PENDING
    assert stock_of(product) == 8


# --- the token: whatever the view would question, the view answers --------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Token nope", "Token", "Token a b", "token x", "Bearer x", "Token " + "a" * 41],
)
@pytest.mark.parametrize("action", ["pay", "cancel"])
def test_a_missing_or_bad_token_goes_to_the_view(
    action, authorization, customer_client, make_product, monkeypatch
):
    order_id = placed(customer_client, make_product())
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    drf, fast, answered = both(monkeypatch, APIClient(), order_id, action, **headers)
    assert not answered
    assert drf[0] == 401
    assert fast == drf


@pytest.mark.parametrize("action", ["pay", "cancel"])
@pytest.mark.parametrize("change", ["inactive", "revoked"])
def test_an_inactive_user_or_a_revoked_token_goes_to_the_view(
    action, change, customer, make_product, monkeypatch
):
    client = client_for(customer)
    order_id = placed(client, make_product())
    # the token is in the cache now: the fast path must see the change all the same
    assert answer(client, 10**12, action)[0] == 404
    if change == "inactive":
        customer.is_active = False
        customer.save()
    else:
        customer.auth_token.delete()
    drf, fast, answered = both(monkeypatch, client, order_id, action)
    assert not answered
    assert drf[0] == 401
    assert fast == drf
    assert Order.objects.get(pk=order_id).status == OrderStatus.PENDING


# --- the request itself: a body, an unusual Accept or ?format= go to the view -----------------


@pytest.mark.parametrize("action", ["pay", "cancel"])
@pytest.mark.parametrize(
    "request_form",
    [
        {"HTTP_ACCEPT": ""},
        {"HTTP_ACCEPT": "text/html"},
        {"HTTP_ACCEPT": "application/json; indent=4"},
        {"query": "?format=xml"},
        {"query": "?format=json"},
        {"body": "nope", "content_type": "application/json"},
        {"body": "{}", "content_type": "text/plain"},
        {"body": "{}", "content_type": "application/json; charset=utf-8"},
        {"body": "[]", "content_type": "application/json"},
        {"body": '{"amount": 1}', "content_type": "application/json"},
        {"body": "[" * 40 + "]" * 40, "content_type": "application/json"},
    ],
)
def test_everything_else_goes_to_the_view(
    action, request_form, customer_client, make_product, monkeypatch, frozen_now
):
    order_id = placed(customer_client, make_product())
    drf, fast, answered = both(
        monkeypatch, customer_client, order_id, action, rollback=True, **request_form
    )
    assert not answered
    assert fast == drf


def test_the_pay_fast_path_keeps_its_query_count(customer_client, make_product):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order_id = placed(customer_client, make_product())
    customer_client.post("/orders/999999/pay")  # the token is cached now
    with CaptureQueriesContext(connection) as fast:
        assert customer_client.post(f"/orders/{order_id}/pay").status_code == 200
    Order.objects.filter(pk=order_id).update(
        status=OrderStatus.PENDING, paid_at=None, expires_at=timezone.now() + timedelta(minutes=5)
    )
    real = apis.fast_pay
    try:
        apis.fast_pay = lambda request, allow, **kw: None
        with CaptureQueriesContext(connection) as drf:
            assert customer_client.post(f"/orders/{order_id}/pay").status_code == 200
    finally:
        apis.fast_pay = real
    assert len(fast) == len(drf)
