"""inventory.selectors, called directly."""

import pytest

from inventory import selectors
from inventory.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Users are made per test; the production hasher would be most of these tests' time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogue(make_product):
    return {
        "mug": make_product(sku="MUG-1", name="Blue mug", stock=3),
        "jug": make_product(sku="JUG-1", name="Water jug", stock=0),
        "cup": make_product(sku="CUP-1", name="Tea cup", stock=8),
    }


def skus(products) -> list[str]:
    return [product.sku for product in products]


def test_product_list_is_every_product_by_id(catalogue):
    assert skus(selectors.product_list()) == ["MUG-1", "JUG-1", "CUP-1"]


def test_product_list_filters_by_stock(catalogue):
    assert skus(selectors.product_list(in_stock=True)) == ["MUG-1", "CUP-1"]
    assert skus(selectors.product_list(in_stock=False)) == ["JUG-1"]


def test_product_list_filters_by_exact_sku(catalogue):
    assert skus(selectors.product_list(sku="JUG-1")) == ["JUG-1"]
    assert skus(selectors.product_list(sku="JUG")) == []


def test_product_list_searches_name_and_sku_case_insensitively(catalogue):
    assert skus(selectors.product_list(search="MUG")) == ["MUG-1"]
    assert skus(selectors.product_list(search="cup")) == ["CUP-1"]
    assert skus(selectors.product_list(search="water", in_stock=True)) == []


def test_product_get_returns_the_product_or_raises(catalogue):
    assert selectors.product_get(product_id=catalogue["mug"].pk) == catalogue["mug"]
    with pytest.raises(Product.DoesNotExist):
        selectors.product_get(product_id=999_999)
