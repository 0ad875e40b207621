"""Shared fixtures: users with tokens, API clients, products.

SQLite runs the tests on a file database (see settings: DATABASES TEST NAME) so that thread races
see real locking; set DATABASE_URL to run the same suite on PostgreSQL.
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory import services as inventory_services
from inventory.models import Product


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _store_list_pages_at_once(settings):
    """Tests read right after their writes: a list page is stored under a version of any age.
    tests/inventory/test_list_store_age.py tests the age rule itself."""
    settings.PRODUCT_LIST_STORE_MIN_AGE_MS = 0


def make_user(username: str, *, staff: bool = False) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.com", "correct-horse-9", is_staff=staff
    )
    Token.objects.create(user=user)
    return user


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {user.auth_token.key}")
    return client


@pytest.fixture
def staff(db) -> User:
    return make_user("staff", staff=True)


@pytest.fixture
def customer(db) -> User:
    return make_user("alice")


@pytest.fixture
def other_customer(db) -> User:
    return make_user("bob")


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_client(staff) -> APIClient:
    return client_for(staff)


@pytest.fixture
def customer_client(customer) -> APIClient:
    return client_for(customer)


@pytest.fixture
def other_client(other_customer) -> APIClient:
    return client_for(other_customer)


@pytest.fixture
def make_product(db) -> Callable[..., Product]:
    counter = iter(range(1, 1_000_000))

    def _make(
        *, stock: int = 10, price: str = "9.99", sku: str | None = None, name: str = "Widget"
    ):
        return inventory_services.product_create(
            sku=sku or f"SKU-{next(counter):05d}", name=name, price=Decimal(price), stock=stock
        )

    return _make
