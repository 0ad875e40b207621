"""Who may do what: staff, a customer, another customer and an anonymous caller on every route."""

import pytest

from inventory.models import Product
from orders import services as order_services
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit

pytestmark = pytest.mark.django_db

ROLES = ["staff", "customer", "other", "anon"]
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # PBKDF2 costs ~0.4 s a user here, and every new test client's WhiteNoise would scan all
    # static files (~85 ms); these tests are about neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_AUTOREFRESH = True


def route(method, path, body=None, **expected):
    """`expected` maps a role to the status it gets; the customer owns the order in the path."""
    assert set(expected) == set(ROLES)
    return method, path, body, expected


# Paths and bodies name `{product}` (has orders), `{spare}` (has none) and `{order}` (the
# customer's pending order).
MATRIX = [
    route("get", "/products/", staff=200, customer=200, other=200, anon=200),
    route("get", "/products/{product}", staff=200, customer=200, other=200, anon=200),
    route(
        "post",
        "/products/",
        {"sku": "NEW-1", "name": "New", "price": "1.00", "stock": 1},
        staff=201,
        customer=403,
        other=403,
        anon=401,
    ),
    route(
        "patch",
        "/products/{product}",
        {"name": "Renamed"},
        staff=200,
        customer=403,
        other=403,
        anon=401,
    ),
    route(
        "post",
        "/products/{product}/restock",
        {"quantity": 5},
        staff=200,
        customer=403,
        other=403,
        anon=401,
    ),
    route("delete", "/products/{spare}", staff=204, customer=403, other=403, anon=401),
    route("get", "/orders/", staff=200, customer=200, other=200, anon=401),
    route(
        "post",
        "/orders/",
        {"product_id": "{product}", "quantity": 1},
        staff=201,
        customer=201,
        other=201,
        anon=401,
    ),
    route("get", "/orders/{order}", staff=200, customer=200, other=404, anon=401),
    # Staff see every order, but only the customer who placed one pays for it.
    route("post", "/orders/{order}/pay", staff=403, customer=200, other=404, anon=401),
    route("post", "/orders/{order}/cancel", staff=200, customer=200, other=404, anon=401),
    route("get", "/health", staff=200, customer=200, other=200, anon=200),
    route("get", "/summary", staff=200, customer=200, other=200, anon=200),
    route("delete", "/auth/token", staff=204, customer=204, other=204, anon=401),
]

CASES = [
    pytest.param(method, path, body, role, expected[role], id=f"{role}-{method}-{path}")
    for method, path, body, expected in MATRIX
    for role in ROLES
]


@pytest.fixture
def world(customer, make_product):
    product = make_product(stock=100)
    spare = make_product(stock=3)
    placed = order_services.order_place(customer=customer, lines=[(product.pk, 2)])
    return {"product": product.pk, "spare": spare.pk, "order": placed.order.pk}


@pytest.fixture
def client_as(request):
    names = {"staff": "staff_client", "customer": "customer_client", "other": "other_client"}

    def _client(role):
        return request.getfixturevalue(names.get(role, "anon_client"))

    return _client


def fill(template, ids):
    if isinstance(template, str):
        filled = template.format(**ids)
        return int(filled) if template.startswith("{") and filled.isdigit() else filled
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


@pytest.mark.parametrize("method, path, body, role, status", CASES)
def test_permission_matrix(world, client_as, method, path, body, role, status):
    client = client_as(role)
    order_status_before = Order.objects.get(pk=world["order"]).status

    response = getattr(client, method)(fill(path, world), fill(body, world), format="json")

    assert response.status_code == status, response.content
    if status in ERROR_CODES:
        assert response.json()["error"]["code"] == ERROR_CODES[status]
        # A refused request changes nothing.
        assert Order.objects.get(pk=world["order"]).status == order_status_before
    assert stock_audit().ok


def test_permission_other_customers_order_is_absent_from_their_list(
    world, customer_client, other_client
):
    mine = customer_client.get("/orders/").json()
    theirs = other_client.get("/orders/").json()

    assert [o["id"] for o in mine["orders"]] == [world["order"]]
    assert theirs == {"count": 0, "next": None, "previous": None, "orders": []}
    assert other_client.get("/orders/", {"status": "pending"}).json()["count"] == 0


def test_permission_other_customers_pay_and_cancel_change_nothing(world, other_client):
    paid = other_client.post(f"/orders/{world['order']}/pay")
    cancelled = other_client.post(f"/orders/{world['order']}/cancel")

    assert paid.status_code == cancelled.status_code == 404
    assert paid.json()["error"]["code"] == cancelled.json()["error"]["code"] == "not_found"
    assert Order.objects.get(pk=world["order"]).status == OrderStatus.PENDING
    assert Product.objects.get(pk=world["product"]).stock == 98


def test_permission_foreign_order_looks_like_a_missing_one(world, other_client):
    foreign = other_client.get(f"/orders/{world['order']}")
    missing = other_client.get(f"/orders/{world['order'] + 1000}")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def test_permission_staff_sees_all_orders(world, staff_client, other_client, other_customer):
    theirs = other_client.post(
        "/orders/", {"product_id": world["product"], "quantity": 1}, format="json"
    ).json()

    body = staff_client.get("/orders/").json()
    detail = staff_client.get(f"/orders/{theirs['id']}")

    assert body["count"] == 2
    assert {o["id"] for o in body["orders"]} == {world["order"], theirs["id"]}
    assert detail.status_code == 200


def test_permission_staff_may_cancel_any_order_and_stock_returns(world, staff_client):
    response = staff_client.post(f"/orders/{world['order']}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Product.objects.get(pk=world["product"]).stock == 100
    assert stock_audit().ok


def test_permission_auth_is_checked_before_the_object_exists(anon_client, customer_client, db):
    anon = anon_client.post("/products/424242/restock", {"quantity": 1}, format="json")
    customer = customer_client.delete("/products/424242")
    anon_order = anon_client.post("/orders/424242/cancel")

    assert (anon.status_code, anon.json()["error"]["code"]) == (401, "not_authenticated")
    assert (customer.status_code, customer.json()["error"]["code"]) == (403, "permission_denied")
    assert (anon_order.status_code, anon_order.json()["error"]["code"]) == (
        401,
        "not_authenticated",
    )
