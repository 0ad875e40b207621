"""Products over HTTP: listing, filters, pagination, writes, restock, delete and their errors."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Product
from orders import services as order_services
from orders.selectors import stock_audit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # PBKDF2 costs ~0.4 s a user here, and every new test client's WhiteNoise would scan all
    # static files (~85 ms); these tests are about neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_AUTOREFRESH = True


def bulk_products(count: int, *, stock: int = 1, prefix: str = "BULK") -> list[Product]:
    """Many products at once; units_received == stock keeps the invariant."""
    return Product.objects.bulk_create(
        Product(
            sku=f"{prefix}-{n:04d}",
            name=f"Thing {n}",
            price=Decimal("1.00"),
            stock=stock,
            units_received=stock,
        )
        for n in range(count)
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- list -------------------------------------------------------------------------------------


def test_product_list_returns_products_key_with_pagination_fields(anon_client, make_product):
    first = make_product(stock=3, price="12.50", name="Red mug")

    response = anon_client.get("/products/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "products"}
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    assert body["products"] == [
        {
            "id": first.pk,
            "sku": first.sku,
            "name": "Red mug",
            "price": "12.50",
            "stock": 3,
            "created_at": first.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": first.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]


def test_product_list_pages_are_ordered_by_id_with_next_and_previous(anon_client, make_product):
    products = [make_product() for _ in range(5)]

    page1 = anon_client.get("/products/", {"page_size": 2}).json()
    page2 = anon_client.get("/products/", {"page_size": 2, "page": 2}).json()
    page3 = anon_client.get("/products/", {"page_size": 2, "page": 3}).json()

    assert page1["count"] == page2["count"] == page3["count"] == 5
    assert [p["id"] for p in page1["products"]] == [p.pk for p in products[:2]]
    assert [p["id"] for p in page2["products"]] == [p.pk for p in products[2:4]]
    assert [p["id"] for p in page3["products"]] == [products[4].pk]
    assert page1["previous"] is None
    assert "page=2" in page1["next"] and "page_size=2" in page1["next"]
    assert "page=3" in page2["next"]
    assert page2["previous"] is not None and "page_size=2" in page2["previous"]
    assert page3["next"] is None
    assert "page=2" in page3["previous"]


def test_product_list_next_link_keeps_the_filters(anon_client, make_product):
    for _ in range(3):
        make_product(stock=1)
    make_product(stock=0)

    body = anon_client.get("/products/", {"in_stock": "true", "page_size": 2}).json()
    following = anon_client.get(body["next"]).json()

    assert "in_stock=true" in body["next"]
    assert body["count"] == following["count"] == 3
    assert len(following["products"]) == 1


def test_product_list_default_page_size_is_50(anon_client):
    bulk_products(51)

    body = anon_client.get("/products/").json()

    assert body["count"] == 51
    assert len(body["products"]) == 50
    assert body["next"] is not None


def test_product_list_page_size_is_capped_at_500(anon_client):
    bulk_products(501)

    body = anon_client.get("/products/", {"page_size": 10_000}).json()

    assert body["count"] == 501
    assert len(body["products"]) == 500
    assert body["next"] is not None


def test_product_list_page_out_of_range_is_404(anon_client, make_product):
    make_product()

    response = anon_client.get("/products/", {"page": 2})

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_product_list_empty_first_page_is_200(anon_client):
    response = anon_client.get("/products/")

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "products": []}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"page_size": "99999999999999999999999"}, "page_size"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"in_stock": ""}, "in_stock"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_product_list_bad_known_parameter_is_400_invalid(anon_client, params, field):
    response = anon_client.get("/products/", params)

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["details"]


def test_product_list_ignores_unknown_parameters(anon_client, make_product):
    make_product()

    response = anon_client.get("/products/", {"colour": "blue", "ordering": "-id"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_product_list_filters_in_stock(anon_client, make_product):
    full = make_product(stock=4)
    empty = make_product(stock=0)

    in_stock = anon_client.get("/products/", {"in_stock": "true"}).json()
    out_of_stock = anon_client.get("/products/", {"in_stock": "false"}).json()

    assert [p["id"] for p in in_stock["products"]] == [full.pk]
    assert [p["id"] for p in out_of_stock["products"]] == [empty.pk]
    assert in_stock["count"] == out_of_stock["count"] == 1


def test_product_list_filters_exact_sku(anon_client, make_product):
    make_product(sku="MUG-1")
    wanted = make_product(sku="MUG-10")

    body = anon_client.get("/products/", {"sku": "MUG-10"}).json()

    assert [p["id"] for p in body["products"]] == [wanted.pk]


def test_product_list_search_matches_name_or_sku_case_insensitively(anon_client, make_product):
    by_name = make_product(sku="A-1", name="Blue Teapot")
    by_sku = make_product(sku="TEAPOT-2", name="Something")
    make_product(sku="B-3", name="Cup")

    body = anon_client.get("/products/", {"search": "teapot"}).json()

    assert [p["id"] for p in body["products"]] == [by_name.pk, by_sku.pk]
    assert body["count"] == 2


def test_product_list_never_shows_negative_stock(anon_client, customer, make_product):
    product = make_product(stock=2)
    order_services.order_place(customer=customer, lines=[(product.pk, 2)])

    body = anon_client.get("/products/").json()

    assert [p["stock"] for p in body["products"]] == [0]


# --- detail -----------------------------------------------------------------------------------


def test_product_detail_returns_the_product(anon_client, make_product):
    product = make_product(stock=7, price="0.50", sku="PEN-1", name="Pen")

    response = anon_client.get(f"/products/{product.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == product.pk
    assert body["sku"] == "PEN-1"
    assert body["name"] == "Pen"
    assert body["price"] == "0.50"
    assert body["stock"] == 7
    assert body["created_at"].endswith("Z")
    assert body["updated_at"].endswith("Z")


def test_product_detail_unknown_id_is_404(anon_client, make_product):
    product = make_product()

    response = anon_client.get(f"/products/{product.pk + 1}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


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


# --- paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_product_routes_answer_with_and_without_trailing_slash(staff_client, make_product, slash):
    product = make_product(stock=1)
    base = f"/products/{product.pk}"

    listing = staff_client.get("/products" + slash)
    detail = staff_client.get(base + slash)
    patched = staff_client.patch(base + slash, {"name": "Renamed"}, format="json")
    restocked = staff_client.post(base + "/restock" + slash, {"quantity": 2}, format="json")
    created = staff_client.post(
        "/products" + slash,
        {"sku": "SLASH-1", "name": "n", "price": "1.00", "stock": 0},
        format="json",
    )
    deleted = staff_client.delete(f"/products/{created.json()['id']}" + slash)

    assert listing.status_code == 200 and listing.json()["count"] == 1
    assert detail.status_code == 200 and detail.json()["id"] == product.pk
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    assert restocked.status_code == 200 and restocked.json()["stock"] == 3
    assert created.status_code == 201
    assert deleted.status_code == 204


@pytest.mark.parametrize(
    "product_id", ["0", "99999999999999999999", "9223372036854775808", "-1", "abc", "1.0"]
)
@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("get", "", None),
        ("patch", "", {"name": "x"}),
        ("delete", "", None),
        ("post", "/restock", {"quantity": 1}),
    ],
)
def test_product_id_that_is_not_a_positive_int64_is_404(
    staff_client, product_id, method, suffix, body
):
    response = getattr(staff_client, method)(f"/products/{product_id}{suffix}", body, format="json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_product_largest_int64_id_is_a_plain_404(staff_client):
    response = staff_client.get("/products/9223372036854775807")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_unknown_url_is_404_in_the_error_shape(anon_client):
    response = anon_client.get("/products/1/nope")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert response.json()["error"]["message"]


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
