"""Helpers the products API tests share: many products at once, an error's code."""

from decimal import Decimal

from inventory.models import Product


def bulk_products(count: int, *, stock: int = 1, prefix: str = "BULK") -> list[Product]:
    """Many products at once; units_received == stock keeps the invariant."""
    return Product.objects.bulk_create(
        Product(
            sku=f"{prefix}-{n:04d}",
            name=f"Thing {n}",
            price=Decimal("1.00"),
            stock=stock,
            units_received=stock,
        )
        for n in range(count)
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]
