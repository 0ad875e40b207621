"""Products' URLs: trailing slashes, ids that are not positive int64s, unknown URLs."""

import pytest

from tests.inventory.helpers import error_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


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
