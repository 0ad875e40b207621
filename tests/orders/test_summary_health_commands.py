"""/health, /summary, the audit_stock and expire_orders commands, and X-Request-ID."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from inventory.models import Product
from orders import services as order_services
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # PBKDF2 costs ~0.4 s a user here, and every new test client's WhiteNoise would scan all
    # static files (~85 ms); these tests are about neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def shop_with_orders(customer, make_product):
    """Three products (stock 10, 0, 5 before orders) and one order in each state."""
    mugs = make_product(stock=10, sku="MUG-1")
    make_product(stock=0, sku="EMPTY-1")
    pens = make_product(stock=5, sku="PEN-1")

    def place(quantity, product=mugs):
        return order_services.order_place(customer=customer, lines=[(product.pk, quantity)]).order

    place(1)  # stays pending
    order_services.order_pay(order=place(2), payer=customer)
    order_services.order_cancel(order=place(3))
    expired = place(1, pens)
    Order.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    order_services.orders_expire_due()
    return {"mugs": mugs, "pens": pens}


# --- /health ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_is_ok_with_the_database_check_and_version(anon_client, path):
    response = anon_client.get(path)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}, "version": "1.0.0"}


def test_health_post_is_405(anon_client):
    response = anon_client.post("/health", {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- /summary ---------------------------------------------------------------------------------


def test_summary_of_an_empty_shop(anon_client):
    response = anon_client.get("/summary")

    assert response.status_code == 200
    assert response.json() == {
        "products": {"count": 0, "in_stock": 0, "out_of_stock": 0, "units_in_stock": 0},
        "orders": {"total": 0, "pending": 0, "paid": 0, "cancelled": 0, "expired": 0},
        "stock_integrity": {"ok": True, "negative_stock": 0, "mismatched_products": 0},
    }


def test_summary_counts_products_orders_and_integrity(anon_client, shop_with_orders):
    response = anon_client.get("/summary/")

    assert response.status_code == 200
    assert response.json() == {
        # mugs 10 - 1 held - 2 sold = 7, empty 0, pens 5 (its expired order gave 1 back)
        "products": {"count": 3, "in_stock": 2, "out_of_stock": 1, "units_in_stock": 12},
        "orders": {"total": 4, "pending": 1, "paid": 1, "cancelled": 1, "expired": 1},
        "stock_integrity": {"ok": True, "negative_stock": 0, "mismatched_products": 0},
    }


def test_summary_reports_a_broken_invariant(anon_client, shop_with_orders):
    Product.objects.filter(pk=shop_with_orders["pens"].pk).update(stock=F("stock") + 1)

    integrity = anon_client.get("/summary").json()["stock_integrity"]

    assert integrity == {"ok": False, "negative_stock": 0, "mismatched_products": 1}


# --- audit_stock ------------------------------------------------------------------------------


def test_audit_stock_exits_0_when_the_invariant_holds(shop_with_orders):
    out = StringIO()

    call_command("audit_stock", stdout=out)

    assert "Stock invariant holds for all 3 products." in out.getvalue()


def test_audit_stock_exits_2_naming_the_broken_product(shop_with_orders):
    mugs = shop_with_orders["mugs"]
    Product.objects.filter(pk=mugs.pk).update(stock=100)  # a lost update, on purpose
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("audit_stock", stdout=out)

    assert raised.value.returncode == 2
    assert "1 mismatched" in str(raised.value)
    report = out.getvalue()
    assert f"product {mugs.pk} MUG-1: stock 100" in report
    assert "expected stock 7" in report
    assert "PEN-1" not in report


def test_audit_stock_json_lists_the_problems(shop_with_orders):
    pens = shop_with_orders["pens"]
    Product.objects.filter(pk=pens.pk).update(stock=F("stock") - 1)
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("audit_stock", "--json", stdout=out)

    assert raised.value.returncode == 2
    report = json.loads(out.getvalue())
    assert report["ok"] is False
    assert report["mismatched_products"] == 1
    assert [(p["id"], p["sku"], p["stock"], p["expected_stock"]) for p in report["problems"]] == [
        (pens.pk, "PEN-1", 4, 5)
    ]


def test_audit_stock_json_when_fine(shop_with_orders):
    out = StringIO()

    call_command("audit_stock", "--json", stdout=out)

    assert json.loads(out.getvalue()) == {
        "ok": True,
        "negative_stock": 0,
        "mismatched_products": 0,
        "problems": [],
    }


# --- expire_orders ----------------------------------------------------------------------------


def test_expire_orders_reports_how_many_it_expired(customer, make_product):
    product = make_product(stock=5)
    due = order_services.order_place(customer=customer, lines=[(product.pk, 2)]).order
    order_services.order_place(customer=customer, lines=[(product.pk, 1)])
    Order.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    out = StringIO()

    call_command("expire_orders", stdout=out)

    assert out.getvalue().strip() == "Expired 1 order(s)."
    assert Product.objects.get(pk=product.pk).stock == 4
    call_command("audit_stock", stdout=StringIO())


# --- X-Request-ID -----------------------------------------------------------------------------


def test_request_id_is_echoed_when_the_client_sends_one(anon_client):
    response = anon_client.get("/health", HTTP_X_REQUEST_ID="client-id.42:abc")

    assert response["X-Request-ID"] == "client-id.42:abc"


def test_request_id_is_generated_when_absent(anon_client):
    first = anon_client.get("/health")["X-Request-ID"]
    second = anon_client.get("/health")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("sent", ["has space", "x" * 500, "new\\nline", ""])
def test_request_id_that_is_unsafe_to_log_is_replaced(anon_client, sent):
    response = anon_client.get("/health", HTTP_X_REQUEST_ID=sent)

    assert response["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.parametrize(
    "method, path, status",
    [("get", "/no/such/path", 404), ("get", "/orders/", 401), ("post", "/products/", 401)],
)
def test_request_id_is_on_error_responses_too(anon_client, method, path, status):
    response = getattr(anon_client, method)(path, HTTP_X_REQUEST_ID="err-1")

    assert response.status_code == status
    assert response["X-Request-ID"] == "err-1"
    assert "code" in response.json()["error"]
