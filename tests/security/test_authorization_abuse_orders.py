"""Abuse of authorization on orders: a customer walks the whole id space of orders through every
order route (with and without the trailing slash, under every status filter and page), reuses
another customer's Idempotency-Key, smuggles fields into an order.

tests/security/test_permissions.py holds the role matrix and tests/accounts/test_auth_api.py the
basic token and throttle behaviour; this module attacks.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Product
from orders import services as order_services
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit

pytestmark = pytest.mark.usefixtures("_fast_password_hashing")


ORDER_ROUTES = [
    ("get", "/orders/{}"),
    ("post", "/orders/{}/pay"),
    ("post", "/orders/{}/cancel"),
]


def not_found_body(response) -> dict:
    assert response.status_code == 404, response.content
    return response.json()


@pytest.fixture
def victims_orders(customer, make_product):
    """Alice's orders in every status; Bob has one of his own."""
    product = make_product(stock=100)
    ids = {}
    for status in OrderStatus.values:
        order = order_services.order_place(customer=customer, lines=[(product.pk, 2)]).order
        ids[status] = order.pk
    order_services.order_pay(order=Order.objects.get(pk=ids["paid"]), payer=customer)
    order_services.order_cancel(order=Order.objects.get(pk=ids["cancelled"]))
    Order.objects.filter(pk=ids["expired"]).update(expires_at=timezone.now() - timedelta(1))
    order_services.orders_expire_due()
    return ids, product


@pytest.mark.django_db
def test_abuse_walking_every_order_id_through_every_route_finds_only_your_own(
    victims_orders, other_customer, other_client, make_product
):
    ids, product = victims_orders
    own = other_client.post("/orders/", {"product_id": product.pk, "quantity": 1}, format="json")
    own_id = own.json()["id"]
    before = {o.pk: (o.status, o.paid_at, o.cancelled_at) for o in Order.objects.all()}
    stock_before = Product.objects.get(pk=product.pk).stock
    missing = own_id + 1000

    # when Bob tries every id there is (and one that is not) on every route, in both path forms
    for order_id in [*ids.values(), own_id, missing]:
        for method, template in ORDER_ROUTES:
            for path in (template.format(order_id), template.format(order_id) + "/"):
                response = getattr(other_client, method)(path)
                if order_id == own_id:
                    assert response.status_code in (200, 409), (path, response.content)
                    continue
                # then another customer's order is answered exactly like one that does not exist
                assert not_found_body(response) == not_found_body(
                    getattr(other_client, method)(template.format(missing))
                )

    # and nothing about Alice's orders or the stock changed
    after = {o.pk: (o.status, o.paid_at, o.cancelled_at) for o in Order.objects.all()}
    assert {k: v for k, v in after.items() if k != own_id} == {
        k: v for k, v in before.items() if k != own_id
    }
    assert Product.objects.get(pk=product.pk).stock in (stock_before, stock_before + 1)
    assert stock_audit().ok


@pytest.mark.django_db
@pytest.mark.parametrize("status", [None, *OrderStatus.values])
def test_abuse_no_status_filter_or_page_shows_another_customers_orders(
    victims_orders, other_client, status
):
    ids, _ = victims_orders
    query = {"page_size": 1, **({"status": status} if status else {})}
    seen = []
    for page in range(1, 4):
        response = other_client.get("/orders/", {**query, "page": page})
        if response.status_code == 404:
            break
        seen += [o["id"] for o in response.json()["orders"]]
    assert not set(seen) & set(ids.values())
    for path in ("/orders", "/orders/"):
        assert other_client.get(path, query).json()["count"] == 0


@pytest.mark.django_db
def test_abuse_another_customers_idempotency_key_neither_replays_nor_leaks(
    customer_client, other_client, make_product
):
    product = make_product(stock=10)
    body = {"product_id": product.pk, "quantity": 1}
    alices = customer_client.post("/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # when Bob sends Alice's key with her body, and then with another body
    same = other_client.post("/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other_body = {"product_id": product.pk, "quantity": 2}
    different = other_client.post("/orders/", other_body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    reused = other_client.post("/orders/", other_body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # then he gets an order of his own, never hers, and no 422 telling him she used the key
    assert alices.status_code == same.status_code == different.status_code == 201
    assert same.json()["id"] != alices.json()["id"]
    assert "Idempotent-Replayed" not in same.headers
    assert reused.status_code == 422  # his own key, reused by himself: that he may learn
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert Product.objects.get(pk=product.pk).stock == 10 - 1 - 1 - 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "smuggled",
    [
        {"customer": 1},
        {"customer_id": 1},
        {"status": "paid"},
        {"total": "0.00"},
        {"unit_price": "0.01"},
        {"id": 1},
        {"paid_at": "2026-01-01T00:00:00Z"},
    ],
    ids=lambda s: next(iter(s)),
)
def test_abuse_fields_smuggled_into_an_order_are_refused(
    customer_client, other_customer, make_product, smuggled
):
    product = make_product(stock=5)
    body = {"product_id": product.pk, "quantity": 1, **smuggled}
    response = customer_client.post("/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["details"]) == set(smuggled)
    assert not Order.objects.exists() and Product.objects.get(pk=product.pk).stock == 5


@pytest.mark.django_db
def test_abuse_smuggled_line_fields_are_refused(customer_client, make_product):
    product = make_product(stock=5)
    body = {"items": [{"product_id": product.pk, "quantity": 1, "unit_price": "0.00"}]}
    response = customer_client.post("/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "items": [{"unit_price": ["This field is not accepted here."]}]
    }
