"""Reads of products that are more than one .get()."""

from django.db import connection
from django.db.models import (
    CharField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast

from core.compiled import CompiledRead, CompiledReads
from inventory.models import Product

# The columns of a product as the API shows them, in the serializer's order.
PRODUCT_FIELDS = ("id", "sku", "name", "price", "stock", "created_at", "updated_at")


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


PRODUCT_COLUMNS = tuple(field.attname for field in Product._meta.concrete_fields)
_PRODUCT = CompiledRead(
    lambda product_id: (
        Product.objects.filter(pk=product_id).order_by().values_list(*PRODUCT_COLUMNS)
    ),
    "product_id",
)


def product_get(*, product_id: int) -> Product:
    """Product.objects.get(pk=product_id), from SQL compiled once (core/compiled.py)."""
    rows = _PRODUCT.read(product_id=product_id)
    if not rows:
        raise Product.DoesNotExist("Product matching query does not exist.")
    return Product.from_db(Product.objects.db, PRODUCT_COLUMNS, rows[0])


PG_DATETIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


class UTCText(Func):
    """A timestamp as "2024-05-01T12:00:00Z" in UTC, seconds truncated: what DRF's
    DateTimeField gives with the shop's DATETIME_FORMAT when the time zone is UTC."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template=f"to_char(%(expressions)s AT TIME ZONE 'UTC', '{PG_DATETIME_FORMAT}')",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC. SQLite's strftime would round
        # the microseconds to milliseconds first (23:59:59.9996 -> the next day); slicing cannot.
        return self.as_sql(
            compiler,
            connection,
            template=(
                "substr(%(expressions)s, 1, 10) || 'T' || substr(%(expressions)s, 12, 8) || 'Z'"
            ),
            **extra,
        )


class MoneyText(Func):
    """A DecimalField(decimal_places=2) as "12.50", what DRF gives with COERCE_DECIMAL_TO_STRING."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        # numeric(10, 2) as text always has its two places: 0.10, 1000000.00.
        return compiler.compile(Cast(self.source_expressions[0], TextField()))

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps the value as a REAL or INTEGER (NUMERIC affinity), at most 10 digits.
        return compiler.compile(Func(Value("%.2f"), self.source_expressions[0], function="printf"))


def product_rows_supported() -> bool:
    """Whether product_page can give this database's rows (UTC timestamps, see UTCText)."""
    return connection.vendor in ("postgresql", "sqlite") and connection.timezone_name == "UTC"


def product_rows(products: QuerySet[Product], *, offset: int, limit: int) -> QuerySet:
    """A page of `products` as tuples of PRODUCT_FIELDS formatted as the API shows them, by
    the database, each followed by the count of all of `products`: no model instances, no
    Decimal or datetime per value (profiled: most of the CPU of a page of 50). Only where
    product_rows_supported(); a test holds it equal to ProductOutputSerializer.

    The count is a scalar subquery, which both databases run once per statement, so a full page
    needs no COUNT(*) statement of its own. (COUNT(*) OVER () would format every row of the list
    before the LIMIT: 1.1-1.6 ms on SQLite for a page of 50 of 500, against 0.27 ms for this.)"""
    count = products.order_by().values(
        total=Func(F("id"), function="COUNT", output_field=IntegerField())
    )
    return products.values_list(
        "id",
        "sku",
        "name",
        MoneyText(F("price")),
        "stock",
        UTCText(F("created_at")),
        UTCText(F("updated_at")),
        Subquery(count),
    )[offset : offset + limit]


# The distinct list queries a shop sees are few (pages, in_stock, the searches people type), and
# building and compiling one was as costly as running it (profiled): the SQL the ORM compiles for
# each is kept. Only the SQL: every call reads the rows afresh.
COMPILED_PAGES = 256
_PAGES = CompiledReads(
    lambda filters, offset, limit: product_rows(
        product_list(**dict(filters)), offset=offset, limit=limit
    ),
    size=COMPILED_PAGES,
)


def product_page(
    *,
    offset: int,
    limit: int,
    in_stock: bool | None = None,
    sku: str | None = None,
    search: str | None = None,
) -> tuple[list[tuple], int]:
    """(a page of product_list(...) as product_rows gives it, without the count; the count of the
    whole list, or 0 when the page is empty). Only where product_rows_supported()."""
    filters = (("in_stock", in_stock), ("sku", sku), ("search", search))
    rows = _PAGES.read(filters, offset, limit)
    return [row[:-1] for row in rows], (rows[0][-1] if rows else 0)
