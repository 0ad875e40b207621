"""Helpers the orders API tests share: the error body, placing an order, stock, expiry."""

from datetime import timedelta

from django.utils import timezone

from inventory.models import Product
from orders.models import Order


def error_of(response) -> dict:
    return response.json()["error"]


def place(client, body, **headers):
    return client.post("/orders/", body, format="json", **headers)


def stock_of(product: Product) -> int:
    return Product.objects.get(pk=product.pk).stock


def move_expiry_into_past(order_id: int) -> None:
    Order.objects.filter(pk=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))
