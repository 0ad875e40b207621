"""The product read cache (inventory/cache.py) and the fast product output.

A cached read may be a moment old, never wrong after a write has committed: every write through
inventory.services replaces the catalogue version once it commits. These tests commit for real
(transaction=True), since the invalidation runs on commit; the local-memory cache stands in for
Redis, which is fine in one process.
"""

from decimal import Decimal

import orjson
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import cache as product_cache
from inventory import services as inventory_services
from inventory.exceptions import InsufficientStock
from orders import services as order_services


@pytest.fixture
def cached(settings):
    settings.PRODUCT_CACHE_SECONDS = 30
    # The worker memo is on by default wherever the cache is (the embedded default too): off here.
    settings.PRODUCT_PAGE_MEMO_MS = 0
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


# --- whole responses for anonymous reads, before Django (core/page_cache.py) ----------------


@pytest.fixture
def wsgi():
    """GET through shop.wsgi.application (the page cache, then Django): (status, headers, body)."""
    from django.test import RequestFactory

    from shop.wsgi import application, page_cache
    from tests.support.lane import run_wsgi

    factory = RequestFactory()
    page_cache.memo.clear()

    def get(path: str, **headers):
        status, response_headers, body = run_wsgi(application, factory.get(path, **headers).environ)
        return int(status.split()[0]), dict(response_headers), body

    get.page_cache = page_cache
    return get


def _without_request_id(headers: dict) -> dict:
    return {k: v for k, v in headers.items() if k != "X-Request-ID"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/products/", "/products", "/products/?page_size=2&page=2"])
def test_an_anonymous_hit_replays_the_whole_response_without_django(
    cached, wsgi, make_product, monkeypatch, path
):
    for _ in range(3):
        make_product()
    status, headers, body = wsgi(path)
    assert status == 200

    def not_called(environ, start_response):
        raise AssertionError("Django ran for a cached page")

    monkeypatch.setattr(wsgi.page_cache, "app", not_called)
    again_status, again_headers, again_body = wsgi(path)

    assert (again_status, again_body) == (200, body)
    assert _without_request_id(again_headers) == _without_request_id(headers)
    assert (
        again_headers["X-Request-ID"] and again_headers["X-Request-ID"] != headers["X-Request-ID"]
    )
    # a client's own request id is echoed, as the full stack does
    assert wsgi(path, HTTP_X_REQUEST_ID="trace-42")[1]["X-Request-ID"] == "trace-42"


@pytest.mark.django_db(transaction=True)
def test_a_cached_detail_is_refreshed_by_every_kind_of_write(cached, wsgi, customer, make_product):
    product = make_product(stock=3)
    url = f"/products/{product.pk}/"
    first = wsgi(url)
    assert wsgi(url)[2] == first[2]

    inventory_services.product_restock(product_id=product.pk, quantity=2)
    assert orjson.loads(wsgi(url)[2])["stock"] == 5
    order_services.order_place(customer=customer, lines=[(product.pk, 4)])
    assert orjson.loads(wsgi(url)[2])["stock"] == 1


@pytest.mark.django_db(transaction=True)
def test_requests_that_could_differ_skip_the_cached_page(cached, wsgi, make_product):
    make_product()
    assert wsgi("/products/")[0] == 200

    # a bad token is refused on public endpoints too
    assert wsgi("/products/", HTTP_AUTHORIZATION="Token not-a-real-token")[0] == 401
    # a body over the limit is still refused, even on a GET
    assert wsgi("/products/", CONTENT_LENGTH=str(2 * 1024 * 1024))[0] == 413
    # content negotiation still decides
    assert wsgi("/products/", HTTP_ACCEPT="text/html")[0] == 406
    # a host that is not allowed is refused: a page is stored only for a host Django accepted
    assert wsgi("/products/", HTTP_HOST="evil.example")[0] == 400
    assert wsgi("/products/", HTTP_HOST="evil.example")[0] == 400


@pytest.mark.django_db(transaction=True)
def test_pages_for_other_hosts_and_queries_are_stored_apart(cached, wsgi, make_product):
    for _ in range(3):
        make_product()
    wsgi("/products/?page_size=2")
    local = orjson.loads(wsgi("/products/?page_size=2", HTTP_HOST="localhost")[2])
    default = orjson.loads(wsgi("/products/?page_size=2")[2])
    assert local["next"].startswith("http://localhost/")
    assert default["next"].startswith("http://testserver/")
    assert len(orjson.loads(wsgi("/products/?page_size=2&page=2")[2])["products"]) == 1


@pytest.mark.django_db(transaction=True)
def test_signed_in_reads_see_the_same_page(cached, wsgi, customer, make_product):
    make_product()
    anonymous = wsgi("/products/")
    signed_in = wsgi("/products/", HTTP_AUTHORIZATION=f"Token {customer.auth_token.key}")
    assert signed_in[0] == 200
    assert orjson.loads(signed_in[2]) == orjson.loads(anonymous[2])


@pytest.mark.django_db(transaction=True)
def test_errors_are_not_stored(cached, wsgi, make_product):
    product = make_product()
    assert wsgi("/products/999999")[0] == 404
    assert wsgi(f"/products/{product.pk}")[0] == 200
    inventory_services.product_delete(product_id=product.pk)
    assert wsgi(f"/products/{product.pk}")[0] == 404
    assert wsgi(f"/products/{product.pk}")[0] == 404
    assert wsgi("/products/?in_stock=maybe")[0] == 400


@pytest.mark.django_db(transaction=True)
def test_off_without_a_cache_every_read_goes_through_django(
    wsgi, make_product, monkeypatch, settings
):
    settings.PRODUCT_CACHE_SECONDS = 0
    make_product()
    assert wsgi("/products/")[0] == 200
    calls = []
    django_app = wsgi.page_cache.app

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    monkeypatch.setattr(wsgi.page_cache, "app", counting)
    wsgi("/products/")
    wsgi("/products/")
    assert calls == ["/products/", "/products/"]


def test_responses_that_set_or_vary_on_cookies_are_not_stored():
    from core.page_cache import _storable

    assert _storable("200 OK", [("Content-Type", "application/json")])
    assert not _storable("200 OK", [("Set-Cookie", "a=b")])
    assert not _storable("200 OK", [("Vary", "Accept, Cookie")])
    assert not _storable("404 Not Found", [])


@pytest.mark.django_db(transaction=True)
def test_a_worker_answers_a_page_it_just_served_for_a_moment_then_asks_again(
    cached, settings, wsgi, customer, make_product, monkeypatch
):
    import time

    settings.PRODUCT_PAGE_MEMO_MS = 300
    product = make_product(stock=9)
    url = f"/products/{product.pk}"
    wsgi(url)  # stored in the shared cache
    wsgi(url)  # and remembered by this worker
    looked_up = []  # the page cache's questions to the shared cache
    shared_lookup = product_cache.cached_entry

    def lookup(name, *args, **kwargs):
        if name.startswith("page:"):
            looked_up.append(name)
        return shared_lookup(name, *args, **kwargs)

    monkeypatch.setattr(product_cache, "cached_entry", lookup)

    order_services.order_place(customer=customer, lines=[(product.pk, 2)])
    # within the moment: the remembered page, without asking the cache
    assert orjson.loads(wsgi(url)[2])["stock"] == 9
    assert looked_up == []
    # a client with a token reads through Django and the version check: its own write shows
    token = {"HTTP_AUTHORIZATION": f"Token {customer.auth_token.key}"}
    assert orjson.loads(wsgi(url, **token)[2])["stock"] == 7
    # after the moment: asked again, and the write shows
    time.sleep(0.35)
    assert orjson.loads(wsgi(url)[2])["stock"] == 7
    assert len(looked_up) == 1


def test_the_worker_memo_stays_bounded(settings, monkeypatch):
    from core import page_cache

    settings.PRODUCT_PAGE_MEMO_MS = 60_000
    monkeypatch.setattr(page_cache, "MEMO_MAX_PAGES", 3)
    pages = page_cache.PageCache(
        app=None, paths=product_cache.PRODUCT_READ_PATH, store=product_cache
    )
    for i in range(10):
        pages._remember(f"page-{i}", (b"{}", []), now=0.0)
        assert len(pages.memo) <= 3
    assert "page-9" in pages.memo
