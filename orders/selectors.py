"""Reads of orders, the shop summary and the stock audit (the oversell check)."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from core.compiled import CompiledRead
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


def stock_audit() -> StockAudit:
    # One statement, so PostgreSQL checks a single snapshot of stock and lines.
    rows = (
        Product.objects.annotate(held=units_held_expression())
        .filter(stock_invariant_broken(held="held"))
        .order_by("id")
        .values("id", "sku", "stock", "units_received", "held")
    )
    problems = [{**row, "expected_stock": row["units_received"] - row["held"]} for row in rows]
    negative = sum(1 for row in problems if row["stock"] < 0)
    mismatched = sum(1 for row in problems if row["stock"] != row["expected_stock"])
    return StockAudit(
        ok=not problems,
        products_checked=Product.objects.count(),
        negative_stock=negative,
        mismatched_products=mismatched,
        problems=problems,
    )


def shop_summary() -> dict:
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
    return {
        "products": products,
        "orders": orders,
        "stock_integrity": stock_audit().as_dict(),
    }
