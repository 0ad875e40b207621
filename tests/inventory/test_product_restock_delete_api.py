"""Restocking and deleting products over HTTP, and their errors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Product
from orders import services as order_services
from orders.selectors import stock_audit
from tests.inventory.helpers import error_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


# --- restock ----------------------------------------------------------------------------------


def test_product_restock_grows_stock_and_moves_updated_at(staff_client, make_product):
    product = make_product(stock=3)
    long_ago = timezone.now() - timedelta(days=1)
    Product.objects.filter(pk=product.pk).update(updated_at=long_ago)

    response = staff_client.post(f"/products/{product.pk}/restock", {"quantity": 7}, format="json")

    assert response.status_code == 200
    assert response.json()["stock"] == 10
    assert response.json()["id"] == product.pk
    product.refresh_from_db()
    assert product.stock == 10
    assert product.units_received == 10
    assert product.updated_at > long_ago
    assert response.json()["updated_at"] == product.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stock_audit().ok


def test_order_taking_stock_moves_updated_at(customer, make_product):
    product = make_product(stock=3)
    long_ago = timezone.now() - timedelta(days=1)
    Product.objects.filter(pk=product.pk).update(updated_at=long_ago)

    order_services.order_place(customer=customer, lines=[(product.pk, 1)])

    product.refresh_from_db()
    assert product.updated_at > long_ago


@pytest.mark.parametrize("quantity", [1, 1_000_000])
def test_product_restock_accepts_bounds(staff_client, make_product, quantity):
    product = make_product(stock=0)

    response = staff_client.post(
        f"/products/{product.pk}/restock", {"quantity": quantity}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["stock"] == quantity


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001, "5", 5.0, True, None, 2**70])
def test_product_restock_refuses_out_of_bounds_or_non_integer(staff_client, make_product, quantity):
    product = make_product(stock=4)

    response = staff_client.post(
        f"/products/{product.pk}/restock", {"quantity": quantity}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) in ("invalid", "parse_error")
    if error_code(response) == "invalid":
        assert "quantity" in response.json()["error"]["details"]
    product.refresh_from_db()
    assert product.stock == product.units_received == 4


def test_product_restock_missing_quantity_is_400(staff_client, make_product):
    product = make_product()

    response = staff_client.post(f"/products/{product.pk}/restock", {}, format="json")

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert "quantity" in response.json()["error"]["details"]


def test_product_restock_unknown_product_is_404(staff_client, make_product):
    product = make_product()

    response = staff_client.post(
        f"/products/{product.pk + 1}/restock", {"quantity": 1}, format="json"
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"


# --- delete -----------------------------------------------------------------------------------


def test_product_delete_is_204_and_the_product_is_gone(staff_client, anon_client, make_product):
    product = make_product()

    response = staff_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert anon_client.get(f"/products/{product.pk}").status_code == 404


def test_product_delete_with_orders_is_409(staff_client, customer, make_product):
    product = make_product(stock=5)
    order_services.order_place(customer=customer, lines=[(product.pk, 1)])

    response = staff_client.delete(f"/products/{product.pk}")

    assert response.status_code == 409
    assert error_code(response) == "product_has_orders"
    assert response.json()["error"]["details"] == {"product_id": product.pk}
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_delete_unknown_is_404(staff_client, make_product):
    product = make_product()

    response = staff_client.delete(f"/products/{product.pk + 1}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
