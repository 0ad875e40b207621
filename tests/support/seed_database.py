"""Migrate the database the environment names and seed it: a staff user, customers, products.

Run by `tests.support.databases.migrate_and_seed` as
`python -m tests.support.seed_database '{"customers": 4, "products": 4, "stock": 100000}'`;
answers the staff token, the customers' tokens and the product ids.
"""

CUSTOMER_PASSWORD = "correct-horse-9"  # customer0's; the others have none


def seed(customers: int, products: int, stock: int) -> dict:
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from inventory.services import product_create

    call_command("migrate", verbosity=0, interactive=False)
    staff = User.objects.create_user("staff", password=None, is_staff=True)
    users = [User.objects.create_user(f"customer{i}", password=None) for i in range(customers)]
    users[0].set_password(CUSTOMER_PASSWORD)
    users[0].save()
    created = [
        product_create(sku=f"FAULT-{i}", name=f"Fault {i}", price=Decimal("2.50"), stock=stock)
        for i in range(products)
    ]
    result = {
        "staff": Token.objects.create(user=staff).key,
        "customers": [Token.objects.create(user=user).key for user in users],
        "products": [product.pk for product in created],
    }
    connections.close_all()  # SQLite folds its WAL into the file, PostgreSQL frees the template
    return result


def main() -> None:
    import django

    from tests.support.django_process import answer, arguments

    django.setup()
    args = arguments()
    answer(seed(args["customers"], args["products"], args["stock"]))


if __name__ == "__main__":
    main()
