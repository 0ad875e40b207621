"""Deployment checks of our own, run by `manage.py check --deploy`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security, deploy=True)
def login_throttle_cache_is_shared(app_configs, **kwargs) -> list[Warning]:
    """Each gunicorn worker would count failed logins apart, multiplying the allowed guesses."""
    if settings.CACHES["default"]["BACKEND"] in PROCESS_LOCAL_CACHES:
        return [
            Warning(
                "The login throttle counts failed logins in a per-process cache, so every "
                "gunicorn worker allows its own quota of guesses.",
                hint="Set REDIS_URL so that all workers share one count.",
                id="shop.W001",
            )
        ]
    return []


@register(Tags.caches, deploy=True)
def shared_caches_are_shared(app_configs, **kwargs) -> list[Warning]:
    """The product and token caches are invalidated in the cache itself: a per-process cache
    would leave the other gunicorn workers serving what was invalidated (a revoked token!)."""
    if settings.CACHES["default"]["BACKEND"] not in PROCESS_LOCAL_CACHES:
        return []
    from core.shared_version import beside_embedded_database

    # On an SQLite database both caches are invalidated through stamps in files beside it that
    # every worker maps (inventory/cache.py, accounts/embedded_token_cache.py).
    if beside_embedded_database("catalogue") is not None:
        return []
    on = [
        name
        for name in ("PRODUCT_CACHE_SECONDS", "AUTH_TOKEN_CACHE_SECONDS")
        if getattr(settings, name) > 0
    ]
    if not on:
        return []
    return [
        Warning(
            f"{' and '.join(on)} enable caches that are invalidated across workers, but the "
            "cache is per process.",
            hint="Set REDIS_URL, or set these to 0 when running more than one worker.",
            id="shop.W002",
        )
    ]
