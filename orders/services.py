"""Every write to orders. Stock moves only through inventory.services.

State changes are guarded updates (`… WHERE status = 'pending'`): of two racing callers only the
one whose update touched the row runs the side effects, so stock is returned at most once.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Product
from inventory.services import stock_return, stock_take
from orders.exceptions import (
    IdempotencyKeyReused,
    OrderNotCancellable,
    OrderNotPayable,
    OrderNotYours,
    UnknownProducts,
)
from orders.models import Order, OrderLine, OrderStatus
from orders.selectors import order_with_lines


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    # The order's lines in ascending product id, each with its product (sku, price) loaded.
    lines: list[OrderLine]
    replayed: bool

    @classmethod
    def replay(cls, order: Order) -> "PlacedOrder":
        return cls(order, lines=list(order.lines.all()), replayed=True)


def request_digest(body: Any) -> str:
    """A digest of the parsed JSON body: key order and whitespace do not change it."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def merge_lines(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Lines naming the same product become one line with the quantities added."""
    merged: dict[int, int] = {}
    for product_id, quantity in lines:
        merged[product_id] = merged.get(product_id, 0) + quantity
    return merged


def _replay(*, customer: AbstractBaseUser, idempotency_key: str, digest: str) -> Order | None:
    order = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if order is None:
        return None
    if order.request_digest != digest:
        raise IdempotencyKeyReused(details={"idempotency_key": idempotency_key})
    return order_with_lines(order_id=order.pk)


def order_place(
    *,
    customer: AbstractBaseUser,
    lines: Iterable[tuple[int, int]],
    idempotency_key: str | None = None,
    digest: str = "",
) -> PlacedOrder:
    """Create a pending order and take its stock, all or nothing.

    Raises InsufficientStock for the first short line (ascending product id), UnknownProducts,
    or IdempotencyKeyReused.
    """
    if idempotency_key:
        replayed = _replay(customer=customer, idempotency_key=idempotency_key, digest=digest)
        if replayed is not None:
            return PlacedOrder.replay(replayed)

    quantities = merge_lines(lines)
    products = Product.objects.only("id", "sku", "price").in_bulk(list(quantities))
    missing = sorted(set(quantities) - set(products))
    if missing:
        raise UnknownProducts(missing)

    now = timezone.now()
    total = sum((products[pid].price * qty for pid, qty in quantities.items()), Decimal("0"))
    try:
        with transaction.atomic():
            # The order row first and the hot product rows last keeps their locks short.
            order = Order.objects.create(
                customer=customer,
                status=OrderStatus.PENDING,
                total=total,
                expires_at=now + timedelta(minutes=settings.ORDER_HOLD_MINUTES),
                idempotency_key=idempotency_key or "",
                request_digest=digest if idempotency_key else "",
            )
            order_lines = [
                OrderLine(
                    order=order,
                    product=products[pid],
                    quantity=qty,
                    unit_price=products[pid].price,
                )
                for pid, qty in sorted(quantities.items())
            ]
            OrderLine.objects.bulk_create(order_lines)
            stock_take(lines=[(products[pid], qty) for pid, qty in quantities.items()])
    except IntegrityError:
        # A concurrent request with the same key committed first (its insert made ours wait).
        if idempotency_key:
            replayed = _replay(customer=customer, idempotency_key=idempotency_key, digest=digest)
            if replayed is not None:
                return PlacedOrder.replay(replayed)
        # Or a product was deleted between our read and our insert.
        gone = sorted(set(quantities) - set(Product.objects.in_bulk(list(quantities))))
        if gone:
            raise UnknownProducts(gone) from None
        raise
    return PlacedOrder(order, lines=order_lines, replayed=False)


def order_pay(*, order: Order, payer: AbstractBaseUser) -> Order:
    """Pay a pending order within its hold. Only its customer pays (staff see every order but
    pay none of theirs): raises OrderNotYours, or OrderNotPayable once it is not pending."""
    if order.customer_id != payer.pk:
        raise OrderNotYours(order_id=order.pk)
    now = timezone.now()
    paid = Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING, expires_at__gt=now).update(
        status=OrderStatus.PAID, paid_at=now
    )
    fresh = order_with_lines(order_id=order.pk)
    if not paid:
        expired = fresh.status == OrderStatus.EXPIRED or (
            fresh.status == OrderStatus.PENDING and fresh.expires_at <= now
        )
        raise OrderNotPayable(order_id=order.pk, status=fresh.status, expired=expired)
    return fresh


def _end_hold(*, order_id: int, new_status: OrderStatus, now: datetime, **guard: Any) -> bool:
    """Move a pending order to a final state and return its stock, only if this call moved it."""
    stamp = {"cancelled_at": now} if new_status == OrderStatus.CANCELLED else {}
    with transaction.atomic():
        moved = Order.objects.filter(pk=order_id, status=OrderStatus.PENDING, **guard).update(
            status=new_status, **stamp
        )
        if moved:
            stock_return(
                lines=OrderLine.objects.filter(order_id=order_id).values_list(
                    "product_id", "quantity"
                )
            )
    return bool(moved)


def order_cancel(*, order: Order) -> Order:
    if not _end_hold(order_id=order.pk, new_status=OrderStatus.CANCELLED, now=timezone.now()):
        fresh = Order.objects.only("status").get(pk=order.pk)
        raise OrderNotCancellable(order_id=order.pk, status=fresh.status)
    return order_with_lines(order_id=order.pk)


def orders_remove(*, order_ids: Iterable[int], batch_size: int = 500) -> tuple[int, int]:
    """Delete orders with their lines, for fixture cleanup; returns (orders, lines) removed.

    Their units leave the stock invariant: only for orders whose products go too
    (inventory.services.products_remove). Stock is not returned.
    """
    ids = list(order_ids)
    orders_removed = lines_removed = 0
    with transaction.atomic():
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            lines_removed += OrderLine.objects.filter(order_id__in=batch).delete()[0]
            orders_removed += Order.objects.filter(pk__in=batch).delete()[0]
    return orders_removed, lines_removed


def orders_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Expire every pending order past its hold; one guarded update per order. Returns the count."""
    now = now or timezone.now()
    expired = 0
    last_id = 0
    while True:
        due = list(
            Order.objects.filter(status=OrderStatus.PENDING, expires_at__lte=now, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not due:
            return expired
        for order_id in due:
            if _end_hold(
                order_id=order_id, new_status=OrderStatus.EXPIRED, now=now, expires_at__lte=now
            ):
                expired += 1
        last_id = due[-1]
