"""The token → user cache of the embedded default (SQLite, no Redis): each gunicorn worker keeps
its own entries, and a stamp that every worker maps revokes them all at once.

There is no cache that the workers share, so a worker cannot be told to drop an entry; it can be
made to stop trusting it. The accounts stamp is 8 bytes in a file beside the SQLite database
(`<database>-accounts`, core/shared_version.py; the catalogue has its own file), and every change
that can revoke a token or alter its user (a token created or deleted, a user saved, deactivated
or deleted: the model signals in accounts/token_cache.py) replaces it, at once and again when the
change commits. An entry is tagged with the stamp its worker read BEFORE it asked the database,
and is used only while the stamp is still that one:

- a change that committed before the stamp was read is in what the database answered;
- a change that commits after it replaces the stamp (on commit), so the entry, stored a moment
  later or not, is never used: the request that read the token just before a logout cannot
  bring the token back;
- between a change's commit and its on-commit replacement (one function call) an entry stored
  before the change may still be used, as with the Redis tombstones.

So a revocation is refused by every worker from its commit on. Entries live at most
AUTH_TOKEN_CACHE_SECONDS; a worker keeps at most MAX_ENTRIES (the oldest stored goes first).
A bulk `QuerySet.update()` sends no signals: such a change is seen after AUTH_TOKEN_CACHE_SECONDS
at most. Inside a transaction the cache is neither read nor written, so a request sees its own
transaction's changes and nothing uncommitted is ever stored.

It costs a request an 8-byte memory read and a SHA-256 of the key; any change of a token or user
drops every worker's entries (misses until each token is read again), which is cheap while such
changes are rare next to authenticated requests.
"""

import copy
import hashlib
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.shared_version import SharedVersion, beside_embedded_database

# About 1-2 KB each (a user instance): a few MB per worker at most.
MAX_ENTRIES = 4096
SLOT = "accounts"

Lookup = Callable[[str], tuple[object, Token]]


class EmbeddedTokenCache:
    """One worker's token-digest → (stamp, stored at, user) entries, checked against `stamp`."""

    def __init__(self, stamp: SharedVersion, max_entries: int = MAX_ENTRIES):
        self.stamp = stamp
        self.max_entries = max_entries
        self._entries: dict[str, tuple[str, float, object]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, token_key: str, lookup: Lookup) -> tuple[object, Token]:
        """(user, token) for the key: a live entry's, else lookup(token_key)'s, then stored."""
        if transaction.get_connection().in_atomic_block:
            return lookup(token_key)
        digest = hashlib.sha256(token_key.encode()).hexdigest()
        stamp = self.stamp.read()  # before the database: see the module's docstring
        entry = self._entries.get(digest)
        if entry is not None:
            tag, stored_at, user = entry
            fresh = time.monotonic() - stored_at < settings.AUTH_TOKEN_CACHE_SECONDS
            if tag == stamp and fresh and user.is_active:
                # A copy per request: what a request does to its user stays its own.
                user = copy.copy(user)
                token = Token(key=token_key, user_id=user.pk)
                token.user = user
                return user, token
            self._entries.pop(digest, None)
        user, token = lookup(token_key)
        self.store(digest, stamp, user)
        return user, token

    def store(self, digest: str, stamp: str, user: object) -> None:
        """Keep `user` for `digest` under the stamp read before the database was asked."""
        entry = (stamp, time.monotonic(), copy.copy(user))
        with self._lock:
            self._entries.pop(digest, None)
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[digest] = entry

    def changed(self) -> None:
        """A token or user changed: no worker uses what it stored before, now or after the
        commit (a request may read the old rows in between)."""
        self.stamp.replace()
        transaction.on_commit(self.stamp.replace)


# stamp file -> this worker's cache (tests switch to the test database)
_caches: dict[str, EmbeddedTokenCache] = {}


def embedded_cache() -> EmbeddedTokenCache | None:
    """This worker's cache when the database is an SQLite file and the cache is per process,
    else None (the Redis path in accounts/token_cache.py, or nothing shared at all)."""
    stamp = beside_embedded_database(SLOT)
    if stamp is None:
        return None
    found = _caches.get(stamp.path)
    if found is None:
        found = _caches.setdefault(stamp.path, EmbeddedTokenCache(stamp))
    return found
