"""Abuse of authorization: probing other customers' orders through every route, and brute force.

tests/security/test_permissions.py holds the role matrix and tests/accounts/test_auth_api.py the
basic token and throttle behaviour; this module attacks. A customer walks the whole id space of
orders through every order route (with and without the trailing slash, under every status filter
and page),
reuses another customer's Idempotency-Key, smuggles fields into an order, authenticates with
revoked, orphaned or inactive tokens or with an admin session. Brute force on /auth/token is
played against a real gunicorn with two workers sharing the throttle count in Redis.
"""

import threading
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.throttling import LoginFailureThrottle
from inventory.models import Product
from orders import services as order_services
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit
from tests.conftest import client_for, make_user
from tests.support.databases import backend
from tests.support.http_request import is_error_shape, request
from tests.support.seed_database import CUSTOMER_PASSWORD
from tests.support.serving import gunicorn

ORDER_ROUTES = [
    ("get", "/orders/{}"),
    ("post", "/orders/{}/pay"),
    ("post", "/orders/{}/cancel"),
]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def not_found_body(response) -> dict:
    assert response.status_code == 404, response.content
    return response.json()


@pytest.fixture
def victims_orders(customer, make_product):
    """Alice's orders in every status; Bob has one of his own."""
    product = make_product(stock=100)
    ids = {}
    for status in OrderStatus.values:
        order = order_services.order_place(customer=customer, lines=[(product.pk, 2)]).order
        ids[status] = order.pk
    order_services.order_pay(order=Order.objects.get(pk=ids["paid"]), payer=customer)
    order_services.order_cancel(order=Order.objects.get(pk=ids["cancelled"]))
    Order.objects.filter(pk=ids["expired"]).update(expires_at=timezone.now() - timedelta(1))
    order_services.orders_expire_due()
    return ids, product


@pytest.mark.django_db
def test_abuse_walking_every_order_id_through_every_route_finds_only_your_own(
    victims_orders, other_customer, other_client, make_product
):
    ids, product = victims_orders
    own = other_client.post("/orders/", {"product_id": product.pk, "quantity": 1}, format="json")
    own_id = own.json()["id"]
    before = {o.pk: (o.status, o.paid_at, o.cancelled_at) for o in Order.objects.all()}
    stock_before = Product.objects.get(pk=product.pk).stock
    missing = own_id + 1000

    # when Bob tries every id there is (and one that is not) on every route, in both path forms
    for order_id in [*ids.values(), own_id, missing]:
        for method, template in ORDER_ROUTES:
            for path in (template.format(order_id), template.format(order_id) + "/"):
                response = getattr(other_client, method)(path)
                if order_id == own_id:
                    assert response.status_code in (200, 409), (path, response.content)
                    continue
                # then another customer's order is answered exactly like one that does not exist
                assert not_found_body(response) == not_found_body(
                    getattr(other_client, method)(template.format(missing))
                )

    # and nothing about Alice's orders or the stock changed
    after = {o.pk: (o.status, o.paid_at, o.cancelled_at) for o in Order.objects.all()}
    assert {k: v for k, v in after.items() if k != own_id} == {
        k: v for k, v in before.items() if k != own_id
    }
    assert Product.objects.get(pk=product.pk).stock in (stock_before, stock_before + 1)
    assert stock_audit().ok


@pytest.mark.django_db
@pytest.mark.parametrize("status", [None, *OrderStatus.values])
def test_abuse_no_status_filter_or_page_shows_another_customers_orders(
    victims_orders, other_client, status
):
    ids, _ = victims_orders
    query = {"page_size": 1, **({"status": status} if status else {})}
    seen = []
    for page in range(1, 4):
        response = other_client.get("/orders/", {**query, "page": page})
        if response.status_code == 404:
            break
        seen += [o["id"] for o in response.json()["orders"]]
    assert not set(seen) & set(ids.values())
    for path in ("/orders", "/orders/"):
        assert other_client.get(path, query).json()["count"] == 0


@pytest.mark.django_db
def test_abuse_another_customers_idempotency_key_neither_replays_nor_leaks(
    customer_client, other_client, make_product
):
    product = make_product(stock=10)
    body = {"product_id": product.pk, "quantity": 1}
    alices = customer_client.post("/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # when Bob sends Alice's key with her body, and then with another body
    same = other_client.post("/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other_body = {"product_id": product.pk, "quantity": 2}
    different = other_client.post("/orders/", other_body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    reused = other_client.post("/orders/", other_body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # then he gets an order of his own, never hers, and no 422 telling him she used the key
    assert alices.status_code == same.status_code == different.status_code == 201
    assert same.json()["id"] != alices.json()["id"]
    assert "Idempotent-Replayed" not in same.headers
    assert reused.status_code == 422  # his own key, reused by himself: that he may learn
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert Product.objects.get(pk=product.pk).stock == 10 - 1 - 1 - 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "smuggled",
    [
        {"customer": 1},
        {"customer_id": 1},
        {"status": "paid"},
        {"total": "0.00"},
        {"unit_price": "0.01"},
        {"id": 1},
        {"paid_at": "2026-01-01T00:00:00Z"},
    ],
    ids=lambda s: next(iter(s)),
)
def test_abuse_fields_smuggled_into_an_order_are_refused(
    customer_client, other_customer, make_product, smuggled
):
    product = make_product(stock=5)
    body = {"product_id": product.pk, "quantity": 1, **smuggled}
    response = customer_client.post("/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["details"]) == set(smuggled)
    assert not Order.objects.exists() and Product.objects.get(pk=product.pk).stock == 5


@pytest.mark.django_db
def test_abuse_smuggled_line_fields_are_refused(customer_client, make_product):
    product = make_product(stock=5)
    body = {"items": [{"product_id": product.pk, "quantity": 1, "unit_price": "0.00"}]}
    response = customer_client.post("/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "items": [{"unit_price": ["This field is not accepted here."]}]
    }


def assert_token_refused(client) -> None:
    for method, path in [
        ("get", "/orders/"),
        ("post", "/orders/"),
        ("get", "/orders/1"),
        ("post", "/orders/1/pay"),
        ("post", "/products/"),
        ("delete", "/auth/token"),
        ("get", "/products/"),  # a bad token is refused even where none is needed
    ]:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 401, (method, path, response.content)
        assert response.json()["error"]["code"] == "authentication_failed"
        assert response.headers["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
def test_abuse_revoked_token_is_refused_everywhere(customer):
    client = client_for(customer)
    assert client.delete("/auth/token").status_code == 204
    assert_token_refused(client)


@pytest.mark.django_db
def test_abuse_token_of_a_deactivated_staff_user_is_refused_everywhere(staff):
    client = client_for(staff)
    User.objects.filter(pk=staff.pk).update(is_active=False)
    assert_token_refused(client)


@pytest.mark.django_db
def test_abuse_token_of_a_deleted_user_is_refused_everywhere(db):
    ghost = make_user("ghost")
    key = ghost.auth_token.key
    ghost.delete()
    assert not Token.objects.filter(key=key).exists()
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert_token_refused(client)


@pytest.mark.django_db
def test_abuse_token_in_the_query_string_or_a_cookie_is_not_a_credential(customer, anon_client):
    key = customer.auth_token.key
    anon_client.cookies["Authorization"] = f"Token {key}"
    for response in [
        anon_client.get(f"/orders/?token={key}"),
        anon_client.get(f"/orders/?auth_token={key}"),
    ]:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_abuse_an_admin_session_does_not_authenticate_the_api(staff, anon_client):
    # A logged-in admin's browser must not be a way to write through the API (no CSRF surface).
    anon_client.force_login(staff)
    assert anon_client.get("/admin/").status_code == 200
    body = {"sku": "CSRF-1", "name": "Forged", "price": "1.00", "stock": 1}
    response = anon_client.post("/products/", body, format="json")
    assert response.status_code == 401
    assert not Product.objects.filter(sku="CSRF-1").exists()
    assert anon_client.get("/orders/").status_code == 401


@pytest.mark.django_db
def test_abuse_a_customer_cannot_write_products_with_any_method(customer_client, make_product):
    product = make_product(stock=5)
    attempts = [
        ("post", "/products/", {"sku": "X-1", "name": "x", "price": "1.00", "stock": 1}),
        ("patch", f"/products/{product.pk}", {"name": "pwned"}),
        ("patch", f"/products/{product.pk}/", {"price": "0.00"}),
        ("delete", f"/products/{product.pk}", None),
        ("post", f"/products/{product.pk}/restock", {"quantity": 1000}),
        ("post", f"/products/{product.pk}/restock/", {"quantity": 1}),
        ("put", f"/products/{product.pk}", {"name": "pwned"}),
    ]
    for method, path, body in attempts:
        response = getattr(customer_client, method)(path, body, format="json")
        assert response.status_code in (403, 405), (method, path)
        assert response.json()["error"]["code"] in ("permission_denied", "method_not_allowed")
    product.refresh_from_db()
    assert (product.name, product.stock, str(product.price)) == ("Widget", 5, "9.99")


# --- brute force on /auth/token -------------------------------------------------------------


def login(client, username, password, **extra):
    return client.post("/auth/token", {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_abuse_guessing_across_many_usernames_is_throttled_per_address(anon_client, customer):
    for i in range(10):
        assert login(anon_client, f"user{i}", "guess", format="json").status_code == 401
    response = login(anon_client, "alice", "correct-horse-9", format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    # The throttled attempt was not even checked: a right guess during lockout teaches nothing.
    assert "token" not in response.json()


@pytest.mark.django_db
def test_abuse_lockout_ends_when_the_window_passes(anon_client, customer):
    now = 1_000_000.0
    with mock.patch.object(LoginFailureThrottle, "timer", lambda self: now):
        for _ in range(10):
            login(anon_client, "alice", "wrong", format="json")
        locked = login(anon_client, "alice", "correct-horse-9", format="json")
        retry_after = int(locked.headers["Retry-After"])
        now += retry_after + 1
        freed = login(anon_client, "alice", "correct-horse-9", format="json")
    assert locked.status_code == 429 and 1 <= retry_after <= 60
    assert freed.status_code == 200


@pytest.mark.django_db
def test_abuse_logins_answer_503_when_the_shared_throttle_cache_is_down(
    anon_client, customer, customer_client, settings
):
    # A Redis nobody listens on: refused at once (and the settings bound a hanging one to 1 s).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.PRODUCT_CACHE_SECONDS = 0
    response = login(anon_client, "alice", "correct-horse-9", format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"]
    # Issued tokens keep working.
    assert customer_client.get("/orders/").status_code == 200


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="module")
def throttled_server(tmp_path_factory):
    """2 gunicorn workers behind a (simulated) TLS proxy, sharing the login count in Redis."""
    if not redis_reachable():
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    tmp = tmp_path_factory.mktemp("throttle")
    settings = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": f"h3-abuse-{uuid.uuid4().hex}",
        "LOGIN_THROTTLE_RATE": "4/min",
        "NUM_PROXIES": "1",
    }
    with backend("sqlite", tmp, **settings) as db:
        seed = db.seed  # customer0 logs in with CUSTOMER_PASSWORD
        with gunicorn(db.env, tmp / "gunicorn.log", workers=2) as server:
            yield server, seed


def attempt(port, client_address, password="wrong", forwarded=None):
    """A login through the proxy, which appends the client's address to X-Forwarded-For."""
    chain = f"{forwarded}, {client_address}" if forwarded else client_address
    return request(
        port,
        "POST",
        "/auth/token",
        body={"username": "customer0", "password": password},
        headers={"X-Forwarded-For": chain},
    )


LIMIT = 4
WORKERS = 2


@pytest.mark.slow
def test_abuse_brute_force_across_two_workers_is_held_to_one_shared_limit(throttled_server):
    server, _ = throttled_server
    # when one address guesses again and again (the workers take turns serving it)
    replies = [attempt(server.port, "198.51.100.1") for _ in range(LIMIT + 6)]

    # then exactly LIMIT guesses are checked, and every later one is throttled
    assert [r.status for r in replies] == [401] * LIMIT + [429] * 6
    for reply in replies[LIMIT:]:
        assert is_error_shape(reply, "throttled") and int(reply.headers["retry-after"]) >= 1
    # Even the right password is refused now; spoofing an earlier hop changes nothing.
    assert attempt(server.port, "198.51.100.1", CUSTOMER_PASSWORD).status == 429
    spoofed = attempt(server.port, "198.51.100.1", CUSTOMER_PASSWORD, forwarded="203.0.113.9")
    assert spoofed.status == 429
    # Another address (a real user) logs in at once.
    assert attempt(server.port, "198.51.100.200", CUSTOMER_PASSWORD).status == 200


@pytest.mark.slow
def test_abuse_parallel_brute_force_is_held_to_exactly_the_shared_limit(throttled_server):
    server, seed = throttled_server
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def guesser() -> None:
        barrier.wait()
        for _ in range(2):
            statuses.append(attempt(server.port, "198.51.100.2").status)

    threads = [threading.Thread(target=guesser) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    print(
        f"\n[brute-force] 16 parallel guesses: {statuses.count(401)} checked, "
        f"{statuses.count(429)} throttled (limit {LIMIT}, {WORKERS} workers)"
    )

    assert len(statuses) == 16 and set(statuses) <= {401, 429}
    # Each guess reserves its place (cache.incr in Redis) before its password is checked, so no
    # guess in flight in either worker slips past. Without the shared count each worker would
    # allow LIMIT (2 * LIMIT here).
    assert statuses.count(401) == LIMIT
    assert statuses.count(429) == 16 - LIMIT
    # Ordinary API traffic from a throttled address is not throttled.
    products = request(server.port, "GET", "/products/", token=seed.customers[0])
    assert products.status == 200
