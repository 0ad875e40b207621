"""Every write to products. Nothing outside this module writes Product.stock.

The write is the check: stock moves only through conditional F() updates, so two buyers can
never both take the last unit, and the CHECK (stock >= 0) constraint backs it up. Every write
also calls products_changed(), so that cached product reads are invalidated when it commits.
"""

from collections.abc import Iterable
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
            products_changed()
            return product
    except IntegrityError:
        # A concurrent create took the SKU between the check and the insert.
        raise DuplicateSku(sku) from None


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
        products_changed()
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
    products_changed()
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


def stock_take(*, lines: Iterable[tuple[Product, int]]) -> None:
    """Take stock for every line, in ascending product id; all or nothing.

    Must run inside the caller's transaction: an InsufficientStock raised for a later line rolls
    back what earlier lines took. Ascending order means two multi-line orders never deadlock.
    """
    now = timezone.now()
    for product, quantity in sorted(lines, key=lambda line: line[0].pk):
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
    products_changed()


def stock_return(*, lines: Iterable[tuple[int, int]]) -> None:
    """Give back (product_id, quantity) lines, in ascending product id. Caller's transaction."""
    now = timezone.now()
    for product_id, quantity in sorted(lines):
        Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity, updated_at=now)
    products_changed()
