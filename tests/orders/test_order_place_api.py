"""Placing orders over HTTP: one line or many, validation, insufficient stock."""

from datetime import timedelta
from decimal import Decimal

import pytest

from inventory.models import Product
from orders.models import Order
from orders.selectors import stock_audit
from tests.orders.helpers import error_of, place, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


def test_order_place_single_line_takes_stock_and_returns_pending_order(
    customer_client, make_product
):
    product = make_product(stock=10, price="2.50", sku="MUG-1")

    response = place(customer_client, {"product_id": product.pk, "quantity": 3})

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["items"] == [
        {"product_id": product.pk, "sku": "MUG-1", "quantity": 3, "unit_price": "2.50"}
    ]
    assert body["total"] == "7.50"
    assert body["paid_at"] is None and body["cancelled_at"] is None
    assert body["created_at"].endswith("Z") and body["expires_at"].endswith("Z")
    assert "Idempotent-Replayed" not in response.headers
    order = Order.objects.get(pk=body["id"])
    assert order.expires_at - order.created_at == pytest.approx(
        timedelta(minutes=15), abs=timedelta(seconds=5)
    )
    assert stock_of(product) == 7
    assert stock_audit().ok


def test_order_place_multi_line_merges_lines_in_ascending_product_id(customer_client, make_product):
    first = make_product(stock=10, price="1.00")
    second = make_product(stock=10, price="3.00")

    response = place(
        customer_client,
        {
            "items": [
                {"product_id": second.pk, "quantity": 1},
                {"product_id": first.pk, "quantity": 2},
                {"product_id": second.pk, "quantity": 4},
            ]
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert [(i["product_id"], i["quantity"]) for i in body["items"]] == [
        (first.pk, 2),
        (second.pk, 5),
    ]
    assert body["total"] == "17.00"
    assert (stock_of(first), stock_of(second)) == (8, 5)
    assert stock_audit().ok


def test_order_place_accepts_100_lines(customer_client):
    products = Product.objects.bulk_create(
        Product(sku=f"L-{n:03d}", name="x", price=Decimal("1.00"), stock=1, units_received=1)
        for n in range(100)
    )

    response = place(
        customer_client, {"items": [{"product_id": p.pk, "quantity": 1} for p in products]}
    )

    assert response.status_code == 201
    assert len(response.json()["items"]) == 100
    assert not Product.objects.filter(stock__gt=0).exists()
    assert stock_audit().ok


@pytest.mark.parametrize("count", [0, 101])
def test_order_place_refuses_too_few_or_too_many_lines(customer_client, make_product, count):
    product = make_product(stock=1000)

    response = place(
        customer_client, {"items": [{"product_id": product.pk, "quantity": 1}] * count}
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert "items" in error_of(response)["details"]
    assert stock_of(product) == 1000
    assert not Order.objects.exists()


def test_order_place_with_both_forms_is_400(customer_client, make_product):
    product = make_product(stock=10)

    response = place(
        customer_client,
        {
            "product_id": product.pk,
            "quantity": 1,
            "items": [{"product_id": product.pk, "quantity": 1}],
        },
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert stock_of(product) == 10
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body, missing",
    [
        ({}, {"product_id", "quantity"}),
        ({"product_id": 1}, {"quantity"}),
        ({"quantity": 1}, {"product_id"}),
    ],
)
def test_order_place_missing_fields_is_400(customer_client, body, missing):
    response = place(customer_client, body)

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert missing <= set(error_of(response)["details"])


@pytest.mark.parametrize("quantity", [1, 1000])
def test_order_place_accepts_quantity_bounds(customer_client, make_product, quantity):
    product = make_product(stock=1000)

    response = place(customer_client, {"product_id": product.pk, "quantity": quantity})

    assert response.status_code == 201
    assert stock_of(product) == 1000 - quantity


@pytest.mark.parametrize("quantity", [0, -1, 1001, "2", 2.0, True, None, [1]])
def test_order_place_single_line_bad_quantity_is_400(customer_client, make_product, quantity):
    product = make_product(stock=2000)

    response = place(customer_client, {"product_id": product.pk, "quantity": quantity})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert list(error_of(response)["details"]) == ["quantity"]
    assert stock_of(product) == 2000


@pytest.mark.parametrize("quantity", [0, 1001, "2", 2.0, True])
def test_order_place_bad_quantity_in_items_is_nested_like_the_body(
    customer_client, make_product, quantity
):
    product = make_product(stock=2000)

    response = place(
        customer_client,
        {
            "items": [
                {"product_id": product.pk, "quantity": 1},
                {"product_id": product.pk, "quantity": quantity},
            ]
        },
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["details"]["items"][0] == {}
    assert list(error["details"]["items"][1]) == ["quantity"]
    assert stock_of(product) == 2000


@pytest.mark.parametrize("product_id", ["1", 1.0, True, 0, -5])
def test_order_place_bad_product_id_is_400(customer_client, make_product, product_id):
    make_product(stock=10)

    response = place(customer_client, {"product_id": product_id, "quantity": 1})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert "product_id" in error_of(response)["details"]


def test_order_place_unknown_product_is_400_invalid(customer_client, make_product):
    product = make_product(stock=10)

    response = place(customer_client, {"product_id": product.pk + 100, "quantity": 1})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert list(error["details"]) == ["product_id"]
    assert not Order.objects.exists()


def test_order_place_unknown_product_in_items_is_nested_and_takes_no_stock(
    customer_client, make_product
):
    product = make_product(stock=10)

    response = place(
        customer_client,
        {
            "items": [
                {"product_id": product.pk, "quantity": 1},
                {"product_id": product.pk + 100, "quantity": 1},
            ]
        },
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["details"]["items"][0] == {}
    assert "product_id" in error["details"]["items"][1]
    assert stock_of(product) == 10
    assert not Order.objects.exists()


def test_order_place_insufficient_stock_is_409_with_details(customer_client, make_product):
    product = make_product(stock=3, sku="SKU-123")

    response = place(customer_client, {"product_id": product.pk, "quantity": 5})

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {"product_id": product.pk, "requested": 5, "available": 3}
    assert "SKU-123" in error["message"]
    assert stock_of(product) == 3
    assert not Order.objects.exists()


def test_order_place_insufficient_stock_names_first_short_line_by_ascending_id_and_takes_nothing(
    customer_client, make_product
):
    plenty = make_product(stock=50)
    short_low = make_product(stock=1)
    middle = make_product(stock=50)
    short_high = make_product(stock=0)

    response = place(
        customer_client,
        {
            "items": [
                {"product_id": short_high.pk, "quantity": 2},
                {"product_id": middle.pk, "quantity": 5},
                {"product_id": short_low.pk, "quantity": 2},
                {"product_id": plenty.pk, "quantity": 5},
            ]
        },
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {"product_id": short_low.pk, "requested": 2, "available": 1}
    assert [stock_of(p) for p in (plenty, short_low, middle, short_high)] == [50, 1, 50, 0]
    assert not Order.objects.exists()
    assert stock_audit().ok


def test_order_place_insufficient_stock_counts_merged_quantities(customer_client, make_product):
    product = make_product(stock=5)

    response = place(
        customer_client,
        {
            "items": [
                {"product_id": product.pk, "quantity": 3},
                {"product_id": product.pk, "quantity": 3},
            ]
        },
    )

    assert response.status_code == 409
    assert error_of(response)["details"] == {
        "product_id": product.pk,
        "requested": 6,
        "available": 5,
    }
    assert stock_of(product) == 5


def test_order_place_can_take_the_last_unit(customer_client, make_product):
    product = make_product(stock=2)

    response = place(customer_client, {"product_id": product.pk, "quantity": 2})

    assert response.status_code == 201
    assert stock_of(product) == 0


def test_order_place_non_object_body_is_400(customer_client):
    response = customer_client.post("/orders/", [1, 2], format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
