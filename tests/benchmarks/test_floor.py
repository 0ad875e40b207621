"""The Python floor (benchmarks/floor_wsgi.py) called in-process on the test database: it does an
order's work as the shop does (201, stock taken, the invariant holds, the same JSON) and refuses
what the shop refuses (409 out of stock, nothing written; 401 without a token); with Redis, the
shop's Redis work too (the token read from its entry, the versions replaced after a commit).
PostgreSQL only."""

import hashlib
import io
import json
import uuid

import pytest
import redis
from django.db import connection
from psycopg.conninfo import make_conninfo

from benchmarks import floor_wsgi
from benchmarks.floor_wsgi import make_app
from core import redis_cache
from inventory.models import Product
from orders.models import Order
from orders.selectors import stock_audit, units_held_by_product

pytestmark = pytest.mark.django_db(transaction=True)


REDIS_URL = "redis://127.0.0.1:6379/13"


def database_dsn() -> str:
    if connection.vendor != "postgresql":
        pytest.skip("the floor speaks psycopg: run with DATABASE_URL=postgres://...")
    settings = connection.settings_dict
    return make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=str(settings["PORT"]) if settings["PORT"] else None,
    )


@pytest.fixture
def floor():
    app = make_app(database_dsn(), hold_minutes=15, redis_url="")
    yield app
    if app.conn is not None:
        app.conn.close()


@pytest.fixture
def cache():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    client.close()


@pytest.fixture
def redis_floor(cache):
    app = make_app(database_dsn(), hold_minutes=15, redis_url=REDIS_URL)
    app.key_prefix = f"test-floor-{uuid.uuid4().hex}"
    yield app
    if app.conn is not None:
        app.conn.close()
    keys = list(cache.scan_iter(match=f"{app.key_prefix}:*"))
    if keys:
        cache.delete(*keys)


def call(app, method: str, path: str, body: dict | None = None, token: str | None = None):
    raw = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Token {token}"
    answered = {}

    def start_response(status, headers):
        answered["status"] = int(status.split()[0])
        answered["headers"] = dict(headers)

    chunks = app(environ, start_response)
    return answered["status"], json.loads(b"".join(chunks))


def test_an_order_answers_201_takes_stock_and_keeps_the_invariant(floor, customer, make_product):
    product = make_product(stock=5, price="19.99")

    status, body = call(
        floor,
        "POST",
        "/orders/",
        {"product_id": product.pk, "quantity": 2},
        customer.auth_token.key,
    )

    assert status == 201
    assert body["status"] == "pending" and body["total"] == "39.98"
    assert body["items"] == [
        {"product_id": product.pk, "sku": product.sku, "quantity": 2, "unit_price": "19.99"}
    ]
    assert Product.objects.get(pk=product.pk).stock == 3
    order = Order.objects.get(pk=body["id"])
    assert order.customer_id == customer.pk
    assert units_held_by_product(product_ids=[product.pk]) == {product.pk: 2}
    assert stock_audit().ok


def test_the_floor_answers_the_shops_json(floor, customer, customer_client, make_product):
    product = make_product(stock=5)
    shop = customer_client.post(
        "/orders/", {"product_id": product.pk, "quantity": 1}, format="json"
    )

    status, body = call(
        floor,
        "POST",
        "/orders/",
        {"product_id": product.pk, "quantity": 1},
        customer.auth_token.key,
    )

    assert shop.status_code == status == 201
    expected = shop.json()
    assert list(body) == list(expected)
    assert list(body["items"][0]) == list(expected["items"][0])
    assert {k: body[k] for k in ("status", "total", "paid_at", "cancelled_at")} == {
        k: expected[k] for k in ("status", "total", "paid_at", "cancelled_at")
    }
    assert len(body["created_at"]) == len(expected["created_at"])


def test_out_of_stock_answers_409_and_writes_nothing(floor, customer, make_product):
    product = make_product(stock=1)
    orders_before = Order.objects.count()

    status, body = call(
        floor,
        "POST",
        "/orders/",
        {"product_id": product.pk, "quantity": 2},
        customer.auth_token.key,
    )

    assert status == 409
    assert body["error"]["code"] == "insufficient_stock"
    assert body["error"]["details"] == {"product_id": product.pk, "requested": 2, "available": 1}
    assert Product.objects.get(pk=product.pk).stock == 1
    assert Order.objects.count() == orders_before
    assert stock_audit().ok


def test_the_last_unit_goes_once(floor, customer, make_product):
    product = make_product(stock=1)
    order = {"product_id": product.pk, "quantity": 1}
    token = customer.auth_token.key

    assert call(floor, "POST", "/orders/", order, token)[0] == 201
    assert call(floor, "POST", "/orders/", order, token)[0] == 409
    assert Product.objects.get(pk=product.pk).stock == 0


def test_it_refuses_what_the_shop_refuses(floor, customer, make_product):
    product = make_product(stock=3)
    order = {"product_id": product.pk, "quantity": 1}

    assert call(floor, "POST", "/orders/", order)[1]["error"]["code"] == "not_authenticated"
    assert call(floor, "POST", "/orders/", order, "not-a-token")[0] == 401
    bad = call(floor, "POST", "/orders/", {"product_id": product.pk, "quantity": 0}, "x")
    assert bad[0] == 401  # authentication comes first, as in the shop
    token = customer.auth_token.key
    assert (
        call(floor, "POST", "/orders/", {"product_id": product.pk, "quantity": 0}, token)[0] == 400
    )
    missing = call(floor, "POST", "/orders/", {"product_id": 10**9, "quantity": 1}, token)
    assert missing[0] == 400 and missing[1]["error"]["details"] == {
        "product_id": ["No such product."]
    }
    assert call(floor, "GET", "/health")[0] == 200
    assert call(floor, "GET", "/nope")[0] == 404
    assert Product.objects.get(pk=product.pk).stock == 3


def token_entry(app, token: str) -> str:
    return f"{app.key_prefix}:floor:token:{hashlib.sha256(token.encode()).hexdigest()}"


def versions(app, product_id: int) -> list[str]:
    prefix = f"{app.key_prefix}:floor:products:version"
    return [prefix, f"{prefix}:{product_id}"]


def test_with_redis_the_token_is_remembered_and_read_from_its_entry(
    redis_floor, cache, customer, other_customer, make_product
):
    product = make_product(stock=5)
    order = {"product_id": product.pk, "quantity": 1}
    token = customer.auth_token.key

    assert call(redis_floor, "POST", "/orders/", order, token)[0] == 201
    entry = token_entry(redis_floor, token)
    assert int(cache.get(entry)) == customer.pk
    assert 0 < cache.ttl(entry) <= 60

    # Read from the entry, not the database: an entry naming another user places its order.
    cache.set(entry, other_customer.pk)
    status, body = call(redis_floor, "POST", "/orders/", order, token)
    assert status == 201
    assert Order.objects.get(pk=body["id"]).customer_id == other_customer.pk


def test_the_floor_replaces_versions_with_the_shops_own_script():
    # The floor imports nothing of the shop's (no Django): its copy must not drift.
    assert floor_wsgi.SET_ALL_EXPIRING == redis_cache.SET_ALL_EXPIRING
    assert floor_wsgi.SET_ALL_EXPIRING_SHA == redis_cache.SET_ALL_EXPIRING_SHA


def test_with_redis_a_placed_order_replaces_the_versions_and_a_refused_one_does_not(
    redis_floor, cache, customer, make_product
):
    product = make_product(stock=1)
    order = {"product_id": product.pk, "quantity": 1}
    token = customer.auth_token.key
    catalogue, own = versions(redis_floor, product.pk)
    cache.script_flush()  # a new server: the floor sends its script once

    assert call(redis_floor, "POST", "/orders/", order, token)[0] == 201
    first = cache.mget(catalogue, own)
    assert first[0] is not None and first[0] == first[1]
    assert 0 < cache.ttl(catalogue) <= 24 * 3600

    cache.delete(catalogue, own)
    assert call(redis_floor, "POST", "/orders/", order, token)[0] == 409
    assert cache.mget(catalogue, own) == [None, None]


def test_with_redis_down_the_floor_reads_the_database(customer, make_product):
    app = make_app(database_dsn(), hold_minutes=15, redis_url="redis://127.0.0.1:9/0")
    product = make_product(stock=2)
    try:
        order = {"product_id": product.pk, "quantity": 1}
        assert call(app, "POST", "/orders/", order, customer.auth_token.key)[0] == 201
        assert call(app, "POST", "/orders/", order, "not-a-token")[0] == 401
    finally:
        if app.conn is not None:
            app.conn.close()
    assert Product.objects.get(pk=product.pk).stock == 1
