"""The security tests' fixtures (the hostile-input and abuse files ask for the hasher with
usefixtures)."""

import pytest


@pytest.fixture
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.5 s a user here; these tests are about input, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def product(make_product):
    return make_product(stock=50, sku="HOSTILE-1")
