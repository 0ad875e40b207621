"""Thin views over inventory services and selectors."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from inventory import selectors, services
from inventory.models import Product
from shop.api import ShopAPIView, StrictIntegerField, StrictSerializer
from shop.errors_schema import ERROR_RESPONSES
from shop.pagination import ShopPagination
from shop.params import bool_param, text_param
from shop.permissions import IsStaffOrReadOnly

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "stock", "created_at", "updated_at"]


class ProductPagination(ShopPagination):
    items_key = "products"


class ProductCreateInputSerializer(StrictSerializer):
    sku = serializers.RegexField(SKU_PATTERN, max_length=64)
    name = serializers.CharField(max_length=200)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = StrictIntegerField(min_value=0, max_value=1_000_000_000)


class ProductUpdateInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)

    def unknown_field_message(self, name: str) -> str:
        if name == "stock":
            return (
                "Stock cannot be set directly; use POST /products/{id}/restock "
                "(orders take stock themselves)."
            )
        return "This field cannot be changed."


class RestockInputSerializer(StrictSerializer):
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)


def product_response(product: Product, code: int = status.HTTP_200_OK) -> Response:
    return Response(ProductOutputSerializer(product).data, status=code)


class ProductListApi(ShopAPIView):
    permission_classes = [IsStaffOrReadOnly]
    pagination_class = ProductPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("in_stock", bool, description="true: stock > 0; false: stock = 0"),
            OpenApiParameter("sku", str, description="exact SKU"),
            OpenApiParameter("search", str, description="name or SKU contains"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="default 50, capped at 500"),
        ],
        responses={200: ProductOutputSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        products = selectors.product_list(
            in_stock=bool_param(request, "in_stock"),
            sku=text_param(request, "sku"),
            search=text_param(request, "search"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(products, request, view=self)
        return paginator.get_paginated_response(ProductOutputSerializer(page, many=True).data)

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

    @extend_schema(responses={200: ProductOutputSerializer, **ERROR_RESPONSES})
    def get(self, request, product_id: int):
        return product_response(selectors.product_get(product_id=product_id))

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
