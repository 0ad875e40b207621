"""The embedded default's token cache (accounts/embedded_token_cache.py): each worker keeps its
own entries, tagged with the accounts stamp it read before the database; every change of a token
or user replaces that stamp, so a revocation is refused by every worker at once.

The in-process tests commit for real (transaction=True: the stamp is replaced again on commit,
and inside a transaction the cache is skipped). The last one runs two real gunicorn workers and
makes the changes from a third process.
"""

import json
import urllib.error
import urllib.request

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from accounts import embedded_token_cache, token_cache
from accounts.embedded_token_cache import EmbeddedTokenCache
from tests.conftest import client_for, make_user
from tests.support.databases import backend
from tests.support.django_process import run_module
from tests.support.serving import gunicorn

PRODUCT = {"name": "New", "price": "1.00", "stock": 1}


@pytest.fixture
def embedded(settings, monkeypatch) -> EmbeddedTokenCache:
    """This process's embedded cache, emptied: a new one on the test database's own stamp."""
    if connection.vendor != "sqlite":
        pytest.skip("the embedded token cache keeps its stamp beside an SQLite database")
    assert settings.AUTH_TOKEN_CACHE_SECONDS == 60  # on by default
    found = token_cache.embedded_cache()
    assert found is not None
    fresh = EmbeddedTokenCache(found.stamp)
    monkeypatch.setattr(token_cache, "embedded_cache", lambda: fresh)
    return fresh


def token_queries(client, url: str = "/orders/") -> tuple[int, int]:
    """(status, queries that touched the token table) for one request."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, sum("authtoken_token" in q["sql"] for q in queries)


def database_lookup(key: str):
    """DRF's own lookup: the token joined with its user, from the database."""
    return TokenAuthentication().authenticate_credentials(key)


@pytest.mark.django_db(transaction=True)
def test_on_by_default_and_the_second_request_does_not_look_the_token_up(embedded, customer_client):
    assert token_queries(customer_client) == (200, 1)
    assert token_queries(customer_client) == (200, 0)


@pytest.mark.django_db(transaction=True)
def test_logout_is_refused_at_once(embedded, customer_client):
    assert token_queries(customer_client) == (200, 1)
    assert token_queries(customer_client) == (200, 0)  # served from the cache
    assert customer_client.delete("/auth/token").status_code == 204
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_deleted_token_is_refused_at_once(embedded, customer, customer_client):
    assert token_queries(customer_client)[0] == 200
    Token.objects.filter(user=customer).delete()
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_user_is_refused_at_once(embedded, customer, customer_client):
    assert token_queries(customer_client)[0] == 200
    customer.is_active = False
    customer.save()
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_deleted_user_is_refused_at_once(embedded, customer, customer_client):
    assert token_queries(customer_client)[0] == 200
    customer.delete()
    assert customer_client.get("/orders/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_changed_staff_rights_take_effect_at_once(embedded, make_product):
    user = make_user("carol", staff=True)
    client = client_for(user)
    assert client.post("/products/", {**PRODUCT, "sku": "NEW-1"}, format="json").status_code == 201
    user.is_staff = False
    user.save()
    assert client.post("/products/", {**PRODUCT, "sku": "NEW-2"}, format="json").status_code == 403
    user.is_staff = True
    user.save()
    assert client.post("/products/", {**PRODUCT, "sku": "NEW-3"}, format="json").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_an_entry_stored_under_the_stamp_read_before_a_revocation_is_not_used(embedded, customer):
    # The race: a request reads the stamp, reads the token from the database, then the token is
    # revoked and the revocation commits, then the request stores what it read. That entry is
    # tagged with the old stamp and must never be served.
    key = customer.auth_token.key

    def lookup_then_revoked(token_key: str):
        found = database_lookup(token_key)
        Token.objects.filter(key=token_key).delete()  # commits (autocommit)
        return found

    user, _token = embedded.authenticate(key, lookup_then_revoked)
    assert user.pk == customer.pk
    assert len(embedded) == 1  # stored, under the stamp read before the revocation
    with pytest.raises(AuthenticationFailed):
        embedded.authenticate(key, database_lookup)


@pytest.mark.django_db(transaction=True)
def test_entries_are_bounded_in_number_and_age(embedded, monkeypatch):
    users = [make_user(f"user{i}") for i in range(5)]
    keys = [user.auth_token.key for user in users]
    bounded = EmbeddedTokenCache(embedded.stamp, max_entries=3)
    looked_up: list[str] = []

    def counted(token_key: str):
        looked_up.append(token_key)
        return database_lookup(token_key)

    for key in keys:
        bounded.authenticate(key, counted)
    assert len(bounded) == 3
    looked_up.clear()
    for key in reversed(keys):  # the three stored last are served, the two oldest were dropped
        bounded.authenticate(key, counted)
    assert looked_up == [keys[1], keys[0]]
    assert len(bounded) == 3

    # An entry older than AUTH_TOKEN_CACHE_SECONDS is not used.
    now = embedded_token_cache.time.monotonic()
    clock = type("Clock", (), {"monotonic": staticmethod(lambda: now + 61)})
    looked_up.clear()
    monkeypatch.setattr(embedded_token_cache, "time", clock)
    bounded.authenticate(keys[0], counted)
    assert looked_up == [keys[0]]


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_cache_is_neither_read_nor_written(embedded, customer):
    from django.db import transaction

    key = customer.auth_token.key
    with transaction.atomic():
        embedded.authenticate(key, database_lookup)
    assert len(embedded) == 0


@pytest.mark.django_db
def test_off_on_postgresql_even_when_configured(settings):
    # No stamp file there: AUTH_TOKEN_CACHE_SECONDS is 0 unless set, and when set it takes the
    # shared cache's path (Redis; per process without it, which shop.W002 warns about).
    if connection.vendor == "sqlite":
        pytest.skip("on SQLite the embedded cache is the default")
    assert settings.AUTH_TOKEN_CACHE_SECONDS == 0
    settings.AUTH_TOKEN_CACHE_SECONDS = 60
    assert token_cache.embedded_cache() is None


# --- two real gunicorn workers, changes from a third process ------------------------------


def status_of(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def get(url: str, token: str) -> int:
    return status_of(urllib.request.Request(url, headers={"Authorization": f"Token {token}"}))


def post_product(url: str, token: str, sku: str) -> int:
    body = json.dumps({**PRODUCT, "sku": sku}).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return status_of(urllib.request.Request(url, data=body, method="POST", headers=headers))


@pytest.mark.slow
def test_every_worker_refuses_a_revoked_token_at_once(tmp_path):
    with backend("sqlite", tmp_path) as db:
        customers, staff = db.seed.customers, db.seed.staff

        def change(username: str, what: str) -> None:
            assert (
                run_module(
                    db.env, "tests.accounts.change_user", {"username": username, "change": what}
                )
                == what
            )

        with gunicorn(db.env, tmp_path / "gunicorn.log", workers=2) as server:
            assert len(server.worker_pids()) == 2
            orders = f"{server.url}/orders/"

            def statuses(token: str) -> set[int]:
                # New connections each: gunicorn's sync workers take turns, so both answer and
                # both cache the token.
                return {get(orders, token) for _ in range(12)}

            for token in [*customers, staff]:
                assert statuses(token) == {200}

            logout = urllib.request.Request(
                f"{server.url}/auth/token",
                method="DELETE",
                headers={"Authorization": f"Token {customers[0]}"},
            )
            assert status_of(logout) == 204
            assert statuses(customers[0]) == {401}

            change("customer1", "delete_token")
            assert statuses(customers[1]) == {401}
            change("customer2", "deactivate")
            assert statuses(customers[2]) == {401}
            change("customer3", "delete_user")
            assert statuses(customers[3]) == {401}

            products = f"{server.url}/products/"
            assert {post_product(products, staff, f"STAFF-{i}") for i in range(6)} == {201}
            change("staff", "revoke_staff")
            assert {post_product(products, staff, f"GONE-{i}") for i in range(6)} == {403}
            change("staff", "grant_staff")
            assert {post_product(products, staff, f"BACK-{i}") for i in range(6)} == {201}
