"""A short-lived cache of product reads, invalidated by every product write.

Only reads go through it (GET /products/, GET /products/{id}); orders, pay and cancel never look
at it: they decide in the database. A cached page may be a moment old (at most
PRODUCT_CACHE_SECONDS, and normally only the moment between a write's commit and its
invalidation), never older: every write in inventory.services calls products_changed(), which
after the commit replaces the catalogue version that every entry is stored with.

Why this is safe with concurrent writers: a reader reads the version before it queries the
database and stores its result under that version. A write that commits after that read
replaces the version, so the entry is dead on arrival; a write that committed before it is in
the result. A read inside a transaction skips the cache, so it sees that transaction's writes.

On when PRODUCT_CACHE_SECONDS > 0 (the default with REDIS_URL, and on the embedded SQLite
database): the version must be one that every worker shares, since a per-process version could
not be invalidated across gunicorn workers. With Redis it is a Redis key. Without Redis, on an
SQLite database, it is an 8-byte stamp in a file beside the database that every worker maps
(core/shared_version.py: a memory read per cached read, a memory write per committed product
write), and each worker keeps the entries themselves in its own memory, checked against it.
If the cache is unreachable, reads go to the database and writes only log.
"""

import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from core.shared_version import SharedVersion, beside_embedded_database

logger = logging.getLogger("inventory.cache")

VERSION_KEY = "products:version"
# The reads whose whole responses core.page_cache may replay (shop/wsgi.py).
PRODUCT_READ_PATH = re.compile(r"^/products(?:/[1-9][0-9]{0,18})?/?$")
# Any expiry is safe (a new version only means misses); this one keeps stale keys from piling up.
VERSION_TTL_SECONDS = 24 * 3600
T = TypeVar("T")


def enabled() -> bool:
    return settings.PRODUCT_CACHE_SECONDS > 0


def embedded_version() -> SharedVersion | None:
    """The catalogue version every worker maps, when the cache is per process and the database
    an SQLite file on this machine; else None (the version lives in the shared cache)."""
    return beside_embedded_database("catalogue")


def _entry_key(name: str) -> str:
    return "products:" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()


def cached_entry(name: str) -> tuple[str | None, object | None]:
    """(the catalogue version now, the value cached for `name` under it or None).

    A version of None means: do not cache now (off, inside a transaction, or the cache is down).
    Read the version before the database, and store what the database gave under it.
    """
    if not enabled() or transaction.get_connection().in_atomic_block:
        return None, None
    key = _entry_key(name)
    shared = embedded_version()
    try:
        if shared is not None:
            version = shared.read()
            found = cache.get_many([key])
        else:
            found = cache.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=VERSION_TTL_SECONDS)
            version = cache.get(VERSION_KEY)
    except Exception:  # noqa: BLE001 - a cache outage must not take the catalogue down
        logger.warning("product cache unavailable; reading the database", exc_info=True)
        return None, None
    entry = found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        return version, entry[1]
    return version, None


def store_entry(name: str, version: str, value: object) -> None:
    try:
        cache.set(_entry_key(name), (version, value), timeout=settings.PRODUCT_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("product cache unavailable; not storing", exc_info=True)


def product_read_cached(name: str, build: Callable[[], T]) -> T:
    """build() once per catalogue version and `name` (a URL, say); exceptions are not cached."""
    version, value = cached_entry(name)
    if value is not None:
        return value
    value = build()
    if version is not None:
        store_entry(name, version, value)
    return value


def catalogue_version() -> str | None:
    """The catalogue version now, wherever it is kept (None: none yet, or the cache is down)."""
    shared = embedded_version()
    if shared is not None:
        return shared.read()
    try:
        return cache.get(VERSION_KEY)
    except Exception:  # noqa: BLE001
        return None


def _replace_version() -> None:
    shared = embedded_version()
    if shared is not None:
        shared.replace()
        return
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=VERSION_TTL_SECONDS)
    except Exception:  # noqa: BLE001 - entries still expire after PRODUCT_CACHE_SECONDS
        logger.warning("product cache unavailable; cached pages expire by themselves")


def products_changed() -> None:
    """Every product write calls this; cached reads are invalidated once the write commits."""
    if enabled():
        transaction.on_commit(_replace_version)
