"""Hostile values: wrong types where counts, ids, money and text belong; NUL bytes and control
characters. Each answer is the 4xx docs/api.md names, in the error shape, no 500.
"""

import pytest

from inventory.models import Product
from orders.models import Order
from tests.security.hostile import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_password_hashing")]


# --- wrong types where counts and money belong -----------------------------------------------


@pytest.mark.parametrize(
    "quantity",
    [
        "2",
        2.0,
        2.5,
        True,
        False,
        None,
        [],
        {},
        [2],
        "",
        "1e3",
        10**30,
        -(10**30),
        2**63,
        0,
        -1,
        1001,
    ],
    ids=repr,
)
def test_hostile_quantity_that_is_not_a_sane_integer_is_400_invalid(
    customer_client, product, quantity
):
    body = {"product_id": product.pk, "quantity": quantity}
    error = assert_error(customer_client.post("/orders/", body, format="json"), 400, "invalid")
    assert "quantity" in error["details"]
    assert Product.objects.get(pk=product.pk).stock == 50


@pytest.mark.parametrize(
    "product_id", ["1", 1.0, True, None, 0, -5, 2**63, 2**64, 10**40, "1; DROP TABLE"], ids=repr
)
def test_hostile_product_id_that_is_not_a_sane_id_is_400_invalid(
    customer_client, product, product_id
):
    body = {"product_id": product_id, "quantity": 1}
    error = assert_error(customer_client.post("/orders/", body, format="json"), 400, "invalid")
    assert "product_id" in error["details"]


def test_hostile_largest_id_of_a_missing_product_is_400_invalid(customer_client, product):
    body = {"product_id": 2**63 - 1, "quantity": 1}
    error = assert_error(customer_client.post("/orders/", body, format="json"), 400, "invalid")
    assert error["details"] == {"product_id": ["No such product."]}


@pytest.mark.parametrize(
    "items",
    [{"product_id": 1}, "items", [1, 2], [[]], [None], [{"product_id": "x", "quantity": "y"}], []],
    ids=repr,
)
def test_hostile_items_of_the_wrong_shape_are_400_invalid(customer_client, product, items):
    response = customer_client.post("/orders/", {"items": items}, format="json")
    assert_error(response, 400, "invalid")


@pytest.mark.parametrize(
    "price",
    [
        "abc",
        "NaN",
        "Infinity",
        "-Infinity",
        "-1",
        "1e999999999",
        "1e-999999",
        1e308,
        -0.01,
        "12.345",
        "99999999999",
        # Money is a decimal string (docs/api.md): no floats, and none of the spellings Decimal()
        # would also take.
        12.5,
        0,
        " 12.50",
        "+1",
        "1_000",
        "1e2",
        "0x10",
        "1.",
        True,
        None,
        [],
        {},
    ],
    ids=repr,
)
def test_hostile_bad_price_is_400_invalid(staff_client, product, price):
    body = {"sku": "PRICE-1", "name": "Priced", "price": price, "stock": 1}
    error = assert_error(staff_client.post("/products/", body, format="json"), 400, "invalid")
    assert "price" in error["details"]
    patched = staff_client.patch(f"/products/{product.pk}", {"price": price}, format="json")
    assert_error(patched, 400, "invalid")
    assert str(Product.objects.get(pk=product.pk).price) == "9.99"


@pytest.mark.parametrize("price", ["0", "0.5", "12.50", "99999999.99"])
def test_hostile_price_spelled_as_api_md_writes_it_is_accepted(staff_client, db, price):
    body = {"sku": "PRICE-2", "name": "Priced", "price": price, "stock": 1}
    assert staff_client.post("/products/", body, format="json").status_code == 201


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/products/", {"sku": 123, "name": "n", "price": "1.00", "stock": 1}, "sku"),
        ("/products/", {"sku": "TXT-1", "name": 12.5, "price": "1.00", "stock": 1}, "name"),
        ("/products/", {"sku": "TXT-1", "name": True, "price": "1.00", "stock": 1}, "name"),
        ("/auth/token", {"username": 1, "password": "x"}, "username"),
        ("/auth/token", {"username": "x", "password": 123456}, "password"),
    ],
)
def test_hostile_number_where_text_belongs_is_400_invalid(staff_client, db, path, body, field):
    error = assert_error(staff_client.post(path, body, format="json"), 400, "invalid")
    assert field in error["details"]
    assert not Product.objects.filter(sku__in=["123", "TXT-1"]).exists()


@pytest.mark.parametrize("stock", ["5", 5.0, True, -1, 10**30, 2**63], ids=repr)
def test_hostile_bad_initial_stock_is_400_invalid(staff_client, db, stock):
    body = {"sku": "STOCK-1", "name": "Stocked", "price": "1.00", "stock": stock}
    error = assert_error(staff_client.post("/products/", body, format="json"), 400, "invalid")
    assert "stock" in error["details"]


@pytest.mark.parametrize("quantity", ["5", 5.0, True, 0, -1, 1_000_001, 2**63, 10**30], ids=repr)
def test_hostile_bad_restock_quantity_is_400_invalid(staff_client, product, quantity):
    response = staff_client.post(
        f"/products/{product.pk}/restock", {"quantity": quantity}, format="json"
    )
    assert_error(response, 400, "invalid")
    assert Product.objects.get(pk=product.pk).stock == 50


# --- NUL bytes and control characters ---------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "sku"])
def test_hostile_nul_byte_in_a_string_field_is_400_invalid(staff_client, db, field):
    body = {"sku": "NUL-1", "name": "Nul", "price": "1.00", "stock": 1}
    body[field] = "be\x00fore"
    error = assert_error(staff_client.post("/products/", body, format="json"), 400, "invalid")
    assert field in error["details"]


def test_hostile_nul_byte_in_login_is_400_or_401_never_500(anon_client, db):
    body = {"username": "ad\x00min", "password": "pass\x00word"}
    response = anon_client.post("/auth/token", body, format="json")
    assert response.status_code in (400, 401)
    assert response.json()["error"]["code"] in ("invalid", "authentication_failed")


@pytest.mark.parametrize(
    "key", ["", "k" * 256, "new\nline", "tab\tbed", "nul\x00", "ключ"], ids=repr
)
def test_hostile_bad_idempotency_key_is_400_invalid(customer_client, product, key):
    body = {"product_id": product.pk, "quantity": 1}
    response = customer_client.post("/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    error = assert_error(response, 400, "invalid")
    assert "Idempotency-Key" in error["details"]
    assert not Order.objects.exists()


@pytest.mark.parametrize("request_id", ["a\r\nX-Injected: 1", "x" * 500, "<script>", "\x00"])
def test_hostile_request_id_that_could_forge_logs_is_replaced(anon_client, db, request_id):
    response = anon_client.get("/health", HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 200
    assert response["X-Request-ID"] != request_id
    assert len(response["X-Request-ID"]) == 32
