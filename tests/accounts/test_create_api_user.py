from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_create_api_user_prints_a_working_staff_token():
    out = StringIO()
    call_command(
        "create_api_user",
        "carol",
        "--staff",
        "--password",
        "long-pass-42",
        stdout=out,
        stderr=StringIO(),
    )
    token = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post(
        "/products/",
        {"sku": "CAROL-1", "name": "Kettle", "price": "3.00", "stock": 2},
        format="json",
    )
    assert response.status_code == 201
    assert User.objects.get(username="carol").check_password("long-pass-42")


@pytest.mark.django_db
def test_create_api_user_twice_keeps_the_token_and_customer_cannot_manage_products():
    first, second = StringIO(), StringIO()
    call_command("create_api_user", "dave", stdout=first, stderr=StringIO())
    call_command("create_api_user", "dave", stdout=second, stderr=StringIO())
    assert first.getvalue() == second.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first.getvalue().strip()}")
    response = client.post(
        "/products/", {"sku": "D-1", "name": "x", "price": "1", "stock": 1}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
