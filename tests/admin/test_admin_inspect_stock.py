"""The admin as the brief's "inspect stock": titles, the stock columns and the invariant filter,
order columns, and a query count that does not grow with the number of orders."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import services as inventory_services
from inventory.models import Product
from orders import services as order_services
from orders.models import Order, OrderLine, OrderStatus

pytestmark = pytest.mark.django_db

PRODUCTS = "/admin/inventory/product/"
ORDERS = "/admin/orders/order/"


def changelist_rows(response) -> list:
    return list(response.context["cl"].result_list)


def test_admin_titles_name_the_shop(admin_client):
    html = admin_client.get("/admin/").content.decode()

    assert "Django administration" not in html
    assert "Shop administration" in html
    assert "<title>Stock and orders | Shop admin</title>" in html


def test_admin_sku_column_does_not_wrap(admin_client, make_product):
    make_product(sku="LT-HOT-01")

    html = admin_client.get(PRODUCTS).content.decode()

    assert '<span style="white-space: nowrap">LT-HOT-01</span>' in html


def test_admin_product_list_shows_received_held_sold_and_the_invariant(admin_client, stocked):
    response = admin_client.get(PRODUCTS)

    rows = {
        p.sku: (p.stock, p.units_received, p.pending_units, p.sold_units, p.invariant_ok)
        for p in changelist_rows(response)
    }
    assert rows == {
        "BUSY-1": (5, 10, 2, 3, True),
        "LOW-1": (4, 4, 0, 0, True),
        "EMPTY-1": (0, 0, 0, 0, True),
    }
    html = response.content.decode()
    assert "Units received" in html and "Stock + held + sold = received" in html
    assert html.count('<span title="stock invariant holds">✓</span>') == 3
    assert "✗</span>" not in html


def test_admin_invariant_filter_shows_only_broken_products(admin_client, stocked):
    # A write that bypasses inventory.services breaks the invariant of one product.
    Product.objects.filter(pk=stocked["low"].pk).update(stock=3)

    broken = admin_client.get(PRODUCTS, {"invariant": "broken"})
    holds = admin_client.get(PRODUCTS, {"invariant": "holds"})

    assert [p.sku for p in changelist_rows(broken)] == ["LOW-1"]
    assert "✗</span>" in broken.content.decode()
    assert [p.sku for p in changelist_rows(holds)] == ["BUSY-1", "EMPTY-1"]
    assert "✗ broken" in admin_client.get(PRODUCTS).content.decode()  # the filter is offered


def test_admin_order_list_shows_product_quantity_and_expiry_of_pending_only(
    admin_client, stocked, customer, make_product
):
    extra = make_product(sku="EXTRA-1")
    several = order_services.order_place(
        customer=customer, lines=[(stocked["busy"].pk, 1), (extra.pk, 4)]
    ).order

    response = admin_client.get(ORDERS)

    model_admin = response.context["cl"].model_admin
    rows = {
        o.pk: (model_admin.products(o), model_admin.quantity(o), model_admin.hold_expires_at(o))
        for o in changelist_rows(response)
    }
    held, sold = stocked["held"], stocked["sold"]
    assert rows[held.pk] == ("BUSY-1", "2", Order.objects.get(pk=held.pk).expires_at)
    assert rows[sold.pk] == ("BUSY-1", "3", None)
    assert rows[several.pk][:2] == ("BUSY-1 + 1 more", "5 in 2 lines")
    html = response.content.decode()
    assert "column-products" in html and "column-quantity" in html


def build_orders(customer, products: list[Product], count: int) -> None:
    """`count` orders in every status, every third with two lines: bulk inserts, no services."""
    now = timezone.now()
    statuses = list(OrderStatus.values)
    orders = Order.objects.bulk_create(
        Order(
            customer=customer,
            status=statuses[n % len(statuses)],
            total=Decimal("9.99"),
            expires_at=now + timedelta(minutes=15),
        )
        for n in range(count)
    )
    lines = []
    for n, order in enumerate(orders):
        first = products[n % len(products)]
        lines.append(OrderLine(order=order, product=first, quantity=1, unit_price=first.price))
        if n % 3 == 0:
            second = products[(n + 1) % len(products)]
            lines.append(
                OrderLine(order=order, product=second, quantity=2, unit_price=second.price)
            )
    OrderLine.objects.bulk_create(lines, batch_size=500)


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [ORDERS, PRODUCTS, f"{PRODUCTS}?invariant=broken"])
def test_admin_changelists_take_as_many_queries_for_thousands_of_orders_as_for_a_few(
    admin_client, customer, django_assert_max_num_queries, url
):
    products = inventory_services.product_bulk_create(
        rows=[
            inventory_services.ProductRow(f"Q-{n:03d}", f"Product {n}", Decimal("1.50"), 10)
            for n in range(150)
        ]
    )
    build_orders(customer, products, 5)
    few = queries_for(admin_client, url)

    build_orders(customer, products, 3000)

    with django_assert_max_num_queries(few):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(changelist_rows(response)) == 100  # a full page: every row was rendered
