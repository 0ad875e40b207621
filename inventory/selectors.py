"""Reads of products that are more than one .get()."""

from django.db.models import Q, QuerySet

from inventory.models import Product


def product_list(
    *, in_stock: bool | None = None, sku: str | None = None, search: str | None = None
) -> QuerySet[Product]:
    products = Product.objects.order_by("id")
    if in_stock is True:
        products = products.filter(stock__gt=0)
    elif in_stock is False:
        products = products.filter(stock=0)
    if sku:
        products = products.filter(sku=sku)
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    return products


def product_get(*, product_id: int) -> Product:
    return Product.objects.get(pk=product_id)
