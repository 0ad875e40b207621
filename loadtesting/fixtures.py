"""Load-test fixtures: realistic, namespaced, idempotent and reproducible with --seed.

- Products: SKUs `LT-P-0001`… (ordinary, ample stock) and `LT-HOT-01`… (a few hot products with
  small stock, so that they sell out during a run). Seeding again tops their stock back up through
  `inventory.services.product_restock`, so the stock invariant holds across runs.
- Customers `loadtest-customer-001`… and the staff account `loadtest-staff`, with DRF tokens
  created directly: unusable passwords (no hashing per user) and no logins during the load.
- Per run: the race product `LT-RACE-…`; for --host, the probe `LT-PROBE-…` that proves the server
  shares the harness's database. Staff users create `LT-NEW-…` products during the load.

`clean()` removes all of it and what it caused (the fixture users' orders, products created during
the load), and never touches an order that also holds a product outside the fixtures.
"""

import json
import os
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from faker import Faker
from rest_framework.authtoken.models import Token

from inventory import services as inventory
from inventory.models import Product
from orders import services as orders
from orders.models import Order, OrderLine

SKU_PREFIX = "LT-"
USER_PREFIX = "loadtest-"
STAFF_USERNAME = "loadtest-staff"
DEFAULT_SEED = 42
PRODUCTS = 200
HOT_PRODUCTS = 5
HOT_STOCK = 25
MIN_CUSTOMERS = 50
CREDENTIALS_VERSION = 1

NOUNS = (
    "Lamp", "Mug", "Chair", "Desk", "Kettle", "Backpack", "Notebook", "Headphones", "Blender",
    "Jacket", "Sneakers", "Umbrella", "Candle", "Teapot", "Wallet", "Bottle", "Keyboard", "Pillow",
)  # fmt: skip
ADJECTIVES = ("Pro", "Mini", "Classic", "Deluxe", "Eco", "Smart", "Travel", "Heavy-duty", "Slim")


def product_sku(number: int) -> str:
    return f"{SKU_PREFIX}P-{number:04d}"


def hot_sku(number: int) -> str:
    return f"{SKU_PREFIX}HOT-{number:02d}"


def customer_username(number: int) -> str:
    return f"{USER_PREFIX}customer-{number:03d}"


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    price: Decimal
    stock: int
    hot: bool


def product_specs(seed: int) -> list[ProductSpec]:
    """The same seed gives the same names, prices and stock levels."""
    fake = Faker()
    fake.seed_instance(seed)
    specs = []
    for number in range(1, HOT_PRODUCTS + PRODUCTS + 1):
        hot = number <= HOT_PRODUCTS
        name = f"{fake.color_name()} {fake.random_element(ADJECTIVES)} {fake.random_element(NOUNS)}"
        price = fake.pydecimal(left_digits=3, right_digits=2, min_value=1, max_value=400)
        stock = HOT_STOCK if hot else fake.random_int(min=2000, max=5000)
        sku = hot_sku(number) if hot else product_sku(number - HOT_PRODUCTS)
        specs.append(ProductSpec(sku, name, Decimal(price).quantize(Decimal("0.01")), stock, hot))
    return specs


def _ensure_products(specs: list[ProductSpec]) -> dict[str, Product]:
    existing = Product.objects.in_bulk([spec.sku for spec in specs], field_name="sku")
    created = inventory.product_bulk_create(
        rows=[
            inventory.ProductRow(spec.sku, spec.name, spec.price, spec.stock)
            for spec in specs
            if spec.sku not in existing
        ]
    )
    products = {product.sku: product for product in created}
    for spec in specs:
        product = existing.get(spec.sku)
        if product is not None:
            if product.name != spec.name or product.price != spec.price:
                product = inventory.product_update(
                    product=product, name=spec.name, price=spec.price
                )
            if product.stock < spec.stock:
                # A restock, not a stock write: units received grows with it, the invariant holds.
                product = inventory.product_restock(
                    product_id=product.pk, quantity=spec.stock - product.stock
                )
            products[spec.sku] = product
    return products


def _ensure_users(usernames: list[str], fake: Faker, *, staff: bool = False) -> dict[str, User]:
    existing = {user.username: user for user in User.objects.filter(username__in=usernames)}
    missing = [name for name in usernames if name not in existing]
    if missing:
        User.objects.bulk_create(
            [
                User(
                    username=name,
                    first_name=fake.first_name(),
                    last_name=fake.last_name(),
                    email=f"{name}@example.com",
                    # "!" + random: an unusable password, no hashing cost per fixture user.
                    password=make_password(None),
                    is_staff=staff,
                )
                for name in missing
            ]
        )
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    User.objects.filter(username__in=usernames).exclude(is_active=True).update(is_active=True)
    if staff:
        User.objects.filter(username__in=usernames, is_staff=False).update(is_staff=True)
    tokens = {token.user_id: token for token in Token.objects.filter(user__in=users.values())}
    new_tokens = [
        Token(user=user, key=Token.generate_key())
        for user in users.values()
        if user.pk not in tokens
    ]
    Token.objects.bulk_create(new_tokens)
    for token in new_tokens:
        tokens[token.user_id] = token
    for user in users.values():
        user.token_key = tokens[user.pk].key
    return users


def seed(*, seed: int = DEFAULT_SEED, customers: int = MIN_CUSTOMERS) -> dict:
    """Create or top up every fixture; returns the credentials payload the users need."""
    customers = max(customers, MIN_CUSTOMERS)
    specs = product_specs(seed)
    products = _ensure_products(specs)
    fake = Faker()
    fake.seed_instance(seed + 1)
    with transaction.atomic():
        staff = _ensure_users([STAFF_USERNAME], fake, staff=True)[STAFF_USERNAME]
        names = [customer_username(number) for number in range(1, customers + 1)]
        users = _ensure_users(names, fake)
    return {
        "version": CREDENTIALS_VERSION,
        "created_at": timezone.now().isoformat(),
        "seed": seed,
        "staff": {"username": staff.username, "token": staff.token_key},
        "customers": [{"username": name, "token": users[name].token_key} for name in names],
        "products": [products[spec.sku].pk for spec in specs],
        "hot_products": [products[spec.sku].pk for spec in specs if spec.hot],
    }


def fixture_summary(payload: dict) -> str:
    return (
        f"{len(payload['products'])} products ({len(payload['hot_products'])} hot, "
        f"stock {HOT_STOCK} each), {len(payload['customers'])} customers and 1 staff account "
        f"with tokens (seed {payload['seed']})"
    )


def race_product(*, stock: int) -> Product:
    """A fresh product for each race, so that its stock is exactly --stock at the start."""
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    return inventory.product_create(
        sku=f"{SKU_PREFIX}RACE-{stamp}-{secrets.token_hex(3)}",
        name="Race: the last units",
        price=Decimal("19.99"),
        stock=stock,
    )


def probe_product() -> Product:
    return inventory.product_create(
        sku=f"{SKU_PREFIX}PROBE-{secrets.token_hex(8)}",
        name="Load-test probe: is this database shared?",
        price=Decimal("0.00"),
        stock=0,
    )


def probe_remove(product: Product) -> None:
    inventory.product_delete(product_id=product.pk)


def write_credentials(path: Path, payload: dict) -> None:
    """Tokens are secrets: the file is written readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")


def remove_credentials(path: Path) -> str:
    """The credentials file `prepare` wrote: "removed", "absent", or "kept" when the file at
    that path is not one of ours (it is never removed then)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return "absent"
    except (OSError, ValueError):
        return "kept"
    ours = isinstance(data, dict) and {"version", "staff", "customers"} <= data.keys()
    if not ours:
        return "kept"
    path.unlink()
    return "removed"


def clean() -> dict:
    """Remove every fixture and what it caused; returns what was removed and what was kept."""
    fixture_products = Product.objects.filter(sku__startswith=SKU_PREFIX)
    fixture_users = User.objects.filter(username__startswith=USER_PREFIX)
    foreign_line = OrderLine.objects.filter(order=OuterRef("pk")).exclude(
        product__sku__startswith=SKU_PREFIX
    )
    with transaction.atomic():
        candidates = Order.objects.filter(
            Q(customer__in=fixture_users) | Q(lines__product__in=fixture_products)
        ).distinct()
        # An order that also holds a real product stays: deleting it would break that product's
        # stock invariant (its units would vanish from "held").
        kept_orders = candidates.filter(Exists(foreign_line)).count()
        doomed = list(candidates.exclude(Exists(foreign_line)).values_list("pk", flat=True))
        orders_removed, lines_removed = orders.orders_remove(order_ids=doomed)
        products_removed = inventory.products_remove(
            product_ids=fixture_products.values_list("pk", flat=True)
        )
        removable_users = fixture_users.exclude(
            Exists(Order.objects.filter(customer=OuterRef("pk")))
        )
        users_removed = removable_users.count()
        Token.objects.filter(user__in=removable_users).delete()
        removable_users.delete()
    return {
        "orders": orders_removed,
        "order_lines": lines_removed,
        "products": products_removed,
        "users": users_removed,
        "kept_orders": kept_orders,
        "kept_products": Product.objects.filter(sku__startswith=SKU_PREFIX).count(),
        "kept_users": User.objects.filter(username__startswith=USER_PREFIX).count(),
    }
