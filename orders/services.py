"""Every write to orders. Stock moves only through inventory.services.

State changes are guarded updates (`… WHERE status = 'pending'`): of two racing callers only the
one whose update touched the row runs the side effects, so stock is returned at most once.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connections, transaction
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
from orders.models import Order, OrderLine, OrderStatus, data_fields
from orders.selectors import ORDER_COLUMNS, order_lines, order_with_lines


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


class _Converters:
    """The ORM's own from-database conversion of one field, for rows read through the cursor."""

    def __init__(self, model: type, name: str):
        self.model, self.name = model, name
        self.cache: dict[str, Callable[[Any], Any]] = {}

    def field_converters(self, connection) -> Callable[[Any], Any]:
        found = self.cache.get(connection.alias)
        if found is None:
            column = self.model._meta.get_field(self.name).get_col(self.model._meta.db_table)
            steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)

            def found(value, steps=steps, column=column, connection=connection):
                for step in steps:
                    value = step(value, column, connection)
                return value

            self.cache[connection.alias] = found
        return found


_PRICE = _Converters(Product, "price")


# The order's three statements of its own go through Django's cursor, here and only here: an
# order's ORM query building and compilation was a quarter of its CPU (profiled). Stock is still
# taken by the ORM's F() update (inventory.services.stock_take). Tests hold these equal to the ORM
# (tests/orders/test_fast_order.py).
def _product_rows(product_ids: list[int]) -> dict[int, Product]:
    """What Product.objects.only("id", "sku", "price").in_bulk(product_ids) gives."""
    connection = connections[Product.objects.db]
    table = connection.ops.quote_name(Product._meta.db_table)
    marks = ", ".join(["%s"] * len(product_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, sku, price FROM {table} WHERE id IN ({marks})", product_ids)
        rows = cursor.fetchall()
    price = _PRICE.field_converters(connection)
    names = ["id", "sku", "price"]
    return {
        row[0]: Product.from_db(Product.objects.db, names, (row[0], row[1], price(row[2])))
        for row in rows
    }


class _Insert:
    """One model's INSERT through the cursor: its fields resolved once, its SQL built once per
    database and row count (an order's lines are one to MAX_LINES rows)."""

    def __init__(self, model: type, names: tuple[str, ...], *, returning: bool):
        self.model, self.returning = model, returning
        self.fields = [model._meta.get_field(name) for name in names]
        self.sql: dict[tuple[str, int], str] = {}  # (vendor, rows): SQL

    def statement(self, connection, rows: int) -> str:
        found = self.sql.get((connection.vendor, rows))
        if found is None:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(field.column) for field in self.fields)
            one = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
            found = f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) VALUES "
            found += ", ".join([one] * rows)
            if self.returning:
                found += " RETURNING " + quote(self.model._meta.pk.column)
            self.sql[(connection.vendor, rows)] = found
        return found

    def values(self, connection, instance) -> list[Any]:
        """Each field's value as the ORM would send it on save."""
        return [
            field.get_db_prep_save(getattr(instance, field.attname), connection)
            for field in self.fields
        ]


_ORDER_INSERT = _Insert(Order, data_fields(Order), returning=True)
_LINES_INSERT = _Insert(OrderLine, data_fields(OrderLine), returning=False)


def _insert_order(order: Order, lines: list[OrderLine]) -> None:
    """What order.save() and OrderLine.objects.bulk_create(lines) store, in two statements.
    Caller's transaction."""
    connection = connections[Order.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(
            _ORDER_INSERT.statement(connection, 1), _ORDER_INSERT.values(connection, order)
        )
        order.pk = cursor.fetchone()[0]
        order._state.adding = False
        order._state.db = Order.objects.db
        params: list[Any] = []
        for line in lines:
            line.order = order
            params += _LINES_INSERT.values(connection, line)
        cursor.execute(_LINES_INSERT.statement(connection, len(lines)), params)


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

    A retried key is not looked up first: the order's INSERT meets the unique constraint on
    (customer, idempotency_key), and that IntegrityError replays the stored order (or refuses
    another body), the answer a look-up would give, for one statement less per keyed order.
    """
    quantities = merge_lines(lines)
    products = _product_rows(list(quantities))
    missing = sorted(set(quantities) - set(products))
    if missing:
        if idempotency_key:
            # The first request's order is the answer, whatever became of its products since.
            replayed = _replay(customer=customer, idempotency_key=idempotency_key, digest=digest)
            if replayed is not None:
                return PlacedOrder.replay(replayed)
        raise UnknownProducts(missing)

    now = timezone.now()
    total = sum((products[pid].price * qty for pid, qty in quantities.items()), Decimal("0"))
    order = Order(
        customer=customer,
        status=OrderStatus.PENDING,
        total=total,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.ORDER_HOLD_MINUTES),
        idempotency_key=idempotency_key or "",
        request_digest=digest if idempotency_key else "",
    )
    order_lines = [
        OrderLine(product=products[pid], quantity=qty, unit_price=products[pid].price)
        for pid, qty in sorted(quantities.items())
    ]
    try:
        with transaction.atomic():
            # The order row first and the hot product rows last keeps their locks short.
            _insert_order(order, order_lines)
            stock_take(lines=[(products[pid], qty) for pid, qty in quantities.items()])
    except IntegrityError:
        # The key was used before, or a concurrent request with it committed first (its insert
        # made ours wait).
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
    written = {"status": OrderStatus.PAID.value, "paid_at": now}
    paid = Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING, expires_at__gt=now).update(
        **written
    )
    if not paid:
        status, expires_at = (
            Order.objects.filter(pk=order.pk).values_list("status", "expires_at").get()
        )
        expired = status == OrderStatus.EXPIRED or (
            status == OrderStatus.PENDING and expires_at <= now
        )
        raise OrderNotPayable(order_id=order.pk, status=status, expired=expired)
    return _moved(order, order_lines(order_id=order.pk), **written)


def _moved(order: Order, lines: list[OrderLine], **written: Any) -> Order:
    """The order as a re-read would give it once our guarded update wrote `written` to its row,
    with `lines` as its order.lines.all() (as prefetch_related leaves them), without the re-read.

    Only for the caller whose update touched the row: it was pending until then, so `order`,
    read before, holds its other columns (nothing changes a pending order but that update), and
    SQLite and PostgreSQL both store the microseconds of the timestamp written. A new instance,
    as the re-read gave: the caller's `order` is left as it was.
    """
    values = {name: getattr(order, name) for name in ORDER_COLUMNS} | written
    moved = Order.from_db(Order.objects.db, list(values), list(values.values()))
    for line in lines:
        line.order = moved
    # What prefetch_related stores for a reverse relation (QuerySet and prefetch_one_level).
    held = moved.lines.all()
    held._result_cache, held._prefetch_done = lines, True
    moved._prefetched_objects_cache = {"lines": held}
    return moved


def _hold_ended(new_status: OrderStatus, now: datetime) -> dict[str, Any]:
    """What ending a hold writes: the final status, and a cancel's time."""
    stamp = {"cancelled_at": now} if new_status == OrderStatus.CANCELLED else {}
    return {"status": OrderStatus(new_status).value, **stamp}


def _end_hold(
    *, order_id: int, new_status: OrderStatus, now: datetime, **guard: Any
) -> list[OrderLine] | None:
    """Move a pending order to a final state and return its stock, only if this call moved it:
    then its lines (orders.selectors.order_lines, read once for the stock and the answer), else
    None."""
    with transaction.atomic():
        moved = Order.objects.filter(pk=order_id, status=OrderStatus.PENDING, **guard).update(
            **_hold_ended(new_status, now)
        )
        if not moved:
            return None
        lines = order_lines(order_id=order_id)
        stock_return(lines=[(line.product_id, line.quantity) for line in lines])
    return lines


def order_cancel(*, order: Order) -> Order:
    now = timezone.now()
    lines = _end_hold(order_id=order.pk, new_status=OrderStatus.CANCELLED, now=now)
    if lines is None:
        fresh = Order.objects.only("status").get(pk=order.pk)
        raise OrderNotCancellable(order_id=order.pk, status=fresh.status)
    return _moved(order, lines, **_hold_ended(OrderStatus.CANCELLED, now))


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
            ended = _end_hold(
                order_id=order_id, new_status=OrderStatus.EXPIRED, now=now, expires_at__lte=now
            )
            if ended is not None:
                expired += 1
        last_id = due[-1]
