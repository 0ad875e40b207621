from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from orders.services import orders_expire_due


class Command(BaseCommand):
    help = "Expire pending orders past their hold and return their stock (safe to overlap)."

    def handle(self, *args, **options):
        try:
            expired = orders_expire_due()
        except DatabaseError as exc:
            raise CommandError(f"database error: {exc}".strip(), returncode=3) from None
        self.stdout.write(self.style.SUCCESS(f"Expired {expired} order(s)."))
