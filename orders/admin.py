"""Orders in the admin: read-only records; cancelling goes through orders.services."""

from django.contrib import admin, messages

from orders import services
from orders.exceptions import OrderNotCancellable
from orders.models import Order, OrderLine


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
    list_display = ["id", "customer", "status", "total", "created_at", "expires_at", "paid_at"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    search_fields = ["id", "customer__username"]
    list_select_related = ["customer"]
    inlines = [OrderLineInline]
    actions = ["cancel_selected"]
    readonly_fields = [
        "customer",
        "status",
        "total",
        "created_at",
        "expires_at",
        "paid_at",
        "cancelled_at",
        "idempotency_key",
    ]
    exclude = ["request_digest"]

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
