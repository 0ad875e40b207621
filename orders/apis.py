"""Thin views over order services and selectors."""

import functools

from django.http import HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from core.errors_schema import ERROR_RESPONSES
from core.pagination import PAGE_PARAMETERS, ShopPagination
from core.params import choice_param
from core.views import ShopAPIView
from orders import selectors, services
from orders.exceptions import UnknownProducts
from orders.fast_actions import fast_cancel, fast_pay
from orders.fast_order import fast_order
from orders.inputs import (
    IDEMPOTENCY_KEY_MAX,
    OrderLineInputSerializer,
    OrderLinesInputSerializer,
    OrderPlaceInputSerializer,
    idempotency_key,
    unknown_product_details,
)
from orders.models import Order, OrderLine, OrderStatus
from orders.output import OrderOutputSerializer, orders_data

# The schema offers exactly the two forms the view accepts: one line, or 1..100 lines.
ORDER_PLACE_REQUEST = PolymorphicProxySerializer(
    component_name="OrderPlaceInput",
    serializers=[OrderLineInputSerializer, OrderLinesInputSerializer],
    resource_type_field_name=None,
)


class OrderListSchema(AutoSchema):
    """Either form of the order body has required fields, so the body itself is required."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is not None and self.method == "POST":
            body["required"] = True
        return body


class OrderPagination(ShopPagination):
    items_key = "orders"


def order_response(
    order: Order, code: int = status.HTTP_200_OK, *, lines: list[OrderLine] | None = None
) -> Response:
    held = {order.pk: lines} if lines is not None else None
    return Response(orders_data([order], lines=held)[0], status=code)


class FastPostApi(ShopAPIView):
    """A DRF view with a fast path in front of it for POST: `fast_post(request, allow, **kwargs)`
    answers the common valid request as the view would, or gives None and the view answers.
    Under gunicorn, core.fast_lane calls fast_post before Django's handler (shop/wsgi.py); the
    view calls it too, for every other way in (runserver's, the test client's)."""

    @staticmethod
    def fast_post(request, allow: str, **kwargs) -> HttpResponse | None:
        return None

    @classmethod
    def as_view(cls, **initkwargs):
        drf_view = super().as_view(**initkwargs)
        allow = cls.allow_header()
        fast_post = cls.fast_post

        def view(request, *args, **kwargs):
            if request.method == "POST":
                response = fast_post(request, allow, **kwargs)
                if response is not None:
                    return response
            return drf_view(request, *args, **kwargs)

        return functools.update_wrapper(view, drf_view)


class OrderListApi(FastPostApi):
    permission_classes = [IsAuthenticated]
    pagination_class = OrderPagination
    schema = OrderListSchema()

    @staticmethod
    def fast_post(request, allow: str, **kwargs) -> HttpResponse | None:
        return fast_order(request, allow)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=OrderStatus.values),
            *PAGE_PARAMETERS,
        ],
        responses={200: OrderOutputSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request):
        orders = selectors.order_list(
            user=request.user, status=choice_param(request, "status", OrderStatus.values)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(orders_data(page))

    @extend_schema(
        request=ORDER_PLACE_REQUEST,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX,
                    "pattern": "^[ -~]+$",
                },
                OpenApiParameter.HEADER,
            )
        ],
        responses={201: OrderOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request):
        key = idempotency_key(request)
        attrs = OrderPlaceInputSerializer.validated(request.data)
        try:
            placed = services.order_place(
                customer=request.user,
                lines=OrderPlaceInputSerializer.lines(attrs),
                idempotency_key=key,
                digest=services.request_digest(request.data) if key else "",
            )
        except UnknownProducts as exc:
            raise ValidationError(unknown_product_details(request.data, exc.product_ids)) from None
        response = order_response(placed.order, status.HTTP_201_CREATED, lines=placed.lines)
        if placed.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class OrderDetailApi(ShopAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OrderOutputSerializer, **ERROR_RESPONSES})
    def get(self, request, order_id: int):
        order = selectors.order_get(user=request.user, order_id=order_id)
        return order_response(selectors.order_with_lines(order_id=order.pk))


class OrderPayApi(FastPostApi):
    permission_classes = [IsAuthenticated]

    @staticmethod
    def fast_post(request, allow: str, **kwargs) -> HttpResponse | None:
        return fast_pay(request, allow, **kwargs)

    @extend_schema(request=None, responses={200: OrderOutputSerializer, **ERROR_RESPONSES})
    def post(self, request, order_id: int):
        order = selectors.order_get(user=request.user, order_id=order_id)
        return order_response(services.order_pay(order=order, payer=request.user))


class OrderCancelApi(FastPostApi):
    permission_classes = [IsAuthenticated]

    @staticmethod
    def fast_post(request, allow: str, **kwargs) -> HttpResponse | None:
        return fast_cancel(request, allow, **kwargs)

    @extend_schema(request=None, responses={200: OrderOutputSerializer, **ERROR_RESPONSES})
    def post(self, request, order_id: int):
        order = selectors.order_get(user=request.user, order_id=order_id)
        return order_response(services.order_cancel(order=order))


class SummaryApi(ShopAPIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "Summary",
                {
                    "products": serializers.DictField(child=serializers.IntegerField()),
                    "orders": serializers.DictField(child=serializers.IntegerField()),
                    "stock_integrity": serializers.DictField(),
                },
            ),
            **ERROR_RESPONSES,
        }
    )
    def get(self, request):
        return Response(selectors.shop_summary())
