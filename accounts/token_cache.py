"""A short-lived cache of token → user, so that an authenticated request needs no query for it.

Profiled, the token lookup (a query joining the user) was about a fifth of the server's CPU for
an order. On only when AUTH_TOKEN_CACHE_SECONDS > 0 (the default with REDIS_URL and on the
embedded SQLite database): revocation must reach every gunicorn worker, which a per-process cache
alone could not. On an SQLite file without Redis, each worker keeps its own entries and a stamp
that every worker maps revokes them (accounts/embedded_token_cache.py); what follows is the path
through the shared cache (Redis).

Revocation is immediate, not eventual. Every change to a token or a user (logout, deactivation,
staff rights, deletion: the model signals below) writes a tombstone over the token's entry, and
entries are only ever added, never overwritten. A request that read the token from the database
just before the change therefore either stored its entry first (the tombstone replaces it) or
finds the tombstone in place (its add does nothing; a tombstone lasts a few seconds). Bulk
`QuerySet.update()` sends no signals: such a change is seen after AUTH_TOKEN_CACHE_SECONDS at
most.

If the cache is unreachable, authentication reads the database.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from rest_framework.authtoken.models import Token

from accounts.embedded_token_cache import Lookup, embedded_cache
from core import read_ahead

logger = logging.getLogger("accounts.token_cache")

TOMBSTONE = "revoked"
# A tombstone must outlast any request that read the token before the change and has yet to add
# its entry: that is one function call apart, so seconds are plenty. Longer only costs misses.
TOMBSTONE_SECONDS = 10


def enabled() -> bool:
    return settings.AUTH_TOKEN_CACHE_SECONDS > 0


def authenticate(token_key: str, lookup: Lookup):
    """(user, token) for the key: from the cache when a live entry is there, else from
    lookup(token_key) (the database), remembered. The cache must be enabled()."""
    embedded = embedded_cache()
    if embedded is not None:
        return embedded.authenticate(token_key, lookup)
    token = cached_token(token_key)
    if token is not None and token.user.is_active:
        return token.user, token
    user, token = lookup(token_key)
    remember_token(token)
    return user, token


def _key(token_key: str) -> str:
    # The token itself is a credential: the cache sees only its digest.
    return "auth:token:" + hashlib.sha256(token_key.encode()).hexdigest()


def read_ahead_keys(token_key: str) -> list[str]:
    """The shared cache's key authenticate(token_key, ...) reads, for core.read_ahead; none when
    it reads none there (off, or the embedded path)."""
    if not enabled() or embedded_cache() is not None:
        return []
    return [_key(token_key)]


def cached_token(token_key: str) -> Token | None:
    """The token with its user, if a live entry is cached; None means: ask the database."""
    try:
        user = read_ahead.get(_key(token_key))
    except Exception:  # noqa: BLE001 - a cache outage must not stop authentication
        logger.warning("token cache unavailable; reading the database", exc_info=True)
        return None
    if user is None or user == TOMBSTONE:
        return None
    token = Token(key=token_key, user_id=user.pk)
    token.user = user
    return token


def remember_token(token: Token) -> None:
    try:
        cache.add(_key(token.key), token.user, timeout=settings.AUTH_TOKEN_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("token cache unavailable; not storing", exc_info=True)


def forget_tokens(token_keys: list[str]) -> None:
    """Tombstones now and again once the change commits (a reader may sit in between)."""
    if not enabled() or not token_keys:
        return
    keys = [_key(token_key) for token_key in token_keys]

    def write_tombstones() -> None:
        try:
            cache.set_many(
                dict.fromkeys(keys, TOMBSTONE),
                timeout=min(TOMBSTONE_SECONDS, settings.AUTH_TOKEN_CACHE_SECONDS),
            )
        except Exception:  # noqa: BLE001 - entries still expire after the timeout
            logger.warning("token cache unavailable; cached tokens expire by themselves")

    write_tombstones()
    transaction.on_commit(write_tombstones)


def _embedded_changed() -> bool:
    """On the embedded path any change of a token or user replaces the accounts stamp, even in a
    process whose own cache is off (a management command beside the workers, say)."""
    embedded = embedded_cache()
    if embedded is None:
        return False
    embedded.changed()
    return True


def _token_changed(sender, instance: Token, created: bool = False, **_kwargs) -> None:
    if not _embedded_changed() and not created:  # a new key has nothing cached in Redis
        forget_tokens([instance.key])


def _user_changed(sender, instance, **_kwargs) -> None:
    if not _embedded_changed() and enabled():
        forget_tokens(list(Token.objects.filter(user_id=instance.pk).values_list("key", flat=True)))


def _user_deleted(sender, instance, **_kwargs) -> None:
    _embedded_changed()


def connect_signals() -> None:
    user_model = get_user_model()
    post_save.connect(_token_changed, sender=Token, dispatch_uid="token_cache_token_saved")
    post_delete.connect(_token_changed, sender=Token, dispatch_uid="token_cache_token_deleted")
    post_save.connect(_user_changed, sender=user_model, dispatch_uid="token_cache_user_saved")
    # Deleting a user deletes its token rows, and each of those sends its own post_delete; the
    # embedded path replaces its stamp for the user's own deletion too.
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="token_cache_user_deleted")
