"""The inventory tests' fixtures (the products API test files ask for them with usefixtures)."""

import pytest
import redis
from django.core.cache import cache

# A real Redis for the tests that need one (database 13, under its own key prefix).
REDIS_URL = "redis://127.0.0.1:6379/13"
PREFIX = "shop-test-versions"


@pytest.fixture
def _fast_test_settings(settings):
    # PBKDF2 costs ~0.4 s a user here, and every new test client's WhiteNoise would scan all
    # static files (~85 ms); these tests are about neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def raw_redis():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    yield client
    for key in client.scan_iter(f"{PREFIX}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def redis_cache(raw_redis, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": PREFIX,
        }
    }
    settings.PRODUCT_CACHE_SECONDS = 30
    return cache
