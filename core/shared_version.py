"""A version stamp that every process on this machine reads from one shared memory page.

The embedded default (SQLite, no Redis) has no cache that all gunicorn workers share, so a worker
cannot learn from its own memory that another worker wrote. It can from a file they all map: this
is an 8-byte stamp in a file beside the SQLite database, mapped with mmap (MAP_SHARED), so reading
it is a memory read (well under a microsecond) and a new stamp written by one worker is what every
other worker reads next. Writers replace it with a random value; a reader only ever compares
"same as when I stored this?", so any change means "changed".

It serves only one machine, which is what an embedded SQLite database is anyway.
"""

import mmap
import os
import threading

SIZE = 8


class SharedVersion:
    """An 8-byte stamp in `path`, shared by every process that maps it; with slots=N, N of them
    side by side (stamp i at bytes 8i..8i+8), e.g. one per product id modulo N."""

    def __init__(self, path: str | os.PathLike, slots: int = 1):
        self.path = os.fspath(path)
        self.size = SIZE * slots
        self._map: mmap.mmap | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _mapped(self) -> mmap.mmap:
        found = self._map
        if found is not None and self._pid == os.getpid():
            return found
        with self._lock:
            if self._map is None or self._pid != os.getpid():
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    if os.fstat(fd).st_size < self.size:
                        # Growing is idempotent: two processes creating it at once get one size.
                        os.ftruncate(fd, self.size)
                    self._map = mmap.mmap(
                        fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE
                    )
                finally:
                    os.close(fd)
                self._pid = os.getpid()
            return self._map

    def read(self, slot: int = 0) -> str:
        start = SIZE * slot
        return self._mapped()[start : start + SIZE].hex()

    def replace(self, slot: int = 0) -> str:
        stamp = os.urandom(SIZE)
        start = SIZE * slot
        self._mapped()[start : start + SIZE] = stamp
        return stamp.hex()


# The caches that only the process itself sees: with one of these, a stamp beside the database is
# the only thing the workers share.
PROCESS_LOCAL_CACHES = frozenset(
    ["django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"]
)
# (database file, slot) -> its stamp; one per database, since tests switch to the test database
_beside: dict[tuple[str, str], SharedVersion] = {}


def beside_embedded_database(slot: str, slots: int = 1) -> SharedVersion | None:
    """The stamp `slot` (a file `<database>-<slot>`, one per cache: "catalogue", "accounts")
    beside the default database, when that database is an SQLite file on this machine and the
    cache is per process; else None (there is a shared cache to keep versions in, or no file)."""
    from django.conf import settings
    from django.db import connections

    if settings.CACHES["default"]["BACKEND"] not in PROCESS_LOCAL_CACHES:
        return None
    database = connections["default"].settings_dict
    name = str(database["NAME"])
    if database["ENGINE"] != "django.db.backends.sqlite3" or not name:
        return None
    if ":memory:" in name or name.startswith("file:"):
        return None
    found = _beside.get((name, slot))
    if found is None:
        found = _beside.setdefault((name, slot), SharedVersion(f"{name}-{slot}", slots))
    return found
