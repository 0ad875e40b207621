"""Thin views over inventory services and selectors."""

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.errors_schema import ERROR_RESPONSES
from core.fields import StrictIntegerField, StrictMoneyField, StrictSerializer, TextField
from core.output import datetime_formatter, money, utc_output
from core.pagination import PAGE_PARAMETERS, ShopPagination
from core.params import bool_param, text_param
from core.permissions import IsStaffOrReadOnly
from core.views import ShopAPIView
from inventory import selectors, services
from inventory.cache import product_read_cached
from inventory.fast_reads import fast_read
from inventory.models import Product

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"
# Reads need no token (IsStaffOrReadOnly), which drf-spectacular cannot tell from the class.
PUBLIC_READ = [{"tokenAuth": []}, {}]
# What core.params.text_param accepts.
TEXT_PARAM = {"type": "string", "maxLength": 200, "pattern": "^[^\\x00]*$"}


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "stock", "created_at", "updated_at"]


class ProductPagination(ShopPagination):
    items_key = "products"


class ProductCreateInputSerializer(StrictSerializer):
    sku = serializers.RegexField(SKU_PATTERN, max_length=64)
    name = TextField(max_length=200)
    price = StrictMoneyField()
    stock = StrictIntegerField(min_value=0, max_value=1_000_000_000)


class ProductUpdateInputSerializer(StrictSerializer):
    name = TextField(max_length=200, required=False)
    price = StrictMoneyField(required=False)

    def unknown_field_message(self, name: str) -> str:
        if name == "stock":
            return (
                "Stock cannot be set directly; use POST /products/{id}/restock "
                "(orders take stock themselves)."
            )
        return "This field cannot be changed."

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # The /restock hint leads the message, whatever else the body got wrong.
            if isinstance(exc.detail, dict) and "stock" in exc.detail:
                exc.detail = {"stock": exc.detail.pop("stock"), **exc.detail}
            raise


class RestockInputSerializer(StrictSerializer):
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)


def products_data(products: Iterable[Product]) -> list[dict[str, Any]]:
    """What ProductOutputSerializer(products, many=True).data gives, at a fraction of the cost.

    DRF builds and runs a field object per attribute and per product; a page of 50 spent most of
    its time there (profiled). The output is the same to the byte: a test compares the two, and
    the serializer stays the schema's source of truth.
    """
    when = datetime_formatter()
    if when is None:
        return list(ProductOutputSerializer(products, many=True).data)
    return [
        {
            "id": product.pk,
            "sku": product.sku,
            "name": product.name,
            "price": money(product.price),
            "stock": product.stock,
            "created_at": when(product.created_at),
            "updated_at": when(product.updated_at),
        }
        for product in products
    ]


def product_data(product: Product) -> dict[str, Any]:
    return products_data([product])[0]


def product_response(product: Product, code: int = status.HTTP_200_OK) -> Response:
    return Response(product_data(product), status=code)


def product_list_page(request, name: str | None = None) -> dict[str, Any]:
    """GET /products/'s answer for the request's filters and page, cached (inventory.cache) as
    `name`, list_page_name(request) unless the caller has it already. `request` is DRF's or, on
    the fast path, Django's (core.params reads either)."""
    filters = {
        "in_stock": bool_param(request, "in_stock"),
        "sku": text_param(request, "sku"),
        "search": text_param(request, "search"),
    }

    def page_data() -> dict[str, Any]:
        paginator = ProductPagination()
        if utc_output() and selectors.product_rows_supported():
            rows = paginator.paginate_rows(
                lambda offset, limit: selectors.product_page(offset=offset, limit=limit, **filters),
                request,
            )
            fields = selectors.PRODUCT_FIELDS
            return paginator.get_paginated_data(
                [dict(zip(fields, row, strict=True)) for row in rows]
            )
        page = paginator.paginate_queryset(selectors.product_list(**filters), request)
        return paginator.get_paginated_data(products_data(page))

    return product_read_cached(name or list_page_name(request), page_data)


def list_page_name(request) -> str:
    """A list page's name in the product cache: its absolute URL, which its next/previous links
    are built from."""
    return request.build_absolute_uri()


def detail_name(product_id: int) -> str:
    return f"product:{product_id}"


def product_detail(product_id: int) -> dict[str, Any]:
    """GET /products/{id}'s answer, cached under the product's own version (inventory.cache)."""
    return product_read_cached(
        detail_name(product_id),
        lambda: product_data(selectors.product_get(product_id=product_id)),
        product_id=product_id,
    )


class ProductListApi(ShopAPIView):
    permission_classes = [IsStaffOrReadOnly]
    pagination_class = ProductPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("in_stock", bool, description="true: stock > 0; false: stock = 0"),
            OpenApiParameter("sku", TEXT_PARAM, description="exact SKU"),
            OpenApiParameter("search", TEXT_PARAM, description="name or SKU contains"),
            *PAGE_PARAMETERS,
        ],
        responses={200: ProductOutputSerializer(many=True), **ERROR_RESPONSES},
        auth=PUBLIC_READ,
    )
    def get(self, request):
        return Response(product_list_page(request))

    @staticmethod
    def fast_get(request, allow: str) -> HttpResponse | None:
        name = list_page_name(request)
        return fast_read(request, allow, lambda: product_list_page(request, name), name)

    @extend_schema(
        request=ProductCreateInputSerializer,
        responses={201: ProductOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request):
        data = ProductCreateInputSerializer.validated(request.data)
        product = services.product_create(**data)
        return product_response(product, status.HTTP_201_CREATED)


class ProductDetailApi(ShopAPIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(responses={200: ProductOutputSerializer, **ERROR_RESPONSES}, auth=PUBLIC_READ)
    def get(self, request, product_id: int):
        return Response(product_detail(product_id))

    @staticmethod
    def fast_get(request, allow: str, product_id: int) -> HttpResponse | None:
        return fast_read(
            request, allow, lambda: product_detail(product_id), detail_name(product_id), product_id
        )

    @extend_schema(
        request=ProductUpdateInputSerializer,
        responses={200: ProductOutputSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request, product_id: int):
        data = ProductUpdateInputSerializer.validated(request.data)
        product = selectors.product_get(product_id=product_id)
        return product_response(services.product_update(product=product, **data))

    @extend_schema(responses={204: None, **ERROR_RESPONSES})
    def delete(self, request, product_id: int):
        services.product_delete(product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductRestockApi(ShopAPIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        request=RestockInputSerializer,
        responses={200: ProductOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, product_id: int):
        data = RestockInputSerializer.validated(request.data)
        return product_response(services.product_restock(product_id=product_id, **data))
