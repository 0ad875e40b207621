"""Writing products over HTTP: create and update, their validation and errors."""

from decimal import Decimal

import pytest

from inventory.models import Product
from orders.selectors import stock_audit
from tests.inventory.helpers import error_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


# --- create -----------------------------------------------------------------------------------


def test_product_create_returns_201_and_records_units_received(staff_client):
    response = staff_client.post(
        "/products/",
        {"sku": "LAMP-1", "name": "Desk lamp", "price": "24.90", "stock": 12},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["sku"] == "LAMP-1"
    assert body["name"] == "Desk lamp"
    assert body["price"] == "24.90"
    assert body["stock"] == 12
    product = Product.objects.get(pk=body["id"])
    assert product.stock == product.units_received == 12
    assert stock_audit().ok


def test_product_create_accepts_zero_stock_and_price(staff_client):
    response = staff_client.post(
        "/products/", {"sku": "FREE-0", "name": "Sticker", "price": "0", "stock": 0}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["price"] == "0.00"
    assert response.json()["stock"] == 0


def test_product_create_duplicate_sku_is_409(staff_client, make_product):
    make_product(sku="DUP-1")

    response = staff_client.post(
        "/products/", {"sku": "DUP-1", "name": "Again", "price": "1.00", "stock": 1}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "duplicate_sku"
    assert response.json()["error"]["details"] == {"sku": "DUP-1"}
    assert Product.objects.filter(sku="DUP-1").count() == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"price": "-0.01"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1.234"}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": "2"}, "stock"),
        ({"stock": 2.0}, "stock"),
        ({"stock": True}, "stock"),
        ({"stock": None}, "stock"),
        ({"sku": ""}, "sku"),
        ({"sku": "has space"}, "sku"),
        ({"name": ""}, "name"),
        ({"units_received": 5}, "units_received"),
        ({"id": 5}, "id"),
    ],
)
def test_product_create_invalid_body_is_400_with_field_details(staff_client, changes, field):
    body = {"sku": "OK-1", "name": "Fine", "price": "1.00", "stock": 1, **changes}

    response = staff_client.post("/products/", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["details"]
    assert not Product.objects.exists()


@pytest.mark.parametrize("missing", ["sku", "name", "price", "stock"])
def test_product_create_missing_field_is_400(staff_client, missing):
    body = {"sku": "OK-1", "name": "Fine", "price": "1.00", "stock": 1}
    del body[missing]

    response = staff_client.post("/products/", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert missing in response.json()["error"]["details"]


def test_product_create_form_body_is_415(staff_client):
    response = staff_client.post("/products/", {"sku": "X", "name": "X", "price": "1", "stock": 1})

    assert response.status_code == 415
    assert error_code(response) == "unsupported_media_type"


def test_product_create_malformed_json_is_400_parse_error(staff_client):
    response = staff_client.post("/products/", b"{not json", content_type="application/json")

    assert response.status_code == 400
    assert error_code(response) == "parse_error"


# --- update -----------------------------------------------------------------------------------


def test_product_patch_changes_name_and_price(staff_client, make_product):
    product = make_product(stock=5, price="1.00", name="Old")

    response = staff_client.patch(
        f"/products/{product.pk}", {"name": "New", "price": "2.50"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "New"
    assert body["price"] == "2.50"
    assert body["stock"] == 5
    product.refresh_from_db()
    assert (product.name, product.price, product.stock) == ("New", Decimal("2.50"), 5)


def test_product_patch_setting_stock_is_400_pointing_to_restock(staff_client, make_product):
    product = make_product(stock=5)

    response = staff_client.patch(f"/products/{product.pk}", {"stock": 100}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "/restock" in error["message"]
    assert "stock" in error["details"]
    product.refresh_from_db()
    assert product.stock == 5


def test_product_patch_stock_with_other_fields_still_points_to_restock(staff_client, make_product):
    product = make_product(stock=5, name="Keep")

    response = staff_client.patch(
        f"/products/{product.pk}", {"name": "Changed", "stock": 1, "id": 9}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "/restock" in error["message"]
    assert {"stock", "id"} <= set(error["details"])
    product.refresh_from_db()
    assert (product.name, product.stock) == ("Keep", 5)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"sku": "NEW-SKU"}, "sku"),
        ({"id": 12345}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"price": "-1.00"}, "price"),
        ({"name": ""}, "name"),
    ],
)
def test_product_patch_read_only_or_invalid_field_is_400(staff_client, make_product, body, field):
    product = make_product(sku="ORIG-1")

    response = staff_client.patch(f"/products/{product.pk}", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["details"]
    product.refresh_from_db()
    assert product.sku == "ORIG-1"


def test_product_patch_unknown_product_is_404(staff_client, make_product):
    product = make_product()

    response = staff_client.patch(f"/products/{product.pk + 1}", {"name": "x"}, format="json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_product_put_is_405(staff_client, make_product):
    product = make_product()

    response = staff_client.put(f"/products/{product.pk}", {"name": "x"}, format="json")

    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"


@pytest.mark.django_db
def test_text_fields_refuse_nul_once_and_the_schema_says_so(anon_client, staff_client):
    # Refused once, with DRF's code: not twice by two validators.
    body = {"sku": "NUL-1", "name": "a\x00b", "price": "1.00", "stock": 1}
    response = staff_client.post("/products/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"name": ["Null characters are not allowed."]}

    # A schema that allowed NUL would make schema-valid bodies fail (the fuzz test found one).
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    pattern = "^[^\\u0000]*$"
    assert components["ProductCreateInputRequest"]["properties"]["name"]["pattern"] == pattern
    assert components["TokenInputRequest"]["properties"]["username"]["pattern"] == pattern
    assert components["TokenInputRequest"]["properties"]["password"]["pattern"] == pattern
