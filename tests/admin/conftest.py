"""The admin tests' fixtures: a logged-in superuser and a stocked shop."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from orders import services as order_services


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # PBKDF2 costs ~0.4 s a user here, and every new test client's WhiteNoise would scan all
    # static files (~85 ms); these tests are about neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-root-9"))
    return client


@pytest.fixture
def stocked(customer, make_product):
    """A product with 2 units held (pending) and 3 sold (paid), plus low and empty products."""
    busy = make_product(stock=10, sku="BUSY-1", name="Busy")
    low = make_product(stock=4, sku="LOW-1", name="Low")
    empty = make_product(stock=0, sku="EMPTY-1", name="Empty")
    held = order_services.order_place(customer=customer, lines=[(busy.pk, 2)]).order
    sold = order_services.order_place(customer=customer, lines=[(busy.pk, 3)]).order
    order_services.order_pay(order=sold, payer=customer)
    return {"busy": busy, "low": low, "empty": empty, "held": held, "sold": sold}
