"""Cache keys a request is about to read, fetched together in one round trip.

A product read with a token asked Redis twice: for the token's entry (accounts/token_cache.py),
then for the page's versions and entry (inventory/cache.py). Profiled in the standard mix, a
round trip through Django's cache and redis-py was the larger part of each. `read_ahead(keys)`
reads them with one MGET; inside it, `get` and `get_many` answer each of those keys once from
what it read, and anything else (or a key asked for again) from the cache.

A value read ahead is what a read a moment later would have given, and neither cache depends on
reading late: the token's tombstones and the catalogue's versions are still read before the
database is asked, as their modules require. If the cache cannot be read, nothing is read ahead
and each reader meets the outage itself, as before.
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("core.read_ahead")

_ABSENT = object()
_ahead: ContextVar[dict[str, Any] | None] = ContextVar("read_ahead", default=None)


@contextmanager
def read_ahead(keys: Iterable[str]) -> Iterator[None]:
    """Read `keys` now, in one round trip, for get() and get_many() inside the block."""
    wanted = list(dict.fromkeys(keys))
    found = None
    if wanted:
        try:
            found = cache.get_many(wanted)
        except Exception:  # noqa: BLE001 - each reader asks the cache and handles its outage
            logger.debug("read-ahead failed; each reader asks the cache", exc_info=True)
    if found is None:
        yield
        return
    token = _ahead.set({key: found.get(key, _ABSENT) for key in wanted})
    try:
        yield
    finally:
        _ahead.reset(token)


def get(key: str) -> Any:
    """cache.get(key), from what was read ahead if it holds the key."""
    ahead = _ahead.get()
    if ahead is not None and key in ahead:
        value = ahead.pop(key)
        return None if value is _ABSENT else value
    return cache.get(key)


def get_many(keys: list[str]) -> dict[str, Any]:
    """cache.get_many(keys), from what was read ahead if it holds every one of them."""
    ahead = _ahead.get()
    if ahead is not None and all(key in ahead for key in keys):
        found = {}
        for key in keys:
            value = ahead.pop(key, _ABSENT)
            if value is not _ABSENT:
                found[key] = value
        return found
    return cache.get_many(keys)
