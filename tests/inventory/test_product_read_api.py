"""Reading products over HTTP: the list, its filters and pagination, the detail."""

import pytest

from orders import services as order_services
from tests.inventory.helpers import bulk_products, error_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


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
