import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from orders.selectors import stock_audit

INVARIANT_BROKEN = 2


class Command(BaseCommand):
    help = (
        "Check the stock invariant for every product: stock >= 0 and stock + units held by "
        "pending and paid orders == units received. Exit 0 when it holds, 2 when it does not."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the audit as JSON")

    def handle(self, *args, **options):
        try:
            audit = stock_audit()
        except DatabaseError as exc:
            raise CommandError(f"database error: {exc}".strip(), returncode=3) from None
        if options["json"]:
            self.stdout.write(json.dumps({**audit.as_dict(), "problems": audit.problems}))
        elif audit.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Stock invariant holds for all {audit.products_checked} products."
                )
            )
        else:
            for row in audit.problems:
                self.stdout.write(
                    f"product {row['id']} {row['sku']}: stock {row['stock']}, "
                    f"held {row['held']}, received {row['units_received']} "
                    f"(expected stock {row['expected_stock']})"
                )
        if not audit.ok:
            raise CommandError(
                f"Stock invariant broken: {audit.negative_stock} product(s) with negative stock, "
                f"{audit.mismatched_products} mismatched.",
                returncode=INVARIANT_BROKEN,
            )
