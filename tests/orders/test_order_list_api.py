"""Listing and reading orders over HTTP: own or all, filters, pages, detail, routes."""

import pytest

from tests.orders.helpers import error_of, place

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


def test_order_list_shows_own_orders_newest_first(customer_client, other_client, make_product):
    product = make_product(stock=20)
    first = place(customer_client, {"product_id": product.pk, "quantity": 1}).json()
    place(other_client, {"product_id": product.pk, "quantity": 1})
    second = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()

    response = customer_client.get("/orders/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "orders"}
    assert body["count"] == 2
    assert [o["id"] for o in body["orders"]] == [second["id"], first["id"]]
    assert body["orders"][0] == second


def test_order_list_staff_sees_every_order(
    staff_client, customer_client, other_client, make_product
):
    product = make_product(stock=20)
    mine = place(customer_client, {"product_id": product.pk, "quantity": 1}).json()
    theirs = place(other_client, {"product_id": product.pk, "quantity": 1}).json()

    body = staff_client.get("/orders/").json()

    assert body["count"] == 2
    assert [o["id"] for o in body["orders"]] == [theirs["id"], mine["id"]]


def test_order_list_filters_by_status(customer_client, make_product):
    product = make_product(stock=20)
    paid = place(customer_client, {"product_id": product.pk, "quantity": 1}).json()
    customer_client.post(f"/orders/{paid['id']}/pay")
    pending = place(customer_client, {"product_id": product.pk, "quantity": 1}).json()

    paid_list = customer_client.get("/orders/", {"status": "paid"}).json()
    pending_list = customer_client.get("/orders/", {"status": "pending"}).json()
    cancelled_list = customer_client.get("/orders/", {"status": "cancelled"}).json()

    assert [o["id"] for o in paid_list["orders"]] == [paid["id"]]
    assert paid_list["orders"][0]["status"] == "paid"
    assert [o["id"] for o in pending_list["orders"]] == [pending["id"]]
    assert cancelled_list == {"count": 0, "next": None, "previous": None, "orders": []}


@pytest.mark.parametrize("params", [{"status": "nope"}, {"status": "PAID"}, {"page": "abc"}])
def test_order_list_bad_parameter_is_400(customer_client, params):
    response = customer_client.get("/orders/", params)

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert set(params) <= set(error_of(response)["details"])


def test_order_list_paginates(customer_client, make_product):
    product = make_product(stock=20)
    for _ in range(3):
        place(customer_client, {"product_id": product.pk, "quantity": 1})

    page1 = customer_client.get("/orders/", {"page_size": 2}).json()
    page2 = customer_client.get("/orders/", {"page_size": 2, "page": 2}).json()
    beyond = customer_client.get("/orders/", {"page_size": 2, "page": 3})

    assert page1["count"] == 3 and len(page1["orders"]) == 2 and page1["next"]
    assert len(page2["orders"]) == 1 and page2["next"] is None and page2["previous"]
    assert beyond.status_code == 404
    assert error_of(beyond)["code"] == "not_found"


def test_order_detail_returns_the_order(customer_client, make_product):
    product = make_product(stock=5, price="4.00")
    placed = place(customer_client, {"product_id": product.pk, "quantity": 2}).json()

    response = customer_client.get(f"/orders/{placed['id']}")

    assert response.status_code == 200
    assert response.json() == placed


def test_order_detail_unknown_id_is_404(customer_client):
    for path in ("/orders/12345", "/orders/0", "/orders/99999999999999999999"):
        response = customer_client.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("slash", ["", "/"])
def test_order_routes_answer_with_and_without_trailing_slash(customer_client, make_product, slash):
    product = make_product(stock=5)

    created = customer_client.post(
        "/orders" + slash, {"product_id": product.pk, "quantity": 1}, format="json"
    )
    order_id = created.json()["id"]
    listed = customer_client.get("/orders" + slash)
    detail = customer_client.get(f"/orders/{order_id}" + slash)
    paid = customer_client.post(f"/orders/{order_id}/pay" + slash)
    other = customer_client.post(
        "/orders" + slash, {"product_id": product.pk, "quantity": 1}, format="json"
    ).json()
    cancelled = customer_client.post(f"/orders/{other['id']}/cancel" + slash)

    assert created.status_code == 201
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert detail.status_code == 200
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
