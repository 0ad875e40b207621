"""Every write to products. Nothing outside this module writes Product.stock.

The write is the check: stock moves only through conditional F() updates, so two buyers can
never both take the last unit, and the CHECK (stock >= 0) constraint backs it up. Every write
also calls products_changed(), so that cached product reads are invalidated when it commits.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone

from inventory.cache import products_changed
from inventory.exceptions import DuplicateSku, InsufficientStock, ProductHasOrders
from inventory.models import Product


def product_create(*, sku: str, name: str, price: Decimal, stock: int) -> Product:
    if Product.objects.filter(sku=sku).exists():
        raise DuplicateSku(sku)
    try:
        with transaction.atomic():
            product = Product.objects.create(
                sku=sku, name=name, price=price, stock=stock, units_received=stock
            )
            products_changed(product_ids=())  # no other product's page changes
            return product
    except IntegrityError:
        # A concurrent create took the SKU between the check and the insert.
        raise DuplicateSku(sku) from None


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    price: Decimal
    stock: int


def product_bulk_create(*, rows: Iterable[ProductRow]) -> list[Product]:
    """Create many products in one INSERT (fixtures, benchmarks); units_received = stock.

    Raises DuplicateSku for the first SKU that exists already or is given twice.
    """
    rows = list(rows)
    if not rows:
        return []
    seen: set[str] = set()
    for row in rows:
        if row.sku in seen:
            raise DuplicateSku(row.sku)
        seen.add(row.sku)
    taken = Product.objects.filter(sku__in=seen).order_by("sku").values_list("sku", flat=True)
    if first_taken := next(iter(taken), None):
        raise DuplicateSku(first_taken)
    products = [
        Product(
            sku=row.sku,
            name=row.name,
            price=row.price,
            stock=row.stock,
            units_received=row.stock,
        )
        for row in rows
    ]
    try:
        with transaction.atomic():
            created = Product.objects.bulk_create(products)
            products_changed()
    except IntegrityError:
        # A concurrent create took one of the SKUs between the check and the insert.
        raced = Product.objects.filter(sku__in=seen).order_by("sku").values_list("sku", flat=True)
        raise DuplicateSku(next(iter(raced), rows[0].sku)) from None
    return created


def product_update(*, product: Product, name: str | None = None, price: Decimal | None = None):
    """Change the descriptive fields only; stock has its own conditional paths."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name
    if price is not None:
        changes["price"] = price
    if changes:
        changes["updated_at"] = timezone.now()
        Product.objects.filter(pk=product.pk).update(**changes)
        products_changed(product_ids=[product.pk])
        product.refresh_from_db()
    return product


@transaction.atomic
def product_restock(*, product_id: int, quantity: int) -> Product:
    updated = Product.objects.filter(pk=product_id).update(
        stock=F("stock") + quantity,
        units_received=F("units_received") + quantity,
        updated_at=timezone.now(),
    )
    if not updated:
        raise Product.DoesNotExist(f"No product {product_id}.")
    products_changed(product_ids=[product_id])
    return Product.objects.get(pk=product_id)


def product_delete(*, product_id: int) -> None:
    try:
        with transaction.atomic():
            deleted, _ = Product.objects.filter(pk=product_id).delete()
            products_changed()
    except (ProtectedError, IntegrityError):
        raise ProductHasOrders(product_id) from None
    if not deleted:
        raise Product.DoesNotExist(f"No product {product_id}.")


def products_remove(*, product_ids: Iterable[int]) -> int:
    """Delete the given products that no order line refers to, in one statement; returns how
    many went. A product on an order stays (its units are part of the stock invariant): remove
    its orders first with orders.services.orders_remove."""
    ids = list(product_ids)
    with transaction.atomic():
        removable = Product.objects.filter(pk__in=ids, order_lines__isnull=True)
        _, per_model = Product.objects.filter(pk__in=removable.values("pk")).delete()
        removed = per_model.get(Product._meta.label, 0)
        if removed:
            products_changed()
    return removed


def stock_take(*, lines: Iterable[tuple[Product, int]]) -> None:
    """Take stock for every line, in ascending product id; all or nothing.

    Must run inside the caller's transaction: an InsufficientStock raised for a later line rolls
    back what earlier lines took. Ascending order means two multi-line orders never deadlock.
    """
    now = timezone.now()
    lines = sorted(lines, key=lambda line: line[0].pk)
    for product, quantity in lines:
        taken = Product.objects.filter(pk=product.pk, stock__gte=quantity).update(
            stock=F("stock") - quantity, updated_at=now
        )
        if not taken:
            available = Product.objects.filter(pk=product.pk).values_list("stock", flat=True)
            raise InsufficientStock(
                product_id=product.pk,
                sku=product.sku,
                requested=quantity,
                available=next(iter(available), 0),
            )
    products_changed(product.pk for product, _quantity in lines)


def stock_return(*, lines: Iterable[tuple[int, int]]) -> None:
    """Give back (product_id, quantity) lines, in ascending product id. Caller's transaction."""
    now = timezone.now()
    lines = sorted(lines)
    for product_id, quantity in lines:
        Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity, updated_at=now)
    products_changed(product_id for product_id, _quantity in lines)
