"""Hostile URLs and headers: bad query parameters, path ids that are not ids, unknown URLs and
methods, Authorization garbage. Each answer is the 4xx docs/api.md names, in the error shape,
no 500.
"""

import pytest

from tests.security.hostile import assert_error, send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fast_password_hashing")]


# --- query parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "in_stock=maybe",
        "in_stock=",
        "in_stock=yes%00",
        "page=abc",
        "page=0",
        "page=-1",
        "page=1.5",
        "page=1e3",
        "page=%D9%A3",  # an Arabic-Indic digit: str.isdigit() says yes, int() would agree
        "page=" + "9" * 400,
        "page_size=0",
        "page_size=-5",
        "page_size=ten",
        "page_size=" + "9" * 40,
        "search=nul%00byte",
        "search=" + "s" * 300,
        "sku=" + "k" * 300,
    ],
)
def test_hostile_bad_value_of_a_known_product_query_param_is_400_invalid(anon_client, db, query):
    response = anon_client.get(f"/products/?{query}")
    error = assert_error(response, 400, "invalid")
    assert set(error["details"]) <= {"in_stock", "page", "page_size", "search", "sku"}


@pytest.mark.parametrize(
    "query", ["status=nope", "status=PAID", "status=", "page=x", "page_size=0"]
)
def test_hostile_bad_value_of_a_known_order_query_param_is_400_invalid(customer_client, query):
    assert_error(customer_client.get(f"/orders/?{query}"), 400, "invalid")


def test_hostile_page_past_the_end_is_404(anon_client, product):
    assert_error(anon_client.get("/products/?page=2"), 404, "not_found")
    assert_error(anon_client.get(f"/products/?page={2**31}"), 404, "not_found")


def test_hostile_unknown_query_params_are_ignored(anon_client, product):
    response = anon_client.get("/products/?colour=red&in_stock=true&%00=%00&page_size=999999")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_hostile_repeated_query_param_is_judged_by_its_value(anon_client, product):
    assert anon_client.get("/products/?in_stock=true&in_stock=false").status_code == 200
    assert_error(anon_client.get("/products/?in_stock=true&in_stock=maybe"), 400, "invalid")


# --- paths -----------------------------------------------------------------------------------


BAD_PATH_IDS = [
    "0",
    "-1",
    "9223372036854775808",  # 2**63: one past the largest bigint
    "99999999999999999999",
    "9" * 200,
    "1.0",
    "1e3",
    "abc",
    "%00",
    "1%00",
    "%D9%A3",
    "%201",
    "0x1",
]
ID_ROUTES = [
    ("GET", "/products/{}"),
    ("PATCH", "/products/{}"),
    ("DELETE", "/products/{}"),
    ("POST", "/products/{}/restock"),
    ("GET", "/orders/{}"),
    ("POST", "/orders/{}/pay"),
    ("POST", "/orders/{}/cancel"),
]


@pytest.mark.parametrize("path_id", BAD_PATH_IDS)
def test_hostile_path_id_that_is_not_a_positive_64_bit_integer_is_404(staff_client, path_id):
    for method, template in ID_ROUTES:
        for path in (template.format(path_id), template.format(path_id) + "/"):
            response = send(staff_client, method, path, b'{"quantity": 1}')
            assert_error(response, 404, "not_found")


@pytest.mark.parametrize("template", ["/products/{}", "/orders/{}", "/orders/{}/pay"])
def test_hostile_largest_path_id_is_a_plain_404(customer_client, template):
    response = send(
        customer_client,
        "GET" if template.count("/") == 2 else "POST",
        template.format(2**63 - 1),
        b"",
    )
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/nope", "/products/1/nope", "/admin%00", "/../etc/passwd", "/orders//pay", "/%ff"]
)
def test_hostile_unknown_urls_are_404_in_the_error_shape(anon_client, db, path):
    assert_error(anon_client.get(path), 404, "not_found")


@pytest.mark.parametrize("method", ["PUT", "TRACE", "PROPFIND", "PATCH"])
def test_hostile_unsupported_methods_are_405(staff_client, db, method):
    assert_error(send(staff_client, method, "/products/", b"{}"), 405, "method_not_allowed")


# --- authorization header garbage --------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Token ",
        "Token a b",
        "Token " + "f" * 10_000,
        "Token \x00\x01",
        "Token tökén",
        "Bearer abc",
        "Basic YWRtaW46YWRtaW4=",
    ],
    ids=repr,
)
def test_hostile_authorization_garbage_is_401_never_500(anon_client, db, header):
    response = anon_client.get("/orders/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("authentication_failed", "not_authenticated")
