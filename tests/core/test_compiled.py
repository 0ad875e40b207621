"""Reads from SQL the ORM compiled once (core/compiled.py) give what the ORM gives, every time:
the selectors that use them, a query whose SQL changes with its argument, arguments that are not
plain integers, and the bounded set of queries kept by key."""

import threading
from decimal import Decimal

import pytest
from django.db.models import F

from core.compiled import CompiledRead, CompiledReads
from inventory import selectors as inventory_selectors
from inventory.models import Product
from orders import selectors, services
from orders.models import Order, OrderLine
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {name: value for name, value in vars(instance).items() if not name.startswith("_")}


@pytest.fixture
def orders(customer, make_product):
    mug, lamp = make_product(price=Decimal("9.99")), make_product(price=Decimal("1234567.10"))
    first = services.order_place(customer=customer, lines=[(lamp.pk, 2), (mug.pk, 1)]).order
    other = services.order_place(customer=make_user("bob"), lines=[(mug.pk, 3)]).order
    return first, other


def test_order_get_gives_what_the_orm_gives_to_its_customer_and_to_staff(orders, customer, staff):
    first, other = orders
    for _ in range(2):  # compiled at the first call, reused at the second
        for user, order in [(customer, first), (staff, first), (staff, other)]:
            found = selectors.order_get(user=user, order_id=order.pk)
            expected = Order.objects.get(pk=order.pk)
            assert fields(found) == fields(expected)
            assert type(found.total) is Decimal and found.created_at.tzinfo is not None
            assert found._state.db == expected._state.db and not found._state.adding
        with pytest.raises(Order.DoesNotExist):
            selectors.order_get(user=customer, order_id=other.pk)  # another customer's
        with pytest.raises(Order.DoesNotExist):
            selectors.order_get(user=staff, order_id=other.pk + 1000)


def test_order_lines_give_what_select_related_gives(orders, django_assert_num_queries):
    first, _ = orders
    expected = list(
        OrderLine.objects.filter(order_id=first.pk)
        .select_related("product")
        .only(*selectors.LINE_COLUMNS, "product__sku")
    )
    for _ in range(2):
        with django_assert_num_queries(1):
            lines = selectors.order_lines(order_id=first.pk)
            assert [fields(line) for line in lines] == [fields(line) for line in expected]
            assert [line.product.sku for line in lines] == [line.product.sku for line in expected]
        assert [line.product_id for line in lines] == sorted(line.product_id for line in lines)
    assert selectors.order_lines(order_id=first.pk + 1000) == []


def test_product_get_reads_afresh_after_every_write(make_product):
    product = make_product(stock=5)
    for stock in (5, 4, 3):
        found = inventory_selectors.product_get(product_id=product.pk)
        assert fields(found) == fields(Product.objects.get(pk=product.pk))
        assert found.stock == stock
        Product.objects.filter(pk=product.pk).update(stock=F("stock") - 1)
    with pytest.raises(Product.DoesNotExist):
        inventory_selectors.product_get(product_id=product.pk + 1000)


def test_the_query_is_built_once_and_each_thread_compiles_its_own(make_product):
    products = [make_product() for _ in range(3)]
    built = []

    def build(product_id):
        built.append(product_id)
        return Product.objects.filter(pk=product_id).values_list("id", "sku")

    read = CompiledRead(build, "product_id")
    for product in products:
        assert read.read(product_id=product.pk) == [(product.pk, product.sku)]
    assert len(built) == 1  # the probe's build; every read after it ran the kept SQL

    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(read._compiled()))
    thread.start()
    thread.join()
    assert elsewhere[0] is not None and elsewhere[0] is not read._compiled()


def test_an_argument_in_the_sql_itself_falls_back_to_the_orm(make_product):
    for _ in range(4):
        make_product()
    read = CompiledRead(lambda n: Product.objects.order_by("id").values_list("id")[:n], "n")

    assert len(read.read(n=1)) == 1  # LIMIT 1 is in the SQL, not a parameter
    assert len(read.read(n=3)) == 3
    assert read._compiled() is None


def test_arguments_that_are_not_plain_integers_go_through_the_orm(make_product):
    product = make_product()
    read = CompiledRead(
        lambda product_id: Product.objects.filter(pk=product_id).values_list("sku"), "product_id"
    )
    assert read.read(product_id=product.pk) == [(product.sku,)]
    assert read.read(product_id=str(product.pk)) == [(product.sku,)]
    assert read.read(product_id=True) == list(Product.objects.filter(pk=1).values_list("sku"))


def test_reads_kept_by_key_stay_bounded_and_read_afresh(make_product):
    products = [make_product(stock=n) for n in range(1, 4)]
    built = []

    def build(minimum):
        built.append(minimum)
        return Product.objects.filter(stock__gte=minimum).order_by("id").values_list("id", "stock")

    reads = CompiledReads(build, size=2)
    assert reads.read(2) == [(p.pk, p.stock) for p in products[1:]]
    Product.objects.filter(pk=products[2].pk).update(stock=1)
    assert reads.read(2) == [(products[1].pk, 2)]  # the kept SQL, run afresh
    reads.read(1)
    reads.read(3)  # a third key: the least recently used, 2, goes
    reads.read(1)
    reads.read(2)

    assert built == [2, 1, 3, 2]
