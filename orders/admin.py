"""Orders in the admin: read-only records; cancelling goes through orders.services."""

from django.contrib import admin, messages
from django.db.models import Prefetch

from orders import services
from orders.exceptions import OrderNotCancellable
from orders.models import Order, OrderLine, OrderStatus, data_fields


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product", "quantity", "unit_price"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "customer",
        "status",
        "products",
        "quantity",
        "total",
        "created_at",
        "hold_expires_at",
        "paid_at",
    ]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    search_fields = ["id", "customer__username"]
    list_select_related = ["customer"]
    inlines = [OrderLineInline]
    actions = ["cancel_selected"]
    # Every field read-only (state changes go through the actions), but the body's digest.
    readonly_fields = [name for name in data_fields(Order) if name != "request_digest"]
    exclude = ["request_digest"]

    def get_queryset(self, request):
        # The page's lines and their products in one extra query each, not one per row.
        lines = OrderLine.objects.select_related("product").only(
            "order_id", "product_id", "quantity", "product__sku"
        )
        return super().get_queryset(request).prefetch_related(Prefetch("lines", queryset=lines))

    @admin.display(description="product")
    def products(self, order: Order) -> str:
        lines = order.lines.all()
        if not lines:
            return "-"
        first = lines[0].product.sku
        return first if len(lines) == 1 else f"{first} + {len(lines) - 1} more"

    @admin.display(description="quantity")
    def quantity(self, order: Order) -> str:
        lines = order.lines.all()
        units = sum(line.quantity for line in lines)
        return str(units) if len(lines) <= 1 else f"{units} in {len(lines)} lines"

    @admin.display(description="expires at", ordering="expires_at")
    def hold_expires_at(self, order: Order):
        # Only a pending order's hold can still expire; for the others the date means nothing.
        return order.expires_at if order.status == OrderStatus.PENDING else None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting an order would drop its held units from the stock invariant.
        return False

    @admin.action(description="Cancel selected pending orders (returns their stock)")
    def cancel_selected(self, request, queryset):
        cancelled = 0
        for order in queryset.order_by("id"):
            try:
                services.order_cancel(order=order)
                cancelled += 1
            except OrderNotCancellable as exc:
                self.message_user(request, exc.message, messages.WARNING)
        self.message_user(request, f"Cancelled {cancelled} order(s).")

    def save_model(self, request, obj, form, change):
        """Nothing on the form is editable; state changes go through the actions."""
