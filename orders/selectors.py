"""Reads of orders, the shop summary and the stock audit (the oversell check)."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from core.compiled import CompiledRead, CompiledReads
from inventory.models import Product
from orders.models import HOLDING_STATUSES, Order, OrderLine, OrderStatus

# Every column of an order, as Order.from_db takes them.
ORDER_COLUMNS = tuple(field.attname for field in Order._meta.concrete_fields)
# Every column of a line (id, order_id, product_id, quantity, unit_price), in the model's order,
# as Model.from_db takes them.
LINE_COLUMNS = tuple(field.attname for field in OrderLine._meta.concrete_fields)
_ANY_ORDER = CompiledRead(
    lambda order_id: Order.objects.filter(pk=order_id).order_by().values_list(*ORDER_COLUMNS),
    "order_id",
)
_OWN_ORDER = CompiledRead(
    lambda order_id, customer_id: (
        Order.objects.filter(pk=order_id, customer_id=customer_id)
        .order_by()
        .values_list(*ORDER_COLUMNS)
    ),
    "order_id",
    "customer_id",
)
_LINES = CompiledRead(
    lambda order_id: (
        OrderLine.objects.filter(order_id=order_id)
        .order_by("product_id")
        .values_list(*LINE_COLUMNS, "product__sku")
    ),
    "order_id",
)


def order_list(*, user: AbstractBaseUser, status: str | None = None) -> QuerySet[Order]:
    orders = Order.objects.prefetch_related("lines__product").order_by("-created_at", "-id")
    if not user.is_staff:
        orders = orders.filter(customer=user)
    if status:
        orders = orders.filter(status=status)
    return orders


def order_get(*, user: AbstractBaseUser, order_id: int) -> Order:
    """An order the user may see; another customer's order does not exist for them. What
    Order.objects(.filter(customer=user)).get(pk=order_id) gives, from SQL compiled once."""
    if user.is_staff:
        rows = _ANY_ORDER.read(order_id=order_id)
    else:
        rows = _OWN_ORDER.read(order_id=order_id, customer_id=user.pk)
    if not rows:
        raise Order.DoesNotExist("Order matching query does not exist.")
    return Order.from_db(Order.objects.db, ORDER_COLUMNS, rows[0])


def order_with_lines(*, order_id: int) -> Order:
    return Order.objects.prefetch_related("lines__product").get(pk=order_id)


def order_lines(*, order_id: int) -> list[OrderLine]:
    """An order's lines in ascending product id, each with its product's sku (what an order's
    answer shows) from the same query: what .select_related("product").only(*LINE_COLUMNS,
    "product__sku") gives, from SQL compiled once. The product's other fields load only when
    read, so none is stale when the lines are read before the stock they return
    (orders.services._end_hold)."""
    db = OrderLine.objects.db
    product_field = OrderLine._meta.get_field("product")
    lines = []
    for *columns, sku in _LINES.read(order_id=order_id):
        line = OrderLine.from_db(db, LINE_COLUMNS, columns)
        product_field.set_cached_value(
            line, Product.from_db(db, ("id", "sku"), (line.product_id, sku))
        )
        lines.append(line)
    return lines


def units_held_by_product(*, product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Units held (orders in HOLDING_STATUSES) per product id; products holding none are absent."""
    lines = OrderLine.objects.filter(order__status__in=HOLDING_STATUSES)
    if product_ids is not None:
        lines = lines.filter(product_id__in=list(product_ids))
    return dict(
        lines.order_by()
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )


def _units_in(statuses: Iterable[str]) -> Coalesce:
    return Coalesce(
        Sum("order_lines__quantity", filter=Q(order_lines__order__status__in=list(statuses))), 0
    )


def units_held_expression() -> Coalesce:
    """The units_held_by_product rule as an annotation of a Product queryset."""
    return _units_in(HOLDING_STATUSES)


def stock_invariant_broken(*, held: str) -> Q:
    """stock < 0, or stock + held != units received; `held` names a units_held_expression()."""
    return Q(stock__lt=0) | ~Q(stock=F("units_received") - F(held))


def products_with_units(products: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """Products annotated in the same query with held_units (all of HOLDING_STATUSES), its
    pending_units and sold_units (paid), and invariant_ok (stock >= 0, stock + held = received)."""
    products = Product.objects.all() if products is None else products
    return products.annotate(
        held_units=units_held_expression(),
        pending_units=_units_in([OrderStatus.PENDING]),
        sold_units=_units_in([OrderStatus.PAID]),
    ).annotate(
        invariant_ok=Case(
            When(stock_invariant_broken(held="held_units"), then=Value(False)),
            default=Value(True),
            output_field=BooleanField(),
        )
    )


# The summary's three reads (/summary, `watch curl /summary`, 1 % of the load test's mix), as
# values_list queries the ORM compiles once per worker (core.compiled): building and compiling its
# aggregates and the audit cost about 5 ms of CPU a call (in process, PostgreSQL), running them a
# fraction of that. A GROUP BY yields no row for an empty group, where aggregate() gave 0.
_AUDIT_COLUMNS = ("id", "sku", "stock", "units_received", "held")
_STOCK_BROKEN = CompiledReads(
    lambda: (
        Product.objects.annotate(held=units_held_expression())
        .filter(stock_invariant_broken(held="held"))
        .order_by("id")
        .values_list(*_AUDIT_COLUMNS)
    ),
    size=1,
)
_PRODUCTS_BY_IN_STOCK = CompiledReads(
    lambda: (
        Product.objects.order_by()
        .annotate(
            in_stock=Case(
                When(stock__gt=0, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values("in_stock")
        .annotate(count=Count("id"), units=Coalesce(Sum("stock"), 0))
        .values_list("in_stock", "count", "units")
    ),
    size=1,
)
_ORDERS_BY_STATUS = CompiledReads(
    lambda: (
        Order.objects.order_by()
        .values("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    ),
    size=1,
)


@dataclass
class StockAudit:
    """The oversell audit: stock >= 0 and stock + held units == units received, per product."""

    ok: bool
    products_checked: int
    negative_stock: int
    mismatched_products: int
    problems: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "negative_stock": self.negative_stock,
            "mismatched_products": self.mismatched_products,
        }


def _audited(products_checked: int) -> StockAudit:
    # One statement, so PostgreSQL checks a single snapshot of stock and lines.
    rows = [dict(zip(_AUDIT_COLUMNS, row, strict=True)) for row in _STOCK_BROKEN.read()]
    problems = [{**row, "expected_stock": row["units_received"] - row["held"]} for row in rows]
    return StockAudit(
        ok=not problems,
        products_checked=products_checked,
        negative_stock=sum(1 for row in problems if row["stock"] < 0),
        mismatched_products=sum(1 for row in problems if row["stock"] != row["expected_stock"]),
        problems=problems,
    )


def stock_audit() -> StockAudit:
    return _audited(products_checked=Product.objects.count())


def shop_summary() -> dict:
    # (products, units) by in stock or not
    groups = {in_stock: (count, units) for in_stock, count, units in _PRODUCTS_BY_IN_STOCK.read()}
    (in_stock, units_of_in_stock), (out_of_stock, units_of_out) = (
        groups.get(True, (0, 0)),
        groups.get(False, (0, 0)),
    )
    products = {
        "count": in_stock + out_of_stock,
        "in_stock": in_stock,
        "out_of_stock": out_of_stock,
        "units_in_stock": units_of_in_stock + units_of_out,
    }
    by_status = dict(_ORDERS_BY_STATUS.read())
    orders = {"total": sum(by_status.values())} | {
        status: by_status.get(status, 0) for status in OrderStatus.values
    }
    return {
        "products": products,
        "orders": orders,
        # The audit's products_checked is not shown here: the count above is the same.
        "stock_integrity": _audited(products_checked=products["count"]).as_dict(),
    }
