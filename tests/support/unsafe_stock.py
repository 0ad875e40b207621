"""TEST ONLY (tests.support.unsafe_settings): the order's stock step made unsafe on purpose.

The safe step is one conditional UPDATE (stock = stock - n WHERE stock >= n). This one is the
classic bug: it reads the stock when it looks the products up, before the order's transaction,
and later writes `stock = what it read - n`. Concurrent orders read the same stock and each
writes its own result: lost updates, so more orders succeed than there were units, while stock
never goes negative (the CHECK constraint would not catch it). What catches it is the invariant
stock + held == units received, and the race's exact counts.
"""

import threading
import time

from django.apps import AppConfig
from django.utils import timezone

# Long enough that the racers released together all read before any of them writes.
READ_WRITE_GAP_S = 0.2

_seen = threading.local()


def _unsafe_product_rows(original):
    def product_rows(product_ids):
        from inventory.models import Product

        rows = original(product_ids)
        _seen.stock = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "stock"))
        time.sleep(READ_WRITE_GAP_S)
        return rows

    return product_rows


def unsafe_stock_take(*, lines) -> None:
    """Write back the stock read before the transaction, minus the quantity: a lost update."""
    from inventory.exceptions import InsufficientStock
    from inventory.models import Product
    from inventory.services import products_changed

    seen = getattr(_seen, "stock", {})
    for product, quantity in sorted(lines, key=lambda line: line[0].pk):
        read = seen.get(product.pk, 0)
        if read < quantity:
            raise InsufficientStock(
                product_id=product.pk, sku=product.sku, requested=quantity, available=read
            )
        Product.objects.filter(pk=product.pk).update(
            stock=read - quantity, updated_at=timezone.now()
        )
    products_changed()


class UnsafeStockConfig(AppConfig):
    name = "tests.support.unsafe_stock"
    label = "unsafe_stock"
    verbose_name = "TEST ONLY: unsafe stock step"

    def ready(self) -> None:
        from orders import services

        services._product_rows = _unsafe_product_rows(services._product_rows)
        services.stock_take = unsafe_stock_take
