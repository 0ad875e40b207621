"""Product pages the page cache and the product cache keep across orders, and who may read them.

An order names the products whose stock it changed (inventory.cache.products_changed), so only
those products' own pages and the list pages go; every other write still invalidates every page.
Both ways of keeping the versions are tried: the embedded stamps beside the SQLite database, and
the shared cache's keys (the local-memory cache standing in for Redis, fine in one process).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import cache as product_cache
from inventory import services as inventory_services
from orders import services as order_services


@pytest.fixture(params=["embedded stamps", "shared cache keys"])
def cached(request, settings, monkeypatch):
    settings.PRODUCT_CACHE_SECONDS = 30
    settings.PRODUCT_PAGE_MEMO_MS = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if request.param == "shared cache keys":
        monkeypatch.setattr(product_cache, "embedded_version", lambda: None)
        monkeypatch.setattr(product_cache, "embedded_product_versions", lambda: None)
    elif connection.vendor != "sqlite":
        pytest.skip("the embedded stamps are kept beside an SQLite database")
    else:
        assert product_cache.embedded_product_versions() is not None


def read(client, url: str) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.json(), len(queries)


@pytest.mark.django_db(transaction=True)
def test_an_order_leaves_the_other_products_pages_cached(
    cached, anon_client, customer, make_product
):
    ordered, other = make_product(stock=10), make_product(stock=20)
    for product in (ordered, other):
        read(anon_client, f"/products/{product.pk}")
    read(anon_client, "/products/")

    order_services.order_place(customer=customer, lines=[(ordered.pk, 3)])

    # the other product's page is still cached: no query
    page, queries = read(anon_client, f"/products/{other.pk}")
    assert (page["stock"], queries) == (20, 0)
    # the ordered product's page and every list page show the order at once
    page, queries = read(anon_client, f"/products/{ordered.pk}")
    assert page["stock"] == 7 and queries > 0
    listed, queries = read(anon_client, "/products/")
    assert {p["id"]: p["stock"] for p in listed["products"]} == {ordered.pk: 7, other.pk: 20}
    assert queries > 0


@pytest.mark.django_db(transaction=True)
def test_a_cancel_refreshes_its_products_pages(cached, anon_client, customer, make_product):
    product = make_product(stock=10)
    order = order_services.order_place(customer=customer, lines=[(product.pk, 4)]).order
    assert read(anon_client, f"/products/{product.pk}")[0]["stock"] == 6

    order_services.order_cancel(order=order)

    assert read(anon_client, f"/products/{product.pk}")[0]["stock"] == 10


@pytest.mark.django_db(transaction=True)
def test_a_restock_a_rename_or_a_new_product_leave_the_other_products_pages_cached(
    cached, anon_client, make_product
):
    changed, other = make_product(stock=1, name="Lamp"), make_product(stock=2, name="Mug")
    for url in (f"/products/{changed.pk}", f"/products/{other.pk}", "/products/"):
        read(anon_client, url)

    inventory_services.product_restock(product_id=changed.pk, quantity=5)
    inventory_services.product_update(product=changed, name="Big lamp")
    new = inventory_services.product_create(sku="NEW-1", name="New", price=Decimal("1"), stock=1)

    page, queries = read(anon_client, f"/products/{other.pk}")
    assert (page["name"], queries) == ("Mug", 0)
    page, _ = read(anon_client, f"/products/{changed.pk}")
    assert (page["name"], page["stock"]) == ("Big lamp", 6)
    listed, _ = read(anon_client, "/products/")
    assert [p["id"] for p in listed["products"]] == [changed.pk, other.pk, new.pk]
    assert read(anon_client, f"/products/{new.pk}")[0]["sku"] == "NEW-1"


@pytest.mark.django_db(transaction=True)
def test_a_write_naming_no_products_invalidates_every_page(cached, anon_client, make_product):
    kept, deleted = make_product(name="Lamp"), make_product(name="Mug")
    read(anon_client, f"/products/{kept.pk}")
    assert read(anon_client, f"/products/{deleted.pk}")[1] > 0
    assert read(anon_client, f"/products/{deleted.pk}")[1] == 0

    inventory_services.product_delete(product_id=deleted.pk)

    assert read(anon_client, f"/products/{kept.pk}")[1] > 0
    assert anon_client.get(f"/products/{deleted.pk}").status_code == 404
