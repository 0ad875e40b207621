"""Token login and logout, the failed-login throttle, and how bad or missing tokens answer."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.throttling import LoginFailureThrottle

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"  # conftest.make_user's password


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # PBKDF2 costs ~0.4 s a user here, and every new test client's WhiteNoise would scan all
    # static files (~85 ms); these tests are about neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_AUTOREFRESH = True


def login(client, username, password, **extra):
    return client.post(
        "/auth/token", {"username": username, "password": password}, format="json", **extra
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def failures_allowed() -> int:
    """LOGIN_THROTTLE_RATE's count (10/min by default)."""
    return LoginFailureThrottle().num_requests


def test_auth_token_login_returns_the_users_token(anon_client, customer):
    response = login(anon_client, "alice", PASSWORD)

    assert response.status_code == 200
    assert response.json() == {"token": customer.auth_token.key}


def test_auth_token_login_creates_a_token_when_there_is_none(anon_client, customer):
    Token.objects.filter(user=customer).delete()

    response = login(anon_client, "alice", PASSWORD)

    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=customer).key


def test_auth_token_issued_token_authenticates(anon_client, customer, make_product):
    token = login(anon_client, "alice", PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get("/orders/")

    assert response.status_code == 200


@pytest.mark.parametrize("slash", ["", "/"])
def test_auth_token_path_works_with_and_without_slash(anon_client, customer, slash):
    response = anon_client.post(
        "/auth/token" + slash, {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200


@pytest.mark.parametrize("username, password", [("alice", "wrong-password"), ("nobody", PASSWORD)])
def test_auth_token_bad_credentials_are_401(anon_client, customer, username, password):
    response = login(anon_client, username, password)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
    assert "token" not in response.json()


def test_auth_token_inactive_user_is_401(anon_client, customer):
    customer.is_active = False
    customer.save()

    response = login(anon_client, "alice", PASSWORD)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "alice"}, "password"),
        ({"password": PASSWORD}, "username"),
        ({"username": "alice", "password": PASSWORD, "admin": True}, "admin"),
        ({"username": "alice", "password": ""}, "password"),
    ],
)
def test_auth_token_invalid_body_is_400(anon_client, customer, body, field):
    response = anon_client.post("/auth/token", body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["details"]


def test_auth_token_failed_logins_from_one_address_are_throttled(
    anon_client, customer, failures_allowed
):
    for _ in range(failures_allowed):
        assert login(anon_client, "alice", "wrong").status_code == 401

    response = login(anon_client, "alice", "wrong")

    assert response.status_code == 429
    assert error_code(response) == "throttled"
    assert int(response.headers["Retry-After"]) >= 1


def test_auth_token_throttle_is_per_address(anon_client, customer, failures_allowed):
    for _ in range(failures_allowed):
        login(anon_client, "alice", "wrong", REMOTE_ADDR="10.0.0.1")

    blocked = login(anon_client, "alice", PASSWORD, REMOTE_ADDR="10.0.0.1")
    elsewhere = login(anon_client, "alice", PASSWORD, REMOTE_ADDR="10.0.0.2")

    assert blocked.status_code == 429
    assert elsewhere.status_code == 200


def test_auth_token_throttle_cannot_be_dodged_with_a_forged_forwarded_for(
    anon_client, customer, failures_allowed
):
    for attempt in range(failures_allowed):
        login(anon_client, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")

    response = login(anon_client, "alice", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 429
    assert error_code(response) == "throttled"


def test_auth_token_successful_logins_are_not_counted(anon_client, customer, failures_allowed):
    for _ in range(failures_allowed * 2):
        assert login(anon_client, "alice", PASSWORD).status_code == 200

    # The failure budget is still whole.
    for _ in range(failures_allowed):
        assert login(anon_client, "alice", "wrong").status_code == 401
    assert login(anon_client, "alice", "wrong").status_code == 429


def test_auth_token_ordinary_api_traffic_is_not_throttled(customer_client, make_product):
    product = make_product()

    statuses = {customer_client.get(f"/products/{product.pk}").status_code for _ in range(30)}

    assert statuses == {200}


def test_auth_token_delete_revokes_the_token(customer, customer_client):
    old_key = customer.auth_token.key

    response = customer_client.delete("/auth/token")
    after = customer_client.get("/orders/")

    assert response.status_code == 204
    assert not Token.objects.filter(key=old_key).exists()
    assert after.status_code == 401
    assert error_code(after) == "authentication_failed"


def test_auth_token_login_after_revoke_issues_a_new_token(anon_client, customer, customer_client):
    old_key = customer.auth_token.key
    customer_client.delete("/auth/token")

    response = login(anon_client, "alice", PASSWORD)

    assert response.status_code == 200
    assert response.json()["token"] != old_key


def test_auth_token_delete_without_token_is_401_not_authenticated(anon_client):
    response = anon_client.delete("/auth/token")

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


@pytest.mark.parametrize("path", ["/products/", "/health", "/summary"])
def test_bad_token_on_public_endpoint_is_401_authentication_failed(anon_client, db, path):
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anon_client.get(path)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
    assert response.headers["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("header", ["Token", "Token a b"])
def test_malformed_token_header_is_401_authentication_failed(anon_client, db, header):
    anon_client.credentials(HTTP_AUTHORIZATION=header)

    response = anon_client.get("/products/")

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


@pytest.mark.parametrize(
    "method, path", [("get", "/orders/"), ("post", "/orders/"), ("get", "/orders/1")]
)
def test_missing_token_on_protected_endpoint_is_401_not_authenticated(anon_client, method, path):
    response = getattr(anon_client, method)(path)

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
    assert "WWW-Authenticate" in response.headers


def test_missing_token_on_staff_write_is_401_not_403(anon_client, db):
    response = anon_client.post(
        "/products/", {"sku": "A", "name": "a", "price": "1.00", "stock": 1}, format="json"
    )

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
