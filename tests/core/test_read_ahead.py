"""core.read_ahead: keys read in one round trip, each answered once from it; an outage leaves
every reader to ask the cache itself. (The token read through the lane, against a real Redis:
tests/inventory/test_fast_reads.py.)"""

import pytest
from django.core.cache import cache

from core import read_ahead


def test_keys_read_ahead_are_answered_once_from_the_read():
    cache.set_many({"a": 1, "b": 2})
    with read_ahead.read_ahead(["a", "b", "missing"]):
        cache.set_many({"a": 10, "b": 20})  # written after the read
        assert read_ahead.get("a") == 1
        assert read_ahead.get_many(["b", "missing"]) == {"b": 2}
        # asked again: the cache itself
        assert read_ahead.get("a") == 10
        assert read_ahead.get_many(["b"]) == {"b": 20}
        assert read_ahead.get("missing") is None
    # outside the block: the cache
    assert read_ahead.get("a") == 10


def test_keys_not_all_read_ahead_come_from_the_cache():
    cache.set_many({"a": 1, "c": 3})
    with read_ahead.read_ahead(["a"]):
        cache.set_many({"a": 10, "c": 30})
        assert read_ahead.get_many(["a", "c"]) == {"a": 10, "c": 30}
        assert read_ahead.get("c") == 30
        assert read_ahead.get("a") == 1  # still held: get_many above did not take it


def test_nothing_to_read_asks_nothing(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("no round trip for no keys")

    monkeypatch.setattr(cache, "get_many", refuse)
    with read_ahead.read_ahead([]):
        pass


def test_an_outage_leaves_each_reader_to_the_cache(monkeypatch):
    cache.set("a", 1)
    real_get_many = cache.get_many
    down = {"now": True}

    def get_many(keys, *args, **kwargs):
        if down["now"]:
            raise ConnectionError("cache down")
        return real_get_many(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", get_many)
    with read_ahead.read_ahead(["a"]):
        down["now"] = False
        cache.set("a", 10)
        assert read_ahead.get("a") == 10
        assert read_ahead.get_many(["a"]) == {"a": 10}


def test_blocks_do_not_leak_into_each_other():
    cache.set_many({"a": 1, "b": 2})
    with read_ahead.read_ahead(["a"]):
        with read_ahead.read_ahead(["b"]):
            cache.set_many({"a": 10, "b": 20})
            assert read_ahead.get("a") == 10  # not read ahead by this block
            assert read_ahead.get("b") == 2
        assert read_ahead.get("a") == 1
    with pytest.raises(ZeroDivisionError), read_ahead.read_ahead(["a"]):
        raise ZeroDivisionError
    assert read_ahead.get("a") == 10
