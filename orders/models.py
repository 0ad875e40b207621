from django.conf import settings
from django.db import models
from django.db.models import Q

from inventory.models import Product


class OrderStatus(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# Orders in these states hold their units: the left-hand side of the stock invariant.
HOLDING_STATUSES = (OrderStatus.PENDING, OrderStatus.PAID)


class Order(models.Model):
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    # Up to 100 lines x 1000 units x 99,999,999.99 fits without overflow.
    total = models.DecimalField(max_digits=18, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Idempotency-Key and a digest of the parsed body, stored in the order's own transaction.
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_digest = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_unique_per_customer",
            ),
        ]
        indexes = [
            # Both match the list's "newest first" order (created_at, id descending) exactly.
            models.Index(fields=["-created_at", "-id"], name="order_newest_first_idx"),
            models.Index(
                fields=["customer", "-created_at", "-id"], name="order_customer_newest_idx"
            ),
            models.Index(fields=["status", "expires_at"], name="order_status_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


def data_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The model's own columns but its id, in their declared order: what orders.services writes
    in an order's INSERT, and what the admin shows (read-only)."""
    return tuple(field.name for field in model._meta.concrete_fields if not field.primary_key)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
            models.UniqueConstraint(fields=["order", "product"], name="order_line_product_unique"),
        ]
        indexes = [
            # The audit sums held units per product; lines by product, then their order's status.
            models.Index(fields=["product", "order"], name="order_line_product_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"
