"""Hostile bodies: not JSON, not JSON media, too big. Each answer is the 4xx docs/api.md names,
in the error shape, no 500 (through Django's test client; test_hostile_input_gunicorn.py sends
declared lengths and chunked bodies to a real gunicorn).
"""

import json

import pytest

from inventory.models import Product
from orders.models import Order
from tests.security.hostile import MIB, assert_error, send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_password_hashing")]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- bodies that are not JSON --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"product_id": 1,',
        b"{'product_id': 1}",
        b'{"product_id": 1, "quantity": 1} trailing',
        b'{"product_id": NaN, "quantity": 1}',
        b'{"product_id": 1, "quantity": Infinity}',
        b'{"quantity": 1e400}',
        b'{"sku": "\xff\xfe"}',  # not UTF-8
        '{"quantity": 1}'.encode("utf-16"),
        b'\xef\xbb\xbf{"quantity": 1}',  # a BOM
        b'{"name": "\\ud800"}',  # a lone surrogate
        b"\x00\x00\x00",
        b"   ",
    ],
    ids=lambda raw: repr(raw[:24]),
)
def test_hostile_undecodable_body_is_400_parse_error(customer_client, product, raw):
    response = send(customer_client, "POST", "/orders/", raw)
    assert_error(response, 400, "parse_error")
    assert not Order.objects.exists()


@pytest.mark.parametrize("depth", [33, 200, 5000, 100_000])
def test_hostile_deeply_nested_json_is_400_parse_error(customer_client, product, depth):
    body = '{"items": ' + nested(depth) + "}"
    assert_error(send(customer_client, "POST", "/orders/", body), 400, "parse_error")


def test_hostile_nesting_at_the_limit_is_parsed_and_refused_as_invalid(customer_client, product):
    # 32 levels parse; the shape is then simply wrong.
    body = '{"items": ' + nested(31) + "}"
    assert_error(send(customer_client, "POST", "/orders/", body), 400, "invalid")


@pytest.mark.parametrize("raw", [b"[]", b"[1, 2]", b'"a string"', b"42", b"null", b"true"])
def test_hostile_json_that_is_not_an_object_is_400_invalid(customer_client, product, raw):
    assert_error(send(customer_client, "POST", "/orders/", raw), 400, "invalid")


def test_hostile_empty_body_is_refused_with_a_400(customer_client, product):
    response = send(customer_client, "POST", "/orders/", b"")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid", "parse_error")


# --- media types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/json-patch+json",
        "image/png",
        "",
    ],
)
def test_hostile_body_that_is_not_json_media_is_415(customer_client, product, content_type):
    raw = json.dumps({"product_id": product.pk, "quantity": 1})
    response = send(customer_client, "POST", "/orders/", raw, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert not Order.objects.exists()


def test_hostile_json_with_a_charset_parameter_is_still_json(customer_client, product):
    raw = json.dumps({"product_id": product.pk, "quantity": 1})
    response = send(customer_client, "POST", "/orders/", raw, "application/json; charset=utf-8")
    assert response.status_code == 201


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png", "text/csv"])
@pytest.mark.parametrize("path", ["/products/", "/health", "/summary", "/orders/"])
def test_hostile_unacceptable_accept_header_is_406(customer_client, path, accept):
    response = customer_client.get(path, HTTP_ACCEPT=accept)
    assert_error(response, 406, "not_acceptable")


def test_hostile_accept_header_with_json_among_others_is_served(anon_client, db):
    response = anon_client.get("/products/", HTTP_ACCEPT="text/html, application/json;q=0.9")
    assert response.status_code == 200


# --- sizes ---------------------------------------------------------------------------------


def test_hostile_body_over_1_mib_is_413(customer_client, product):
    raw = json.dumps({"product_id": product.pk, "quantity": 1, "pad": "x" * MIB})
    assert_error(send(customer_client, "POST", "/orders/", raw), 413, "payload_too_large")


def test_hostile_body_over_1_mib_is_413_on_every_write(staff_client, product):
    raw = b"{" + b" " * (MIB + 1) + b"}"
    for method, path in [
        ("POST", "/products/"),
        ("PATCH", f"/products/{product.pk}"),
        ("POST", f"/products/{product.pk}/restock"),
        ("POST", "/auth/token"),
        ("POST", "/orders/1/pay"),
    ]:
        assert_error(send(staff_client, method, path, raw), 413, "payload_too_large")


def test_hostile_body_just_under_1_mib_is_read(customer_client, product):
    raw = b'{"product_id": %d, "quantity": 1}' % product.pk
    raw = raw + b" " * (MIB - len(raw))
    assert send(customer_client, "POST", "/orders/", raw).status_code == 201


def test_hostile_many_order_lines_are_refused(customer_client, product):
    items = [{"product_id": product.pk, "quantity": 1}] * 101
    error = assert_error(
        customer_client.post("/orders/", {"items": items}, format="json"), 400, "invalid"
    )
    assert "items" in error["details"]


@pytest.mark.parametrize("field", ["name", "sku"])
def test_hostile_over_long_strings_are_400_invalid(staff_client, db, field):
    body = {"sku": "LONG-1", "name": "Long", "price": "1.00", "stock": 1}
    body[field] = "x" * 100_000
    error = assert_error(staff_client.post("/products/", body, format="json"), 400, "invalid")
    assert field in error["details"]
    assert not Product.objects.exists()


def test_hostile_over_long_login_fields_are_400_invalid(anon_client, db):
    body = {"username": "u" * 10_000, "password": "p" * 10_000}
    error = assert_error(anon_client.post("/auth/token", body, format="json"), 400, "invalid")
    assert set(error["details"]) == {"username", "password"}
