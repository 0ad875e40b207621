"""The catalogue and product versions written to a real Redis in one round trip
(core.redis_cache.RedisCache.set_all_to_int, used by inventory.cache after every product write).

The readers are Django's own cache.get / get_many, so what the one-trip write stores must read
back exactly as cache.set_many would have stored it, with the same expiry. Skips without Redis on
127.0.0.1:6379; uses database 13 under its own key prefix and empties only its own keys.
"""

import pytest

from core.redis_cache import RedisCache
from inventory import cache as product_cache
from tests.inventory.conftest import PREFIX, REDIS_URL


def test_set_all_to_int_reads_back_as_set_many_writes(raw_redis):
    # given two backends on one Redis, one writing each way
    one_trip = RedisCache(REDIS_URL, {"KEY_PREFIX": PREFIX})
    # when one trip sets three keys to a 63-bit integer
    one_trip.set_all_to_int(["a", "b", "c"], 2**62 + 5, 120)
    one_trip.set_many({"d": 2**62 + 5}, timeout=120)
    # then Django's readers see the same integer under every key, as for set_many's key
    assert one_trip.get_many(["a", "b", "c", "d"]) == dict.fromkeys("abcd", 2**62 + 5)
    assert raw_redis.get(one_trip.make_key("a")) == raw_redis.get(one_trip.make_key("d"))
    # and each expires as asked
    assert all(0 < raw_redis.ttl(one_trip.make_key(name)) <= 120 for name in "abcd")


def test_set_all_to_int_survives_a_script_flush(raw_redis):
    # given a backend that has loaded its script once
    one_trip = RedisCache(REDIS_URL, {"KEY_PREFIX": PREFIX})
    one_trip.set_all_to_int(["a"], 1, 60)
    # when Redis forgets its scripts (a restart, SCRIPT FLUSH)
    raw_redis.script_flush()
    # then the next write sends the script again instead of failing
    one_trip.set_all_to_int(["a"], 2, 60)
    assert one_trip.get("a") == 2


@pytest.mark.django_db
def test_a_stock_write_replaces_the_catalogue_and_only_its_products_versions(redis_cache):
    # given versions for the catalogue, the details generation and two products
    redis_cache.set_many(
        {
            product_cache.VERSION_KEY: 1,
            product_cache.DETAILS_KEY: 2,
            "products:version:7": 3,
            "products:version:8": 4,
        }
    )
    # when product 7's stock changes (what products_changed runs on commit)
    product_cache._replace_version(frozenset([7]))
    # then the catalogue version and product 7's are one new integer; the rest are as they were
    found = redis_cache.get_many(
        [product_cache.VERSION_KEY, product_cache.DETAILS_KEY, "products:version:7"]
        + ["products:version:8"]
    )
    assert found[product_cache.VERSION_KEY] == found["products:version:7"]
    assert found[product_cache.VERSION_KEY] not in (1, 3)
    assert found[product_cache.DETAILS_KEY] == 2
    assert found["products:version:8"] == 4


@pytest.mark.django_db
def test_a_write_naming_no_products_replaces_the_details_generation(redis_cache, raw_redis):
    # given a catalogue version and a details generation
    redis_cache.set_many({product_cache.VERSION_KEY: 1, product_cache.DETAILS_KEY: 2})
    # when a delete or a bulk write commits
    product_cache._replace_version(None)
    # then both are replaced, with a day's expiry
    found = redis_cache.get_many([product_cache.VERSION_KEY, product_cache.DETAILS_KEY])
    assert found[product_cache.VERSION_KEY] == found[product_cache.DETAILS_KEY] not in (1, 2)
    ttl = raw_redis.ttl(redis_cache.make_key(product_cache.VERSION_KEY))
    assert 0 < ttl <= product_cache.VERSION_TTL_SECONDS


def test_versions_are_fresh_integers():
    versions = {product_cache.new_version() for _ in range(1000)}
    assert len(versions) == 1000
    assert all(type(v) is int and v > 0 for v in versions)
