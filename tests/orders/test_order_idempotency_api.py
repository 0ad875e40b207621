"""Placing orders over HTTP with an Idempotency-Key: replays, reuse, bad keys, retries."""

import json

import pytest

from orders.models import Order
from orders.selectors import stock_audit
from tests.orders.helpers import error_of, place, stock_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_test_settings")]


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
