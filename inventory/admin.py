"""Products in the admin: stock visible, every change through inventory.services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html

from inventory import services
from inventory.exceptions import DuplicateSku, ProductHasOrders
from inventory.models import Product
from orders.selectors import products_with_units

LOW_STOCK = 10

# The admin is where the brief's users "inspect stock": it says whose it is.
admin.site.site_header = "Shop administration"
admin.site.site_title = "Shop admin"
admin.site.index_title = "Stock and orders"


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("out", "Out of stock"), ("low", f"Low (1-{LOW_STOCK - 1})"), ("ok", "In stock")]

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(stock__lte=0)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lt=LOW_STOCK)
        if self.value() == "ok":
            return queryset.filter(stock__gte=LOW_STOCK)
        return queryset


class InvariantFilter(admin.SimpleListFilter):
    title = "stock invariant"
    parameter_name = "invariant"

    def lookups(self, request, model_admin):
        return [("broken", "✗ broken"), ("holds", "✓ holds")]

    def queryset(self, request, queryset):
        # invariant_ok is annotated by orders.selectors.products_with_units (get_queryset).
        if self.value() == "broken":
            return queryset.filter(invariant_ok=False)
        if self.value() == "holds":
            return queryset.filter(invariant_ok=True)
        return queryset


class RestockActionForm(ActionForm):
    quantity = forms.IntegerField(min_value=1, max_value=1_000_000, required=False, initial=10)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "sku_nowrap",
        "name",
        "price",
        "stock",
        "units_received",
        "units_held",
        "units_sold",
        "invariant",
        "updated_at",
    ]
    list_filter = [LowStockFilter, InvariantFilter]
    search_fields = ["sku", "name"]
    ordering = ["id"]
    action_form = RestockActionForm
    actions = ["restock_selected"]

    def get_queryset(self, request):
        return products_with_units(super().get_queryset(request))

    @admin.display(description="SKU", ordering="sku")
    def sku_nowrap(self, product: Product) -> str:
        # SKUs hold hyphens, where browsers would break "LT-HOT-01" over three lines.
        return format_html('<span style="white-space: nowrap">{}</span>', product.sku)

    @admin.display(description="held (pending)", ordering="pending_units")
    def units_held(self, product: Product) -> int:
        return product.pending_units

    @admin.display(description="sold (paid)", ordering="sold_units")
    def units_sold(self, product: Product) -> int:
        return product.sold_units

    @admin.display(description="stock + held + sold = received", ordering="invariant_ok")
    def invariant(self, product: Product) -> str:
        if product.invariant_ok:
            return format_html('<span title="{}">✓</span>', "stock invariant holds")
        return format_html('<span title="{}" style="color: #ba2121">✗</span>', "invariant broken")

    def get_readonly_fields(self, request, obj=None):
        base = ["units_received", "created_at", "updated_at"]
        # Stock is set once at creation; afterwards only restocks and orders move it.
        return [*base, "sku", "stock"] if obj else base

    def get_fields(self, request, obj=None):
        return ["sku", "name", "price", "stock", "units_received", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if change:
            services.product_update(product=obj, name=obj.name, price=obj.price)
            return
        try:
            created = services.product_create(
                sku=obj.sku, name=obj.name, price=obj.price, stock=obj.stock
            )
        except DuplicateSku as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = created.pk

    def delete_model(self, request, obj):
        try:
            services.product_delete(product_id=obj.pk)
        except ProductHasOrders as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def delete_queryset(self, request, queryset):
        for product in queryset:
            self.delete_model(request, product)

    @admin.action(description="Restock selected products (quantity above)")
    def restock_selected(self, request, queryset):
        quantity = request.POST.get("quantity", "")
        if not quantity.isdigit() or not 1 <= int(quantity) <= 1_000_000:
            self.message_user(request, "Give a quantity from 1 to 1,000,000.", messages.ERROR)
            return
        for product in queryset.order_by("id"):
            services.product_restock(product_id=product.pk, quantity=int(quantity))
        self.message_user(request, f"Restocked {queryset.count()} product(s) by {quantity}.")
