"""An order's life over HTTP: paying, cancelling and expiry."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Product
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit
from tests.orders.helpers import error_of, move_expiry_into_past, place, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


# --- pay --------------------------------------------------------------------------------------


def test_order_pay_moves_pending_to_paid(customer_client, make_product):
    product = make_product(stock=5)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()

    response = customer_client.post(f"/orders/{placed['id']}/pay")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == placed["id"]
    assert body["status"] == "paid"
    assert body["paid_at"] is not None
    assert body["items"] == placed["items"]
    assert stock_of(product) == 3
    assert stock_audit().ok


def test_order_pay_twice_is_409_not_payable(customer_client, make_product):
    product = make_product(stock=5)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()
    customer_client.post(f"/orders/{placed['id']}/pay")

    response = customer_client.post(f"/orders/{placed['id']}/pay")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "order_not_payable"
    assert error["details"]["status"] == "paid"


def test_order_pay_cancelled_order_is_409(customer_client, make_product):
    product = make_product(stock=5)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()
    customer_client.post(f"/orders/{placed['id']}/cancel")

    response = customer_client.post(f"/orders/{placed['id']}/pay")

    assert response.status_code == 409
    assert error_of(response)["code"] == "order_not_payable"
    assert error_of(response)["details"]["status"] == "cancelled"
    assert stock_of(product) == 5


def test_order_pay_after_expires_at_is_409_even_before_the_expiry_run(
    customer_client, make_product
):
    product = make_product(stock=5)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()
    move_expiry_into_past(placed["id"])

    response = customer_client.post(f"/orders/{placed['id']}/pay")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "order_not_payable"
    assert error["details"]["status"] == "pending"
    assert error["details"]["expired"] is True
    assert Order.objects.get(pk=placed["id"]).status == OrderStatus.PENDING


def test_order_pay_unknown_order_is_404(customer_client):
    response = customer_client.post("/orders/777/pay")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- cancel -----------------------------------------------------------------------------------


def test_order_cancel_returns_stock(customer_client, make_product):
    first = make_product(stock=5)
    second = make_product(stock=5)
    placed = place(
        customer_client,
        {
            "items": [
                {"product_id": first.pk, "quantity": 2},
                {"product_id": second.pk, "quantity": 5},
            ]
        },
    ).json()
    assert (stock_of(first), stock_of(second)) == (3, 0)

    response = customer_client.post(f"/orders/{placed['id']}/cancel")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancelled_at"] is not None
    assert (stock_of(first), stock_of(second)) == (5, 5)
    assert stock_audit().ok


def test_order_cancel_moves_the_products_updated_at(customer_client, make_product):
    product = make_product(stock=5)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()
    long_ago = timezone.now() - timedelta(days=1)
    Product.objects.filter(pk=product.pk).update(updated_at=long_ago)

    customer_client.post(f"/orders/{placed['id']}/cancel")

    assert Product.objects.get(pk=product.pk).updated_at > long_ago


def test_order_cancel_twice_is_409_and_returns_stock_once(customer_client, make_product):
    product = make_product(stock=5)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()
    customer_client.post(f"/orders/{placed['id']}/cancel")

    response = customer_client.post(f"/orders/{placed['id']}/cancel")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "order_not_cancellable"
    assert error["details"]["status"] == "cancelled"
    assert stock_of(product) == 5
    assert stock_audit().ok


def test_order_cancel_paid_order_is_409_and_keeps_stock_sold(customer_client, make_product):
    product = make_product(stock=5)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()
    customer_client.post(f"/orders/{placed['id']}/pay")

    response = customer_client.post(f"/orders/{placed['id']}/cancel")

    assert response.status_code == 409
    assert error_of(response)["code"] == "order_not_cancellable"
    assert error_of(response)["details"]["status"] == "paid"
    assert stock_of(product) == 3


# --- expiry -----------------------------------------------------------------------------------


def test_expire_orders_command_expires_due_orders_and_returns_stock(customer_client, make_product):
    product = make_product(stock=10)
    due = place(customer_client, {"product_id": product.pk, "quantity": 3}).json()
    fresh = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()
    paid = place(customer_client, {"product_id": product.pk, "quantity": 1}).json()
    customer_client.post(f"/orders/{paid['id']}/pay")
    move_expiry_into_past(due["id"])
    move_expiry_into_past(paid["id"])
    out = StringIO()

    call_command("expire_orders", stdout=out)

    assert "Expired 1 order(s)." in out.getvalue()
    statuses = dict(Order.objects.values_list("id", "status"))
    assert statuses == {due["id"]: "expired", fresh["id"]: "pending", paid["id"]: "paid"}
    assert stock_of(product) == 7
    assert stock_audit().ok


def test_expire_orders_command_run_twice_returns_stock_once(customer_client, make_product):
    product = make_product(stock=10)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 4}).json()
    move_expiry_into_past(placed["id"])
    call_command("expire_orders", stdout=StringIO())
    out = StringIO()

    call_command("expire_orders", stdout=out)

    assert "Expired 0 order(s)." in out.getvalue()
    assert stock_of(product) == 10
    assert stock_audit().ok


def test_expired_order_cannot_be_paid_or_cancelled(customer_client, make_product):
    product = make_product(stock=10)
    placed = place(customer_client, {"product_id": product.pk, "quantity": 4}).json()
    move_expiry_into_past(placed["id"])
    call_command("expire_orders", stdout=StringIO())

    paid = customer_client.post(f"/orders/{placed['id']}/pay")
    cancelled = customer_client.post(f"/orders/{placed['id']}/cancel")
    listed = customer_client.get("/orders/", {"status": "expired"}).json()

    assert paid.status_code == 409
    assert error_of(paid)["code"] == "order_not_payable"
    assert error_of(paid)["details"]["status"] == "expired"
    assert cancelled.status_code == 409
    assert error_of(cancelled)["code"] == "order_not_cancellable"
    assert error_of(cancelled)["details"]["status"] == "expired"
    assert [o["id"] for o in listed["orders"]] == [placed["id"]]
    assert stock_of(product) == 10
