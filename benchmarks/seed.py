"""Benchmark fixtures: products with huge stock, a customer and a staff user with tokens.

Run in its own process with the benchmark's DATABASE_URL: `python -m benchmarks.seed --out F`.
Idempotent and namespaced (SKUs `BENCH-…`, users `bench_…`), so it may also seed a database that
holds other data; stock that has run low is topped up through inventory.services.product_restock,
so the stock invariant keeps holding. Tokens are created directly: no password hashing.
"""

import argparse
import json
import os
from decimal import Decimal
from pathlib import Path


def seed(*, products: int, stock: int) -> dict:
    from django.contrib.auth.models import User
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from inventory.models import Product
    from inventory.services import ProductRow, product_bulk_create, product_restock

    def user(username: str, *, staff: bool) -> User:
        found, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": staff, "email": f"{username}@bench.invalid"}
        )
        if created:
            found.set_unusable_password()
            found.save(update_fields=["password"])
        return found

    wanted = {f"BENCH-{n:05d}": Decimal("9.99") + n % 50 for n in range(1, products + 1)}
    wanted["BENCH-HOT"] = Decimal("19.99")
    wanted["BENCH-PGBENCH"] = Decimal("19.99")
    with transaction.atomic():
        existing = set(Product.objects.filter(sku__in=wanted).values_list("sku", flat=True))
        product_bulk_create(
            rows=[
                ProductRow(sku, f"Benchmark product {sku[6:]}", price, stock)
                for sku, price in wanted.items()
                if sku not in existing
            ]
        )
    for product in Product.objects.filter(sku__in=wanted, stock__lt=stock // 2):
        product_restock(product_id=product.pk, quantity=stock - product.stock)

    ids = dict(Product.objects.filter(sku__in=wanted).values_list("sku", "id"))
    customer = user("bench_customer", staff=False)
    staff = user("bench_staff", staff=True)
    return {
        "customer_id": customer.pk,
        "customer_token": Token.objects.get_or_create(user=customer)[0].key,
        "staff_token": Token.objects.get_or_create(user=staff)[0].key,
        "hot_product_id": ids["BENCH-HOT"],
        "pgbench_product_id": ids["BENCH-PGBENCH"],
        "product_ids": sorted(pid for sku, pid in ids.items() if sku[6:].isdigit()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--stock", type=int, default=1_000_000_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()
    fixtures = seed(products=args.products, stock=args.stock)
    args.out.write_text(json.dumps(fixtures))


if __name__ == "__main__":
    main()
