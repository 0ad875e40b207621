"""The hand-written output functions give exactly what their DRF serializers give.

products_data and orders_data replace ProductOutputSerializer / OrderOutputSerializer on the hot
paths (see core/output.py); the serializers remain the schema's source of truth, so every shape
an endpoint can return is compared here, rendered to bytes as the API renders them.
"""

import orjson
import pytest
from django.utils import timezone

from core.json import FastJSONRenderer
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
