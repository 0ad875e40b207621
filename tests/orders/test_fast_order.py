"""The order's SQL through Django's cursor (orders/services.py) writes and reads what the ORM does,
and a keyed order is not looked up before its INSERT: the unique constraint answers a retry."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Product
from orders import services
from orders.exceptions import IdempotencyKeyReused
from orders.models import Order, OrderLine, OrderStatus

pytestmark = pytest.mark.django_db


def fields(instance, names):
    return {name: getattr(instance, name) for name in names}


def test_product_rows_equal_the_orms_in_bulk(make_product):
    made = [
        make_product(price=Decimal("0.10"), stock=1),
        make_product(price=Decimal("99999999.99"), stock=2),
        make_product(price=Decimal("19.90"), stock=3),
    ]
    ids = [p.pk for p in made] + [10**12]  # and one that does not exist
    ours = services._product_rows(ids)
    orms = Product.objects.only("id", "sku", "price").in_bulk(ids)
    assert set(ours) == set(orms) == {p.pk for p in made}
    for pk, product in orms.items():
        mine = ours[pk]
        assert fields(mine, ["id", "sku", "price"]) == fields(product, ["id", "sku", "price"])
        assert type(mine.price) is Decimal and str(mine.price) == str(product.price)
        assert mine.get_deferred_fields() == product.get_deferred_fields()


def test_the_cursor_inserts_store_the_rows_the_orm_stores(customer, make_product):
    first, second = make_product(price=Decimal("2.50")), make_product(price=Decimal("7.25"))
    now = timezone.now()

    def unsaved(key: str):
        order = Order(
            customer=customer,
            status=OrderStatus.PENDING,
            total=Decimal("17.00"),
            created_at=now,
            expires_at=now + timezone.timedelta(minutes=15),
            idempotency_key=key,
            request_digest="d" * 64 if key else "",
        )
        lines = [
            OrderLine(product=first, quantity=2, unit_price=first.price),
            OrderLine(product=second, quantity=1, unit_price=second.price),
        ]
        return order, lines

    with transaction.atomic():
        ours, our_lines = unsaved("k-1")
        services._insert_order(ours, our_lines)
        theirs, their_lines = unsaved("k-2")
        theirs.save()
        for line in their_lines:
            line.order = theirs
        OrderLine.objects.bulk_create(their_lines)
        Order.objects.filter(pk=theirs.pk).update(created_at=now)  # auto_now_add set its own

    assert ours.pk and not ours._state.adding
    names = [f.attname for f in Order._meta.concrete_fields if f.attname not in ("id",)]
    mine, orms = Order.objects.get(pk=ours.pk), Order.objects.get(pk=theirs.pk)
    assert {**fields(mine, names), "idempotency_key": ""} == {
        **fields(orms, names),
        "idempotency_key": "",
    }
    assert mine.idempotency_key == "k-1"
    # What the service answers from memory is what a read gives.
    assert fields(ours, names) == fields(mine, names)
    line_names = ["product_id", "quantity", "unit_price"]
    assert [fields(x, line_names) for x in mine.lines.all()] == [
        fields(x, line_names) for x in orms.lines.all()
    ]
    assert [fields(x, line_names) for x in our_lines] == [
        fields(x, line_names) for x in mine.lines.all()
    ]


def test_an_order_through_the_service_equals_its_database_rows(customer, make_product):
    product = make_product(price=Decimal("3.30"), stock=10)
    placed = services.order_place(customer=customer, lines=[(product.pk, 3)])
    stored = Order.objects.get(pk=placed.order.pk)
    names = [f.attname for f in Order._meta.concrete_fields]
    assert fields(placed.order, names) == fields(stored, names)
    assert stored.total == Decimal("9.90")
    product.refresh_from_db()
    assert product.stock == 7


def test_a_keyed_order_is_not_looked_up_before_its_insert(customer, make_product):
    product = make_product(stock=10)
    with CaptureQueriesContext(connection) as unkeyed:
        services.order_place(customer=customer, lines=[(product.pk, 1)])
    with CaptureQueriesContext(connection) as keyed:
        services.order_place(
            customer=customer, lines=[(product.pk, 1)], idempotency_key="once", digest="a"
        )
    assert len(keyed) == len(unkeyed)
    table = Order._meta.db_table
    assert not [
        q for q in keyed.captured_queries if q["sql"].startswith("SELECT") and table in q["sql"]
    ]


@pytest.mark.django_db(transaction=True)
def test_a_retried_key_replays_from_the_constraint_and_takes_no_more_stock(customer, make_product):
    product = make_product(stock=10)
    first = services.order_place(
        customer=customer, lines=[(product.pk, 4)], idempotency_key="retry", digest="same"
    )
    again = services.order_place(
        customer=customer, lines=[(product.pk, 4)], idempotency_key="retry", digest="same"
    )
    assert again.replayed and not first.replayed
    assert again.order.pk == first.order.pk
    product.refresh_from_db()
    assert product.stock == 6
    with pytest.raises(IdempotencyKeyReused):
        services.order_place(
            customer=customer, lines=[(product.pk, 1)], idempotency_key="retry", digest="other"
        )
    # A retry is answered even when the stock it would need is gone now.
    services.order_place(customer=customer, lines=[(product.pk, 6)])
    replayed = services.order_place(
        customer=customer, lines=[(product.pk, 4)], idempotency_key="retry", digest="same"
    )
    assert replayed.replayed and replayed.order.pk == first.order.pk
    assert Order.objects.filter(customer=customer, idempotency_key="retry").count() == 1
