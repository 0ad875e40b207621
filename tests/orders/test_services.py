"""orders.services, called directly: placing, paying, cancelling, expiring, removing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.exceptions import InsufficientStock
from inventory.models import Product
from orders import services
from orders.exceptions import (
    IdempotencyKeyReused,
    OrderNotCancellable,
    OrderNotPayable,
    OrderNotYours,
    UnknownProducts,
)
from orders.models import Order, OrderLine, OrderStatus
from orders.selectors import stock_audit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Users are made per test; the production hasher would be most of these tests' time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def stock_of(product: Product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_order_place_takes_stock_and_returns_its_lines(customer, make_product):
    mug, jug = make_product(stock=5, price="2.00"), make_product(stock=5, price="3.50")

    placed = services.order_place(customer=customer, lines=[(jug.pk, 1), (mug.pk, 2)])

    assert not placed.replayed
    assert placed.order.status == OrderStatus.PENDING
    assert placed.order.total == Decimal("7.50")
    assert [(line.product_id, line.quantity) for line in placed.lines] == [(mug.pk, 2), (jug.pk, 1)]
    assert [line.product.sku for line in placed.lines] == [mug.sku, jug.sku]
    assert not hasattr(placed.order, "lines_in_order")
    assert (stock_of(mug), stock_of(jug)) == (3, 4)
    assert stock_audit().ok


def test_order_place_merges_lines_of_the_same_product(customer, make_product):
    mug = make_product(stock=5)

    placed = services.order_place(customer=customer, lines=[(mug.pk, 1), (mug.pk, 2)])

    assert [(line.product_id, line.quantity) for line in placed.lines] == [(mug.pk, 3)]


def test_order_place_unknown_product_raises_and_creates_nothing(customer, make_product):
    mug = make_product()

    with pytest.raises(UnknownProducts) as raised:
        services.order_place(customer=customer, lines=[(mug.pk, 1), (999_998, 1), (999_999, 1)])

    assert raised.value.product_ids == [999_998, 999_999]
    assert raised.value.details == {"product_ids": [999_998, 999_999]}
    assert not Order.objects.exists()
    assert stock_of(mug) == 10


def test_order_place_short_line_rolls_back_the_whole_order(customer, make_product):
    plenty, short = make_product(stock=10), make_product(stock=1)

    with pytest.raises(InsufficientStock) as raised:
        services.order_place(customer=customer, lines=[(plenty.pk, 2), (short.pk, 2)])

    assert raised.value.details == {"product_id": short.pk, "requested": 2, "available": 1}
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert (stock_of(plenty), stock_of(short)) == (10, 1)


def test_order_place_with_the_same_key_and_body_replays_the_order_and_its_lines(
    customer, make_product
):
    mug = make_product(stock=5)
    digest = services.request_digest({"product_id": mug.pk, "quantity": 2})
    first = services.order_place(
        customer=customer, lines=[(mug.pk, 2)], idempotency_key="k-1", digest=digest
    )

    again = services.order_place(
        customer=customer, lines=[(mug.pk, 2)], idempotency_key="k-1", digest=digest
    )

    assert again.replayed and again.order.pk == first.order.pk
    assert [(line.product_id, line.quantity) for line in again.lines] == [(mug.pk, 2)]
    assert stock_of(mug) == 3


def test_order_place_with_the_same_key_and_another_body_raises(customer, make_product):
    mug = make_product(stock=5)
    services.order_place(customer=customer, lines=[(mug.pk, 1)], idempotency_key="k", digest="a")

    with pytest.raises(IdempotencyKeyReused) as raised:
        services.order_place(
            customer=customer, lines=[(mug.pk, 2)], idempotency_key="k", digest="b"
        )
    assert raised.value.code == "idempotency_key_reused"
    assert raised.value.details == {"idempotency_key": "k"}
    assert stock_of(mug) == 4


def test_request_digest_ignores_key_order():
    assert services.request_digest({"a": 1, "b": [2]}) == services.request_digest(
        {"b": [2], "a": 1}
    )
    assert services.request_digest({"a": 1}) != services.request_digest({"a": 2})


def test_merge_lines_adds_quantities_per_product():
    assert services.merge_lines([(2, 1), (1, 4), (2, 5)]) == {2: 6, 1: 4}


def test_order_pay_by_its_customer_pays_it(customer, make_product):
    order = services.order_place(customer=customer, lines=[(make_product().pk, 1)]).order

    paid = services.order_pay(order=order, payer=customer)

    assert paid.status == OrderStatus.PAID and paid.paid_at is not None


@pytest.mark.parametrize("payer", ["staff", "other_customer"])
def test_order_pay_by_anyone_else_raises_order_not_yours(request, payer, customer, make_product):
    order = services.order_place(customer=customer, lines=[(make_product().pk, 1)]).order

    with pytest.raises(OrderNotYours) as raised:
        services.order_pay(order=order, payer=request.getfixturevalue(payer))

    assert (raised.value.code, raised.value.status_code) == ("permission_denied", 403)
    assert raised.value.message == "Only the customer who placed an order can pay for it."
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_order_pay_twice_raises_order_not_payable(customer, make_product):
    order = services.order_place(customer=customer, lines=[(make_product().pk, 1)]).order
    services.order_pay(order=order, payer=customer)

    with pytest.raises(OrderNotPayable) as raised:
        services.order_pay(order=order, payer=customer)
    assert raised.value.details == {"order_id": order.pk, "status": "paid", "expired": False}


def test_order_pay_past_its_hold_raises_expired(customer, make_product):
    order = services.order_place(customer=customer, lines=[(make_product().pk, 1)]).order
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(OrderNotPayable) as raised:
        services.order_pay(order=order, payer=customer)
    assert raised.value.details == {"order_id": order.pk, "status": "pending", "expired": True}


def test_order_cancel_returns_the_stock(customer, make_product):
    mug = make_product(stock=5)
    order = services.order_place(customer=customer, lines=[(mug.pk, 3)]).order

    cancelled = services.order_cancel(order=order)

    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancelled_at is not None
    assert stock_of(mug) == 5
    assert stock_audit().ok


def test_order_cancel_of_a_paid_order_raises_and_keeps_the_stock_taken(customer, make_product):
    mug = make_product(stock=5)
    order = services.order_place(customer=customer, lines=[(mug.pk, 3)]).order
    services.order_pay(order=order, payer=customer)

    with pytest.raises(OrderNotCancellable) as raised:
        services.order_cancel(order=order)
    assert raised.value.details == {"order_id": order.pk, "status": "paid"}
    assert stock_of(mug) == 2


def test_orders_expire_due_expires_only_orders_past_their_hold(customer, make_product):
    mug = make_product(stock=10)
    due = services.order_place(customer=customer, lines=[(mug.pk, 2)]).order
    fresh = services.order_place(customer=customer, lines=[(mug.pk, 3)]).order
    Order.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert services.orders_expire_due(batch_size=1) == 1

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {due.pk: OrderStatus.EXPIRED, fresh.pk: OrderStatus.PENDING}
    assert stock_of(mug) == 7
    assert services.orders_expire_due() == 0


def test_orders_remove_deletes_the_orders_and_their_lines(customer, make_product):
    mug, jug = make_product(), make_product()
    gone = [
        services.order_place(customer=customer, lines=[(mug.pk, 1), (jug.pk, 1)]).order.pk
        for _ in range(3)
    ]
    kept = services.order_place(customer=customer, lines=[(mug.pk, 1)]).order

    assert services.orders_remove(order_ids=gone, batch_size=2) == (3, 6)

    assert list(Order.objects.values_list("pk", flat=True)) == [kept.pk]
    assert OrderLine.objects.count() == 1
