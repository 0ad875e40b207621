"""Abuse of authorization with credentials: revoked, orphaned or inactive tokens, a token in the
query string or a cookie, an admin session, a customer writing products.
"""

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from inventory.models import Product
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.usefixtures("_fast_password_hashing")


def assert_token_refused(client) -> None:
    for method, path in [
        ("get", "/orders/"),
        ("post", "/orders/"),
        ("get", "/orders/1"),
        ("post", "/orders/1/pay"),
        ("post", "/products/"),
        ("delete", "/auth/token"),
        ("get", "/products/"),  # a bad token is refused even where none is needed
    ]:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 401, (method, path, response.content)
        assert response.json()["error"]["code"] == "authentication_failed"
        assert response.headers["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
def test_abuse_revoked_token_is_refused_everywhere(customer):
    client = client_for(customer)
    assert client.delete("/auth/token").status_code == 204
    assert_token_refused(client)


@pytest.mark.django_db
def test_abuse_token_of_a_deactivated_staff_user_is_refused_everywhere(staff):
    client = client_for(staff)
    User.objects.filter(pk=staff.pk).update(is_active=False)
    assert_token_refused(client)


@pytest.mark.django_db
def test_abuse_token_of_a_deleted_user_is_refused_everywhere(db):
    ghost = make_user("ghost")
    key = ghost.auth_token.key
    ghost.delete()
    assert not Token.objects.filter(key=key).exists()
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert_token_refused(client)


@pytest.mark.django_db
def test_abuse_token_in_the_query_string_or_a_cookie_is_not_a_credential(customer, anon_client):
    key = customer.auth_token.key
    anon_client.cookies["Authorization"] = f"Token {key}"
    for response in [
        anon_client.get(f"/orders/?token={key}"),
        anon_client.get(f"/orders/?auth_token={key}"),
    ]:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_abuse_an_admin_session_does_not_authenticate_the_api(staff, anon_client):
    # A logged-in admin's browser must not be a way to write through the API (no CSRF surface).
    anon_client.force_login(staff)
    assert anon_client.get("/admin/").status_code == 200
    body = {"sku": "CSRF-1", "name": "Forged", "price": "1.00", "stock": 1}
    response = anon_client.post("/products/", body, format="json")
    assert response.status_code == 401
    assert not Product.objects.filter(sku="CSRF-1").exists()
    assert anon_client.get("/orders/").status_code == 401


@pytest.mark.django_db
def test_abuse_a_customer_cannot_write_products_with_any_method(customer_client, make_product):
    product = make_product(stock=5)
    attempts = [
        ("post", "/products/", {"sku": "X-1", "name": "x", "price": "1.00", "stock": 1}),
        ("patch", f"/products/{product.pk}", {"name": "pwned"}),
        ("patch", f"/products/{product.pk}/", {"price": "0.00"}),
        ("delete", f"/products/{product.pk}", None),
        ("post", f"/products/{product.pk}/restock", {"quantity": 1000}),
        ("post", f"/products/{product.pk}/restock/", {"quantity": 1}),
        ("put", f"/products/{product.pk}", {"name": "pwned"}),
    ]
    for method, path, body in attempts:
        response = getattr(customer_client, method)(path, body, format="json")
        assert response.status_code in (403, 405), (method, path)
        assert response.json()["error"]["code"] in ("permission_denied", "method_not_allowed")
    product.refresh_from_db()
    assert (product.name, product.stock, str(product.price)) == ("Widget", 5, "9.99")
