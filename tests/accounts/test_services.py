"""accounts.services, called directly."""

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.exceptions import InvalidCredentials

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Users are made per test; the production hasher would be most of these tests' time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PASSWORD = "correct-horse-9"  # tests/conftest.make_user's


def test_token_issue_returns_the_users_one_token(customer):
    first = services.token_issue(username="alice", password=PASSWORD)
    again = services.token_issue(username="alice", password=PASSWORD)

    assert first.key == again.key == customer.auth_token.key
    assert Token.objects.filter(user=customer).count() == 1


def test_token_issue_creates_a_token_on_first_login():
    user = User.objects.create_user("carol", password=PASSWORD)

    token = services.token_issue(username="carol", password=PASSWORD)

    assert token.user == user


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong"), ("nobody", PASSWORD), ("alice", "")]
)
def test_token_issue_with_bad_credentials_raises(customer, username, password):
    with pytest.raises(InvalidCredentials) as raised:
        services.token_issue(username=username, password=password)

    assert (raised.value.code, raised.value.status_code) == ("authentication_failed", 401)


def test_token_issue_refuses_an_inactive_user(customer):
    User.objects.filter(pk=customer.pk).update(is_active=False)

    with pytest.raises(InvalidCredentials):
        services.token_issue(username="alice", password=PASSWORD)


def test_token_revoke_deletes_the_token_and_a_new_login_gets_a_new_one(customer):
    old = customer.auth_token.key

    services.token_revoke(user=customer)

    assert not Token.objects.filter(user=customer).exists()
    assert services.token_issue(username="alice", password=PASSWORD).key != old


def test_token_revoke_without_a_token_is_a_no_op(customer):
    services.token_revoke(user=customer)
    services.token_revoke(user=customer)

    assert not Token.objects.filter(user=customer).exists()
