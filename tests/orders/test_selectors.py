"""orders.selectors, called directly: visibility, units held, the stock audit, the summary."""

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext

from inventory.models import Product
from orders import selectors
from orders import services as order_services
from orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Users are made per test; the production hasher would be most of these tests' time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop(customer, other_customer, make_product):
    """mug: 2 pending, 3 paid, 4 cancelled; jug: 1 pending by Bob; cup: never ordered."""
    mug, jug, cup = make_product(stock=20), make_product(stock=20), make_product(stock=20)
    pending = order_services.order_place(customer=customer, lines=[(mug.pk, 2)]).order
    paid = order_services.order_place(customer=customer, lines=[(mug.pk, 3)]).order
    order_services.order_pay(order=paid, payer=customer)
    cancelled = order_services.order_place(customer=customer, lines=[(mug.pk, 4)]).order
    order_services.order_cancel(order=cancelled)
    bobs = order_services.order_place(customer=other_customer, lines=[(jug.pk, 1)]).order
    return {
        "mug": mug,
        "jug": jug,
        "cup": cup,
        "pending": pending,
        "paid": paid,
        "cancelled": cancelled,
        "bobs": bobs,
    }


def test_units_held_by_product_counts_pending_and_paid_only(shop):
    held = selectors.units_held_by_product()

    assert held == {shop["mug"].pk: 5, shop["jug"].pk: 1}


def test_units_held_by_product_for_some_products(shop):
    wanted = [shop["jug"].pk, shop["cup"].pk]

    assert selectors.units_held_by_product(product_ids=wanted) == {shop["jug"].pk: 1}
    assert selectors.units_held_by_product(product_ids=[]) == {}


def test_products_with_units_annotates_held_pending_sold_and_the_invariant(shop):
    rows = {
        p.pk: (p.held_units, p.pending_units, p.sold_units, p.invariant_ok)
        for p in selectors.products_with_units()
    }

    assert rows == {
        shop["mug"].pk: (5, 2, 3, True),
        shop["jug"].pk: (1, 1, 0, True),
        shop["cup"].pk: (0, 0, 0, True),
    }


def test_products_with_units_agrees_with_units_held_by_product(shop):
    held = selectors.units_held_by_product()

    for product in selectors.products_with_units():
        assert product.held_units == held.get(product.pk, 0)


def test_products_with_units_flags_a_broken_invariant_in_one_query(shop):
    # A write that bypasses inventory.services: stock + held no longer equals units received.
    Product.objects.filter(pk=shop["cup"].pk).update(stock=19)

    with CaptureQueriesContext(connection) as queries:
        broken = list(selectors.products_with_units().filter(invariant_ok=False))

    assert [p.pk for p in broken] == [shop["cup"].pk]
    assert len(queries) == 1


def test_stock_audit_is_ok_after_services_only(shop):
    audit = selectors.stock_audit()

    assert audit.ok and audit.problems == []
    assert (audit.products_checked, audit.negative_stock, audit.mismatched_products) == (3, 0, 0)


def test_stock_audit_names_the_mismatched_product(shop):
    Product.objects.filter(pk=shop["mug"].pk).update(stock=10)

    audit = selectors.stock_audit()

    assert not audit.ok
    assert audit.mismatched_products == 1 and audit.negative_stock == 0
    assert audit.problems == [
        {
            "id": shop["mug"].pk,
            "sku": shop["mug"].sku,
            "stock": 10,
            "units_received": 20,
            "held": 5,
            "expected_stock": 15,
        }
    ]
    assert audit.as_dict() == {"ok": False, "negative_stock": 0, "mismatched_products": 1}


def test_shop_summary_counts_products_orders_and_integrity(shop):
    summary = selectors.shop_summary()

    assert summary["products"] == {
        "count": 3,
        "in_stock": 3,
        "out_of_stock": 0,
        "units_in_stock": 15 + 19 + 20,
    }
    assert summary["orders"] == {
        "total": 4,
        "pending": 2,
        "paid": 1,
        "cancelled": 1,
        "expired": 0,
    }
    assert summary["stock_integrity"] == {
        "ok": True,
        "negative_stock": 0,
        "mismatched_products": 0,
    }


def _summary_through_the_orm() -> dict:
    """What shop_summary() gave before its reads were compiled: aggregate() and the audit."""
    products = Product.objects.aggregate(
        count=Count("id"),
        in_stock=Count("id", filter=Q(stock__gt=0)),
        out_of_stock=Count("id", filter=Q(stock__lte=0)),
        units_in_stock=Coalesce(Sum("stock"), 0),
    )
    orders = Order.objects.aggregate(
        total=Count("id"),
        **{status: Count("id", filter=Q(status=status)) for status in OrderStatus.values},
    )
    return {"products": products, "orders": orders, "stock_integrity": _audit_through_the_orm()}


def _audit_through_the_orm() -> dict:
    rows = list(
        Product.objects.annotate(held=selectors.units_held_expression())
        .filter(selectors.stock_invariant_broken(held="held"))
        .values("stock", "units_received", "held")
    )
    return {
        "ok": not rows,
        "negative_stock": sum(1 for row in rows if row["stock"] < 0),
        "mismatched_products": sum(
            1 for row in rows if row["stock"] != row["units_received"] - row["held"]
        ),
    }


def test_shop_summary_follows_every_write_as_the_orm_counts_it(shop, customer, make_product):
    # The summary's SQL is compiled once per worker and run again: each call sees the writes made
    # since the last, in every group (an empty shop is test_summary_health_commands').
    assert selectors.shop_summary() == _summary_through_the_orm()

    make_product(stock=0)
    order_services.order_place(customer=customer, lines=[(shop["cup"].pk, 20)])
    order_services.order_pay(order=shop["pending"], payer=customer)
    Order.objects.filter(pk=shop["bobs"].pk).update(status=OrderStatus.EXPIRED)
    Product.objects.filter(pk=shop["jug"].pk).update(stock=3)
    summary = selectors.shop_summary()

    assert summary == _summary_through_the_orm()
    assert summary["products"] == {
        "count": 4,
        "in_stock": 2,
        "out_of_stock": 2,
        "units_in_stock": 15 + 3,
    }
    assert summary["orders"] == {"total": 5, "pending": 1, "paid": 2, "cancelled": 1, "expired": 1}
    # jug: 3 in stock, 0 held (Bob's order expired without its stock coming back), 20 received
    assert summary["stock_integrity"] == {
        "ok": False,
        "negative_stock": 0,
        "mismatched_products": 1,
    }


def test_shop_summary_is_three_statements():
    selectors.shop_summary()  # compiled on the first call in this thread

    with CaptureQueriesContext(connection) as queries:
        selectors.shop_summary()

    assert len(queries) == 3


def test_order_list_shows_a_customer_their_own_orders_newest_first(shop, customer):
    ids = [order.pk for order in selectors.order_list(user=customer)]

    assert ids == [shop["cancelled"].pk, shop["paid"].pk, shop["pending"].pk]


def test_order_list_shows_staff_every_order_and_filters_by_status(shop, staff):
    assert selectors.order_list(user=staff).count() == 4
    paid = selectors.order_list(user=staff, status=OrderStatus.PAID)
    assert [order.pk for order in paid] == [shop["paid"].pk]


def test_order_get_hides_other_customers_orders(shop, customer, staff):
    assert selectors.order_get(user=customer, order_id=shop["pending"].pk) == shop["pending"]
    assert selectors.order_get(user=staff, order_id=shop["bobs"].pk) == shop["bobs"]
    with pytest.raises(Order.DoesNotExist):
        selectors.order_get(user=customer, order_id=shop["bobs"].pk)
