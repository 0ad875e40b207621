"""Thin views over order services and selectors."""

import functools
import re
from collections.abc import Iterable
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import StrictTokenAuthentication
from core.errors import exception_handler
from core.errors_schema import ERROR_RESPONSES
from core.fields import StrictIntegerField, StrictSerializer
from core.output import datetime_formatter, money
from core.pagination import PAGE_PARAMETERS, ShopPagination
from core.params import choice_param
from core.views import ShopAPIView
from orders import selectors, services
from orders.exceptions import UnknownProducts
from orders.models import Order, OrderLine, OrderStatus

MAX_LINES = 100
MAX_LINE_QUANTITY = 1000
IDEMPOTENCY_KEY_MAX = 255


class OrderLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)


class OrderOutputSerializer(serializers.ModelSerializer):
    items = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "items",
            "total",
            "created_at",
            "expires_at",
            "paid_at",
            "cancelled_at",
        ]

    def get_items(self, order: Order) -> list[dict]:
        lines = self.context.get("lines", {}).get(order.pk)
        if lines is None:
            lines = order.lines.all()
        return OrderLineOutputSerializer(lines, many=True).data

    # drf-spectacular reads the items' shape from this annotation.
    get_items.__annotations__["return"] = OrderLineOutputSerializer(many=True)


class OrderPagination(ShopPagination):
    items_key = "orders"


class OrderLineInputSerializer(StrictSerializer):
    product_id = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class OrderLinesInputSerializer(StrictSerializer):
    """Schema only: the several-lines form of an order body."""

    items = serializers.ListField(
        child=OrderLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )


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


class OrderPlaceInputSerializer(StrictSerializer):
    """Either one line ({"product_id", "quantity"}) or several ({"items": [...]})."""

    product_id = StrictIntegerField(min_value=1, max_value=2**63 - 1, required=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, required=False)
    items = OrderLineInputSerializer(many=True, required=False)

    def to_internal_value(self, data):
        lines = data.get("items") if isinstance(data, dict) else None
        if isinstance(lines, list) and not 1 <= len(lines) <= MAX_LINES:
            # Count first: validating a megabyte of lines only to refuse them costs a second of CPU.
            raise ValidationError({"items": [f"An order has 1 to {MAX_LINES} lines."]})
        try:
            return super().to_internal_value(data)
        except ValidationError as exc:
            # DRF keys line errors by index; the contract nests them like the body, one per line.
            line_errors = exc.detail.get("items") if isinstance(exc.detail, dict) else None
            if isinstance(line_errors, dict) and isinstance(data.get("items"), list):
                exc.detail["items"] = [line_errors.get(i, {}) for i in range(len(data["items"]))]
            raise

    def validate_items(self, items: list) -> list:
        if not 1 <= len(items) <= MAX_LINES:
            raise ValidationError(f"An order has 1 to {MAX_LINES} lines.")
        return items

    def validate(self, attrs: dict) -> dict:
        single = {"product_id", "quantity"} & set(attrs)
        if "items" in attrs and single:
            raise ValidationError("Send either product_id and quantity, or items; not both.")
        if "items" not in attrs:
            missing = {"product_id", "quantity"} - single
            if missing:
                raise ValidationError({name: ["This field is required."] for name in missing})
        return attrs

    @staticmethod
    def lines(attrs: dict) -> list[tuple[int, int]]:
        if "items" in attrs:
            return [(line["product_id"], line["quantity"]) for line in attrs["items"]]
        return [(attrs["product_id"], attrs["quantity"])]


def unknown_product_details(body: dict, product_ids: list[int]) -> dict:
    """Point at the offending lines the way the body is nested."""
    message = ["No such product."]
    if "items" in body:
        return {
            "items": [
                {"product_id": message} if line.get("product_id") in product_ids else {}
                for line in body["items"]
            ]
        }
    return {"product_id": message}


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX or not key.isprintable() or not key.isascii():
        raise ValidationError(
            {"Idempotency-Key": [f"Must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters."]}
        )
    return key


def orders_data(
    orders: Iterable[Order], *, lines: dict[int, list[OrderLine]] | None = None
) -> list[dict[str, Any]]:
    """What OrderOutputSerializer(orders, many=True).data gives, without DRF's per-field work
    (a tenth of an order's CPU, profiled); a test holds the two equal. `lines` maps an order id
    to lines the caller holds already (order_place's), so they are not read again."""
    lines = lines or {}
    when = datetime_formatter()
    if when is None:
        return list(OrderOutputSerializer(orders, many=True, context={"lines": lines}).data)
    result = []
    for order in orders:
        order_lines = lines.get(order.pk)
        if order_lines is None:
            order_lines = order.lines.all()
        result.append(
            {
                "id": order.pk,
                "status": str(order.status),
                "items": [
                    {
                        "product_id": line.product_id,
                        "sku": line.product.sku,
                        "quantity": line.quantity,
                        "unit_price": money(line.unit_price),
                    }
                    for line in order_lines
                ],
                "total": money(order.total),
                "created_at": when(order.created_at),
                "expires_at": when(order.expires_at),
                "paid_at": when(order.paid_at),
                "cancelled_at": when(order.cancelled_at),
            }
        )
    return result


def order_response(
    order: Order, code: int = status.HTTP_200_OK, *, lines: list[OrderLine] | None = None
) -> Response:
    held = {order.pk: lines} if lines is not None else None
    return Response(orders_data([order], lines=held)[0], status=code)


# The common order, answered without DRF's per-request machinery (fast_order below).
FAST_ACCEPT = frozenset(["", "*/*", "application/json"])
FAST_AUTHORIZATION = re.compile(r"Token ([!-~]{1,40})")
FAST_LINE_KEYS = frozenset(["product_id", "quantity"])


def _fast_key(request: HttpRequest) -> tuple[bool, str | None]:
    """(usable, the Idempotency-Key): a header the DRF view would refuse is not usable."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return True, None
    return (1 <= len(key) <= IDEMPOTENCY_KEY_MAX and key.isprintable() and key.isascii()), key


def fast_order(request: HttpRequest, allow: str) -> HttpResponse | None:
    """POST /orders/ with one valid line and a valid token, answered as the DRF view answers it
    (tests/orders/test_fast_order.py holds the two equal), without DRF's request wrapper,
    negotiation, parser, serializer and renderer: a fifth of an order's CPU, profiled.

    None, before any work is done, for anything else (the several-lines form, any header, body
    or token the view would question): the DRF view answers that, every error shape included.
    Errors of the order itself (short stock, unknown product, a reused key, the database down)
    go through the view's own exception handler."""
    meta = request.META
    if meta.get("CONTENT_TYPE") != "application/json":
        return None
    if meta.get("HTTP_ACCEPT", "") not in FAST_ACCEPT or not meta.get("CONTENT_LENGTH"):
        return None
    authorization = FAST_AUTHORIZATION.fullmatch(meta.get("HTTP_AUTHORIZATION", ""))
    usable, key = _fast_key(request)
    if authorization is None or not usable:
        return None
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict or body.keys() != FAST_LINE_KEYS:
        return None
    product_id, quantity = body["product_id"], body["quantity"]
    if type(product_id) is not int or type(quantity) is not int:
        return None
    if not (1 <= product_id <= 2**63 - 1 and 1 <= quantity <= MAX_LINE_QUANTITY):
        return None
    try:
        user, _token = StrictTokenAuthentication().authenticate_credentials(authorization[1])
    except AuthenticationFailed:
        return None
    request.user = user
    try:
        placed = services.order_place(
            customer=user,
            lines=[(product_id, quantity)],
            idempotency_key=key,
            digest=services.request_digest(body) if key else "",
        )
    except UnknownProducts as exc:
        failed = ValidationError(unknown_product_details(body, exc.product_ids))
        response = exception_handler(failed, {"request": request})
    except Exception as exc:  # noqa: BLE001 - the view's handler gives each its shape
        response = exception_handler(exc, {"request": request})
    else:
        data = orders_data([placed.order], lines={placed.order.pk: placed.lines})[0]
        response = HttpResponse(
            orjson.dumps(data), status=status.HTTP_201_CREATED, content_type="application/json"
        )
        if placed.replayed:
            response["Idempotent-Replayed"] = "true"
    response["Allow"] = allow
    return response


class OrderListApi(ShopAPIView):
    permission_classes = [IsAuthenticated]
    pagination_class = OrderPagination
    schema = OrderListSchema()

    @classmethod
    def as_view(cls, **initkwargs):
        """The DRF view, with fast_order in front of it for POST."""
        drf_view = super().as_view(**initkwargs)
        # What DRF's Allow header says: Django's View.setup answers HEAD with get.
        allow = ", ".join(
            method.upper()
            for method in cls.http_method_names
            if hasattr(cls, method) or (method == "head" and hasattr(cls, "get"))
        )

        def view(request, *args, **kwargs):
            if request.method == "POST":
                response = fast_order(request, allow)
                if response is not None:
                    return response
            return drf_view(request, *args, **kwargs)

        return functools.update_wrapper(view, drf_view)

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
                {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
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


class OrderPayApi(ShopAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: OrderOutputSerializer, **ERROR_RESPONSES})
    def post(self, request, order_id: int):
        order = selectors.order_get(user=request.user, order_id=order_id)
        return order_response(services.order_pay(order=order, payer=request.user))


class OrderCancelApi(ShopAPIView):
    permission_classes = [IsAuthenticated]

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
