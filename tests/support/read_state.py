"""Read what a fault left in the database: the stock audit (selector and command), every order.

Run by `tests.support.databases.database_state` as `python -m tests.support.read_state`.
"""

import os


def read_state() -> dict:
    from django.core.management import call_command

    from orders.models import Order
    from orders.selectors import stock_audit

    audit = stock_audit()
    try:
        with open(os.devnull, "w") as devnull:
            call_command("audit_stock", stdout=devnull)
        command_ok = True
    except Exception:
        command_ok = False
    return {
        "audit_ok": audit.ok,
        "audit_command_ok": command_ok,
        "problems": audit.problems,
        "orders": {str(pk): key for pk, key in Order.objects.values_list("id", "idempotency_key")},
        "orders_without_lines": list(
            Order.objects.filter(lines__isnull=True).values_list("id", flat=True)
        ),
    }


def main() -> None:
    import django

    from tests.support.django_process import answer

    django.setup()
    answer(read_state())


if __name__ == "__main__":
    main()
