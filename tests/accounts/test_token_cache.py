"""The token → user cache (accounts/token_cache.py): no query per request, and revocation,
deactivation and changed rights take effect at once.

These tests commit for real (transaction=True): the tombstones are written again on commit. The
local-memory cache stands in for Redis, which is fine in one process; the embedded path (a stamp
beside the SQLite database) is tested in test_token_cache_embedded.py and is off here.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts import token_cache
from tests.conftest import client_for, make_user


@pytest.fixture
def token_cached(settings, monkeypatch):
    settings.AUTH_TOKEN_CACHE_SECONDS = 60
    monkeypatch.setattr(token_cache, "embedded_cache", lambda: None)


def token_queries(client, url: str = "/orders/") -> tuple[int, int]:
    """(status, queries that touched the token table) for one request."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, sum("authtoken_token" in q["sql"] for q in queries)


@pytest.mark.django_db(transaction=True)
def test_the_second_request_does_not_look_the_token_up(token_cached, customer_client):
    assert token_queries(customer_client) == (200, 1)
    assert token_queries(customer_client) == (200, 0)


@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_is_refused_at_once(token_cached, customer_client):
    assert token_queries(customer_client)[0] == 200
    assert customer_client.delete("/auth/token").status_code == 204
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_user_is_refused_at_once(token_cached, customer, customer_client):
    assert token_queries(customer_client)[0] == 200
    customer.is_active = False
    customer.save()
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_changed_rights_take_effect_at_once(token_cached, make_product):
    user = make_user("carol", staff=True)
    client = client_for(user)
    body = {"sku": "NEW-1", "name": "New", "price": "1.00", "stock": 1}
    assert client.post("/products/", body, format="json").status_code == 201

    user.is_staff = False
    user.save()
    body["sku"] = "NEW-2"
    assert client.post("/products/", body, format="json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_deleted_user_is_refused_at_once(token_cached, customer, customer_client):
    assert token_queries(customer_client)[0] == 200
    customer.delete()
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_lookup_that_read_before_the_revocation_cannot_store_it_after(token_cached, customer):
    # A request read the token from the database, then the token was revoked, then the request
    # got round to storing what it read: the tombstone must win.
    token = Token.objects.select_related("user").get(user=customer)
    Token.objects.filter(user=customer).delete()
    token_cache.remember_token(token)
    assert token_cache.cached_token(token.key) is None


@pytest.mark.django_db(transaction=True)
def test_authentication_reads_the_database_when_the_cache_is_down(
    token_cached, customer_client, monkeypatch
):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for method in ("get", "add", "set_many"):
        monkeypatch.setattr(cache, method, down)

    assert token_queries(customer_client) == (200, 1)
    assert customer_client.delete("/auth/token").status_code == 204
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_the_cache_holds_no_token_in_clear(token_cached, customer, customer_client):
    customer_client.get("/orders/")
    keys = list(cache._cache.keys())  # the local-memory cache's own table
    assert keys and not any(customer.auth_token.key in key for key in keys)


@pytest.mark.django_db
def test_off_by_default_without_a_shared_cache(customer_client, settings):
    if connection.vendor == "sqlite":
        # The embedded default shares its invalidation through a stamp beside the database.
        assert settings.AUTH_TOKEN_CACHE_SECONDS == 60
        return
    assert settings.AUTH_TOKEN_CACHE_SECONDS == 0
    assert token_queries(customer_client) == (200, 1)
    assert token_queries(customer_client) == (200, 1)
