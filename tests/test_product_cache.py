"""The product read cache (inventory/cache.py) and the fast product output.

A cached read may be a moment old, never wrong after a write has committed: every write through
inventory.services replaces the catalogue version once it commits. These tests commit for real
(transaction=True), since the invalidation runs on commit; the local-memory cache stands in for
Redis, which is fine in one process.
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import services as inventory_services
from inventory.exceptions import InsufficientStock
from orders import services as order_services


@pytest.fixture
def cached(settings):
    settings.PRODUCT_CACHE_SECONDS = 30
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def queries_for(client, url: str) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.json(), len(queries)


@pytest.mark.django_db(transaction=True)
def test_cached_list_is_served_without_queries_and_refreshed_by_a_stock_take(
    cached, anon_client, customer, make_product
):
    # given a page that has been read once
    product = make_product(stock=10)
    first, _ = queries_for(anon_client, "/products/")
    # when it is read again, then no query runs
    again, query_count = queries_for(anon_client, "/products/")
    assert again == first
    assert query_count == 0

    # when an order takes stock, then the next read shows it
    order_services.order_place(customer=customer, lines=[(product.pk, 3)])
    after, query_count = queries_for(anon_client, "/products/")
    assert after["products"][0]["stock"] == 7
    assert query_count > 0


@pytest.mark.django_db(transaction=True)
def test_cached_detail_follows_every_kind_of_product_write(
    cached, anon_client, customer, make_product
):
    product = make_product(stock=5, name="Lamp")
    url = f"/products/{product.pk}"
    assert anon_client.get(url).json()["stock"] == 5

    inventory_services.product_restock(product_id=product.pk, quantity=4)
    assert anon_client.get(url).json()["stock"] == 9

    inventory_services.product_update(product=product, name="Desk lamp", price=Decimal("3.50"))
    body = anon_client.get(url).json()
    assert (body["name"], body["price"]) == ("Desk lamp", "3.50")

    placed = order_services.order_place(customer=customer, lines=[(product.pk, 2)])
    assert anon_client.get(url).json()["stock"] == 7

    order_services.order_cancel(order=placed.order)
    assert anon_client.get(url).json()["stock"] == 9


@pytest.mark.django_db(transaction=True)
def test_cached_list_sees_created_and_deleted_products(cached, anon_client, make_product):
    make_product(sku="KEEP-1")
    assert anon_client.get("/products/").json()["count"] == 1

    gone = make_product(sku="GONE-1")
    assert anon_client.get("/products/").json()["count"] == 2

    inventory_services.product_delete(product_id=gone.pk)
    assert [p["sku"] for p in anon_client.get("/products/").json()["products"]] == ["KEEP-1"]
    assert anon_client.get(f"/products/{gone.pk}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_failed_order_leaves_the_cached_stock_right(cached, anon_client, customer, make_product):
    product = make_product(stock=2)
    assert anon_client.get(f"/products/{product.pk}").json()["stock"] == 2

    with pytest.raises(InsufficientStock):
        order_services.order_place(customer=customer, lines=[(product.pk, 3)])

    assert anon_client.get(f"/products/{product.pk}").json()["stock"] == 2


@pytest.mark.django_db(transaction=True)
def test_pages_with_other_queries_or_hosts_are_cached_apart(cached, anon_client, make_product):
    for _ in range(3):
        make_product()
    page_one = anon_client.get("/products/?page_size=2").json()
    page_two = anon_client.get("/products/?page_size=2&page=2").json()
    other_host = anon_client.get("/products/?page_size=2", HTTP_HOST="localhost").json()

    assert len(page_one["products"]) == 2 and len(page_two["products"]) == 1
    assert page_one["next"].startswith("http://testserver/")
    assert other_host["next"].startswith("http://localhost/")


@pytest.mark.django_db(transaction=True)
def test_bad_parameters_are_refused_whether_or_not_a_page_is_cached(cached, anon_client):
    assert anon_client.get("/products/").status_code == 200
    assert anon_client.get("/products/?in_stock=maybe").status_code == 400
    assert anon_client.get("/products/?page=99").status_code == 404
    assert anon_client.get("/products/?page=99").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_reads_fall_back_to_the_database_when_the_cache_is_down(
    cached, anon_client, make_product, monkeypatch
):
    product = make_product(stock=4)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set", down)

    assert anon_client.get(f"/products/{product.pk}").json()["stock"] == 4
    inventory_services.product_restock(product_id=product.pk, quantity=1)  # bump only logs
    assert anon_client.get(f"/products/{product.pk}").json()["stock"] == 5


@pytest.mark.django_db
def test_reads_inside_a_transaction_skip_the_cache(cached, anon_client, make_product):
    # pytest-django wraps this test in a transaction that never commits: a write's invalidation
    # would never run, so the cache must stay out of the way for the test to see its writes.
    product = make_product(stock=1)
    assert anon_client.get(f"/products/{product.pk}").json()["stock"] == 1
    inventory_services.product_restock(product_id=product.pk, quantity=1)
    assert anon_client.get(f"/products/{product.pk}").json()["stock"] == 2


# --- whole responses for anonymous reads (inventory/middleware.py) ------------------------------


def _headers(response) -> dict:
    return {k: v for k, v in response.items() if k != "X-Request-ID"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/products/", "/products", "/products/?page_size=2&page=2"])
def test_an_anonymous_hit_replays_the_whole_response_without_the_view(
    cached, anon_client, make_product, monkeypatch, path
):
    from inventory.apis import ProductListApi

    for _ in range(3):
        make_product()
    first = anon_client.get(path)
    assert first.status_code == 200

    def not_called(*args, **kwargs):
        raise AssertionError("the view ran for a cached page")

    monkeypatch.setattr(ProductListApi, "get", not_called)
    with CaptureQueriesContext(connection) as queries:
        again = anon_client.get(path)

    assert len(queries) == 0
    assert (again.status_code, again.content) == (200, first.content)
    assert _headers(again) == _headers(first)
    assert again["X-Request-ID"] and again["X-Request-ID"] != first["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_a_cached_detail_is_replayed_and_refreshed_by_a_write(cached, anon_client, make_product):
    product = make_product(stock=3)
    url = f"/products/{product.pk}/"
    first = anon_client.get(url)
    again = anon_client.get(url)
    assert again.content == first.content and _headers(again) == _headers(first)

    inventory_services.product_restock(product_id=product.pk, quantity=2)
    assert anon_client.get(url).json()["stock"] == 5


@pytest.mark.django_db(transaction=True)
def test_requests_that_could_differ_skip_the_cached_page(cached, anon_client, make_product):
    make_product()
    cached_page = anon_client.get("/products/")
    assert cached_page.status_code == 200

    # a bad token is refused on public endpoints too
    bad = anon_client.get("/products/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.status_code == 401
    # a body over the limit is still refused, even on a GET
    big = anon_client.get("/products/", CONTENT_LENGTH=str(2 * 1024 * 1024))
    assert big.status_code == 413
    # content negotiation still decides
    html = anon_client.get("/products/", HTTP_ACCEPT="text/html")
    assert html.status_code == 406
    # a host that is not allowed is refused before any cache is looked at
    assert anon_client.get("/products/", HTTP_HOST="evil.example").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_signed_in_reads_see_the_same_page(cached, anon_client, customer_client, make_product):
    make_product()
    anonymous = anon_client.get("/products/")
    signed_in = customer_client.get("/products/")
    assert signed_in.status_code == 200
    assert signed_in.json() == anonymous.json()


@pytest.mark.django_db(transaction=True)
def test_errors_are_not_cached(cached, anon_client, make_product):
    product = make_product()
    assert anon_client.get("/products/999999").status_code == 404
    assert anon_client.get(f"/products/{product.pk}").status_code == 200
    inventory_services.product_delete(product_id=product.pk)
    assert anon_client.get(f"/products/{product.pk}").status_code == 404
    assert anon_client.get(f"/products/{product.pk}").status_code == 404
