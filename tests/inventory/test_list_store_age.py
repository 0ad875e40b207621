"""A list page goes to the shared cache only under a catalogue version old enough to outlive the
write (inventory.cache._worth_storing): versions tell when they were made, and under a stream of
orders a page stored under a version of a few milliseconds died unread. Against a real Redis,
as in production (skips without one); the embedded default stores every page in memory."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import cache as product_cache

CENTISECOND = 1 << product_cache.VERSION_RANDOM_BITS  # one step of a version's birth time


@pytest.fixture
def list_store_age(redis_cache, settings):
    # A minute, not the default 50 ms: a test's first request alone may take 50 ms.
    settings.PRODUCT_LIST_STORE_MIN_AGE_MS = 60_000
    settings.PRODUCT_PAGE_MEMO_MS = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return redis_cache


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_version_tells_how_old_it_is():
    version = product_cache.new_version()
    assert 0 <= product_cache.version_age_ms(version) < 1000
    assert 990 <= product_cache.version_age_ms(version - 100 * CENTISECOND) < 2000
    # a version from before versions told their time, the embedded stamps, a test's string
    assert product_cache.version_age_ms(2**63 - 1) is None
    assert product_cache.version_age_ms(b"\x01" * 8) is None
    assert product_cache.version_age_ms("before") is None


@pytest.mark.django_db(transaction=True)
def test_a_list_page_is_stored_only_once_its_version_is_old_enough(
    list_store_age, anon_client, make_product
):
    make_product(stock=5)
    # given a catalogue version made just now, as after an order
    list_store_age.set(product_cache.VERSION_KEY, product_cache.new_version())
    # when the page is read twice, then both reads ask the database: nothing was stored
    assert queries_for(anon_client, "/products/") > 0
    assert queries_for(anon_client, "/products/") > 0

    # given a version made two minutes ago (no write since)
    aged = product_cache.new_version() - 12_000 * CENTISECOND
    list_store_age.set(product_cache.VERSION_KEY, aged)
    # when the page is read, it is stored, and the next read asks nothing of the database
    assert queries_for(anon_client, "/products/") > 0
    assert queries_for(anon_client, "/products/") == 0
    # and a write that replaces the version is seen at once
    list_store_age.set(product_cache.VERSION_KEY, product_cache.new_version())
    assert queries_for(anon_client, "/products/") > 0


@pytest.mark.django_db(transaction=True)
def test_a_product_page_is_stored_under_a_version_of_any_age(
    list_store_age, anon_client, make_product
):
    product = make_product(stock=5)
    list_store_age.set(product_cache.VERSION_KEY, product_cache.new_version())
    list_store_age.set(product_cache.DETAILS_KEY, product_cache.new_version())

    assert queries_for(anon_client, f"/products/{product.id}") > 0
    assert queries_for(anon_client, f"/products/{product.id}") == 0


@pytest.mark.django_db(transaction=True)
def test_with_no_minimum_age_a_list_page_is_stored_at_once(
    list_store_age, settings, anon_client, make_product
):
    settings.PRODUCT_LIST_STORE_MIN_AGE_MS = 0
    make_product(stock=5)
    list_store_age.set(product_cache.VERSION_KEY, product_cache.new_version())

    assert queries_for(anon_client, "/products/") > 0
    assert queries_for(anon_client, "/products/") == 0
