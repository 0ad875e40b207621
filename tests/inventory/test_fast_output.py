"""The hand-written output functions give exactly what their DRF serializers give.

products_data and orders_data replace ProductOutputSerializer / OrderOutputSerializer on the hot
paths (see core/output.py); the serializers remain the schema's source of truth, so every shape
an endpoint can return is compared here, rendered to bytes as the API renders them.
"""

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.utils import timezone
from rest_framework import serializers

from core.json import FastJSONRenderer
from core.output import datetime_formatter, utc_output
from inventory import selectors
from inventory.apis import ProductOutputSerializer, products_data
from inventory.models import Product
from orders import services as order_services
from orders.output import OrderOutputSerializer, orders_data
from orders.selectors import order_list, order_with_lines

pytestmark = pytest.mark.django_db


def rendered(data) -> bytes:
    return FastJSONRenderer().render(data)


def test_products_data_matches_the_serializer(make_product):
    made = [
        make_product(price="0", stock=0),
        make_product(price="9.99", stock=7, name='Ünïcode mug "quoted"'),
        make_product(price="12345678.90", stock=1_000_000_000),
        make_product(price="10", stock=1),
    ]
    products = list(Product.objects.filter(pk__in=[p.pk for p in made]).order_by("id"))

    assert rendered(products_data(products)) == rendered(
        ProductOutputSerializer(products, many=True).data
    )
    # A product fresh from create() (Python-side values, not read back) as well.
    assert rendered(products_data(made)) == rendered(ProductOutputSerializer(made, many=True).data)


def test_orders_data_matches_the_serializer_in_every_state(customer, make_product):
    cheap, dear = make_product(price="0.50", stock=50), make_product(price="999.99", stock=50)
    placed = order_services.order_place(customer=customer, lines=[(dear.pk, 2), (cheap.pk, 3)])
    paid = order_services.order_place(customer=customer, lines=[(cheap.pk, 1)]).order
    paid = order_services.order_pay(order=paid, payer=customer)
    cancelled = order_services.order_place(customer=customer, lines=[(dear.pk, 1)]).order
    cancelled = order_services.order_cancel(order=cancelled)

    # Just placed: lines held in memory by order_place, status an enum member.
    held = {placed.order.pk: placed.lines}
    assert rendered(orders_data([placed.order], lines=held)[0]) == rendered(
        OrderOutputSerializer(placed.order, context={"lines": held}).data
    )
    # Read back, one by one and as a page.
    for order in (order_with_lines(order_id=placed.order.pk), paid, cancelled):
        assert rendered(orders_data([order])[0]) == rendered(OrderOutputSerializer(order).data)
        assert orders_data([order])[0]["status"] in ("pending", "paid", "cancelled")
    page = list(order_list(user=customer))
    assert rendered(orders_data(page)) == rendered(OrderOutputSerializer(page, many=True).data)


def test_outputs_follow_the_active_timezone(make_product):
    product = make_product()
    with timezone.override("Europe/Paris"):
        assert products_data([product]) == ProductOutputSerializer([product], many=True).data


def test_outputs_fall_back_to_drf_for_iso_8601(settings, make_product):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "iso-8601"}
    product = make_product()

    assert products_data([product]) == ProductOutputSerializer([product], many=True).data
    assert orjson.loads(rendered(products_data([product])))[0]["created_at"].endswith("Z")


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (None, 200),
        ("*/*", 200),
        ("application/json", 200),
        ("application/json; indent=4", 200),
        ("text/html", 406),
        ("text/html, */*;q=0.1", 200),
    ],
)
def test_content_negotiation_answers_as_drf_does(anon_client, make_product, accept, status):
    make_product()
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}

    response = anon_client.get("/products/", **headers)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if status == 406:
        assert response.json()["error"]["code"] == "not_acceptable"


# --- the list page's rows, formatted by the database (inventory.selectors.product_rows) ----------


AWKWARD_PRICES = [
    "0",
    "0.01",
    "0.10",
    "1.00",
    "9.99",
    "10",
    "1000000.00",
    "12345678.90",
    "99999999.99",
]
AWKWARD_TIMES = [
    datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),  # SQLite's strftime would round up
    datetime(2024, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC),
    datetime(2025, 6, 30, 12, 30, 5, 1, tzinfo=UTC),
    datetime(2025, 6, 30, 12, 30, 5, 123_456, tzinfo=ZoneInfo("Europe/Paris")),
]


@pytest.fixture
def awkward_products(make_product):
    made = [make_product(price=price, stock=n) for n, price in enumerate(AWKWARD_PRICES)]
    for product, when in zip(made, AWKWARD_TIMES * 2, strict=False):
        Product.objects.filter(pk=product.pk).update(created_at=when, updated_at=when)
    return list(Product.objects.filter(pk__in=[p.pk for p in made]).order_by("id"))


def serializer_rows(products) -> list[tuple]:
    return [tuple(row.values()) for row in ProductOutputSerializer(products, many=True).data]


def test_product_rows_match_the_serializer_for_awkward_prices_and_times(awkward_products):
    assert selectors.product_rows_supported()
    rows, count = selectors.product_page(offset=0, limit=50)

    assert rows == serializer_rows(awkward_products)
    assert count == len(awkward_products)
    assert [row[3] for row in rows] == [
        "0.00", "0.01", "0.10", "1.00", "9.99", "10.00", "1000000.00", "12345678.90",
        "99999999.99",
    ]  # fmt: skip
    assert rows[1][5] == "2024-02-29T23:59:59Z"


def test_product_rows_page_by_offset_and_limit(awkward_products):
    rows, count = selectors.product_page(offset=3, limit=4)

    assert rows == serializer_rows(awkward_products[3:7])
    assert count == len(awkward_products)


def orm_page(offset: int, limit: int, **filters) -> tuple[list[tuple], int]:
    """What product_page gives, read through the ORM every time."""
    rows = list(
        selectors.product_rows(selectors.product_list(**filters), offset=offset, limit=limit)
    )
    return [row[:-1] for row in rows], (rows[0][-1] if rows else 0)


@pytest.mark.parametrize(
    "filters",
    [{}, {"in_stock": True}, {"in_stock": False}, {"search": "%_"}, {"search": "a"}, {"sku": "x"}],
    ids=["all", "in-stock", "sold-out", "like-wildcards", "search", "sku"],
)
def test_a_compiled_page_reads_what_the_orm_reads_after_every_write(awkward_products, filters):
    # The first call compiles, the later ones reuse the SQL: each must see the writes before it.
    first = awkward_products[0]
    Product.objects.filter(pk=first.pk).update(name="a mug with %_ in it", sku="x")
    for write in range(3):
        for offset, limit in [(0, 50), (2, 3), (8, 5), (40, 5)]:
            assert selectors.product_page(offset=offset, limit=limit, **filters) == orm_page(
                offset, limit, **filters
            )
        Product.objects.filter(pk=awkward_products[write + 1].pk).update(stock=0, name="a")


def test_the_compiled_sql_is_kept_per_query_and_page(
    awkward_products, monkeypatch, django_assert_num_queries
):
    built = []
    build = selectors._PAGES.build
    monkeypatch.setattr(selectors._PAGES, "build", lambda *key: built.append(key) or build(*key))
    monkeypatch.setattr(selectors._PAGES, "local", threading.local())
    with django_assert_num_queries(1):  # the page and its count in one statement
        selectors.product_page(offset=0, limit=2, search="sku")
    selectors.product_page(offset=0, limit=2, search="sku")
    selectors.product_page(offset=2, limit=2, search="sku")

    assert [key[1:] for key in built] == [(0, 2), (2, 2)]


@pytest.mark.parametrize(
    "query",
    ["", "page_size=4", "page_size=4&page=3", "page_size=3&page=3", "in_stock=true", "search=sku"],
)
def test_product_list_pages_match_the_serializer(anon_client, awkward_products, query):
    # page_size=3: the last page is full, so the count comes from the subquery, not its length.
    body = anon_client.get(f"/products/?{query}").content
    products = awkward_products[1:] if "in_stock" in query else awkward_products
    size = int(query.split("page_size=")[1].split("&")[0]) if "page_size" in query else 50
    page = int(query.split("page=")[-1]) if "page=" in query else 1

    expected = ProductOutputSerializer(products[(page - 1) * size : page * size], many=True).data
    assert orjson.loads(body)["count"] == len(products)
    assert rendered(orjson.loads(body)["products"]) == rendered(expected)


def test_product_list_full_last_page_counts_and_the_next_page_is_404(anon_client, make_product):
    for _ in range(4):
        make_product()

    last = anon_client.get("/products/", {"page_size": 2, "page": 2}).json()
    beyond = anon_client.get("/products/", {"page_size": 2, "page": 3})

    assert (last["count"], last["next"], len(last["products"])) == (4, None, 2)
    assert beyond.status_code == 404
    assert beyond.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/St_Johns", "Asia/Kolkata"])
def test_product_list_in_another_time_zone_falls_back_to_drf(
    anon_client, settings, awkward_products, zone
):
    settings.TIME_ZONE = zone
    with timezone.override(zone):
        assert not utc_output()
        expected = rendered(ProductOutputSerializer(awkward_products, many=True).data)
    body = orjson.loads(anon_client.get("/products/").content)

    assert rendered(body["products"]) == expected
    assert body["products"][0]["created_at"] != "2024-01-01T00:00:00Z"  # midnight UTC, shifted


def test_product_list_with_another_datetime_format_falls_back_to_drf(
    anon_client, settings, awkward_products
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%d/%m/%Y %H:%M:%S"}
    expected = rendered(ProductOutputSerializer(awkward_products, many=True).data)

    body = orjson.loads(anon_client.get("/products/").content)

    assert rendered(body["products"]) == expected
    assert body["products"][1]["created_at"] == "29/02/2024 23:59:59"


@pytest.mark.parametrize(
    "value",
    [
        *AWKWARD_TIMES,
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),  # strftime's %Y: no padding before 1000
        datetime(2024, 3, 31, 1, 59, 59, 999_999, tzinfo=ZoneInfo("Europe/London")),
        datetime(2024, 7, 1, 12, 0, 0, tzinfo=ZoneInfo("Europe/London")),  # BST: +01:00
        None,
    ],
)
def test_datetime_formatter_matches_drf(value):
    assert utc_output()

    assert datetime_formatter()(value) == serializers.DateTimeField().to_representation(value)
