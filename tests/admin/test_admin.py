"""The Django admin: login required, stock columns and filters, actions that go through services."""

from decimal import Decimal

import pytest
from django.test import Client

from inventory.models import Product
from orders.models import Order, OrderStatus
from orders.selectors import stock_audit

pytestmark = pytest.mark.django_db

PRODUCTS = "/admin/inventory/product/"
ORDERS = "/admin/orders/order/"


def changelist_rows(response) -> list:
    return list(response.context["cl"].result_list)


def test_admin_redirects_anonymous_to_login():
    response = Client().get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_redirects_a_customer_without_staff_status(customer):
    client = Client()
    client.force_login(customer)

    response = client.get(PRODUCTS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_login_page_renders():
    response = Client().get("/admin/login/")

    assert response.status_code == 200


def test_admin_product_changelist_shows_stock_held_and_sold(admin_client, stocked):
    response = admin_client.get(PRODUCTS)

    assert response.status_code == 200
    rows = {p.sku: (p.stock, p.pending_units, p.sold_units) for p in changelist_rows(response)}
    assert rows == {"BUSY-1": (5, 2, 3), "LOW-1": (4, 0, 0), "EMPTY-1": (0, 0, 0)}
    html = response.content.decode().lower()
    assert "held (pending)" in html and "sold (paid)" in html


@pytest.mark.parametrize(
    "level, skus", [("out", ["EMPTY-1"]), ("low", ["BUSY-1", "LOW-1"]), ("ok", [])], ids=str
)
def test_admin_product_low_stock_filter(admin_client, stocked, level, skus):
    response = admin_client.get(PRODUCTS, {"stock_level": level})

    assert response.status_code == 200
    assert [p.sku for p in changelist_rows(response)] == skus


def test_admin_product_low_stock_filter_ok_level(admin_client, stocked, make_product):
    make_product(stock=50, sku="FULL-1")

    response = admin_client.get(PRODUCTS, {"stock_level": "ok"})

    assert [p.sku for p in changelist_rows(response)] == ["FULL-1"]


def test_admin_product_search_by_sku(admin_client, stocked):
    response = admin_client.get(PRODUCTS, {"q": "LOW-1"})

    assert response.status_code == 200
    assert [p.sku for p in changelist_rows(response)] == ["LOW-1"]


def test_admin_product_search_and_filter_together_keep_the_columns(admin_client, stocked):
    response = admin_client.get(PRODUCTS, {"q": "BUSY", "stock_level": "low"})

    rows = changelist_rows(response)
    assert [(p.sku, p.stock, p.pending_units, p.sold_units) for p in rows] == [("BUSY-1", 5, 2, 3)]


def test_admin_restock_action_goes_through_services(admin_client, stocked):
    busy, low = stocked["busy"], stocked["low"]

    response = admin_client.post(
        PRODUCTS,
        {
            "action": "restock_selected",
            "_selected_action": [busy.pk, low.pk],
            "quantity": "7",
            "index": "0",
        },
        follow=True,
    )

    assert response.status_code == 200
    busy.refresh_from_db()
    low.refresh_from_db()
    assert (busy.stock, busy.units_received) == (12, 17)
    assert (low.stock, low.units_received) == (11, 11)
    assert "Restocked 2 product(s) by 7." in response.content.decode()
    assert stock_audit().ok


@pytest.mark.parametrize("quantity", ["0", "-3", "abc", "", "1000001"])
def test_admin_restock_action_refuses_bad_quantity(admin_client, stocked, quantity):
    low = stocked["low"]

    response = admin_client.post(
        PRODUCTS,
        {"action": "restock_selected", "_selected_action": [low.pk], "quantity": quantity},
        follow=True,
    )

    assert response.status_code == 200
    low.refresh_from_db()
    assert (low.stock, low.units_received) == (4, 4)


def test_admin_product_add_records_units_received(admin_client):
    response = admin_client.post(
        f"{PRODUCTS}add/", {"sku": "ADM-1", "name": "Made here", "price": "3.00", "stock": "6"}
    )

    assert response.status_code == 302
    product = Product.objects.get(sku="ADM-1")
    assert (product.stock, product.units_received, product.price) == (6, 6, Decimal("3.00"))
    assert stock_audit().ok


def test_admin_product_change_cannot_write_stock(admin_client, stocked):
    low = stocked["low"]

    response = admin_client.post(
        f"{PRODUCTS}{low.pk}/change/",
        {"sku": "HACKED", "name": "Renamed", "price": "2.00", "stock": "999"},
    )

    assert response.status_code == 302
    low.refresh_from_db()
    assert (low.sku, low.name, low.price, low.stock) == ("LOW-1", "Renamed", Decimal("2.00"), 4)
    assert stock_audit().ok


def test_admin_product_with_orders_is_not_deleted(admin_client, stocked):
    busy = stocked["busy"]

    admin_client.post(f"{PRODUCTS}{busy.pk}/delete/", {"post": "yes"}, follow=True)

    assert Product.objects.filter(pk=busy.pk).exists()
    assert stock_audit().ok


def test_admin_order_changelist_filters_by_status(admin_client, stocked):
    everything = admin_client.get(ORDERS)
    pending = admin_client.get(ORDERS, {"status__exact": "pending"})
    paid = admin_client.get(ORDERS, {"status__exact": "paid"})

    assert everything.status_code == 200
    assert {o.pk for o in changelist_rows(everything)} == {
        stocked["held"].pk,
        stocked["sold"].pk,
    }
    assert [o.pk for o in changelist_rows(pending)] == [stocked["held"].pk]
    assert [o.pk for o in changelist_rows(paid)] == [stocked["sold"].pk]


def test_admin_order_change_page_renders_with_lines(admin_client, stocked):
    response = admin_client.get(f"{ORDERS}{stocked['held'].pk}/change/")

    assert response.status_code == 200
    assert "BUSY-1" in response.content.decode()


def test_admin_cancel_action_returns_stock_for_pending_orders_only(admin_client, stocked):
    busy, held, sold = stocked["busy"], stocked["held"], stocked["sold"]

    response = admin_client.post(
        ORDERS,
        {"action": "cancel_selected", "_selected_action": [held.pk, sold.pk], "index": "0"},
        follow=True,
    )

    assert response.status_code == 200
    assert Order.objects.get(pk=held.pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=sold.pk).status == OrderStatus.PAID
    busy.refresh_from_db()
    assert busy.stock == 7  # 2 held units came back; the 3 sold did not
    html = response.content.decode()
    assert "Cancelled 1 order(s)." in html
    assert "cannot be cancelled" in html
    assert stock_audit().ok


def test_admin_cancel_action_twice_returns_stock_once(admin_client, stocked):
    held, busy = stocked["held"], stocked["busy"]
    data = {"action": "cancel_selected", "_selected_action": [held.pk], "index": "0"}

    admin_client.post(ORDERS, data)
    admin_client.post(ORDERS, data)

    busy.refresh_from_db()
    assert busy.stock == 7
    assert stock_audit().ok


def test_admin_orders_cannot_be_added_or_deleted(admin_client, stocked):
    add = admin_client.get(f"{ORDERS}add/")
    delete = admin_client.post(f"{ORDERS}{stocked['held'].pk}/delete/", {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert Order.objects.filter(pk=stocked["held"].pk).exists()
