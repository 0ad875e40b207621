"""Orders over HTTP: placing, listing, paying, cancelling, idempotency and expiry."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Product
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # PBKDF2 costs ~0.4 s a user here, and every new test client's WhiteNoise would scan all
    # static files (~85 ms); these tests are about neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_AUTOREFRESH = True


def error_of(response) -> dict:
    return response.json()["error"]


def place(client, body, **headers):
    return client.post("/orders/", body, format="json", **headers)


def stock_of(product: Product) -> int:
    return Product.objects.get(pk=product.pk).stock


def move_expiry_into_past(order_id: int) -> None:
    Order.objects.filter(pk=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))


# --- place ------------------------------------------------------------------------------------


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


# --- list and detail --------------------------------------------------------------------------


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


# --- Idempotency-Key --------------------------------------------------------------------------


def test_order_place_idempotent_replay_returns_same_order_and_takes_no_more_stock(
    customer_client, make_product
):
    product = make_product(stock=10)
    body = {"product_id": product.pk, "quantity": 3}

    first = place(customer_client, body, HTTP_IDEMPOTENCY_KEY="key-1")
    second = place(customer_client, body, HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Order.objects.count() == 1
    assert stock_of(product) == 7
    assert stock_audit().ok


def test_order_place_idempotent_replay_after_pay_returns_the_order_as_it_is_now(
    customer_client, make_product
):
    product = make_product(stock=10)
    body = {"product_id": product.pk, "quantity": 1}
    first = place(customer_client, body, HTTP_IDEMPOTENCY_KEY="k").json()
    customer_client.post(f"/orders/{first['id']}/pay")

    again = place(customer_client, body, HTTP_IDEMPOTENCY_KEY="k")

    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    assert stock_of(product) == 9


def test_order_place_same_key_different_body_is_422(customer_client, make_product):
    product = make_product(stock=10)
    place(customer_client, {"product_id": product.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY="k-2")

    response = place(
        customer_client, {"product_id": product.pk, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="k-2"
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert stock_of(product) == 9


def test_order_place_idempotency_compares_parsed_json_not_bytes(customer_client, make_product):
    product = make_product(stock=10)
    raw_a = f'{{"product_id": {product.pk}, "quantity": 2}}'
    raw_b = f'{{ "quantity":2,\n  "product_id":{product.pk} }}'

    first = customer_client.post(
        "/orders/", raw_a, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    second = customer_client.post(
        "/orders/", raw_b, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3"
    )

    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert stock_of(product) == 8
    assert json.loads(raw_a) == json.loads(raw_b)


def test_order_place_idempotency_key_is_per_customer(customer_client, other_client, make_product):
    product = make_product(stock=10)
    body = {"product_id": product.pk, "quantity": 1}

    mine = place(customer_client, body, HTTP_IDEMPOTENCY_KEY="shared")
    theirs = place(other_client, body, HTTP_IDEMPOTENCY_KEY="shared")

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert stock_of(product) == 8


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "bad\x01key", "tab\tkey", "del\x7f"],
    ids=["empty", "256", "ctl", "tab", "del"],
)
def test_order_place_bad_idempotency_key_is_400(customer_client, make_product, key):
    product = make_product(stock=10)

    response = place(
        customer_client, {"product_id": product.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert "Idempotency-Key" in error_of(response)["details"]
    assert stock_of(product) == 10
    assert not Order.objects.exists()


def test_order_place_accepts_255_character_idempotency_key(customer_client, make_product):
    product = make_product(stock=10)
    key = "k" * 254 + "~"

    first = place(
        customer_client, {"product_id": product.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY=key
    )
    again = place(
        customer_client, {"product_id": product.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY=key
    )

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stock_of(product) == 9


def test_order_place_retry_after_409_is_decided_afresh(customer_client, staff_client, make_product):
    product = make_product(stock=1)
    body = {"product_id": product.pk, "quantity": 3}

    refused = place(customer_client, body, HTTP_IDEMPOTENCY_KEY="retry-me")
    staff_client.post(f"/products/{product.pk}/restock", {"quantity": 5}, format="json")
    retried = place(customer_client, body, HTTP_IDEMPOTENCY_KEY="retry-me")

    assert refused.status_code == 409
    assert error_of(refused)["code"] == "insufficient_stock"
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert stock_of(product) == 3
    assert stock_audit().ok


def test_order_place_retry_after_409_with_another_body_is_not_a_reuse(
    customer_client, make_product
):
    product = make_product(stock=1)

    refused = place(
        customer_client, {"product_id": product.pk, "quantity": 3}, HTTP_IDEMPOTENCY_KEY="k-4"
    )
    smaller = place(
        customer_client, {"product_id": product.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY="k-4"
    )

    assert refused.status_code == 409
    assert smaller.status_code == 201
    assert stock_of(product) == 0


def test_order_place_retry_after_400_is_decided_afresh(customer_client, make_product):
    product = make_product(stock=5)

    refused = place(
        customer_client, {"product_id": product.pk, "quantity": 0}, HTTP_IDEMPOTENCY_KEY="k-5"
    )
    accepted = place(
        customer_client, {"product_id": product.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY="k-5"
    )

    assert refused.status_code == 400
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted.headers


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
