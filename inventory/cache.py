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

A product's own page (GET /products/{id}) is stored under a version of its own instead: the
details generation and that product's stamp. A write that changes only some products' rows (an
order's stock_take or stock_return, a restock, a rename; a new product changes none) names them,
so it replaces the catalogue version (every list page shows stock) and the stamps of those
products only; the other products' pages stay cached. A write that names nothing (a delete, the
bulk writes) replaces the details generation too, so it invalidates every page as before.
Measured in the standard mix (README, Performance), an order had left under 4 % of product reads
cached; with per-product versions about twice as many detail pages survive. On the embedded path
the stamps are DETAIL_SLOTS 8-byte slots of one mapped file (slot 0 the generation, a product
the slot of its id modulo the rest: two products sharing a slot only invalidate each other).

A list page goes to the shared cache only under a catalogue version at least
PRODUCT_LIST_STORE_MIN_AGE_MS old (a Redis version tells when it was made): every order replaces
that version, so under a stream of orders a stored page was a Redis write that nobody read back.
Product pages, and the embedded path's entries (a memory write), are always stored.
"""

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from core import read_ahead
from core.shared_version import SharedVersion, beside_embedded_database

logger = logging.getLogger("inventory.cache")

VERSION_KEY = "products:version"
DETAILS_KEY = "products:details"
# Slots of the embedded per-product stamps: 32 KB mapped, slot 0 is the details generation.
DETAIL_SLOTS = 4096
# The reads whose whole responses core.page_cache may replay (shop/wsgi.py); group 1: the id.
PRODUCT_READ_PATH = re.compile(r"^/products(?:/([1-9][0-9]{0,18}))?/?$")
# Any expiry is safe (a new version only means misses); this one keeps stale keys from piling up.
VERSION_TTL_SECONDS = 24 * 3600
# A version from new_version(): the centiseconds since VERSION_EPOCH_NS it was made at, above
# VERSION_RANDOM_BITS random bits.
VERSION_RANDOM_BITS = 64
VERSION_EPOCH_NS = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z
T = TypeVar("T")


def enabled() -> bool:
    return settings.PRODUCT_CACHE_SECONDS > 0


def embedded_version() -> SharedVersion | None:
    """The catalogue version every worker maps, when the cache is per process and the database
    an SQLite file on this machine; else None (the version lives in the shared cache)."""
    return beside_embedded_database("catalogue")


def embedded_product_versions() -> SharedVersion | None:
    """The details generation and per-product stamps every worker maps (embedded path only)."""
    return beside_embedded_database("products", DETAIL_SLOTS)


def new_version() -> int:
    """A version nobody has used (64 random bits), which also tells when it was made (the
    centiseconds since VERSION_EPOCH_NS above them): an integer, which the Redis cache stores
    unpickled."""
    born = max(time.time_ns() - VERSION_EPOCH_NS, 0) // 10_000_000
    return born << VERSION_RANDOM_BITS | secrets.randbits(VERSION_RANDOM_BITS)


def version_age_ms(version: object) -> float | None:
    """How long ago new_version() made `version`; None for one that does not say (a version of
    the embedded stamps, or one made before versions told their time)."""
    if type(version) is not int or version >> VERSION_RANDOM_BITS <= 0:
        return None
    born_ns = VERSION_EPOCH_NS + (version >> VERSION_RANDOM_BITS) * 10_000_000
    return (time.time_ns() - born_ns) / 1_000_000


def _worth_storing(version: object) -> bool:
    """Whether an entry read under `version` is worth a write to the shared cache: not a list page
    under a catalogue version younger than PRODUCT_LIST_STORE_MIN_AGE_MS. Every order replaces
    that version, so while orders come every few milliseconds a stored list page dies before
    anyone reads it (the standard mix stored one per list request and read almost none back);
    a young version says that writes are coming fast. Not storing never serves anything stale."""
    min_age = settings.PRODUCT_LIST_STORE_MIN_AGE_MS
    if min_age <= 0:
        return True
    age = version_age_ms(version)
    return age is None or age >= min_age


def _slot(product_id: int) -> int:
    return 1 + product_id % (DETAIL_SLOTS - 1)


def _product_key(product_id: int) -> str:
    return f"products:version:{product_id}"


def _path_product(path: str | None) -> int | None:
    match = PRODUCT_READ_PATH.match(path or "")
    return int(match[1]) if match and match[1] else None


def _entry_key(name: str) -> str:
    return "products:" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()


def _versions(keys: list[str]) -> dict:
    """The shared cache's values for the version keys, each created if missing."""
    found = cache.get_many(keys)
    for missing in [key for key in keys if found.get(key) is None]:
        cache.add(missing, new_version(), timeout=VERSION_TTL_SECONDS)
        found[missing] = cache.get(missing)
    return found


def _detail_entry(key: str, product_id: int) -> tuple[str | None, object | None]:
    shared = embedded_product_versions()
    if shared is not None:
        version = shared.read(0) + shared.read(_slot(product_id))
        found = cache.get_many([key])
    else:
        versions = [DETAILS_KEY, _product_key(product_id)]
        found = read_ahead.get_many([*versions, key])
        if any(found.get(name) is None for name in versions):
            found.update(_versions(versions))
        generation, own = found.get(DETAILS_KEY), found.get(versions[1])
        version = None if generation is None or own is None else f"{generation}:{own}"
    return version, found.get(key)


def cached_entry(
    name: str, path: str | None = None, *, product_id: int | None = None
) -> tuple[str | None, object | None]:
    """(the version now, the value cached for `name` under it or None).

    The version is the catalogue's, or for one product's page (product_id, or a `path` naming
    one) the details generation and that product's stamp. A version of None means: do not cache
    now (off, inside a transaction, or the cache is down). Read the version before the
    database, and store what the database gave under it.
    """
    if not enabled() or transaction.get_connection().in_atomic_block:
        return None, None
    key = _entry_key(name)
    if product_id is None:
        product_id = _path_product(path)
    shared = embedded_version()
    try:
        if product_id is not None:
            version, entry = _detail_entry(key, product_id)
            if version is not None and entry is not None and entry[0] == version:
                return version, entry[1]
            return version, None
        if shared is not None:
            version = shared.read()
            found = cache.get_many([key])
        else:
            found = read_ahead.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, new_version(), timeout=VERSION_TTL_SECONDS)
            version = cache.get(VERSION_KEY)
    except Exception:  # noqa: BLE001 - a cache outage must not take the catalogue down
        logger.warning("product cache unavailable; reading the database", exc_info=True)
        return None, None
    entry = found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        return version, entry[1]
    return version, None


def read_ahead_keys(name: str, product_id: int | None = None) -> list[str]:
    """The shared cache's keys cached_entry(name, product_id=...) will read now, for
    core.read_ahead; none where it reads none (off, in a transaction, the embedded path)."""
    if not enabled() or transaction.get_connection().in_atomic_block:
        return []
    if embedded_version() is not None:
        return []
    key = _entry_key(name)
    if product_id is None:
        return [VERSION_KEY, key]
    return [DETAILS_KEY, _product_key(product_id), key]


def store_entry(name: str, version: str, value: object) -> None:
    if not _worth_storing(version):
        return
    try:
        cache.set(_entry_key(name), (version, value), timeout=settings.PRODUCT_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("product cache unavailable; not storing", exc_info=True)


def product_read_cached(name: str, build: Callable[[], T], product_id: int | None = None) -> T:
    """build() once per version and `name` (a URL, say); exceptions are not cached. With
    product_id, the entry is that product's page (see the module's docstring)."""
    version, value = cached_entry(name, product_id=product_id)
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


def _replace_version(product_ids: frozenset[int] | None = None) -> None:
    shared, details = embedded_version(), embedded_product_versions()
    if shared is not None and details is not None:
        shared.replace()
        for slot in {0} if product_ids is None else {_slot(pid) for pid in product_ids}:
            details.replace(slot)
        return
    keys = [VERSION_KEY, DETAILS_KEY] if product_ids is None else [VERSION_KEY]
    if product_ids is not None:
        keys += [_product_key(pid) for pid in product_ids]
    try:
        # One EVALSHA with the shop's Redis backend (core/redis_cache.py); set_many elsewhere.
        set_all_to_int = getattr(cache, "set_all_to_int", None)
        if set_all_to_int is not None:
            set_all_to_int(keys, new_version(), VERSION_TTL_SECONDS)
        else:
            cache.set_many(dict.fromkeys(keys, new_version()), timeout=VERSION_TTL_SECONDS)
    except Exception:  # noqa: BLE001 - entries still expire after PRODUCT_CACHE_SECONDS
        logger.warning("product cache unavailable; cached pages expire by themselves")


def products_changed(product_ids: Iterable[int] | None = None) -> None:
    """Every product write calls this; cached reads are invalidated once the write commits.
    A write that changed only the given products' rows (stock) names them: their own pages and
    every list page go, the other products' pages stay."""
    if enabled():
        ids = None if product_ids is None else frozenset(product_ids)
        transaction.on_commit(lambda: _replace_version(ids))
