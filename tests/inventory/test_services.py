"""inventory.services, called directly: each write, its invariant and each domain error."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import cache as product_cache
from inventory import services
from inventory.exceptions import DuplicateSku, InsufficientStock, ProductHasOrders
from inventory.models import Product
from inventory.services import ProductRow
from orders import services as order_services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Users are made per test; the production hasher would be most of these tests' time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cache_on(settings):
    settings.PRODUCT_CACHE_SECONDS = 30


def catalogue_version():
    # In the cache, or (the embedded SQLite default) in the file every worker maps.
    return product_cache.catalogue_version()


def rows(*skus: str, stock: int = 5) -> list[ProductRow]:
    return [ProductRow(sku, f"Name {sku}", Decimal("2.50"), stock) for sku in skus]


def test_product_create_sets_units_received_to_the_initial_stock():
    product = services.product_create(sku="A-1", name="Mug", price=Decimal("3.00"), stock=7)

    product.refresh_from_db()
    assert (product.sku, product.stock, product.units_received) == ("A-1", 7, 7)


def test_product_create_refuses_a_taken_sku(make_product):
    make_product(sku="A-1")

    with pytest.raises(DuplicateSku) as raised:
        services.product_create(sku="A-1", name="Again", price=Decimal("1"), stock=1)
    assert (raised.value.code, raised.value.details) == ("duplicate_sku", {"sku": "A-1"})


def test_product_bulk_create_is_one_insert_with_units_received_equal_to_stock():
    with CaptureQueriesContext(connection) as queries:
        created = services.product_bulk_create(rows=rows("B-1", "B-2", "B-3", stock=9))

    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert [p.sku for p in created] == ["B-1", "B-2", "B-3"]
    assert all(p.pk for p in created)
    stored = Product.objects.filter(sku__startswith="B-").values_list("stock", "units_received")
    assert list(stored) == [(9, 9)] * 3


def test_product_bulk_create_of_nothing_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert services.product_bulk_create(rows=[]) == []
    assert len(queries) == 0


def test_product_bulk_create_refuses_an_existing_sku_and_creates_none(make_product):
    make_product(sku="B-2")

    with pytest.raises(DuplicateSku) as raised:
        services.product_bulk_create(rows=rows("B-1", "B-2"))
    assert raised.value.details == {"sku": "B-2"}
    assert not Product.objects.filter(sku="B-1").exists()


def test_product_bulk_create_refuses_a_sku_given_twice():
    with pytest.raises(DuplicateSku) as raised:
        services.product_bulk_create(rows=rows("B-1", "B-1"))
    assert raised.value.details == {"sku": "B-1"}
    assert not Product.objects.exists()


def test_product_bulk_create_invalidates_the_cache_on_commit(
    cache_on, django_capture_on_commit_callbacks
):
    services.product_create(sku="C-0", name="First", price=Decimal("1"), stock=1)
    cache.set(product_cache.VERSION_KEY, "before")
    before = catalogue_version()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.product_bulk_create(rows=rows("C-1"))
    # Not before the commit: a reader in between would cache the old catalogue under a new version.
    assert catalogue_version() == before
    for callback in callbacks:
        callback()
    assert catalogue_version() not in (None, before)


def test_product_update_changes_name_and_price_but_never_stock(make_product):
    product = make_product(stock=4, price="1.00")

    updated = services.product_update(product=product, name="Jug", price=Decimal("2.00"))

    assert (updated.name, updated.price, updated.stock) == ("Jug", Decimal("2.00"), 4)


def test_product_restock_grows_stock_and_units_received_together(make_product):
    product = make_product(stock=4)

    restocked = services.product_restock(product_id=product.pk, quantity=6)

    assert (restocked.stock, restocked.units_received) == (10, 10)


def test_product_restock_of_a_missing_product_raises_does_not_exist():
    with pytest.raises(Product.DoesNotExist):
        services.product_restock(product_id=999_999, quantity=1)


def test_product_delete_removes_an_unordered_product(make_product):
    product = make_product()

    services.product_delete(product_id=product.pk)

    assert not Product.objects.filter(pk=product.pk).exists()


def test_product_delete_refuses_a_product_on_an_order(make_product, customer):
    product = make_product()
    order_services.order_place(customer=customer, lines=[(product.pk, 1)])

    with pytest.raises(ProductHasOrders) as raised:
        services.product_delete(product_id=product.pk)
    assert (raised.value.code, raised.value.details) == (
        "product_has_orders",
        {"product_id": product.pk},
    )
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_delete_of_a_missing_product_raises_does_not_exist():
    with pytest.raises(Product.DoesNotExist):
        services.product_delete(product_id=999_999)


def test_products_remove_removes_unordered_products_and_keeps_ordered_ones(make_product, customer):
    free, ordered, other = make_product(), make_product(), make_product()
    order_services.order_place(customer=customer, lines=[(ordered.pk, 1)])

    removed = services.products_remove(product_ids=[free.pk, ordered.pk])

    assert removed == 1
    assert set(Product.objects.values_list("pk", flat=True)) == {ordered.pk, other.pk}


def test_products_remove_after_orders_remove_removes_the_product(make_product, customer):
    product = make_product()
    order = order_services.order_place(customer=customer, lines=[(product.pk, 1)]).order

    order_services.orders_remove(order_ids=[order.pk])

    assert services.products_remove(product_ids=[product.pk]) == 1
    assert not Product.objects.exists()


def test_products_remove_invalidates_the_cache_on_commit(
    cache_on, make_product, django_capture_on_commit_callbacks
):
    product = make_product()
    cache.set(product_cache.VERSION_KEY, "before")
    before = catalogue_version()

    with django_capture_on_commit_callbacks(execute=True):
        services.products_remove(product_ids=[product.pk])

    assert catalogue_version() not in (None, before)


def test_stock_take_takes_every_line(make_product):
    mug, jug = make_product(stock=5), make_product(stock=5)

    services.stock_take(lines=[(jug, 2), (mug, 5)])

    assert dict(Product.objects.values_list("pk", "stock")) == {mug.pk: 0, jug.pk: 3}


def test_stock_take_short_line_raises_insufficient_stock_with_its_details(make_product):
    mug = make_product(stock=2, sku="MUG")

    with pytest.raises(InsufficientStock) as raised:
        services.stock_take(lines=[(mug, 3)])

    assert raised.value.code == "insufficient_stock"
    assert raised.value.details == {"product_id": mug.pk, "requested": 3, "available": 2}
    assert raised.value.message == "Only 2 left of MUG"
    mug.refresh_from_db()
    assert mug.stock == 2


def test_stock_return_gives_units_back(make_product):
    mug = make_product(stock=5)
    services.stock_take(lines=[(mug, 4)])

    services.stock_return(lines=[(mug.pk, 3)])

    mug.refresh_from_db()
    assert (mug.stock, mug.units_received) == (4, 5)
